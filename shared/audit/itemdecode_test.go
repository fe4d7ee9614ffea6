package audit

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
)

// reference is what FromItem answered before decodeItem: attributevalue, data never nil.
func reference(item map[string]types.AttributeValue) (Event, error) {
	var e Event
	if err := attributevalue.UnmarshalMap(item, &e); err != nil {
		return e, err
	}
	if e.Data == nil {
		e.Data = map[string]any{}
	}
	return e, nil
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
func m(kv ...any) types.AttributeValue {
	out := map[string]types.AttributeValue{}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)], _ = kv[i+1].(types.AttributeValue)
	}
	return &types.AttributeValueMemberM{Value: out}
}

var null types.AttributeValue = &types.AttributeValueMemberNULL{Value: true}

// written is an item as Keys.Item writes it: every field of the envelope set.
func written(t testing.TB) map[string]types.AttributeValue {
	t.Helper()
	agent := true
	e := Event{ID: "01JZ0000000000000000000001", TenantID: "acme", OccurredAt: "2026-12-07T10:00:00.000Z", RecordedAt: "2026-12-07T10:00:01.000Z",
		Type: "INPUT", Category: CategoryCobrowse, Actor: Actor{Type: ActorUser, ID: "u-1", Name: "Rina"},
		Contact: &ContactRef{ID: "c-1", Name: "Budi"}, Source: SourceAPI, Channel: "webchat", SessionID: "cb-1", IsAgent: &agent,
		Data: map[string]any{"element": "#email", "length": 12.0, "nested": map[string]any{"list": []any{"a", 1.5, true, nil, map[string]any{}}, "empty": []any{}},
			"none": nil, "big": 1e300, "neg": -0.25, "flag": false, "unicode": "Zoë 🙂"},
		Context: &Context{IP: "203.0.113.9", UserAgent: "Mozilla/5.0", RequestID: "req-1"}}
	item, err := Keys{Shards: 4}.Item(&e, RetentionDays(400, 400, 400, 30))
	if err != nil {
		t.Fatal(err)
	}
	return item
}

// with returns item with the named attributes replaced (nil value: removed).
func with(item map[string]types.AttributeValue, kv ...any) map[string]types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(item))
	for k, v := range item {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1].(types.AttributeValue)
	}
	return out
}

func TestFromItemDecodesAsAttributevalue(t *testing.T) {
	full := written(t)
	tests := []struct {
		name string
		item map[string]types.AttributeValue
		fast bool // decodeItem answers it itself; otherwise it is left to attributevalue
	}{
		{"as the writer writes it", full, true},
		{"no item", nil, true},
		{"empty item", map[string]types.AttributeValue{}, true},
		{"only keys", map[string]types.AttributeValue{"pk": s("T#a#D#2026-12-07#0"), "sk": s("x"), "expiresAt": n("1")}, true},
		{"optional fields absent", with(full, "contact", nil, "context", nil, "isAgent", nil, "data", nil, "source", nil), true},
		{"NULL fields", with(full, "id", null, "actor", null, "contact", null, "context", null, "isAgent", null, "data", null), true},
		{"a nil attribute", with(full, "type", types.AttributeValue(nil)), true},
		{"partial structs", with(full, "actor", m("type", s("system")), "contact", m(), "context", m("ip", s("::1"))), true},
		{"NULL inside structs", with(full, "actor", m("type", null, "id", s("x")), "contact", m("id", null)), true},
		{"unknown attributes", with(full, "extra", s("x"), "actor", m("type", s("user"), "role", s("admin"))), true},
		{"data numbers", with(full, "data", m("a", n("1"), "b", n("-0"), "c", n("1e-7"), "d", n("123456789012345678901234567890"), "e", n("0.1"))), true},
		{"data NULL and nil members", with(full, "data", m("a", null, "b", nil, "c", &types.AttributeValueMemberL{Value: []types.AttributeValue{null, nil}})), true},
		{"number as id", with(full, "id", n("42")), false},
		{"number in actor", with(full, "actor", m("type", s("user"), "id", n("7"))), false},
		{"list as type", with(full, "type", &types.AttributeValueMemberL{}), false},
		{"string as isAgent", with(full, "isAgent", s("true")), false},
		{"string as data", with(full, "data", s("x")), false},
		{"list as contact", with(full, "contact", &types.AttributeValueMemberL{}), false},
		{"string set in data", with(full, "data", m("tags", &types.AttributeValueMemberSS{Value: []string{"a", "b"}})), false},
		{"number set in data", with(full, "data", m("ns", &types.AttributeValueMemberNS{Value: []string{"1", "2.5"}})), false},
		{"binary in data", with(full, "data", m("b", &types.AttributeValueMemberB{Value: []byte{1, 2}})), false},
		{"binary set deep in data", with(full, "data", m("l", &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberBS{Value: [][]byte{{1}}}}})), false},
		{"bad number in data", with(full, "data", m("x", n("one"))), false},
		{"field name in another case", with(full, "id", nil, "ID", s("other")), false},
		{"struct field name in another case", with(full, "actor", m("Name", s("Other"))), false},
		{"context field name in another case", with(full, "context", m("IP", s("::1"))), false},
		{"contact field name in another case", with(full, "contact", m("iD", s("c-2"))), false},
		{"only a case-folded name", map[string]types.AttributeValue{"TENANTID": s("t")}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, fast := decodeItem(tc.item); fast != tc.fast {
				t.Errorf("decodeItem answered it itself: %v, want %v", fast, tc.fast)
			}
			want, wantErr := reference(tc.item)
			got, err := FromItem(tc.item)
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("FromItem error %v, attributevalue's %v", err, wantErr)
			}
			if err != nil {
				return // both refuse the item; what they decoded before refusing is not used
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("FromItem differs from attributevalue (-attributevalue +FromItem):\n%s", diff)
			}
		})
	}
}

