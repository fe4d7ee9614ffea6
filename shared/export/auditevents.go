package export

import (
	"maps"
	"slices"

	"github.com/contrail/contrail/shared/httpapi"
)

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
