package archive

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/jsonenc"
	"github.com/contrail/contrail/shared/tenant"
)

// StreamBatch is a DynamoDB stream batch as Lambda delivers it (the JSON of
// events.DynamoDBEvent), decoded straight into the audit attributes the archive needs.
// Decoding into events.DynamoDBAttributeValue trees instead costs several times the time
// and allocations (BenchmarkDecode* measures both), which matters at 10,000 records.
type StreamBatch struct {
	Records []StreamRecord `json:"Records"`
}

// StreamRecord is one stream record.
type StreamRecord struct {
	EventName string `json:"eventName"`
	DynamoDB  struct {
		SequenceNumber string      `json:"SequenceNumber"`
		NewImage       *EventImage `json:"NewImage"`
	} `json:"dynamodb"`
}

// attrS is a string attribute ({"S": "..."}).
type attrS struct {
	S string `json:"S"`
}

// EventImage is the NewImage of an audit table item, the attributes audit.Keys.Item writes.
// Unknown attributes (the keys) are skipped.
type EventImage struct {
	ItemType   attrS `json:"itemType"`
	ID         attrS `json:"id"`
	TenantID   attrS `json:"tenantId"`
	OccurredAt attrS `json:"occurredAt"`
	RecordedAt attrS `json:"recordedAt"`
	Type       attrS `json:"type"`
	Category   attrS `json:"category"`
	Actor      struct {
		M struct {
			Type attrS `json:"type"`
			ID   attrS `json:"id"`
			Name attrS `json:"name"`
		} `json:"M"`
	} `json:"actor"`
	Contact *struct {
		M struct {
			ID   attrS `json:"id"`
			Name attrS `json:"name"`
		} `json:"M"`
	} `json:"contact"`
	Source    attrS `json:"source"`
	Channel   attrS `json:"channel"`
	SessionID attrS `json:"sessionId"`
	IsAgent   *struct {
		BOOL *bool `json:"BOOL"`
	} `json:"isAgent"`
	Data    *AttributeValue `json:"data"`
	Context *struct {
		M struct {
			IP        attrS `json:"ip"`
			UserAgent attrS `json:"userAgent"`
			RequestID attrS `json:"requestId"`
		} `json:"M"`
	} `json:"context"`
}

// AttributeValue is any DynamoDB JSON value (used for the free-form data map).
type AttributeValue struct {
	S    *string                    `json:"S,omitempty"`
	N    *string                    `json:"N,omitempty"`
	BOOL *bool                      `json:"BOOL,omitempty"`
	NULL *bool                      `json:"NULL,omitempty"`
	M    map[string]*AttributeValue `json:"M,omitempty"`
	L    []*AttributeValue          `json:"L,omitempty"`
	SS   []string                   `json:"SS,omitempty"`
	NS   []string                   `json:"NS,omitempty"`
	B    []byte                     `json:"B,omitempty"`
	BS   [][]byte                   `json:"BS,omitempty"`
}

// MarshalJSON writes the value as DynamoDB JSON, keeping an empty map or list ({"M":{}},
// {"L":[]}) that omitempty would drop: a record set aside must read back as it came.
func (a AttributeValue) MarshalJSON() ([]byte, error) {
	switch {
	case a.M != nil && len(a.M) == 0:
		return []byte(`{"M":{}}`), nil
	case a.L != nil && len(a.L) == 0:
		return []byte(`{"L":[]}`), nil
	}
	type plain AttributeValue // the same fields without this method
	return json.Marshal(plain(a))
}

// IsEvent reports whether the record is the insert of an audit event: the only records
// the archive keeps (TTL expiries are REMOVEs; other items have another itemType).
func (r *StreamRecord) IsEvent() bool {
	return r.EventName == "INSERT" && r.DynamoDB.NewImage != nil && r.DynamoDB.NewImage.ItemType.S == audit.ItemType
}

