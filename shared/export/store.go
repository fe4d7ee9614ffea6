package export

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/contrail/contrail/shared/ddb"
	"github.com/contrail/contrail/shared/fault"
	"github.com/contrail/contrail/shared/tenant"
)

// DB is the part of the DynamoDB client the store uses.
type DB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ DB = (*dynamodb.Client)(nil)

// Store reads and writes jobs and schedules in the jobs table.
type Store struct {
	DB    DB
	Table string
}

// ErrChanged reports a conditional write that lost: the item is not in the state expected.
var ErrChanged = errors.New("changed meanwhile")

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

// key is the job's own key: its id was parsed (ParseID) or made (ident, ScheduledJobID).
func (j *Job) key() map[string]types.AttributeValue { return jobKey(j.TenantID, ID(j.ID)) }

func jobKey(tenant tenant.ID, id ID) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": s(JobPK(tenant, id)), "sk": s(skJob)}
}

// convert translates a DynamoDB error: a lost condition is ErrChanged, throttling and a
// conflicting transaction are the Throttled fault (ddb.Translate).
func convert(what string, err error) error {
	return ddb.Translate(what, err, ddb.Meaning{Failed: ErrChanged})
}

// PutJobTx returns the transaction item that creates j once (it fails if the id exists).
// A pending job gets its start deadline in GSI ByDue (createdAt + StartWithin).
func (st *Store) PutJobTx(j *Job) (types.TransactWriteItem, error) {
	item, err := st.jobItem(j)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(st.Table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}, nil
}

// CreateJob is PutJobTx on its own; created is false when a job with j's id exists.
func (st *Store) CreateJob(ctx context.Context, j *Job) (created bool, err error) {
	tx, err := st.PutJobTx(j)
	if err != nil {
		return false, err
	}
	_, err = st.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: tx.Put.TableName, Item: tx.Put.Item, ConditionExpression: tx.Put.ConditionExpression})
	if err = convert("create export job "+j.ID, err); errors.Is(err, ErrChanged) {
		return false, nil
	}
	return err == nil, err
}

func (st *Store) jobItem(j *Job) (map[string]types.AttributeValue, error) {
	j.PK, j.SK = JobPK(j.TenantID, ID(j.ID)), skJob
	if j.Status == StatusPending && j.DueKey == "" {
		created, err := time.Parse(time.RFC3339Nano, j.CreatedAt)
		if err != nil {
			return nil, fmt.Errorf("export job %s: createdAt %q: %w", j.ID, j.CreatedAt, err)
		}
		j.DueKey, j.Deadline = dueOpen, formatTime(created.Add(StartWithin))
	}
	item, err := attributevalue.MarshalMap(j)
	if err != nil {
		return nil, fmt.Errorf("encode export job %s: %w", j.ID, err)
	}
	return item, nil
}

// Job reads a tenant's job; a missing one (or another tenant's) is a NotFound fault.
func (st *Store) Job(ctx context.Context, tenant tenant.ID, id ID) (*Job, error) {
	j, err := get[Job](ctx, st, jobKey(tenant, id), "export job "+string(id))
	if err == nil && j == nil {
		return nil, fault.New(fault.NotFound, "export_not_found", "No export with this id exists; check the id returned by POST /v1/exports.")
	}
	return j, err
}

// get reads the item at key (a consistent read) into a new T, nil when there is none; what
// names the item in errors.
func get[T any](ctx context.Context, st *Store, key map[string]types.AttributeValue, what string) (*T, error) {
	out, err := st.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(st.Table), Key: key, ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, convert("read "+what, err)
	}
	if out.Item == nil {
		return nil, nil
	}
	var v T
	if err := attributevalue.UnmarshalMap(out.Item, &v); err != nil {
		return nil, fmt.Errorf("decode %s: %w", what, err)
	}
	return &v, nil
}

