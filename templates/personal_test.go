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

// A copy sent to a guardian says whose notice it is, in the guardian's
// language, after the greeting; the person's own copy says nothing there.
func TestAGuardiansCopySaysWhoseNoticeItIs(t *testing.T) {
	text := "Dear customer," + GuardianMark + "\n\nWe are writing"
	require.Equal(t, "Dear customer,\n\nWe are writing to you as the parent or guardian of Mia Chen, whose personal information was involved. Where this notice says “you” or “your”, it means them.\n\nWe are writing",
		Personalize(text, "en", Personal{GuardianOf: "Mia Chen"}, false))
	require.Contains(t, Personalize(text, "ja", Personal{GuardianOf: "山田太郎"}, false), "山田太郎 様の保護者または法定代理人の方にお送りしています。本文中の「お客様」は 山田太郎 様を指します。")
	require.Contains(t, Personalize(text, "de", Personal{GuardianOf: Someone}, false), "einer Person in Ihrer Obhut")
	require.Equal(t, "Dear customer,\n\nWe are writing", Personalize(text, "en", Personal{}, false))
}
