package mail

// Sending through SES: retries of what may pass (throttling, 5xx, network errors) with
// backoff while the invocation has time left; anything else is a permanent refusal.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/contrail/contrail/shared/retry"
)

// send calls SES, retrying throttling, 5xx and network errors with exponential backoff while
// the invocation has time left. A permanent SES refusal is a *PermanentError.
func (m *Mailer) send(ctx context.Context, msg Message) (string, error) {
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(m.Config.From),
		Destination:      &sestypes.Destination{ToAddresses: []string{msg.To}},
		Content: &sestypes.EmailContent{Simple: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String(msg.Subject), Charset: aws.String("UTF-8")},
			Body: &sestypes.Body{
				Text: &sestypes.Content{Data: aws.String(msg.Text), Charset: aws.String("UTF-8")},
				Html: &sestypes.Content{Data: aws.String(msg.HTML), Charset: aws.String("UTF-8")},
			},
		}},
	}
	if m.Config.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(m.Config.ConfigurationSet)
	}
	tries := m.Tries
	if tries <= 0 {
		tries = DefaultTries
	}
	wait := m.Backoff
	if wait <= 0 {
		wait = DefaultBackoff
	}
	reserve := m.Reserve
	if reserve <= 0 {
		reserve = DefaultReserve
	}
	var err error
	for try := 1; ; try++ {
		var out *sesv2.SendEmailOutput
		out, err = m.SES.SendEmail(ctx, in)
		if err == nil {
			return aws.ToString(out.MessageId), nil
		}
		if !Transient(err) {
			return "", &PermanentError{Reason: "SES refused the email: " + describe(err)}
		}
		d := m.jitter(wait)
		if try == tries || !retry.TimeLeft(ctx, reserve+d) {
			break
		}
		if err := m.sleep(ctx, d); err != nil {
			break
		}
		wait = min(wait*2, DefaultMaxBackoff)
	}
	return "", fmt.Errorf("send email: %s", describe(err))
}

// Transient reports whether an SES error may pass: throttling, a 5xx, a timeout or a
// network failure. Any other API error (MessageRejected, a bad address, an unverified
// sender, a 4xx) will fail the same way again.
func Transient(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "TooManyRequestsException", "LimitExceededException", "ThrottlingException", "Throttling",
			"InternalFailure", "ServiceUnavailable", "InternalServerError", "RequestTimeout":
			return true
		}
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		code := re.HTTPStatusCode()
		return code >= 500 || code == 429
	}
	// An API error not listed above is SES refusing this email; anything else (a network
	// error, a timeout) never got an answer and may pass.
	return ae == nil
}

// describe is an error's reason as recorded on EMAIL_FAILED: the SES code and message.
func describe(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}

func (m *Mailer) jitter(d time.Duration) time.Duration {
	if m.Jitter != nil {
		return m.Jitter(d)
	}
	return d/2 + rand.N(d/2+1)
}

func (m *Mailer) sleep(ctx context.Context, d time.Duration) error {
	if m.Sleep != nil {
		return m.Sleep(ctx, d)
	}
	return retry.Sleep(ctx, d)
}