// Claim moves a pending job to running for lease (or takes over a running one whose lease
// ran out), so one worker runs it. Its deadline in GSI ByDue becomes the lease's end, so the
// runner can find a job whose worker died. ErrChanged: someone else has it, or it is finished.
func (st *Store) Claim(ctx context.Context, j *Job, now time.Time, lease time.Duration) error {
	out, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(st.Table),
		Key:       j.key(),
		UpdateExpression: aws.String("SET #st = :running, startedAt = :now, attempt = if_not_exists(attempt, :zero) + :one, " +
			"dueKey = :openKey, nextRunAt = :leaseEnd"),
		ConditionExpression:      aws.String("#st = :pending OR (#st = :running AND startedAt < :stale)"),
		ExpressionAttributeNames: map[string]string{"#st": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":running": s(StatusRunning), ":pending": s(StatusPending), ":now": s(formatTime(now)),
			":stale": s(formatTime(now.Add(-lease))), ":zero": n(0), ":one": n(1),
			":openKey": s(dueOpen), ":leaseEnd": s(formatTime(now.Add(lease))),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if err != nil {
		return convert("claim export job "+j.ID, err)
	}
	return attributevalue.UnmarshalMap(out.Attributes, j)
}

// Release gives a claimed job back (pending) after an attempt that may succeed when
// retried; it must start again within StartWithin.
func (st *Store) Release(ctx context.Context, j *Job, now time.Time) error {
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(st.Table),
		Key:                      j.key(),
		UpdateExpression:         aws.String("SET #st = :pending, nextRunAt = :deadline"),
		ConditionExpression:      aws.String("#st = :running AND attempt = :attempt"),
		ExpressionAttributeNames: map[string]string{"#st": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pending": s(StatusPending), ":running": s(StatusRunning), ":attempt": n(int64(j.Attempt)),
			":deadline": s(formatTime(now.Add(StartWithin))),
		},
	})
	if err != nil {
		return convert("release export job "+j.ID, err)
	}
	j.Status, j.Deadline = StatusPending, formatTime(now.Add(StartWithin))
	return nil
}

// IsNotFound reports whether err says the job does not exist.
func IsNotFound(err error) bool { return fault.KindOf(err) == fault.NotFound }

// Finish marks the job j (claimed as j.Attempt) done with its rows and file, in one
// transaction with extra (the REPORT_EXPORTED event). ErrChanged: the claim was lost.
func (st *Store) Finish(ctx context.Context, j *Job, rows int64, key string, now time.Time, extra ...types.TransactWriteItem) error {
	upd := types.TransactWriteItem{Update: &types.Update{
		TableName:                aws.String(st.Table),
		Key:                      j.key(),
		UpdateExpression:         aws.String("SET #st = :done, #rows = :rows, #key = :key, finishedAt = :now REMOVE dueKey, nextRunAt"),
		ConditionExpression:      aws.String("#st = :running AND attempt = :attempt"),
		ExpressionAttributeNames: map[string]string{"#st": "status", "#rows": "rows", "#key": "key"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":done": s(StatusDone), ":rows": n(rows), ":key": s(key), ":now": s(formatTime(now)),
			":running": s(StatusRunning), ":attempt": n(int64(j.Attempt)),
		},
	}}
	_, err := st.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: append([]types.TransactWriteItem{upd}, extra...),
	})
	if err != nil {
		return convert("finish export job "+j.ID, err)
	}
	j.Status, j.Rows, j.Key, j.FinishedAt, j.DueKey, j.Deadline = StatusDone, &rows, key, formatTime(now), "", ""
	return nil
}

// Fail marks the job failed with a reason a person can act on, if its worker still holds
// it (running, same attempt). ErrChanged: the claim was lost.
func (st *Store) Fail(ctx context.Context, j *Job, reason string, now time.Time) error {
	return st.fail(ctx, j, reason, now, "#st = :running AND attempt = :attempt",
		map[string]types.AttributeValue{":running": s(StatusRunning), ":attempt": n(int64(j.Attempt))})
}

// Abandon fails a stuck job (see Stuck) if it is still as it was read: unfinished, with
// the same deadline. ErrChanged: it moved on meanwhile.
func (st *Store) Abandon(ctx context.Context, j *Job, reason string, now time.Time) error {
	return st.fail(ctx, j, reason, now, "(#st = :pending OR #st = :running) AND nextRunAt = :deadline",
		map[string]types.AttributeValue{":pending": s(StatusPending), ":running": s(StatusRunning), ":deadline": s(j.Deadline)})
}

