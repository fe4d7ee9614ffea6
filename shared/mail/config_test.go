package mail_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/mail"
	"github.com/contrail/contrail/shared/pii"
)

// The sender of every email, read one way by the mailer and the export worker: MAIL_FROM
// must be a bare address, MAIL_CONFIGURATION_SET is optional.
func TestReadIdentity(t *testing.T) {
	const from = "no-reply@contrail.example.com"
	for _, tc := range []struct {
		from, set string
		want      mail.Identity
		problem   string
	}{
		{from, "", mail.Identity{From: from}, ""},
		{from, "tracked", mail.Identity{From: from, ConfigurationSet: "tracked"}, ""},
		{"", "", mail.Identity{}, "configuration: MAIL_FROM is not set"},
		{"Contrail <no-reply@contrail.example.com>", "", mail.Identity{From: "Contrail <no-reply@contrail.example.com>"},
			`configuration: MAIL_FROM="Contrail <no-reply@contrail.example.com>" must be one email address, like name@example.com (a bare address of an SES-verified identity)`},
	} {
		r := env.Reader{Lookup: env.Map(map[string]string{"MAIL_FROM": tc.from, "MAIL_CONFIGURATION_SET": tc.set})}
		got := mail.ReadIdentity(&r)
		problem := ""
		if err := r.Err(); err != nil {
			problem = err.Error()
		}
		if d := cmp.Diff(tc.want, got); d != "" || problem != tc.problem {
			t.Errorf("MAIL_FROM=%q: (-want +got)\n%s%q, want %q", tc.from, d, problem, tc.problem)
		}
	}
}

func TestReadConfig(t *testing.T) {
	r := env.Reader{Lookup: env.Map(map[string]string{
		"MAIL_FROM": "no-reply@contrail.example.com", "CONTACTS_TABLE": "contacts", "AUDIT_TABLE": "audit", "AUDIT_WRITE_SHARDS": "4",
		"RETENTION_CONTACT_DAYS": "400", "RETENTION_PLATFORM_DAYS": "400", "RETENTION_ACCESS_DAYS": "400", "RETENTION_COBROWSE_DAYS": "30",
		"KEYS_TABLE": "keys", "KEYS_KMS_KEY_ARN": "arn:aws:kms:us-east-1:000000000000:key/k",
	})}
	want := mail.Config{
		Identity:      mail.Identity{From: "no-reply@contrail.example.com"},
		ContactsTable: "contacts",
		Audit:         audit.StoreConfig{Table: "audit", Shards: 4, Retention: audit.RetentionDays(400, 400, 400, 30)},
		Keys:          pii.Config{Table: "keys", KMSKey: "arn:aws:kms:us-east-1:000000000000:key/k"},
	}
	if d := cmp.Diff(want, mail.ReadConfig(&r)); d != "" || r.Err() != nil {
		t.Errorf("ReadConfig (-want +got):\n%s%v", d, r.Err())
	}
}
