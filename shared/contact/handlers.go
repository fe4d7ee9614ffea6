package contact

import (
	"bytes"
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/contrail/contrail/shared/fault"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/idempotency"
)

type response = events.APIGatewayV2HTTPResponse

// keyed answers a POST, PATCH or DELETE, which may carry an Idempotency-Key. When the key
// answered an earlier request with the same body, that answer is replayed (with another body
// it is a 409 idempotency_key_reused); otherwise answer makes the response from the body and
// call (nil without a key), under which the response is stored with the change. An earlier
// answer about a contact erased since replays as that contact's 404 contact_not_found.
func (s *Service) keyed(ctx context.Context, r *httpapi.Request, answer func(body []byte, call *idempotency.Call) (response, error)) (response, error) {
	body, err := r.Body()
	if err != nil {
		return response{}, err
	}
	call, replayed, err := s.idem().Start(ctx, r, body)
	if err != nil {
		return response{}, replayError(err)
	}
	if replayed != nil {
		return *replayed, nil
	}
	return answer(body, call)
}

// Create answers POST /v1/contacts: 201 with the new contact; records CONTACT_ADDED (and
// CONTACT_CONNECTED when a channel identity is given).
func (s *Service) Create(ctx context.Context, r *httpapi.Request) (response, error) {
	return s.keyed(ctx, r, func(body []byte, call *idempotency.Call) (response, error) {
		in, err := DecodeCreate(body)
		if err != nil {
			return response{}, err
		}
		return s.add(ctx, CallerOf(r), in, call)
	})
}

// Get answers GET /v1/contacts/{id}.
func (s *Service) Get(ctx context.Context, r *httpapi.Request) (response, error) {
	id, err := pathID(r)
	if err != nil {
		return response{}, err
	}
	c, err := s.Load(ctx, r.TenantID, id)
	if err != nil {
		return response{}, err
	}
	return httpapi.JSON(http.StatusOK, c.View()), nil
}

// actOn answers a change to the contact of the route's {id}, the preamble every such route
// shares: the id, then the Idempotency-Key and the body (an earlier answer to the key is
// replayed), then read turns the body into the change, which act applies.
func (s *Service) actOn(ctx context.Context, r *httpapi.Request, what string, read func(body []byte) (decide, error)) (response, error) {
	id, err := pathID(r)
	if err != nil {
		return response{}, err
	}
	return s.keyed(ctx, r, func(body []byte, call *idempotency.Call) (response, error) {
		d, err := read(body)
		if err != nil {
			return response{}, err
		}
		return s.act(ctx, r, id, call, what, d)
	})
}

// noBody is the read of a route without a body: none, or an empty JSON object.
func noBody(d decide) func(body []byte) (decide, error) {
	return func(body []byte) (decide, error) {
		if len(bytes.TrimSpace(body)) > 0 {
			if err := httpapi.DecodeJSON(body, &struct{}{}); err != nil {
				return nil, err
			}
		}
		return d, nil
	}
}

// Update answers PATCH /v1/contacts/{id}: 200 with the contact; records CONTACT_UPDATED with
// each changed field's from and to (nothing when nothing changes).
func (s *Service) Update(ctx context.Context, r *httpapi.Request) (response, error) {
	return s.actOn(ctx, r, "update contact", func(body []byte) (decide, error) {
		in, err := DecodeUpdate(body)
		if err != nil {
			return nil, err
		}
		return s.update(CallerOf(r), in), nil
	})
}

// Connect answers POST /v1/contacts/{id}/channels: 201 with the contact; records
// CONTACT_CONNECTED; 409 channel_identity_taken when another contact holds the identity.
func (s *Service) Connect(ctx context.Context, r *httpapi.Request) (response, error) {
	return s.actOn(ctx, r, "connect contact", checked(func(in ConnectInput) decide {
		return s.connect(CallerOf(r), in)
	}))
}

// Archive answers POST /v1/contacts/{id}/archive: 200 with the contact; CONTACT_ARCHIVED.
func (s *Service) Archive(ctx context.Context, r *httpapi.Request) (response, error) {
	return s.actOn(ctx, r, "archive contact", noBody(s.setStatus(CallerOf(r), StatusActive, StatusArchived, "CONTACT_ARCHIVED",
		fault.New(fault.Conflict, "contact_already_archived", "The contact is archived already."))))
}

