package contact

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/fault"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/idempotency"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/pii"
	"github.com/contrail/contrail/shared/secret"
	"github.com/contrail/contrail/shared/tenant"
)

// Client is the DynamoDB client the service needs: the store's calls and the idempotency store's.
type Client interface {
	DB
	idempotency.DB
}

// IDs makes new ids (ident.Generator in production, a sequence in tests).
type IDs interface{ New() string }

// HistoryReader reads a contact's history (audit.Reader).
type HistoryReader interface {
	History(ctx context.Context, tenant tenant.ID, contactIDs []string, types []string, from, to time.Time, after string, limit int) ([]audit.Event, string, error)
}

// Service decides the contact actions. Every action that changes something writes the new
// state, its audit event and (with an Idempotency-Key) its response in one transaction.
type Service struct {
	Store      *Store
	Idem       *idempotency.Store
	Events     HistoryReader
	Cursors    *httpapi.Cursors
	AuditTable string
	Keys       audit.Keys
	Retention  audit.Retention
	Clock      ident.Clock
	IDs        IDs
	// Keyring seals the personal fields of every event an action writes, under the contact's
	// data key, and opens them for the history. Actions fail without one.
	Keyring *pii.Keyring
	// Unsealed is for bench/writecase.go only, to time a write with and without sealing in
	// one run: actions then create and read no data key and write their events in plaintext.
	// No function sets it.
	Unsealed bool
}

// New builds the service from its configuration and a DynamoDB client, with the system
// clock and ULID ids.
func New(cfg Config, db Client) *Service {
	return NewWith(cfg, db, ident.SystemClock, ident.NewGenerator(ident.SystemClock))
}

// NewService builds the service of a function from its configuration, with clients of
// awsCfg; a list route's cursor key is read from Secrets Manager here, once per cold start.
func NewService(awsCfg aws.Config, cfg Config) *Service {
	if cfg.CursorSecretARN != "" {
		cfg.CursorSecret = secret.MustString(awsCfg, cfg.CursorSecretARN)
	}
	s := New(cfg, dynamodb.NewFromConfig(awsCfg))
	if cfg.Keys.Table != "" {
		s.Keyring = pii.NewKeyring(awsCfg, cfg.Keys)
	}
	return s
}

// NewWith is New with an injected clock and id generator.
func NewWith(cfg Config, db Client, clock ident.Clock, ids IDs) *Service {
	keys := cfg.Audit.Keys()
	return &Service{
		Store:      &Store{DB: db, Table: cfg.ContactsTable},
		Idem:       &idempotency.Store{DB: db, Table: cfg.ContactsTable, Clock: clock},
		Events:     &audit.Reader{DB: db, Table: cfg.Audit.Table, Keys: keys},
		Cursors:    httpapi.NewCursors(cfg.CursorSecret),
		AuditTable: cfg.Audit.Table,
		Keys:       keys,
		Retention:  cfg.Audit.Retention,
		Clock:      clock,
		IDs:        ids,
	}
}

// Caller is who acts and from where: the event's actor and context.
type Caller struct {
	TenantID  tenant.ID
	UserID    string
	Name      string
	Admin     bool
	IP        string
	UserAgent string
	RequestID string
}

// CallerOf reads the caller of an API request (the tenant from the token, nowhere else).
func CallerOf(r *httpapi.Request) Caller {
	return Caller{
		TenantID: r.TenantID, UserID: r.UserID, Name: r.Name, Admin: r.Allowed(httpapi.Admin),
		IP: r.SourceIP(), UserAgent: r.UserAgent(), RequestID: r.RequestID(),
	}
}

// event returns a contact event of typ about c (as it is after the action), by the caller.
func (s *Service) event(by Caller, typ string, c *Contact, now time.Time, source, channel string, data map[string]any) *audit.Event {
	at := audit.FormatTime(now)
	if data == nil {
		data = map[string]any{}
	}
	ev := &audit.Event{
		ID: s.IDs.New(), TenantID: by.TenantID, OccurredAt: at, RecordedAt: at,
		Type: typ, Category: audit.CategoryOf(typ),
		Actor:   audit.Actor{Type: audit.ActorUser, ID: by.UserID, Name: by.Name},
		Contact: &audit.ContactRef{ID: string(c.ID), Name: c.Name},
		Source:  source, Channel: channel, Data: data,
	}
	if by.IP != "" || by.UserAgent != "" || by.RequestID != "" {
		ev.Context = &audit.Context{IP: by.IP, UserAgent: by.UserAgent, RequestID: by.RequestID}
	}
	return ev
}

