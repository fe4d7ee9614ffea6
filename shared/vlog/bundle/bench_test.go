package bundle_test

import (
	"bytes"
	"testing"

	"github.com/contrail/contrail/shared/vlog/bundle"
	"github.com/contrail/contrail/shared/vlog/bundle/bundletest"
)

// BenchmarkVerifyReader reads and verifies a bundle of 100,000 events in one pass (a year
// of a busy tenant is about ten times that): -benchmem shows what one entry costs.
func BenchmarkVerifyReader(b *testing.B) {
	const n = 100_000
	key := bundletest.NewKey("contrail")
	log := bundletest.New("acme", n)
	var buf bytes.Buffer
	if err := bundle.Write(&buf, log.Bundle(0, n, log.Checkpoint(key, n, bundletest.At(5, 0)))); err != nil {
		b.Fatal(err)
	}
	opts := bundle.Options{Keys: []string{key.Vkey}, Tenant: "acme", Now: bundletest.At(5, 30)}
	b.SetBytes(int64(buf.Len()))
	b.ResetTimer()
	for b.Loop() {
		rep, err := bundle.VerifyReader(bytes.NewReader(buf.Bytes()), opts)
		if err != nil || !rep.OK() {
			b.Fatal(err, rep.Verdict(), rep.Problems)
		}
	}
}
