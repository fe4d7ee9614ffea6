package contact

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/fault"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/idempotency"
	"github.com/contrail/contrail/shared/pii"
)

// Add creates a contact from a validated input (in.Source set by the caller: manual, api,
// incoming_message or import) and records CONTACT_ADDED, plus CONTACT_CONNECTED when a
// channel identity is given, in one transaction. The import route uses it row by row.
func (s *Service) Add(ctx context.Context, by Caller, in CreateInput) (*Contact, error) {
	var c *Contact
	_, err := s.addOnce(ctx, by, func() (response, error) {
		added, writes, key, evs, err := s.planAdd(ctx, by, in)
		if err != nil {
			return response{}, err
		}
		c = added
		return s.commit(ctx, "add contact", nil, response{}, writes, key, evs...)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (s *Service) add(ctx context.Context, by Caller, in CreateInput, call *idempotency.Call) (response, error) {
	return s.addOnce(ctx, by, func() (response, error) {
		c, writes, key, evs, err := s.planAdd(ctx, by, in)
		if err != nil {
			return response{}, err
		}
		return s.commit(ctx, "add contact", call, httpapi.JSON(http.StatusCreated, c.View()), writes, key, evs...)
	})
}

// addOnce runs an add (plan and commit), and once more when the tenant key it sealed under,
// kept by the keyring across requests, turned out to be no longer the tenant's (the
// transaction wrote nothing then): the second plan reads the key item.
func (s *Service) addOnce(ctx context.Context, by Caller, run func() (response, error)) (response, error) {
	resp, err := run()
	if errors.Is(err, pii.ErrTenantKeyChanged) && s.Keyring != nil {
		slog.WarnContext(ctx, "the tenant's kept personal-data key is no longer its key item's; adding again after reading it", "tenant_id", by.TenantID)
		s.Keyring.ForgetTenantKey(by.TenantID)
		resp, err = run()
	}
	return resp, err
}

// planAdd decides an add: the contact, its writes (the contact, its new data key, the
// channel identity), the events and the key they are sealed under.
func (s *Service) planAdd(ctx context.Context, by Caller, in CreateInput) (*Contact, []txItem, pii.DataKey, []*audit.Event, error) {
	now := s.Clock()
	at := audit.FormatTime(now)
	id := ID(s.IDs.New()) // made here, so of the form
	c := &Contact{
		PK: ContactPK(by.TenantID, id), ItemType: itemContact, ID: id, TenantID: by.TenantID,
		Name: in.Name, Channels: []Channel{}, CreatedAt: at, UpdatedAt: at, Version: 1,
		CreatedBy: by.UserID, CreatedKey: CreatedKey(at, id),
	}
	if in.Email != nil {
		c.Email = *in.Email
	}
	if in.Phone != nil {
		c.Phone = *in.Phone
	}
	c.setStatus(StatusActive)
	data := map[string]any{}
	if c.Email != "" {
		data["email"] = c.Email
	}
	if c.Phone != "" {
		data["phone"] = c.Phone
	}
	var writes []txItem
	if in.ExternalID != "" {
		c.Channels = append(c.Channels, Channel{Channel: in.Channel, ExternalID: in.ExternalID, ConnectedAt: at})
		w, err := s.Store.claimIdentity(&Identity{
			PK: IdentityPK(by.TenantID, in.Channel, in.ExternalID), ItemType: itemIdentity, TenantID: by.TenantID,
			Channel: in.Channel, ExternalID: in.ExternalID, ContactID: id, ConnectedAt: at,
		})
		if err != nil {
			return nil, nil, pii.DataKey{}, nil, err
		}
		writes = append(writes, w)
	}
	put, err := s.Store.putNew(c)
	if err != nil {
		return nil, nil, pii.DataKey{}, nil, fmt.Errorf("add contact: %w", err)
	}
	var key pii.DataKey
	if s.Unsealed {
		writes = append([]txItem{put}, writes...)
	} else {
		cache, err := s.keys()
		if err != nil {
			return nil, nil, pii.DataKey{}, nil, fmt.Errorf("add contact: %w", err)
		}
		var kw pii.KeyWrites
		key, kw, err = cache.Create(ctx, by.TenantID, pii.ContactID(id))
		if err != nil {
			return nil, nil, pii.DataKey{}, nil, fmt.Errorf("add contact: %w", err)
		}
		// Right after the contact's put: when both exist (an import's retry), the contact's
		// contact_exists is the failure reported.
		keyWrites := []txItem{put, {write: kw.Put, onFail: errContactExists}}
		if kw.Check != nil {
			keyWrites = append(keyWrites, txItem{write: *kw.Check, onFail: pii.ErrTenantKeyChanged})
		}
		writes = append(keyWrites, writes...)
	}
	evs := []*audit.Event{s.event(by, "CONTACT_ADDED", c, now, in.Source, in.Channel, data)}
	if in.ExternalID != "" {
		connectSource := in.Source
		if connectSource == audit.SourceImport {
			connectSource = audit.SourceManual
		}
		evs = append(evs, s.event(by, "CONTACT_CONNECTED", c, now, connectSource, in.Channel, map[string]any{"externalId": in.ExternalID}))
	}
	return c, writes, key, evs, nil
}

// MaxChannels caps the channel identities of one contact, so that deleting or merging it
// always fits one transaction (DynamoDB allows 100 writes in one).
const MaxChannels = 50

// outcome is what an action on one contact decided: extra writes beside the contact's own,
// the events, the response; noop answers without writing anything.
type outcome struct {
	extra  []txItem
	events []*audit.Event
	resp   response
	noop   bool
}

// decide changes next (a copy of old with the version and updatedAt already bumped).
type decide func(old, next *Contact, now time.Time) (outcome, error)

// act runs one action on the live contact id (the route's {id}, parsed before anything was
// read) of the caller's tenant: load it, decide, and write the new contact version
// (conditional on the version read), the extra writes, the events and the idempotency record
// in one transaction.
func (s *Service) act(ctx context.Context, r *httpapi.Request, id ID, call *idempotency.Call, what string, d decide) (response, error) {
	keys := s.prefetchKey(ctx, r.TenantID, id)
	old, err := s.Load(ctx, r.TenantID, id)
	cache, kerr := keys()
	if err != nil {
		return response{}, err
	}
	if kerr != nil {
		return response{}, kerr
	}
	now := s.Clock()
	next := old.clone()
	next.Version = old.Version + 1
	next.UpdatedAt = audit.FormatTime(now)
	o, err := d(old, next, now)
	if err != nil || o.noop {
		return o.resp, err
	}
	put, err := s.Store.putChanged(next, old.Version)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", what, id, err)
	}
	key, err := s.dataKey(ctx, cache, r.TenantID, id)
	if err != nil {
		return response{}, err
	}
	return s.commit(ctx, what+" "+string(id), call, o.resp, append([]txItem{put}, o.extra...), key, o.events...)
}

// update applies a PATCH.
func (s *Service) update(by Caller, in UpdateInput) decide {
	return func(old, next *Contact, now time.Time) (outcome, error) {
		changes := map[string]any{}
		set := func(field string, v *string, cur *string) {
			if !in.Sets(field) {
				return
			}
			to := ""
			if v != nil {
				to = *v
			}
			if to == *cur {
				return
			}
			changes[field] = map[string]any{"from": orNil(*cur), "to": orNil(to)}
			*cur = to
		}
		set("name", in.Name, &next.Name)
		set("email", in.Email, &next.Email)
		set("phone", in.Phone, &next.Phone)
		if len(changes) == 0 { // nothing changes: answer with the contact as it is, record nothing
			return outcome{noop: true, resp: httpapi.JSON(http.StatusOK, old.View())}, nil
		}
		ev := s.event(by, "CONTACT_UPDATED", next, now, audit.SourceUser, "", map[string]any{"changes": changes})
		return outcome{events: []*audit.Event{ev}, resp: httpapi.JSON(http.StatusOK, next.View())}, nil
	}
}

func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// connect adds a channel identity, claiming its uniqueness item.
func (s *Service) connect(by Caller, in ConnectInput) decide {
	return func(old, next *Contact, now time.Time) (outcome, error) {
		if old.HasChannel(in.Channel, in.ExternalID) {
			return outcome{}, fault.New(fault.Conflict, "channel_already_connected", "This contact is connected to this channel identity already.")
		}
		if len(old.Channels) >= MaxChannels {
			return outcome{}, fault.New(fault.Unprocessable, "too_many_channels", fmt.Sprintf("A contact can hold at most %d channel identities; remove one or use another contact.", MaxChannels))
		}
		at := audit.FormatTime(now)
		next.Channels = append(next.Channels, Channel{Channel: in.Channel, ExternalID: in.ExternalID, ConnectedAt: at})
		claim, err := s.Store.claimIdentity(&Identity{
			PK: IdentityPK(by.TenantID, in.Channel, in.ExternalID), ItemType: itemIdentity, TenantID: by.TenantID,
			Channel: in.Channel, ExternalID: in.ExternalID, ContactID: old.ID, ConnectedAt: at,
		})
		if err != nil {
			return outcome{}, err
		}
		ev := s.event(by, "CONTACT_CONNECTED", next, now, in.Source, in.Channel, map[string]any{"externalId": in.ExternalID})
		return outcome{extra: []txItem{claim}, events: []*audit.Event{ev}, resp: httpapi.JSON(http.StatusCreated, next.View())}, nil
	}
}

// setStatus archives (active -> archived) or unarchives (archived -> active).
func (s *Service) setStatus(by Caller, from, to, typ string, wrong *fault.Error) decide {
	return func(old, next *Contact, now time.Time) (outcome, error) {
		if old.Status != from {
			return outcome{}, wrong
		}
		next.setStatus(to)
		ev := s.event(by, typ, next, now, audit.SourceUser, "", nil)
		return outcome{events: []*audit.Event{ev}, resp: httpapi.JSON(http.StatusOK, next.View())}, nil
	}
}

// remove deletes a contact: the item stays as a tombstone (status deleted, out of the
// ByStatus index, name and mergedFrom kept for the history; email and phone dropped) and its
// channel identities are released so they can be connected to another contact.
func (s *Service) remove(by Caller) decide {
	return func(old, next *Contact, now time.Time) (outcome, error) {
		next.setStatus(StatusDeleted)
		next.Email, next.Phone, next.Channels = "", "", []Channel{}
		var extra []txItem
		for _, ch := range old.Channels {
			extra = append(extra, s.Store.releaseIdentity(by.TenantID, ch, old.ID))
		}
		ev := s.event(by, "CONTACT_DELETED", old, now, audit.SourceUser, "", nil)
		return outcome{extra: extra, events: []*audit.Event{ev}, resp: httpapi.NoContent()}, nil
	}
}

// queued is the 202 of an action whose email the mailer sends from the audit stream.
type queued struct {
	EventID string `json:"eventId"`
	Status  string `json:"status"`
}

// request records an email request event (invite, message, share): the mailer sends it.
func (s *Service) request(by Caller, typ string, data func(old *Contact) (map[string]any, error)) decide {
	return func(old, next *Contact, now time.Time) (outcome, error) {
		d, err := data(old)
		if err != nil {
			return outcome{}, err
		}
		ev := s.event(by, typ, next, now, audit.SourceUser, "", d)
		return outcome{events: []*audit.Event{ev}, resp: httpapi.JSON(http.StatusAccepted, queued{EventID: ev.ID, Status: "queued"})}, nil
	}
}

var errNoEmail = fault.New(fault.Unprocessable, "contact_has_no_email", "The contact has no email address; add one with PATCH /v1/contacts/{id} first.")

// Comment is the 201 body of a comment.
type Comment struct {
	ID        string      `json:"id"`
	Text      string      `json:"text"`
	CreatedAt string      `json:"createdAt"`
	Author    audit.Actor `json:"author"`
}

func (s *Service) comment(by Caller, text string) decide {
	return func(old, next *Contact, now time.Time) (outcome, error) {
		ev := s.event(by, "COMMENT_ADDED", next, now, audit.SourceUser, "", map[string]any{"text": text})
		c := Comment{ID: ev.ID, Text: text, CreatedAt: ev.OccurredAt, Author: ev.Actor}
		return outcome{events: []*audit.Event{ev}, resp: httpapi.JSON(http.StatusCreated, c)}, nil
	}
}
