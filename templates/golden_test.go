package templates_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/senders"
	"github.com/tocsin/tocsin/templates"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from what the templates render now")

// sampleFacts are the sample breach's facts (examples/basic).
func sampleFacts() templates.Facts {
	return templates.Facts{IncidentID: "INC-20261120-0001", Title: "Unauthorized access to the persona media store", Kind: "unauthorized-access",
		Description: "An attacker used a leaked access key to read objects in the persona media store and the account database.",
		Measures:    "The key was revoked, access logs were preserved, and all sessions were reset.",
		Advice:      "Change your password, and be careful with calls or messages that ask for verification codes.",
		Remedies:    "Free identity-protection service for 12 months; contact us for help.",
		Contact:     "privacy@example.com", DetectedAt: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC),
		OccurredFrom: time.Date(2026, 11, 18, 0, 0, 0, 0, time.UTC), OccurredTo: time.Date(2026, 11, 20, 7, 30, 0, 0, time.UTC),
		Categories: []string{"biometric.face", "contact.phone", "credential.password_hash"}}
}

// Each language's notice, in every kind a person receives it (e-mail text
// and HTML, on-site and letter text, SMS with its encoding and parts, the
// voice script with the voice that reads it, the push alert), is what
// testdata/golden/notice.LOCALE.txt says a reader of that language read
// and approved. `go test ./templates -run Golden -update` rewrites them
// after a deliberate change; review the diff as a reader would.
func TestGoldenNoticesInEveryLanguage(t *testing.T) {
	for _, locale := range templates.NoticeLocales {
		t.Run(locale, func(t *testing.T) {
			f := sampleFacts()
			r, err := templates.Notice(f, locale, "", nil)
			require.NoError(t, err)
			enc, parts := senders.Segments(r.SMS)
			got := fmt.Sprintf("== title\n%s\n== body (e-mail text, on-site, letter)\n%s\n== html\n%s== sms (%s, %d parts)\n%s\n== voice (%s)\n%s\n%s\n== push\n%s\n%s\n",
				r.Title, r.Body, r.HTML, enc, parts, r.SMS, templates.VoiceLanguage(locale), r.Voice, templates.PressOne(locale), r.Title, templates.Alert(locale))
			path := filepath.Join("testdata", "golden", "notice."+locale+".txt")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "go test ./templates -run Golden -update writes it")
			require.Equal(t, string(want), got)
		})
	}
}

// A notice in a language other than English has none of the English
// notice's own words: headings, greeting, labels, the push line and the
// prompt to press 1 are all the reader's (the facts stay as written until
// they are translated).
func TestANoticeSpeaksOnlyItsReadersLanguage(t *testing.T) {
	en, err := templates.Notice(sampleFacts(), "en", "", nil)
	require.NoError(t, err)
	english := []string{"What happened", "What information was involved", "What we are doing", "What you can do", "For more information",
		"Dear", "Contact us at", "Notice of Data Breach", "images of your face", "your phone number", templates.Alert("en"), templates.PressOne("en"), "Security notice"}
	for _, w := range english {
		require.Contains(t, en.Body+en.Title+en.SMS+templates.Alert("en")+templates.PressOne("en"), w)
	}
	for _, locale := range templates.NoticeLocales[1:] {
		r, err := templates.Notice(sampleFacts(), locale, "", nil)
		require.NoError(t, err)
		all := strings.Join([]string{r.Title, r.Body, r.SMS, r.Voice, templates.Alert(locale), templates.PressOne(locale)}, "\n")
		for _, w := range english {
			require.NotContains(t, all, w, "%s", locale)
		}
		require.NotEqual(t, "en-US", templates.VoiceLanguage(locale), "%s is read by its own voice", locale)
	}
}

// A person reads their own language, its closest notice, else the
// official language of where they live, else the playbook's default.
func TestEachPersonGetsTheirLanguageElseWhereTheyLiveSpeaks(t *testing.T) {
	for _, c := range []struct{ tag, region, fallback, want, why string }{
		{"ja", "JP", "en", "ja", "their language"},
		{"ja-JP", "US-CA", "en", "ja", "closest to their language ja-JP"},
		{"pt", "BR", "en", "pt-BR", "closest to their language pt"},
		{"pt-PT", "PT", "en", "pt-BR", "closest to their language pt-PT"},
		{"de-AT", "AT", "en", "de", "closest to their language de-AT"},
		{"zh-TW", "TW", "en", "zh-HK", "closest to their language zh-TW"},
		{"it", "DE", "en", "de", "the official language of DE (no notice in it)"},
		{"", "KR", "en", "ko", "the official language of KR (no notice in (none))"},
		{"nl", "NL", "fr", "fr", "the playbook's default (no notice in nl, none for NL)"},
		{"sv", "US-NY", "", "en", "the official language of US-NY (no notice in sv)"},
	} {
		got, why := templates.NoticeLocaleIn(c.tag, c.region, c.fallback)
		require.Equal(t, c.want, got, "%+v", c)
		require.Equal(t, c.why, why, "%+v", c)
	}
}
