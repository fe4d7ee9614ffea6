package contact

import (
	"context"
	"fmt"
	"net/http"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/idempotency"
)

// Add creates a contact from a validated input (in.Source set by the caller: manual, api,
// incoming_message or import) and records CONTACT_ADDED, plus CONTACT_CONNECTED when a
// channel identity is given, in one transaction. The import route uses it row by row.
func (s *Service) Add(ctx context.Context, by Caller, in CreateInput) (*Contact, error) {
	c, writes, evs, err := s.planAdd(by, in)
	if err != nil {
		return nil, err
	}
	if _, err := s.commit(ctx, "add contact", nil, response{}, writes, evs...); err != nil {
		return nil, err
	}
	return c, nil
}

func (s *Service) add(ctx context.Context, by Caller, in CreateInput, call *idempotency.Call) (response, error) {
	c, writes, evs, err := s.planAdd(by, in)
	if err != nil {
		return response{}, err
	}
	return s.commit(ctx, "add contact", call, httpapi.JSON(http.StatusCreated, c.View()), writes, evs...)
}

func (s *Service) planAdd(by Caller, in CreateInput) (*Contact, []txItem, []*audit.Event, error) {
	now := s.Clock()
	at := audit.FormatTime(now)
	id := s.IDs.New()
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
			return nil, nil, nil, err
		}
		writes = append(writes, w)
	}
	put, err := s.Store.putNew(c)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("add contact: %w", err)
	}
	writes = append([]txItem{put}, writes...)
	evs := []*audit.Event{s.event(by, "CONTACT_ADDED", c, now, in.Source, in.Channel, data)}
	if in.ExternalID != "" {
		connectSource := in.Source
		if connectSource == audit.SourceImport {
			connectSource = audit.SourceManual
		}
		evs = append(evs, s.event(by, "CONTACT_CONNECTED", c, now, connectSource, in.Channel, map[string]any{"externalId": in.ExternalID}))
	}
	return c, writes, evs, nil
}