// Load returns a live contact of the tenant: 404 contact_not_found when there is none or it
// was deleted, 404 contact_merged with mergedInto (the live contact it ended up in) when it
// was merged.
func (s *Service) Load(ctx context.Context, tenant tenant.ID, id ID) (*Contact, error) {
	c, ok, err := s.Store.Get(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	if !ok || c.Status == StatusDeleted || c.ErasedAt != "" {
		return nil, notFound(id)
	}
	if c.Status == StatusMerged {
		return nil, s.mergedError(ctx, c)
	}
	return c, nil
}

func notFound(id ID) error {
	return fault.New(fault.NotFound, "contact_not_found", fmt.Sprintf("There is no contact %s; check the id.", id))
}

// mergedError follows a merged contact's mergedInto chain (merges of merges) to the contact
// it lives on in, so the client is sent straight there.
func (s *Service) mergedError(ctx context.Context, c *Contact) error {
	into := c.MergedInto
	for range 20 {
		next, ok, err := s.Store.Get(ctx, c.TenantID, into)
		if err != nil {
			return err
		}
		if !ok || next.Status != StatusMerged || next.MergedInto == "" {
			break
		}
		into = next.MergedInto
	}
	return fault.New(fault.NotFound, "contact_merged",
		fmt.Sprintf("Contact %s was merged into contact %s; use that one.", c.ID, into)).With("mergedInto", into)
}

// commit writes the state changes, the events and, when the request carried an
// Idempotency-Key, resp as its stored answer, in one transaction. When a twin request with
// the same key committed first, it answers with the twin's response instead.
//
// Every event is stored with its personal fields sealed under key, the data key of its
// contact; evs themselves stay plaintext (a copy is sealed), as does resp.
func (s *Service) commit(ctx context.Context, what string, call *idempotency.Call, resp events.APIGatewayV2HTTPResponse, writes []txItem, key pii.DataKey, evs ...*audit.Event) (events.APIGatewayV2HTTPResponse, error) {
	items := append([]txItem(nil), writes...)
	for _, ev := range evs {
		sealed := *ev
		sealed.Data = maps.Clone(ev.Data)
		// CONTACT_ERASED has nothing to seal (and no key left to seal under).
		if !s.Unsealed && (len(audit.PersonalFields(ev.Type)) > 0 || ev.Contact == nil || ev.Contact.Name != pii.Erased) {
			if err := key.SealEvent(&sealed); err != nil {
				return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("%s: %w", what, err)
			}
		}
		w, err := s.Keys.PutTx(s.AuditTable, &sealed, s.Retention)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("%s: %w", what, err)
		}
		items = append(items, txItem{write: w, onFail: fmt.Errorf("event %s exists already", ev.ID)})
	}
	if call != nil {
		// The response about the contact is stored sealed under its data key: erasing the
		// contact leaves the record unreadable (a replay is then its 404).
		put := s.Idem.PutTx
		if key.Contact != "" {
			put = func(c *idempotency.Call, r events.APIGatewayV2HTTPResponse) (types.TransactWriteItem, error) {
				return s.Idem.PutSealedTx(c, r, key)
			}
		}
		w, err := put(call, resp)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("%s: %w", what, err)
		}
		items = append(items, txItem{write: w, onFail: errIdempotent})
	}
	err := s.Store.transact(ctx, what, items)
	if errors.Is(err, errIdempotent) {
		twin, err := s.idem().Replay(ctx, call)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, replayError(err)
		}
		if twin == nil { // the twin's record expired in between: vanishingly rare
			return events.APIGatewayV2HTTPResponse{}, fault.New(fault.Conflict, "idempotency_key_in_use", "A request with this Idempotency-Key is being processed; retry in a moment.")
		}
		return *twin, nil
	}
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	return resp, nil
}

// idem is the idempotency store with the service's keyring, which opens the responses
// stored sealed for a contact.
func (s *Service) idem() *idempotency.Store {
	st := *s.Idem
	if st.Keyring == nil {
		st.Keyring = s.Keyring
	}
	return &st
}

// replayError answers a replay of a response about a contact erased since as that contact's
// 404 contact_not_found, as the route itself now would.
func replayError(err error) error {
	var erased *idempotency.ErasedError
	if errors.As(err, &erased) {
		return notFound(ID(erased.Contact))
	}
	return err
}

// keys returns a fresh cache of the keyring for one request (never shared between requests).
func (s *Service) keys() (*pii.Cache, error) {
	if s.Keyring == nil {
		return nil, errors.New("no personal-data keyring configured (KEYS_TABLE, KEYS_KMS_KEY_ARN)")
	}
	return s.Keyring.NewCache(), nil
}

// dataKey returns the data key of the existing contact id through cache (see prefetchKey),
// to seal the events of an action on it: a contact erased meanwhile is 404
// contact_not_found, as after the erasure.
func (s *Service) dataKey(ctx context.Context, cache *pii.Cache, t tenant.ID, id ID) (pii.DataKey, error) {
	if s.Unsealed {
		return pii.DataKey{}, nil
	}
	k, err := cache.DataKey(ctx, t, pii.ContactID(id))
	if errors.Is(err, pii.ErrErased) {
		return pii.DataKey{}, notFound(id)
	}
	if err != nil {
		return pii.DataKey{}, fmt.Errorf("the data key of contact %s: %w", id, err)
	}
	return k, nil
}

// prefetchKey starts reading contact id's data key into a fresh cache, read-only, while the
// caller reads the contact, so that the key costs no round trip after the contact's own.
// wait returns the cache once that read is done.
func (s *Service) prefetchKey(ctx context.Context, t tenant.ID, id ID) (wait func() (*pii.Cache, error)) {
	if s.Unsealed {
		return func() (*pii.Cache, error) { return nil, nil }
	}
	cache, err := s.keys()
	if err != nil {
		return func() (*pii.Cache, error) { return nil, err }
	}
	done := make(chan error, 1)
	go func() { done <- cache.Prefetch(ctx, t, pii.ContactID(id)) }()
	return func() (*pii.Cache, error) {
		if err := <-done; err != nil {
			return nil, fmt.Errorf("the data key of contact %s: %w", id, err)
		}
		return cache, nil
	}
}
