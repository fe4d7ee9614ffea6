// Package secret reads a function's secrets from AWS Secrets Manager, once per cold start.
// A function's environment names a secret by its ARN only (CURSOR_SECRET_ARN), so the value
// is in no environment that a reader of the function's configuration sees, and only the
// functions whose role may read the secret can have it.
package secret

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// API is the part of the Secrets Manager client String uses.
type API interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

var _ API = (*secretsmanager.Client)(nil)

// String returns the current SecretString of the secret arn (an ARN or a name). Its errors
// name the secret, never a value.
func String(ctx context.Context, c API, arn string) (string, error) {
	out, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return "", fmt.Errorf("read secret %s: %w", arn, err)
	}
	if aws.ToString(out.SecretString) == "" {
		return "", fmt.Errorf("read secret %s: it has no SecretString", arn)
	}
	return *out.SecretString, nil
}

// Previous returns the SecretString of the secret's AWSPREVIOUS version: the value it had
// before its last rotation. ok is false when it has none (never rotated).
func Previous(ctx context.Context, c API, arn string) (value string, ok bool, err error) {
	out, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionStage: aws.String("AWSPREVIOUS")})
	var nf *smtypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read the previous version of secret %s: %w", arn, err)
	}
	return aws.ToString(out.SecretString), aws.ToString(out.SecretString) != "", nil
}

// coldStartTimeout bounds the read at cold start: the SDK's retries of a throttled or
// unreachable Secrets Manager, not the whole init phase.
const coldStartTimeout = 5 * time.Second

// MustString reads the secret arn with a client of cfg at cold start. It panics with the
// ARN and the error, never the value, so a function that cannot read its secret fails its
// cold start instead of its first request.
func MustString(cfg aws.Config, arn string) string {
	ctx, cancel := context.WithTimeout(context.Background(), coldStartTimeout)
	defer cancel()
	v, err := String(ctx, secretsmanager.NewFromConfig(cfg), arn)
	if err != nil {
		panic(err.Error())
	}
	return v
}
