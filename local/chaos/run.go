package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/contrail/contrail/local/devauth"
	"github.com/contrail/contrail/local/reconcile"
	"github.com/contrail/contrail/shared/ddb"
	"github.com/contrail/contrail/shared/export"
	"github.com/contrail/contrail/shared/onfailure"
	"github.com/contrail/contrail/shared/tenant"
)

// Outcome is what one scenario did and found.
type Outcome struct {
	Scenario string
	Tenant   tenant.ID
	Faults   map[Kind]int   // injected during the scenario
	Killed   map[string]int // processes killed during the scenario, by function
	Requests int            // HTTP requests to the API, retries included
	Statuses map[int]int
	// Acked, Unknown and Refused count the load's actions by kind: acknowledged (2xx), of
	// unknown outcome (5xx or no answer after every retry) and refused (4xx).
	Acked, Unknown, Refused map[string]int
	Events                  int // the tenant's events in DynamoDB once drained
	Archived                int // distinct events in the archive
	Lost, Duplicated        []string
	// Differences are the reconciliation's, when it did not agree.
	Differences []string
	// Mail: requests that ask for an email (acknowledged or unknown), emails SES accepted
	// for them, recipients mailed more than once (Twice) and, of those, the documented
	// exception (a mailer killed after SES accepted and before it marked the claim sent).
	MailRequests, Emails int
	Twice, Exception     []string
	// Unmailed are mail requests with no outcome event (EMAIL_DELIVERED or EMAIL_FAILED)
	// once drained: findings. A mailer killed mid-invocation leaves its claim's lease (the
	// invocation's timeout and 5 s) to outlive the stream's retries, so the record goes to
	// MailerFailureQueue; MailReplayFunction delivers it after the lease, and the drain
	// waits for that, so such a request counts as delivered once the replay ran.
	Unmailed int
	// MailerMidKills are the mailer's processes killed mid-invocation, MailReplays the
	// invocations of MailReplayFunction (receives of MailerFailureQueue's messages).
	MailerMidKills, MailReplays int
	// ExportsPending are acknowledged exports neither done nor failed once drained; Swept
	// are those the export scheduler's sweep failed because their worker had died.
	ExportsPending, Swept int
	Outside5xx            []string // 5xx answered while no fault was injected
	Drained               time.Duration
	Notes                 []string
}

// OK reports whether the scenario found nothing wrong.
func (o *Outcome) OK() bool {
	return len(o.Lost) == 0 && len(o.Duplicated) == 0 && len(o.Differences) == 0 && len(o.Twice) == len(o.Exception) &&
		len(o.Outside5xx) == 0 && o.Unmailed == 0 && o.ExportsPending == 0
}

// mailTypes are the request events the mailer mails, and outcomeTypes its outcomes.
var (
	mailTypes    = []string{"CONTACT_INVITED", "MESSAGE_SENT", "CONTACT_SHARED"}
	outcomeTypes = []string{"EMAIL_DELIVERED", "EMAIL_FAILED"}
)

