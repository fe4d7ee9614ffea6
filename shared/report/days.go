package report

import (
	"context"
	"sync"
)

// forDays loads the dates with up to parallel loads in flight (at most parallel results
// held ahead of the one being emitted) and emits the results strictly in the order of
// dates. emit returning stop=true ends the walk early; the first error ends it too.
func forDays[T any](ctx context.Context, dates []string, parallel int, load func(ctx context.Context, date string) (T, error), emit func(date string, v T) (stop bool, err error)) error {
	if parallel < 1 {
		parallel = 1
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	type result struct {
		v   T
		err error
	}
	slots := make([]chan result, len(dates))
	for i := range slots {
		slots[i] = make(chan result, 1)
	}
	sem := make(chan struct{}, parallel)
	// The launcher starts a load only when fewer than parallel are ahead of the emitter, so
	// memory stays bounded by parallel results however long the period.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i, d := range dates {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			wg.Add(1)
			go func(i int, d string) {
				defer wg.Done()
				v, err := load(ctx, d)
				slots[i] <- result{v, err}
			}(i, d)
		}
	}()
	for i, d := range dates {
		var r result
		select {
		case r = <-slots[i]:
		case <-ctx.Done():
			return ctx.Err()
		}
		<-sem
		if r.err != nil {
			return r.err
		}
		stop, err := emit(d, r.v)
		if err != nil {
			return err
		}
		if stop {
			return nil
		}
	}
	return nil
}
