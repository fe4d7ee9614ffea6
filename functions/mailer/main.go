// Command mailer is the outbox of the contact emails: triggered by the audit table's stream
// (INSERTs of CONTACT_INVITED, MESSAGE_SENT, CONTACT_SHARED), it sends each email once
// through SES v2 and records EMAIL_DELIVERED or EMAIL_FAILED.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/contrail/contrail/shared/awsclient"
	"github.com/contrail/contrail/shared/env"
	_ "github.com/contrail/contrail/shared/logging" // JSON logs from the first line on
	"github.com/contrail/contrail/shared/mail"
)

func main() {
	awsCfg := awsclient.Load(context.Background())
	m := mail.NewService(awsCfg, env.Load(mail.ReadConfig), mail.NewSender(awsCfg))
	lambda.Start(m.Handle)
}
