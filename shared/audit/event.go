// Package audit holds Contrail's one event model: the envelope every action records, the
// registry of event types, and how an event is keyed and stored in the audit table.
package audit

import (
	"time"

	"github.com/contrail/contrail/shared/tenant"
)

// TimeLayout is how event times are written: UTC, millisecond precision, fixed width, so
// that comparing the strings compares the times (sort keys rely on it).
const TimeLayout = "2006-01-02T15:04:05.000Z"

// FormatTime writes t in TimeLayout.
func FormatTime(t time.Time) string { return t.UTC().Truncate(time.Millisecond).Format(TimeLayout) }

// ParseTime reads a time written by FormatTime (or any RFC 3339 time).
func ParseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }

// Categories of events.
const (
	CategoryContact  = "contact"
	CategoryPlatform = "platform"
	CategoryCobrowse = "cobrowse"
	CategoryEmail    = "email"
	CategoryAccess   = "access"
)

// Actor types.
const (
	ActorUser     = "user"
	ActorCustomer = "customer"
	ActorService  = "service"
	ActorSystem   = "system"
)

// Sources: how an event came about.
const (
	SourceManual          = "manual"
	SourceImport          = "import"
	SourceAPI             = "api"
	SourceIncomingMessage = "incoming_message"
	SourceUser            = "user"
	SourceSystem          = "system"
)

// Channels a contact can be connected on.
var Channels = []string{"whatsapp", "telegram", "instagram", "messenger", "webchat", "email", "sms"}

// Event is one immutable audit event, as the API returns it and the audit table stores it.
type Event struct {
	ID         string         `json:"id" dynamodbav:"id"`
	TenantID   tenant.ID      `json:"tenantId" dynamodbav:"tenantId"`
	OccurredAt string         `json:"occurredAt" dynamodbav:"occurredAt"` // TimeLayout
	RecordedAt string         `json:"recordedAt" dynamodbav:"recordedAt"` // TimeLayout
	Type       string         `json:"type" dynamodbav:"type"`
	Category   string         `json:"category" dynamodbav:"category"`
	Actor      Actor          `json:"actor" dynamodbav:"actor"`
	Contact    *ContactRef    `json:"contact,omitempty" dynamodbav:"contact,omitempty"`
	Source     string         `json:"source,omitempty" dynamodbav:"source,omitempty"`
	Channel    string         `json:"channel,omitempty" dynamodbav:"channel,omitempty"`
	SessionID  string         `json:"sessionId,omitempty" dynamodbav:"sessionId,omitempty"`
	IsAgent    *bool          `json:"isAgent,omitempty" dynamodbav:"isAgent,omitempty"`
	Data       map[string]any `json:"data" dynamodbav:"data"`
	Context    *Context       `json:"context,omitempty" dynamodbav:"context,omitempty"`
}

// Actor is who acted.
type Actor struct {
	Type string `json:"type" dynamodbav:"type"`
	ID   string `json:"id,omitempty" dynamodbav:"id,omitempty"`
	Name string `json:"name,omitempty" dynamodbav:"name,omitempty"`
}

// ContactRef is the contact as it was when the event happened.
type ContactRef struct {
	ID   string `json:"id" dynamodbav:"id"`
	Name string `json:"name" dynamodbav:"name"`
}

// Context is where the request came from.
type Context struct {
	IP        string `json:"ip,omitempty" dynamodbav:"ip,omitempty"`
	UserAgent string `json:"userAgent,omitempty" dynamodbav:"userAgent,omitempty"`
	RequestID string `json:"requestId,omitempty" dynamodbav:"requestId,omitempty"`
}

// Occurred returns OccurredAt as a time.
func (e *Event) Occurred() time.Time {
	t, _ := ParseTime(e.OccurredAt)
	return t
}
