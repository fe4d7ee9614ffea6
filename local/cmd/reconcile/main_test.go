package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/devstack"
	"github.com/contrail/contrail/local/emulator"
	"github.com/contrail/contrail/local/reconcile"
	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/tenant"
	"github.com/contrail/contrail/shared/vlog"
)

// agreeing is reconcile's whole output when every source agrees.
const agreeing = `reconcile tenant acme, 2026-11-01T00:00:00.000Z to 2026-12-01T00:00:00.000Z (UTC)
not compared: the log's tiles, proofs and checkpoint signatures (contrail-verify checks those); its leaves are, by the hashes its appends record

events by type                 DynamoDB  the archive      the log
COMMENT_ADDED                         1            1            1
CONTACT_ADDED                         6            6            6
CONTACT_ARCHIVED                      1            1            1
CONTACT_CONNECTED                     1            1            1
CONTACT_DELETED                       1            1            1
CONTACT_MERGED                        1            1            1
CONTACT_UNARCHIVED                    1            1            1

reports                        overview     log rows
added                                 6            6
connected                             1            1
deleted                               1            1
merged                                1            1
archived                              1            -
unarchived                            1            -

the log                    12 leaves of the period; size 13, last checkpoint size 13 signed 2026-12-01T10:00:00Z

all agree
`

func TestMain(m *testing.M) { stacktest.Main(m) }

const tn = tenant.ID("acme")

