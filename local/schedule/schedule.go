// Package schedule is the local stand-in for EventBridge schedules: it fires each function's
// Schedule events from template.yaml with the "Scheduled Event" EventBridge sends, once at
// start and then on the expression's rate.
package schedule

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/contrail/contrail/local/awsid"
	"github.com/contrail/contrail/local/runtime"
	"github.com/contrail/contrail/local/template"
)

// Job is one schedule of one function.
type Job struct {
	Function   string // LogicalId
	Name       string // the rule name in the event's resources
	Expression string // rate(...)
	Input      string // when set, EventBridge passes this JSON instead of the Scheduled Event
	// Scale divides this job's rate period, on top of Config.Scale: the local stack runs a
	// function faster than its template schedule where a local bound needs it. 0 = 1.
	Scale float64
}

// JobsFromTemplate returns every enabled Schedule event of every function in t.
func JobsFromTemplate(t *template.Template) []Job {
	var jobs []Job
	for _, f := range t.Functions() {
		for i, s := range f.Schedules {
			if !s.Enabled {
				continue
			}
			jobs = append(jobs, Job{Function: f.LogicalID, Name: fmt.Sprintf("%s-schedule-%d", f.LogicalID, i+1), Expression: s.Expression, Input: s.Input})
		}
	}
	return jobs
}

// Config configures a Scheduler.
type Config struct {
	Jobs    []Job
	Invoker runtime.Invoker
	Log     *slog.Logger
	// Scale divides rate periods (LOCAL_SCHEDULE_SCALE=60 runs rate(1 hour) every minute).
	// 0 or 1 = real time.
	Scale float64
	// Now and After replace the clock in tests; nil = time.Now and time.After.
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
}

// Scheduler fires jobs until its context ends.
type Scheduler struct {
	cfg   Config
	exprs []Expr
}

// New parses every job's expression.
func New(c Config) (*Scheduler, error) {
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.After == nil {
		c.After = time.After
	}
	if c.Scale <= 0 {
		c.Scale = 1
	}
	s := &Scheduler{cfg: c}
	for _, j := range c.Jobs {
		e, err := Parse(j.Expression)
		if err != nil {
			return nil, fmt.Errorf("schedule of %s: %w", j.Function, err)
		}
		s.exprs = append(s.exprs, e)
	}
	return s, nil
}

// Run fires every job once now and then on its schedule, until ctx ends. Firings of one job
// never overlap: the next wait starts when an invoke has returned.
func (s *Scheduler) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for i, j := range s.cfg.Jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.loop(ctx, j, s.exprs[i])
		}()
	}
	wg.Wait()
}

func (s *Scheduler) loop(ctx context.Context, j Job, e Expr) {
	s.fire(ctx, j, s.cfg.Now())
	for {
		now := s.cfg.Now()
		var wait time.Duration
		if r, ok := e.(Rate); ok {
			wait = time.Duration(float64(r.Every) / s.cfg.Scale / max(j.Scale, 1))
		} else {
			next := e.Next(now)
			if next.IsZero() {
				return
			}
			wait = next.Sub(now)
		}
		select {
		case <-ctx.Done():
			return
		case t := <-s.cfg.After(wait):
			s.fire(ctx, j, t)
		}
	}
}

func (s *Scheduler) fire(ctx context.Context, j Job, at time.Time) {
	payload := []byte(j.Input)
	if j.Input == "" {
		var err error
		if payload, err = json.Marshal(Event(j, at)); err != nil {
			s.cfg.Log.Error("encode scheduled event", "function", j.Function, "error", err.Error())
			return
		}
	}
	if _, err := s.cfg.Invoker.Invoke(ctx, j.Function, payload); err != nil && ctx.Err() == nil {
		s.cfg.Log.Error("scheduled invoke failed", "function", j.Function, "schedule", j.Expression, "error", err.Error())
		return
	}
	s.cfg.Log.Debug("scheduled invoke", "function", j.Function, "schedule", j.Expression)
}

// Event is the event EventBridge sends a scheduled target at time at.
func Event(j Job, at time.Time) events.CloudWatchEvent {
	return events.CloudWatchEvent{
		Version:    "0",
		ID:         awsid.UUID(),
		DetailType: "Scheduled Event",
		Source:     "aws.events",
		AccountID:  "000000000000",
		Time:       at.UTC().Truncate(time.Second),
		Region:     "us-east-1",
		Resources:  []string{"arn:aws:events:us-east-1:000000000000:rule/" + j.Name},
		Detail:     json.RawMessage(`{}`),
	}
}
