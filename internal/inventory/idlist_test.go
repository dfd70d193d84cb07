package inventory

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

type idLine struct {
	ID     string
	Line   int
	Reason string
}

func readIDs(t *testing.T, text string) []idLine {
	t.Helper()
	l := NewIDList(strings.NewReader(text))
	var out []idLine
	for {
		id, line, reason, ok := l.Next()
		if !ok {
			break
		}
		out = append(out, idLine{id, line, reason})
	}
	require.NoError(t, l.Err())
	return out
}

// A vendor's return report and forensics' list read alike: by the
// subject_id column of a CSV or a line each, comments, blank lines and a
// byte-order mark skipped, each bad line named by number.
func TestIDListsReadAsPeopleHandThemOver(t *testing.T) {
	require.Equal(t, []idLine{{"s1", 3, ""}, {"s2", 5, ""}}, readIDs(t, "\ufeff# from the access log\n\ns1\n\n  s2  \n"))
	require.Equal(t, []idLine{{"p6", 2, ""}, {"", 3, "no subject_id column on this line"}, {"p5", 4, ""}},
		readIDs(t, "letter_id,subject_id,reason\nL1,p6,moved\nL2\nL3,\"p5\",unknown\n"))
	require.Equal(t, []idLine{{"", 1, "invalid UTF-8: save the file as UTF-8"}, {"", 2, "no subject ID"}}, readIDs(t, "\xff\xfe\n\"\"\n"))
}
