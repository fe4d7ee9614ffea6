// Package piitest gives the readers' tests sealed data: a personal-data keyring over a fresh
// KeysTable of DynamoDB Local (from template.yaml, through stacktest) and the local KMS
// stand-in, as a writer seals events and an eraser destroys keys, counting the BatchGetItem
// calls readers make. Only tests import it.
package piitest

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/contrail/contrail/local/emulator"
	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/pii"
	"github.com/contrail/contrail/shared/tenant"
)

// Keys is a keyring for a test: Ring seals, erases and opens; Lost is the same keys as a
// reader sees them when the KMS key that wrapped the tenant keys is gone.
type Keys struct {
	t     testing.TB
	raw   *dynamodb.Client
	db    *countingDB
	Table string
	Ring  *pii.Keyring
}

// New returns a keyring over a fresh KeysTable and a KMS stand-in of its own.
func New(t testing.TB) *Keys {
	t.Helper()
	k := &Keys{t: t, raw: stacktest.DynamoDB(t), Table: stacktest.Tables(t)["KeysTable"]}
	k.db = &countingDB{DB: k.raw}
	k.Ring = &pii.Keyring{DB: k.db, Table: k.Table, Wrapper: newKMS(t)}
	return k
}

// newKMS serves a fresh KMS stand-in (its one key in memory) and returns a wrapper over it.
func newKMS(t testing.TB) *pii.KMSWrapper {
	k, err := emulator.NewKMS(emulator.KMSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(k)
	t.Cleanup(srv.Close)
	client := kms.NewFromConfig(emulator.Config(srv.URL), func(o *kms.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.RetryMaxAttempts = 1
	})
	return &pii.KMSWrapper{KMS: client, KeyID: k.KeyARN()}
}

// Lost returns a keyring over the same KeysTable whose KMS never wrapped its tenant keys:
// every tenant key is unavailable (a deleted or disabled KMS key).
func (k *Keys) Lost() *pii.Keyring {
	return &pii.Keyring{DB: k.db, Table: k.Table, Wrapper: newKMS(k.t)}
}

// Seal seals e's personal fields in place, as a writer does just before writing it: under
// its contact's data key, created on first use. The contact id must be a ULID.
func (k *Keys) Seal(e *audit.Event) {
	k.t.Helper()
	id, err := pii.ParseContactID(e.Contact.ID)
	if err != nil {
		k.t.Fatalf("seal event %s: contact %q: %v", e.ID, e.Contact.ID, err)
	}
	dk, err := k.Ring.NewCache().DataKey(context.Background(), e.TenantID, id)
	if err != nil {
		k.t.Fatal(err)
	}
	data := make(map[string]any, len(e.Data))
	for name, v := range e.Data {
		data[name] = v
	}
	e.Data = data // the caller's map stays plaintext
	if err := dk.SealEvent(e); err != nil {
		k.t.Fatal(err)
	}
}

// Erase destroys contact id's data key, committing Keyring.EraseTx's items as erasing a
// contact does.
func (k *Keys) Erase(t tenant.ID, id string) {
	k.t.Helper()
	c, err := pii.ParseContactID(id)
	if err != nil {
		k.t.Fatal(err)
	}
	items, _, err := k.Ring.EraseTx(context.Background(), t, c)
	if err != nil {
		k.t.Fatal(err)
	}
	if _, err := k.raw.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
		k.t.Fatal(err)
	}
}

// BatchGets returns the BatchGetItem calls made through the keyrings since the last call,
// and the keys each asked for.
func (k *Keys) BatchGets() []int {
	k.db.mu.Lock()
	defer k.db.mu.Unlock()
	n := k.db.batchKeys
	k.db.batchKeys = nil
	return n
}

// countingDB is DynamoDB Local recording each BatchGetItem's number of keys.
type countingDB struct {
	pii.DB
	mu        sync.Mutex
	batchKeys []int
}

func (d *countingDB) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	n := 0
	for _, ka := range in.RequestItems {
		n += len(ka.Keys)
	}
	d.mu.Lock()
	d.batchKeys = append(d.batchKeys, n)
	d.mu.Unlock()
	return d.DB.BatchGetItem(ctx, in, opts...)
}
