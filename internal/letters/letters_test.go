package letters

import (
	"bytes"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/inventory"
	"github.com/tocsin/tocsin/templates"
)

// pdfText is what pdftotext reads from a PDF: the text a printed page
// shows, as a vendor's or a person's tools would see it.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		skipUnlessRequired(t, "pdftotext (poppler-utils) is not installed; .ci/run installs it")
	}
	f := filepath.Join(t.TempDir(), "l.pdf")
	require.NoError(t, os.WriteFile(f, pdf, 0o600))
	out, err := exec.Command("pdftotext", f, "-").Output()
	require.NoError(t, err)
	// A paragraph wraps where the page ends; read it as one line.
	return strings.Join(strings.Fields(string(out)), " ")
}

func printer(t *testing.T) *Printer {
	p := &Printer{Sender: "Example Ltd, 1 Harbour St, Singapore 049315"}
	if _, err := p.loadFont(); err != nil {
		skipUnlessRequired(t, err.Error()+"; .ci/run installs fonts-droid-fallback")
	}
	return p
}

// skipUnlessRequired skips where the machine lacks a tool, except in CI
// (TOCSIN_REQUIRE_LETTERS), where a missing tool must not pass unseen.
func skipUnlessRequired(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("TOCSIN_REQUIRE_LETTERS") != "" {
		t.Fatal(why)
	}
	t.Skip(why)
}

var day = time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)

// A letter in English and one in Chinese print their text, glyph for
// glyph, with the address where the window shows it.
func TestLettersPrintEnglishAndChineseText(t *testing.T) {
	p := printer(t)
	en, pages, err := p.One(Letter{ID: "L-1", IncidentID: "INC-7", SubjectID: "s1", Name: "Pat Doe", Date: day,
		Address: inventory.Address{Line1: "1 Main St", Line2: "Apt 2", City: "Albany", State: "NY", PostalCode: "12207", Country: "US"},
		Title:   "Notice of Data Breach", Body: "What happened: an attacker read the account database.\nWhat you can do: change your password."})
	require.NoError(t, err)
	require.Equal(t, 1, pages)
	text := pdfText(t, en)
	for _, want := range []string{"Pat Doe", "1 Main St", "Apt 2", "Albany NY 12207", "Notice of Data Breach", "What happened: an attacker read the account database.", "change your password", "INC-7", "L-1"} {
		require.Contains(t, text, want)
	}

	zh, _, err := p.One(Letter{ID: "L-2", IncidentID: "INC-7", SubjectID: "s2", Name: "李雷", Date: day,
		Address: inventory.Address{Line1: "朝阳区建国路 1 号", City: "北京", PostalCode: "100022", Country: "CN"},
		Title:   "安全告知", Body: "发生了什么：攻击者读取了账户数据库。\n您可以：修改密码。\n" + strings.Repeat("一二三四五六七八九十", 12)})
	require.NoError(t, err)
	text = pdfText(t, zh)
	require.Contains(t, strings.ReplaceAll(text, " ", ""), strings.Repeat("一二三四五六七八九十", 12), "a paragraph wrapped over lines keeps every character")
	for _, want := range []string{"李雷", "朝阳区建国路 1 号", "北京 100022", "安全告知", "攻击者读取了账户数据库", "修改密码"} {
		require.Contains(t, text, want)
	}
}

