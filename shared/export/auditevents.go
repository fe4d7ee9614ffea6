package export

import (
	"maps"
	"slices"
	"time"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/httpapi"
)

// event returns an access event of typ by the caller of r: the admin who changed or ran a
// schedule. It goes into the transaction of the write it records.
func (sv *Service) event(r *httpapi.Request, typ string, now time.Time, data map[string]any) *audit.Event {
	at := audit.FormatTime(now)
	ev := &audit.Event{
		ID: sv.IDs.At(now), TenantID: r.TenantID, OccurredAt: at, RecordedAt: at,
		Type: typ, Category: audit.CategoryOf(typ),
		Actor:  audit.Actor{Type: audit.ActorUser, ID: r.UserID, Name: r.Name},
		Source: audit.SourceUser, Data: data,
	}
	if ip, ua, id := r.SourceIP(), r.UserAgent(), r.RequestID(); ip != "" || ua != "" || id != "" {
		ev.Context = &audit.Context{IP: ip, UserAgent: ua, RequestID: id}
	}
	return ev
}

// scheduleData is what a schedule's events say about it: what it exports, how often, in
// which format and time zone, and to whom, with its log filters (data.filters) when it has any.
func scheduleData(sc *Schedule) map[string]any {
	data := map[string]any{
		"schedule": sc.Name, "report": sc.Report, "frequency": sc.Frequency, "format": sc.Format,
		"recipients": slices.Clone(sc.Recipients), "tz": sc.TZ,
	}
	if sc.Filter != nil {
		data["filters"] = filterData(sc.Filter)
	}
	return data
}

// filterData is a schedule's log filters as its events hold them: {source, channel, user},
// each only when set ({} for none).
func filterData(f *httpapi.LogFilter) map[string]any {
	m := map[string]any{}
	if f != nil {
		f.AddTo(m)
	}
	return m
}

// scheduleChanges returns {field: {from, to}} for each field a PUT changes; empty when the
// PUT changes nothing.
func scheduleChanges(prev, next *Schedule) map[string]any {
	changes := map[string]any{}
	for _, f := range []struct {
		name     string
		from, to string
	}{
		{"report", prev.Report, next.Report},
		{"frequency", prev.Frequency, next.Frequency},
		{"format", prev.Format, next.Format},
		{"tz", prev.TZ, next.TZ},
	} {
		if f.from != f.to {
			changes[f.name] = map[string]any{"from": f.from, "to": f.to}
		}
	}
	if from, to := filterData(prev.Filter), filterData(next.Filter); !maps.Equal(from, to) {
		changes["filters"] = map[string]any{"from": from, "to": to}
	}
	if !slices.Equal(prev.Recipients, next.Recipients) {
		changes["recipients"] = map[string]any{"from": slices.Clone(prev.Recipients), "to": slices.Clone(next.Recipients)}
	}
	return changes
}
