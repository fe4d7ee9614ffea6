package pii

import (
	"context"
	"crypto/cipher"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/ddb"
	"github.com/contrail/contrail/shared/tenant"
)

// Cache is one invocation's view of the keyring: the tenant and data keys it has read so
// far. Make one per invocation (NewCache) and drop it at the end: a data key erased
// meanwhile must not linger in a warm container, so no data key is kept across invocations
// (the tenant keys a Cache unwraps are kept by the Keyring, see Keyring.TenantKeyTTL). Safe
// for concurrent use.
type Cache struct {
	ring    *Keyring
	mu      sync.Mutex
	tenants map[tenant.ID]*tenantEntry
	keys    map[keyRef]*keyEntry
}

// NewCache returns an empty cache over r.
func (r *Keyring) NewCache() *Cache {
	return &Cache{ring: r, tenants: map[tenant.ID]*tenantEntry{}, keys: map[keyRef]*keyEntry{}}
}

type keyRef struct {
	t tenant.ID
	c ContactID
}

type tenantEntry struct {
	item map[string]types.AttributeValue // as read; nil = the tenant has no key (yet)
	aead cipher.AEAD                     // once unwrapped
	err  error                           // why it does not unwrap, kept for the invocation
}

type keyState int

const (
	keyMissing keyState = iota // never created: a legacy contact
	keyPresent
	keyErased
)

type keyEntry struct {
	state   keyState
	wrapped []byte
	key     DataKey // once unwrapped
	err     error   // why it does not unwrap
}

func entryOf(item map[string]types.AttributeValue) *keyEntry {
	switch {
	case item == nil:
		return &keyEntry{state: keyMissing}
	case str(item, attrErasedAt) != "":
		return &keyEntry{state: keyErased}
	case len(bin(item, attrWrapped)) > 0:
		return &keyEntry{state: keyPresent, wrapped: bin(item, attrWrapped)}
	}
	return &keyEntry{state: keyMissing} // an item that only records merges
}

// fetch reads the data keys of refs not read yet, with their tenants' key items, in as few
// BatchGetItem calls as the batch size allows.
func (c *Cache) fetch(ctx context.Context, refs []keyRef) error {
	var pks []string
	dataPK := map[keyRef]string{}
	tenantPK := map[tenant.ID]string{}
	for _, ref := range refs {
		if _, ok := c.keys[ref]; ok {
			continue
		}
		if _, ok := dataPK[ref]; ok {
			continue
		}
		pk, err := DataKeyPK(ref.t, ref.c)
		if err != nil {
			return err
		}
		dataPK[ref] = pk
		pks = append(pks, pk)
		if _, ok := c.tenants[ref.t]; ok {
			continue
		}
		if _, ok := tenantPK[ref.t]; !ok {
			tpk, err := TenantKeyPK(ref.t)
			if err != nil {
				return err
			}
			tenantPK[ref.t] = tpk
			pks = append(pks, tpk)
		}
	}
	if len(pks) == 0 {
		return nil
	}
	items, err := c.ring.batchGet(ctx, pks)
	if err != nil {
		return err
	}
	for t, pk := range tenantPK {
		c.tenants[t] = &tenantEntry{item: items[pk]}
	}
	for ref, pk := range dataPK {
		c.keys[ref] = entryOf(items[pk])
	}
	return nil
}

// tenantKey returns tenant t's key, reading it when no fetch did, and creating it when it
// does not exist and create is set (writers; readers never need a key that was never made).
func (c *Cache) tenantKey(ctx context.Context, t tenant.ID, create bool) (cipher.AEAD, error) {
	e := c.tenants[t]
	if e == nil {
		pk, err := TenantKeyPK(t)
		if err != nil {
			return nil, err
		}
		item, err := c.ring.getItem(ctx, pk)
		if err != nil {
			return nil, err
		}
		e = &tenantEntry{item: item}
		c.tenants[t] = e
	}
	switch {
	case e.aead != nil:
		return e.aead, nil
	case e.err != nil:
		return nil, e.err
	case e.item == nil && !create:
		return nil, fmt.Errorf("tenant %s: %w: it has no key, yet data is sealed under it", t, ErrTenantKeyUnavailable)
	case e.item == nil:
		aead, err := c.ring.createTenantKey(ctx, t)
		if err != nil {
			return nil, err // not kept: a failed creation may succeed when tried again
		}
		e.aead = aead
		return aead, nil
	}
	aead, err := c.ring.unwrapTenantKey(ctx, t, e.item)
	if err != nil {
		e.err = err
		return nil, err
	}
	e.aead = aead
	return aead, nil
}

