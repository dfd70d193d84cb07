package incident

import (
	"testing"

	"github.com/stretchr/testify/require"
)

const minimal = "title: t\ndetected_at: 2026-11-20T08:00:00Z\nsystems: [crm]\ndescription: d\nmeasures: m\nadvice: a\ncontact: c\n"

// The playbook is a file name under the playbook directory; a path in the
// incident file must not make Tocsin read any YAML on the machine.
func TestAPlaybookNameCannotBeAPath(t *testing.T) {
	for _, name := range []string{"../x", "/etc/passwd", "law/cn", "a b", ".hidden"} {
		_, err := Parse("incident.yaml", []byte(minimal+"playbook: \""+name+"\"\n"))
		require.ErrorContains(t, err, "incident.yaml:8: playbook:", name)
	}
	spec, err := Parse("incident.yaml", []byte(minimal+"playbook: weekly-drill_2\n"))
	require.NoError(t, err)
	require.Equal(t, "weekly-drill_2", spec.Playbook)
}

func TestRestrictedToIsKeptLowerCase(t *testing.T) {
	spec, err := Parse("incident.yaml", []byte(minimal+"restricted_to: [\" Counsel@Example.COM\"]\n"))
	require.NoError(t, err)
	require.Equal(t, []string{"counsel@example.com"}, spec.RestrictedTo)
}

// The incident file's inquiry desk becomes the facts a responder may
// change later; a desk a reader could not reach is refused by its line.
func TestTheInquiryDeskIsReadIntoFacts(t *testing.T) {
	spec, err := Parse("incident.yaml", []byte(minimal+"inquiry:\n  phone: \"+81 120 000 000\"\n  hours: 9:00-18:00 JST\n  url: https://help.example.com\n"))
	require.NoError(t, err)
	require.Equal(t, map[string]string{"inquiry_phone": "+81 120 000 000", "inquiry_hours": "9:00-18:00 JST", "inquiry_url": "https://help.example.com"}, spec.Facts)
	require.Nil(t, spec.Inquiry)

	_, err = Parse("incident.yaml", []byte(minimal+"inquiry:\n  url: help.example.com\n"))
	require.ErrorContains(t, err, `incident.yaml:8: inquiry: inquiry_url "help.example.com": want an address such as https://help.example.com`)
	_, err = Parse("incident.yaml", []byte(minimal+"inquiry:\n  hours: always\n"))
	require.ErrorContains(t, err, "incident.yaml:8: inquiry: give the desk's phone, its url, or both")
}
