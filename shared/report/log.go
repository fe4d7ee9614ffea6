package report

import (
	"time"

	"github.com/contrail/contrail/shared/audit"
)

// Row is one line of a contact log: one archived event of the log's type.
type Row struct {
	EventID          string
	OccurredAt       time.Time // UTC, millisecond precision
	ContactID        string
	ContactName      string
	PrimaryContactID string   // merged log
	MergedContactIDs []string // merged log
	Source           string
	Channel          string // connected log
	UserName         string // actor name: the seed's "User"
}

// Position is where a newest-first log page ended: the last row's time and event id.
// Rows strictly older (time, then id) follow it.
type Position struct {
	At int64  `json:"t"` // occurred_at, Unix milliseconds
	ID string `json:"i"` // event id
}

// positionOf returns the position of r.
func positionOf(r Row) Position { return Position{At: r.OccurredAt.UnixMilli(), ID: r.EventID} }

// before reports whether r comes after p in newest-first order (r is older than p).
func (p Position) before(at int64, id string) bool {
	return at < p.At || (at == p.At && id < p.ID)
}

// AddedItem is an item of the Added and Deleted logs.
type AddedItem struct {
	CreatedAt   string `json:"createdAt"`
	ContactID   string `json:"contactId"`
	ContactName string `json:"contactName"`
	Source      string `json:"source"`
	User        string `json:"user"`
}

// ConnectedItem is an item of the Connected log.
type ConnectedItem struct {
	CreatedAt   string `json:"createdAt"`
	ContactID   string `json:"contactId"`
	ContactName string `json:"contactName"`
	Source      string `json:"source"`
	User        string `json:"user"`
	Channel     string `json:"channel"`
}

// MergedItem is an item of the Merged log.
type MergedItem struct {
	CreatedAt        string   `json:"createdAt"`
	PrimaryContactID string   `json:"primaryContactId"`
	ContactName      string   `json:"contactName"`
	MergedContactIDs []string `json:"mergedContactIds"`
	Source           string   `json:"source"`
	User             string   `json:"user"`
}

// Item returns r as the contract's item for log k.
func (r Row) Item(k Kind) any {
	at := audit.FormatTime(r.OccurredAt)
	switch k {
	case Connected:
		return ConnectedItem{CreatedAt: at, ContactID: r.ContactID, ContactName: r.ContactName, Source: r.Source, User: r.UserName, Channel: r.Channel}
	case Merged:
		ids := r.MergedContactIDs
		if ids == nil {
			ids = []string{}
		}
		return MergedItem{CreatedAt: at, PrimaryContactID: r.PrimaryContactID, ContactName: r.ContactName, MergedContactIDs: ids, Source: r.Source, User: r.UserName}
	default:
		return AddedItem{CreatedAt: at, ContactID: r.ContactID, ContactName: r.ContactName, Source: r.Source, User: r.UserName}
	}
}
