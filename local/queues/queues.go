// Package queues is the local stand-in for the SQS queues of template.yaml that feed
// functions (SQS event source mappings). A message sent to a queue is delivered at once, as
// the events.SQSEvent Lambda sends, to the functions subscribed to it, and delivered again
// with backoff while a function fails it (an error, or the message in batchItemFailures),
// up to the queue's RedrivePolicy maxReceiveCount; then it is logged as moved to the
// dead-letter queue. A queue whose VisibilityTimeout is at most MaxVisibility delivers again
// after exactly that, as SQS does (the mail replay relies on it to come back after a claim's
// lease); a longer one (the archive's 30 minutes) would outlast a local run, so those
// queues deliver again with the backoff. Messages live in memory: a stopped stack forgets
// them.
package queues

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/contrail/contrail/local/awsid"
	"github.com/contrail/contrail/local/runtime"
	"github.com/contrail/contrail/local/template"
)

// Queue is one queue and the functions it feeds.
type Queue struct {
	Name        string   // logical id
	Subscribers []string // function logical ids
	MaxReceive  int      // deliveries before the dead-letter queue; 0 = without end
	// Visibility is the wait before a failed message is delivered again, when it is at most
	// MaxVisibility; otherwise (0 included) the backoff of Config.RetryDelay.
	Visibility time.Duration
}

// MaxVisibility is the longest visibility timeout the local queues honour as it is.
const MaxVisibility = 2 * time.Minute

// FromTemplate returns the queues that feed functions in t, keeping only the subscribers
// for which keep is true.
func FromTemplate(t *template.Template, keep func(function string) bool) []Queue {
	byName := map[string]*Queue{}
	var out []Queue
	var order []string
	for _, f := range t.Functions() {
		for _, q := range f.Queues {
			if !keep(f.LogicalID) {
				continue
			}
			if byName[q.Queue] == nil {
				byName[q.Queue] = &Queue{Name: q.Queue, MaxReceive: t.MaxReceiveCount(q.Queue),
					Visibility: time.Duration(t.VisibilityTimeout(q.Queue)) * time.Second}
				order = append(order, q.Queue)
			}
			byName[q.Queue].Subscribers = append(byName[q.Queue].Subscribers, f.LogicalID)
		}
	}
	for _, name := range order {
		out = append(out, *byName[name])
	}
	return out
}

// Config configures Queues.
type Config struct {
	Queues     []Queue
	Invoker    runtime.Invoker
	Log        *slog.Logger
	RetryDelay time.Duration // first redelivery delay, doubling to 30 s; 0 = 1 s
}

// Queues delivers messages until its context ends.
type Queues struct {
	cfg    Config
	queues map[string]Queue
	ctx    context.Context
	wg     sync.WaitGroup
}

// New returns queues that deliver within ctx; Wait waits for deliveries in flight after it ends.
func New(ctx context.Context, c Config) *Queues {
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.RetryDelay <= 0 {
		c.RetryDelay = time.Second
	}
	q := &Queues{cfg: c, queues: map[string]Queue{}, ctx: ctx}
	for _, qu := range c.Queues {
		q.queues[qu.Name] = qu
	}
	return q
}

// Send puts a message on queue: each subscriber gets it in the background. A queue that no
// running function reads is an error (the message would only wait there).
func (q *Queues) Send(_ context.Context, queue string, body []byte) error {
	qu, ok := q.queues[queue]
	if !ok || len(qu.Subscribers) == 0 {
		return fmt.Errorf("queue %s: no running function reads it", queue)
	}
	id := awsid.UUID()
	for _, fn := range qu.Subscribers {
		q.wg.Add(1)
		go func() {
			defer q.wg.Done()
			q.deliver(qu, fn, id, string(body))
		}()
	}
	return nil
}

// Wait blocks until every delivery has ended (they end with the context given to New).
func (q *Queues) Wait() { q.wg.Wait() }

func (q *Queues) deliver(qu Queue, fn, id, body string) {
	log := q.cfg.Log.With("queue", qu.Name, "function", fn, "message_id", id)
	sentAt := time.Now()
	delay := q.cfg.RetryDelay
	for receive := 1; ; receive++ {
		err := q.invoke(fn, Message(qu.Name, id, body, receive, sentAt))
		if err == nil {
			log.Info("queue message processed", "receives", receive)
			return
		}
		if q.ctx.Err() != nil {
			return
		}
		if qu.MaxReceive > 0 && receive >= qu.MaxReceive {
			log.Error("queue message moved to the dead-letter queue", "receives", receive, "error", err.Error(), "bytes", len(body))
			return
		}
		wait := delay
		if qu.Visibility > 0 && qu.Visibility <= MaxVisibility {
			wait = qu.Visibility
		}
		log.Warn("queue message failed; delivered again later", "receives", receive, "after", wait.String(), "error", err.Error())
		select {
		case <-q.ctx.Done():
			return
		case <-time.After(wait):
		}
		delay = min(delay*2, 30*time.Second)
	}
}

// invoke runs fn on ev; an error when it fails or reports the message in batchItemFailures.
func (q *Queues) invoke(fn string, ev events.SQSEvent) error {
	payload, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode SQS event: %w", err)
	}
	out, err := q.cfg.Invoker.Invoke(q.ctx, fn, payload)
	if err != nil {
		return err
	}
	if t := strings.TrimSpace(string(out)); t == "" || t == "null" {
		return nil
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return fmt.Errorf("response is not a batch item failure list: %w", err)
	}
	for _, f := range resp.BatchItemFailures {
		if f.ItemIdentifier == ev.Records[0].MessageId {
			return fmt.Errorf("the function reported the message failed")
		}
	}
	return nil
}

// Message is the SQS event of one message of queue on its receive-th delivery.
func Message(queue, id, body string, receive int, sentAt time.Time) events.SQSEvent {
	sum := md5.Sum([]byte(body))
	ms := strconv.FormatInt(sentAt.UnixMilli(), 10)
	return events.SQSEvent{Records: []events.SQSMessage{{
		MessageId: id, ReceiptHandle: id + "#" + strconv.Itoa(receive), Body: body, Md5OfBody: hex.EncodeToString(sum[:]),
		Attributes: map[string]string{"ApproximateReceiveCount": strconv.Itoa(receive), "SentTimestamp": ms,
			"SenderId": "local", "ApproximateFirstReceiveTimestamp": ms},
		MessageAttributes: map[string]events.SQSMessageAttribute{},
		EventSource:       "aws:sqs", EventSourceARN: "arn:aws:sqs:us-east-1:000000000000:" + queue, AWSRegion: "us-east-1",
	}}}
}
