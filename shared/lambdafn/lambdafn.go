// Package lambdafn is the wiring every function's main.go shares: JSON logs from the first
// line on (it imports logging), the AWS configuration and the function's configuration read
// once at cold start, and lambda.Start. A main.go keeps only what it should show:
//
//	lambdafn.Route(httpapi.AdminRoles, lambdafn.New(report.NewService, report.ReadOverviewConfig).Overview)
//
// names the roles the route allows, the service's constructor, the reader of its
// configuration (the template contract test runs that very reader over template.yaml's
// environment of the function) and the handler.
package lambdafn

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/contrail/contrail/shared/awsclient"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/httpapi"
	_ "github.com/contrail/contrail/shared/logging" // JSON logs from the first line on
)

// New builds a function's service: newService over the AWS configuration and the
// configuration read reads from the environment (env.Load: a bad variable fails the cold
// start with a message naming it).
func New[C, S any](newService func(aws.Config, C) S, read func(*env.Reader) C) S {
	return newService(awsclient.Load(context.Background()), env.Load(read))
}

// Route starts an HTTP function: h behind httpapi.Route, which admits only the given roles.
func Route(allowed []httpapi.Role, h httpapi.Handler) {
	lambda.Start(httpapi.Route(allowed, h))
}
