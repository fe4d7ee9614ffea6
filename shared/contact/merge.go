package contact

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/fault"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/idempotency"
	"github.com/contrail/contrail/shared/pii"
)

// merge merges ids[1:] into ids[0] (parsed from a checked MergeInput) in one transaction: the primary takes the union
// of the channels (their uniqueness items re-pointed to it, conditional on still pointing at
// the merged contact) and records every merged id in mergedFrom, together with the merged
// contacts' own mergedFrom (merges of merges), so its history reads all of them. Each merged
// contact becomes a tombstone with status merged and mergedInto. One CONTACT_MERGED event,
// about the primary.
func (s *Service) merge(ctx context.Context, by Caller, ids []ID, call *idempotency.Call) (response, error) {
	what := fmt.Sprintf("merge contacts %v into %s", ids[1:], ids[0])
	olds := make([]*Contact, len(ids))
	for i, id := range ids {
		c, ok, err := s.Store.Get(ctx, by.TenantID, id)
		if err != nil {
			return response{}, err
		}
		if !ok {
			return response{}, notFound(id)
		}
		if !c.Live() {
			return response{}, fault.New(fault.Conflict, "contact_not_mergeable",
				fmt.Sprintf("Contact %s was %s already and cannot take part in a merge.", id, c.Status)).With("contactId", id)
		}
		olds[i] = c
	}
	now := s.Clock()
	at := audit.FormatTime(now)
	primary := olds[0].clone()
	primary.Version++
	primary.UpdatedAt = at
	var writes []txItem
	for _, old := range olds[1:] {
		m := old.clone()
		m.Version++
		m.UpdatedAt = at
		m.setStatus(StatusMerged)
		m.MergedInto = primary.ID
		m.Channels = []Channel{}
		put, err := s.Store.putChanged(m, old.Version)
		if err != nil {
			return response{}, fmt.Errorf("%s: %w", what, err)
		}
		writes = append(writes, put)
		for _, ch := range old.Channels {
			if !primary.HasChannel(ch.Channel, ch.ExternalID) {
				primary.Channels = append(primary.Channels, ch)
			}
			move, err := s.Store.moveIdentity(&Identity{
				PK: IdentityPK(by.TenantID, ch.Channel, ch.ExternalID), ItemType: itemIdentity, TenantID: by.TenantID,
				Channel: ch.Channel, ExternalID: ch.ExternalID, ContactID: primary.ID, ConnectedAt: ch.ConnectedAt,
			}, old.ID)
			if err != nil {
				return response{}, fmt.Errorf("%s: %w", what, err)
			}
			writes = append(writes, move)
		}
		for _, id := range append([]ID{old.ID}, old.MergedFrom...) {
			if !slices.Contains(primary.MergedFrom, id) {
				primary.MergedFrom = append(primary.MergedFrom, id)
			}
		}
	}
	put, err := s.Store.putChanged(primary, olds[0].Version)
	if err != nil {
		return response{}, fmt.Errorf("%s: %w", what, err)
	}
	writes = append([]txItem{put}, writes...)
	// The primary's key item records every contact folded in (merges of merges too), so
	// erasing the primary destroys their keys as well.
	cache, err := s.keys()
	if err != nil && !s.Unsealed {
		return response{}, err
	}
	key, err := s.dataKey(ctx, cache, by.TenantID, primary.ID)
	if err != nil {
		return response{}, err
	}
	folded := make([]pii.ContactID, 0, len(primary.MergedFrom))
	for _, m := range primary.MergedFrom {
		folded = append(folded, pii.ContactID(m))
	}
	mergeTx, err := s.Keyring.MergeTx(by.TenantID, pii.ContactID(primary.ID), folded)
	if err != nil {
		return response{}, fmt.Errorf("%s: %w", what, err)
	}
	writes = append(writes, txItem{write: mergeTx, onFail: notFound(primary.ID)})
	// The writes, the event and the idempotency record must fit one transaction.
	n := len(writes) + 1 // the event
	if call != nil {
		n++ // the idempotency record
	}
	if n > MaxTransactItems {
		return response{}, fault.New(fault.Unprocessable, "merge_too_large",
			fmt.Sprintf("This merge needs %d writes, more than one transaction holds (%d); merge fewer contacts at a time.", n, MaxTransactItems))
	}
	ev := s.event(by, "CONTACT_MERGED", primary, now, audit.SourceUser, "", map[string]any{
		"primaryContactId": string(primary.ID), "mergedContactIds": mergedIDs(ids[1:]),
	})
	return s.commit(ctx, what, call, httpapi.JSON(http.StatusOK, primary.View()), writes, key, ev)
}

// mergedIDs is the event's list of merged contact ids.
func mergedIDs(ids []ID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(id)
	}
	return out
}
