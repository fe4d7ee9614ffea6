package auditlog

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/ddb"
	"github.com/contrail/contrail/shared/fault"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/idempotency"
	"github.com/contrail/contrail/shared/validate"
)

// Batch limits of the two ingest routes.
const (
	MaxPlatformEvents = 100
	MaxCobrowseEvents = 500
	// MaxSkew is how far in the future an occurredAt may be.
	MaxSkew = 5 * time.Minute
)

// IngestResponse is the 202 body: the event ids, in input order.
type IngestResponse struct {
	IDs []string `json:"ids"`
}

type batchBody struct {
	Events []json.RawMessage `json:"events"`
}

// PlatformEvent is one event of POST /v1/audit-events.
type PlatformEvent struct {
	Type       string         `json:"type"`
	OccurredAt *string        `json:"occurredAt"`
	Actor      *ActorIn       `json:"actor"`
	SessionID  *string        `json:"sessionId"`
	Data       map[string]any `json:"data"`
}

// ActorIn is who acted, as a service recording for someone else sends it.
type ActorIn struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

// CobrowseEvent is one event of POST /v1/cobrowse/sessions/{sessionId}/events.
type CobrowseEvent struct {
	Type       string         `json:"type"`
	OccurredAt *string        `json:"occurredAt"`
	IsAgent    *bool          `json:"isAgent"`
	Data       map[string]any `json:"data"`
}

// Ingest answers POST /v1/audit-events (service or admin): 1-100 platform events, all or
// nothing. Contact, email and access events are recorded by Contrail itself and co-browsing
// events have their own route, so both are rejected here. The actor is the caller (a service
// or, for an admin, the user) unless a service names who acted in actor.
func (s *Service) Ingest(ctx context.Context, r *httpapi.Request) (events.APIGatewayV2HTTPResponse, error) {
	return s.ingest(ctx, r, MaxPlatformEvents, nil, func(raws []json.RawMessage, now time.Time, p validate.Problems) []audit.Event {
		return decodeEach(raws, p, func(in *PlatformEvent, prefix string) audit.Event {
			return s.platformEvent(r, in, now, prefix, p)
		})
	})
}

// sessionRule is what a session id must be, for a 400's message.
const sessionRule = "Use a session id of 1 to 200 characters of A-Z, a-z, 0-9, '.', '_', ':' and '-'."

// IngestCobrowse answers POST /v1/cobrowse/sessions/{sessionId}/events (service): 1-500
// co-browsing events of one session, all or nothing; occurredAt and isAgent are required.
// INPUT text is stored masked unless the tenant's settings allow clear text (maskInputs).
func (s *Service) IngestCobrowse(ctx context.Context, r *httpapi.Request) (events.APIGatewayV2HTTPResponse, error) {
	session, err := audit.ParseSessionID(r.PathParam("sessionId"))
	if err != nil { // the route records under it, so there is no not-found: a 400
		return events.APIGatewayV2HTTPResponse{}, fault.InvalidFields("invalid_request", sessionRule, map[string]string{"sessionId": err.Error()})
	}
	return s.ingest(ctx, r, MaxCobrowseEvents, s.maskInputs, func(raws []json.RawMessage, now time.Time, p validate.Problems) []audit.Event {
		return decodeEach(raws, p, func(in *CobrowseEvent, prefix string) audit.Event {
			return s.cobrowseEvent(r, session, in, now, prefix, p)
		})
	})
}

// decodeEach decodes each of raws as an input T and makes its event with build (prefix
// names the event's fields, events[i].); one that does not decode stays a zero event, its
// problems in p.
func decodeEach[T any](raws []json.RawMessage, p validate.Problems, build func(in *T, prefix string) audit.Event) []audit.Event {
	out := make([]audit.Event, len(raws))
	for i, raw := range raws {
		prefix := "events[" + strconv.Itoa(i) + "]."
		var in T
		if !decodeEvent(raw, &in, prefix, p) {
			continue
		}
		out[i] = build(&in, prefix)
	}
	return out
}