// TestFromItemRandomItems compares FromItem with attributevalue on random items built from
// the writer's attributes and odd values in random places. (Names that differ from a field
// only in case are left to the table above: with both spellings in one item,
// attributevalue's answer depends on map order.)
func TestFromItemRandomItems(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 7))
	full := written(t)
	names := []string{"id", "tenantId", "occurredAt", "recordedAt", "type", "category", "actor", "contact", "source", "channel",
		"sessionId", "isAgent", "data", "context", "other"}
	var value func(depth int) types.AttributeValue
	value = func(depth int) types.AttributeValue {
		switch k := r.IntN(12); {
		case k == 0:
			return s("s" + strconv.Itoa(r.IntN(9)))
		case k == 1:
			return n([]string{"1", "-2.5", "1e9", "x", "0"}[r.IntN(5)])
		case k == 2:
			return &types.AttributeValueMemberBOOL{Value: r.IntN(2) == 0}
		case k == 3:
			return null
		case k == 4:
			return &types.AttributeValueMemberSS{Value: []string{"a"}}
		case k == 5:
			return &types.AttributeValueMemberB{Value: []byte("b")}
		case k < 9 && depth < 3:
			var l []types.AttributeValue
			for range r.IntN(3) {
				l = append(l, value(depth+1))
			}
			return &types.AttributeValueMemberL{Value: l}
		case depth < 3:
			mm := map[string]types.AttributeValue{}
			for range r.IntN(4) {
				mm[[]string{"type", "id", "name", "ip", "x"}[r.IntN(5)]] = value(depth + 1)
			}
			return &types.AttributeValueMemberM{Value: mm}
		}
		return s("leaf")
	}
	fast := 0
	for i := range 3000 {
		item := with(full)
		for range 1 + r.IntN(3) {
			item[names[r.IntN(len(names))]] = value(0)
		}
		want, wantErr := reference(item)
		got, err := FromItem(item)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("item %d %v: FromItem error %v, attributevalue's %v", i, item, err, wantErr)
		}
		if diff := cmp.Diff(want, got); err == nil && diff != "" {
			t.Fatalf("item %d: FromItem differs from attributevalue (-attributevalue +FromItem):\n%s", i, diff)
		}
		if _, ok := decodeItem(item); ok {
			fast++
		}
	}
	if fast == 0 || fast == 3000 {
		t.Errorf("decodeItem answered %d of 3000 random items itself; the test should exercise both paths", fast)
	}
}

func BenchmarkFromItem(b *testing.B) {
	item := written(b)
	b.Run("decodeItem", func(b *testing.B) {
		for range b.N {
			if _, err := FromItem(item); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("attributevalue", func(b *testing.B) {
		for range b.N {
			if _, err := reference(item); err != nil {
				b.Fatal(err)
			}
		}
	})
}
