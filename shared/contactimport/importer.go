package contactimport

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/oklog/ulid/v2"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/ddb"
	"github.com/contrail/contrail/shared/fault"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/idempotency"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/pii"
	"github.com/contrail/contrail/shared/retry"
	"github.com/contrail/contrail/shared/tenant"
)

// Adder writes one new contact and its CONTACT_ADDED event in one transaction: the contact
// service, so imported items are exactly those of POST /v1/contacts.
type Adder interface {
	Add(ctx context.Context, by contact.Caller, in contact.CreateInput) (*contact.Contact, error)
	AddAt(ctx context.Context, by contact.Caller, in contact.CreateInput, at time.Time, ids contact.IDs) (*contact.Contact, error)
}

var _ Adder = (*contact.Service)(nil)

// DB is the part of the DynamoDB client the importer itself uses (its run records).
type DB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

var _ DB = (*dynamodb.Client)(nil)

// Defaults of an Importer.
const (
	DefaultWorkers = 8               // concurrent row writes
	DefaultReserve = 3 * time.Second // no row starts with less time than this left
	rowTries       = 3               // tries of a throttled row
)

// Importer answers POST /v1/contacts/import.
//
// Each valid row is one transaction (the contact and its CONTACT_ADDED event, source import),
// written by a small pool of workers. Rows are independent: a row that is invalid, or that
// could not be written (throttled after retries, an error, the function running out of
// time), is reported in failed with its number and why; the others are imported.
//
// With an Idempotency-Key, the ids and time of every row derive from the key and the row
// number (fixed by a run record written on the first attempt), and the contact put is
// conditional: repeating the request re-adds nothing that was added and retries only the
// rows that were not written. Once no row is left to retry, the response is stored
// (idempotency.Save) and a repeat returns it. Without a key, repeating an import adds its
// contacts again.
type Importer struct {
	Contacts Adder
	Idem     *idempotency.Store
	DB       DB
	Table    string // the contacts table (run records)
	Clock    ident.Clock
	Workers  int           // DefaultWorkers when 0
	Reserve  time.Duration // DefaultReserve when 0
	Backoff  time.Duration // first wait before retrying a throttled row; 100 ms when 0
}

// NewService builds the importer of a function from its contact configuration (ReadConfig:
// the tables and the personal-data keys its rows' events are sealed with) and clients of
// awsCfg, with the system clock and ULID ids.
func NewService(awsCfg aws.Config, cfg contact.Config) *Importer {
	db := dynamodb.NewFromConfig(awsCfg)
	svc := contact.New(cfg, db)
	svc.Keyring = pii.NewKeyring(awsCfg, cfg.Keys)
	return &Importer{
		Contacts: svc,
		Idem:     &idempotency.Store{DB: db, Table: cfg.ContactsTable, Clock: ident.SystemClock},
		DB:       db,
		Table:    cfg.ContactsTable,
		Clock:    ident.SystemClock,
	}
}

// Result is the response body.
type Result struct {
	Imported int       `json:"imported"`
	Failed   []Failure `json:"failed"`
}

// Handle is the httpapi.Handler of the route.
func (im *Importer) Handle(ctx context.Context, r *httpapi.Request) (events.APIGatewayV2HTTPResponse, error) {
	body, err := r.Body()
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	format, err := FormatOf(r.Header("Content-Type"))
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	call, prev, err := im.Idem.Start(ctx, r, body)
	if err != nil || prev != nil {
		return deref(prev), err
	}
	rows, err := Parse(format, body)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	var ids *runIDs
	if call != nil {
		if ids, err = im.startRun(ctx, r.TenantID, call); err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
	}
	res, retryable := im.Import(ctx, contact.CallerOf(r), rows, ids)
	resp := httpapi.JSON(http.StatusOK, res)
	slog.InfoContext(ctx, "contact import", "tenant_id", r.TenantID, "request_id", r.RequestID(),
		"rows", len(rows), "imported", res.Imported, "failed", len(res.Failed), "retryable", retryable)
	if call == nil || retryable {
		return resp, nil
	}
	switch err := im.Idem.Save(ctx, call, resp); {
	case err == nil:
	case fault.KindOf(err) == fault.Conflict:
		// A twin request with the same key finished first: answer as it did.
		if twin, rerr := im.Idem.Replay(ctx, call); rerr == nil && twin != nil {
			return *twin, nil
		}
	default:
		// The rows are written; a repeat finds them by their derived ids and adds nothing.
		slog.WarnContext(ctx, "store import response", "tenant_id", r.TenantID, "error", err.Error())
	}
	return resp, nil
}

