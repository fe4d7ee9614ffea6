package audit_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/audit"
)

// TestPersonalFields pins what is personal data of a contact, type by type: a field added
// to this list is sealed from then on, and one taken off it would be stored in the clear.
func TestPersonalFields(t *testing.T) {
	want := map[string][]string{
		"CONTACT_ADDED":     {"email", "phone"},
		"CONTACT_CONNECTED": {"externalId"},
		"CONTACT_UPDATED":   {"changes"},
		"CONTACT_INVITED":   {"email"},
		"MESSAGE_SENT":      {"text", "to"},
		"CONTACT_SHARED":    {"email", "note"},
		"COMMENT_ADDED":     {"text"},
		// SES's reason for a failure can name the recipient's address.
		"EMAIL_FAILED": {"reason"},
	}
	got := map[string][]string{}
	for _, s := range audit.Specs() {
		if f := audit.PersonalFields(s.Type); f != nil {
			got[s.Type] = f
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("personal fields (-want +got):\n%s", d)
	}
	if f := audit.PersonalFields("NO_SUCH_TYPE"); f != nil {
		t.Errorf("an unknown type has personal fields %v", f)
	}
}
