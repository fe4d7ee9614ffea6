package pii

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/contrail/contrail/shared/env"
)

// Config is where a function finds the keys of personal data: every function that seals or
// opens personal fields reads it with ReadConfig.
type Config struct {
	Table  string // KEYS_TABLE: tenant keys and contacts' data keys
	KMSKey string // KEYS_KMS_KEY_ARN: the KMS key that wraps each tenant key
}

// ReadConfig reads KEYS_TABLE and KEYS_KMS_KEY_ARN.
func ReadConfig(r *env.Reader) Config {
	return Config{Table: r.String("KEYS_TABLE"), KMSKey: r.String("KEYS_KMS_KEY_ARN")}
}

// NewKeyring returns the keyring of a function: KeysTable through DynamoDB, tenant keys
// wrapped by KMS (in AWS, or the local stack's KMS stand-in through AWS_ENDPOINT_URL_KMS).
func NewKeyring(cfg aws.Config, c Config) *Keyring {
	return &Keyring{
		DB:      dynamodb.NewFromConfig(cfg),
		Table:   c.Table,
		Wrapper: &KMSWrapper{KMS: kms.NewFromConfig(cfg), KeyID: c.KMSKey},
	}
}
