package csvout

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/stretchr/testify/require"
)

// A name a person typed into a sign-up form, exported for legal, must not
// run as a formula when the file is opened in a spreadsheet.
func TestFormulaCellsAreWrittenAsText(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	row := []string{"s1", `=HYPERLINK("http://evil.example","click")`, "+1 555 0100", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "plain", "", "a=b"}
	require.NoError(t, w.WriteAll([][]string{row}))
	got, err := csv.NewReader(&b).ReadAll()
	require.NoError(t, err)
	require.Equal(t, [][]string{{"s1", `'=HYPERLINK("http://evil.example","click")`, "'+1 555 0100", "'-2+3", "'@SUM(A1)", "'\tTAB", "'\rCR", "plain", "", "a=b"}}, got)
}
