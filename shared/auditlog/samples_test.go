package auditlog_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/stacktest"
)

func sample(t *testing.T, name string) eventsReq {
	t.Helper()
	return stacktest.Sample[eventsReq](t, name)
}

// TestSamples runs the events/ samples of the audit log functions through their routes.
func TestSamples(t *testing.T) {
	f := newFixture(t, time.Date(2026, 11, 30, 1, 20, 0, 0, time.UTC))
	batch := decode[map[string][]string](t, call(t, f.ingest(), sample(t, "ingest-audit-events-batch.json")), 202)["ids"]
	session := decode[map[string][]string](t, call(t, f.ingestCobrowse(), sample(t, "ingest-cobrowse-events-session.json")), 202)["ids"]
	if len(batch) != 3 || len(session) != 4 {
		t.Fatalf("ids %v and %v, want 3 and 4", batch, session)
	}

	rejected := decode[errorBody](t, call(t, f.ingest(), sample(t, "ingest-audit-events-contact-type-rejected.json")), 400)
	want := invalid("Fix the fields listed in error.fields: events[1].type.", map[string]string{"events[1].type": "is recorded by Contrail itself and cannot be ingested"})
	if diff := cmp.Diff(want, rejected); diff != "" {
		t.Errorf("rejected sample (-want +got):\n%s", diff)
	}

	byType := decode[page](t, call(t, f.query(), sample(t, "query-audit-events-by-type.json")), 200)
	var got []string
	for _, e := range byType.Items {
		got = append(got, e.Type+" "+e.ID+" "+e.Actor.ID)
	}
	if diff := cmp.Diff([]string{"LOGGED_IN " + batch[1] + " agent-17", "START_CALL " + batch[0] + " agent-17"}, got); diff != "" {
		t.Errorf("query sample (-want +got):\n%s", diff)
	}

	forbidden := call(t, f.query(), sample(t, "query-audit-events-agent-forbidden.json"))
	if forbidden.StatusCode != 403 {
		t.Errorf("agent sample: status %d, want 403", forbidden.StatusCode)
	}

	sess := decode[page](t, call(t, f.session(), sample(t, "cobrowse-session-first-page.json")), 200)
	got = nil
	for _, e := range sess.Items {
		got = append(got, e.ID)
	}
	if diff := cmp.Diff(session, got); diff != "" || sess.NextCursor != nil {
		t.Errorf("session sample (-want +got):\n%s", diff)
	}
}