// A period of contact events written to DynamoDB Local and archived by the real archiver
// (over the S3 stand-in) reconciles; then each way the archive and DynamoDB can part is
// reported exactly, with the ids behind it and the exit status.
func TestReconcile(t *testing.T) {
	ctx := context.Background()
	tables := stacktest.Tables(t)
	bucket := stacktest.Bucket(t)
	db := stacktest.DynamoDB(t)
	store := &archive.S3Store{Client: stacktest.S3(t), Bucket: bucket}
	state := t.TempDir()
	if _, err := emulator.NewKMS(emulator.KMSOptions{KeyFile: filepath.Join(state, devstack.KMSKeyFile)}); err != nil {
		t.Fatal(err)
	}
	w := stacktest.AuditStore(tables).Writer(db)
	signer, err := vlog.NewSigner("reconcile-test-secret")
	if err != nil {
		t.Fatal(err)
	}
	signedAt := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	lg := &vlog.Log{DB: db, Table: tables["LogTable"], Archive: store, Checkpoints: &archive.S3Store{Client: stacktest.S3(t), Bucket: stacktest.Bucket(t)},
		Signer: signer, Clock: func() time.Time { return signedAt }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	sequence := func(t *testing.T) {
		t.Helper()
		if err := (&vlog.Sequencer{Log: lg}).Run(ctx); err != nil {
			t.Fatal(err)
		}
	}

	// leaf is the index of event id's leaf in the log, as the log's own index says.
	leaf := func(t *testing.T, id string) int64 {
		t.Helper()
		got, err := lg.Sequenced(ctx, tn, []string{id})
		if err != nil || len(got) != 1 {
			t.Fatalf("leaf of %s: %v, %v", id, got, err)
		}
		return got[id]
	}

	// The period's events, and one each side of it that must not count.
	at := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	var evs []audit.Event
	add := func(typ, contact string, data map[string]any, source, channel string) string {
		t.Helper()
		id := fmt.Sprintf("01JEV%06d", len(evs))
		at = at.Add(7 * time.Hour)
		e := audit.Event{ID: id, TenantID: tn, OccurredAt: audit.FormatTime(at), RecordedAt: audit.FormatTime(at), Type: typ,
			Category: audit.CategoryContact, Actor: audit.Actor{Type: "user", ID: "u-1", Name: "Ana"},
			Contact: &audit.ContactRef{ID: contact, Name: "Contact " + contact}, Source: source, Channel: channel, Data: data}
		if data == nil {
			e.Data = map[string]any{}
		}
		evs = append(evs, e)
		return id
	}
	var added []string
	for i := range 6 {
		added = append(added, add("CONTACT_ADDED", fmt.Sprintf("c%d", i), nil, "manual", ""))
	}
	add("CONTACT_CONNECTED", "c0", map[string]any{"externalId": "+6281"}, "incoming_message", "whatsapp")
	add("CONTACT_ARCHIVED", "c1", nil, "", "")
	add("CONTACT_UNARCHIVED", "c1", nil, "", "")
	add("CONTACT_DELETED", "c2", nil, "manual", "")
	add("CONTACT_MERGED", "c3", map[string]any{"primaryContactId": "c3", "mergedContactIds": []any{"c4", "c5"}}, "manual", "")
	add("COMMENT_ADDED", "c3", map[string]any{"commentId": "m1", "text": "hello"}, "", "")
	outside := audit.Event{ID: "01JEVOUTSIDE", TenantID: tn, OccurredAt: "2026-12-01T00:00:00.000Z", RecordedAt: "2026-12-01T00:00:00.000Z",
		Type: "CONTACT_ADDED", Category: audit.CategoryContact, Actor: audit.Actor{Type: "user", ID: "u-1"}, Contact: &audit.ContactRef{ID: "c9", Name: "Later"}, Data: map[string]any{}}
	if _, err := w.Write(ctx, append(slices.Clone(evs), outside)); err != nil {
		t.Fatal(err)
	}
	archiveAll(t, db, tables["AuditTable"], store)
	sequence(t)

	args := []string{"-tenant", string(tn), "-from", "2026-11-01", "-to", "2026-12-01",
		"-dynamodb", stacktest.DynamoDBEndpoint(t), "-s3", stacktest.S3Endpoint(t), "-state", state,
		"-table", tables["AuditTable"], "-bucket", bucket, "-keys-table", tables["KeysTable"], "-log-table", tables["LogTable"]}
	// check runs reconcile and compares its whole output with agreeing's, the lines of
	// changed (each must be one of it) replaced, and the findings instead of "all agree".
	check := func(t *testing.T, wantCode int, changed map[string]string, findings []string) {
		t.Helper()
		var out, errOut strings.Builder
		code := run(ctx, args, &out, &errOut)
		if code != wantCode {
			t.Errorf("exit status %d, want %d; stderr %s", code, wantCode, errOut.String())
		}
		t.Logf("reconcile %s\n%s", strings.Join(args, " "), out.String())
		want := agreeing
		for from, to := range changed {
			if !strings.Contains(want, "\n"+from+"\n") {
				t.Fatalf("the agreeing output has no line %q", from)
			}
			want = strings.Replace(want, "\n"+from+"\n", "\n"+to+"\n", 1)
		}
		want = strings.TrimSuffix(want, "all agree\n") + strings.Join(findings, "\n") + "\n"
		if d := cmp.Diff(want, out.String()); d != "" {
			t.Errorf("reconcile %s: output (-want +got):\n%s", strings.Join(args, " "), d)
		}
	}

	t.Run("all agree after normal writes", func(t *testing.T) {
		check(t, 0, nil, []string{"all agree"})
	})

	t.Run("an event deleted from the archive", func(t *testing.T) {
		gone := added[2]
		key, rows := partOf(t, store, gone)
		kept := slices.DeleteFunc(slices.Clone(rows), func(r archive.Row) bool { return r.EventID == gone })
		put(t, store, key, kept)
		defer put(t, store, key, rows)
		check(t, 1, map[string]string{
			"CONTACT_ADDED                         6            6            6": "CONTACT_ADDED                         6            5            6  differs",
			"added                                 6            6":              "added                                 5            5",
		}, []string{
			"DIFFERENT  in DynamoDB, not archived: 1 event: " + gone,
			"DIFFERENT  overview.added = 5 but DynamoDB has 6 CONTACT_ADDED events: not archived " + gone,
			"DIFFERENT  the Added log has 5 rows but DynamoDB has 6 CONTACT_ADDED events: missing " + gone,
			"3 differences",
		})
	})

	t.Run("an event only in DynamoDB", func(t *testing.T) {
		only := audit.Event{ID: "01JEVONLYDDB", TenantID: tn, OccurredAt: "2026-11-20T10:00:00.000Z", RecordedAt: "2026-11-20T10:00:00.000Z",
			Type: "CONTACT_DELETED", Category: audit.CategoryContact, Actor: audit.Actor{Type: "user", ID: "u-1"}, Contact: &audit.ContactRef{ID: "c0", Name: "Contact c0"}, Data: map[string]any{}}
		if _, err := w.Write(ctx, []audit.Event{only}); err != nil {
			t.Fatal(err)
		}
		defer unwrite(t, db, w, only)
		check(t, 1, map[string]string{
			"CONTACT_DELETED                       1            1            1": "CONTACT_DELETED                       2            1            1  differs",
		}, []string{
			"DIFFERENT  in DynamoDB, not archived: 1 event: 01JEVONLYDDB",
			"DIFFERENT  in DynamoDB or the archive, not in the log, recorded more than the sequencer's 30s ago: 1 event: 01JEVONLYDDB",
			"DIFFERENT  overview.deleted = 1 but DynamoDB has 2 CONTACT_DELETED events: not archived 01JEVONLYDDB",
			"DIFFERENT  the Deleted log has 1 rows but DynamoDB has 2 CONTACT_DELETED events: missing 01JEVONLYDDB",
			"4 differences",
		})
	})

	t.Run("a duplicated part", func(t *testing.T) {
		key, rows := partOf(t, store, added[0])
		dup, err := archive.PartKey(tn, rows[0].Date(), []string{"duplicate"})
		if err != nil {
			t.Fatal(err)
		}
		put(t, store, dup, rows)
		defer func() {
			if err := store.Delete(ctx, []string{dup}); err != nil {
				t.Fatal(err)
			}
		}()
		var ids []string
		for _, r := range rows {
			ids = append(ids, r.EventID+" ("+strings.Join(sorted(key, dup), ", ")+")")
		}
		slices.Sort(ids)
		check(t, 0, nil, []string{
			fmt.Sprintf("note       in more than one archive object, identical (readers count each once; the compactor removes the copies): %s: %s", count(len(rows)), strings.Join(ids, ", ")),
			"all agree",
		})

		// A copy that is not the same row is a difference: which one a report counts depends
		// on the order the objects are merged in.
		changed := slices.Clone(rows)
		changed[0].Source = "api"
		put(t, store, dup, changed)
		// The readers take the changed copy here, so its leaf is not the one the log recorded.
		check(t, 1, nil, []string{
			fmt.Sprintf("DIFFERENT  in the log with another stored form (the archived event's leaf hash is not the log's): 1 event: %s (leaf %d)", changed[0].EventID, leaf(t, changed[0].EventID)),
			fmt.Sprintf("DIFFERENT  in more than one archive object, not identical (a report depends on which copy it reads): 1 event: %s", ids[slices.IndexFunc(ids, func(s string) bool { return strings.HasPrefix(s, changed[0].EventID) })]),
			fmt.Sprintf("note       in more than one archive object, identical (readers count each once; the compactor removes the copies): %s: %s", count(len(rows)-1), strings.Join(slices.DeleteFunc(slices.Clone(ids), func(s string) bool { return strings.HasPrefix(s, changed[0].EventID) }), ", ")),
			"2 differences",
		})
	})

	// An event written now to DynamoDB and archived by the archiver, but not sequenced.
	unsequenced := func(t *testing.T, id, recorded string) func() {
		t.Helper()
		e := audit.Event{ID: id, TenantID: tn, OccurredAt: "2026-11-21T08:00:00.000Z", RecordedAt: recorded, Type: "COMMENT_ADDED",
			Category: audit.CategoryContact, Actor: audit.Actor{Type: "user", ID: "u-1"}, Contact: &audit.ContactRef{ID: "c0", Name: "Contact c0"},
			Data: map[string]any{"commentId": "m-" + id, "text": "late"}}
		if _, err := w.Write(ctx, []audit.Event{e}); err != nil {
			t.Fatal(err)
		}
		keys := archiveItems(t, db, w.Table, store, id)
		return func() {
			unwrite(t, db, w, e)
			if err := store.Delete(ctx, keys); err != nil {
				t.Fatal(err)
			}
		}
	}

	t.Run("events not sequenced", func(t *testing.T) {
		// Recorded long ago, so the sequencer's bound has passed: missing from the log.
		undoOld := unsequenced(t, "01JEVUNSEQOLD", "2026-11-21T08:00:00.000Z")
		defer undoOld()
		// Recorded just now: not yet sequenced, a note, not a difference.
		undoNew := unsequenced(t, "01JEVUNSEQNEW", audit.FormatTime(time.Now()))
		defer undoNew()
		check(t, 1, map[string]string{
			"COMMENT_ADDED                         1            1            1": "COMMENT_ADDED                         3            3            1  differs",
		}, []string{
			"DIFFERENT  in DynamoDB or the archive, not in the log, recorded more than the sequencer's 30s ago: 1 event: 01JEVUNSEQOLD",
			"note       not yet sequenced, recorded less than the sequencer's 30s ago: 1 event: 01JEVUNSEQNEW",
			"1 differences",
		})
		undoOld()
		check(t, 0, map[string]string{
			"COMMENT_ADDED                         1            1            1": "COMMENT_ADDED                         2            2            1  differs",
		}, []string{
			"note       not yet sequenced, recorded less than the sequencer's 30s ago: 1 event: 01JEVUNSEQNEW",
			"all agree",
		})
	})

	t.Run("a leaf whose event is in neither store", func(t *testing.T) {
		gone := evs[11] // the comment: no report counts it
		index := leaf(t, gone.ID)
		key, rows := partOf(t, store, gone.ID)
		put(t, store, key, slices.DeleteFunc(slices.Clone(rows), func(r archive.Row) bool { return r.EventID == gone.ID }))
		unwrite(t, db, w, gone)
		defer func() {
			put(t, store, key, rows)
			if _, err := w.Write(ctx, []audit.Event{gone}); err != nil {
				t.Fatal(err)
			}
		}()
		check(t, 1, map[string]string{
			"COMMENT_ADDED                         1            1            1": "(in neither store)                    0            0            1  differs",
		}, []string{
			"DIFFERENT  in the log, in neither DynamoDB nor the archive: 1 event: " + gone.ID + fmt.Sprintf(" (leaf %d)", index),
			"1 differences",
		})
	})

	t.Run("an archived event altered after it was sequenced", func(t *testing.T) {
		key, rows := partOf(t, store, added[4])
		changed := slices.Clone(rows)
		i := slices.IndexFunc(changed, func(r archive.Row) bool { return r.EventID == added[4] })
		changed[i].Source = "import"
		put(t, store, key, changed)
		defer put(t, store, key, rows)
		check(t, 1, nil, []string{
			"DIFFERENT  in the log with another stored form (the archived event's leaf hash is not the log's): 1 event: " + fmt.Sprintf("%s (leaf %d)", added[4], leaf(t, added[4])),
			"1 differences",
		})
	})

	// Last: a leaf cannot be taken out of the log again.
	t.Run("an event appended twice", func(t *testing.T) {
		first := leaf(t, added[5])
		// The log appends an event once because its index item says where it is; without it
		// (deleted behind the log's back), the same event is appended again.
		if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(lg.Table), Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "T#" + string(tn) + "#E#" + added[5]}, "sk": &types.AttributeValueMemberS{Value: "I"}}}); err != nil {
			t.Fatal(err)
		}
		_, rows := partOf(t, store, added[5])
		e, err := vlog.NewEntry(&rows[slices.IndexFunc(rows, func(r archive.Row) bool { return r.EventID == added[5] })])
		if err != nil {
			t.Fatal(err)
		}
		if n, err := lg.Append(ctx, tn, []vlog.Entry{e}); n != 1 || err != nil {
			t.Fatalf("append again: %d, %v", n, err)
		}
		check(t, 1, map[string]string{
			"CONTACT_ADDED                         6            6            6":                                                "CONTACT_ADDED                         6            6            7  differs",
			"the log                    12 leaves of the period; size 13, last checkpoint size 13 signed 2026-12-01T10:00:00Z": "the log                    13 leaves of the period; size 14, last checkpoint size 14 signed 2026-12-01T10:00:00Z",
		}, []string{
			"DIFFERENT  in the log more than once (must never happen): 1 event: " + fmt.Sprintf("%s (leaves %d, 13)", added[5], first),
			"1 differences",
		})
	})

	t.Run("usage errors", func(t *testing.T) {
		for _, a := range [][]string{nil, {"-tenant", "acme"}, {"-tenant", "acme", "-from", "2026-11-02", "-to", "2026-11-01"}, {"-tenant", "Not A Tenant!", "-from", "2026-11-01", "-to", "2026-11-02"}, {"-nope"}} {
			var out, errOut strings.Builder
			if code := run(ctx, a, &out, &errOut); code != 2 || out.Len() != 0 || errOut.Len() == 0 {
				t.Errorf("%q: exit %d, stdout %q, stderr %q: want 2, a message on stderr only", a, code, out.String(), errOut.String())
			}
		}
		var out, errOut strings.Builder
		run(ctx, []string{"-h"}, &out, &errOut)
		if !strings.Contains(errOut.String(), "\n"+reconcile.NotCovered+".\n") {
			t.Errorf("help does not say what is not compared:\n%s", errOut.String())
		}
	})
}

