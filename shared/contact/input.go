package contact

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/validate"
)

// Limits of the contact fields.
const (
	MaxExternalID = 200
	MaxText       = 10000 // messages, comments, share notes
	MaxMerge      = 10
)

// CreateInput is the body of POST /v1/contacts (and one row of an import).
//
// Besides the contract's fields it accepts externalId (an extension): with channel it
// connects the channel identity at creation. A channel without externalId is recorded on
// the CONTACT_ADDED event only (where the contact came from), since there is no identity
// to hold.
type CreateInput struct {
	Name       string  `json:"name"`
	Email      *string `json:"email"`
	Phone      *string `json:"phone"`
	Source     string  `json:"source"`
	Channel    string  `json:"channel"`
	ExternalID string  `json:"externalId"`
}

// Check trims and validates every field but source (the caller decides which sources it
// accepts), adding each problem to p.
func (in *CreateInput) Check(p validate.Problems) {
	p.Name("name", &in.Name)
	checkEmail(p, "email", in.Email)
	checkPhone(p, "phone", in.Phone)
	in.Channel = strings.TrimSpace(in.Channel)
	in.ExternalID = strings.TrimSpace(in.ExternalID)
	if in.Channel != "" && !slices.Contains(audit.Channels, in.Channel) {
		p.Add("channel", "must be one of "+strings.Join(audit.Channels, ", "))
	}
	if in.ExternalID != "" {
		if in.Channel == "" {
			p.Add("channel", "is required with externalId")
		}
		p.Text("externalId", &in.ExternalID, 1, MaxExternalID)
	}
}

// DecodeCreate decodes and validates a POST /v1/contacts body: the contract's rules, with
// source one of manual (default), api, incoming_message.
func DecodeCreate(body []byte) (CreateInput, error) {
	var in CreateInput
	if err := httpapi.DecodeJSON(body, &in); err != nil {
		return in, err
	}
	p := validate.Problems{}
	in.Check(p)
	p.OneOf("source", &in.Source, audit.SourceManual, audit.SourceManual, audit.SourceAPI, audit.SourceIncomingMessage)
	return in, p.Err()
}

// UpdateInput is the body of PATCH /v1/contacts/{id}: a field left out stays as it is; email
// or phone sent as null or "" is removed.
type UpdateInput struct {
	Name  *string `json:"name"`
	Email *string `json:"email"`
	Phone *string `json:"phone"`

	present map[string]bool
}

// DecodeUpdate decodes and validates a PATCH body.
func DecodeUpdate(body []byte) (UpdateInput, error) {
	var in UpdateInput
	if err := httpapi.DecodeJSON(body, &in); err != nil {
		return in, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return in, err // DecodeJSON accepted it, so this cannot happen
	}
	in.present = map[string]bool{}
	for k := range raw { // decode let through only the exact names
		in.present[k] = true
	}
	p := validate.Problems{}
	if len(raw) == 0 {
		p.Add("name", "send at least one of name, email, phone")
	}
	if in.present["name"] {
		if in.Name == nil {
			p.Add("name", "must not be null")
		} else {
			p.Name("name", in.Name)
		}
	}
	checkEmail(p, "email", in.Email)
	checkPhone(p, "phone", in.Phone)
	return in, p.Err()
}

// Sets reports whether the body sent field (null included).
func (in *UpdateInput) Sets(field string) bool { return in.present[field] }

func checkEmail(p validate.Problems, field string, s *string) {
	if s != nil {
		p.Email(field, s, false)
	}
}

// checkPhone trims and checks an optional phone number: an optional leading +, then digits
// with spaces, dashes, dots or parentheses between them, 6 to 20 digits in all.
func checkPhone(p validate.Problems, field string, s *string) {
	if s == nil {
		return
	}
	*s = strings.TrimSpace(*s)
	if *s == "" {
		return
	}
	if msg := PhoneProblem(*s); msg != "" {
		p.Add(field, msg)
	}
}

