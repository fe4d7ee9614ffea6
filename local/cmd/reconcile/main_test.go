package main

import (
	"context"
	"encoding/json"
	"fmt"
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
	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/tenant"
)

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

	// The period's events, and one each side of it that must not count.
	at := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	var evs []audit.Event
	add := func(typ, contact string, data map[string]any, source, channel string) string {
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

	args := []string{"-tenant", string(tn), "-from", "2026-11-01", "-to", "2026-12-01",
		"-dynamodb", stacktest.DynamoDBEndpoint(t), "-s3", stacktest.S3Endpoint(t), "-state", state,
		"-table", tables["AuditTable"], "-bucket", bucket, "-keys-table", tables["KeysTable"]}
	check := func(t *testing.T, wantCode int, want []string) string {
		t.Helper()
		var out, errOut strings.Builder
		code := run(ctx, args, &out, &errOut)
		if code != wantCode {
			t.Errorf("exit status %d, want %d; stderr %s", code, wantCode, errOut.String())
		}
		var got []string
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(l, "DIFFERENT") || strings.HasPrefix(l, "note") || l == "all agree" || strings.HasSuffix(l, " differences") {
				got = append(got, l)
			}
		}
		t.Logf("reconcile %s\n%s", strings.Join(args, " "), out.String())
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("findings (-want +got):\n%s\nwhole output:\n%s", d, out.String())
		}
		return out.String()
	}

	t.Run("all agree after normal writes", func(t *testing.T) {
		out := check(t, 0, []string{"all agree"})
		for _, l := range []string{
			"CONTACT_ADDED                         6            6",
			"COMMENT_ADDED                         1            1",
			"added                                 6            6",
			"merged                                1            1",
			"archived                              1            -",
		} {
			if !strings.Contains(out, l+"\n") {
				t.Errorf("output lacks %q:\n%s", l, out)
			}
		}
	})

	t.Run("an event deleted from the archive", func(t *testing.T) {
		gone := added[2]
		key, rows := partOf(t, store, gone)
		kept := slices.DeleteFunc(slices.Clone(rows), func(r archive.Row) bool { return r.EventID == gone })
		put(t, store, key, kept)
		defer put(t, store, key, rows)
		check(t, 1, []string{
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
		defer func() {
			item, _ := w.Keys.Item(&only, w.Retention)
			if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(w.Table), Key: map[string]types.AttributeValue{"pk": item["pk"], "sk": item["sk"]}}); err != nil {
				t.Fatal(err)
			}
		}()
		check(t, 1, []string{
			"DIFFERENT  in DynamoDB, not archived: 1 event: 01JEVONLYDDB",
			"DIFFERENT  overview.deleted = 1 but DynamoDB has 2 CONTACT_DELETED events: not archived 01JEVONLYDDB",
			"DIFFERENT  the Deleted log has 1 rows but DynamoDB has 2 CONTACT_DELETED events: missing 01JEVONLYDDB",
			"3 differences",
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
		check(t, 0, []string{
			fmt.Sprintf("note       in more than one archive object, identical (readers count each once; the compactor removes the copies): %s: %s", count(len(rows)), strings.Join(ids, ", ")),
			"all agree",
		})

		// A copy that is not the same row is a difference: which one a report counts depends
		// on the order the objects are merged in.
		changed := slices.Clone(rows)
		changed[0].Source = "api"
		put(t, store, dup, changed)
		check(t, 1, []string{
			fmt.Sprintf("DIFFERENT  in more than one archive object, not identical (a report depends on which copy it reads): 1 event: %s", ids[slices.IndexFunc(ids, func(s string) bool { return strings.HasPrefix(s, changed[0].EventID) })]),
			fmt.Sprintf("note       in more than one archive object, identical (readers count each once; the compactor removes the copies): %s: %s", count(len(rows)-1), strings.Join(slices.DeleteFunc(slices.Clone(ids), func(s string) bool { return strings.HasPrefix(s, changed[0].EventID) }), ", ")),
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
		if !strings.Contains(errOut.String(), "not covered yet: the tenant's verifiable (Merkle) log") {
			t.Errorf("help does not say the verifiable log is not covered:\n%s", errOut.String())
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
	out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var recs []any
	for i, it := range out.Items {
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
