package contact

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/fault"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/idempotency"
	"github.com/contrail/contrail/shared/pii"
)

// Erased is the 200 body of POST /v1/contacts/{id}/erase.
type Erased struct {
	ID       ID     `json:"id"`
	ErasedAt string `json:"erasedAt"`
}

// eraseAttempts bounds the retries of an erasure whose transaction lost to a concurrent
// change (a merge into the contact recorded meanwhile, a version bump).
const eraseAttempts = 5

// errEraseRaced marks the data-key items of an erasure: a failed condition there means a
// merge was recorded after EraseTx read the keys.
var errEraseRaced = errors.New("a merge landed while erasing")

// Erase answers POST /v1/contacts/{id}/erase (admins): 200 {id, erasedAt}. It erases the
// personal data of the contact, whatever its status (active, archived, deleted, merged), and
// of every contact merged into it, in one transaction: their data keys destroyed
// (pii.Keyring.EraseTx, so every earlier event reads "[erased]"), their contact items
// scrubbed (name "[erased]", no email, phone or channels, erasedAt, out of ByStatus), the
// channel identities released, CONTACT_ERASED recorded. Erasing again answers the same.
func (s *Service) Erase(ctx context.Context, r *httpapi.Request) (response, error) {
	id, err := pathID(r)
	if err != nil {
		return response{}, err
	}
	return s.keyed(ctx, r, func(body []byte, call *idempotency.Call) (response, error) {
		if _, err := noBody(nil)(body); err != nil {
			return response{}, err
		}
		by := CallerOf(r)
		for attempt := 1; ; attempt++ {
			resp, err := s.erase(ctx, by, id, call)
			if (errors.Is(err, errEraseRaced) || errors.Is(err, errChanged)) && attempt < eraseAttempts {
				continue
			}
			if errors.Is(err, errEraseRaced) {
				return response{}, errChanged
			}
			return resp, err
		}
	})
}

func (s *Service) erase(ctx context.Context, by Caller, id ID, call *idempotency.Call) (response, error) {
	what := "erase contact " + string(id)
	c, ok, err := s.Store.Get(ctx, by.TenantID, id)
	if err != nil {
		return response{}, err
	}
	if !ok {
		return response{}, notFound(id)
	}
	if c.ErasedAt != "" {
		return httpapi.JSON(http.StatusOK, Erased{ID: id, ErasedAt: c.ErasedAt}), nil
	}
	if s.Keyring == nil {
		_, err := s.keys()
		return response{}, err
	}
	merged := make([]pii.ContactID, len(c.MergedFrom))
	for i, m := range c.MergedFrom {
		merged[i] = pii.ContactID(m)
	}
	keyTx, order, err := s.Keyring.EraseTx(ctx, by.TenantID, pii.ContactID(id), merged...)
	if err != nil {
		return response{}, fmt.Errorf("%s: %w", what, err)
	}
	now := s.Clock()
	at := audit.FormatTime(now)
	var writes []txItem
	scrub := func(old *Contact) error {
		next := old.clone()
		next.Version++
		next.UpdatedAt = at
		next.Name, next.Email, next.Phone, next.Channels = pii.Erased, "", "", []Channel{}
		next.ErasedAt = at
		next.StatusKey = ""
		put, err := s.Store.putChanged(next, old.Version)
		if err != nil {
			return err
		}
		writes = append(writes, put)
		for _, ch := range old.Channels {
			writes = append(writes, s.Store.releaseIdentity(by.TenantID, ch, old.ID))
		}
		return nil
	}
	if err := scrub(c); err != nil {
		return response{}, fmt.Errorf("%s: %w", what, err)
	}
	for _, m := range order[1:] {
		mc, ok, err := s.Store.Get(ctx, by.TenantID, ID(m))
		if err != nil {
			return response{}, err
		}
		if !ok || mc.ErasedAt != "" {
			continue
		}
		if err := scrub(mc); err != nil {
			return response{}, fmt.Errorf("%s: %w", what, err)
		}
	}
	for _, k := range keyTx {
		writes = append(writes, txItem{write: k, onFail: errEraseRaced})
	}
	n := len(writes) + 1
	if call != nil {
		n++
	}
	if n > MaxTransactItems {
		return response{}, fault.New(fault.Unprocessable, "erase_too_large",
			fmt.Sprintf("This erasure needs %d writes, more than one transaction holds (%d).", n, MaxTransactItems))
	}
	erased := c.clone()
	erased.Name = pii.Erased
	ev := s.event(by, "CONTACT_ERASED", erased, now, audit.SourceUser, "", nil)
	return s.commit(ctx, what, call, httpapi.JSON(http.StatusOK, Erased{ID: id, ErasedAt: at}), writes, pii.DataKey{}, ev)
}
