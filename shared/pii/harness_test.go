package pii_test

import (
	"context"
	"crypto/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/pii"
	"github.com/contrail/contrail/shared/tenant"
)

func TestMain(m *testing.M) { stacktest.Main(m) }

// t0 is the fixed time every fixture starts at.
var t0 = time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)

// countingDB is DynamoDB Local counting the keyring's calls; unprocessed, when set, makes the
// next BatchGetItem read only the first half of its keys and answer the rest unprocessed,
// as DynamoDB does under load.
type countingDB struct {
	pii.DB
	mu          sync.Mutex
	calls       map[string]int
	batchKeys   []int // keys asked per BatchGetItem call
	unprocessed int   // calls still to answer half unprocessed
}

func (d *countingDB) count(op string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls[op]++
}

// Calls returns the calls counted so far, by operation, and resets them.
func (d *countingDB) Calls() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.calls
	d.calls = map[string]int{}
	return c
}

func (d *countingDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	d.count("GetItem")
	return d.DB.GetItem(ctx, in, opts...)
}

func (d *countingDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	d.count("PutItem")
	return d.DB.PutItem(ctx, in, opts...)
}

func (d *countingDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	d.count("UpdateItem")
	return d.DB.UpdateItem(ctx, in, opts...)
}

func (d *countingDB) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	d.count("BatchGetItem")
	d.mu.Lock()
	n := 0
	for _, ka := range in.RequestItems {
		n += len(ka.Keys)
	}
	d.batchKeys = append(d.batchKeys, n)
	half := d.unprocessed > 0
	if half {
		d.unprocessed--
	}
	d.mu.Unlock()
	if !half {
		return d.DB.BatchGetItem(ctx, in, opts...)
	}
	asked := map[string]types.KeysAndAttributes{}
	left := map[string]types.KeysAndAttributes{}
	for table, ka := range in.RequestItems {
		k := len(ka.Keys) / 2
		first, rest := ka, ka
		first.Keys, rest.Keys = ka.Keys[:k], ka.Keys[k:]
		asked[table], left[table] = first, rest
	}
	out, err := d.DB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: asked}, opts...)
	if err != nil {
		return nil, err
	}
	out.UnprocessedKeys = left
	return out, nil
}

// countingWrapper counts Unwrap calls (a KMS Decrypt each, in AWS).
type countingWrapper struct {
	pii.Wrapper
	unwraps atomic.Int32
}

func (w *countingWrapper) Unwrap(ctx context.Context, t tenant.ID, wrapped []byte) ([]byte, error) {
	w.unwraps.Add(1)
	return w.Wrapper.Unwrap(ctx, t, wrapped)
}

// fixture is a keyring over a fresh KeysTable of DynamoDB Local, a KMS stand-in of its own
// (emulator.KMS, its key in memory: what pii.NewKeyring uses locally), a fixed clock and
// ULIDs.
type fixture struct {
	t       *testing.T
	raw     *dynamodb.Client
	db      *countingDB
	table   string
	kms     *kms.Client // the fixture's KMS stand-in
	keyARN  string      // its key
	wrapper *countingWrapper
	ring    *pii.Keyring
	clock   *stacktest.Clock
	ids     *ident.Generator
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, raw: stacktest.DynamoDB(t), table: stacktest.Tables(t)["KeysTable"], clock: stacktest.NewClock(t0)}
	f.db = &countingDB{DB: f.raw, calls: map[string]int{}}
	k, client := localKMS(t)
	f.kms, f.keyARN = client, k.KeyARN()
	f.wrapper = &countingWrapper{Wrapper: &pii.KMSWrapper{KMS: client, KeyID: f.keyARN}}
	f.ring = &pii.Keyring{DB: f.db, Table: f.table, Wrapper: f.wrapper, Clock: f.clock.Now}
	f.ids = ident.NewGenerator(f.clock.Now)
	return f
}

// tenant returns a fresh tenant id.
func (f *fixture) tenant() tenant.ID { return tenant.ID(stacktest.UniqueName("t")) }

