package mail

import (
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/pii"
	"github.com/contrail/contrail/shared/validate"
)

// Identity is who Contrail's emails come from, for every function that sends one (the
// mailer, the export worker).
type Identity struct {
	From             string // MAIL_FROM: a bare address of an SES-verified identity (address or its domain)
	ConfigurationSet string // MAIL_CONFIGURATION_SET: an SES configuration set, optional
}

// ReadIdentity reads MAIL_FROM, which must be an email address, and MAIL_CONFIGURATION_SET.
func ReadIdentity(r *env.Reader) Identity {
	id := Identity{From: r.String("MAIL_FROM"), ConfigurationSet: r.Optional("MAIL_CONFIGURATION_SET", "")}
	if id.From != "" {
		if msg := validate.EmailProblem(id.From); msg != "" {
			r.Invalid("MAIL_FROM", id.From, msg+" (a bare address of an SES-verified identity)")
		}
	}
	return id
}

// Config is what the mailer function reads from its environment.
type Config struct {
	Identity
	ContactsTable string            // CONTACTS_TABLE: claims and contacts
	Audit         audit.StoreConfig // EMAIL_DELIVERED and EMAIL_FAILED go here
	Keys          pii.Config        // the requests are opened, the outcomes sealed, with these keys
}

// ReadConfig reads the mailer's configuration.
func ReadConfig(r *env.Reader) Config {
	return Config{Identity: ReadIdentity(r), ContactsTable: contact.ReadTable(r), Audit: audit.ReadStore(r), Keys: pii.ReadConfig(r)}
}
