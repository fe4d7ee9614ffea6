package contact

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/idempotency"
)

type response = events.APIGatewayV2HTTPResponse

// begin reads the Idempotency-Key and the body of a POST or DELETE. When the key answered
// an earlier request with the same body, replayed is that answer; with another body it is a
// 409 idempotency_key_reused.
func (s *Service) begin(ctx context.Context, r *httpapi.Request) (body []byte, call *idempotency.Call, replayed *response, err error) {
	if body, err = r.Body(); err != nil {
		return nil, nil, nil, err
	}
	if call, err = idempotency.Begin(r, body); err != nil {
		return nil, nil, nil, err
	}
	if replayed, err = s.Idem.Replay(ctx, call); err != nil {
		return nil, nil, nil, err
	}
	return body, call, replayed, nil
}

// Create answers POST /v1/contacts: 201 with the new contact; records CONTACT_ADDED (and
// CONTACT_CONNECTED when a channel identity is given).
func (s *Service) Create(ctx context.Context, r *httpapi.Request) (response, error) {
	body, call, replayed, err := s.begin(ctx, r)
	if err != nil || replayed != nil {
		return deref(replayed), err
	}
	in, err := DecodeCreate(body)
	if err != nil {
		return response{}, err
	}
	return s.add(ctx, CallerOf(r), in, call)
}

// Get answers GET /v1/contacts/{id}.
func (s *Service) Get(ctx context.Context, r *httpapi.Request) (response, error) {
	c, err := s.Load(ctx, r.TenantID, r.PathParam("id"))
	if err != nil {
		return response{}, err
	}
	return httpapi.JSON(http.StatusOK, c.View()), nil
}

func deref(r *response) response {
	if r == nil {
		return response{}
	}
	return *r
}
