package inventory

import (
	"fmt"
	"strings"
	"unicode"
)

// Contact is one way the inventory addresses a person: the subjects.csv
// columns that hold it, how a value is checked, and the store column that
// keeps it. A channel names the contact it uses (package channel), the
// store makes its columns and counts from this list, and the campaign
// hands the value to the channel's sender: a new kind of contact is one
// entry here.
type Contact struct {
	// Name is how channels, the scope and the console name it ("email").
	Name string
	// Column is the store's column for it in a snapshot's subjects table.
	Column string
	// Columns are its subjects.csv columns; a contact of several columns
	// (a postal address) keeps them joined by FieldSeparator.
	Columns []string
	// Optional: a file without its columns still imports (files from
	// before it existed).
	Optional bool
	// check returns the stored value of the cells (in Columns order), or
	// reports what is wrong through bad.
	check func(cells []string, bad func(field, reason string)) string
}

// FieldSeparator joins the fields of a contact of several columns.
const FieldSeparator = "\n"

// Contacts are the contact kinds, in the order the scope reports them.
// The store keeps which of them a person has as bits in this order, so a
// new kind is added at the end, never between.
var Contacts = []Contact{
	{Name: "onsite", Column: "onsite_id", Columns: []string{"onsite_id"}, check: checkOnsite},
	{Name: "email", Column: "email", Columns: []string{"email"}, check: checkEmail},
	{Name: "phone", Column: "phone", Columns: []string{"phone"}, check: checkPhone},
	{Name: "push", Column: "push_tokens", Columns: []string{"push_tokens"}, Optional: true, check: checkPushTokens},
	{Name: "address", Column: "address", Columns: AddressColumns, Optional: true, check: checkAddress},
	// A parent's or guardian's contacts: a minor's notice goes to them
	// (worded for a guardian), as does that of a person with none of
	// their own (an adult under guardianship).
	{Name: GuardianEmail, Column: GuardianEmail, Columns: []string{GuardianEmail}, Optional: true, check: checkEmailIn(GuardianEmail)},
	{Name: GuardianPhone, Column: GuardianPhone, Columns: []string{GuardianPhone}, Optional: true, check: checkPhoneIn(GuardianPhone)},
}

// The guardian's contact kinds, and the kind of one's own each stands in
// for.
const (
	GuardianEmail = "guardian_email"
	GuardianPhone = "guardian_phone"
)

// GuardianOf is the guardian's contact kind standing in for a person's
// own kind ("email": "guardian_email"), or "".
func GuardianOf(kind string) string {
	switch kind {
	case "email":
		return GuardianEmail
	case "phone":
		return GuardianPhone
	}
	return ""
}

// ReachMask is the bits of a reach (one per kind, in Contacts order) that
// reach a person at a kind of contact: their own, or the guardian's that
// stands in for it.
func ReachMask(kind string) int {
	mask := 0
	if i := ContactIndex(kind); i >= 0 {
		mask |= 1 << i
	}
	if g := ContactIndex(GuardianOf(kind)); g >= 0 {
		mask |= 1 << g
	}
	return mask
}

// MaxContacts bounds Contacts, so that a Subject holds its contacts in a
// fixed array (no allocation per row of a ten-million-row import).
const MaxContacts = 8

func init() {
	if len(Contacts) > MaxContacts {
		panic("inventory: more contact kinds than MaxContacts")
	}
}

