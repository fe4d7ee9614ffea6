package settings

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/ddb"
	"github.com/contrail/contrail/shared/fault"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/idempotency"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/validate"
)

// EventUpdated is the access event a saved change records.
const EventUpdated = "SETTINGS_UPDATED"

// Client is the DynamoDB client the service needs: the store's calls and the idempotency store's.
type Client interface {
	DB
	idempotency.DB
}

// Service answers GET and PUT /v1/settings (admin only, httpapi.AdminRoles).
type Service struct {
	Store *Store
	Idem  *idempotency.Store
	IDs   *ident.Generator
	Clock ident.Clock

	// The audit table, where each change is recorded in the transaction that saves it.
	AuditTable string
	Keys       audit.Keys
	Retention  audit.Retention
}

// New returns the service of the settings routes with the system clock.
func New(cfg Config, db Client) *Service { return NewWith(cfg, db, ident.SystemClock) }

// NewWith is New with an injected clock.
func NewWith(cfg Config, db Client, clock ident.Clock) *Service {
	return &Service{
		Store:      &Store{DB: db, Table: cfg.ContactsTable},
		Idem:       &idempotency.Store{DB: db, Table: cfg.ContactsTable, Clock: clock},
		IDs:        ident.NewGenerator(clock),
		Clock:      clock,
		AuditTable: cfg.Audit.Table,
		Keys:       cfg.Audit.Keys(),
		Retention:  cfg.Audit.Retention,
	}
}

// Get answers GET /v1/settings: 200 with the tenant's settings (the defaults, version 0, when
// it never saved any).
func (sv *Service) Get(ctx context.Context, r *httpapi.Request) (events.APIGatewayV2HTTPResponse, error) {
	s, err := sv.Store.Get(ctx, r.TenantID)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	return httpapi.JSON(http.StatusOK, s.View()), nil
}

// PutRequest is the body of PUT /v1/settings: the settings to change, each optional (a
// setting left out keeps its value), at least one of them; and optionally the version the
// client read, to refuse the change if another was saved since.
type PutRequest struct {
	Cobrowse *CobrowseRequest `json:"cobrowse"`
	Version  *int64           `json:"version"`
}

// CobrowseRequest is the cobrowse group of a PUT.
type CobrowseRequest struct {
	InputText *string `json:"inputText"`
}

// check validates a PUT, trimming values in place. Every problem is named at once.
func (in *PutRequest) check() error {
	p := validate.Problems{}
	if in.Version != nil && *in.Version < 0 {
		p.Add("version", "must be the version GET /v1/settings returned (0 or more)")
	}
	switch {
	case in.Cobrowse == nil:
		p.Add("cobrowse", `is required: send the settings to change, like {"cobrowse":{"inputText":"clear"}}`)
	case in.Cobrowse.InputText == nil: // {} or null: the group's one setting is missing
		p.Add("cobrowse.inputText", "must be one of "+strings.Join(InputTextModes, ", "))
	default:
		p.OneOf("cobrowse.inputText", in.Cobrowse.InputText, "", InputTextModes...)
	}
	return p.Err()
}

// apply returns s with the settings the PUT sets.
func (in *PutRequest) apply(s Settings) Settings {
	if in.Cobrowse != nil && in.Cobrowse.InputText != nil {
		s.Cobrowse.InputText = *in.Cobrowse.InputText
	}
	return s
}

// Attempts is how many times a PUT without a version reads and writes again when another
// change was saved between its read and its write.
const Attempts = 3

