package export

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/ddb"
	"github.com/contrail/contrail/shared/fault"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/idempotency"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/secret"
	"github.com/contrail/contrail/shared/tenant"
	"github.com/contrail/contrail/shared/validate"
)

// Linker makes a time-limited download link for an export file (a presigned S3 GET).
type Linker interface {
	Link(ctx context.Context, key string) (string, error)
}

// Service answers the export routes. Every route is admin only (httpapi.AdminRoles).
type Service struct {
	Store   *Store
	Idem    *idempotency.Store // Idempotency-Key records (contacts table)
	Links   Linker
	Cursors *httpapi.Cursors
	IDs     *ident.Generator
	Clock   ident.Clock

	// The audit table, where a schedule's changes and runs are recorded in the
	// transaction that makes them.
	AuditTable string
	Keys       audit.Keys
	Retention  audit.Retention
}

// Client is the DynamoDB client the service needs: the store's calls and the idempotency store's.
type Client interface {
	DB
	idempotency.DB
}

// NewService builds the service of a function from its configuration, with clients of
// awsCfg and no Linker (GET /v1/exports/{id} sets one: files.NewPresigner); the schedule
// list's cursor key is read from Secrets Manager here, once per cold start.
func NewService(awsCfg aws.Config, cfg Config) *Service {
	if cfg.CursorSecretARN != "" {
		cfg.CursorSecret = secret.MustString(awsCfg, cfg.CursorSecretARN)
	}
	return New(cfg, dynamodb.NewFromConfig(awsCfg), nil)
}

// New returns the service of the export routes; links may be nil for routes that make none.
func New(cfg Config, db Client, links Linker) *Service {
	return &Service{
		Store:   &Store{DB: db, Table: cfg.JobsTable},
		Idem:    &idempotency.Store{DB: db, Table: cfg.ContactsTable, Clock: ident.SystemClock},
		Links:   links,
		Cursors: httpapi.NewCursors(cfg.CursorSecret),
		IDs:     ident.NewGenerator(ident.SystemClock),
		Clock:   ident.SystemClock,

		AuditTable: cfg.Audit.Table,
		Keys:       cfg.Audit.Keys(),
		Retention:  cfg.Audit.Retention,
	}
}

// CreateRequest is the body of POST /v1/exports.
type CreateRequest struct {
	Report string `json:"report"`
	From   string `json:"from"`
	To     string `json:"to"`
	TZ     string `json:"tz"`
	Format string `json:"format"`
	Email  string `json:"email"`
	// The log filters, as the log routes take them; null or absent: none.
	httpapi.LogFilter
}

// View is an export job as the API returns it.
type View struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Rows      *int64 `json:"rows,omitempty"`
	URL       string `json:"url,omitempty"`
	Report    string `json:"report"`
	Format    string `json:"format"`
	From      string `json:"from"`
	To        string `json:"to"`
	TZ        string `json:"tz"`
	CreatedAt string `json:"createdAt"`
	Error     string `json:"error,omitempty"`
	Schedule  string `json:"schedule,omitempty"`
	// The log filters the job applies, each only when set.
	httpapi.LogFilter
}

