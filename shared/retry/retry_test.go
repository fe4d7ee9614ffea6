package retry

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestSleep(t *testing.T) {
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("Sleep: %v, want nil", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep on a cancelled context: %v, want context.Canceled", err)
	}
}

func TestTimeLeft(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	soon, cancelSoon := context.WithTimeout(context.Background(), time.Second)
	defer cancelSoon()
	tests := []struct {
		name string
		ctx  context.Context
		need time.Duration
		want bool
	}{
		{"no deadline", context.Background(), time.Hour, true},
		{"cancelled", cancelled, 0, false},
		{"deadline far enough", soon, time.Millisecond, true},
		{"deadline too near", soon, time.Minute, false},
	}
	for _, tt := range tests {
		if got := TimeLeft(tt.ctx, tt.need); got != tt.want {
			t.Errorf("%s: TimeLeft = %v, want %v", tt.name, got, tt.want)
		}
	}
}
