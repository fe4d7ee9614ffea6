package vlog

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/export"
	"github.com/contrail/contrail/shared/export/source"
	"github.com/contrail/contrail/shared/export/worker"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/mail"
	"github.com/contrail/contrail/shared/s3bucket"
	"github.com/contrail/contrail/shared/tenant"
	"github.com/contrail/contrail/shared/vlog/bundle"
)

// The period every export of these tests covers: the day the events occur.
var tamperDay = "2026-12-01"

// exportJob runs a verifiable export the way the stack does: a job of the audit report in
// format bundle, run by the export worker (its Source the report sources with x as the bundle
// writer), streamed to S3 by the export file path; it checks the job is done with the file
// name and type of a bundle, and returns the file, decompressed.
func (h *harness) exportJob(x *Exporter, tn tenant.ID) []byte {
	t := h.t
	t.Helper()
	ctx := context.Background()
	bucket := stacktest.Bucket(t)
	w := worker.New(worker.Config{
		JobsTable: h.tables["JobsTable"], Exports: s3bucket.Config{Name: bucket},
		Audit: audit.StoreConfig{Table: h.tables["AuditTable"], Shards: 4, Retention: testRetention},
		Mail:  mail.Identity{From: "exports@contrail.example.com"}, Timeout: time.Minute,
	}, h.db, stacktest.S3(t), stacktest.SES(t), &source.Reports{Bundles: x})
	w.Clock, w.IDs = h.Now, ident.NewGenerator(h.Now)
	now := h.Now()
	j := &export.Job{
		TenantID: tn, ID: ident.NewGenerator(h.Now).New(), Report: export.ReportAudit, Format: export.FormatBundle,
		From: tamperDay + "T00:00:00.000Z", To: "2026-12-02T00:00:00.000Z", TZ: "UTC", Status: export.StatusPending,
		CreatedAt: audit.FormatTime(now), CreatedBy: "u-1", CreatedByName: "Rina Admin", ExpiresAt: now.Add(export.JobTTL).Unix(),
	}
	if created, err := w.Jobs.CreateJob(ctx, j); err != nil || !created {
		t.Fatalf("create job: %v %v", created, err)
	}
	if err := w.Run(ctx, tn, export.ID(j.ID)); err != nil {
		t.Fatal(err)
	}
	done, err := w.Jobs.Job(ctx, tn, export.ID(j.ID))
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != export.StatusDone || done.Key != "exports/"+tn.String()+"/"+j.ID+".json.gz" {
		t.Fatalf("job %s %q %q, want done with its bundle", done.Status, done.Key, done.Error)
	}
	out, err := stacktest.S3(t).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(done.Key)})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	wantDisp := fmt.Sprintf("attachment; filename=%q", "contrail-log-"+tn.String()+"-2026-12-01-2026-12-02.json.gz")
	if aws.ToString(out.ContentType) != "application/gzip" || aws.ToString(out.ContentDisposition) != wantDisp {
		t.Errorf("file type %q, disposition %q", aws.ToString(out.ContentType), aws.ToString(out.ContentDisposition))
	}
	zr, err := gzip.NewReader(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// verifyLines is what contrail-verify prints for a bundle: the verdict, then one line per
// problem (bundle.VerifyReader, the entry point it runs).
func (h *harness) verifyLines(b []byte, tn tenant.ID, saved []byte, now time.Time) []string {
	h.t.Helper()
	rep, err := bundle.VerifyReader(bytes.NewReader(b), bundle.Options{Keys: []string{h.signer.VerifierKey()}, Tenant: tn.String(), Saved: saved, Now: now})
	if err != nil {
		h.t.Fatal(err)
	}
	lines := []string{rep.Verdict()}
	for _, p := range rep.Problems {
		lines = append(lines, "  "+p.Message)
	}
	return lines
}

// seed records n events of tenant on the test day (in the audit table when inTable) from
// second `from`, and sequences them.
func (h *harness) seed(tn tenant.ID, from, n int, inTable bool) []audit.Event {
	h.t.Helper()
	evs := sampleEvents(tn, tamperDay, from, n)
	h.record(evs, inTable)
	if err := h.run(h.newLog()); err != nil {
		h.t.Fatal(err)
	}
	return evs
}

// auditKey is the audit table key of an event.
func auditKey(e *audit.Event) map[string]types.AttributeValue {
	return testAuditKeys.KeysOf(e)
}

// rewriteParts replaces each archive part holding the tenant's events of the test day by the
// same rows passed through edit, and deletes a part left empty (the archive is write-once in
// AWS; this is whoever gets past that).
func (h *harness) rewriteParts(tn tenant.ID, edit func([]archive.Row) []archive.Row) {
	h.t.Helper()
	ctx := context.Background()
	prefix, _ := archive.DayPrefix(tn, tamperDay)
	objs, err := h.archive.List(ctx, prefix)
	if err != nil || len(objs) == 0 {
		h.t.Fatalf("parts of %s: %v %v", tn, objs, err)
	}
	for _, o := range objs {
		b, err := h.archive.Get(ctx, o.Key)
		if err != nil {
			h.t.Fatal(err)
		}
		rows, err := archive.Decode(b)
		if err != nil {
			h.t.Fatal(err)
		}
		if rows = edit(rows); len(rows) == 0 {
			if err := h.archive.Delete(ctx, []string{o.Key}); err != nil {
				h.t.Fatal(err)
			}
			continue
		}
		if b, err = archive.Encode(rows, nil); err != nil {
			h.t.Fatal(err)
		}
		if err := h.archive.Put(ctx, o.Key, b); err != nil {
			h.t.Fatal(err)
		}
	}
}

// without returns rows but those of the events.
func without(evs ...audit.Event) func([]archive.Row) []archive.Row {
	return func(rows []archive.Row) []archive.Row {
		var kept []archive.Row
		for _, r := range rows {
			gone := false
			for _, e := range evs {
				gone = gone || r.EventID == e.ID
			}
			if !gone {
				kept = append(kept, r)
			}
		}
		return kept
	}
}

// describeEvent names an event as contrail-verify does: "<id> (<occurred_at>, index <i>)".
func describeEvent(e audit.Event, i int) string {
	return fmt.Sprintf("%s (%s, index %d)", e.ID, e.OccurredAt, i)
}

// TestVerifiableExportTamper: on the real stand-ins and the export's own path (a job, the
// worker, the file in S3), each way of tampering with what an export is made of makes
// verification fail naming the problem, and the honest cases verify. One stack for all: each
// case has a tenant of its own (the fork a second stack, the storage it serves).
func TestVerifiableExportTamper(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	x := h.exporter()

	t.Run("honest, with duplicates delivered by the stream", func(t *testing.T) {
		h.t = t
		evs := sampleEvents("dup", tamperDay, 0, 30)
		h.record(evs, true)
		h.archiveRows(rowsOf(t, evs[10:20])) // a retried stream batch, archived again
		if err := h.run(h.newLog()); err != nil {
			t.Fatal(err)
		}
		h.archiveRows(rowsOf(t, evs[:5])) // and again after they were sequenced
		if err := h.run(h.newLog()); err != nil {
			t.Fatal(err)
		}
		stacktest.Diff(t, "contrail-verify", []string{
			"OK contrail/dup: 30 events [0,30) verified against checkpoint 30 signed " + h.checkpointTime("dup"),
		}, h.verifyLines(h.exportJob(x, "dup"), "dup", nil, h.Now()))
	})

	t.Run("one byte of one event changed in DynamoDB", func(t *testing.T) {
		h.t = t
		evs := h.seed("ddb", 0, 20, true)
		_, err := h.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(h.tables["AuditTable"]), Key: auditKey(&evs[7]),
			UpdateExpression:          aws.String("SET actor.#name = :v"),
			ExpressionAttributeNames:  map[string]string{"#name": "name"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberS{Value: "Ana <Lina>"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		stacktest.Diff(t, "contrail-verify", []string{
			"FAIL contrail/ddb: 1 problem in events [0,20) against checkpoint 20 signed " + h.checkpointTime("ddb"),
			"  event " + evs[7].ID + " at index 7 was altered: its bytes are not the leaf the log recorded at that index",
		}, h.verifyLines(h.exportJob(x, "ddb"), "ddb", nil, h.Now()))
	})

	t.Run("one byte of one event changed in a Parquet object", func(t *testing.T) {
		h.t = t
		evs := h.seed("pq", 0, 20, false) // the audit table no longer holds them: the export reads the archive
		h.rewriteParts("pq", func(rows []archive.Row) []archive.Row {
			for i := range rows {
				if rows[i].EventID == evs[12].ID {
					rows[i].ActorName = "Ana <Lima)"
				}
			}
			return rows
		})
		stacktest.Diff(t, "contrail-verify", []string{
			"FAIL contrail/pq: 1 problem in events [0,20) against checkpoint 20 signed " + h.checkpointTime("pq"),
			"  event " + evs[12].ID + " at index 12 was altered: its bytes are not the leaf the log recorded at that index",
		}, h.verifyLines(h.exportJob(x, "pq"), "pq", nil, h.Now()))
	})

	t.Run("one event deleted", func(t *testing.T) {
		h.t = t
		evs := h.seed("del", 0, 20, true)
		if _, err := h.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(h.tables["AuditTable"]), Key: auditKey(&evs[9])}); err != nil {
			t.Fatal(err)
		}
		h.rewriteParts("del", without(evs[9]))
		stacktest.Diff(t, "contrail-verify", []string{
			"FAIL contrail/del: 1 problem in events [0,20) against checkpoint 20 signed " + h.checkpointTime("del"),
			"  index 9 missing: an event between " + describeEvent(evs[8], 8) + " and " + describeEvent(evs[10], 10) + " was deleted",
		}, h.verifyLines(h.exportJob(x, "del"), "del", nil, h.Now()))
	})

	t.Run("two events swapped", func(t *testing.T) {
		h.t = t
		evs := h.seed("swap", 0, 20, true)
		// The log's record of which event is at which index, edited: 4 and 5 change places.
		_, err := h.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(h.table), Key: (&state{table: h.table}).key(appendPK("swap"), appendSK(0)),
			UpdateExpression: aws.String("SET ids[4] = :b, ids[5] = :a, times[4] = :tb, times[5] = :ta"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":a": &types.AttributeValueMemberS{Value: evs[4].ID}, ":b": &types.AttributeValueMemberS{Value: evs[5].ID},
				":ta": num(evs[4].Occurred().UnixMilli()), ":tb": num(evs[5].Occurred().UnixMilli()),
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		stacktest.Diff(t, "contrail-verify", []string{
			"FAIL contrail/swap: 1 problem in events [0,20) against checkpoint 20 signed " + h.checkpointTime("swap"),
			"  events swapped: event " + evs[5].ID + " is at index 4 and event " + evs[4].ID + " at index 5, each where the log recorded the other",
		}, h.verifyLines(h.exportJob(x, "swap"), "swap", nil, h.Now()))
	})

	t.Run("the newest events cut off with the checkpoints after them", func(t *testing.T) {
		h.t = t
		h.seed("cut", 0, 10, true)
		first := h.checkpointsKept("tenant=cut/")
		h.Advance(time.Minute)
		evs := h.seed("cut", 10, 10, true)
		saved := h.latestSigned("cut") // the tenant saved checkpoint 20 (contrail-verify -save)
		// Events 10-19 removed from the table and the archive, and the latest checkpoint put
		// back to the one before them (the locked copies cannot be deleted, but need not be shown).
		for i := 10; i < 20; i++ {
			if _, err := h.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(h.tables["AuditTable"]), Key: auditKey(&evs[i-10])}); err != nil {
				t.Fatal(err)
			}
		}
		h.rewriteParts("cut", without(evs...))
		old, err := h.checkpoints.Get(ctx, first[0])
		if err != nil {
			t.Fatal(err)
		}
		latest, _ := CheckpointKey("cut")
		if err := h.archive.Put(ctx, latest, old); err != nil {
			t.Fatal(err)
		}
		oldAt := h.checkpointTime("cut")
		file := h.exportJob(x, "cut")
		stacktest.Diff(t, "contrail-verify -saved", []string{
			"FAIL contrail/cut: 1 problem in events [0,10) against checkpoint 10 signed " + oldAt,
			"  the log shrank from 20 to 10: the newest events were removed (saved checkpoint 20 signed " + checkpointTimeOf(t, saved) + "; the bundle's checkpoint 10 signed " + oldAt + ")",
		}, h.verifyLines(file, "cut", saved, h.Now()))
		// Without the saved checkpoint: three hours on, no heartbeat newer than checkpoint 10
		// can be shown (the heartbeat would have signed one hourly).
		later := h.Now().Add(3 * time.Hour)
		stacktest.Diff(t, "contrail-verify -max-age 2h", []string{
			"FAIL contrail/cut: 1 problem in events [0,10) against checkpoint 10 signed " + oldAt,
			"  stale: newest checkpoint is from " + oldAt + ", " + later.Sub(mustTime(t, oldAt)).String() + " before " + later.Format(time.RFC3339) + " (at most 2h0m0s allowed); events after it may have been cut off",
		}, h.verifyLines(file, "cut", nil, later))
	})

	t.Run("a different tree of the same size (a fork)", func(t *testing.T) {
		h.t = t
		evs := h.seed("fork", 0, 10, true)
		saved := h.latestSigned("fork")
		// Another stack's storage for the same tenant, served instead: the same events but the
		// fourth, a log built and signed over them (by whoever holds the key).
		f := newHarness(t)
		f.Clock = h.Clock
		forked := append([]audit.Event(nil), evs...)
		forked[3].Actor.Name = "Someone Else"
		f.record(forked, true)
		if err := f.run(f.newLog()); err != nil {
			t.Fatal(err)
		}
		stacktest.Diff(t, "contrail-verify -saved", []string{
			"FAIL contrail/fork: 1 problem in events [0,10) against checkpoint 10 signed " + f.checkpointTime("fork"),
			"  fork: the saved checkpoint 10 signed " + checkpointTimeOf(t, saved) + " and the bundle's checkpoint 10 signed " + f.checkpointTime("fork") + " are trees of the same size with different roots: the log was rewritten",
		}, f.verifyLines(f.exportJob(f.exporter(), "fork"), "fork", saved, h.Now()))
	})

	t.Run("honest, with an erased contact", func(t *testing.T) {
		h.t = t
		keys := stacktest.Keyring(t, h.tables["KeysTable"])
		svc := contact.NewWith(contact.Config{ContactsTable: h.tables["ContactsTable"], Audit: audit.StoreConfig{Table: h.tables["AuditTable"], Shards: 4, Retention: testRetention}, CursorSecret: "s"},
			h.db, h.Now, ident.NewGenerator(h.Now))
		svc.Keyring = keys
		archived := map[string]bool{}
		admin := stacktest.Caller{Tenant: "erase", Sub: "u-1", Name: "Rina Admin", Groups: "[admin]"}
		resp := stacktest.Call(t, httpapi.Route(httpapi.ContactRoles, svc.Create), stacktest.Request{Route: "POST /v1/contacts", Body: `{"name":"Siti","email":"siti@example.com"}`, As: admin, RequestID: "r-1"})
		id, _ := stacktest.JSON(t, resp.Body).(map[string]any)["id"].(string)
		if resp.StatusCode != 201 || id == "" {
			t.Fatalf("create: %d %s", resp.StatusCode, resp.Body)
		}
		h.archiveTable("erase", archived)
		if err := h.run(h.newLog()); err != nil {
			t.Fatal(err)
		}
		resp = stacktest.Call(t, httpapi.Route(httpapi.AdminRoles, svc.Erase), stacktest.Request{Route: "POST /v1/contacts/{id}/erase", Params: map[string]string{"id": id}, As: admin, RequestID: "r-2"})
		if resp.StatusCode != 200 {
			t.Fatalf("erase: %d %s", resp.StatusCode, resp.Body)
		}
		h.archiveTable("erase", archived)
		if err := h.run(h.newLog()); err != nil {
			t.Fatal(err)
		}
		file := h.exportJob(x, "erase")
		stacktest.Diff(t, "contrail-verify", []string{
			"OK contrail/erase: 2 events [0,2) verified against checkpoint 2 signed " + h.checkpointTime("erase"),
		}, h.verifyLines(file, "erase", nil, h.Now()))
		if bytes.Contains(file, []byte("Siti")) || bytes.Contains(file, []byte("siti@example.com")) {
			t.Errorf("the bundle holds the erased contact's personal data in clear")
		}
	})

	t.Run("honest, across a compaction", func(t *testing.T) {
		h.t = t
		h.seed("compact", 0, 10, false)
		h.seed("compact", 10, 10, false)
		c := &archive.Compactor{Store: h.archive, Clock: h.Now, Log: quiet}
		if _, err := c.CompactDay(ctx, "compact", tamperDay); err != nil {
			t.Fatal(err)
		}
		if parts, _ := h.archive.List(ctx, "events/tenant=compact/date="+tamperDay+"/part-"); len(parts) != 0 {
			t.Fatalf("parts left after compaction: %v", parts)
		}
		stacktest.Diff(t, "contrail-verify", []string{
			"OK contrail/compact: 20 events [0,20) verified against checkpoint 20 signed " + h.checkpointTime("compact"),
		}, h.verifyLines(h.exportJob(x, "compact"), "compact", nil, h.Now()))
	})

	t.Run("honest, after the sequencer was killed mid-append and restarted", func(t *testing.T) {
		h.t = t
		h.seed("crash", 0, 10, true)
		h.record(sampleEvents("crash", tamperDay, 10, 10), true)
		if err := h.run(h.killedLog("commit")); !errors.Is(err, errKilled) {
			t.Fatalf("killed run: %v", err)
		}
		if err := h.run(h.newLog()); err != nil {
			t.Fatal(err)
		}
		stacktest.Diff(t, "contrail-verify", []string{
			"OK contrail/crash: 20 events [0,20) verified against checkpoint 20 signed " + h.checkpointTime("crash"),
		}, h.verifyLines(h.exportJob(x, "crash"), "crash", nil, h.Now()))
	})
}

