package inventory

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const fullHeader = "subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems,push_tokens,address_line1,address_line2,address_city,address_state,address_postal_code,address_country,consent_electronic\n"

var apnsToken = strings.Repeat("ab12", 16)

// A person's devices, postal address and answer on electronic consent
// come from the new columns; a file without them still imports.
func TestPushTokensAddressAndConsentAreRead(t *testing.T) {
	csv := fullHeader +
		"p1,Pat,,,,en,US-NY,,db,fcm:dGVzdC10b2tlbi0xMjM0NTY3OA;apns:" + apnsToken + ",1 Main St,Apt 2,Albany,NY,12207,us,No\n" +
		"p2,Ann,,,,en,US-CA,,db,,,,,,,,\n"
	subs, errs := readAll(t, "subjects.csv", csv, map[string]bool{"db": true})
	require.Empty(t, errs)
	require.Len(t, subs, 2)
	require.Equal(t, "fcm:dGVzdC10b2tlbi0xMjM0NTY3OA;apns:"+apnsToken, subs[0].Contact("push"))
	require.Equal(t, []PushToken{{"fcm", "dGVzdC10b2tlbi0xMjM0NTY3OA"}, {"apns", apnsToken}}, PushTokens(subs[0].Contact("push")))
	require.Equal(t, Address{Line1: "1 Main St", Line2: "Apt 2", City: "Albany", State: "NY", PostalCode: "12207", Country: "US"}, ParseAddress(subs[0].Contact("address")))
	require.Equal(t, ConsentNo, subs[0].Consent)
	require.True(t, subs[0].HasContact())
	require.Equal(t, 1<<ContactIndex("push")|1<<ContactIndex("address"), subs[0].Reach())
	require.False(t, subs[1].HasContact(), "no email, phone, account, device or address")

	old, errs := readAll(t, "old.csv", header+"s1,A,a@example.com,,,en,CN,,db\n", map[string]bool{"db": true})
	require.Empty(t, errs, "a file from before the new columns imports")
	require.Equal(t, "a@example.com", old[0].Contact("email"))
	require.Empty(t, old[0].Contact("push"))
	require.Empty(t, old[0].Consent)
}

func TestBadPushTokensAddressesAndConsentNameLineAndField(t *testing.T) {
	csv := fullHeader +
		"p1,Pat,,,,en,US,,db,gcm:abc,,,,,,,maybe\n" +
		"p2,Ann,,,,en,US,,db,apns:xyz;fcm:short,1 Main St,,,,,XX,\n" +
		"p3,Bo,,,,en,US,,db,,,,Springfield,,,US,\n" +
		"p4,Cy,,,,en,US,,db,,\"1 Main St\nBack door\",,Springfield,,,US,\n"
	_, errs := readAll(t, "bad.csv", csv, map[string]bool{"db": true})
	require.Contains(t, errs, `bad.csv:2: push_tokens: "gcm:abc": a token starts with fcm: or apns:`)
	require.Contains(t, errs, `bad.csv:2: consent_electronic: "maybe": yes, no, or empty (not asked)`)
	require.Contains(t, errs, `bad.csv:3: push_tokens: "apns:xyz": an APNs device token is 64 to 200 hexadecimal digits`)
	require.Contains(t, errs, `bad.csv:3: push_tokens: "fcm:short": an FCM registration token is 20 to 4096 letters, digits and - _ : characters`)
	require.Contains(t, errs, `bad.csv:3: address_city: required with an address`)
	require.Contains(t, errs, `bad.csv:3: address_country: "XX" is not an ISO 3166-1 alpha-2 country code`)
	require.Contains(t, errs, `bad.csv:4: address_line1: required with an address`)
	require.Contains(t, errs, `bad.csv:5: address_line1: a line break or control character; an address field is one line`)

	many := strings.Repeat("fcm:dGVzdC10b2tlbi0xMjM0NTY3OA;", MaxPushTokens+1)
	_, errs = readAll(t, "many.csv", fullHeader+"p1,Pat,,,,en,US,,db,"+many+",,,,,,,\n", map[string]bool{"db": true})
	require.Len(t, errs, 1)
	require.Contains(t, errs[0], "many.csv:2: push_tokens:")
	require.Contains(t, errs[0], "at most 10 devices")
}

// A guardian's contacts are read like the person's own, and a bad one is
// named by its own column.
func TestGuardianContactsAreReadAndCheckedByTheirColumn(t *testing.T) {
	const header = "subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems,guardian_email,guardian_phone\n"
	subjects, errs := readAll(t, "kids.csv", header+"k1,Mia,,,,en,SG,2014,db,parent@example.com,+6591110000\n", map[string]bool{"db": true})
	require.Empty(t, errs)
	require.Equal(t, "parent@example.com", subjects[0].Contact(GuardianEmail))
	require.Equal(t, "+6591110000", subjects[0].Contact(GuardianPhone))
	require.Equal(t, GuardianEmail, GuardianOf("email"))
	require.Empty(t, GuardianOf("push"))

	_, errs = readAll(t, "kids.csv", header+"k1,Mia,,,,en,SG,2014,db,parent-at-example,91110000\n", map[string]bool{"db": true})
	require.Contains(t, errs, `kids.csv:2: guardian_email: "parent-at-example" is not a valid email address`)
	require.Contains(t, errs, `kids.csv:2: guardian_phone: "91110000" is not an E.164 number (+ then country code and number, no spaces)`)
}
