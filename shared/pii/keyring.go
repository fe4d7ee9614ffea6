package pii

import (
	"context"
	"crypto/cipher"
	crand "crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/ddb"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/retry"
	"github.com/contrail/contrail/shared/tenant"
)

// KeysTable's items (one key attribute, pk):
//
//	tenant key  pk         T#<tenant>#TK
//	            itemType   "tenantKey"
//	            tenantId   <tenant>
//	            wrappedKey B: the tenant's 256-bit key as the Wrapper wrapped it
//	            createdAt  audit.TimeLayout
//
//	data key    pk         T#<tenant>#DK#<contactId>
//	            itemType   "dataKey"
//	            tenantId, contactId
//	            wrappedKey B: nonce (12) ‖ AES-256-GCM of the contact's 256-bit key under the
//	                       tenant key, AAD "<tenant>|<contactId>"; absent once erased
//	            createdAt  when the key was made (absent on an item that only records merges)
//	            mergedFrom SS: the contacts merged into this one (MergeTx), erased with it
//	            erasedAt   when the key was destroyed (EraseTx): erased on purpose, provably
//
// A data key item without wrappedKey and without erasedAt (or no item) is a contact that never
// had a key: a legacy contact whose events are all plaintext.
const (
	attrPK        = "pk"
	attrType      = "itemType"
	attrTenant    = "tenantId"
	attrContact   = "contactId"
	attrWrapped   = "wrappedKey"
	attrCreatedAt = "createdAt"
	attrMerged    = "mergedFrom"
	attrErasedAt  = "erasedAt"

	itemTenantKey = "tenantKey"
	itemDataKey   = "dataKey"
)

// TenantKeyPK is the key of tenant t's tenant key item.
func TenantKeyPK(t tenant.ID) (string, error) {
	if !t.Valid() {
		return "", fmt.Errorf("tenant key of %q: not a tenant id", t)
	}
	return "T#" + string(t) + "#TK", nil
}

// DataKeyPK is the key of contact c's data key item.
func DataKeyPK(t tenant.ID, c ContactID) (string, error) {
	if !t.Valid() || !c.Valid() {
		return "", fmt.Errorf("data key of tenant %q, contact %q: not a tenant and contact id", t, c)
	}
	return "T#" + string(t) + "#DK#" + string(c), nil
}

// DB is the part of the DynamoDB client the keyring uses.
type DB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

var _ DB = (*dynamodb.Client)(nil)

// Keyring keeps the tenant and data keys in KeysTable. An invocation reads them through a
// Cache of its own (NewCache); the keyring itself keeps only unwrapped tenant keys, for
// TenantKeyTTL, so that a warm container does not call KMS once per request (see the package
// comment for why tenant keys may be kept and data keys may not). Make one per process.
type Keyring struct {
	DB      DB
	Table   string // KeysTable
	Wrapper Wrapper
	Clock   ident.Clock // nil = ident.SystemClock
	// TenantKeyTTL is how long an unwrapped tenant key is kept for every Cache of the
	// keyring: 0 = DefaultTenantKeyTTL, negative = not kept (each Cache unwraps its own).
	TenantKeyTTL time.Duration

	tenantKeys tenantKeyCache
}

// DefaultTenantKeyTTL is how long a keyring keeps an unwrapped tenant key by default, and
// maxTenantKeys how many it keeps at most.
const (
	DefaultTenantKeyTTL = 10 * time.Minute
	maxTenantKeys       = 64
)

// tenantKeyCache holds unwrapped tenant keys by tenant and wrapped key: a tenant key item
// that changed (another wrapped key) is unwrapped anew, never answered from the cache.
type tenantKeyCache struct {
	mu   sync.Mutex
	keys map[tenantKeyRef]keptTenantKey
}

type tenantKeyRef struct {
	t       tenant.ID
	wrapped string
}

type keptTenantKey struct {
	aead  cipher.AEAD // safe for concurrent use (AES-GCM keeps no state between calls)
	until time.Time
}

func (r *Keyring) clock() time.Time {
	if r.Clock == nil {
		return ident.SystemClock()
	}
	return r.Clock()
}