// ingest is the flow both routes share: idempotency, strict all-or-nothing validation, ids,
// batched writes, and an exact account of what was stored when not everything was. prepare,
// when not nil, changes the valid events before they are written.
func (s *Service) ingest(ctx context.Context, r *httpapi.Request, maxEvents int,
	prepare func(ctx context.Context, r *httpapi.Request, evs []audit.Event) error,
	build func(raws []json.RawMessage, now time.Time, p validate.Problems) []audit.Event) (events.APIGatewayV2HTTPResponse, error) {
	none := events.APIGatewayV2HTTPResponse{}
	body, err := r.Body()
	if err != nil {
		return none, err
	}
	call, replay, err := s.Idem.Start(ctx, r, body)
	if err != nil {
		return none, err
	}
	if replay != nil {
		return *replay, nil
	}
	var b batchBody
	if err := httpapi.DecodeJSON(body, &b); err != nil {
		return none, err
	}
	if len(b.Events) < 1 || len(b.Events) > maxEvents {
		return none, fault.InvalidFields("invalid_request", fmt.Sprintf("Send 1 to %d events in a batch.", maxEvents),
			map[string]string{"events": fmt.Sprintf("must hold 1 to %d events", maxEvents)})
	}
	now := s.Clock().UTC()
	p := validate.Problems{}
	evs := build(b.Events, now, p)
	if err := p.Err(); err != nil {
		return none, err
	}
	if prepare != nil {
		if err := prepare(ctx, r, evs); err != nil {
			return none, err
		}
	}

	// Ids: a retry with the same Idempotency-Key gets the same ids and the same defaulted
	// times (from the first attempt), so it overwrites the items a failed attempt wrote
	// instead of adding twins.
	first, seed := now, audit.SeedFrom(s.IDs.New())
	if call != nil {
		if first, err = s.claim(ctx, call, now); err != nil {
			return none, err
		}
		seed = audit.SeedFrom(call.PK)
	}
	ids := make([]string, len(evs))
	for i := range evs {
		e := &evs[i]
		if e.OccurredAt == "" {
			e.OccurredAt = audit.FormatTime(first)
		}
		e.RecordedAt = audit.FormatTime(first)
		e.ID = audit.BatchID(e.Occurred(), seed, i)
		ids[i] = e.ID
	}

	written, err := s.Writer.Write(ctx, evs)
	if err != nil || len(written.NotStored) > 0 {
		return none, notStored(written, err)
	}
	slog.InfoContext(ctx, "events ingested", "tenant_id", r.TenantID, "events", len(ids), "request_id", r.RequestID())
	resp := httpapi.JSON(http.StatusAccepted, IngestResponse{IDs: ids})
	if call != nil {
		if err := s.Idem.Save(ctx, call, resp); err != nil && fault.KindOf(err) != fault.Conflict {
			// The events are stored; a retry with this key writes the same items again.
			slog.WarnContext(ctx, "store idempotency record", "error", err.Error(), "request_id", r.RequestID())
		}
	}
	return resp, nil
}

// notStored answers a batch that was not completely written: 503 naming the ids stored and
// the ids not stored, in input order, never a silent half write.
func notStored(w audit.Written, cause error) error {
	stored, missing := w.Stored, w.NotStored
	if stored == nil {
		stored = []string{}
	}
	code, msg := "events_partially_stored", "Some events of the batch were stored and some were not (listed in error.stored and error.notStored); send the same request again with the same Idempotency-Key, or send only the events not stored."
	if len(stored) == 0 {
		code, msg = "events_not_stored", "No event of the batch was stored; send the same request again in a moment."
	}
	fe := fault.New(fault.Throttled, code, msg).With("stored", stored).With("notStored", missing)
	fe.Err = cause
	return fe
}

// decodeEvent decodes one event strictly; its problems are named under prefix.
func decodeEvent(raw json.RawMessage, v any, prefix string, p validate.Problems) bool {
	if string(raw) == "null" {
		p.Add(strings.TrimSuffix(prefix, "."), "must be an event object")
		return false
	}
	err := httpapi.DecodeJSON(raw, v)
	if err == nil {
		return true
	}
	fe := fault.As(err)
	if fe == nil || len(fe.Fields) == 0 {
		p.Add(strings.TrimSuffix(prefix, "."), "must be an event object")
		return false
	}
	for k, msg := range fe.Fields {
		p.Add(prefix+k, msg)
	}
	return false
}

