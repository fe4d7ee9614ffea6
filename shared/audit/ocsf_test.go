package audit

import (
	"slices"
	"testing"
)

// TestOCSFMappings: every type has a valid OCSF class and activity, and the data fields a
// mapping names are fields of its type.
func TestOCSFMappings(t *testing.T) {
	for _, s := range registry {
		if msg := s.OCSF.check(); msg != "" {
			t.Errorf("%s: %s", s.Type, msg)
		}
		for _, name := range []string{s.OCSF.NameField, s.OCSF.PrivilegeField} {
			if name != "" && !slices.ContainsFunc(s.Data, func(f Field) bool { return f.Name == name && f.Kind == String && f.Required }) {
				t.Errorf("%s: OCSF names data field %q, which is not a required string of the type", s.Type, name)
			}
		}
	}
	for _, tc := range []struct {
		o    OCSF
		want string
	}{
		{ocsfContact(OCSFCreate), ""},
		{OCSF{Class: 4002, Activity: 1}, "unknown OCSF class 4002"},
		{OCSF{Class: OCSFAuthentication, Activity: 2}, "OCSF class 3002 has no activity 2"},
		{OCSF{Class: OCSFEntityManagement, Activity: OCSFUpdate}, "an Entity Management event needs its object"},
		{OCSF{Class: OCSFUserAccess, Activity: OCSFAssignPrivileges, NameField: "tenantUser"}, "a User Access Management event needs the user's and the privilege's fields"},
	} {
		if got := tc.o.check(); got != tc.want {
			t.Errorf("check(%+v) = %q, want %q", tc.o, got, tc.want)
		}
	}
}