func (r *Keyring) tenantKeyTTL() time.Duration {
	if r.TenantKeyTTL == 0 {
		return DefaultTenantKeyTTL
	}
	return r.TenantKeyTTL
}

// keptTenantKey returns the tenant key kept for t and wrapped, nil when none is (or it expired).
func (r *Keyring) keptTenantKey(t tenant.ID, wrapped []byte) cipher.AEAD {
	if r.tenantKeyTTL() < 0 {
		return nil
	}
	c := &r.tenantKeys
	c.mu.Lock()
	defer c.mu.Unlock()
	ref := tenantKeyRef{t, string(wrapped)}
	k, ok := c.keys[ref]
	if !ok {
		return nil
	}
	if !r.clock().Before(k.until) {
		delete(c.keys, ref)
		return nil
	}
	return k.aead
}

// keptTenantKeyOf returns the unexpired tenant key kept for t and the wrapped form it was
// kept as (the one kept last when several are), or nil.
func (r *Keyring) keptTenantKeyOf(t tenant.ID) (cipher.AEAD, []byte) {
	if r.tenantKeyTTL() < 0 {
		return nil, nil
	}
	c := &r.tenantKeys
	c.mu.Lock()
	defer c.mu.Unlock()
	now := r.clock()
	var best keptTenantKey
	var wrapped string
	for ref, k := range c.keys {
		if ref.t == t && now.Before(k.until) && (best.aead == nil || k.until.After(best.until)) {
			best, wrapped = k, ref.wrapped
		}
	}
	if best.aead == nil {
		return nil, nil
	}
	return best.aead, []byte(wrapped)
}

// ForgetTenantKey drops every key the keyring keeps of tenant t, so that the next Cache reads
// t's key item again (after ErrTenantKeyChanged).
func (r *Keyring) ForgetTenantKey(t tenant.ID) {
	c := &r.tenantKeys
	c.mu.Lock()
	defer c.mu.Unlock()
	for ref := range c.keys {
		if ref.t == t {
			delete(c.keys, ref)
		}
	}
}

// keepTenantKey keeps aead, t's key as wrapped, for the TTL; when the cache is full, expired
// keys go first, then the one expiring soonest.
func (r *Keyring) keepTenantKey(t tenant.ID, wrapped []byte, aead cipher.AEAD) {
	ttl := r.tenantKeyTTL()
	if ttl < 0 {
		return
	}
	c := &r.tenantKeys
	c.mu.Lock()
	defer c.mu.Unlock()
	now := r.clock()
	if c.keys == nil {
		c.keys = map[tenantKeyRef]keptTenantKey{}
	}
	ref := tenantKeyRef{t, string(wrapped)}
	if _, ok := c.keys[ref]; !ok && len(c.keys) >= maxTenantKeys {
		var soonest tenantKeyRef
		var first time.Time
		for k, v := range c.keys {
			if !now.Before(v.until) {
				delete(c.keys, k)
				continue
			}
			if first.IsZero() || v.until.Before(first) {
				soonest, first = k, v.until
			}
		}
		if len(c.keys) >= maxTenantKeys {
			delete(c.keys, soonest)
		}
	}
	c.keys[ref] = keptTenantKey{aead: aead, until: now.Add(ttl)}
}

func (r *Keyring) now() string { return audit.FormatTime(r.clock()) }

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func keyOf(pk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: s(pk)}
}

