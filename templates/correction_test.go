package templates

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestACorrectionSaysSoInItsReadersLanguage(t *testing.T) {
	c := Corrected("de", Copy{Title: "Hinweis", Body: "Text", HTML: "<p>Text</p>\n", SMS: "Beispiel: Vorfall", Voice: "Hallo"})
	require.Equal(t, "Berichtigung: Hinweis", c.Title)
	require.Contains(t, c.Body, "ersetzt die frühere Mitteilung.\n\nText")
	require.Contains(t, c.HTML, "<p><strong>Diese Nachricht berichtigt")
	require.Equal(t, "Berichtigung: Beispiel: Vorfall", c.SMS)
	require.Contains(t, c.Voice, "berichtigt")
	require.Equal(t, "【訂正】お知らせ", Corrected("ja", Copy{Title: "お知らせ"}).Title)
	require.Equal(t, "Correction: Notice", Corrected("it", Copy{Title: "Notice"}).Title, "a language without labels reads English")
}