// Unarchive answers POST /v1/contacts/{id}/unarchive: 200 with the contact; CONTACT_UNARCHIVED.
func (s *Service) Unarchive(ctx context.Context, r *httpapi.Request) (response, error) {
	return s.actOn(ctx, r, "unarchive contact", noBody(s.setStatus(CallerOf(r), StatusArchived, StatusActive, "CONTACT_UNARCHIVED",
		fault.New(fault.Conflict, "contact_not_archived", "The contact is not archived."))))
}

// Delete answers DELETE /v1/contacts/{id}: 204; CONTACT_DELETED (with the name).
func (s *Service) Delete(ctx context.Context, r *httpapi.Request) (response, error) {
	return s.actOn(ctx, r, "delete contact", noBody(s.remove(CallerOf(r))))
}

// Merge answers POST /v1/contacts/merge: 200 with the primary contact; CONTACT_MERGED.
func (s *Service) Merge(ctx context.Context, r *httpapi.Request) (response, error) {
	return s.keyed(ctx, r, func(body []byte, call *idempotency.Call) (response, error) {
		in, err := decode[MergeInput](body)
		if err != nil {
			return response{}, err
		}
		ids, err := in.ids()
		if err != nil {
			return response{}, err
		}
		return s.merge(ctx, CallerOf(r), ids, call)
	})
}

// Invite answers POST /v1/contacts/{id}/invite: 202; records CONTACT_INVITED, which the
// mailer sends.
func (s *Service) Invite(ctx context.Context, r *httpapi.Request) (response, error) {
	return s.actOn(ctx, r, "invite contact", checked(func(in EmailInput) decide {
		return s.request(CallerOf(r), "CONTACT_INVITED", func(*Contact) (map[string]any, error) {
			return map[string]any{"email": in.Email}, nil
		})
	}))
}

// Message answers POST /v1/contacts/{id}/messages: 202; records MESSAGE_SENT to the
// contact's email; 422 contact_has_no_email without one.
func (s *Service) Message(ctx context.Context, r *httpapi.Request) (response, error) {
	return s.actOn(ctx, r, "message contact", checked(func(in TextInput) decide {
		return s.request(CallerOf(r), "MESSAGE_SENT", func(c *Contact) (map[string]any, error) {
			if c.Email == "" {
				return nil, errNoEmail
			}
			return map[string]any{"text": in.Text, "to": c.Email}, nil
		})
	}))
}

// Share answers POST /v1/contacts/{id}/share: 202; records CONTACT_SHARED to email (default:
// the contact's own) with the optional note.
func (s *Service) Share(ctx context.Context, r *httpapi.Request) (response, error) {
	return s.actOn(ctx, r, "share contact", checked(func(in ShareInput) decide {
		return s.request(CallerOf(r), "CONTACT_SHARED", func(c *Contact) (map[string]any, error) {
			to := c.Email
			if in.Email != nil && *in.Email != "" {
				to = *in.Email
			}
			if to == "" {
				return nil, errNoEmail
			}
			d := map[string]any{"email": to}
			if in.Note != nil && *in.Note != "" {
				d["note"] = *in.Note
			}
			return d, nil
		})
	}))
}

// AddComment answers POST /v1/contacts/{id}/comments: 201 with the comment; COMMENT_ADDED.
func (s *Service) AddComment(ctx context.Context, r *httpapi.Request) (response, error) {
	return s.actOn(ctx, r, "comment on contact", checked(func(in TextInput) decide {
		return s.comment(CallerOf(r), in.Text)
	}))
}

// checked is the read of a route whose body is an input T: decoded, checked, then made into
// the change by change.
func checked[T any, P checker[T]](change func(in T) decide) func(body []byte) (decide, error) {
	return func(body []byte) (decide, error) {
		in, err := decode[T, P](body)
		if err != nil {
			return nil, err
		}
		return change(in), nil
	}
}
