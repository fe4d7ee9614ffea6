// Package archive is the long-term record of audit events: Parquet objects on S3 under
// events/tenant=<t>/date=<YYYY-MM-DD>/, written by the stream archiver, merged by the
// compactor, read by reports (through Reader and rollups) and by Athena (through the Glue
// table in template.yaml).
//
// Delivery from the stream is at least once, so an event can sit in more than one object
// of its day; every reader here removes duplicates by event_id, and compaction removes
// them for good.
package archive

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/tenant"
)

// Columns are the Parquet column names, in file order. The Glue table in template.yaml
// declares the same list (a test checks it).
var Columns = []string{
	"event_id", "tenant_id", "occurred_at", "recorded_at", "type", "category",
	"actor_type", "actor_id", "actor_name", "contact_id", "contact_name",
	"primary_contact_id", "merged_contact_ids", "source", "channel", "session_id",
	"is_agent", "data", "ip", "user_agent", "request_id",
}

// Column indexes into Columns (and into the Parquet schema's top-level fields).
const (
	ColEventID = iota
	ColTenantID
	ColOccurredAt
	ColRecordedAt
	ColType
	ColCategory
	ColActorType
	ColActorID
	ColActorName
	ColContactID
	ColContactName
	ColPrimaryContactID
	ColMergedContactIDs
	ColSource
	ColChannel
	ColSessionID
	ColIsAgent
	ColData
	ColIP
	ColUserAgent
	ColRequestID
	numColumns
)

// HiveTypes are the Athena (Hive DDL) types of Columns, in the same order.
var HiveTypes = []string{
	"string", "string", "timestamp", "timestamp", "string", "string",
	"string", "string", "string", "string", "string",
	"string", "array<string>", "string", "string", "string",
	"boolean", "string", "string", "string", "string",
}

// archiveColumns is the Parquet schema of an archive object. Required columns are never
// null; optional strings are null when empty, so Athena sees NULL rather than an empty string.
var archiveColumns = func() []TableColumn {
	str := func(name string, required bool) TableColumn { return TableColumn{name, StringColumn, required} }
	cols := []TableColumn{
		str("event_id", true), str("tenant_id", true),
		{"occurred_at", TimestampColumn, true}, {"recorded_at", TimestampColumn, true},
		str("type", true), str("category", true),
		str("actor_type", true), str("actor_id", false), str("actor_name", false),
		str("contact_id", false), str("contact_name", false),
		str("primary_contact_id", false),
		{"merged_contact_ids", StringListColumn, false},
		str("source", false), str("channel", false), str("session_id", false),
		{"is_agent", BoolColumn, false},
		str("data", true),
		str("ip", false), str("user_agent", false), str("request_id", false),
	}
	for i, c := range cols {
		if c.Name != Columns[i] {
			panic("archive: schema and Columns disagree at " + c.Name)
		}
	}
	return cols
}()

// Row is one archived event, the envelope flattened. Times are Unix milliseconds, UTC.
// Strings read by Reader may share memory with the decoded column buffers; strings.Clone
// the few you keep for long.
type Row struct {
	EventID          string
	TenantID         string
	OccurredAt       int64
	RecordedAt       int64
	Type             string
	Category         string
	ActorType        string
	ActorID          string
	ActorName        string
	ContactID        string
	ContactName      string
	PrimaryContactID string   // data.primaryContactId of CONTACT_MERGED
	MergedContactIDs []string // data.mergedContactIds of CONTACT_MERGED
	Source           string
	Channel          string
	SessionID        string
	IsAgent          *bool
	Data             string // the event's data object as JSON, keys sorted
	IP               string
	UserAgent        string
	RequestID        string
}

var (
	boolTrue  = true
	boolFalse = false
)

func boolPtr(b bool) *bool {
	if b {
		return &boolTrue
	}
	return &boolFalse
}

// Date returns the UTC date (YYYY-MM-DD) of the row's occurred_at: its partition.
func (r *Row) Date() string { return DateOf(r.OccurredAt) }

// DateOf returns the UTC date of a Unix millisecond time.
func DateOf(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.DateOnly) }