func (st *Store) fail(ctx context.Context, j *Job, reason string, now time.Time, cond string, vals map[string]types.AttributeValue) error {
	vals[":failed"], vals[":reason"], vals[":now"] = s(StatusFailed), s(reason), s(formatTime(now))
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(st.Table),
		Key:                       j.key(),
		UpdateExpression:          aws.String("SET #st = :failed, #err = :reason, finishedAt = :now REMOVE dueKey, nextRunAt"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  map[string]string{"#st": "status", "#err": "error"},
		ExpressionAttributeValues: vals,
	})
	if err != nil {
		return convert("fail export job "+j.ID, err)
	}
	j.Status, j.Error, j.FinishedAt, j.DueKey, j.Deadline = StatusFailed, reason, formatTime(now), "", ""
	return nil
}

// ClaimMail marks a finished (done or failed) job's mail as being sent, once: ErrChanged
// when it was claimed already (sent, failed for good, or being sent by another worker).
func (st *Store) ClaimMail(ctx context.Context, j *Job) error {
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(st.Table),
		Key:                       j.key(),
		UpdateExpression:          aws.String("SET mailStatus = :sending"),
		ConditionExpression:       aws.String("attribute_not_exists(mailStatus) AND #st IN (:done, :failed)"),
		ExpressionAttributeNames:  map[string]string{"#st": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":sending": s(MailSending), ":done": s(StatusDone), ":failed": s(StatusFailed)},
	})
	if err != nil {
		return convert("claim export mail "+j.ID, err)
	}
	j.MailStatus = MailSending
	return nil
}

// MailDone records the outcome of a claimed mail: sent with its message id, or failed for
// good with a reason.
func (st *Store) MailDone(ctx context.Context, j *Job, status, messageID, reason string) error {
	upd := "SET mailStatus = :st, mailMessageId = :id"
	vals := map[string]types.AttributeValue{":st": s(status), ":id": s(messageID), ":sending": s(MailSending)}
	if reason != "" {
		upd += ", mailError = :reason"
		vals[":reason"] = s(reason)
	}
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(st.Table), Key: j.key(),
		UpdateExpression: aws.String(upd), ConditionExpression: aws.String("mailStatus = :sending"),
		ExpressionAttributeValues: vals,
	})
	if err != nil {
		return convert("record export mail "+j.ID, err)
	}
	j.MailStatus, j.MailMessageID, j.MailError = status, messageID, reason
	return nil
}

// ReleaseMail gives a claimed mail back after a failure worth retrying.
func (st *Store) ReleaseMail(ctx context.Context, j *Job) error {
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(st.Table), Key: j.key(),
		UpdateExpression:          aws.String("REMOVE mailStatus"),
		ConditionExpression:       aws.String("mailStatus = :sending"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":sending": s(MailSending)},
	})
	if err != nil {
		return convert("release export mail "+j.ID, err)
	}
	j.MailStatus = ""
	return nil
}

// ---------------------------------------------------------------- schedules

// key is the schedule's own key: its name was parsed (ParseScheduleName) when it was saved.
func (sc *Schedule) key() map[string]types.AttributeValue {
	return scheduleKey(sc.TenantID, ScheduleName(sc.Name))
}

func scheduleKey(tenant tenant.ID, name ScheduleName) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": s(SchedulePK(tenant)), "sk": s(string(name))}
}

// Schedule reads a tenant's schedule, or nil when there is none.
func (st *Store) Schedule(ctx context.Context, tenant tenant.ID, name ScheduleName) (*Schedule, error) {
	return get[Schedule](ctx, st, scheduleKey(tenant, name), "export schedule "+string(name))
}

// PutScheduleTx returns the transaction item that writes sc if the stored schedule is still
// prev (nil: none); its condition fails when the schedule changed meanwhile.
func (st *Store) PutScheduleTx(sc *Schedule, prev *Schedule) (types.TransactWriteItem, error) {
	sc.PK, sc.SK, sc.DueKey = SchedulePK(sc.TenantID), sc.Name, dueKey
	item, err := attributevalue.MarshalMap(sc)
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("encode export schedule %s: %w", sc.Name, err)
	}
	put := &types.Put{TableName: aws.String(st.Table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}
	if prev != nil {
		put.ConditionExpression = aws.String("updatedAt = :prev")
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": s(prev.UpdatedAt)}
	}
	return types.TransactWriteItem{Put: put}, nil
}

