package audit

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/contrail/contrail/shared/tenant"
)

// The audit table's key design (see docs/api.md, "Keys and hot partitions"):
//
//	pk          T#<tenant>#D#<UTC day of occurredAt>#<shard>   spreads one tenant's writes
//	sk          <occurredAt>#<id>                               time order within a partition
//	contactKey  T#<tenant>#C#<contactId>                        GSI ByContact  (history)
//	typeKey     T#<tenant>#Y#<type>#<day>#<shard>               GSI ByType     (?type=)
//	actorKey    T#<tenant>#A#<actorId>#<day>#<shard>            GSI ByActor    (?actorId=)
//	categoryKey T#<tenant>#G#<category>#<day>#<shard>           GSI ByCategory (?category=)
//	sessionKey  T#<tenant>#S#<sessionId>                        GSI BySession  (co-browsing)
//	expiresAt   epoch seconds: occurredAt + the category's hot retention (TTL)
//	itemType    "event": what the archiver archives
//
// The shard is the event's write shard (Keys.Shard) in pk and in the day-bucketed GSI keys
// alike: a GSI partition that took every event of a busy tenant's type or category in a day
// would throttle the index, and with it the table's writes.
const ItemType = "event"

// Table index names, as declared in template.yaml.
const (
	IndexByContact  = "ByContact"
	IndexByType     = "ByType"
	IndexByActor    = "ByActor"
	IndexByCategory = "ByCategory"
	IndexBySession  = "BySession"
)

// Keys builds the audit table's keys for a tenant.
type Keys struct {
	Shards int // write shards per tenant-day, >= 1
}

// Day returns the UTC day of an event time string.
func Day(occurredAt string) string { return occurredAt[:10] }

// Shard returns the write shard of an event id.
func (k Keys) Shard(id string) int {
	if k.Shards <= 1 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % uint32(k.Shards))
}

// PK is the base-table partition of tenant, day and shard.
func PK(tenant tenant.ID, day string, shard int) string {
	return "T#" + tenant.String() + "#D#" + day + "#" + strconv.Itoa(shard)
}

// SK is the sort key: time, then id.
func SK(occurredAt, id string) string { return occurredAt + "#" + id }

// ContactKey, TypeKey, ActorKey, CategoryKey and SessionKey are the GSI partition keys.
func ContactKey(tenant tenant.ID, contactID string) string {
	return "T#" + tenant.String() + "#C#" + contactID
}
func TypeKey(tenant tenant.ID, typ, day string, shard int) string {
	return "T#" + tenant.String() + "#Y#" + typ + "#" + day + "#" + strconv.Itoa(shard)
}
func ActorKey(tenant tenant.ID, actorID, day string, shard int) string {
	return "T#" + tenant.String() + "#A#" + actorID + "#" + day + "#" + strconv.Itoa(shard)
}
func CategoryKey(tenant tenant.ID, category, day string, shard int) string {
	return "T#" + tenant.String() + "#G#" + category + "#" + day + "#" + strconv.Itoa(shard)
}
func SessionKey(tenant tenant.ID, sessionID SessionID) string {
	return "T#" + tenant.String() + "#S#" + string(sessionID)
}

// Retention is the hot retention in DynamoDB per category; the archive keeps everything.
type Retention map[string]time.Duration

// ExpiresAt returns the TTL of an event occurring at t in category c.
func (r Retention) ExpiresAt(c string, t time.Time) int64 {
	d, ok := r[c]
	if !ok {
		d = 400 * 24 * time.Hour
	}
	return t.Add(d).Unix()
}

// RetentionDays builds a Retention from days per class (contact also covers email).
func RetentionDays(contact, platform, access, cobrowse int) Retention {
	day := 24 * time.Hour
	return Retention{
		CategoryContact:  time.Duration(contact) * day,
		CategoryEmail:    time.Duration(contact) * day,
		CategoryPlatform: time.Duration(platform) * day,
		CategoryAccess:   time.Duration(access) * day,
		CategoryCobrowse: time.Duration(cobrowse) * day,
	}
}

// Item marshals e into its audit table item with every key attribute set.
func (k Keys) Item(e *Event, r Retention) (map[string]types.AttributeValue, error) {
	if e.Data == nil {
		e.Data = map[string]any{}
	}
	item, err := attributevalue.MarshalMap(e)
	if err != nil {
		return nil, fmt.Errorf("marshal event %s: %w", e.ID, err)
	}
	day, shard := Day(e.OccurredAt), k.Shard(e.ID)
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	item["pk"] = s(PK(e.TenantID, day, shard))
	item["sk"] = s(SK(e.OccurredAt, e.ID))
	item["typeKey"] = s(TypeKey(e.TenantID, e.Type, day, shard))
	item["categoryKey"] = s(CategoryKey(e.TenantID, e.Category, day, shard))
	if e.Contact != nil && e.Contact.ID != "" {
		item["contactKey"] = s(ContactKey(e.TenantID, e.Contact.ID))
	}
	if e.Actor.ID != "" {
		item["actorKey"] = s(ActorKey(e.TenantID, e.Actor.ID, day, shard))
	}
	if e.SessionID != "" {
		// The ingest routes parsed it (ParseSessionID) into the event.
		item["sessionKey"] = s(SessionKey(e.TenantID, SessionID(e.SessionID)))
	}
	item["itemType"] = s(ItemType)
	item["expiresAt"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(r.ExpiresAt(e.Category, e.Occurred()), 10)}
	return item, nil
}

// FromItem reads an event back from its item: directly when it has the shape Keys.Item
// writes (decodeItem), through attributevalue otherwise, with the same result either way.
func FromItem(item map[string]types.AttributeValue) (Event, error) {
	e, ok := decodeItem(item)
	if !ok {
		if err := attributevalue.UnmarshalMap(item, &e); err != nil {
			return e, fmt.Errorf("unmarshal event: %w", err)
		}
	}
	if e.Data == nil {
		e.Data = map[string]any{}
	}
	return e, nil
}

// PutTx returns the transaction item that writes e once: it fails if the same key exists.
func (k Keys) PutTx(table string, e *Event, r Retention) (types.TransactWriteItem, error) {
	item, err := k.Item(e, r)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName:           aws.String(table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}, nil
}
