package streams

// Invoking the function with a batch: retries with backoff, partial batch failures and
// bisecting, as the mapping asks.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// process delivers one batch with the mapping's retry, partial-failure and bisect rules.
func (r *runner) process(ctx context.Context, shardID string, batch []Record) {
	remaining := batch
	delay := r.cfg.RetryDelay
	for attempt := 0; ; attempt++ {
		failed, whole, err := r.invoke(ctx, remaining)
		if ctx.Err() != nil {
			return
		}
		if err == nil && failed < 0 {
			return
		}
		if whole && r.m.BisectOnError && len(remaining) > 1 {
			mid := len(remaining) / 2
			r.log.Warn("stream batch failed; bisecting", "shard", shardID, "records", len(remaining), "error", errString(err))
			r.process(ctx, shardID, remaining[:mid])
			r.process(ctx, shardID, remaining[mid:])
			return
		}
		if !whole {
			remaining = remaining[failed:]
		}
		if r.m.MaxRetryAttempts >= 0 && attempt >= r.m.MaxRetryAttempts {
			r.exhausted(ctx, shardID, remaining, attempt+1, err)
			return
		}
		r.log.Warn("stream batch failed; retrying", "shard", shardID, "records", len(remaining), "attempt", attempt+1, "error", errString(err))
		sleep(ctx, delay)
		delay = min(delay*2, 5*time.Second)
	}
}

func errString(err error) string {
	if err == nil {
		return "partial batch failure"
	}
	return err.Error()
}

// invoke sends batch and reads the response. failed is the index of the first record to
// retry (-1 when none); whole reports that the batch failed as a whole.
func (r *runner) invoke(ctx context.Context, batch []Record) (failed int, whole bool, err error) {
	payload, err := json.Marshal(Event{Records: batch})
	if err != nil {
		return 0, true, fmt.Errorf("encode event: %w", err)
	}
	out, err := r.cfg.Invoker.Invoke(ctx, r.m.Function, payload)
	if err != nil {
		return 0, true, err
	}
	if !r.m.ReportBatchItemFailures {
		return -1, false, nil
	}
	var resp struct {
		BatchItemFailures []struct {
			ItemIdentifier string `json:"itemIdentifier"`
		} `json:"batchItemFailures"`
	}
	if t := strings.TrimSpace(string(out)); t == "" || t == "null" {
		return -1, false, nil
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		return 0, true, fmt.Errorf("response is not a batch item failure list: %w", err)
	}
	failed = -1
	for _, f := range resp.BatchItemFailures {
		i := indexOf(batch, f.ItemIdentifier)
		if i < 0 {
			return 0, true, fmt.Errorf("batch item failure %q names no record of the batch", f.ItemIdentifier)
		}
		if failed < 0 || i < failed {
			failed = i
		}
	}
	return failed, false, nil
}

func indexOf(batch []Record, seq string) int {
	for i, rec := range batch {
		if seq != "" && rec.DynamoDB.SequenceNumber == seq {
			return i
		}
	}
	return -1
}