func str(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func bin(item map[string]types.AttributeValue, name string) []byte {
	if v, ok := item[name].(*types.AttributeValueMemberB); ok {
		return v.Value
	}
	return nil
}

func strSet(item map[string]types.AttributeValue, name string) []string {
	if v, ok := item[name].(*types.AttributeValueMemberSS); ok {
		return v.Value
	}
	return nil
}

func newKey() ([]byte, error) {
	k := make([]byte, keySize)
	if _, err := crand.Read(k); err != nil {
		return nil, fmt.Errorf("generate a key: %w", err)
	}
	return k, nil
}

// dataKeyAAD binds a wrapped data key to its tenant and contact.
func dataKeyAAD(t tenant.ID, c ContactID) []byte { return []byte(string(t) + "|" + string(c)) }

// wrapDataKey seals a contact's data key under the tenant key.
func wrapDataKey(tk cipher.AEAD, t tenant.ID, c ContactID, key []byte) ([]byte, error) {
	out := make([]byte, nonceSize, nonceSize+len(key)+tagSize)
	if _, err := crand.Read(out); err != nil {
		return nil, fmt.Errorf("wrap the data key of %s: nonce: %w", c, err)
	}
	return tk.Seal(out, out[:nonceSize], key, dataKeyAAD(t, c)), nil
}

// unwrapDataKey opens a wrapped data key: ErrDataKeyLost when it does not open.
func unwrapDataKey(tk cipher.AEAD, t tenant.ID, c ContactID, wrapped []byte) (DataKey, error) {
	if len(wrapped) < nonceSize+tagSize {
		return DataKey{}, fmt.Errorf("data key of contact %s: %w (%d bytes stored)", c, ErrDataKeyLost, len(wrapped))
	}
	key, err := tk.Open(nil, wrapped[:nonceSize], wrapped[nonceSize:], dataKeyAAD(t, c))
	if err != nil {
		return DataKey{}, fmt.Errorf("data key of contact %s: %w (it does not unwrap under the tenant key)", c, ErrDataKeyLost)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return DataKey{}, fmt.Errorf("data key of contact %s: %w (%v)", c, ErrDataKeyLost, err)
	}
	return DataKey{Tenant: t, Contact: c, aead: aead}, nil
}

// unwrapTenantKey opens a tenant key item with the Wrapper, or answers it from the keys the
// keyring keeps (errors are never kept: a Cache keeps its own for its invocation).
func (r *Keyring) unwrapTenantKey(ctx context.Context, t tenant.ID, item map[string]types.AttributeValue) (cipher.AEAD, error) {
	wrapped := bin(item, attrWrapped)
	if len(wrapped) == 0 {
		return nil, fmt.Errorf("tenant %s: %w: its key item holds no key", t, ErrTenantKeyUnavailable)
	}
	if aead := r.keptTenantKey(t, wrapped); aead != nil {
		return aead, nil
	}
	key, err := r.Wrapper.Unwrap(ctx, t, wrapped)
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w: %w", t, ErrTenantKeyUnavailable, err)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w: %w", t, ErrTenantKeyUnavailable, err)
	}
	r.keepTenantKey(t, wrapped, aead)
	return aead, nil
}

// getItem reads one item strongly consistently; nil when there is none.
func (r *Keyring) getItem(ctx context.Context, pk string) (map[string]types.AttributeValue, error) {
	out, err := r.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(r.Table), Key: keyOf(pk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, ddb.Translate("read personal-data key "+pk, err, ddb.Meaning{})
	}
	return out.Item, nil
}

// createTenantKey makes tenant t's key, or, when another writer made it first, reads theirs.
func (r *Keyring) createTenantKey(ctx context.Context, t tenant.ID) (cipher.AEAD, error) {
	pk, err := TenantKeyPK(t)
	if err != nil {
		return nil, err
	}
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	wrapped, err := r.Wrapper.Wrap(ctx, t, key)
	if err != nil {
		return nil, fmt.Errorf("create the tenant key of %s: %w", t, err)
	}
	_, err = r.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(r.Table),
		Item: map[string]types.AttributeValue{
			attrPK: s(pk), attrType: s(itemTenantKey), attrTenant: s(string(t)),
			attrWrapped: &types.AttributeValueMemberB{Value: wrapped}, attrCreatedAt: s(r.now()),
		},
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if err == nil {
		aead, err := newAEAD(key)
		if err != nil {
			return nil, err
		}
		r.keepTenantKey(t, wrapped, aead)
		return aead, nil
	}
	if !ddb.ConditionFailed(err) {
		return nil, ddb.Translate("create the tenant key of "+string(t), err, ddb.Meaning{})
	}
	// Another writer created it first: theirs is the one.
	item, err := r.getItem(ctx, pk)
	if err != nil {
		return nil, err
	}
	if item == nil {
		return nil, fmt.Errorf("tenant %s: %w: its key item vanished while being created", t, ErrTenantKeyUnavailable)
	}
	return r.unwrapTenantKey(ctx, t, item)
}

