package audit

import (
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/contrail/contrail/shared/tenant"
)

// decodeItem reads an event from an item of the shape Keys.Item writes without reflection:
// the read routes decode every item they return (a session page is 500), and
// attributevalue's reflective walk was most of their cost beyond the Query itself. It
// decodes exactly as attributevalue.UnmarshalMap does, and says ok = false, leaving the
// item to attributevalue, for anything whose result it does not reproduce by construction:
// an event field of another type than the writer's (attributevalue would convert a number
// to a string or refuse), a set or binary value in data, a number that does not parse as a
// float64, or an attribute whose name matches a field only without regard to case
// (attributevalue's fallback match).
func decodeItem(item map[string]types.AttributeValue) (e Event, ok bool) {
	for k, av := range item {
		switch k {
		case "id":
			e.ID, ok = avString(av)
		case "tenantId":
			var s string
			s, ok = avString(av)
			e.TenantID = tenant.ID(s)
		case "occurredAt":
			e.OccurredAt, ok = avString(av)
		case "recordedAt":
			e.RecordedAt, ok = avString(av)
		case "type":
			e.Type, ok = avString(av)
		case "category":
			e.Category, ok = avString(av)
		case "source":
			e.Source, ok = avString(av)
		case "channel":
			e.Channel, ok = avString(av)
		case "sessionId":
			e.SessionID, ok = avString(av)
		case "actor":
			e.Actor, ok = avActor(av)
		case "contact":
			e.Contact, ok = avContact(av)
		case "isAgent":
			e.IsAgent, ok = avBoolPtr(av)
		case "data":
			e.Data, ok = avData(av)
		case "context":
			e.Context, ok = avContext(av)
		case "pk", "sk", "typeKey", "categoryKey", "contactKey", "actorKey", "sessionKey", "itemType", "expiresAt":
			ok = true // keys: not event fields
		default:
			ok = !foldsTo(k, eventFields)
		}
		if !ok {
			return Event{}, false
		}
	}
	return e, true
}

var (
	eventFields = []string{"id", "tenantId", "occurredAt", "recordedAt", "type", "category", "actor", "contact", "source", "channel", "sessionId", "isAgent", "data", "context"}

	// The attributes of actor, contact and context, in the order avStrings fills their fields.
	actorFields   = []string{"type", "id", "name"}
	contactFields = []string{"id", "name"}
	contextFields = []string{"ip", "userAgent", "requestId"}
)

// foldsTo reports whether name equals one of fields under Unicode case folding.
func foldsTo(name string, fields []string) bool {
	for _, f := range fields {
		if strings.EqualFold(name, f) {
			return true
		}
	}
	return false
}

// isNull reports whether av decodes as a null (a NULL value, or none at all).
func isNull(av types.AttributeValue) bool {
	if av == nil {
		return true
	}
	_, ok := av.(*types.AttributeValueMemberNULL)
	return ok
}

// avString reads a string field: S, or NULL as "".
func avString(av types.AttributeValue) (string, bool) {
	if s, ok := av.(*types.AttributeValueMemberS); ok {
		return s.Value, true
	}
	return "", isNull(av)
}

// avStruct calls set for each attribute of an M; ok is false for anything but an M or an
// attribute set refuses.
func avStruct(av types.AttributeValue, set func(name string, av types.AttributeValue) bool) bool {
	m, ok := av.(*types.AttributeValueMemberM)
	if !ok {
		return false
	}
	for k, v := range m.Value {
		if !set(k, v) {
			return false
		}
	}
	return true
}

// avStrings reads an M whose attributes are all string fields: the attribute names[i] into
// *dst[i]. ok is false as avStruct says, for a field that is not a string, or for an
// attribute that matches a name only without regard to case.
func avStrings(av types.AttributeValue, names []string, dst ...*string) bool {
	return avStruct(av, func(k string, v types.AttributeValue) (ok bool) {
		for i, name := range names {
			if k == name {
				*dst[i], ok = avString(v)
				return ok
			}
		}
		return !foldsTo(k, names)
	})
}

func avActor(av types.AttributeValue) (a Actor, ok bool) {
	if isNull(av) {
		return a, true
	}
	ok = avStrings(av, actorFields, &a.Type, &a.ID, &a.Name)
	return a, ok
}

func avContact(av types.AttributeValue) (*ContactRef, bool) {
	if isNull(av) {
		return nil, true
	}
	c := &ContactRef{}
	return c, avStrings(av, contactFields, &c.ID, &c.Name)
}

func avContext(av types.AttributeValue) (*Context, bool) {
	if isNull(av) {
		return nil, true
	}
	c := &Context{}
	return c, avStrings(av, contextFields, &c.IP, &c.UserAgent, &c.RequestID)
}

func avBoolPtr(av types.AttributeValue) (*bool, bool) {
	if b, ok := av.(*types.AttributeValueMemberBOOL); ok {
		v := b.Value
		return &v, true
	}
	return nil, isNull(av)
}

// avData reads data: an M into map[string]any, NULL as nil.
func avData(av types.AttributeValue) (map[string]any, bool) {
	if isNull(av) {
		return nil, true
	}
	m, ok := av.(*types.AttributeValueMemberM)
	if !ok {
		return nil, false
	}
	return avMap(m.Value)
}

func avMap(m map[string]types.AttributeValue) (map[string]any, bool) {
	out := make(map[string]any, len(m))
	for k, v := range m {
		x, ok := avAny(v)
		if !ok {
			return nil, false
		}
		out[k] = x
	}
	return out, true
}

// avAny reads a value of data as attributevalue reads it into an interface: S a string,
// N a float64, BOOL a bool, NULL nil, L a []any, M a map[string]any.
func avAny(av types.AttributeValue) (any, bool) {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return v.Value, true
	case *types.AttributeValueMemberN:
		f, err := strconv.ParseFloat(v.Value, 64)
		return f, err == nil
	case *types.AttributeValueMemberBOOL:
		return v.Value, true
	case *types.AttributeValueMemberNULL, nil:
		return nil, true
	case *types.AttributeValueMemberL:
		out := make([]any, len(v.Value))
		for i, x := range v.Value {
			var ok bool
			if out[i], ok = avAny(x); !ok {
				return nil, false
			}
		}
		return out, true
	case *types.AttributeValueMemberM:
		return avMap(v.Value)
	}
	return nil, false
}
