package export_test

import (
	"context"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/export"
	"github.com/contrail/contrail/shared/tenant"
)

// jobs returns every export job of the jobs table, by id.
func (f *fixture) jobs(t *testing.T) []export.Job {
	t.Helper()
	out, err := f.DB.Scan(context.Background(), &dynamodb.ScanInput{
		TableName:                 aws.String(f.Tables["JobsTable"]),
		FilterExpression:          aws.String("sk = :job"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":job": &types.AttributeValueMemberS{Value: "JOB"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var js []export.Job
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &js); err != nil {
		t.Fatal(err)
	}
	sort.Slice(js, func(i, k int) bool { return js[i].From < js[k].From })
	return js
}

type period struct{ From, To, ID string }

func periodsOf(js []export.Job) []period {
	var ps []period
	for _, j := range js {
		ps = append(ps, period{j.From, j.To, j.ID})
	}
	return ps
}

func dailyPeriod(tenant tenant.ID, schedule, from, to string) period {
	return period{from, to, export.ScheduledJobID(tenant, schedule, utc(from), utc(to))}
}

func TestRunnerRunsEachPeriodOnce(t *testing.T) {
	f := newFixture(t)
	// Created Monday 30 November 08:20 in Jakarta: the first period due is that day.
	resp := scheduleCall("PUT", "daily", `{"report":"added","frequency":"daily","format":"csv","recipients":["ops@acme.example.com"],"tz":"Asia/Jakarta"}`).do(t, f.svc.PutSchedule)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT: %d %s", resp.StatusCode, resp.Body)
	}
	rn := &export.Runner{Store: f.svc.Store, Clock: func() time.Time { return *f.Now }}
	nov30 := dailyPeriod("acme", "daily", "2026-11-29T17:00:00.000Z", "2026-11-30T17:00:00.000Z")

	steps := []struct {
		name  string
		at    string
		want  export.Result
		jobs  []period
		next  string
		check func(t *testing.T)
	}{
		{"before the day ends nothing is due", "2026-11-30T16:59:00Z", export.Result{}, nil, "2026-11-30T17:00:00.000Z", nil},
		{"just after the day ends its job is created", "2026-11-30T17:05:00Z", export.Result{Due: 1, Created: 1}, []period{nov30}, "2026-12-01T17:00:00.000Z", func(t *testing.T) {
			want := export.Job{
				PK: export.JobPK("acme", export.ID(nov30.ID)), SK: "JOB", TenantID: "acme", ID: nov30.ID, Report: "added",
				From: nov30.From, To: nov30.To, TZ: "Asia/Jakarta", Format: "csv", Recipients: []string{"ops@acme.example.com"},
				Schedule: "daily", Status: "pending", CreatedAt: "2026-11-30T17:05:00.000Z",
				ExpiresAt: utc("2026-11-30T17:05:00Z").Add(export.JobTTL).Unix(), DueKey: "OPEN", Deadline: "2026-11-30T18:05:00.000Z",
			}
			if diff := cmp.Diff([]export.Job{want}, f.jobs(t)); diff != "" {
				t.Errorf("scheduled job (-want +got):\n%s", diff)
			}
		}},
		{"running again for the same period does nothing", "2026-11-30T17:20:00Z", export.Result{}, []period{nov30}, "2026-12-01T17:00:00.000Z", nil},
		// (No worker runs here: the first job, pending for days, is failed as never started.)
		{"running three days late exports each missed day once", "2026-12-04T02:00:00Z", export.Result{Due: 1, Created: 3, Abandoned: 1}, []period{nov30,
			dailyPeriod("acme", "daily", "2026-11-30T17:00:00.000Z", "2026-12-01T17:00:00.000Z"),
			dailyPeriod("acme", "daily", "2026-12-01T17:00:00.000Z", "2026-12-02T17:00:00.000Z"),
			dailyPeriod("acme", "daily", "2026-12-02T17:00:00.000Z", "2026-12-03T17:00:00.000Z"),
		}, "2026-12-04T17:00:00.000Z", nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			*f.Now = utc(st.at)
			got, err := rn.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got != st.want {
				t.Errorf("Run = %+v, want %+v", got, st.want)
			}
			if diff := cmp.Diff(st.jobs, periodsOf(f.jobs(t))); diff != "" {
				t.Errorf("jobs (-want +got):\n%s", diff)
			}
			sc, err := f.svc.Store.Schedule(context.Background(), "acme", "daily")
			if err != nil {
				t.Fatal(err)
			}
			if sc.NextRunAt != st.next {
				t.Errorf("nextRunAt = %s, want %s", sc.NextRunAt, st.next)
			}
			if st.check != nil {
				st.check(t)
			}
		})
	}

	// A run that read the schedule before another run advanced it (a stale index read, or
	// two runs at once) creates nothing new: same ids, conditional advance.
	t.Run("a stale read of the schedule changes nothing", func(t *testing.T) {
		stale := &export.Schedule{TenantID: "acme", Name: "daily", Report: "added", Frequency: "daily", Format: "csv",
			Recipients: []string{"ops@acme.example.com"}, TZ: "Asia/Jakarta", NextRunAt: "2026-12-01T17:00:00.000Z"}
		created, err := f.svc.Store.CreateJob(context.Background(), &export.Job{TenantID: "acme",
			ID: export.ScheduledJobID("acme", "daily", utc("2026-11-30T17:00:00Z"), utc("2026-12-01T17:00:00Z")), Status: "pending", CreatedAt: "2026-12-04T02:00:00.000Z"})
		if err != nil || created {
			t.Errorf("CreateJob of an existing period: created=%v err=%v, want false, nil", created, err)
		}
		if err := f.svc.Store.Advance(context.Background(), stale, stale.NextRunAt, "2026-12-02T17:00:00.000Z", "x"); err == nil {
			t.Errorf("Advance from a stale nextRunAt succeeded")
		}
		if n := len(f.jobs(t)); n != 4 {
			t.Errorf("%d jobs, want 4", n)
		}
	})

}

func TestRunnerBoundsCatchUp(t *testing.T) {
	f := newFixture(t)
	scheduleCall("PUT", "d", `{"report":"overview","frequency":"daily","format":"csv","recipients":["ops@acme.example.com"]}`).do(t, f.svc.PutSchedule)
	rn := &export.Runner{Store: f.svc.Store, Clock: func() time.Time { return *f.Now }}
	*f.Now = utc("2026-12-21T00:30:00Z") // 20 days missed (1 to 20 December)
	got, err := rn.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := (export.Result{Due: 1, Created: export.MaxCatchUp, Skipped: 20 - export.MaxCatchUp + 1}); got != want {
		t.Errorf("Run = %+v, want %+v", got, want)
	}
	var want []period
	for d := 14; d <= 20; d++ {
		from := time.Date(2026, 12, d, 0, 0, 0, 0, time.UTC)
		want = append(want, dailyPeriod("acme", "d", from.Format("2006-01-02T15:04:05.000Z"), from.AddDate(0, 0, 1).Format("2006-01-02T15:04:05.000Z")))
	}
	if diff := cmp.Diff(want, periodsOf(f.jobs(t))); diff != "" {
		t.Errorf("jobs: the latest %d days (-want +got):\n%s", export.MaxCatchUp, diff)
	}
}

func TestRunnerFailsAbandonedJobs(t *testing.T) {
	f := newFixture(t)
	rn := &export.Runner{Store: f.svc.Store, Clock: func() time.Time { return *f.Now }}
	mk := func(id, createdAt string, claim bool) *export.Job {
		j := &export.Job{TenantID: "acme", ID: id, Report: "added", Format: "csv", Status: "pending",
			From: "2026-11-01T00:00:00.000Z", To: "2026-11-02T00:00:00.000Z", TZ: "UTC", CreatedAt: createdAt}
		if _, err := f.svc.Store.CreateJob(context.Background(), j); err != nil {
			t.Fatal(err)
		}
		if claim {
			if err := f.svc.Store.Claim(context.Background(), j, now, 10*time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		return j
	}
	dead := mk("01KB0C9Q2X8V6M3N4P5R7S8T90", "2026-11-30T01:20:00.000Z", true)
	alive := mk("01KB0C9Q2X8V6M3N4P5R7S8T91", "2026-11-30T01:20:00.000Z", true)
	finished := mk("01KB0C9Q2X8V6M3N4P5R7S8T92", "2026-11-30T01:20:00.000Z", true)
	waiting := mk("01KB0C9Q2X8V6M3N4P5R7S8T93", "2026-11-30T01:20:00.000Z", false)      // within its hour
	neverStarted := mk("01KB0C9Q2X8V6M3N4P5R7S8T94", "2026-11-30T00:20:00.000Z", false) // its hour is over
	if err := f.svc.Store.Finish(context.Background(), finished, 1, "k", now); err != nil {
		t.Fatal(err)
	}
	// alive's worker took it over again later, with a fresh lease.
	*f.Now = now.Add(11 * time.Minute)
	if err := f.svc.Store.Claim(context.Background(), alive, *f.Now, 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	got, err := rn.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := (export.Result{Abandoned: 2}); got != want {
		t.Errorf("Run = %+v, want %+v", got, want)
	}
	var states [][3]string
	for _, j := range []*export.Job{dead, alive, finished, waiting, neverStarted} {
		s := f.job(t, "acme", j.ID)
		states = append(states, [3]string{s.Status, s.Error, s.DueKey})
	}
	want := [][3]string{
		{"failed", "The export stopped before it finished; create it again (a shorter period finishes sooner).", ""},
		{"running", "", "OPEN"},
		{"done", "", ""},
		{"pending", "", "OPEN"},
		{"failed", "The export did not start in time; create it again.", ""},
	}
	if diff := cmp.Diff(want, states); diff != "" {
		t.Errorf("jobs (status, error, dueKey) (-want +got):\n%s", diff)
	}
}
