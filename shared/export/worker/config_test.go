package worker_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/export/worker"
	"github.com/contrail/contrail/shared/mail"
	"github.com/contrail/contrail/shared/pii"
	"github.com/contrail/contrail/shared/s3bucket"
)

// The worker checks MAIL_FROM as the mailer does (it sends the links), and reads the audit
// table with the same bounds as every other writer, and the personal-data keys it opens
// exports with.
func TestReadConfig(t *testing.T) {
	vars := map[string]string{
		"JOBS_TABLE": "jobs", "EXPORTS_BUCKET": "exports", "S3_FORCE_PATH_STYLE": "true", "EXPORT_TIMEOUT_SECONDS": "900",
		"MAIL_FROM": "exports@contrail.example.com", "MAIL_CONFIGURATION_SET": "",
		"AUDIT_TABLE": "audit", "AUDIT_WRITE_SHARDS": "4", "RETENTION_CONTACT_DAYS": "400",
		"RETENTION_PLATFORM_DAYS": "400", "RETENTION_ACCESS_DAYS": "400", "RETENTION_COBROWSE_DAYS": "30",
		"KEYS_TABLE": "keys", "KEYS_KMS_KEY_ARN": "arn:aws:kms:us-east-1:000000000000:key/pii",
	}
	r := env.Reader{Lookup: env.Map(vars)}
	want := worker.Config{
		JobsTable: "jobs",
		Audit:     audit.StoreConfig{Table: "audit", Shards: 4, Retention: audit.RetentionDays(400, 400, 400, 30)},
		Exports:   s3bucket.Config{Name: "exports", PathStyle: true},
		Mail:      mail.Identity{From: "exports@contrail.example.com"},
		Timeout:   15 * time.Minute,
		Keys:      pii.Config{Table: "keys", KMSKey: "arn:aws:kms:us-east-1:000000000000:key/pii"},
	}
	if d := cmp.Diff(want, worker.ReadConfig(&r)); d != "" || r.Err() != nil {
		t.Errorf("ReadConfig (-want +got):\n%s%v", d, r.Err())
	}

	vars["MAIL_FROM"], vars["EXPORT_TIMEOUT_SECONDS"] = "exports", "5"
	r = env.Reader{Lookup: env.Map(vars)}
	worker.ReadConfig(&r)
	wantErr := `configuration: MAIL_FROM="exports" must be one email address, like name@example.com (a bare address of an SES-verified identity); ` +
		`EXPORT_TIMEOUT_SECONDS="5" is not an integer in [10, 900]`
	if err := r.Err(); err == nil || err.Error() != wantErr {
		t.Errorf("Err = %v\nwant %s", err, wantErr)
	}
}