// contact returns a fresh contact id.
func (f *fixture) contact() pii.ContactID {
	id, err := pii.ParseContactID(f.ids.New())
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

// commit writes transaction items, as the caller's own transaction would.
func (f *fixture) commit(items ...types.TransactWriteItem) error {
	_, err := f.raw.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return err
}

func (f *fixture) mustCommit(items ...types.TransactWriteItem) {
	f.t.Helper()
	if err := f.commit(items...); err != nil {
		f.t.Fatalf("commit: %v", err)
	}
}

// create makes contact id's data key as a contact creation would.
func (f *fixture) create(tn tenant.ID, id pii.ContactID) pii.DataKey {
	f.t.Helper()
	k, put, err := f.ring.NewCache().Create(context.Background(), tn, id)
	if err != nil {
		f.t.Fatal(err)
	}
	f.mustCommit(put.Items()...)
	return k
}

// replaceTenantKey puts another key, wrapped by the fixture's KMS, into tenant tn's key item,
// as a restore from elsewhere or a hand edit would.
func (f *fixture) replaceTenantKey(tn tenant.ID) {
	f.t.Helper()
	pk, err := pii.TenantKeyPK(tn)
	if err != nil {
		f.t.Fatal(err)
	}
	item := f.item(pk)
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		f.t.Fatal(err)
	}
	wrapped, err := f.wrapper.Wrap(context.Background(), tn, key)
	if err != nil {
		f.t.Fatal(err)
	}
	item["wrappedKey"] = wrapped
	f.putItem(item)
}

func (f *fixture) erase(tn tenant.ID, id pii.ContactID) []pii.ContactID {
	f.t.Helper()
	items, ids, err := f.ring.EraseTx(context.Background(), tn, id)
	if err != nil {
		f.t.Fatal(err)
	}
	f.mustCommit(items...)
	return ids
}

func (f *fixture) merge(tn tenant.ID, primary pii.ContactID, merged ...pii.ContactID) {
	f.t.Helper()
	tx, err := f.ring.MergeTx(tn, primary, merged)
	if err != nil {
		f.t.Fatal(err)
	}
	f.mustCommit(tx)
}

// item reads a KeysTable item as plain values, nil when there is none.
func (f *fixture) item(pk string) map[string]any {
	f.t.Helper()
	out, err := f.raw.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(f.table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}},
	})
	if err != nil {
		f.t.Fatal(err)
	}
	if out.Item == nil {
		return nil
	}
	var m map[string]any
	if err := attributevalue.UnmarshalMap(out.Item, &m); err != nil {
		f.t.Fatal(err)
	}
	return m
}

func (f *fixture) deleteItem(pk string) {
	f.t.Helper()
	_, err := f.raw.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{
		TableName: aws.String(f.table),
		Key:       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}},
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

// event returns an event of typ about contact id of tenant tn, as a writer builds it.
func (f *fixture) event(tn tenant.ID, id pii.ContactID, typ, name string, data map[string]any) audit.Event {
	at := audit.FormatTime(f.clock.Now())
	if data == nil {
		data = map[string]any{}
	}
	return audit.Event{
		ID: f.ids.New(), TenantID: tn, OccurredAt: at, RecordedAt: at, Type: typ, Category: audit.CategoryOf(typ),
		Actor:   audit.Actor{Type: audit.ActorUser, ID: "user-1", Name: "Agent Smith"},
		Contact: &audit.ContactRef{ID: string(id), Name: name}, Source: audit.SourceManual, Data: data,
		Context: &audit.Context{IP: "203.0.113.7", UserAgent: "test", RequestID: "req-1"},
	}
}

// stored passes e through the audit table's item form and back, as every reader gets it.
func stored(t *testing.T, e audit.Event) audit.Event {
	t.Helper()
	item, err := audit.Keys{Shards: 4}.Item(&e, audit.RetentionDays(400, 400, 400, 30))
	if err != nil {
		t.Fatal(err)
	}
	back, err := audit.FromItem(item)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

// sealed seals e with k and returns its stored form.
func sealed(t *testing.T, k pii.DataKey, e audit.Event) audit.Event {
	t.Helper()
	e.Data = cloneData(e.Data)
	if err := k.SealEvent(&e); err != nil {
		t.Fatal(err)
	}
	return stored(t, e)
}

func cloneData(d map[string]any) map[string]any {
	c := make(map[string]any, len(d))
	for k, v := range d {
		c[k] = v
	}
	return c
}

// erased returns the stored form of e as a reader sees it once its contact is erased.
func erasedForm(t *testing.T, e audit.Event) audit.Event {
	t.Helper()
	e = stored(t, e)
	if e.Contact != nil && e.Contact.Name != "" {
		e.Contact = &audit.ContactRef{ID: e.Contact.ID, Name: pii.Erased}
	}
	for _, name := range audit.PersonalFields(e.Type) {
		if v, ok := e.Data[name]; ok && v != nil {
			e.Data[name] = pii.Erased
		}
	}
	return e
}

// putItem writes a KeysTable item by hand (damage a test inflicts).
func (f *fixture) putItem(m map[string]any) {
	f.t.Helper()
	item, err := attributevalue.MarshalMap(m)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.raw.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(f.table), Item: item}); err != nil {
		f.t.Fatal(err)
	}
}