// Row converts an event image into its archive row.
func (im *EventImage) Row() (Row, error) {
	occ, err := audit.ParseTime(im.OccurredAt.S)
	if err != nil {
		return Row{}, fmt.Errorf("event %s: occurredAt: %w", im.ID.S, err)
	}
	rec, err := audit.ParseTime(im.RecordedAt.S)
	if err != nil {
		return Row{}, fmt.Errorf("event %s: recordedAt: %w", im.ID.S, err)
	}
	if im.ID.S == "" || im.TenantID.S == "" || im.Type.S == "" {
		return Row{}, fmt.Errorf("event %q: id, tenantId and type are required", im.ID.S)
	}
	if _, err := tenant.Parse(im.TenantID.S); err != nil {
		return Row{}, fmt.Errorf("event %s: %w", im.ID.S, err)
	}
	r := Row{
		EventID: im.ID.S, TenantID: im.TenantID.S,
		OccurredAt: occ.UnixMilli(), RecordedAt: rec.UnixMilli(),
		Type: im.Type.S, Category: im.Category.S,
		ActorType: im.Actor.M.Type.S, ActorID: im.Actor.M.ID.S, ActorName: im.Actor.M.Name.S,
		Source: im.Source.S, Channel: im.Channel.S, SessionID: im.SessionID.S,
	}
	if c := im.Contact; c != nil {
		r.ContactID, r.ContactName = c.M.ID.S, c.M.Name.S
	}
	if a := im.IsAgent; a != nil && a.BOOL != nil {
		r.IsAgent = boolPtr(*a.BOOL)
	}
	if c := im.Context; c != nil {
		r.IP, r.UserAgent, r.RequestID = c.M.IP.S, c.M.UserAgent.S, c.M.RequestID.S
	}
	if im.Data == nil || im.Data.M == nil {
		r.Data = "{}"
	} else {
		b, err := appendAV(make([]byte, 0, 64), im.Data)
		if err != nil {
			return Row{}, fmt.Errorf("event %s: data: %w", im.ID.S, err)
		}
		r.Data = string(b)
		if p := im.Data.M["primaryContactId"]; p != nil && p.S != nil {
			r.PrimaryContactID = *p.S
		}
		if m := im.Data.M["mergedContactIds"]; m != nil {
			switch {
			case m.L != nil:
				for _, v := range m.L {
					if v != nil && v.S != nil {
						r.MergedContactIDs = append(r.MergedContactIDs, *v.S)
					}
				}
			case m.SS != nil:
				r.MergedContactIDs = append([]string(nil), m.SS...)
			}
		}
	}
	return r, nil
}

// appendAV writes a DynamoDB JSON value as the canonical JSON of the value
// attributevalue.Unmarshal would give (sets become arrays, binary becomes base64).
func appendAV(b []byte, v *AttributeValue) ([]byte, error) {
	switch {
	case v == nil:
		return append(b, "null"...), nil
	case v.S != nil:
		return appendJSONString(b, *v.S), nil
	case v.N != nil:
		return appendNumberText(b, *v.N)
	case v.BOOL != nil:
		if *v.BOOL {
			return append(b, "true"...), nil
		}
		return append(b, "false"...), nil
	case v.NULL != nil:
		return append(b, "null"...), nil
	case v.M != nil:
		return jsonenc.Object(b, v.M, false, appendAV)
	case v.L != nil:
		return jsonenc.Array(b, v.L, appendAV)
	case v.SS != nil:
		return jsonenc.Array(b, v.SS, appendString)
	case v.NS != nil:
		return jsonenc.Array(b, v.NS, appendNumberText)
	case v.B != nil:
		raw, _ := json.Marshal(v.B)
		return append(b, raw...), nil
	case v.BS != nil:
		raw, _ := json.Marshal(v.BS)
		return append(b, raw...), nil
	}
	return b, errors.New("empty attribute value")
}

// BatchFromEvent converts an events.DynamoDBEvent (as a Go value) into a StreamBatch.
func BatchFromEvent(ev events.DynamoDBEvent) (*StreamBatch, error) {
	raw, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode stream event: %w", err)
	}
	var b StreamBatch
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Errorf("decode stream event: %w", err)
	}
	return &b, nil
}
