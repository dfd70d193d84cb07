package templates

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Each copy names its reader's own data in their language, escaped in
// HTML; a reader Tocsin knows nothing of gets no line at all.
func TestACopyNamesItsReadersOwnData(t *testing.T) {
	text := "- a\n" + YourDataMark + "\nNext"
	require.Equal(t, "- a\nYour own information involved: your email address, images of your face.\n\nNext",
		Personalize(text, "en", Personal{Categories: []string{"contact.email", "biometric.face"}}, false))
	require.Equal(t, "- a\nお客様ご自身の対象情報：メールアドレス、お客様の顔画像。\n\nNext",
		Personalize(text, "ja", Personal{Categories: []string{"contact.email", "biometric.face"}}, false))
	require.Equal(t, "- a\n\nNext", Personalize(text, "en", Personal{}, false))
	require.Contains(t, Personalize(YourDataMark, "en", Personal{Categories: []string{"x<y"}}, true), "x&lt;y")
}