// ContactIndex is the position of a contact kind in Contacts, or -1.
func ContactIndex(name string) int {
	for i, c := range Contacts {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// Contact is the subject's value for a contact kind ("" if none).
func (s Subject) Contact(name string) string {
	if i := ContactIndex(name); i >= 0 {
		return s.Contacts[i]
	}
	return ""
}

// Reach is the set of contact kinds the subject has, a bit per kind in
// Contacts order.
func (s Subject) Reach() int {
	r := 0
	for i := range Contacts {
		if s.Contacts[i] != "" {
			r |= 1 << i
		}
	}
	return r
}

// Consent values of consent_electronic: whether the person agreed to
// notice by electronic means (some laws accept e-mail only then).
const (
	ConsentYes = "yes"
	ConsentNo  = "no"
)

const consentColumn = "consent_electronic"

func checkOnsite(cells []string, bad func(field, reason string)) string {
	if len(cells[0]) > 200 {
		bad("onsite_id", "longer than 200 characters")
	}
	return cells[0]
}

var (
	checkEmail = checkEmailIn("email")
	checkPhone = checkPhoneIn("phone")
)

func checkEmailIn(field string) func(cells []string, bad func(field, reason string)) string {
	return func(cells []string, bad func(field, reason string)) string {
		if cells[0] != "" && !ValidEmail(cells[0]) {
			bad(field, fmt.Sprintf("%q is not a valid email address", cells[0]))
		}
		return cells[0]
	}
}

func checkPhoneIn(field string) func(cells []string, bad func(field, reason string)) string {
	return func(cells []string, bad func(field, reason string)) string {
		if cells[0] != "" && !ValidE164(cells[0]) {
			bad(field, fmt.Sprintf("%q is not an E.164 number (+ then country code and number, no spaces)", cells[0]))
		}
		return cells[0]
	}
}

// MaxPushTokens bounds one person's devices.
const MaxPushTokens = 10

// PushToken is one device: its service ("fcm" or "apns") and token.
type PushToken struct {
	Service string
	Token   string
}

func (t PushToken) String() string { return t.Service + ":" + t.Token }

// PushTokens splits a push_tokens value ("fcm:T1;apns:T2").
func PushTokens(v string) []PushToken {
	var out []PushToken
	for _, part := range strings.Split(v, ";") {
		part = strings.TrimSpace(part)
		if svc, tok, ok := strings.Cut(part, ":"); ok && tok != "" {
			out = append(out, PushToken{Service: svc, Token: tok})
		}
	}
	return out
}

func checkPushTokens(cells []string, bad func(field, reason string)) string {
	v := cells[0]
	if v == "" {
		return ""
	}
	var keep []string
	parts := strings.Split(v, ";")
	if len(parts) > MaxPushTokens {
		bad("push_tokens", fmt.Sprintf("%d tokens; at most %d devices a person", len(parts), MaxPushTokens))
		return ""
	}
	for _, part := range parts {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		svc, tok, _ := strings.Cut(part, ":")
		switch {
		case svc != "fcm" && svc != "apns":
			bad("push_tokens", fmt.Sprintf("%q: a token starts with fcm: or apns:", short(part)))
		case svc == "apns" && !validAPNsToken(tok):
			bad("push_tokens", fmt.Sprintf("%q: an APNs device token is 64 to 200 hexadecimal digits", short(part)))
		case svc == "fcm" && !validFCMToken(tok):
			bad("push_tokens", fmt.Sprintf("%q: an FCM registration token is 20 to 4096 letters, digits and - _ : characters", short(part)))
		default:
			keep = append(keep, svc+":"+tok)
		}
	}
	return strings.Join(keep, ";")
}

// short keeps an error message readable when a cell is a long token.
func short(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func validAPNsToken(t string) bool {
	if len(t) < 64 || len(t) > 200 || len(t)%2 != 0 {
		return false
	}
	for _, c := range []byte(t) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func validFCMToken(t string) bool {
	if len(t) < 20 || len(t) > 4096 {
		return false
	}
	for _, c := range []byte(t) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_' || c == ':') {
			return false
		}
	}
	return true
}

// AddressColumns are a postal address's subjects.csv columns, in the order
// Address keeps them.
var AddressColumns = []string{"address_line1", "address_line2", "address_city", "address_state", "address_postal_code", "address_country"}

// Address is a postal address as a letter's window shows it.
type Address struct {
	Line1, Line2, City, State, PostalCode, Country string
}

// ParseAddress reads the stored form of an address.
func ParseAddress(v string) Address {
	f := strings.Split(v, FieldSeparator)
	for len(f) < len(AddressColumns) {
		f = append(f, "")
	}
	return Address{Line1: f[0], Line2: f[1], City: f[2], State: f[3], PostalCode: f[4], Country: f[5]}
}

// String is the stored form (the fields joined by FieldSeparator).
func (a Address) String() string {
	return strings.Join([]string{a.Line1, a.Line2, a.City, a.State, a.PostalCode, a.Country}, FieldSeparator)
}

// maxAddressField bounds one line of an address: what fits a window.
const maxAddressField = 100

func checkAddress(cells []string, bad func(field, reason string)) string {
	empty := true
	for i, c := range cells {
		if c != "" {
			empty = false
		}
		if len([]rune(c)) > maxAddressField {
			bad(AddressColumns[i], fmt.Sprintf("longer than %d characters", maxAddressField))
		}
		if strings.IndexFunc(c, unicode.IsControl) >= 0 {
			bad(AddressColumns[i], "a line break or control character; an address field is one line")
		}
	}
	if empty {
		return ""
	}
	a := Address{Line1: cells[0], Line2: cells[1], City: cells[2], State: cells[3], PostalCode: cells[4], Country: strings.ToUpper(cells[5])}
	if a.Line1 == "" {
		bad("address_line1", "required with an address")
	}
	if a.City == "" {
		bad("address_city", "required with an address")
	}
	if a.Country == "" {
		bad("address_country", "required with an address (ISO 3166-1 alpha-2, as US)")
	} else if !ValidCountry(a.Country) {
		bad("address_country", fmt.Sprintf("%q is not an ISO 3166-1 alpha-2 country code", a.Country))
	}
	return a.String()
}
