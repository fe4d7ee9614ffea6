// Package ocsf writes archived audit events in the Open Cybersecurity Schema Framework
// (OCSF, audit.OCSFVersion), the schema security tools ingest (Amazon Security Lake, Splunk,
// Datadog, Elastic): one JSON object a line. Each type's class and activity come from the
// event registry (audit.Spec.OCSF); what the schema has no attribute for (the event's own
// type, category, source, channel, session and data) is kept under unmapped.
package ocsf

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
)

// Product names Contrail in every event's metadata.
var Product = product{Name: "Contrail", VendorName: "Contrail"}

// Event is one OCSF event: the base event's attributes, then those of its class.
type Event struct {
	Metadata     metadata `json:"metadata"`
	Time         int64    `json:"time"`
	ClassUID     int      `json:"class_uid"`
	ClassName    string   `json:"class_name"`
	CategoryUID  int      `json:"category_uid"`
	CategoryName string   `json:"category_name"`
	ActivityID   int      `json:"activity_id"`
	ActivityName string   `json:"activity_name"`
	TypeUID      int      `json:"type_uid"`
	TypeName     string   `json:"type_name"`
	SeverityID   int      `json:"severity_id"`
	Severity     string   `json:"severity"`
	StatusID     int      `json:"status_id"`
	Status       string   `json:"status"`
	Message      string   `json:"message"`
	Actor        actor    `json:"actor"`
	// User is Authentication's user (the actor) and User Access Management's (the one
	// given the privilege).
	User        *user        `json:"user,omitempty"`
	Privileges  []string     `json:"privileges,omitempty"`
	Entity      *entity      `json:"entity,omitempty"`
	API         *api         `json:"api,omitempty"`
	Resources   []entity     `json:"resources,omitempty"`
	SrcEndpoint *endpoint    `json:"src_endpoint,omitempty"`
	HTTPRequest *httpRequest `json:"http_request,omitempty"`
	Unmapped    unmapped     `json:"unmapped"`
}

type metadata struct {
	Version        string  `json:"version"`
	Product        product `json:"product"`
	UID            string  `json:"uid"`
	TenantUID      string  `json:"tenant_uid"`
	CorrelationUID string  `json:"correlation_uid,omitempty"`
	LoggedTime     int64   `json:"logged_time"`
}

type product struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
}

type actor struct {
	User user `json:"user"`
}

type user struct {
	UID    string `json:"uid,omitempty"`
	Name   string `json:"name,omitempty"`
	Type   string `json:"type,omitempty"`
	TypeID int    `json:"type_id,omitempty"`
}

type entity struct {
	UID  string `json:"uid,omitempty"`
	Name string `json:"name,omitempty"`
	Type string `json:"type"`
}

type api struct {
	Operation string   `json:"operation"`
	Request   *request `json:"request,omitempty"`
}

type request struct {
	UID string `json:"uid"`
}

type endpoint struct {
	IP      string `json:"ip,omitempty"`
	SvcName string `json:"svc_name,omitempty"`
}

type httpRequest struct {
	UserAgent string `json:"user_agent"`
}

// unmapped holds the event's own fields OCSF has no attribute for.
type unmapped struct {
	Type             string          `json:"type"`
	Category         string          `json:"category"`
	Source           string          `json:"source,omitempty"`
	Channel          string          `json:"channel,omitempty"`
	SessionID        string          `json:"session_id,omitempty"`
	IsAgent          *bool           `json:"is_agent,omitempty"`
	PrimaryContactID string          `json:"primary_contact_id,omitempty"`
	MergedContactIDs []string        `json:"merged_contact_ids,omitempty"`
	Data             json.RawMessage `json:"data"`
}

// SessionType is the resource type of a co-browsing or call session.
const SessionType = "Session"

// actorTypes maps Contrail's actor types to OCSF's user type_id (and the name of an Other).
var actorTypes = map[string]struct {
	id   int
	name string
}{
	"user":     {1, "User"},
	"system":   {3, "System"},
	"customer": {99, "Customer"},
	"service":  {99, "Service"},
}