// resolve returns a present entry's data key, unwrapping it on first use.
func (c *Cache) resolve(ctx context.Context, ref keyRef, e *keyEntry) (DataKey, error) {
	if e.key.aead != nil {
		return e.key, nil
	}
	if e.err != nil {
		return DataKey{}, e.err
	}
	tk, err := c.tenantKey(ctx, ref.t, false)
	if err != nil {
		return DataKey{}, err
	}
	k, err := unwrapDataKey(tk, ref.t, ref.c, e.wrapped)
	if err != nil {
		e.err = err
		return DataKey{}, err
	}
	e.key = k
	return k, nil
}

// KeyWrites are the transaction items that store a new data key (Cache.Create).
type KeyWrites struct {
	// Put writes the data key's item; it fails if the contact has one already.
	Put types.TransactWriteItem
	// Check, when set, holds only if the tenant's key item still holds the key Put's key is
	// wrapped under: set when that key came from what the keyring keeps across requests
	// instead of a read. Its failure means ErrTenantKeyChanged.
	Check *types.TransactWriteItem
}

// Items returns the writes in transaction order: Put, then Check when set.
func (w KeyWrites) Items() []types.TransactWriteItem {
	if w.Check == nil {
		return []types.TransactWriteItem{w.Put}
	}
	return []types.TransactWriteItem{w.Put, *w.Check}
}

// Create returns a new data key for a contact being created, and the transaction items that
// store it: add them to the transaction that writes the contact and its first event, and
// seal that event with the key. The tenant key is the one the keyring keeps, checked by
// KeyWrites.Check in the same transaction instead of read before it; without one it is
// read (and created on first use, race-safe: a writer that loses the race uses the
// winner's). The key is not kept in the cache: it exists only once the transaction commits.
func (c *Cache) Create(ctx context.Context, t tenant.ID, id ContactID) (DataKey, KeyWrites, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	what := fmt.Sprintf("create the data key of contact %s", id)
	pk, err := DataKeyPK(t, id)
	if err != nil {
		return DataKey{}, KeyWrites{}, fmt.Errorf("%s: %w", what, err)
	}
	var w KeyWrites
	tk, kept := c.ring.keptTenantKeyOf(t)
	if tk != nil && c.tenants[t] == nil {
		tpk, err := TenantKeyPK(t)
		if err != nil {
			return DataKey{}, KeyWrites{}, fmt.Errorf("%s: %w", what, err)
		}
		w.Check = &types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
			TableName: aws.String(c.ring.Table), Key: keyOf(tpk),
			ConditionExpression:       aws.String("#w = :w"),
			ExpressionAttributeNames:  map[string]string{"#w": attrWrapped},
			ExpressionAttributeValues: map[string]types.AttributeValue{":w": &types.AttributeValueMemberB{Value: kept}},
		}}
	} else if tk, err = c.tenantKey(ctx, t, true); err != nil {
		return DataKey{}, KeyWrites{}, fmt.Errorf("%s: %w", what, err)
	}
	k, wrapped, err := newDataKey(tk, t, id)
	if err != nil {
		return DataKey{}, KeyWrites{}, fmt.Errorf("%s: %w", what, err)
	}
	w.Put = types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(c.ring.Table),
		Item: map[string]types.AttributeValue{
			attrPK: s(pk), attrType: s(itemDataKey), attrTenant: s(string(t)), attrContact: s(string(id)),
			attrWrapped: &types.AttributeValueMemberB{Value: wrapped}, attrCreatedAt: s(c.ring.now()),
		},
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}
	return k, w, nil
}

// newDataKey makes a random data key for contact id and wraps it under the tenant key tk.
func newDataKey(tk cipher.AEAD, t tenant.ID, id ContactID) (DataKey, []byte, error) {
	raw, err := newKey()
	if err != nil {
		return DataKey{}, nil, err
	}
	wrapped, err := wrapDataKey(tk, t, id, raw)
	if err != nil {
		return DataKey{}, nil, err
	}
	aead, err := newAEAD(raw)
	if err != nil {
		return DataKey{}, nil, err
	}
	return DataKey{Tenant: t, Contact: id, aead: aead}, wrapped, nil
}

