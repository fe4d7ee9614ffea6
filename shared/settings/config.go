package settings

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/env"
)

// Config is what the settings functions read from their environment.
type Config struct {
	ContactsTable string            // CONTACTS_TABLE: the settings items and Idempotency-Key records
	Audit         audit.StoreConfig // PUT records each change here
}

// ReadGetConfig reads what GET /v1/settings needs: the contacts table.
func ReadGetConfig(r *env.Reader) Config { return Config{ContactsTable: contact.ReadTable(r)} }

// ReadPutConfig reads what PUT /v1/settings needs: the contacts table and the audit table it
// records each change in.
func ReadPutConfig(r *env.Reader) Config {
	return Config{ContactsTable: contact.ReadTable(r), Audit: audit.ReadStore(r)}
}

// NewService builds the service of a function from its configuration, with clients of awsCfg.
func NewService(awsCfg aws.Config, cfg Config) *Service {
	return New(cfg, dynamodb.NewFromConfig(awsCfg))
}
