// Package awsclient loads the AWS configuration once per cold start. Every client honours
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> (SDK v2 built-in), which is how the local
// stack and LocalStack are reached.
package awsclient

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Load returns the default AWS configuration or panics, failing the cold start with the reason.
func Load(ctx context.Context) aws.Config {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		panic(fmt.Sprintf("load AWS configuration: %v", err))
	}
	return cfg
}
