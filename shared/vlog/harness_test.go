package vlog

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/tenant"
)

func TestMain(m *testing.M) { stacktest.Main(m) }

// quiet drops the log's info lines: the tests assert what it wrote instead.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// harness is a log on the real stand-ins: LogTable in DynamoDB Local, the archive and the
// checkpoint bucket in the S3 server, a clock the test moves.
type harness struct {
	t           *testing.T
	db          *dynamodb.Client
	table       string
	tables      map[string]string // every table of template.yaml
	archive     *archive.S3Store
	checkpoints *archive.S3Store
	locks       *lockedPuts
	*stacktest.Clock
	signer *Signer
}

const testSecret = "test-signing-secret-0123456789"

func newHarness(t *testing.T) *harness {
	t.Helper()
	signer, err := NewSigner(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	tables := stacktest.Tables(t)
	h := &harness{
		t: t, db: stacktest.DynamoDB(t), table: tables["LogTable"], tables: tables,
		archive: &archive.S3Store{Client: stacktest.S3(t), Bucket: stacktest.Bucket(t)},
		Clock:   stacktest.NewClock(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)), signer: signer,
	}
	h.locks = &lockedPuts{S3API: stacktest.S3(t), modes: map[string]string{}}
	h.checkpoints = &archive.S3Store{Client: h.locks, Bucket: stacktest.Bucket(t),
		Lock: &archive.Lock{Mode: s3types.ObjectLockModeCompliance, Days: 30, All: true, Now: h.Now}}
	return h
}

// newLog returns a writer of its own over the harness's table and buckets (two of them race).
func (h *harness) newLog() *Log {
	return &Log{DB: h.db, Table: h.table, Archive: h.archive, Checkpoints: h.checkpoints, Signer: h.signer, Clock: h.Now, Log: quiet}
}

// lockedPuts records the Object Lock of each put.
type lockedPuts struct {
	archive.S3API
	mu    sync.Mutex
	modes map[string]string
}

func (l *lockedPuts) PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	l.mu.Lock()
	l.modes[*in.Key] = string(in.ObjectLockMode) + " " + in.ObjectLockRetainUntilDate.UTC().Format(time.RFC3339)
	l.mu.Unlock()
	return l.S3API.PutObject(ctx, in, opts...)
}

// sampleRows returns n archive rows of tenant on day, one a second from second `from`: contact
// events whose personal fields are sealed values (pii1:...), as the archive holds them.
func sampleRows(tn tenant.ID, day string, from, n int) []archive.Row {
	base, _ := time.Parse(time.DateOnly, day)
	gen := ident.NewGenerator(func() time.Time { return base })
	rows := make([]archive.Row, n)
	for i := range rows {
		at := base.Add(time.Duration(from+i) * time.Second)
		rows[i] = archive.Row{
			EventID: gen.At(at), TenantID: tn.String(), OccurredAt: at.UnixMilli(), RecordedAt: at.UnixMilli() + 7,
			Type: "CONTACT_ADDED", Category: "contact", ActorType: "user", ActorID: "u-1", ActorName: "Ana <Lima>",
			ContactID: fmt.Sprintf("c-%04d", i), ContactName: fmt.Sprintf("pii1:c2VhbGVk%04d", i), Source: "manual", Channel: "email",
			Data: fmt.Sprintf(`{"email":"pii1:ZW1haWw%04d"}`, i), IP: "203.0.113.9", RequestID: fmt.Sprintf("req-%d", i),
		}
	}
	return rows
}

func entries(t testing.TB, rows []archive.Row) []Entry {
	t.Helper()
	out := make([]Entry, len(rows))
	for i := range rows {
		e, err := NewEntry(&rows[i])
		if err != nil {
			t.Fatal(err)
		}
		out[i] = e
	}
	return out
}