// occurred checks an event time: at most MaxSkew ahead of now, and not older than the hot
// retention of its category (it would expire as it is written).
func (s *Service) occurred(v *string, category string, now time.Time, field string, p validate.Problems) string {
	at, err := audit.ParseTime(strings.TrimSpace(*v))
	if err != nil {
		p.Add(field, "must be an RFC 3339 time, like 2026-01-31T10:00:00.000Z")
		return ""
	}
	if at.After(now.Add(MaxSkew)) {
		p.Add(field, "must not be more than 5 minutes in the future")
		return ""
	}
	if keep, ok := s.Retention[category]; ok && at.Before(now.Add(-keep)) {
		p.Add(field, fmt.Sprintf("must be within the last %d days (the retention of %s events)", int(keep/(24*time.Hour)), category))
		return ""
	}
	return audit.FormatTime(at)
}

func (s *Service) spec(typ *string, want audit.Origin, field string, p validate.Problems) *audit.Spec {
	*typ = strings.TrimSpace(*typ)
	if *typ == "" {
		p.Add(field, "is required")
		return nil
	}
	spec, ok := audit.Lookup(*typ)
	if !ok {
		p.Add(field, "is not an event type (see the event reference)")
		return nil
	}
	if spec.Origin == want {
		return spec
	}
	switch spec.Origin {
	case audit.Cobrowse:
		p.Add(field, "is a co-browsing event; send it to POST /v1/cobrowse/sessions/{sessionId}/events")
	case audit.Ingested:
		p.Add(field, "is a platform event; send it to POST /v1/audit-events")
	default:
		p.Add(field, "is recorded by Contrail itself and cannot be ingested")
	}
	return nil
}

func (s *Service) platformEvent(r *httpapi.Request, in *PlatformEvent, now time.Time, prefix string, p validate.Problems) audit.Event {
	e := audit.Event{TenantID: r.TenantID, Type: in.Type, Source: audit.SourceAPI, Context: requestContext(r)}
	spec := s.spec(&e.Type, audit.Ingested, prefix+"type", p)
	if spec == nil {
		return e
	}
	e.Type, e.Category = spec.Type, spec.Category
	if in.OccurredAt != nil {
		e.OccurredAt = s.occurred(in.OccurredAt, spec.Category, now, prefix+"occurredAt", p)
	}
	e.Actor = s.actor(r, in.Actor, prefix+"actor", p)
	if in.SessionID != nil {
		if id, err := audit.ParseSessionID(strings.TrimSpace(*in.SessionID)); err != nil {
			p.Add(prefix+"sessionId", err.Error())
		} else {
			e.SessionID = string(id)
		}
	}
	e.Data = data(spec, in.Data, prefix, p)
	return e
}

func (s *Service) cobrowseEvent(r *httpapi.Request, session audit.SessionID, in *CobrowseEvent, now time.Time, prefix string, p validate.Problems) audit.Event {
	e := audit.Event{TenantID: r.TenantID, Type: in.Type, SessionID: string(session), Source: audit.SourceAPI, Context: requestContext(r)}
	spec := s.spec(&e.Type, audit.Cobrowse, prefix+"type", p)
	if spec == nil {
		return e
	}
	e.Type, e.Category = spec.Type, spec.Category
	if in.OccurredAt == nil {
		p.Add(prefix+"occurredAt", "is required")
	} else {
		e.OccurredAt = s.occurred(in.OccurredAt, spec.Category, now, prefix+"occurredAt", p)
	}
	if in.IsAgent == nil {
		p.Add(prefix+"isAgent", "is required (true when the agent acted, false for the customer)")
	} else {
		agent := *in.IsAgent
		e.IsAgent = &agent
		e.Actor = audit.Actor{Type: audit.ActorCustomer}
		if agent {
			e.Actor.Type = audit.ActorUser
		}
	}
	if _, sent := in.Data[inputLength]; sent && spec.Type == inputType {
		p.Add(prefix+"data."+inputLength, "is set by Contrail when it masks the text; do not send it")
	}
	e.Data = data(spec, in.Data, prefix, p)
	return e
}

// INPUT's type and the data fields masking reads and writes (see the registry).
const (
	inputType      = "INPUT"
	inputText      = "text"
	inputLength    = "length"
	inputSensitive = "sensitive"
)

// MaskedText is what an INPUT event stores in place of a masked text.
const MaskedText = "[masked]"