// PhoneProblem says what is wrong with a phone number, or "" when it is acceptable.
func PhoneProblem(s string) string {
	const msg = "must be a phone number like +62 812-3456-7890: an optional +, then 6 to 20 digits with spaces, dashes, dots or parentheses"
	if len(s) > 40 {
		return msg
	}
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0:
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return msg
		}
	}
	if digits < 6 || digits > 20 {
		return msg
	}
	return ""
}

// ConnectInput is the body of POST /v1/contacts/{id}/channels.
type ConnectInput struct {
	Channel    string `json:"channel"`
	ExternalID string `json:"externalId"`
	Source     string `json:"source"`
}

func (in *ConnectInput) check() error {
	p := validate.Problems{}
	in.Channel = strings.TrimSpace(in.Channel)
	if in.Channel == "" {
		p.Add("channel", "is required")
	} else if !slices.Contains(audit.Channels, in.Channel) {
		p.Add("channel", "must be one of "+strings.Join(audit.Channels, ", "))
	}
	p.Text("externalId", &in.ExternalID, 1, MaxExternalID)
	p.OneOf("source", &in.Source, audit.SourceIncomingMessage, audit.SourceIncomingMessage, audit.SourceManual, audit.SourceAPI)
	return p.Err()
}

// MergeInput is the body of POST /v1/contacts/merge.
type MergeInput struct {
	PrimaryID string   `json:"primaryId"`
	MergedIDs []string `json:"mergedIds"`
}

func (in *MergeInput) check() error {
	p := validate.Problems{}
	p.Text("primaryId", &in.PrimaryID, 1, 200)
	switch {
	case in.MergedIDs == nil:
		p.Add("mergedIds", "is required")
	case len(in.MergedIDs) < 1 || len(in.MergedIDs) > MaxMerge:
		p.Add("mergedIds", "must list 1 to 10 contact ids")
	default:
		seen := map[string]bool{}
		for i := range in.MergedIDs {
			id := strings.TrimSpace(in.MergedIDs[i])
			in.MergedIDs[i] = id
			switch {
			case id == "":
				p.Add("mergedIds", "must not contain empty ids")
			case id == in.PrimaryID:
				p.Add("mergedIds", "must not contain the primary contact")
			case seen[id]:
				p.Add("mergedIds", "must not repeat an id")
			}
			seen[id] = true
		}
	}
	return p.Err()
}

// ids parses the checked ids, the primary first. A malformed one is a contact that cannot
// exist: 404 contact_not_found, as for an unknown id, before anything is read.
func (in *MergeInput) ids() ([]ID, error) {
	ids := make([]ID, 0, 1+len(in.MergedIDs))
	for _, s := range append([]string{in.PrimaryID}, in.MergedIDs...) {
		id, err := ParseID(s)
		if err != nil {
			return nil, noSuchContact
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// EmailInput is the body of POST /v1/contacts/{id}/invite.
type EmailInput struct {
	Email string `json:"email"`
}

func (in *EmailInput) check() error {
	p := validate.Problems{}
	p.Email("email", &in.Email, true)
	return p.Err()
}

// TextInput is the body of POST /v1/contacts/{id}/messages and /comments.
type TextInput struct {
	Text string `json:"text"`
}

func (in *TextInput) check() error {
	p := validate.Problems{}
	p.FreeText("text", &in.Text, 1, MaxText)
	return p.Err()
}

// ShareInput is the body of POST /v1/contacts/{id}/share.
type ShareInput struct {
	Email *string `json:"email"`
	Note  *string `json:"note"`
}

func (in *ShareInput) check() error {
	p := validate.Problems{}
	checkEmail(p, "email", in.Email)
	p.OptionalFreeText("note", in.Note, MaxText)
	return p.Err()
}

// checker is an input of a route with a body: the pointer to it checks (and trims) it.
type checker[T any] interface {
	*T
	check() error
}

// decode decodes a route's JSON body into its input and checks it.
func decode[T any, P checker[T]](body []byte) (T, error) {
	var in T
	if err := httpapi.DecodeJSON(body, &in); err != nil {
		return in, err
	}
	return in, P(&in).check()
}
