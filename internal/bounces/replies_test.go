package bounces

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A reply names the notice it answers (In-Reply-To, else References), who
// wrote it, and what they wrote above the quoted notice, from a plain or
// a multipart message, encoded as mail clients do.
func TestARepliesTextAndNoticeAreRead(t *testing.T) {
	plain := "From: Ann Lee <Ann@Example.com>\r\nTo: replies@tocsin.local\r\nSubject: Re: Notice\r\nIn-Reply-To: <INC-1.v1@tocsin.local>\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"Should I change my bank PIN? Gr=C3=BC=C3=9Fe\r\n\r\nOn Fri, 20 Nov 2026, Security Team wrote:\r\n> Dear customer,\r\n> We are writing\r\n"
	r, err := ReadReply(strings.NewReader(plain))
	require.NoError(t, err)
	require.Equal(t, Reply{Key: Key{IncidentID: "INC-1", SubjectID: "v1"}, From: "ann@example.com", Text: "Should I change my bank PIN? Grüße"}, r)

	multi := "From: bo@example.com\r\nReferences: <other@x> <INC-1.v2@tocsin.local>\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/html\r\n\r\n<p>Hi</p>\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		"SXMgdGhpcyByZWFsPw==\r\n--b--\r\n"
	r, err = ReadReply(strings.NewReader(multi))
	require.NoError(t, err)
	require.Equal(t, Key{IncidentID: "INC-1", SubjectID: "v2"}, r.Key)
	require.Equal(t, "Is this real?", r.Text)

	_, err = ReadReply(strings.NewReader("From: x@example.com\r\nSubject: hello\r\n\r\nhi\r\n"))
	require.ErrorContains(t, err, "replies to no notice")
	_, err = ReadReply(strings.NewReader("From: x@example.com\r\nIn-Reply-To: <INC-1.v1@d>\r\n\r\n> only the quote\r\n"))
	require.ErrorContains(t, err, "says nothing")
}