// Put answers PUT /v1/settings: 200 with the settings as saved. The settings item (a Put
// conditional on the version read), its SETTINGS_UPDATED event and, with an Idempotency-Key,
// the stored response are one transaction. A PUT that changes nothing answers 200 with the
// stored settings and writes nothing (no event, no key record). A PUT that lost a race to
// another change reads the settings again and applies itself to them (its event then says
// what it changed from that state), up to Attempts times; one that sent the version it read
// is 409 settings_changed instead, and so is one that lost every attempt.
func (sv *Service) Put(ctx context.Context, r *httpapi.Request) (events.APIGatewayV2HTTPResponse, error) {
	none := events.APIGatewayV2HTTPResponse{}
	body, err := r.Body()
	if err != nil {
		return none, err
	}
	call, replay, err := sv.Idem.Start(ctx, r, body)
	if replay != nil || err != nil {
		return deref(replay), err
	}
	var in PutRequest
	if err := httpapi.DecodeJSON(body, &in); err != nil {
		return none, err
	}
	if err := in.check(); err != nil {
		return none, err
	}
	for attempt := 1; ; attempt++ {
		prev, err := sv.Store.Get(ctx, r.TenantID)
		if err != nil {
			return none, err
		}
		if in.Version != nil && *in.Version != prev.Version {
			return none, changed()
		}
		next := *prev
		next.Settings = in.apply(prev.Settings)
		diff := changes(prev.Settings, next.Settings)
		if len(diff) == 0 {
			return httpapi.JSON(http.StatusOK, prev.View()), nil
		}
		now := sv.Clock()
		next.Version, next.UpdatedAt, next.UpdatedBy, next.UpdatedByName = prev.Version+1, audit.FormatTime(now), r.UserID, r.Name
		ev := r.AuditEvent(sv.IDs.At(now), EventUpdated, now, map[string]any{"settings": next.Settings.Data(), "version": next.Version, "changes": diff})
		resp := httpapi.JSON(http.StatusOK, next.View())

		twin, err := sv.commit(ctx, call, resp, &next, prev.Version, ev)
		switch {
		case ddb.ConditionFailedAt(err, 0) && attempt < Attempts:
			continue // another change was saved since the read: apply this one to it
		case ddb.ConditionFailedAt(err, 0):
			return none, changed()
		case twin != nil || err != nil:
			return deref(twin), err
		}
		slog.InfoContext(ctx, "settings saved", "tenant_id", r.TenantID, "version", next.Version, "event_id", ev.ID)
		return resp, nil
	}
}

// commit writes next (if the stored version is still prev), its event and, with a key, the
// record that resp answers it, in one transaction. When a twin request with the same key
// committed first, it returns the twin's response. A failed condition on the settings comes
// back as it is (ddb.ConditionFailedAt(err, 0)).
func (sv *Service) commit(ctx context.Context, call *idempotency.Call, resp events.APIGatewayV2HTTPResponse, next *Stored, prev int64, ev *audit.Event) (*events.APIGatewayV2HTTPResponse, error) {
	put, err := sv.Store.PutTx(next, prev)
	if err != nil {
		return nil, err
	}
	record, err := sv.Keys.PutTx(sv.AuditTable, ev, sv.Retention)
	if err != nil {
		return nil, fmt.Errorf("save settings: %w", err)
	}
	tx := []types.TransactWriteItem{put, record}
	if call != nil {
		ip, err := sv.Idem.PutTx(call, resp)
		if err != nil {
			return nil, err
		}
		tx = append(tx, ip)
	}
	_, err = sv.Store.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
	switch {
	case err == nil:
		return nil, nil
	case call != nil && ddb.ConditionFailedAt(err, 2): // before the settings' condition: a twin changes both
		twin, rerr := sv.Idem.Replay(ctx, call)
		if twin == nil && rerr == nil { // the twin's record expired in between: vanishingly rare
			rerr = fault.New(fault.Conflict, "idempotency_key_in_use", "A request with this Idempotency-Key is being processed; retry in a moment.")
		}
		return twin, rerr
	case ddb.ConditionFailedAt(err, 0):
		return nil, err
	}
	return nil, ddb.Translate("save settings", err, ddb.Meaning{})
}

// changed is the answer when the settings changed after the version the client (or every
// attempt) read.
func changed() error {
	return fault.New(fault.Conflict, "settings_changed", "The settings changed meanwhile; read them with GET /v1/settings and try again.")
}

func deref(r *events.APIGatewayV2HTTPResponse) events.APIGatewayV2HTTPResponse {
	if r == nil {
		return events.APIGatewayV2HTTPResponse{}
	}
	return *r
}