// NewJob validates a create request and returns the pending job it asks for.
func NewJob(in CreateRequest, tenant tenant.ID, now time.Time) (*Job, error) {
	p := validate.Problems{}
	p.OneOf("report", &in.Report, "", Reports...)
	p.OneOf("format", &in.Format, "", Formats...)
	p.Email("email", &in.Email, false)
	checkFormat(p, in.Report, in.Format)
	checkFilter(p, in.Report, in.LogFilter)
	per, err := httpapi.ParsePeriod(strings.TrimSpace(in.From), strings.TrimSpace(in.To), strings.TrimSpace(in.TZ), now, MaxPeriodDays)
	if fe := fault.As(err); fe != nil {
		if len(p) == 0 {
			return nil, fe
		}
		for k, v := range fe.Fields {
			p.Add(k, v)
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	j := &Job{
		TenantID: tenant, Report: in.Report, Format: in.Format, Filter: in.LogFilter.Normalized(),
		From: formatTime(per.From), To: formatTime(per.To), TZ: per.TZ.String(),
		Status: StatusPending, CreatedAt: formatTime(now), ExpiresAt: now.Add(JobTTL).Unix(),
	}
	if in.Email != "" {
		j.Recipients = []string{in.Email}
	}
	return j, nil
}

// Create answers POST /v1/exports: 202 {"id","status":"pending"}. The job's INSERT on the
// jobs table's stream starts the export worker.
func (sv *Service) Create(ctx context.Context, r *httpapi.Request) (events.APIGatewayV2HTTPResponse, error) {
	body, err := r.Body()
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	var in CreateRequest
	if err := httpapi.DecodeJSON(body, &in); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	call, replay, err := sv.Idem.Start(ctx, r, body)
	if replay != nil || err != nil {
		return deref(replay), err
	}
	now := sv.Clock()
	j, err := NewJob(in, r.TenantID, now)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	j.ID, j.CreatedBy, j.CreatedByName, j.RequestID = sv.IDs.At(now), r.UserID, r.Name, r.RequestID()
	resp := httpapi.JSON(http.StatusAccepted, map[string]string{"id": j.ID, "status": StatusPending})

	put, err := sv.Store.PutJobTx(j)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	if twin, err := sv.commit(ctx, call, resp, put); twin != nil || err != nil {
		return deref(twin), err
	}
	slog.InfoContext(ctx, "export requested", "tenant_id", j.TenantID, "export_id", j.ID, "report", j.Report, "format", j.Format)
	return resp, nil
}

// commit writes items and, when the request carries an Idempotency-Key, the record that
// resp answers it, in one transaction. When a twin request with the same key committed
// first, it returns the twin's response instead. A transaction cancelled by the condition of
// one of items comes back as it is (ddb.ConditionFailedAt(err, i)), so the caller can say why.
func (sv *Service) commit(ctx context.Context, call *idempotency.Call, resp events.APIGatewayV2HTTPResponse, items ...types.TransactWriteItem) (*events.APIGatewayV2HTTPResponse, error) {
	tx := append([]types.TransactWriteItem(nil), items...)
	if call != nil {
		ip, err := sv.Idem.PutTx(call, resp)
		if err != nil {
			return nil, err
		}
		tx = append(tx, ip)
	}
	_, err := sv.Store.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
	if err == nil {
		return nil, nil
	}
	if call != nil && ddb.ConditionFailedAt(err, len(items)) {
		if twin, rerr := sv.Idem.Replay(ctx, call); twin != nil || rerr != nil {
			return twin, rerr
		}
	}
	for i := range items {
		if ddb.ConditionFailedAt(err, i) {
			return nil, err
		}
	}
	return nil, convert("commit", err)
}

func deref(r *events.APIGatewayV2HTTPResponse) events.APIGatewayV2HTTPResponse {
	if r == nil {
		return events.APIGatewayV2HTTPResponse{}
	}
	return *r
}

// Get answers GET /v1/exports/{id}: the job, with a presigned link when it is done.
func (sv *Service) Get(ctx context.Context, r *httpapi.Request) (events.APIGatewayV2HTTPResponse, error) {
	id, err := ParseID(r.PathParam("id"))
	if err != nil { // an export that cannot exist is not found, like an unknown one
		return events.APIGatewayV2HTTPResponse{}, fault.New(fault.NotFound, "export_not_found", "No export with this id exists; check the id returned by POST /v1/exports.")
	}
	j, err := sv.Store.Job(ctx, r.TenantID, id)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	v := ViewOf(j)
	if j.Status == StatusDone {
		if v.URL, err = sv.Links.Link(ctx, j.Key); err != nil {
			return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("link export %s: %w", j.ID, err)
		}
	}
	return httpapi.JSON(http.StatusOK, v), nil
}

// ViewOf returns the API view of a job, without its link.
func ViewOf(j *Job) View {
	v := View{
		ID: j.ID, Status: j.Status, Rows: j.Rows, Report: j.Report, Format: j.Format,
		From: j.From, To: j.To, TZ: j.TZ, CreatedAt: j.CreatedAt, Error: j.Error, Schedule: j.Schedule,
	}
	if j.Filter != nil {
		v.LogFilter = *j.Filter
	}
	return v
}

// ---------------------------------------------------------------- schedules

// ScheduleRequest is the body of PUT /v1/export-schedules/{name}.
type ScheduleRequest struct {
	Report     string   `json:"report"`
	Frequency  string   `json:"frequency"`
	Format     string   `json:"format"`
	Recipients []string `json:"recipients"`
	TZ         string   `json:"tz"`
	// The log filters of every export it makes; null or absent: none.
	httpapi.LogFilter
}

// ScheduleView is a schedule as the API returns it.
type ScheduleView struct {
	Name         string   `json:"name"`
	Report       string   `json:"report"`
	Frequency    string   `json:"frequency"`
	Format       string   `json:"format"`
	Recipients   []string `json:"recipients"`
	TZ           string   `json:"tz"`
	NextRunAt    string   `json:"nextRunAt"`
	LastExportID string   `json:"lastExportId,omitempty"`
	CreatedAt    string   `json:"createdAt"`
	UpdatedAt    string   `json:"updatedAt"`
	// The log filters, each only when set.
	httpapi.LogFilter
}

// MaxRecipients caps a schedule's recipients.
const MaxRecipients = 50

// pathName parses the {name} of PUT /v1/export-schedules/{name}, which creates what it names:
// a malformed one is a 400 naming the parameter.
func pathName(r *httpapi.Request) (ScheduleName, error) {
	name, err := ParseScheduleName(r.PathParam("name"))
	if err == nil {
		return name, nil
	}
	return "", fault.InvalidFields("invalid_request", "Use a schedule name of 1 to 64 letters, digits, _ or -.",
		map[string]string{"name": "must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -"})
}

// CheckSchedule validates a schedule request, trimming and filling defaults in place.
func CheckSchedule(in *ScheduleRequest) (*time.Location, error) {
	p := validate.Problems{}
	p.OneOf("report", &in.Report, "", Reports...)
	p.OneOf("frequency", &in.Frequency, "", Frequencies...)
	p.OneOf("format", &in.Format, "", Formats...)
	checkFormat(p, in.Report, in.Format)
	checkFilter(p, in.Report, in.LogFilter)
	switch {
	case len(in.Recipients) == 0:
		p.Add("recipients", "must list 1 to "+strconv.Itoa(MaxRecipients)+" email addresses")
	case len(in.Recipients) > MaxRecipients:
		p.Add("recipients", "must list at most "+strconv.Itoa(MaxRecipients)+" email addresses")
	}
	seen := map[string]bool{}
	for i := range in.Recipients {
		field := "recipients[" + strconv.Itoa(i) + "]"
		p.Email(field, &in.Recipients[i], true)
		if k := strings.ToLower(in.Recipients[i]); seen[k] {
			p.Add(field, "repeats an earlier recipient")
		} else {
			seen[k] = true
		}
	}
	in.TZ = strings.TrimSpace(in.TZ)
	loc := time.UTC
	if in.TZ == "" {
		in.TZ = "UTC"
	} else if l, err := time.LoadLocation(in.TZ); err != nil || in.TZ == "Local" {
		p.Add("tz", "must be an IANA time zone name, like Asia/Jakarta")
	} else {
		loc = l
	}
	return loc, p.Err()
}

// PutSchedule answers PUT /v1/export-schedules/{name}: creates or replaces the schedule.
// Its first run exports the current period once it has ended; an edit that keeps the
// frequency and time zone keeps the period due next. The schedule and its
// EXPORT_SCHEDULE_CREATED or _UPDATED event are one transaction; a PUT that changes nothing
// writes and records nothing (so a retried PUT records no second event).
func (sv *Service) PutSchedule(ctx context.Context, r *httpapi.Request) (events.APIGatewayV2HTTPResponse, error) {
	name, err := pathName(r)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	var in ScheduleRequest
	if err := r.Decode(&in); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	loc, err := CheckSchedule(&in)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	now := sv.Clock()
	prev, err := sv.Store.Schedule(ctx, r.TenantID, name)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	_, end := PeriodOf(in.Frequency, now, loc)
	sc := &Schedule{
		TenantID: r.TenantID, Name: string(name), Report: in.Report, Frequency: in.Frequency, Format: in.Format,
		Filter: in.LogFilter.Normalized(), Recipients: in.Recipients, TZ: in.TZ, NextRunAt: formatTime(end),
		CreatedAt: formatTime(now), UpdatedAt: formatTime(now), CreatedBy: r.UserID, UpdatedBy: r.UserID,
	}
	typ, data := "EXPORT_SCHEDULE_CREATED", scheduleData(sc)
	if prev != nil {
		changes := scheduleChanges(prev, sc)
		if len(changes) == 0 {
			return httpapi.JSON(http.StatusOK, ScheduleViewOf(prev)), nil
		}
		typ, data["changes"] = "EXPORT_SCHEDULE_UPDATED", changes
		sc.CreatedAt, sc.CreatedBy, sc.LastExport = prev.CreatedAt, prev.CreatedBy, prev.LastExport
		if prev.Frequency == sc.Frequency && prev.TZ == sc.TZ {
			sc.NextRunAt = prev.NextRunAt
		}
		if sc.UpdatedAt <= prev.UpdatedAt { // keep the condition on updatedAt meaningful
			sc.UpdatedAt = formatTime(mustParse(prev.UpdatedAt).Add(time.Millisecond))
		}
	}
	ev := r.AuditEvent(sv.IDs.At(now), typ, now, data)
	put, err := sv.Store.PutScheduleTx(sc, prev)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	record, err := sv.Keys.PutTx(sv.AuditTable, ev, sv.Retention)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("save export schedule %s: %w", name, err)
	}
	resp := httpapi.JSON(http.StatusOK, ScheduleViewOf(sc))
	if _, err := sv.commit(ctx, nil, resp, put, record); ddb.ConditionFailedAt(err, 0) {
		return events.APIGatewayV2HTTPResponse{}, scheduleChanged()
	} else if err != nil {
		return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("save export schedule %s: %w", name, err)
	}
	slog.InfoContext(ctx, "export schedule saved", "tenant_id", r.TenantID, "schedule", name, "next_run_at", sc.NextRunAt, "event_id", ev.ID)
	return resp, nil
}

// scheduleChanged is the answer when a write conditional on the schedule as read lost to
// another change.
func scheduleChanged() error {
	return fault.New(fault.Conflict, "schedule_changed", "The schedule changed meanwhile; read it and try again.")
}

// scheduleNotFound is the answer for a schedule the tenant does not have.
func scheduleNotFound() error {
	return fault.New(fault.NotFound, "schedule_not_found", "No export schedule has this name; list them with GET /v1/export-schedules.")
}

func mustParse(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// ScheduleViewOf returns the API view of a schedule.
func ScheduleViewOf(sc *Schedule) ScheduleView {
	v := ScheduleView{
		Name: sc.Name, Report: sc.Report, Frequency: sc.Frequency, Format: sc.Format,
		Recipients: sc.Recipients, TZ: sc.TZ, NextRunAt: sc.NextRunAt, LastExportID: sc.LastExport,
		CreatedAt: sc.CreatedAt, UpdatedAt: sc.UpdatedAt,
	}
	if sc.Filter != nil {
		v.LogFilter = *sc.Filter
	}
	return v
}

// ListSchedules answers GET /v1/export-schedules: the tenant's schedules by name.
func (sv *Service) ListSchedules(ctx context.Context, r *httpapi.Request) (events.APIGatewayV2HTTPResponse, error) {
	l, err := r.List()
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	const scope = "export-schedules"
	var after ScheduleName // sealed by us in an earlier page
	if l.Cursor != "" {
		if err := sv.Cursors.Open(r.TenantID, scope, l.Cursor, &after); err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
	}
	scs, next, err := sv.Store.Schedules(ctx, r.TenantID, l.Limit, after)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	views := make([]ScheduleView, len(scs))
	for i := range scs {
		views[i] = ScheduleViewOf(&scs[i])
	}
	cursor := ""
	if next != "" {
		if cursor, err = sv.Cursors.Seal(r.TenantID, scope, next); err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
	}
	return httpapi.JSON(http.StatusOK, httpapi.NewPage(views, cursor)), nil
}

// DeleteSchedule answers DELETE /v1/export-schedules/{name}: 204, or 404 when there is none.
// The delete and its EXPORT_SCHEDULE_DELETED event (the schedule as it was) are one
// transaction, with the Idempotency-Key's record when there is one.
func (sv *Service) DeleteSchedule(ctx context.Context, r *httpapi.Request) (events.APIGatewayV2HTTPResponse, error) {
	name, err := ParseScheduleName(r.PathParam("name"))
	if err != nil { // a schedule that cannot exist is not found, like an unknown one
		return events.APIGatewayV2HTTPResponse{}, scheduleNotFound()
	}
	call, prev, replay, err := sv.keyedSchedule(ctx, r, nil, name)
	if replay != nil || err != nil {
		return deref(replay), err
	}
	now := sv.Clock()
	ev := r.AuditEvent(sv.IDs.At(now), "EXPORT_SCHEDULE_DELETED", now, scheduleData(prev))
	record, err := sv.Keys.PutTx(sv.AuditTable, ev, sv.Retention)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("delete export schedule %s: %w", name, err)
	}
	resp := httpapi.NoContent()
	twin, err := sv.commit(ctx, call, resp, sv.Store.DeleteScheduleTx(prev), record)
	if ddb.ConditionFailedAt(err, 0) {
		return events.APIGatewayV2HTTPResponse{}, sv.changedOrGone(ctx, r.TenantID, name)
	}
	if twin != nil || err != nil {
		return deref(twin), err
	}
	slog.InfoContext(ctx, "export schedule deleted", "tenant_id", r.TenantID, "schedule", name, "event_id", ev.ID)
	return resp, nil
}

// changedOrGone says why a write conditional on a schedule as read failed: it was deleted
// meanwhile (404), or changed (409).
func (sv *Service) changedOrGone(ctx context.Context, tenant tenant.ID, name ScheduleName) error {
	now, err := sv.Store.Schedule(ctx, tenant, name)
	switch {
	case err != nil:
		return err
	case now == nil:
		return scheduleNotFound()
	default:
		return scheduleChanged()
	}
}