func count(n int) string {
	if n == 1 {
		return "1 event"
	}
	return fmt.Sprintf("%d events", n)
}

func sorted(s ...string) []string { slices.Sort(s); return s }

// archiveAll hands every item of the audit table to the archiver as one stream batch, as
// the stream poller does.
func archiveAll(t *testing.T, db *dynamodb.Client, table string, store archive.Store) {
	t.Helper()
	archiveItems(t, db, table, store)
}

// archiveItems hands the items of the events ids (all when none) to the archiver as one
// stream batch, and returns the keys of the objects it wrote (parts and sequence markers).
func archiveItems(t *testing.T, db *dynamodb.Client, table string, store archive.Store, ids ...string) []string {
	t.Helper()
	out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	before := objects(t, store)
	var recs []any
	for i, it := range out.Items {
		if id, _ := it["id"].(*types.AttributeValueMemberS); len(ids) > 0 && (id == nil || !slices.Contains(ids, id.Value)) {
			continue
		}
		recs = append(recs, map[string]any{
			"eventID": fmt.Sprintf("%032x", i), "eventName": "INSERT", "eventSource": "aws:dynamodb",
			"dynamodb": map[string]any{"Keys": audit.ToStreamImage(map[string]types.AttributeValue{"pk": it["pk"], "sk": it["sk"]}),
				"NewImage": audit.ToStreamImage(it), "SequenceNumber": fmt.Sprintf("%021d", i+1), "StreamViewType": "NEW_IMAGE"},
		})
	}
	raw, _ := json.Marshal(map[string]any{"Records": recs})
	var batch archive.StreamBatch
	if err := json.Unmarshal(raw, &batch); err != nil {
		t.Fatal(err)
	}
	resp, err := (&archive.Archiver{Store: store}).Handle(context.Background(), &batch)
	if err != nil || len(resp.BatchItemFailures) > 0 {
		t.Fatalf("archive: %v %+v", err, resp.BatchItemFailures)
	}
	var added []string
	for _, k := range objects(t, store) {
		if !slices.Contains(before, k) {
			added = append(added, k)
		}
	}
	return added
}