func deref(r *events.APIGatewayV2HTTPResponse) events.APIGatewayV2HTTPResponse {
	if r == nil {
		return events.APIGatewayV2HTTPResponse{}
	}
	return *r
}

// rowResult is what became of one row.
type rowResult struct {
	imported  bool
	message   string
	retryable bool
}

// Import checks and writes rows. retryable says whether some valid row was not written
// for a passing reason (a repeat of the request may write it).
func (im *Importer) Import(ctx context.Context, by contact.Caller, rows []Row, ids *runIDs) (Result, bool) {
	results := make([]rowResult, len(rows))
	inputs := make([]contact.CreateInput, len(rows))
	var todo []int
	for i := range rows {
		in, msg := rows[i].Input()
		if msg != "" {
			results[i] = rowResult{message: msg}
			continue
		}
		inputs[i] = in
		todo = append(todo, i)
	}

	workers := im.Workers
	if workers <= 0 {
		workers = DefaultWorkers
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, max(len(todo), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				results[i] = im.addRow(ctx, by, &rows[i], inputs[i], ids)
			}
		}()
	}
	for _, i := range todo {
		jobs <- i
	}
	close(jobs)
	wg.Wait()

	res := Result{Failed: []Failure{}}
	retryable := false
	for i, r := range results {
		if r.imported {
			res.Imported++
			continue
		}
		res.Failed = append(res.Failed, rows[i].Fail(r.message))
		retryable = retryable || r.retryable
	}
	return res, retryable
}

// addRow writes one row, retrying throttling with backoff while time allows.
func (im *Importer) addRow(ctx context.Context, by contact.Caller, row *Row, in contact.CreateInput, ids *runIDs) rowResult {
	again := " Send it again."
	if ids != nil {
		again = " Repeat the import with the same Idempotency-Key: rows already imported are not added twice."
	}
	reserve := im.Reserve
	if reserve <= 0 {
		reserve = DefaultReserve
	}
	wait := im.Backoff
	if wait <= 0 {
		wait = 100 * time.Millisecond
	}
	var err error
	for try := 1; ; try++ {
		if !retry.TimeLeft(ctx, reserve) {
			return rowResult{message: "was not imported: the import ran out of time." + again, retryable: true}
		}
		if ids != nil {
			_, err = im.Contacts.AddAt(ctx, by, in, ids.at, ids.forRow(row.Number))
			if contact.IsExists(err) {
				return rowResult{imported: true} // written by an earlier attempt of this request
			}
		} else {
			_, err = im.Contacts.Add(ctx, by, in)
		}
		if err == nil {
			return rowResult{imported: true}
		}
		if fault.KindOf(err) != fault.Throttled || try == rowTries {
			break
		}
		// A throttled transaction wrote nothing, so retrying cannot add the contact twice.
		if !retry.TimeLeft(ctx, reserve+wait) || retry.Sleep(ctx, wait) != nil {
			break
		}
		wait *= 2
	}
	switch fe := fault.As(err); {
	case fe != nil && fe.Kind == fault.Throttled:
		return rowResult{message: "was not imported: the service is busy." + again, retryable: true}
	case fe != nil && fe.Kind != fault.Internal:
		return rowResult{message: "was not imported: " + fe.Message, retryable: true}
	default:
		slog.ErrorContext(ctx, "import row", "tenant_id", by.TenantID, "request_id", by.RequestID, "row", row.Number, "error", err.Error())
		return rowResult{message: "was not imported because of an error on our side." + again, retryable: true}
	}
}

