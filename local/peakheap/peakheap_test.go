package peakheap

import (
	"testing"
	"time"
)

func TestSamplerSeesAnAllocation(t *testing.T) {
	p := Start(time.Millisecond)
	b := make([]byte, 8<<20)
	for i := range b {
		b[i] = byte(i)
	}
	time.Sleep(20 * time.Millisecond)
	peak := p.Stop()
	if peak < uint64(len(b)) {
		t.Errorf("peak %d bytes, want at least the %d held", peak, len(b))
	}
	_ = b[len(b)-1]
}