// checkpointTime is the signing time of the tenant's latest checkpoint, as a verdict says it.
func (h *harness) checkpointTime(tn tenant.ID) string {
	return checkpointTimeOf(h.t, h.latestSigned(tn))
}

func checkpointTimeOf(t testing.TB, signed []byte) string {
	t.Helper()
	body, _, _ := strings.Cut(string(signed), "\n\n")
	c, err := bundle.ParseCheckpointBody(body + "\n")
	if err != nil {
		t.Fatal(err)
	}
	return c.Time.Format(time.RFC3339)
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// archiveTable archives the tenant's events of the audit table not archived yet, as the
// archiver does from the table's stream (each item's stream image to its row).
func (h *harness) archiveTable(tn tenant.ID, archived map[string]bool) {
	h.t.Helper()
	out, err := h.db.Scan(context.Background(), &dynamodb.ScanInput{
		TableName: aws.String(h.tables["AuditTable"]), ConsistentRead: aws.Bool(true),
		FilterExpression:          aws.String("tenantId = :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberS{Value: tn.String()}},
	})
	if err != nil || out.LastEvaluatedKey != nil {
		h.t.Fatalf("scan the audit table: %v", err)
	}
	var rows []archive.Row
	for _, item := range out.Items {
		r, err := rowOfItem(item)
		if err != nil {
			h.t.Fatal(err)
		}
		if !archived[r.EventID] {
			archived[r.EventID] = true
			rows = append(rows, r)
		}
	}
	h.archiveRows(rows)
}

// killedLog returns a writer that stops at the named step of an append, as a killed function
// would (errKilled).
func (h *harness) killedLog(step string) *Log {
	l := h.newLog()
	l.crash = func(s string) error {
		if s == step {
			return errKilled
		}
		return nil
	}
	return l
}