// Prefetch reads the data keys of contacts ids of tenant t (with the tenant's key item) into
// the cache, creating nothing: a writer starts it beside its own read of the contact, so that
// DataKey then answers from the cache instead of a read after it.
func (c *Cache) Prefetch(ctx context.Context, t tenant.ID, ids ...ContactID) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	refs := make([]keyRef, len(ids))
	for i, id := range ids {
		if _, err := DataKeyPK(t, id); err != nil {
			return fmt.Errorf("prefetch data keys: %w", err)
		}
		refs[i] = keyRef{t, id}
	}
	if err := c.fetch(ctx, refs); err != nil {
		return fmt.Errorf("prefetch data keys: %w", err)
	}
	return nil
}

// DataKey returns the data key of an existing contact, for a writer sealing an event about
// it. A contact from before sealing has none yet: it is created (and kept) on the spot, by
// a conditional write that a concurrent creator or eraser wins. ErrErased when the contact
// was erased.
func (c *Cache) DataKey(ctx context.Context, t tenant.ID, id ContactID) (DataKey, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	what := fmt.Sprintf("data key of contact %s", id)
	pk, err := DataKeyPK(t, id)
	if err != nil {
		return DataKey{}, fmt.Errorf("%s: %w", what, err)
	}
	ref := keyRef{t, id}
	if err := c.fetch(ctx, []keyRef{ref}); err != nil {
		return DataKey{}, fmt.Errorf("%s: %w", what, err)
	}
	e := c.keys[ref]
	if k, done, err := c.known(ctx, ref, e); done {
		if err != nil {
			return DataKey{}, fmt.Errorf("%s: %w", what, err)
		}
		return k, nil
	}
	tk, err := c.tenantKey(ctx, t, true)
	if err != nil {
		return DataKey{}, fmt.Errorf("%s: %w", what, err)
	}
	k, wrapped, err := newDataKey(tk, t, id)
	if err != nil {
		return DataKey{}, fmt.Errorf("%s: %w", what, err)
	}
	_, err = c.ring.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(c.ring.Table),
		Key:                 keyOf(pk),
		UpdateExpression:    aws.String("SET wrappedKey = :wrapped, itemType = :type, tenantId = :tenant, contactId = :contact, createdAt = :now"),
		ConditionExpression: aws.String("attribute_not_exists(wrappedKey) AND attribute_not_exists(erasedAt)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":wrapped": &types.AttributeValueMemberB{Value: wrapped}, ":type": s(itemDataKey),
			":tenant": s(string(t)), ":contact": s(string(id)), ":now": s(c.ring.now()),
		},
	})
	if err == nil {
		c.keys[ref] = &keyEntry{state: keyPresent, wrapped: wrapped, key: k}
		return k, nil
	}
	if !ddb.ConditionFailed(err) {
		return DataKey{}, ddb.Translate("create the "+what, err, ddb.Meaning{})
	}
	// Created or erased meanwhile: read what won.
	item, err := c.ring.getItem(ctx, pk)
	if err != nil {
		return DataKey{}, fmt.Errorf("%s: %w", what, err)
	}
	e = entryOf(item)
	c.keys[ref] = e
	if k, done, err := c.known(ctx, ref, e); done {
		if err != nil {
			return DataKey{}, fmt.Errorf("%s: %w", what, err)
		}
		return k, nil
	}
	return DataKey{}, fmt.Errorf("%s: its creation was refused, yet it holds no key", what)
}

// known answers for a key entry that is settled: erased (ErrErased) or present (the key);
// done is false for a contact that has no key yet.
func (c *Cache) known(ctx context.Context, ref keyRef, e *keyEntry) (k DataKey, done bool, err error) {
	switch e.state {
	case keyErased:
		return DataKey{}, true, ErrErased
	case keyPresent:
		k, err := c.resolve(ctx, ref, e)
		return k, true, err
	}
	return DataKey{}, false, nil
}

// Value is one personal value as stored, with what it was sealed for: OpenValues' unit, for
// readers that hold rows rather than events (the archive's contact_name and data columns).
type Value struct {
	Tenant    tenant.ID
	ContactID string // the event's contact.id, as stored
	EventID   string
	Field     string // audit.ContactNameField, or DataField(name)
	// V is the stored value on the way in; on the way out, its plaintext, or Erased. A value
	// that is not sealed (plaintext from before sealing) is left as it is, and so is one
	// that failed to open.
	V any
}

