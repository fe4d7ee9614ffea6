package archive

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/klauspost/compress/zstd"
)

// TestZstdSameFrames: the pooled codec writes the very bytes of a fresh encoder with the
// default window, as arrow's stock codec makes for each page, on both sides of the small
// window's size, so the archive's objects do not change with it.
func TestZstdSameFrames(t *testing.T) {
	stock, err := zstd.NewWriter(nil, zstd.WithZeroFrames(true), zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		t.Fatal(err)
	}
	codec, err := compress.GetCodec(compress.Codecs.Zstd)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"CONTACT_ADDED", "Budi Santoso", `{"email":"c1@example.org"}`, "203.0.1.2", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"}
	var b bytes.Buffer
	for b.Len() < smallWindow+4096 {
		b.WriteString(words[r.IntN(len(words))])
		b.WriteByte(byte(r.IntN(256)))
	}
	for _, n := range []int{0, 1, 100, 65536, 1 << 20, smallWindow, smallWindow + 1, smallWindow + 4096} {
		src := b.Bytes()[:n]
		want := stock.EncodeAll(src, nil)
		if got := codec.EncodeLevel(nil, src, compress.DefaultCompressionLevel); !bytes.Equal(got, want) {
			t.Errorf("%d bytes: the codec wrote %d bytes, the stock encoder %d", n, len(got), len(want))
		}
	}
}
