package export

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/contrail/contrail/shared/ddb"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/idempotency"
)

// RunSchedule answers POST /v1/export-schedules/{name}/run: "run now". It creates the
// export job of the schedule's most recent full period (yesterday, last week or last month
// in its time zone: the file its recipients get from the scheduler, not a partial one of the
// period still running) and answers 202 with the job. The job is made as the runner makes
// its jobs (Schedule.Job), so the worker exports and mails it the same way; its id is new,
// so a period the scheduler already sent is sent again, and the schedule's nextRunAt does
// not move. The job, a check that the schedule is still as read, the EXPORT_SCHEDULE_RUN
// event and the Idempotency-Key's record are one transaction. Another tenant's or an
// unknown schedule is 404.
func (sv *Service) RunSchedule(ctx context.Context, r *httpapi.Request) (events.APIGatewayV2HTTPResponse, error) {
	name, err := ParseScheduleName(r.PathParam("name"))
	if err != nil { // a schedule that cannot exist is not found, like an unknown one
		return events.APIGatewayV2HTTPResponse{}, scheduleNotFound()
	}
	body, err := r.Body()
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	if len(bytes.TrimSpace(body)) > 0 { // no body, or an empty object: nothing to choose
		if err := httpapi.DecodeJSON(body, &struct{}{}); err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
	}
	call, sc, replay, err := sv.keyedSchedule(ctx, r, body, name)
	if replay != nil || err != nil {
		return deref(replay), err
	}
	loc, err := time.LoadLocation(sc.TZ)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("run export schedule %s: time zone %q: %w", name, sc.TZ, err)
	}
	now := sv.Clock()
	start, end := LastFullPeriod(sc.Frequency, now, loc)
	j := sc.Job(sv.IDs.At(now), start, end, now)
	j.CreatedBy, j.CreatedByName, j.RequestID = r.UserID, r.Name, r.RequestID()

	data := scheduleData(sc)
	data["exportId"], data["from"], data["to"] = j.ID, j.From, j.To
	ev := r.AuditEvent(sv.IDs.At(now), "EXPORT_SCHEDULE_RUN", now, data)
	put, err := sv.Store.PutJobTx(j)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	record, err := sv.Keys.PutTx(sv.AuditTable, ev, sv.Retention)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("run export schedule %s: %w", name, err)
	}
	resp := httpapi.JSON(http.StatusAccepted, ViewOf(j))
	twin, err := sv.commit(ctx, call, resp, put, sv.Store.ScheduleUnchangedTx(sc), record)
	if ddb.ConditionFailedAt(err, 1) {
		return events.APIGatewayV2HTTPResponse{}, sv.changedOrGone(ctx, r.TenantID, name)
	}
	if twin != nil || err != nil {
		if err != nil {
			err = fmt.Errorf("run export schedule %s: %w", name, err)
		}
		return deref(twin), err
	}
	slog.InfoContext(ctx, "export schedule run now", "tenant_id", r.TenantID, "schedule", name, "export_id", j.ID,
		"from", j.From, "to", j.To, "event_id", ev.ID)
	return resp, nil
}

// keyedSchedule starts a keyed request on one schedule: it reads the Idempotency-Key (a
// repeat gets its first answer back as replay) and then the schedule, 404 when there is none.
func (sv *Service) keyedSchedule(ctx context.Context, r *httpapi.Request, body []byte, name ScheduleName) (*idempotency.Call, *Schedule, *events.APIGatewayV2HTTPResponse, error) {
	call, replay, err := sv.Idem.Start(ctx, r, body)
	if replay != nil || err != nil {
		return nil, nil, replay, err
	}
	sc, err := sv.Store.Schedule(ctx, r.TenantID, name)
	if err != nil {
		return nil, nil, nil, err
	}
	if sc == nil {
		return nil, nil, nil, scheduleNotFound()
	}
	return call, sc, nil, nil
}