// Less orders rows as objects store them: by occurred_at, then event_id.
func Less(a, b *Row) bool {
	if a.OccurredAt != b.OccurredAt {
		return a.OccurredAt < b.OccurredAt
	}
	return a.EventID < b.EventID
}

// FromEvents flattens audit events into their archive rows, in the same order.
func FromEvents(evs []audit.Event) ([]Row, error) {
	rows := make([]Row, len(evs))
	for i := range evs {
		var err error
		if rows[i], err = FromEvent(&evs[i]); err != nil {
			return nil, err
		}
	}
	return rows, nil
}

// FromEvent flattens an audit event into its archive row.
func FromEvent(e *audit.Event) (Row, error) {
	occ, err := audit.ParseTime(e.OccurredAt)
	if err != nil {
		return Row{}, fmt.Errorf("archive event %s: occurredAt: %w", e.ID, err)
	}
	rec, err := audit.ParseTime(e.RecordedAt)
	if err != nil {
		return Row{}, fmt.Errorf("archive event %s: recordedAt: %w", e.ID, err)
	}
	data, err := appendJSON(nil, e.Data)
	if err != nil {
		return Row{}, fmt.Errorf("archive event %s: data: %w", e.ID, err)
	}
	if e.Data == nil {
		data = append(data[:0], "{}"...)
	}
	r := Row{
		EventID: e.ID, TenantID: e.TenantID.String(),
		OccurredAt: occ.UnixMilli(), RecordedAt: rec.UnixMilli(),
		Type: e.Type, Category: e.Category,
		ActorType: e.Actor.Type, ActorID: e.Actor.ID, ActorName: e.Actor.Name,
		Source: e.Source, Channel: e.Channel, SessionID: e.SessionID,
		Data: string(data),
	}
	if e.Contact != nil {
		r.ContactID, r.ContactName = e.Contact.ID, e.Contact.Name
	}
	if e.IsAgent != nil {
		r.IsAgent = boolPtr(*e.IsAgent)
	}
	if e.Context != nil {
		r.IP, r.UserAgent, r.RequestID = e.Context.IP, e.Context.UserAgent, e.Context.RequestID
	}
	if p, ok := e.Data["primaryContactId"].(string); ok {
		r.PrimaryContactID = p
	}
	switch ids := e.Data["mergedContactIds"].(type) {
	case []string:
		r.MergedContactIDs = append([]string(nil), ids...)
	case []any:
		for _, id := range ids {
			if s, ok := id.(string); ok {
				r.MergedContactIDs = append(r.MergedContactIDs, s)
			}
		}
	}
	return r, nil
}

// ToEvent rebuilds the audit event of a row read with every column. Data numbers come back
// as float64, as they do from DynamoDB (audit.FromItem).
func (r *Row) ToEvent() (audit.Event, error) {
	e := audit.Event{
		ID: r.EventID, TenantID: tenant.ID(r.TenantID),
		OccurredAt: audit.FormatTime(time.UnixMilli(r.OccurredAt)),
		RecordedAt: audit.FormatTime(time.UnixMilli(r.RecordedAt)),
		Type:       r.Type, Category: r.Category,
		Actor:  audit.Actor{Type: r.ActorType, ID: r.ActorID, Name: r.ActorName},
		Source: r.Source, Channel: r.Channel, SessionID: r.SessionID,
	}
	if r.ContactID != "" || r.ContactName != "" {
		e.Contact = &audit.ContactRef{ID: r.ContactID, Name: r.ContactName}
	}
	if r.IsAgent != nil {
		b := *r.IsAgent
		e.IsAgent = &b
	}
	if r.IP != "" || r.UserAgent != "" || r.RequestID != "" {
		e.Context = &audit.Context{IP: r.IP, UserAgent: r.UserAgent, RequestID: r.RequestID}
	}
	e.Data = map[string]any{}
	if r.Data != "" {
		if err := json.Unmarshal([]byte(r.Data), &e.Data); err != nil {
			return e, fmt.Errorf("read archived event %s: data: %w", r.EventID, err)
		}
	}
	return e, nil
}