// runIDs derives a keyed import's ids: the time of its first attempt and, per row, ULIDs
// whose random part is the row number, a counter and a hash of the run, so ids sort by row
// and the same key and row give the same ids on every attempt.
type runIDs struct {
	at   time.Time
	seed [32]byte
}

func (r *runIDs) forRow(row int) contact.IDs { return &rowIDs{run: r, row: row} }

type rowIDs struct {
	run *runIDs
	row int
	n   int
}

func (r *rowIDs) New() string {
	r.n++
	var entropy [10]byte
	binary.BigEndian.PutUint16(entropy[0:2], uint16(r.row))
	entropy[2] = byte(r.n)
	copy(entropy[3:], r.run.seed[:7])
	return newULID(r.run.at, entropy).String()
}

func newULID(at time.Time, entropy [10]byte) ulid.ULID {
	var id ulid.ULID
	if err := id.SetTime(ulid.Timestamp(at)); err != nil {
		panic(err) // times after 10889 AD only
	}
	if err := id.SetEntropy(entropy[:]); err != nil {
		panic(err)
	}
	return id
}

// run is the record of a keyed import: when it first started and what it was.
type run struct {
	PK        string    `dynamodbav:"pk"`
	ItemType  string    `dynamodbav:"itemType"`
	TenantID  tenant.ID `dynamodbav:"tenantId"`
	Hash      string    `dynamodbav:"hash"`
	StartedAt string    `dynamodbav:"startedAt"`
	ExpiresAt int64     `dynamodbav:"expiresAt"`
}

// startRun records the first attempt of a keyed import, or reads the record an earlier
// attempt left, and returns the ids the rows derive from it. The same key with another body
// is 409 idempotency_key_reused, as idempotency.Replay answers once the response is stored.
func (im *Importer) startRun(ctx context.Context, tenant tenant.ID, call *idempotency.Call) (*runIDs, error) {
	sum := sha256.Sum256([]byte(call.PK))
	pk := "T#" + tenant.String() + "#IMPORT#" + hex.EncodeToString(sum[:16])
	now := im.Clock()
	rec := run{PK: pk, ItemType: "import_run", TenantID: tenant, Hash: call.Hash,
		StartedAt: audit.FormatTime(now), ExpiresAt: now.Add(idempotency.Window).Unix()}
	for range 2 {
		item, err := attributevalue.MarshalMap(rec)
		if err != nil {
			return nil, fmt.Errorf("encode import run: %w", err)
		}
		_, err = im.DB.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:           aws.String(im.Table),
			Item:                item,
			ConditionExpression: aws.String("attribute_not_exists(pk) OR expiresAt <= :now"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":now": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)},
			},
		})
		if err == nil {
			return newRunIDs(rec.StartedAt, sum)
		}
		if !ddb.ConditionFailed(err) {
			return nil, ddb.Translate("record import run", err, ddb.Meaning{})
		}
		out, err := im.DB.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(im.Table), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}},
		})
		if err != nil {
			return nil, fmt.Errorf("read import run: %w", err)
		}
		if out.Item == nil {
			continue // expired and removed in between: record it anew
		}
		var prev run
		if err := attributevalue.UnmarshalMap(out.Item, &prev); err != nil {
			return nil, fmt.Errorf("decode import run: %w", err)
		}
		if prev.Hash != call.Hash {
			return nil, fault.New(fault.Conflict, "idempotency_key_reused",
				"This Idempotency-Key was used for a different request in the last 24 hours; use a new key.")
		}
		return newRunIDs(prev.StartedAt, sum)
	}
	return nil, fault.New(fault.Conflict, "idempotency_key_in_use", "A request with this Idempotency-Key is being processed; retry in a moment.")
}

func newRunIDs(startedAt string, seed [32]byte) (*runIDs, error) {
	at, err := audit.ParseTime(startedAt)
	if err != nil {
		return nil, fmt.Errorf("import run start %q: %w", startedAt, err)
	}
	return &runIDs{at: at, seed: seed}, nil
}