// maxReported bounds the errors OpenValues reports one by one.
const maxReported = 5

// OpenValues opens every sealed value of vals in place. The data keys of all their contacts
// (and their tenants' key items) are read at once, in batches, and kept in the cache. A
// value of an erased contact becomes Erased. Values that cannot be opened (ErrTampered,
// ErrDataKeyLost, ErrTenantKeyUnavailable) stay sealed and are reported together in the
// error, after every other value was opened; a storage error fails the call.
func (c *Cache) OpenValues(ctx context.Context, vals []Value) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	refs := make([]keyRef, len(vals))
	var need []keyRef
	var errs []error
	failed, sealed := 0, 0
	fail := func(v *Value, err error) {
		failed++
		if len(errs) < maxReported {
			errs = append(errs, fmt.Errorf("open %s of event %s (contact %s): %w", v.Field, v.EventID, v.ContactID, err))
		}
	}
	for i := range vals {
		v := &vals[i]
		if !IsSealed(v.V) {
			continue
		}
		sealed++
		id, err := ParseContactID(v.ContactID)
		if err != nil || !v.Tenant.Valid() {
			fail(v, fmt.Errorf("%w: sealed, but not for a tenant's contact", ErrTampered))
			continue
		}
		refs[i] = keyRef{v.Tenant, id}
		need = append(need, refs[i])
	}
	if len(need) > 0 {
		if err := c.fetch(ctx, need); err != nil {
			return fmt.Errorf("open personal fields: %w", err)
		}
	}
	for i := range vals {
		v := &vals[i]
		if refs[i].c == "" {
			continue
		}
		e := c.keys[refs[i]]
		switch e.state {
		case keyErased:
			v.V = Erased
			continue
		case keyMissing:
			fail(v, ErrDataKeyLost)
			continue
		}
		k, err := c.resolve(ctx, refs[i], e)
		if err != nil {
			fail(v, err)
			continue
		}
		plain, err := k.open(v.EventID, v.Field, v.V.(string))
		if err != nil {
			fail(v, err)
			continue
		}
		v.V = plain
	}
	switch {
	case failed == 0:
		return nil
	case failed > len(errs):
		errs = append(errs, fmt.Errorf("and %d more", failed-len(errs)))
	}
	return fmt.Errorf("open personal fields: %d of %d sealed values failed: %w", failed, sealed, errors.Join(errs...))
}

// Open opens the personal fields of events in place (see OpenValues): contact.name and the
// data fields audit.PersonalFields names. Plaintext fields are left as they are; a field of
// an erased contact becomes Erased (a string, whatever the field's kind); an event whose
// fields fail to open keeps them sealed and is named in the error.
func (c *Cache) Open(ctx context.Context, events []audit.Event) error {
	type slot struct {
		event int
		data  string // the data field; "" = contact.name
	}
	var vals []Value
	var slots []slot
	for i := range events {
		e := &events[i]
		contact := ""
		if e.Contact != nil {
			contact = e.Contact.ID
			if IsSealed(e.Contact.Name) {
				vals = append(vals, Value{Tenant: e.TenantID, ContactID: contact, EventID: e.ID, Field: audit.ContactNameField, V: e.Contact.Name})
				slots = append(slots, slot{event: i})
			}
		}
		for _, name := range audit.PersonalFields(e.Type) {
			if v, ok := e.Data[name]; ok && IsSealed(v) {
				vals = append(vals, Value{Tenant: e.TenantID, ContactID: contact, EventID: e.ID, Field: DataField(name), V: v})
				slots = append(slots, slot{event: i, data: name})
			}
		}
	}
	if len(vals) == 0 {
		return nil
	}
	err := c.OpenValues(ctx, vals)
	for j, sl := range slots {
		e := &events[sl.event]
		if sl.data != "" {
			e.Data[sl.data] = vals[j].V
			continue
		}
		if name, ok := vals[j].V.(string); ok {
			// A copy: the ContactRef may be shared with another event.
			e.Contact = &audit.ContactRef{ID: e.Contact.ID, Name: name}
		}
	}
	return err
}
