// Package retry holds what the retry loops of the stores and the mailer share: a wait that
// ends early when the context does, and whether the invocation has time for another try.
package retry

import (
	"context"
	"time"
)

// Sleep waits d, or until ctx ends, when it returns ctx's error.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// TimeLeft reports whether ctx is live and more than need remains before its deadline
// (always, without one).
func TimeLeft(ctx context.Context, need time.Duration) bool {
	if ctx.Err() != nil {
		return false
	}
	d, ok := ctx.Deadline()
	return !ok || time.Until(d) > need
}
