package audit

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestFromStreamImage(t *testing.T) {
	const image = `{
		"s": {"S": "text"}, "n": {"N": "12.5"}, "b": {"B": "aGk="}, "t": {"BOOL": true},
		"z": {"NULL": true}, "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2"]}, "bs": {"BS": ["aGk="]},
		"l": {"L": [{"S": "x"}, {"M": {"k": {"N": "1"}}}]},
		"m": {"M": {"inner": {"L": []}}}
	}`
	var in map[string]events.DynamoDBAttributeValue
	if err := json.Unmarshal([]byte(image), &in); err != nil {
		t.Fatal(err)
	}
	got, err := FromStreamImage(in)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]types.AttributeValue{
		"s":  &types.AttributeValueMemberS{Value: "text"},
		"n":  &types.AttributeValueMemberN{Value: "12.5"},
		"b":  &types.AttributeValueMemberB{Value: []byte("hi")},
		"t":  &types.AttributeValueMemberBOOL{Value: true},
		"z":  &types.AttributeValueMemberNULL{Value: true},
		"ss": &types.AttributeValueMemberSS{Value: []string{"a", "b"}},
		"ns": &types.AttributeValueMemberNS{Value: []string{"1", "2"}},
		"bs": &types.AttributeValueMemberBS{Value: [][]byte{[]byte("hi")}},
		"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{
			&types.AttributeValueMemberS{Value: "x"},
			&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": &types.AttributeValueMemberN{Value: "1"}}},
		}},
		"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"inner": &types.AttributeValueMemberL{Value: []types.AttributeValue{}}}},
	}
	opts := cmpopts.IgnoreUnexported(
		types.AttributeValueMemberS{}, types.AttributeValueMemberN{}, types.AttributeValueMemberB{},
		types.AttributeValueMemberBOOL{}, types.AttributeValueMemberNULL{}, types.AttributeValueMemberSS{},
		types.AttributeValueMemberNS{}, types.AttributeValueMemberBS{}, types.AttributeValueMemberL{},
		types.AttributeValueMemberM{},
	)
	if d := cmp.Diff(want, got, opts); d != "" {
		t.Errorf("item (-want +got):\n%s", d)
	}

	// ToStreamImage is the inverse: rendered as stream JSON, the item reads back the same.
	b, err := json.Marshal(ToStreamImage(want))
	if err != nil {
		t.Fatal(err)
	}
	var again map[string]events.DynamoDBAttributeValue
	if err := json.Unmarshal(b, &again); err != nil {
		t.Fatal(err)
	}
	back, err := FromStreamImage(again)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, back, opts); d != "" {
		t.Errorf("ToStreamImage round trip (-want +got):\n%s", d)
	}
}

func TestEventFromStreamImage(t *testing.T) {
	ev := Event{
		ID: "01JD0000000000000000000001", TenantID: "t1", OccurredAt: "2026-11-30T01:00:00.000Z",
		RecordedAt: "2026-11-30T01:00:00.000Z", Type: "CONTACT_INVITED", Category: CategoryContact,
		Actor:   Actor{Type: ActorUser, ID: "u1", Name: "Ana"},
		Contact: &ContactRef{ID: "c1", Name: "Bob"}, Source: SourceUser,
		Data:    map[string]any{"email": "bob@example.com"},
		Context: &Context{IP: "127.0.0.1", RequestID: "r1"},
	}
	item, err := Keys{Shards: 4}.Item(&ev, RetentionDays(400, 400, 400, 30))
	if err != nil {
		t.Fatal(err)
	}
	// The stream delivers the item in DynamoDB JSON, which is what events.DynamoDBAttributeValue reads.
	image := map[string]events.DynamoDBAttributeValue{}
	for k, v := range item {
		image[k] = toStream(t, v)
	}
	got, err := EventFromStreamImage(image)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(ev, got); d != "" {
		t.Errorf("event (-want +got):\n%s", d)
	}
}

func toStream(t *testing.T, v types.AttributeValue) events.DynamoDBAttributeValue {
	t.Helper()
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return events.NewStringAttribute(x.Value)
	case *types.AttributeValueMemberN:
		return events.NewNumberAttribute(x.Value)
	case *types.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(x.Value)
	case *types.AttributeValueMemberNULL:
		return events.NewNullAttribute()
	case *types.AttributeValueMemberM:
		m := map[string]events.DynamoDBAttributeValue{}
		for k, e := range x.Value {
			m[k] = toStream(t, e)
		}
		return events.NewMapAttribute(m)
	case *types.AttributeValueMemberL:
		l := make([]events.DynamoDBAttributeValue, len(x.Value))
		for i, e := range x.Value {
			l[i] = toStream(t, e)
		}
		return events.NewListAttribute(l)
	default:
		t.Fatalf("unexpected attribute %T", v)
		return events.DynamoDBAttributeValue{}
	}
}
