// Package peakheap measures the most live heap a piece of work holds, for the benchmarks
// (bench/ and the archive's testing.B): the runtime's heap objects metric, sampled.
package peakheap

import (
	"runtime/metrics"
	"sync"
	"time"
)

// Sampler samples the live heap until Stop.
type Sampler struct {
	stop chan struct{}
	done sync.WaitGroup
	peak uint64
}

// Start samples the live heap every period.
func Start(every time.Duration) *Sampler {
	p := &Sampler{stop: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > p.peak {
				p.peak = v
			}
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

// Stop ends the sampling and returns the largest live heap seen, in bytes.
func (p *Sampler) Stop() uint64 {
	close(p.stop)
	p.done.Wait()
	return p.peak
}