// Run runs scenario sc with load l on tenant t: a warm-up round without faults, the load
// with faults on, a round with faults off again (its 5xx count as outside faults), then the
// drain and the checks.
func (h *Harness) Run(ctx context.Context, sc Scenario, l Load, t tenant.ID) (*Outcome, error) {
	start := time.Now()
	day := start.UTC().Format(time.DateOnly)
	tok, err := h.Stack().Token(devauth.Claims{Tenant: t.String(), Roles: []string{"admin"}, User: "chaos-admin", Name: "Chaos Admin"})
	if err != nil {
		return nil, err
	}
	before := h.In.Counts()
	killsBefore := map[string]int{}
	for _, f := range Functions {
		killsBefore[f] = len(h.In.Kills(f))
	}
	tr := newTracker()
	tr.mailerKillsBefore = h.In.MidKills("MailerFunction")
	tr.mailReplaysBefore = h.In.Invocations("MailReplayFunction")
	c := &caller{h: h, t: tr, token: tok, client: &http.Client{Timeout: 90 * time.Second}}
	tag := Slug(sc.Name)
	h.say("%s: warm-up round (no faults)", sc.Name)
	c.round(ctx, tag+"-warm", false, day)

	bg, stopBG := context.WithCancel(ctx)
	var bgWG sync.WaitGroup
	bgWG.Add(1)
	go func() { defer bgWG.Done(); h.background(bg, 2*time.Second, sc.Replay, tr) }()

	h.say("%s: %d callers x %d rounds with faults on", sc.Name, l.Workers, l.Rounds)
	h.In.Start(sc.Plan)
	faultsUntil := time.Now().Add(l.FaultsFor)
	var wg sync.WaitGroup
	half := make(chan struct{})
	var halfOnce sync.Once
	exportEvery := 0
	if l.Exports > 0 {
		exportEvery = max(l.Rounds/l.Exports, 1)
	}
	exports := 0
	var exMu sync.Mutex
	for w := range l.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range l.Rounds {
				if r == l.Rounds/2 && w == 0 {
					halfOnce.Do(func() { close(half) })
				}
				ex := false
				if w == 0 && exportEvery > 0 && r%exportEvery == 0 {
					exMu.Lock()
					ex = exports < l.Exports
					exports++
					exMu.Unlock()
				}
				c.round(ctx, fmt.Sprintf("%s-w%d-r%d", tag, w, r), ex, day)
			}
		}()
	}
	var restartErr error
	if sc.Restart {
		select {
		case <-half:
		case <-ctx.Done():
		}
		restartErr = h.restart(ctx)
	}
	wg.Wait()
	select {
	case <-time.After(time.Until(faultsUntil)):
	case <-ctx.Done():
	}
	h.In.Stop()
	if restartErr != nil {
		stopBG()
		bgWG.Wait()
		return nil, restartErr
	}
	h.say("%s: faults off; a round without faults", sc.Name)
	c.round(ctx, tag+"-after", false, day)
	stopBG()
	bgWG.Wait()

	h.say("%s: draining", sc.Name)
	from, _ := time.Parse(time.DateOnly, day)
	to := from.AddDate(0, 0, 2)
	o, err := h.drain(ctx, t, from, to, tr, l.Drain)
	if err != nil {
		return nil, err
	}
	o.Scenario, o.Tenant = sc.Name, t
	o.Faults = map[Kind]int{}
	for k, n := range h.In.Counts() {
		if d := n - before[k]; d != 0 {
			o.Faults[k] = d
		}
	}
	o.Killed = map[string]int{}
	for _, f := range Functions {
		if n := len(h.In.Kills(f)) - killsBefore[f]; n > 0 {
			o.Killed[f] = n
		}
	}
	o.Drained = time.Since(start)
	return o, nil
}

// drain runs the compactor and the sequencer until the tenant's events, archive, reports,
// emails and exports have settled, or until limit, and returns the last check.
func (h *Harness) drain(ctx context.Context, t tenant.ID, from, to time.Time, tr *tracker, limit time.Duration) (*Outcome, error) {
	began := time.Now()
	deadline := began.Add(limit)
	swept := 0
	for {
		for _, f := range []string{"CompactorFunction", "SequenceLogFunction"} {
			if err := h.invoke(ctx, f, []byte(scheduled)); err != nil {
				tr.note("drain: %s: %v", f, err)
			}
		}
		o, settled, err := h.check(ctx, t, from, to, tr)
		if err != nil {
			return nil, err
		}
		if o.ExportsPending > 0 && time.Since(began) > sweepAfter {
			n, err := h.sweep(ctx, t, tr)
			if err != nil {
				return nil, err
			}
			swept += n
		}
		o.Swept = swept
		if settled || time.Now().After(deadline) || ctx.Err() != nil {
			if !settled {
				o.Notes = append(o.Notes, fmt.Sprintf("not settled within the drain's %s", limit))
			}
			return o, nil
		}
		time.Sleep(time.Second)
	}
}

