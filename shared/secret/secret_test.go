package secret_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/contrail/contrail/local/emulator"
	"github.com/contrail/contrail/shared/awsclient"
	"github.com/contrail/contrail/shared/secret"
)

const (
	arn   = "arn:aws:secretsmanager:us-east-1:000000000000:secret:CursorSecret"
	value = "cursor-key-0123456789"
)

// coldStart points a function's AWS configuration at a local Secrets Manager holding the
// cursor secret, as the local stack does: through AWS_ENDPOINT_URL_SECRETS_MANAGER.
func coldStart(t *testing.T) {
	t.Helper()
	srv := httptest.NewServer(emulator.NewSecretsManager([]emulator.Secret{{ARN: arn, Name: "CursorSecret", Value: value}}, emulator.SecretsOptions{}))
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", srv.URL)
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9") // nothing else is reached
	t.Setenv("AWS_REGION", emulator.Region)
	t.Setenv("AWS_ACCESS_KEY_ID", emulator.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", emulator.SecretAccessKey)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// The run-time path of a function's cold start: its AWS configuration, then the secret.
func TestMustString(t *testing.T) {
	coldStart(t)
	cfg := awsclient.Load(context.Background())
	if got := secret.MustString(cfg, arn); got != value {
		t.Errorf("MustString(%s) = %q, want the secret's value", arn, got)
	}
	// By name too, as Secrets Manager allows.
	got, err := secret.String(context.Background(), secretsmanager.NewFromConfig(cfg), "CursorSecret")
	if err != nil || got != value {
		t.Errorf("String(CursorSecret) = %q, %v", got, err)
	}
}

// A secret that cannot be read fails the cold start with a message that names the ARN and
// the error, and holds no secret value.
func TestMustStringMissing(t *testing.T) {
	coldStart(t)
	missing := "arn:aws:secretsmanager:us-east-1:000000000000:secret:Other"
	defer func() {
		p, _ := recover().(string)
		if !strings.Contains(p, "read secret "+missing+": ") || !strings.Contains(p, "ResourceNotFoundException") || strings.Contains(p, value) {
			t.Errorf("panic %q: want the ARN and ResourceNotFoundException, without a value", p)
		}
	}()
	secret.MustString(awsclient.Load(context.Background()), missing)
	t.Error("MustString of a missing secret returned")
}

// A secret never rotated has no previous version: Previous says so without an error.
func TestPreviousOfASecretNeverRotated(t *testing.T) {
	coldStart(t)
	v, ok, err := secret.Previous(context.Background(), secretsmanager.NewFromConfig(awsclient.Load(context.Background())), arn)
	if err != nil || ok || v != "" {
		t.Errorf("Previous(%s) = %q, %v, %v; want none", arn, v, ok, err)
	}
}
