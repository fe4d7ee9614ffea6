package audit

import "fmt"

// OCSFVersion is the version of the Open Cybersecurity Schema Framework the ocsf export
// format writes (shared/ocsf): the one Amazon Security Lake's custom sources and most SIEM
// integrations read.
const OCSFVersion = "1.1.0"

// OCSF classes events are exported as (class_uid).
const (
	OCSFAuthentication   = 3002
	OCSFEntityManagement = 3004
	OCSFUserAccess       = 3005
	OCSFAPIActivity      = 6003
)

// OCSF activities (activity_id). Create, Read, Update and Delete are those of Entity
// Management and API Activity; Logon is Authentication's, AssignPrivileges User Access
// Management's; Other is every class's.
const (
	OCSFCreate           = 1
	OCSFRead             = 2
	OCSFUpdate           = 3
	OCSFDelete           = 4
	OCSFLogon            = 1
	OCSFAssignPrivileges = 1
	OCSFOther            = 99
)

// OCSF says how an event of a type is exported in OCSF: its class, its activity in that
// class, and what it acts on when that is neither its contact nor its co-browsing session.
type OCSF struct {
	Class    int // class_uid
	Activity int // activity_id
	// Object is the type of the entity (Entity Management) or user (User Access Management)
	// the event acts on, as the export names it; "Contact" takes the event's contact.
	Object string
	// NameField is the data field that names the object ("" for none).
	NameField string
	// PrivilegeField is the data field that holds the privilege User Access Management
	// assigns.
	PrivilegeField string
}

func ocsfEntity(activity int, object, nameField string) OCSF {
	return OCSF{Class: OCSFEntityManagement, Activity: activity, Object: object, NameField: nameField}
}

func ocsfContact(activity int) OCSF { return ocsfEntity(activity, OCSFContact, "") }

func ocsfAPI(activity int) OCSF { return OCSF{Class: OCSFAPIActivity, Activity: activity} }

// OCSFContact is the object type of an event that acts on its contact.
const OCSFContact = "Contact"

type ocsfClass struct {
	name       string
	category   int
	activities map[int]string
}

var crud = map[int]string{OCSFCreate: "Create", OCSFRead: "Read", OCSFUpdate: "Update", OCSFDelete: "Delete", OCSFOther: "Other"}

var ocsfClasses = map[int]ocsfClass{
	OCSFAuthentication:   {"Authentication", 3, map[int]string{OCSFLogon: "Logon", OCSFOther: "Other"}},
	OCSFEntityManagement: {"Entity Management", 3, crud},
	OCSFUserAccess:       {"User Access Management", 3, map[int]string{OCSFAssignPrivileges: "Assign Privileges", OCSFOther: "Other"}},
	OCSFAPIActivity:      {"API Activity", 6, crud},
}

var ocsfCategories = map[int]string{3: "Identity & Access Management", 6: "Application Activity"}

// OCSFNames returns the names OCSF gives a mapping's class, its category and its activity.
func (o OCSF) OCSFNames() (class string, categoryUID int, category, activity string) {
	c := ocsfClasses[o.Class]
	return c.name, c.category, ocsfCategories[c.category], c.activities[o.Activity]
}

// check says what is wrong with the mapping ("" when nothing).
func (o OCSF) check() string {
	c, ok := ocsfClasses[o.Class]
	switch {
	case !ok:
		return fmt.Sprintf("unknown OCSF class %d", o.Class)
	case c.activities[o.Activity] == "":
		return fmt.Sprintf("OCSF class %d has no activity %d", o.Class, o.Activity)
	case o.Class == OCSFEntityManagement && o.Object == "":
		return "an Entity Management event needs its object"
	case o.Class == OCSFUserAccess && (o.NameField == "" || o.PrivilegeField == ""):
		return "a User Access Management event needs the user's and the privilege's fields"
	}
	return ""
}

// describe is the mapping as the event reference shows it.
func (o OCSF) describe() string {
	class, _, _, activity := o.OCSFNames()
	return fmt.Sprintf("%s (%d): %s", class, o.Class, activity)
}
