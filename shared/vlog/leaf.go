// Package vlog is Contrail's verifiable audit log: one append-only Merkle tree per tenant
// (RFC 6962 hashing through golang.org/x/mod/sumdb/tlog), its hashes stored as C2SP
// tlog-tiles in the archive bucket, its heads published as C2SP tlog-checkpoint signed notes
// (golang.org/x/mod/sumdb/note, Ed25519), and its state (head, event index, appends) in
// LogTable. The sequencer (Sequencer) appends the events the archiver marked under
// sequence/; the proof routes (Service) serve checkpoints, proofs and tiles.
// docs/verifying.md is the reference.
package vlog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/contrail/contrail/shared/archive"
)

// LeafVersion is the "v" of every leaf: a later encoding would take another number.
const LeafVersion = 1

// leafTime is the layout of the times in a leaf: RFC 3339, UTC, milliseconds.
const leafTime = "2006-01-02T15:04:05.000Z"

// leafJSON is a leaf's fields in the order their keys sort (encoding/json writes struct
// fields in declaration order): the archive column names, plus "v".
type leafJSON struct {
	ActorID          string          `json:"actor_id,omitempty"`
	ActorName        string          `json:"actor_name,omitempty"`
	ActorType        string          `json:"actor_type,omitempty"`
	Category         string          `json:"category,omitempty"`
	Channel          string          `json:"channel,omitempty"`
	ContactID        string          `json:"contact_id,omitempty"`
	ContactName      string          `json:"contact_name,omitempty"`
	Data             json.RawMessage `json:"data,omitempty"`
	EventID          string          `json:"event_id"`
	IP               string          `json:"ip,omitempty"`
	IsAgent          *bool           `json:"is_agent,omitempty"`
	MergedContactIDs []string        `json:"merged_contact_ids,omitempty"`
	OccurredAt       string          `json:"occurred_at"`
	PrimaryContactID string          `json:"primary_contact_id,omitempty"`
	RecordedAt       string          `json:"recorded_at"`
	RequestID        string          `json:"request_id,omitempty"`
	SessionID        string          `json:"session_id,omitempty"`
	Source           string          `json:"source,omitempty"`
	TenantID         string          `json:"tenant_id"`
	Type             string          `json:"type"`
	UserAgent        string          `json:"user_agent,omitempty"`
	V                int             `json:"v"`
}

// Leaf returns the leaf of an archived event: its canonical stored form. The same row gives
// the same bytes whether it was read from Parquet or converted from the audit table's stream
// image, and personal fields stay the sealed "pii1:" ciphertext the row holds. The encoding
// is documented in docs/verifying.md ("Leaf encoding").
func Leaf(r *archive.Row) ([]byte, error) {
	if r.EventID == "" || r.TenantID == "" || r.Type == "" {
		return nil, fmt.Errorf("leaf of event %q: event_id, tenant_id and type are required", r.EventID)
	}
	l := leafJSON{
		ActorID: r.ActorID, ActorName: r.ActorName, ActorType: r.ActorType, Category: r.Category,
		Channel: r.Channel, ContactID: r.ContactID, ContactName: r.ContactName,
		EventID: r.EventID, IP: r.IP, IsAgent: r.IsAgent, MergedContactIDs: r.MergedContactIDs,
		OccurredAt:       time.UnixMilli(r.OccurredAt).UTC().Format(leafTime),
		PrimaryContactID: r.PrimaryContactID,
		RecordedAt:       time.UnixMilli(r.RecordedAt).UTC().Format(leafTime),
		RequestID:        r.RequestID, SessionID: r.SessionID, Source: r.Source,
		TenantID: r.TenantID, Type: r.Type, UserAgent: r.UserAgent, V: LeafVersion,
	}
	if r.Data != "" {
		if !json.Valid([]byte(r.Data)) {
			return nil, fmt.Errorf("leaf of event %s: data is not JSON", r.EventID)
		}
		l.Data = json.RawMessage(r.Data)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(l); err != nil {
		return nil, fmt.Errorf("leaf of event %s: %w", r.EventID, err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}

// Entry is one event to append: its id, time and leaf.
type Entry struct {
	EventID    string
	OccurredAt int64 // Unix ms
	Leaf       []byte
}

// NewEntry builds the entry of an archived row. The entry owns its bytes: rows a Reader
// reuses may be passed.
func NewEntry(r *archive.Row) (Entry, error) {
	// The id becomes part of an index item's key: it is parsed like a caller's.
	if _, err := ParseEventID(r.EventID); err != nil {
		return Entry{}, fmt.Errorf("event %q: id %w", r.EventID, err)
	}
	leaf, err := Leaf(r)
	if err != nil {
		return Entry{}, err
	}
	return Entry{EventID: string([]byte(r.EventID)), OccurredAt: r.OccurredAt, Leaf: leaf}, nil
}