// objects lists the keys of every object of the bucket.
func objects(t *testing.T, store archive.Store) []string {
	t.Helper()
	objs, err := store.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]string, len(objs))
	for i, o := range objs {
		keys[i] = o.Key
	}
	return keys
}

// unwrite deletes event e's item from the audit table db.
func unwrite(t *testing.T, db *dynamodb.Client, w *audit.Writer, e audit.Event) {
	t.Helper()
	item, err := w.Keys.Item(&e, w.Retention)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: aws.String(w.Table), Key: map[string]types.AttributeValue{"pk": item["pk"], "sk": item["sk"]}}); err != nil {
		t.Fatal(err)
	}
}

// partOf returns the key and rows of the archive part holding event id.
func partOf(t *testing.T, store archive.Store, id string) (string, []archive.Row) {
	t.Helper()
	objs, err := store.List(context.Background(), "events/tenant="+string(tn)+"/")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		b, err := store.Get(context.Background(), o.Key)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := archive.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(rows, func(r archive.Row) bool { return r.EventID == id }) {
			return o.Key, rows
		}
	}
	t.Fatalf("no archive object holds %s", id)
	return "", nil
}

func put(t *testing.T, store archive.Store, key string, rows []archive.Row) {
	t.Helper()
	b, err := archive.Encode(rows, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Put(context.Background(), key, b); err != nil {
		t.Fatal(err)
	}
}
