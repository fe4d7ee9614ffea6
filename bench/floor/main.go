// Command floor is the cold-start floor: a Lambda function that only calls lambda.Start.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(ctx context.Context) error { return nil })
}