// maskInputs masks the text of every INPUT event of a valid batch: data.text becomes
// MaskedText and data.length the number of characters (Unicode code points) typed, unless the
// tenant's settings allow clear text and the producer did not mark the field sensitive. The
// settings are read once per request, and only when the batch holds an INPUT event.
func (s *Service) maskInputs(ctx context.Context, r *httpapi.Request, evs []audit.Event) error {
	var allowClear *bool
	for i := range evs {
		e := &evs[i]
		if e.Type != inputType {
			continue
		}
		if allowClear == nil {
			st, err := s.Settings.Get(ctx, r.TenantID)
			if err != nil {
				return err
			}
			allowed := st.Settings.ClearInput()
			allowClear = &allowed
		}
		if sensitive, _ := e.Data[inputSensitive].(bool); *allowClear && !sensitive {
			continue
		}
		text, _ := e.Data[inputText].(string)
		e.Data[inputText], e.Data[inputLength] = MaskedText, utf8.RuneCountInString(text)
	}
	return nil
}

func data(spec *audit.Spec, d map[string]any, prefix string, p validate.Problems) map[string]any {
	if d == nil {
		d = map[string]any{}
	}
	for k, msg := range spec.CheckData(prefix+"data.", d) {
		p.Add(k, msg)
	}
	return d
}

// actor is who acted: the caller by default (a service, or the admin user), or, for a
// service recording on someone's behalf, the actor it names.
func (s *Service) actor(r *httpapi.Request, in *ActorIn, field string, p validate.Problems) audit.Actor {
	caller := audit.Actor{Type: audit.ActorUser, ID: r.UserID, Name: r.Name}
	if r.Allowed(httpapi.Service) {
		caller.Type = audit.ActorService
	}
	if in == nil {
		return caller
	}
	if !r.Allowed(httpapi.Service) {
		p.Add(field, "is taken from your token; only a service may record events on someone else's behalf")
		return caller
	}
	a := audit.Actor{Type: strings.TrimSpace(in.Type), ID: strings.TrimSpace(in.ID), Name: strings.TrimSpace(in.Name)}
	p.OneOf(field+".type", &a.Type, "", audit.ActorUser, audit.ActorCustomer, audit.ActorService, audit.ActorSystem)
	if a.ID != "" || a.Type != audit.ActorSystem {
		if msg := idProblem(a.ID); msg != "" {
			p.Add(field+".id", msg)
		}
	}
	p.OptionalText(field+".name", &a.Name, 200)
	return a
}

// batchClaim pins the ids and defaulted times of an idempotent batch to its first attempt.
type batchClaim struct {
	PK        string `dynamodbav:"pk"`
	Hash      string `dynamodbav:"hash"`
	At        string `dynamodbav:"at"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

// claim returns the time of the first attempt of call's batch, recording now when this is
// the first. The same key with another body is 409 idempotency_key_reused.
func (s *Service) claim(ctx context.Context, call *idempotency.Call, now time.Time) (time.Time, error) {
	c := batchClaim{PK: call.PK + "#BATCH", Hash: call.Hash, At: audit.FormatTime(now), ExpiresAt: now.Add(idempotency.Window).Unix()}
	item, err := attributevalue.MarshalMap(c)
	if err != nil {
		return now, fmt.Errorf("encode batch claim: %w", err)
	}
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.Config.ContactsTable), Item: item,
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR expiresAt <= :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)}},
	})
	if err == nil {
		return now, nil
	}
	if !ddb.ConditionFailed(err) {
		return now, ddb.Translate("claim batch", err, ddb.Meaning{})
	}
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.Config.ContactsTable), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: c.PK}},
	})
	if err != nil {
		return now, fmt.Errorf("read batch claim: %w", err)
	}
	var prev batchClaim
	if err := attributevalue.UnmarshalMap(out.Item, &prev); err != nil {
		return now, fmt.Errorf("decode batch claim: %w", err)
	}
	if prev.Hash != call.Hash {
		return now, fault.New(fault.Conflict, "idempotency_key_reused",
			"This Idempotency-Key was used for a different request in the last 24 hours; use a new key.")
	}
	at, err := audit.ParseTime(prev.At)
	if err != nil {
		return now, fmt.Errorf("decode batch claim time %q: %w", prev.At, err)
	}
	return at, nil
}