// A batch is one PDF with each letter on its own pages and a manifest a
// vendor matches page ranges with; a long letter takes more pages.
func TestABatchHasAManifestOfPages(t *testing.T) {
	p := printer(t)
	long := strings.Repeat("A long paragraph of the notice that goes on. ", 400)
	ls := []Letter{
		{ID: "L-1", IncidentID: "INC-7", SubjectID: "s1", Name: "Pat", Address: inventory.Address{Line1: "1 Main St", City: "Albany", Country: "US"}, Title: "T", Body: "short", Date: day},
		{ID: "L-2", IncidentID: "INC-7", SubjectID: "s2", Name: "=cmd|calc", Address: inventory.Address{Line1: "2 Elm St", City: "Albany", Country: "US"}, Title: "T", Body: long, Date: day},
		{ID: "L-3", IncidentID: "INC-7", SubjectID: "s3", Name: "Kim", Address: inventory.Address{Line1: "3 Oak St", City: "Albany", Country: "US"}, Title: "T", Body: "short", Date: day},
	}
	pdf, manifest, err := p.Batch(ls)
	require.NoError(t, err)
	rows, err := csv.NewReader(bytes.NewReader(manifest)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 4)
	require.Equal(t, []string{"L-1", "1", "1"}, []string{rows[1][0], rows[1][10], rows[1][11]})
	require.Equal(t, "2", rows[2][10])
	require.Greater(t, rows[2][11], "1", "the long letter runs over a page")
	require.Equal(t, "'=cmd|calc", rows[2][3], "a name is never a spreadsheet formula")
	text := pdfText(t, pdf)
	for _, id := range []string{"INC-7 · L-1 · 1", "INC-7 · L-2 · 2", "INC-7 · L-3 · 1"} {
		require.Contains(t, text, id, "each page's footer names its letter and page")
	}
	require.Contains(t, text, "3 Oak St")
}

func TestAMissingFontIsNamed(t *testing.T) {
	p := &Printer{Font: "/nowhere/font.ttf"}
	_, _, err := p.One(Letter{Address: inventory.Address{Country: "US"}})
	require.ErrorIs(t, err, ErrNoFont)
	require.ErrorContains(t, err, "/nowhere/font.ttf")
}

// Wrapping keeps every character: a Chinese paragraph breaks between
// characters, English between words, a word too wide inside itself.
func TestWrapLosesNothing(t *testing.T) {
	measure := func(s string) float64 { return float64(len([]rune(s))) }
	zh := strings.Repeat("一二三四五六七八九十", 12)
	got := wrap(measure, zh, 50)
	require.Equal(t, zh, strings.Join(got, ""))
	require.Len(t, got, 3)
	en := wrap(measure, "Change your password now, and watch for calls", 12)
	require.Equal(t, []string{"Change your", "password", "now, and", "watch for", "calls"}, en)
	require.Equal(t, []string{"abcde", "fghij", "k"}, wrap(measure, "abcdefghijk", 5))
	require.Equal(t, []string{"first", "", "second"}, wrap(measure, "first\n\nsecond", 20))
}

// A letter prints every language notices are written in: its title and
// every line of its text come back from the page, accents and Hangul
// and kana included.
func TestLettersPrintEveryNoticeLanguage(t *testing.T) {
	p := printer(t)
	facts := templates.Facts{IncidentID: "INC-7", Title: "Unauthorized access", Kind: "unauthorized-access", Description: "An attacker read the account database.",
		DetectedAt: day, Categories: []string{"contact.email", "identity.name"}, Contact: "privacy@example.com"}
	squash := func(s string) string { return strings.Join(strings.Fields(s), "") }
	for _, locale := range templates.NoticeLocales {
		t.Run(locale, func(t *testing.T) {
			n, err := templates.Notice(facts, locale, "", nil)
			require.NoError(t, err)
			pdf, _, err := p.One(Letter{ID: "L-" + locale, IncidentID: "INC-7", SubjectID: "s", Name: "Ana Müller", Date: day,
				Address: inventory.Address{Line1: "Straße 1", City: "Köln", PostalCode: "50667", Country: "DE"}, Title: n.Title, Body: n.Body})
			require.NoError(t, err)
			text := squash(pdfText(t, pdf))
			require.Contains(t, text, squash(n.Title))
			for _, line := range strings.Split(n.Body, "\n") {
				require.Contains(t, text, squash(line))
			}
		})
	}
}
