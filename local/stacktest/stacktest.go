// Package stacktest gives tests the real local stand-ins for AWS: DynamoDB Local (with
// Streams), an in-process gofakes3 S3 server and the SES v2 emulator. Each is started once
// per test binary, on first use, and stopped by Main. Tables and buckets are fresh per test.
//
// A package using it has
//
//	func TestMain(m *testing.M) { stacktest.Main(m) }
//
// A missing prerequisite (java, node, `npm ci --prefix local`) fails the test; nothing skips.
package stacktest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/contrail/contrail/local/emulator"
	"github.com/contrail/contrail/local/template"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/pii"
	"github.com/contrail/contrail/shared/tenant"
)

// started holds what this test binary started; Main stops it.
var (
	mu      sync.Mutex
	stopped bool
	stops   []func()
)

func onStop(f func()) {
	mu.Lock()
	defer mu.Unlock()
	stops = append(stops, f)
}

// Main runs the tests, then stops every stand-in they started, and exits with their status.
func Main(m *testing.M) {
	code := m.Run()
	mu.Lock()
	stopped = true
	for i := len(stops) - 1; i >= 0; i-- {
		stops[i]()
	}
	mu.Unlock()
	os.Exit(code)
}

// lazy starts something once per test binary and remembers its failure.
type lazy[T any] struct {
	once sync.Once
	v    T
	err  error
}

func (l *lazy[T]) get(t testing.TB, start func() (T, error)) T {
	t.Helper()
	l.once.Do(func() { l.v, l.err = start() })
	if l.err != nil {
		t.Fatal(l.err)
	}
	return l.v
}

