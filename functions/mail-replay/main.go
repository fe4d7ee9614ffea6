// Command mail-replay delivers again the mail requests the mailer gave up on: each message
// of MailerFailureQueue names a shard and sequence range of the audit table's stream, which
// it reads back and hands to the mailer once the dead invocation's claim lease has run out.
// A message it cannot deliver yet stays in the queue (and goes to the dead-letter queue
// after its receives).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/contrail/contrail/shared/lambdafn"
	"github.com/contrail/contrail/shared/mail"
	"github.com/contrail/contrail/shared/mail/replay"
)

func main() {
	lambda.Start(lambdafn.New(replay.NewService, mail.ReadConfig).Handle)
}