// BatchGetItem reads at most this many keys a call.
const batchSize = 100

// Retries of a batch's unprocessed keys, and the first and longest wait between them.
const (
	batchAttempts = 8
	backoffFirst  = 20 * time.Millisecond
	backoffMax    = time.Second
)

// batchGet reads the items of pks strongly consistently, by BatchGetItem calls of at most
// batchSize keys (up to batchParallel of them at once: a CSV of a month names hundreds of
// contacts), retrying unprocessed keys with exponential backoff. It returns the items found,
// by pk.
func (r *Keyring) batchGet(ctx context.Context, pks []string) (map[string]map[string]types.AttributeValue, error) {
	found := make(map[string]map[string]types.AttributeValue, len(pks))
	chunks := slices.Collect(slices.Chunk(pks, batchSize))
	if len(chunks) == 1 {
		return found, r.batchGetChunk(ctx, chunks[0], found, nil)
	}
	var mu sync.Mutex
	var g errgroup.Group
	g.SetLimit(batchParallel)
	for _, chunk := range chunks {
		g.Go(func() error { return r.batchGetChunk(ctx, chunk, found, &mu) })
	}
	return found, g.Wait()
}

// batchParallel is how many BatchGetItem calls of one batchGet are in flight at once.
const batchParallel = 4

// batchGetChunk reads at most batchSize keys into found (under mu, when given).
func (r *Keyring) batchGetChunk(ctx context.Context, chunk []string, found map[string]map[string]types.AttributeValue, mu *sync.Mutex) error {
	keys := make([]map[string]types.AttributeValue, len(chunk))
	for i, pk := range chunk {
		keys[i] = keyOf(pk)
	}
	req := map[string]types.KeysAndAttributes{r.Table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	for attempt := 1; ; attempt++ {
		out, err := r.DB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return ddb.Translate("read personal-data keys", err, ddb.Meaning{})
		}
		if mu != nil {
			mu.Lock()
		}
		for _, item := range out.Responses[r.Table] {
			found[str(item, attrPK)] = item
		}
		if mu != nil {
			mu.Unlock()
		}
		left, ok := out.UnprocessedKeys[r.Table]
		if !ok || len(left.Keys) == 0 {
			return nil
		}
		if attempt == batchAttempts {
			return ddb.Throttled(fmt.Errorf("read personal-data keys: %d keys still unprocessed after %d attempts", len(left.Keys), attempt))
		}
		req = map[string]types.KeysAndAttributes{r.Table: left}
		if err := retry.Sleep(ctx, backoff(attempt)); err != nil {
			return fmt.Errorf("read personal-data keys: %w", err)
		}
	}
}

// backoff is the wait before retry n (1, 2, ...): exponential from backoffFirst, capped at
// backoffMax, with jitter in its upper half.
func backoff(n int) time.Duration {
	d := backoffFirst << min(n-1, 10)
	d = min(d, backoffMax)
	return d/2 + mrand.N(d/2+1)
}