// check compares what the load was told with DynamoDB, the archive, the verifiable log, the
// reports and the mailbox. settled: nothing is pending any more (every mail request has its
// outcome, every export is done or failed, the reconciliation agrees and no event waits for
// the sequencer).
func (h *Harness) check(ctx context.Context, t tenant.ID, from, to time.Time, tr *tracker) (*Outcome, bool, error) {
	s := h.Stack()
	checker, closeChecker, err := reconcile.Open(ctx, reconcile.Config{
		DynamoDBEndpoint: s.DynamoDBEndpoint, S3Endpoint: s.S3Endpoint, StateDir: s.StateDir,
		Table: s.Tables["AuditTable"], KeysTable: s.Tables["KeysTable"], LogTable: s.Tables["LogTable"], Bucket: s.Buckets["ArchiveBucket"],
	})
	if err != nil {
		return nil, false, fmt.Errorf("open the reconciliation: %w", err)
	}
	defer closeChecker()
	res, err := checker.Run(ctx, t, from, to)
	if err != nil {
		return nil, false, fmt.Errorf("reconcile %s: %w", t, err)
	}
	ddb, err := checker.DynamoDB.Events(ctx, t, from, to)
	if err != nil {
		return nil, false, fmt.Errorf("read %s's events: %w", t, err)
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	o := &Outcome{Requests: tr.requests, Statuses: copyMap(tr.statuses), Acked: copyMap(tr.acked), Unknown: copyMap(tr.unknown),
		Refused: copyMap(tr.refused), Outside5xx: append([]string(nil), tr.outside5xx...), Notes: append([]string(nil), tr.notes...)}
	for _, n := range res.Counts[checker.DynamoDB.Name()] {
		o.Events += n
	}
	for _, n := range res.Counts[checker.Archive.Name()] {
		o.Archived += n
	}
	// An event written between the reconciliation's read and this one (an email outcome
	// recorded late) means the stack has not settled: look again.
	moving := len(ddb) != o.Events
	for _, d := range res.Differences {
		o.Differences = append(o.Differences, d.Text)
	}
	byType := map[string]int{}
	for _, e := range ddb {
		byType[e.Type]++
	}
	// Lost: an acknowledged event or action missing; duplicated: more events than requests.
	for _, id := range tr.ingested {
		if _, ok := ddb[id]; !ok {
			o.Lost = append(o.Lost, "acknowledged event "+id+" is not in DynamoDB")
		}
	}
	for kind, typ := range map[string]string{"contact": "CONTACT_ADDED", "invite": "CONTACT_INVITED", "message": "MESSAGE_SENT", "share": "CONTACT_SHARED", "events": "START_CALL"} {
		per := 1
		if kind == "events" {
			per = 5
		}
		got, acked, unknown := byType[typ], tr.acked[kind]*per, tr.unknown[kind]*per
		if got < acked {
			o.Lost = append(o.Lost, fmt.Sprintf("%d %s events for %d acknowledged requests", got, typ, acked/per))
		}
		if got > acked+unknown {
			o.Duplicated = append(o.Duplicated, fmt.Sprintf("%d %s events for %d requests (%d acknowledged, %d of unknown outcome)", got, typ, (acked+unknown)/per, acked/per, unknown/per))
		}
	}
	requests, outcomes := 0, 0
	for _, typ := range mailTypes {
		requests += byType[typ]
	}
	for _, typ := range outcomeTypes {
		outcomes += byType[typ]
	}
	if outcomes > requests {
		o.Duplicated = append(o.Duplicated, fmt.Sprintf("%d email outcome events for %d requests", outcomes, requests))
	}
	o.Unmailed = max(requests-outcomes, 0)
	o.MailerMidKills = h.In.MidKills("MailerFunction") - tr.mailerKillsBefore
	o.MailReplays = h.In.Invocations("MailReplayFunction") - tr.mailReplaysBefore

	// Emails: each recipient at most once, but for the documented exception.
	mb := h.In.Mail()
	kills := h.In.Stops("MailerFunction") // a kill, or the whole stack's restart
	o.MailRequests = len(tr.mails) + len(tr.exports)
	addrs := make([]string, 0, len(tr.mails)+len(tr.exports))
	for a := range tr.mails {
		addrs = append(addrs, a)
	}
	for _, a := range tr.exports {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	for _, a := range addrs {
		sent := mb.to(a)
		o.Emails += len(sent)
		if len(sent) < 2 {
			continue
		}
		o.Twice = append(o.Twice, fmt.Sprintf("%s: %d emails", a, len(sent)))
		if tr.mails[a] != "" && killedBetween(kills, sent[0].At, sent[len(sent)-1].At) {
			o.Exception = append(o.Exception, a)
		}
	}

	for id := range tr.exports {
		status, err := h.exportStatus(ctx, t, id)
		if err != nil {
			return nil, false, err
		}
		if status != "done" && status != "failed" {
			o.ExportsPending++
		}
	}
	settled := res.Settled() && !moving && o.Unmailed == 0 && o.ExportsPending == 0
	return o, settled, nil
}

// Slug is name in lower case with dashes: a scenario's tag in ids, addresses and tenants.
func Slug(name string) string { return strings.ReplaceAll(strings.ToLower(name), " ", "-") }

// killedBetween reports whether a kill struck in [from, to], or just before from: a kill is
// stamped as it is dealt, and the request the dying mailer had already sent can reach SES,
// which stamps the email, a little after (CI saw 2 emails excused by no kill this way).
func killedBetween(kills []time.Time, from, to time.Time) bool {
	for _, k := range kills {
		if !k.Before(from.Add(-killStampSlack)) && !k.After(to) {
			return true
		}
	}
	return false
}

// killStampSlack is how long before SES stamps an email the kill that let it through may have
// been stamped: far longer than a request in flight, far shorter than a mail redelivery (the
// mailer's 65 s lease).
const killStampSlack = 500 * time.Millisecond

// sweepAfter is how long the drain waits for an export before taking its worker for dead.
const sweepAfter = 15 * time.Second

// sweep fails the tenant's unfinished exports as the export scheduler does once a job's
// deadline (its worker's timeout and a minute, 16 minutes) has passed without a word from
// its worker: the deadline is moved into the past (the one liberty taken with time), then
// ExportSchedulerFunction runs; the job turns failed and the worker mails the failure.
func (h *Harness) sweep(ctx context.Context, t tenant.ID, tr *tracker) (int, error) {
	s := h.Stack()
	db := s.DynamoDB()
	tr.mu.Lock()
	ids := make([]string, 0, len(tr.exports))
	for id := range tr.exports {
		ids = append(ids, id)
	}
	tr.mu.Unlock()
	n := 0
	for _, id := range ids {
		_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(s.Tables["JobsTable"]),
			Key: map[string]dbtypes.AttributeValue{
				"pk": &dbtypes.AttributeValueMemberS{Value: export.JobPK(t, export.ID(id))}, "sk": &dbtypes.AttributeValueMemberS{Value: "JOB"},
			},
			UpdateExpression:          aws.String("SET nextRunAt = :past"),
			ConditionExpression:       aws.String("attribute_exists(dueKey) AND nextRunAt > :past"),
			ExpressionAttributeValues: map[string]dbtypes.AttributeValue{":past": &dbtypes.AttributeValueMemberS{Value: "2000-01-01T00:00:00.000Z"}},
		})
		switch {
		case ddb.ConditionFailed(err):
			continue // finished, or moved already
		case err != nil:
			return n, fmt.Errorf("move export %s's deadline: %w", id, err)
		}
		n++
	}
	if n > 0 {
		h.say("  %d exports still unfinished: their deadline moved into the past, the export scheduler's sweep runs", n)
		if err := h.invoke(ctx, "ExportSchedulerFunction", []byte(scheduled)); err != nil {
			tr.note("sweep: ExportSchedulerFunction: %v", err)
		}
	}
	return n, nil
}

