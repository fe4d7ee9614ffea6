// Command health answers GET /v1/health: 200 {"status":"ok"}, no auth. It touches no store,
// so it says the API and the Lambda runtime are up, nothing more.
package main

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/contrail/contrail/shared/httpapi"
	_ "github.com/contrail/contrail/shared/logging" // JSON logs from the first line on
)

func main() {
	lambda.Start(httpapi.Public(health))
}

func health(context.Context, *httpapi.Request) (events.APIGatewayV2HTTPResponse, error) {
	return httpapi.JSON(http.StatusOK, map[string]string{"status": "ok"}), nil
}