// FromRow returns the OCSF event of an archived row (its personal fields as they are:
// opened or sealed). A type the registry does not know is exported as API Activity: Other.
func FromRow(r *archive.Row) (*Event, error) {
	m := audit.OCSF{Class: audit.OCSFAPIActivity, Activity: audit.OCSFOther}
	message := r.Type
	if s, ok := audit.Lookup(r.Type); ok {
		m, message = s.OCSF, s.Name
	}
	class, categoryUID, category, activity := m.OCSFNames()
	e := &Event{
		Metadata: metadata{Version: audit.OCSFVersion, Product: Product, UID: r.EventID, TenantUID: r.TenantID,
			CorrelationUID: r.RequestID, LoggedTime: r.RecordedAt},
		Time:     r.OccurredAt,
		ClassUID: m.Class, ClassName: class, CategoryUID: categoryUID, CategoryName: category,
		ActivityID: m.Activity, ActivityName: activity,
		TypeUID: m.Class*100 + m.Activity, TypeName: class + ": " + activity,
		SeverityID: 1, Severity: "Informational", StatusID: 1, Status: "Success",
		Message: message,
		Actor:   actor{User: actorUser(r)},
		Unmapped: unmapped{Type: r.Type, Category: r.Category, Source: r.Source, Channel: r.Channel, SessionID: r.SessionID,
			IsAgent: r.IsAgent, PrimaryContactID: r.PrimaryContactID, MergedContactIDs: r.MergedContactIDs, Data: json.RawMessage(r.Data)},
	}
	if len(e.Unmapped.Data) == 0 {
		e.Unmapped.Data = json.RawMessage("{}")
	}
	if r.Type == "EMAIL_FAILED" {
		e.StatusID, e.Status = 2, "Failure"
	}
	if r.IP != "" {
		e.SrcEndpoint = &endpoint{IP: r.IP}
	}
	if r.UserAgent != "" {
		e.HTTPRequest = &httpRequest{UserAgent: r.UserAgent}
	}
	var data map[string]any
	field := func(name string) (string, error) {
		if name == "" {
			return "", nil
		}
		if data == nil {
			if err := json.Unmarshal([]byte(r.Data), &data); err != nil {
				return "", fmt.Errorf("event %s in OCSF: data: %w", r.EventID, err)
			}
		}
		s, _ := data[name].(string)
		return s, nil
	}
	switch m.Class {
	case audit.OCSFAuthentication:
		u := e.Actor.User
		e.User = &u
	case audit.OCSFUserAccess:
		name, err := field(m.NameField)
		if err != nil {
			return nil, err
		}
		privilege, err := field(m.PrivilegeField)
		if err != nil {
			return nil, err
		}
		e.User = &user{Name: name}
		e.Privileges = []string{privilege}
	case audit.OCSFEntityManagement:
		if m.Object == audit.OCSFContact {
			e.Entity = &entity{UID: r.ContactID, Name: r.ContactName, Type: m.Object}
			break
		}
		name, err := field(m.NameField)
		if err != nil {
			return nil, err
		}
		e.Entity = &entity{Name: name, Type: m.Object}
	default:
		e.API = &api{Operation: r.Type}
		if r.RequestID != "" {
			e.API.Request = &request{UID: r.RequestID}
		}
		if r.ContactID != "" {
			e.Resources = append(e.Resources, entity{UID: r.ContactID, Name: r.ContactName, Type: audit.OCSFContact})
		}
		if r.SessionID != "" {
			e.Resources = append(e.Resources, entity{UID: r.SessionID, Type: SessionType})
		}
		if e.SrcEndpoint == nil { // required by API Activity: Contrail itself, for what it records unasked
			e.SrcEndpoint = &endpoint{SvcName: "contrail"}
		}
	}
	return e, nil
}

func actorUser(r *archive.Row) user {
	u := user{UID: r.ActorID, Name: r.ActorName, Type: r.ActorType}
	if t, ok := actorTypes[r.ActorType]; ok {
		u.TypeID, u.Type = t.id, t.name
	}
	return u
}

// Writer writes OCSF events as JSON Lines.
type Writer struct {
	bw   *bufio.Writer
	enc  *json.Encoder
	rows int64
}

// NewWriter returns a writer of JSON Lines to w.
func NewWriter(w io.Writer) *Writer {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &Writer{bw: bw, enc: enc}
}

// Write writes the row's OCSF event as one line.
func (w *Writer) Write(r *archive.Row) error {
	e, err := FromRow(r)
	if err != nil {
		return err
	}
	if err := w.enc.Encode(e); err != nil {
		return fmt.Errorf("write event %s in OCSF: %w", r.EventID, err)
	}
	w.rows++
	return nil
}

// Close flushes what is buffered and returns the events written.
func (w *Writer) Close() (int64, error) {
	if err := w.bw.Flush(); err != nil {
		return w.rows, fmt.Errorf("write OCSF: %w", err)
	}
	return w.rows, nil
}
