package contact

import (
	"bytes"
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/contrail/contrail/shared/fault"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/idempotency"
	"github.com/contrail/contrail/shared/validate"
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

func deref(r *response) response {
	if r == nil {
		return response{}
	}
	return *r
}

// Update answers PATCH /v1/contacts/{id}: 200 with the contact; records CONTACT_UPDATED with
// each changed field's from and to (nothing when nothing changes).
func (s *Service) Update(ctx context.Context, r *httpapi.Request) (response, error) {
	id, err := pathID(r)
	if err != nil {
		return response{}, err
	}
	body, call, replayed, err := s.begin(ctx, r)
	if err != nil || replayed != nil {
		return deref(replayed), err
	}
	in, err := DecodeUpdate(body)
	if err != nil {
		return response{}, err
	}
	return s.act(ctx, r, id, call, "update contact", s.update(CallerOf(r), in))
}

// Connect answers POST /v1/contacts/{id}/channels: 201 with the contact; records
// CONTACT_CONNECTED; 409 channel_identity_taken when another contact holds the identity.
func (s *Service) Connect(ctx context.Context, r *httpapi.Request) (response, error) {
	id, err := pathID(r)
	if err != nil {
		return response{}, err
	}
	body, call, replayed, err := s.begin(ctx, r)
	if err != nil || replayed != nil {
		return deref(replayed), err
	}
	var in ConnectInput
	if err := httpapi.DecodeJSON(body, &in); err != nil {
		return response{}, err
	}
	if err := in.check(); err != nil {
		return response{}, err
	}
	return s.act(ctx, r, id, call, "connect contact", s.connect(CallerOf(r), in))
}

// Archive answers POST /v1/contacts/{id}/archive: 200 with the contact; CONTACT_ARCHIVED.
func (s *Service) Archive(ctx context.Context, r *httpapi.Request) (response, error) {
	id, err := pathID(r)
	if err != nil {
		return response{}, err
	}
	call, replayed, err := s.beginEmpty(ctx, r)
	if err != nil || replayed != nil {
		return deref(replayed), err
	}
	return s.act(ctx, r, id, call, "archive contact", s.setStatus(CallerOf(r), StatusActive, StatusArchived, "CONTACT_ARCHIVED",
		fault.New(fault.Conflict, "contact_already_archived", "The contact is archived already.")))
}

// Unarchive answers POST /v1/contacts/{id}/unarchive: 200 with the contact; CONTACT_UNARCHIVED.
func (s *Service) Unarchive(ctx context.Context, r *httpapi.Request) (response, error) {
	id, err := pathID(r)
	if err != nil {
		return response{}, err
	}
	call, replayed, err := s.beginEmpty(ctx, r)
	if err != nil || replayed != nil {
		return deref(replayed), err
	}
	return s.act(ctx, r, id, call, "unarchive contact", s.setStatus(CallerOf(r), StatusArchived, StatusActive, "CONTACT_UNARCHIVED",
		fault.New(fault.Conflict, "contact_not_archived", "The contact is not archived.")))
}

// Delete answers DELETE /v1/contacts/{id}: 204; CONTACT_DELETED (with the name).
func (s *Service) Delete(ctx context.Context, r *httpapi.Request) (response, error) {
	id, err := pathID(r)
	if err != nil {
		return response{}, err
	}
	call, replayed, err := s.beginEmpty(ctx, r)
	if err != nil || replayed != nil {
		return deref(replayed), err
	}
	return s.act(ctx, r, id, call, "delete contact", s.remove(CallerOf(r)))
}

// Merge answers POST /v1/contacts/merge: 200 with the primary contact; CONTACT_MERGED.
func (s *Service) Merge(ctx context.Context, r *httpapi.Request) (response, error) {
	body, call, replayed, err := s.begin(ctx, r)
	if err != nil || replayed != nil {
		return deref(replayed), err
	}
	var in MergeInput
	if err := httpapi.DecodeJSON(body, &in); err != nil {
		return response{}, err
	}
	if err := in.check(); err != nil {
		return response{}, err
	}
	ids, err := in.ids()
	if err != nil {
		return response{}, err
	}
	return s.merge(ctx, CallerOf(r), ids, call)
}

// Invite answers POST /v1/contacts/{id}/invite: 202; records CONTACT_INVITED, which the
// mailer sends.
func (s *Service) Invite(ctx context.Context, r *httpapi.Request) (response, error) {
	id, err := pathID(r)
	if err != nil {
		return response{}, err
	}
	body, call, replayed, err := s.begin(ctx, r)
	if err != nil || replayed != nil {
		return deref(replayed), err
	}
	var in EmailInput
	if err := httpapi.DecodeJSON(body, &in); err != nil {
		return response{}, err
	}
	p := validate.Problems{}
	p.Email("email", &in.Email, true)
	if err := p.Err(); err != nil {
		return response{}, err
	}
	return s.act(ctx, r, id, call, "invite contact", s.request(CallerOf(r), "CONTACT_INVITED", func(*Contact) (map[string]any, error) {
		return map[string]any{"email": in.Email}, nil
	}))
}

// Message answers POST /v1/contacts/{id}/messages: 202; records MESSAGE_SENT to the
// contact's email; 422 contact_has_no_email without one.
func (s *Service) Message(ctx context.Context, r *httpapi.Request) (response, error) {
	id, err := pathID(r)
	if err != nil {
		return response{}, err
	}
	body, call, replayed, err := s.begin(ctx, r)
	if err != nil || replayed != nil {
		return deref(replayed), err
	}
	in, err := decodeText(body)
	if err != nil {
		return response{}, err
	}
	return s.act(ctx, r, id, call, "message contact", s.request(CallerOf(r), "MESSAGE_SENT", func(c *Contact) (map[string]any, error) {
		if c.Email == "" {
			return nil, errNoEmail
		}
		return map[string]any{"text": in.Text, "to": c.Email}, nil
	}))
}

// Share answers POST /v1/contacts/{id}/share: 202; records CONTACT_SHARED to email (default:
// the contact's own) with the optional note.
func (s *Service) Share(ctx context.Context, r *httpapi.Request) (response, error) {
	id, err := pathID(r)
	if err != nil {
		return response{}, err
	}
	body, call, replayed, err := s.begin(ctx, r)
	if err != nil || replayed != nil {
		return deref(replayed), err
	}
	var in ShareInput
	if err := httpapi.DecodeJSON(body, &in); err != nil {
		return response{}, err
	}
	p := validate.Problems{}
	checkEmail(p, "email", in.Email)
	p.OptionalFreeText("note", in.Note, MaxText)
	if err := p.Err(); err != nil {
		return response{}, err
	}
	return s.act(ctx, r, id, call, "share contact", s.request(CallerOf(r), "CONTACT_SHARED", func(c *Contact) (map[string]any, error) {
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
	}))
}

// AddComment answers POST /v1/contacts/{id}/comments: 201 with the comment; COMMENT_ADDED.
func (s *Service) AddComment(ctx context.Context, r *httpapi.Request) (response, error) {
	id, err := pathID(r)
	if err != nil {
		return response{}, err
	}
	body, call, replayed, err := s.begin(ctx, r)
	if err != nil || replayed != nil {
		return deref(replayed), err
	}
	in, err := decodeText(body)
	if err != nil {
		return response{}, err
	}
	return s.act(ctx, r, id, call, "comment on contact", s.comment(CallerOf(r), in.Text))
}

func decodeText(body []byte) (TextInput, error) {
	var in TextInput
	if err := httpapi.DecodeJSON(body, &in); err != nil {
		return in, err
	}
	p := validate.Problems{}
	p.FreeText("text", &in.Text, 1, MaxText)
	return in, p.Err()
}

// beginEmpty is begin for a route without a body: none, or an empty JSON object.
func (s *Service) beginEmpty(ctx context.Context, r *httpapi.Request) (*idempotency.Call, *response, error) {
	body, call, replayed, err := s.begin(ctx, r)
	if err != nil || replayed != nil {
		return nil, replayed, err
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := httpapi.DecodeJSON(body, &struct{}{}); err != nil {
			return nil, nil, err
		}
	}
	return call, nil, nil
}