// DeleteScheduleTx returns the transaction item that deletes the schedule prev if it is
// still as it was read (same updatedAt), so the event that records the delete describes
// what was deleted.
func (st *Store) DeleteScheduleTx(prev *Schedule) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{
		TableName: aws.String(st.Table), Key: prev.key(),
		ConditionExpression:       aws.String("updatedAt = :prev"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":prev": s(prev.UpdatedAt)},
	}}
}

// ScheduleUnchangedTx returns the transaction item that checks the schedule sc is still as
// it was read (same updatedAt), for a write that acts on what it says.
func (st *Store) ScheduleUnchangedTx(sc *Schedule) types.TransactWriteItem {
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName: aws.String(st.Table), Key: sc.key(),
		ConditionExpression:       aws.String("updatedAt = :prev"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":prev": s(sc.UpdatedAt)},
	}}
}

// Schedules lists a tenant's schedules by name, limit at a time from after (a name).
func (st *Store) Schedules(ctx context.Context, tenant tenant.ID, limit int, after ScheduleName) ([]Schedule, string, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(st.Table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(SchedulePK(tenant))},
		Limit:                     aws.Int32(int32(limit)),
	}
	if after != "" {
		in.ExclusiveStartKey = scheduleKey(tenant, after)
	}
	out, err := st.DB.Query(ctx, in)
	if err != nil {
		return nil, "", convert("list export schedules", err)
	}
	var scs []Schedule
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &scs); err != nil {
		return nil, "", fmt.Errorf("decode export schedules: %w", err)
	}
	next := ""
	if out.LastEvaluatedKey != nil && len(scs) == limit {
		next = scs[len(scs)-1].Name
	}
	return scs, next, nil
}

// Due calls fn for every schedule, of any tenant, whose nextRunAt is at or before now
// (GSI ByDue: a query, never a scan), oldest first.
func (st *Store) Due(ctx context.Context, now time.Time, fn func(*Schedule) error) error {
	return queryDue(ctx, st, dueKey, now, "export schedule", fn)
}

// Stuck calls fn for every unfinished job, of any tenant, whose deadline is at or before
// now: it never started, or its worker died without reporting back.
func (st *Store) Stuck(ctx context.Context, now time.Time, fn func(*Job) error) error {
	return queryDue(ctx, st, dueOpen, now, "export job", fn)
}

// queryDue calls fn with every item of GSI ByDue under key whose nextRunAt is at or before
// now, oldest first, decoded as a T (what names it in errors).
func queryDue[T any](ctx context.Context, st *Store, key string, now time.Time, what string, fn func(*T) error) error {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(st.Table),
		IndexName:                 aws.String(IndexByDue),
		KeyConditionExpression:    aws.String("dueKey = :due AND nextRunAt <= :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":due": s(key), ":now": s(formatTime(now))},
	}
	for {
		out, err := st.DB.Query(ctx, in)
		if err != nil {
			return convert("query "+key+" in "+IndexByDue, err)
		}
		for _, item := range out.Items {
			var v T
			if err := attributevalue.UnmarshalMap(item, &v); err != nil {
				return fmt.Errorf("decode %s: %w", what, err)
			}
			if err := fn(&v); err != nil {
				return err
			}
		}
		if out.LastEvaluatedKey == nil {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// Advance moves a schedule's nextRunAt from prev to next and records its last export, if
// nextRunAt is still prev. ErrChanged: another run (or an edit, or a delete) moved it.
func (st *Store) Advance(ctx context.Context, sc *Schedule, prev, next, lastExport string) error {
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(st.Table),
		Key:                 sc.key(),
		UpdateExpression:    aws.String("SET nextRunAt = :next, lastExportId = :last"),
		ConditionExpression: aws.String("nextRunAt = :prev"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":next": s(next), ":prev": s(prev), ":last": s(lastExport),
		},
	})
	return convert("advance export schedule "+sc.Name, err)
}