// MergeTx returns the transaction item recording that contacts merged were merged into
// primary, to commit with the merge itself: erasing primary then destroys their keys too.
// The merged contacts' keys stay as they are, so their events stay readable until one of
// them, or primary, is erased. Pass every contact the merge folds in (the merged contacts'
// own merged contacts as well); EraseTx also follows the records transitively. The item
// fails its condition when primary was erased.
func (r *Keyring) MergeTx(t tenant.ID, primary ContactID, merged []ContactID) (types.TransactWriteItem, error) {
	pk, err := DataKeyPK(t, primary)
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("record the merge into %s: %w", primary, err)
	}
	var ids []string
	for _, m := range merged {
		if !m.Valid() {
			return types.TransactWriteItem{}, fmt.Errorf("record the merge into %s: %q is not a contact id", primary, m)
		}
		if m != primary && !slices.Contains(ids, string(m)) {
			ids = append(ids, string(m))
		}
	}
	if len(ids) == 0 {
		return types.TransactWriteItem{}, fmt.Errorf("record the merge into %s: no other contact merged", primary)
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName:           aws.String(r.Table),
		Key:                 keyOf(pk),
		UpdateExpression:    aws.String("SET itemType = :type, tenantId = :tenant, contactId = :contact ADD mergedFrom :merged"),
		ConditionExpression: aws.String("attribute_not_exists(erasedAt)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":type": s(itemDataKey), ":tenant": s(string(t)), ":contact": s(string(primary)),
			":merged": &types.AttributeValueMemberSS{Value: ids},
		},
	}}, nil
}

// EraseTx returns the transaction items that destroy the data key of contact c and of every
// contact merged into it (transitively), and those contacts, c first. The merged contacts are
// those MergeTx recorded and those passed as merged: pass the contact's own mergedFrom, which
// also covers merges made before the keyring recorded them. Commit the items in one
// transaction with the contact's scrub and its CONTACT_ERASED event (DynamoDB takes at most
// 100 items a transaction). Each item removes the key and keeps the first erasedAt, so
// erasing again is harmless, and a contact that never had a key gets a tombstone all the
// same (a later DataKey for it is ErrErased). An item fails its condition when a merge into
// its contact was recorded after EraseTx read it: call EraseTx again.
func (r *Keyring) EraseTx(ctx context.Context, t tenant.ID, c ContactID, merged ...ContactID) ([]types.TransactWriteItem, []ContactID, error) {
	what := fmt.Sprintf("erase the data key of contact %s", c)
	frontier := []ContactID{c}
	for _, id := range append([]ContactID{c}, merged...) {
		if _, err := DataKeyPK(t, id); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", what, err)
		}
		if !slices.Contains(frontier, id) {
			frontier = append(frontier, id)
		}
	}
	order := slices.Clone(frontier)
	read := map[ContactID]int{} // size of mergedFrom as read; -1 = none
	for len(frontier) > 0 {
		pks := make([]string, len(frontier))
		for i, id := range frontier {
			pks[i], _ = DataKeyPK(t, id)
		}
		items, err := r.batchGet(ctx, pks)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", what, err)
		}
		var next []ContactID
		for i, id := range frontier {
			from := strSet(items[pks[i]], attrMerged)
			read[id] = -1
			if from != nil {
				read[id] = len(from)
			}
			slices.Sort(from)
			for _, m := range from {
				mid := ContactID(m)
				if !mid.Valid() {
					return nil, nil, fmt.Errorf("%s: contact %s records %q as merged into it, not a contact id", what, id, m)
				}
				if !slices.Contains(order, mid) && !slices.Contains(next, mid) {
					next = append(next, mid)
				}
			}
		}
		order = append(order, next...)
		frontier = next
	}
	now := r.now()
	txs := make([]types.TransactWriteItem, len(order))
	for i, id := range order {
		pk, _ := DataKeyPK(t, id)
		vals := map[string]types.AttributeValue{
			":type": s(itemDataKey), ":tenant": s(string(t)), ":contact": s(string(id)), ":now": s(now),
		}
		cond := "attribute_not_exists(mergedFrom)"
		if n := read[id]; n >= 0 {
			cond = "size(mergedFrom) = :merged"
			vals[":merged"] = &types.AttributeValueMemberN{Value: strconv.Itoa(n)}
		}
		txs[i] = types.TransactWriteItem{Update: &types.Update{
			TableName:                 aws.String(r.Table),
			Key:                       keyOf(pk),
			UpdateExpression:          aws.String("SET erasedAt = if_not_exists(erasedAt, :now), itemType = :type, tenantId = :tenant, contactId = :contact REMOVE wrappedKey"),
			ConditionExpression:       aws.String(cond),
			ExpressionAttributeValues: vals,
		}}
	}
	return txs, order, nil
}
