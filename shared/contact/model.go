// Package contact holds the contact actions of the API: the contact model and its keys in
// the contacts table, the store that writes a state change and its audit event in one
// DynamoDB transaction, the service that decides each action, and one HTTP handler per route.
package contact

import (
	"slices"

	"github.com/contrail/contrail/shared/tenant"
)

// Statuses of a contact. Only active and archived contacts are visible through the API;
// deleted and merged ones stay as tombstones (history, mergedInto) and answer 404.
const (
	StatusActive   = "active"
	StatusArchived = "archived"
	StatusDeleted  = "deleted"
	StatusMerged   = "merged"
)

// Item types stored in the contacts table.
const (
	itemContact  = "contact"
	itemIdentity = "channel_identity"
)

// Contact is the stored contact item (contacts table, pk = T#<tenant>#C#<id>).
type Contact struct {
	PK         string    `dynamodbav:"pk"`
	ItemType   string    `dynamodbav:"itemType"`
	ID         ID        `dynamodbav:"id"`
	TenantID   tenant.ID `dynamodbav:"tenantId"`
	Name       string    `dynamodbav:"name"`
	Email      string    `dynamodbav:"email,omitempty"`
	Phone      string    `dynamodbav:"phone,omitempty"`
	Status     string    `dynamodbav:"status"`
	Channels   []Channel `dynamodbav:"channels"`
	CreatedAt  string    `dynamodbav:"createdAt"`
	UpdatedAt  string    `dynamodbav:"updatedAt"`
	Version    int64     `dynamodbav:"version"`
	CreatedBy  string    `dynamodbav:"createdBy"`
	MergedInto ID        `dynamodbav:"mergedInto,omitempty"`
	MergedFrom []ID      `dynamodbav:"mergedFrom,omitempty"`
	// ErasedAt is when the contact's personal data was erased (POST /v1/contacts/{id}/erase):
	// name "[erased]", no email, phone or channels, out of the ByStatus index, 404 everywhere.
	ErasedAt string `dynamodbav:"erasedAt,omitempty"`
	// GSI ByStatus: set for active and archived contacts only, so deleted and merged
	// ones drop out of the index.
	StatusKey  string `dynamodbav:"statusKey,omitempty"`
	CreatedKey string `dynamodbav:"createdKey"`
}

// Channel is one channel identity connected to a contact.
type Channel struct {
	Channel     string `json:"channel" dynamodbav:"channel"`
	ExternalID  string `json:"externalId" dynamodbav:"externalId"`
	ConnectedAt string `json:"connectedAt" dynamodbav:"connectedAt"`
}

// Identity is the uniqueness item of a channel identity (pk = T#<tenant>#CH#<channel>#<externalId>):
// its conditional put is what makes a (channel, externalId) belong to one live contact.
type Identity struct {
	PK          string    `dynamodbav:"pk"`
	ItemType    string    `dynamodbav:"itemType"`
	TenantID    tenant.ID `dynamodbav:"tenantId"`
	Channel     string    `dynamodbav:"channel"`
	ExternalID  string    `dynamodbav:"externalId"`
	ContactID   ID        `dynamodbav:"contactId"`
	ConnectedAt string    `dynamodbav:"connectedAt"`
}

// View is a contact as the API returns it. Absent email and phone are null.
type View struct {
	ID        ID        `json:"id"`
	Name      string    `json:"name"`
	Email     *string   `json:"email"`
	Phone     *string   `json:"phone"`
	Status    string    `json:"status"`
	Channels  []Channel `json:"channels"`
	CreatedAt string    `json:"createdAt"`
	UpdatedAt string    `json:"updatedAt"`
}

// ContactPK is the contacts-table key of a contact.
func ContactPK(tenant tenant.ID, id ID) string {
	return "T#" + tenant.String() + "#C#" + string(id)
}

// IdentityPK is the contacts-table key of a channel identity's uniqueness item.
func IdentityPK(tenant tenant.ID, channel, externalID string) string {
	return "T#" + tenant.String() + "#CH#" + channel + "#" + externalID
}

// StatusKey is the ByStatus partition of a tenant's contacts in status.
func StatusKey(tenant tenant.ID, status string) string { return "T#" + tenant.String() + "#" + status }

// CreatedKey is the ByStatus sort key: creation time, then id.
func CreatedKey(createdAt string, id ID) string { return createdAt + "#" + string(id) }

// IndexByStatus is the contacts table's GSI for GET /v1/contacts?status=.
const IndexByStatus = "ByStatus"

// Live reports whether the contact is visible through the API (active or archived, not erased).
func (c *Contact) Live() bool {
	return (c.Status == StatusActive || c.Status == StatusArchived) && c.ErasedAt == ""
}

// setStatus sets the status and keeps the ByStatus key in step.
func (c *Contact) setStatus(status string) {
	c.Status = status
	if c.Live() {
		c.StatusKey = StatusKey(c.TenantID, status)
	} else {
		c.StatusKey = ""
	}
}

// HasChannel reports whether the contact holds the channel identity.
func (c *Contact) HasChannel(channel, externalID string) bool {
	return slices.ContainsFunc(c.Channels, func(ch Channel) bool {
		return ch.Channel == channel && ch.ExternalID == externalID
	})
}

// View returns the API representation.
func (c *Contact) View() View {
	v := View{
		ID: c.ID, Name: c.Name, Status: c.Status, Channels: c.Channels,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
	if v.Channels == nil {
		v.Channels = []Channel{}
	}
	if c.Email != "" {
		e := c.Email
		v.Email = &e
	}
	if c.Phone != "" {
		p := c.Phone
		v.Phone = &p
	}
	return v
}

// clone returns a deep copy, so an action can change it and still compare with the original.
func (c *Contact) clone() *Contact {
	d := *c
	d.Channels = slices.Clone(c.Channels)
	d.MergedFrom = slices.Clone(c.MergedFrom)
	return &d
}
