package archive_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/devauth"
	"github.com/contrail/contrail/local/devstack"
	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/tenant"
)

// On the local stack (make run's devstack): contact actions through the API reach the
// Parquet archive on disk through the stream poller and the archiver, each event exactly
// once; the compactor, invoked as EventBridge would, leaves one object with a rollup that
// agrees with the audit table.
func TestEndToEndOnLocalStack(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var logs bytes.Buffer
	s, err := devstack.Start(ctx, devstack.Options{
		StateDir:    t.TempDir(),
		Functions:   []string{"CreateContactFunction", "ArchiveContactFunction", "DeleteContactFunction", "ArchiverFunction", "CompactorFunction"},
		Out:         &logs,
		NoSchedules: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		s.Stop()
		if t.Failed() {
			t.Logf("stack output:\n%s", logs.String())
		}
	}()
	const tenant = "e2e"
	api := s.Client(t, devauth.Claims{Tenant: tenant, Roles: []string{"admin"}})
	call := func(method, path string, body any) map[string]any {
		t.Helper()
		var b []byte
		if body != nil {
			b, _ = json.Marshal(body)
		}
		status, raw := api.Do(method, path, "application/json", string(b))
		if status >= 300 {
			t.Fatalf("%s %s = %d %s", method, path, status, raw)
		}
		var out map[string]any
		json.Unmarshal(raw, &out)
		return out
	}

	const n = 12
	start := time.Now()
	var ids []string
	for i := range n {
		c := call(http.MethodPost, "/v1/contacts", map[string]any{"name": fmt.Sprintf("Contact %02d", i), "email": fmt.Sprintf("c%02d@example.com", i)})
		ids = append(ids, c["id"].(string))
	}
	for _, id := range ids[:4] {
		call(http.MethodPost, "/v1/contacts/"+id+"/archive", nil)
	}
	for _, id := range ids[4:6] {
		call(http.MethodDelete, "/v1/contacts/"+id, nil)
	}

	// The audit table is the truth: every event the actions recorded.
	want := auditEvents(t, ctx, s.DynamoDB(), s.Tables["AuditTable"], tenant)
	if len(want) != n+4+2 {
		t.Fatalf("audit table holds %d events, want %d", len(want), n+6)
	}
	dates := map[string]bool{}
	for _, e := range want {
		dates[audit.Day(e.OccurredAt)] = true
	}

	// The S3 stand-in keeps objects as plain files: read the archive from disk.
	st := &archive.DirStore{Dir: filepath.Join(s.StateDir, "s3", s.Buckets["ArchiveBucket"])}
	if _, err := os.Stat(st.Dir); err != nil {
		t.Fatal(err)
	}
	var got map[string]audit.Event
	for {
		got = readArchive(t, st, tenant, dates)
		if len(got) >= len(want) || ctx.Err() != nil || time.Since(start) > 2*time.Minute {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("%d events archived %.1f s after the first request", len(got), time.Since(start).Seconds())
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("archived events (-audit table +archive):\n%s", d)
	}

	payload, err := os.ReadFile(filepath.Join(s.Root, "events", "compactor-scheduled.json"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Invoke(ctx, "CompactorFunction", payload)
	if err != nil {
		t.Fatalf("compactor: %v %s", err, out)
	}
	if d := cmp.Diff(want, readArchive(t, st, tenant, dates)); d != "" {
		t.Errorf("archived events after compaction (-audit table +archive):\n%s", d)
	}
	r := &archive.Reader{Store: st}
	var total int64
	for d := range dates {
		day, err := r.Day(ctx, tenant, d)
		if err != nil {
			t.Fatal(err)
		}
		if len(day.Listed) != 1 || len(day.Compacted) != 1 {
			t.Errorf("%s after compaction: %+v, want one compacted object", d, day)
		}
		ru, err := r.ReadRollup(ctx, tenant, d)
		if err != nil || ru == nil {
			t.Fatalf("rollup of %s: %v %v", d, ru, err)
		}
		total += ru.EventCount
	}
	if total != int64(len(want)) {
		t.Errorf("rollups count %d events, want %d", total, len(want))
	}
}

func auditEvents(t *testing.T, ctx context.Context, db *dynamodb.Client, table string, tenant tenant.ID) map[string]audit.Event {
	t.Helper()
	out := map[string]audit.Event{}
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			var head struct {
				ItemType string `dynamodbav:"itemType"`
				TenantID string `dynamodbav:"tenantId"`
			}
			attributevalue.UnmarshalMap(it, &head)
			if head.ItemType != audit.ItemType || head.TenantID != tenant.String() {
				continue
			}
			e, err := audit.FromItem(it)
			if err != nil {
				t.Fatal(err)
			}
			out[e.ID] = e
		}
	}
	return out
}

func readArchive(t *testing.T, st archive.Store, tenant tenant.ID, dates map[string]bool) map[string]audit.Event {
	t.Helper()
	var ds []string
	for d := range dates {
		ds = append(ds, d)
	}
	sort.Strings(ds)
	return archive.Archived(t, st, tenant, ds...)
}