func (h *Harness) exportStatus(ctx context.Context, t tenant.ID, id string) (string, error) {
	s := h.Stack()
	tok, err := s.Token(devauth.Claims{Tenant: t.String(), Roles: []string{"admin"}})
	if err != nil {
		return "", err
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/v1/exports/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("read export %s: %w", id, err)
	}
	defer resp.Body.Close()
	var out struct {
		Status string `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", fmt.Errorf("read export %s: %d: %w", id, resp.StatusCode, err)
	}
	return out.Status, nil
}

func copyMap[K comparable](m map[K]int) map[K]int {
	out := make(map[K]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// replay hands ArchiveReplayFunction every shard of the audit table's stream, from its
// oldest record to its newest, as the on-failure record of a batch the archiver gave up on.
func (h *Harness) replay(ctx context.Context) error {
	s := h.Stack()
	db := s.DynamoDB()
	tbl, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.Tables["AuditTable"])})
	if err != nil {
		return fmt.Errorf("describe the audit table: %w", err)
	}
	arn := aws.ToString(tbl.Table.LatestStreamArn)
	st := dynamodbstreams.NewFromConfig(s.AWSConfig(), func(o *dynamodbstreams.Options) { o.BaseEndpoint = aws.String(s.DynamoDBEndpoint) })
	desc, err := st.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)})
	if err != nil {
		return fmt.Errorf("describe the audit stream: %w", err)
	}
	for _, sh := range desc.StreamDescription.Shards {
		it, err := st.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn), ShardId: sh.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			return fmt.Errorf("read shard %s: %w", aws.ToString(sh.ShardId), err)
		}
		var first, last streamtypes.Record
		n := 0
		for iter := it.ShardIterator; iter != nil && n < 5000; {
			out, err := st.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				return fmt.Errorf("read shard %s: %w", aws.ToString(sh.ShardId), err)
			}
			for _, r := range out.Records {
				if n == 0 {
					first = r
				}
				last = r
				n++
			}
			if len(out.Records) == 0 {
				break
			}
			iter = out.NextShardIterator
		}
		if n == 0 {
			continue
		}
		rec := onfailure.Record{Version: "1.0", Timestamp: time.Now().UTC().Format("2006-01-02T15:04:05.000Z")}
		rec.RequestContext = onfailure.RequestContext{RequestID: "chaos", FunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:ArchiverFunction",
			Condition: "RetryAttemptsExhausted", ApproximateInvokeCount: 21}
		rec.ResponseContext = onfailure.ResponseContext{StatusCode: 200, ExecutedVersion: "$LATEST", FunctionError: "Unhandled"}
		arrival := func(r streamtypes.Record) string {
			return aws.ToTime(r.Dynamodb.ApproximateCreationDateTime).UTC().Format(time.RFC3339)
		}
		rec.DDBStreamBatchInfo = &onfailure.BatchInfo{ShardID: aws.ToString(sh.ShardId),
			StartSequenceNumber: aws.ToString(first.Dynamodb.SequenceNumber), EndSequenceNumber: aws.ToString(last.Dynamodb.SequenceNumber),
			ApproximateArrivalOfFirstRecord: arrival(first), ApproximateArrivalOfLastRecord: arrival(last), BatchSize: n, StreamArn: arn}
		body, _ := json.Marshal(rec)
		msg, _ := json.Marshal(map[string]any{"Records": []map[string]any{{
			"messageId": "chaos-replay", "receiptHandle": "chaos", "body": string(body),
			"attributes": map[string]string{"ApproximateReceiveCount": "1"}, "messageAttributes": map[string]any{},
			"eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:ArchiveFailureQueue", "awsRegion": "us-east-1",
		}}})
		if err := h.invoke(ctx, "ArchiveReplayFunction", msg); err != nil {
			return fmt.Errorf("replay shard %s: %w", aws.ToString(sh.ShardId), err)
		}
	}
	return nil
}
