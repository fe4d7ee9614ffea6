// Package settings holds a tenant's settings: what Contrail does differently per tenant (for
// now, whether co-browsing input text is kept in clear), stored as one item of the contacts
// table, read with defaults when the tenant never saved any, and changed only through
// PUT /v1/settings, which records each change as a SETTINGS_UPDATED access event in the same
// transaction.
package settings

import (
	"github.com/contrail/contrail/shared/tenant"
)

// What co-browsing INPUT events store of the text typed (Cobrowse.InputText).
const (
	InputMasked = "masked" // the default: a fixed mask and the text's length, never the characters
	InputClear  = "clear"  // the text as typed, except in fields the producer marks sensitive
)

// InputTextModes lists the values of cobrowse.inputText.
var InputTextModes = []string{InputMasked, InputClear}

// Settings are a tenant's settings, grouped by feature. A new setting is a new field of a
// group (or a new group): its default goes in Defaults, its check in check, its change in
// changes, and a stored item without it reads as the default.
type Settings struct {
	Cobrowse Cobrowse `json:"cobrowse" dynamodbav:"cobrowse"`
}

// Cobrowse holds the co-browsing settings.
type Cobrowse struct {
	// InputText is InputMasked or InputClear.
	InputText string `json:"inputText" dynamodbav:"inputText"`
}

// Defaults are the settings of a tenant that saved none: co-browsing input is masked.
func Defaults() Settings {
	return Settings{Cobrowse: Cobrowse{InputText: InputMasked}}
}

// withDefaults fills what a stored item lacks (a setting added after it was saved) with
// its default.
func (s Settings) withDefaults() Settings {
	d := Defaults()
	if s.Cobrowse.InputText == "" {
		s.Cobrowse.InputText = d.Cobrowse.InputText
	}
	return s
}

// ClearInput reports whether co-browsing INPUT text may be stored in clear. Anything but
// InputClear masks, so an unreadable value errs on the side of privacy.
func (s Settings) ClearInput() bool { return s.Cobrowse.InputText == InputClear }

// Data is the settings as an audit event's data holds them.
func (s Settings) Data() map[string]any {
	return map[string]any{"cobrowse": map[string]any{"inputText": s.Cobrowse.InputText}}
}

// changes returns {"<group>.<setting>": {from, to}} for each setting that differs between
// prev and next; empty when none does.
func changes(prev, next Settings) map[string]any {
	out := map[string]any{}
	for _, f := range []struct{ name, from, to string }{
		{"cobrowse.inputText", prev.Cobrowse.InputText, next.Cobrowse.InputText},
	} {
		if f.from != f.to {
			out[f.name] = map[string]any{"from": f.from, "to": f.to}
		}
	}
	return out
}

// itemSettings is the item type of the settings item.
const itemSettings = "settings"

// Stored is the settings item of a tenant (contacts table, pk = T#<tenant>#SETTINGS). Version
// counts the saved changes (0: never saved, the defaults); each write is conditional on the
// version read.
type Stored struct {
	PK            string    `dynamodbav:"pk"`
	ItemType      string    `dynamodbav:"itemType"`
	TenantID      tenant.ID `dynamodbav:"tenantId"`
	Settings      Settings  `dynamodbav:"settings"`
	Version       int64     `dynamodbav:"version"`
	UpdatedAt     string    `dynamodbav:"updatedAt,omitempty"`
	UpdatedBy     string    `dynamodbav:"updatedBy,omitempty"` // the admin's user id (token sub)
	UpdatedByName string    `dynamodbav:"updatedByName,omitempty"`
}

// PK is the contacts-table key of a tenant's settings item.
func PK(tenant tenant.ID) string { return "T#" + tenant.String() + "#SETTINGS" }

// View is the settings as GET and PUT /v1/settings return them: the settings, then what the
// client may not set (version, updatedAt, updatedBy; the last two null until the first save).
type View struct {
	Settings
	Version   int64    `json:"version"`
	UpdatedAt *string  `json:"updatedAt"`
	UpdatedBy *Updater `json:"updatedBy"`
}

// Updater is who saved the settings last.
type Updater struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// View returns the API representation.
func (s *Stored) View() View {
	v := View{Settings: s.Settings, Version: s.Version}
	if s.UpdatedAt != "" {
		at := s.UpdatedAt
		v.UpdatedAt = &at
	}
	if s.UpdatedBy != "" {
		v.UpdatedBy = &Updater{ID: s.UpdatedBy, Name: s.UpdatedByName}
	}
	return v
}