// Root returns the repository root: the folder holding template.yaml.
func Root(t testing.TB) string {
	t.Helper()
	r, err := rootDir()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var rootDir = sync.OnceValues(func() (string, error) {
	p, err := template.Find()
	if err != nil {
		return "", err
	}
	return filepath.Dir(p), nil
})

// Template returns the repository's parsed template.yaml.
func Template(t testing.TB) *template.Template {
	t.Helper()
	r := Root(t)
	return tmpl.get(t, func() (*template.Template, error) {
		return template.Load(filepath.Join(r, template.FileName))
	})
}

var tmpl lazy[*template.Template]

// Config returns an AWS configuration for a local endpoint: static credentials, us-east-1,
// BaseEndpoint, and no checksum warnings.
func Config(t testing.TB, endpoint string) aws.Config {
	return emulator.Config(endpoint)
}

func startProcess(start func(context.Context, emulator.Options) (*emulator.Process, error)) (*emulator.Process, error) {
	r, err := rootDir()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	p, err := start(ctx, emulator.Options{Root: r})
	if err != nil {
		return nil, err
	}
	onStop(func() { _ = p.Stop() })
	return p, nil
}

var dynamo lazy[*emulator.Process]

// EnvDynamoDBEndpoint names the variable that makes every test binary share one running
// DynamoDB Local instead of starting its own (make test sets it; tables have unique names,
// so tests do not see each other's data).
const EnvDynamoDBEndpoint = "STACKTEST_DYNAMODB_ENDPOINT"

// DynamoDBEndpoint returns the endpoint of DynamoDB Local (also DynamoDB Streams), starting it
// on first use.
func DynamoDBEndpoint(t testing.TB) string {
	t.Helper()
	p := dynamo.get(t, func() (*emulator.Process, error) {
		if ep := os.Getenv(EnvDynamoDBEndpoint); ep != "" {
			return &emulator.Process{Name: "DynamoDB Local", Endpoint: ep}, nil
		}
		return startProcess(emulator.StartDynamoDB)
	})
	return p.Endpoint
}

// DynamoDB returns a client of DynamoDB Local, started once per test binary on a free port.
func DynamoDB(t testing.TB) *dynamodb.Client {
	t.Helper()
	return dynamodb.NewFromConfig(Config(t, DynamoDBEndpoint(t)), func(o *dynamodb.Options) {
		o.DisableValidateResponseChecksum = true
	})
}

// DynamoDBStreams returns a DynamoDB Streams client of the same DynamoDB Local.
func DynamoDBStreams(t testing.TB) *dynamodbstreams.Client {
	t.Helper()
	return dynamodbstreams.NewFromConfig(Config(t, DynamoDBEndpoint(t)))
}

// TrimmedStreams is a stream that has dropped the records asked for (a stream keeps 24 hours):
// GetShardIterator answers ErrTrimmed; the rest is the embedded client's.
type TrimmedStreams struct{ *dynamodbstreams.Client }

// ErrTrimmed is TrimmedStreams' answer, as DynamoDB Streams gives it.
var ErrTrimmed = &streamtypes.TrimmedDataAccessException{Message: aws.String("The operation attempted to read past the oldest stream record in a shard.")}

// GetShardIterator answers ErrTrimmed.
func (TrimmedStreams) GetShardIterator(context.Context, *dynamodbstreams.GetShardIteratorInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error) {
	return nil, ErrTrimmed
}

// UniqueName returns prefix followed by 8 random hex digits.
func UniqueName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// Tables creates every table of template.yaml (keys, GSIs, stream, TTL) under unique names
// ("t<random>-ContactsTable") and deletes them when the test ends. It returns
// LogicalId -> table name.
func Tables(t testing.TB) map[string]string {
	t.Helper()
	db := DynamoDB(t)
	tables := Template(t).Tables()
	prefix := UniqueName("t")
	names := make(map[string]string, len(tables))
	errs := make([]error, len(tables))
	var wg sync.WaitGroup
	for i, tb := range tables {
		name := prefix + "-" + tb.LogicalID
		names[tb.LogicalID] = name
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = createTable(db, tb, name)
		}()
	}
	wg.Wait()
	t.Cleanup(func() {
		mu.Lock()
		gone := stopped
		mu.Unlock()
		if gone {
			return
		}
		for _, name := range names {
			_, err := db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
			if err != nil {
				t.Errorf("delete table %s: %v", name, err)
			}
		}
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return names
}

func createTable(db *dynamodb.Client, tb template.Table, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.CreateTable(ctx, tb.CreateTableInput(name)); err != nil {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	for {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("describe table %s: %w", name, err)
		}
		if out.Table.TableStatus == types.TableStatusActive {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("table %s is not ACTIVE: %w", name, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	// TTL stays off: tests fix their clocks (often in the past) and assert expiresAt values
	// exactly, and DynamoDB Local would delete such items under their feet once the wall clock
	// passes them. make run's tables (local/devstack) do enable it, as the template says.
	return nil
}

// Stack is what a service test builds on: a client of DynamoDB Local, fresh tables of
// template.yaml, a fixed clock the test may move, and ids in the order asked for.
type Stack struct {
	DB     *dynamodb.Client
	Tables map[string]string // LogicalId -> table name, as Tables returns
	Now    *time.Time        // the clock: a test moves it with *s.Now = ...
	IDs    *Seq
}

// NewStack creates the tables and sets the clock to at.
func NewStack(t testing.TB, at time.Time) *Stack {
	t.Helper()
	return &Stack{DB: DynamoDB(t), Tables: Tables(t), Now: &at, IDs: &Seq{}}
}

// Clock reads the stack's clock; pass it where a service takes func() time.Time.
func (s *Stack) Clock() time.Time { return *s.Now }

// Items returns every item of the table logicalID, whole and as plain values (strings,
// float64 numbers, maps, slices), in scan order. It reads consistently.
func (s *Stack) Items(t testing.TB, logicalID string) []map[string]any {
	t.Helper()
	return Scan(t, s.DB, s.Tables[logicalID])
}

// Scan returns every item of the table named table, as Stack.Items does.
func Scan(t testing.TB, db *dynamodb.Client, table string) []map[string]any {
	t.Helper()
	var items []map[string]any
	if err := attributevalue.UnmarshalListOfMaps(ScanRaw(t, db, table), &items); err != nil {
		t.Fatal(err)
	}
	if items == nil {
		items = []map[string]any{}
	}
	return items
}

// ScanRaw returns every item of the table named table as stored, in scan order. It reads
// consistently.
func ScanRaw(t testing.TB, db *dynamodb.Client, table string) []map[string]types.AttributeValue {
	t.Helper()
	in := &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)}
	var items []map[string]types.AttributeValue
	for {
		out, err := db.Scan(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, out.Items...)
		if out.LastEvaluatedKey == nil {
			return items
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// AuditEvents returns the events of type typ in the audit table named table, as
// audit.FromItem reads them (personal fields still sealed), in id order; nil when there
// are none.
func AuditEvents(t testing.TB, db *dynamodb.Client, table, typ string) []audit.Event {
	t.Helper()
	var evs []audit.Event
	for _, item := range ScanRaw(t, db, table) {
		ev, err := audit.FromItem(item)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Type == typ {
			evs = append(evs, ev)
		}
	}
	sort.Slice(evs, func(i, j int) bool { return evs[i].ID < evs[j].ID })
	return evs
}

// SortByKey sorts items (as Items returns them) by pk, then sk, and returns them.
func SortByKey(items []map[string]any) []map[string]any {
	sort.Slice(items, func(i, j int) bool {
		return fmt.Sprint(items[i]["pk"], items[i]["sk"]) < fmt.Sprint(items[j]["pk"], items[j]["sk"])
	})
	return items
}

// AuditItem returns the whole audit table item of ev, as plain values, as a service with
// keys and retention must write it.
func AuditItem(t testing.TB, keys audit.Keys, retention audit.Retention, ev audit.Event) map[string]any {
	t.Helper()
	item, err := keys.Item(&ev, retention)
	if err != nil {
		t.Fatal(err)
	}
	return Plain(t, item)
}

// Plain returns an item as plain values, as Items returns them.
func Plain(t testing.TB, item map[string]types.AttributeValue) map[string]any {
	t.Helper()
	var m map[string]any
	if err := attributevalue.UnmarshalMap(item, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// Seq makes ids ID0001, ID0002, ... in the order asked for; safe for concurrent use.
type Seq struct {
	mu sync.Mutex
	n  int
}

// New returns the next id.
func (s *Seq) New() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	return fmt.Sprintf("ID%04d", s.n)
}

// ULIDs makes ids of a ULID's form, 00000000000000000000000001, ...02, ... (sorting in the
// order made, like ULIDs, and parsed by the handlers as ids), or the non-empty ids queued in
// Next first (counting all the same); safe for concurrent use.
type ULIDs struct {
	mu   sync.Mutex
	n    int
	Next []string
}

// New returns the next id.
func (s *ULIDs) New() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	if len(s.Next) > 0 {
		id := s.Next[0]
		s.Next = s.Next[1:]
		if id != "" {
			return id
		}
	}
	return fmt.Sprintf("%026d", s.n)
}

var s3srv lazy[*httptest.Server]

// S3Endpoint returns the endpoint of the in-process S3 server (gofakes3 behind
// emulator.NewS3: requests must be signed with the local credentials, presigned URLs expire),
// starting it on first use.
func S3Endpoint(t testing.TB) string {
	t.Helper()
	srv := s3srv.get(t, func() (*httptest.Server, error) {
		srv := httptest.NewServer(emulator.NewS3(s3mem.New(), emulator.S3Options{}))
		onStop(srv.Close)
		return srv, nil
	})
	return srv.URL
}

// S3 returns a path-style client of the in-process S3 server.
func S3(t testing.TB) *s3.Client {
	t.Helper()
	return s3.NewFromConfig(Config(t, S3Endpoint(t)), func(o *s3.Options) { o.UsePathStyle = true })
}

// Bucket creates a fresh, empty bucket and returns its name.
func Bucket(t testing.TB) string {
	t.Helper()
	name := UniqueName("b")
	if _, err := S3(t).CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
	return name
}

var ses lazy[*emulator.Process]

// SESEndpoint returns the endpoint of the SES v2 emulator, starting it on first use.
func SESEndpoint(t testing.TB) string {
	t.Helper()
	p := ses.get(t, func() (*emulator.Process, error) { return startProcess(emulator.StartSES) })
	return p.Endpoint
}

// SES returns an SES v2 client of the emulator.
func SES(t testing.TB) *sesv2.Client {
	t.Helper()
	return sesv2.NewFromConfig(Config(t, SESEndpoint(t)))
}

// Email is one mail the SES emulator stored. Empty lists are nil.
type Email struct {
	From        string
	To, Cc, Bcc []string
	Subject     string
	Text, HTML  string
	MessageID   string
}

// storedEmail is the JSON of one mail in the emulator's GET /store.
type storedEmail struct {
	MessageID   string `json:"messageId"`
	From        string `json:"from"`
	Destination struct {
		To  []string `json:"to"`
		Cc  []string `json:"cc"`
		Bcc []string `json:"bcc"`
	} `json:"destination"`
	Subject string `json:"subject"`
	Body    struct {
		HTML string `json:"html"`
		Text string `json:"text"`
	} `json:"body"`
}

// Emails returns every mail the SES emulator stored, oldest first. The emulator is shared by
// the whole test binary: filter by a recipient unique to the test (see EmailsTo).
func Emails(t testing.TB) []Email {
	t.Helper()
	return EmailsAt(t, SESEndpoint(t))
}

// EmailsAt returns every mail the SES emulator at endpoint stored (a local stack's own, say),
// oldest first.
func EmailsAt(t testing.TB, endpoint string) []Email {
	t.Helper()
	resp, err := http.Get(endpoint + "/store")
	if err != nil {
		t.Fatalf("read SES emulator store: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("read SES emulator store: %s", resp.Status)
	}
	var store struct {
		Emails []storedEmail `json:"emails"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&store); err != nil {
		t.Fatalf("decode SES emulator store: %v", err)
	}
	emails := make([]Email, 0, len(store.Emails))
	for _, e := range store.Emails {
		emails = append(emails, Email{
			From:      e.From,
			To:        nilIfEmpty(e.Destination.To),
			Cc:        nilIfEmpty(e.Destination.Cc),
			Bcc:       nilIfEmpty(e.Destination.Bcc),
			Subject:   e.Subject,
			Text:      e.Body.Text,
			HTML:      e.Body.HTML,
			MessageID: e.MessageID,
		})
	}
	return emails
}

// EmailsTo returns the stored mails with addr among their To, Cc or Bcc recipients
// (case-insensitive), oldest first; nil when there are none.
func EmailsTo(t testing.TB, addr string) []Email {
	t.Helper()
	var out []Email
	for _, e := range Emails(t) {
		if hasAddress(e.To, addr) || hasAddress(e.Cc, addr) || hasAddress(e.Bcc, addr) {
			out = append(out, e)
		}
	}
	return out
}

// Download GETs url (a presigned link of the S3 stand-in, say) and returns the body; any
// answer but 200 fails the test.
func Download(t testing.TB, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return b
}

// Address returns a unique recipient address for a test, so EmailsTo sees only its mail.
func Address(name string) string {
	return UniqueName(strings.ToLower(name)+"-") + "@example.com"
}

func hasAddress(list []string, addr string) bool {
	for _, a := range list {
		// A raw mail's recipients may be written `Name <addr>`.
		if strings.EqualFold(a, addr) || strings.HasSuffix(strings.ToLower(a), "<"+strings.ToLower(addr)+">") {
			return true
		}
	}
	return false
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// KMSEndpoint returns the endpoint of the local KMS (emulator.KMS, holding one key, in memory),
// served once per test binary; KMSKeyARN is its key.
func KMSEndpoint(t testing.TB) string {
	t.Helper()
	return localKMS.get(t, startKMS).url
}

// KMSKeyARN returns the ARN of the local KMS's key: what KEYS_KMS_KEY_ARN names.
func KMSKeyARN(t testing.TB) string {
	t.Helper()
	return localKMS.get(t, startKMS).arn
}

type kmsServer struct{ url, arn string }

var localKMS lazy[kmsServer]

func startKMS() (kmsServer, error) {
	k, err := emulator.NewKMS(emulator.KMSOptions{})
	if err != nil {
		return kmsServer{}, err
	}
	srv := httptest.NewServer(k)
	onStop(srv.Close)
	return kmsServer{url: srv.URL, arn: k.KeyARN()}, nil
}

// Keyring returns the personal-data keyring of a function over the KeysTable named table
// (from Tables) and the local KMS, built as functions build theirs (pii.NewKeyring).
func Keyring(t testing.TB, table string) *pii.Keyring {
	t.Helper()
	ep := KMSEndpoint(t)
	cfg := Config(t, DynamoDBEndpoint(t))
	r := pii.NewKeyring(cfg, pii.Config{Table: table, KMSKey: KMSKeyARN(t)})
	r.DB = DynamoDB(t)
	r.Wrapper = &pii.KMSWrapper{KMS: kms.NewFromConfig(Config(t, ep), func(o *kms.Options) { o.BaseEndpoint = aws.String(ep) }), KeyID: KMSKeyARN(t)}
	return r
}

// OpenItems opens, in place, the sealed personal fields of audit items read raw from the
// audit table (as plain values: attributevalue.UnmarshalListOfMaps), as a reader opens
// them (pii.Cache.OpenValues): a test then compares whole items with what was written. An
// erased contact's fields become pii.Erased; anything that does not open fails the test.
func OpenItems(t testing.TB, r *pii.Keyring, items []map[string]any) {
	t.Helper()
	var vals []pii.Value
	var put []func(v any)
	for _, it := range items {
		ref, _ := it["contact"].(map[string]any)
		tn, _ := it["tenantId"].(string)
		eid, _ := it["id"].(string)
		typ, _ := it["type"].(string)
		if ref == nil {
			continue
		}
		cid, _ := ref["id"].(string)
		if pii.IsSealed(ref["name"]) {
			vals = append(vals, pii.Value{Tenant: tenant.ID(tn), ContactID: cid, EventID: eid, Field: audit.ContactNameField, V: ref["name"]})
			put = append(put, func(v any) { ref["name"] = v })
		}
		data, _ := it["data"].(map[string]any)
		for _, f := range audit.PersonalFields(typ) {
			if pii.IsSealed(data[f]) {
				vals = append(vals, pii.Value{Tenant: tenant.ID(tn), ContactID: cid, EventID: eid, Field: pii.DataField(f), V: data[f]})
				put = append(put, func(v any) { data[f] = v })
			}
		}
	}
	if err := r.NewCache().OpenValues(context.Background(), vals); err != nil {
		t.Fatal(err)
	}
	for i, v := range vals {
		put[i](v.V)
	}
}

// AuditStore is the audit table of tables as the service tests configure it: 4 write shards,
// events of every category kept 400 days.
func AuditStore(tables map[string]string) audit.StoreConfig {
	return audit.StoreConfig{Table: tables["AuditTable"], Shards: 4, Retention: audit.RetentionDays(400, 400, 400, 400)}
}

// ContactsConfig is the contact service's configuration over tables as the service tests set
// it: the contacts table, and the audit table as AuditStore configures it.
func ContactsConfig(tables map[string]string) contact.Config {
	return contact.Config{ContactsTable: tables["ContactsTable"], Audit: AuditStore(tables)}
}

// Contacts is the contact service over tables (ContactsConfig) and db as the functions build
// it, sealing with Keyring's keys, with clock and ids of a ULID's form (ULIDs: a contact's id
// keys its data key).
func Contacts(t testing.TB, db contact.Client, tables map[string]string, clock func() time.Time) *contact.Service {
	t.Helper()
	svc := contact.NewWith(ContactsConfig(tables), db, clock, &ULIDs{})
	svc.Keyring = Keyring(t, tables["KeysTable"])
	return svc
}

// Erased is evs as a reader sees them once contact id is erased: the contact's name and each
// personal field set on its events read pii.Erased (a null field was never sealed and stays
// null); nothing else changes.
func Erased(evs []audit.Event, id string) []audit.Event {
	out := make([]audit.Event, len(evs))
	for i, e := range evs {
		if e.Contact != nil && e.Contact.ID == id {
			e.Contact = &audit.ContactRef{ID: id, Name: pii.Erased}
			data := maps.Clone(e.Data)
			if data == nil {
				data = map[string]any{}
			}
			for _, name := range audit.PersonalFields(e.Type) {
				if v, ok := data[name]; ok && v != nil {
					data[name] = pii.Erased
				}
			}
			e.Data = data
		}
		out[i] = e
	}
	return out
}

// Clock is a test clock that goroutines may read while the test moves it: pass Now where a
// service takes func() time.Time.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock set to at.
func NewClock(at time.Time) *Clock { return &Clock{t: at} }

// Now reads the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set sets the clock to at.
func (c *Clock) Set(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = at
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// SampleData is valid data for an event type of the registry: every field, required and
// optional, the n-th of a series (strings, lists and numbers carry n).
func SampleData(s audit.Spec, n int) map[string]any {
	d := map[string]any{}
	for _, f := range s.Data {
		switch f.Kind {
		case audit.String:
			d[f.Name] = fmt.Sprintf("%s-%d", f.Name, n)
			if len(f.Enum) > 0 {
				d[f.Name] = f.Enum[n%len(f.Enum)]
			}
		case audit.StringList:
			d[f.Name] = []any{"a", fmt.Sprint(n)}
		case audit.Object:
			d[f.Name] = map[string]any{"key": "value", "n": float64(n)}
		case audit.Number:
			d[f.Name] = float64(n)
		case audit.Bool:
			d[f.Name] = true
		default:
			d[f.Name] = map[string]any{"x": float64(n), "y": float64(2 * n)}
		}
	}
	return d
}
