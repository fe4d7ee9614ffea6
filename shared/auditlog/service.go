// Package auditlog serves the tenant audit log routes: ingest of platform and co-browsing
// events, the audit log query and the co-browsing session read. Storage and reads are
// package audit's; this package is the HTTP contract around them.
package auditlog

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/idempotency"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/pii"
	"github.com/contrail/contrail/shared/secret"
	"github.com/contrail/contrail/shared/settings"
)

// DB is the part of the DynamoDB client the routes use.
type DB interface {
	audit.QueryAPI
	audit.TransactWriteAPI
	idempotency.DB
}

var _ DB = (*dynamodb.Client)(nil)

// Service answers the audit log routes.
type Service struct {
	DB        DB
	Config    Config
	Reader    *audit.Reader
	Writer    *audit.Writer
	Idem      *idempotency.Store
	Settings  *settings.Store // co-browsing ingest reads whether INPUT text may stay clear
	Cursors   *httpapi.Cursors
	Clock     ident.Clock
	IDs       *ident.Generator
	Keys      audit.Keys
	Retention audit.Retention
	// Keyring opens the personal fields of the events a read returns (nil: the function has
	// no personal-data keys, and a sealed value fails the read).
	Keyring *pii.Keyring
}

// New builds the service over db with clock.
func New(cfg Config, db DB, clock ident.Clock) *Service {
	keys := audit.Keys{Shards: max(cfg.Audit.Shards, 1)}
	return &Service{
		DB:        db,
		Config:    cfg,
		Reader:    &audit.Reader{DB: db, Table: cfg.Audit.Table, Keys: keys},
		Writer:    &audit.Writer{DB: db, Table: cfg.Audit.Table, Keys: keys, Retention: cfg.Audit.Retention},
		Idem:      &idempotency.Store{DB: db, Table: cfg.ContactsTable, Clock: clock},
		Settings:  &settings.Store{DB: db, Table: cfg.ContactsTable},
		Cursors:   httpapi.NewCursors(cfg.CursorSecret),
		Clock:     clock,
		IDs:       ident.NewGenerator(clock),
		Keys:      keys,
		Retention: cfg.Audit.Retention,
	}
}

// NewService builds the service of a function from its configuration, with clients of
// awsCfg and the system clock; a read route's cursor key is read from Secrets Manager here,
// once per cold start.
func NewService(awsCfg aws.Config, cfg Config) *Service {
	if cfg.CursorSecretARN != "" {
		cfg.CursorSecret = secret.MustString(awsCfg, cfg.CursorSecretARN)
	}
	s := New(cfg, dynamodb.NewFromConfig(awsCfg), ident.SystemClock)
	if cfg.Keys.Table != "" {
		s.Keyring = pii.NewKeyring(awsCfg, cfg.Keys)
	}
	return s
}

// open opens the personal fields of a page of events in place, the one place the read
// routes decrypt: one cache per request (an erased key never lingers in a warm container),
// the keys of the whole page fetched at once. A field of an erased contact reads
// pii.Erased; a tenant key that does not unwrap, a lost data key or a tampered value is an
// error (a 500, logged at ERROR by httpapi.Route), never "[erased]".
func (s *Service) open(ctx context.Context, tenant string, evs []audit.Event) error {
	if s.Keyring == nil {
		for i := range evs {
			if sealedFields(&evs[i]) {
				return fmt.Errorf("read the audit log of tenant %s: event %s holds sealed personal fields, and this function has no personal-data keys", tenant, evs[i].ID)
			}
		}
		return nil
	}
	if err := s.Keyring.NewCache().Open(ctx, evs); err != nil {
		return fmt.Errorf("read the audit log of tenant %s: %w", tenant, err)
	}
	return nil
}

// sealedFields reports whether e holds a sealed personal field.
func sealedFields(e *audit.Event) bool {
	if e.Contact != nil && pii.IsSealed(e.Contact.Name) {
		return true
	}
	for _, name := range audit.PersonalFields(e.Type) {
		if pii.IsSealed(e.Data[name]) {
			return true
		}
	}
	return false
}

// recordView records AUDIT_LOG_VIEWED for the caller with the filters it used: one PutItem,
// after the read it records succeeded.
func (s *Service) recordView(ctx context.Context, r *httpapi.Request, filters map[string]any) error {
	now := audit.FormatTime(s.Clock())
	e := audit.Event{
		ID: s.IDs.New(), TenantID: r.TenantID, OccurredAt: now, RecordedAt: now,
		Type: "AUDIT_LOG_VIEWED", Category: audit.CategoryAccess,
		Actor:   audit.Actor{Type: audit.ActorUser, ID: r.UserID, Name: r.Name},
		Source:  audit.SourceUser,
		Data:    map[string]any{"filters": filters},
		Context: requestContext(r),
	}
	item, err := s.Keys.Item(&e, s.Retention)
	if err != nil {
		return err
	}
	if _, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.Config.Audit.Table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}); err != nil {
		return fmt.Errorf("record audit log view %s: %w", e.ID, err)
	}
	return nil
}

func requestContext(r *httpapi.Request) *audit.Context {
	c := &audit.Context{IP: r.SourceIP(), UserAgent: r.UserAgent(), RequestID: r.RequestID()}
	if *c == (audit.Context{}) {
		return nil
	}
	return c
}

// idProblem says what is wrong with an identifier sent by a caller (actor, contact, session),
// or "" when it is fine: 1-200 characters, no control characters.
func idProblem(s string) string {
	n := utf8.RuneCountInString(s)
	switch {
	case !utf8.ValidString(s):
		return "must be valid UTF-8"
	case n == 0:
		return "must not be empty"
	case n > 200:
		return "must be at most 200 characters"
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "must not contain control characters"
	}
	return ""
}