// verify checks a tenant's whole log as a verifier would and returns its event ids in leaf
// order: the latest checkpoint opens with the verifier key and names the committed head; the
// append records hold each event once; the root recomputed from their leaf hashes (tlog, in
// memory) is the checkpoint's; every leaf's inclusion proof, read from the tiles in S3,
// checks (tlog.CheckRecord); and each leaf hash is that of the event's leaf in want.
func (h *harness) verify(tn tenant.ID, want map[string][]byte) []string {
	t := h.t
	t.Helper()
	ctx := context.Background()
	l := h.newLog()
	head, err := l.Head(ctx, tn)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := CheckpointKey(tn)
	signed, err := h.archive.Get(ctx, key)
	if err != nil {
		t.Fatalf("latest checkpoint: %v", err)
	}
	c, err := OpenCheckpoint(signed, h.signer.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	if c.Origin != Origin(tn) || c.Size != head.Size || c.Root != hashOf(head.Root) || head.Tiled != head.Size {
		t.Fatalf("checkpoint %s %d %s, head %+v", c.Origin, c.Size, c.Root, head)
	}
	recs, err := l.state().appends(ctx, tn, 0, head.Size)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	var leaves []tlog.Hash
	for _, r := range recs {
		for i, id := range r.IDs {
			ids = append(ids, id)
			leaves = append(leaves, hashOf(r.Hashes[i*tlog.HashSize:]))
		}
	}
	seen := map[string]bool{}
	for i, id := range ids {
		if seen[id] {
			t.Errorf("event %s is in the log twice (again at %d)", id, i)
		}
		seen[id] = true
		if want != nil && tlog.RecordHash(want[id]) != leaves[i] {
			t.Errorf("leaf %d (%s) is not the hash of the event's leaf", i, id)
		}
	}
	if got := referenceRoot(t, leaves); got != c.Root {
		t.Fatalf("root of the leaves %s, checkpoint %s", got, c.Root)
	}
	thr := tlog.TileHashReader(tlog.Tree{N: c.Size, Hash: c.Root}, newTileReader(ctx, h.archive, tn))
	for i := range leaves {
		p, err := tlog.ProveRecord(c.Size, int64(i), thr)
		if err != nil {
			t.Fatalf("prove leaf %d: %v", i, err)
		}
		if err := tlog.CheckRecord(p, c.Size, c.Root, int64(i), leaves[i]); err != nil {
			t.Fatalf("leaf %d: %v", i, err)
		}
	}
	return ids
}

// referenceRoot computes the root of leaves in memory, with tlog only.
func referenceRoot(t testing.TB, leaves []tlog.Hash) tlog.Hash {
	t.Helper()
	stored := map[int64]tlog.Hash{}
	r := tlog.HashReaderFunc(func(xs []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(xs))
		for i, x := range xs {
			out[i] = stored[x]
		}
		return out, nil
	})
	for n, leaf := range leaves {
		hs, err := tlog.StoredHashesForRecordHash(int64(n), leaf, r)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range hs {
			stored[tlog.StoredHashIndex(0, int64(n))+int64(i)] = s
		}
	}
	root, err := tlog.TreeHash(int64(len(leaves)), r)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func leavesOf(t testing.TB, rows ...[]archive.Row) map[string][]byte {
	out := map[string][]byte{}
	for _, rs := range rows {
		for _, e := range entries(t, rs) {
			out[e.EventID] = e.Leaf
		}
	}
	return out
}

func idsOf(rows ...[]archive.Row) []string {
	var out []string
	for _, rs := range rows {
		for _, r := range rs {
			out = append(out, r.EventID)
		}
	}
	return out
}

// checkpointsKept lists the checkpoint bucket under prefix.
func (h *harness) checkpointsKept(prefix string) []string { return h.keys(h.checkpoints, prefix) }

// keys lists a bucket's keys under prefix.
func (h *harness) keys(st *archive.S3Store, prefix string) []string {
	h.t.Helper()
	objs, err := st.List(context.Background(), prefix)
	if err != nil {
		h.t.Fatal(err)
	}
	keys := []string{}
	for _, o := range objs {
		keys = append(keys, o.Key)
	}
	return keys
}
