package main

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/httpapi"
)

func TestHealth(t *testing.T) {
	ev := stacktest.Sample[events.APIGatewayV2HTTPRequest](t, "health-get.json")
	got, err := httpapi.Public(health)(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	want := events.APIGatewayV2HTTPResponse{
		StatusCode: 200,
		Headers:    map[string]string{"content-type": "application/json"},
		Body:       `{"status":"ok"}`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("response (-want +got):\n%s", d)
	}
}
