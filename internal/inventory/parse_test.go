package inventory

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func readAll(t *testing.T, file, csv string, systems map[string]bool) ([]Subject, []string) {
	t.Helper()
	r, err := NewSubjectReader(file, strings.NewReader(csv), systems)
	require.NoError(t, err)
	var subs []Subject
	var errs []string
	for {
		s, err := r.Next()
		if errors.Is(err, io.EOF) {
			return subs, errs
		}
		var e *Errors
		if errors.As(err, &e) {
			for _, x := range e.List {
				errs = append(errs, x.Error())
			}
			continue
		}
		require.NoError(t, err)
		subs = append(subs, s)
	}
}

const header = "subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems\r\n"

func TestSubjectsExcelExportWithBOMAndCRLF(t *testing.T) {
	csv := "\ufeff" + header + "s1,\"Lee, Ann\",a@example.com,+8613800000000,acct-1,zh-CN,CN,2014,db;media\r\n"
	subs, errs := readAll(t, "subjects.csv", csv, map[string]bool{"db": true, "media": true})
	require.Empty(t, errs)
	require.Len(t, subs, 1)
	require.Equal(t, "Lee, Ann", subs[0].Name)
	require.Equal(t, []string{"db", "media"}, subs[0].Systems)
	require.Equal(t, 2, subs[0].Line)
}

func TestSubjectsBadRowsNameFileLineAndField(t *testing.T) {
	csv := header +
		"s1,A,not-an-email,+1415,acct,en,CN,,db\n" +
		"s1,B,b@example.com,+14155550100,,en,XX,,nosuch\n" +
		"s3,C,c@example.com,0044 20 7946,,en,US-ZZ,19x,db\n" +
		"s4,D,\"broken,+14155550100,,en,CN,,db\n"
	_, errs := readAll(t, "dirty.csv", csv, map[string]bool{"db": true})
	require.Contains(t, errs, `dirty.csv:2: email: "not-an-email" is not a valid email address`)
	require.Contains(t, errs, `dirty.csv:3: region: "XX" is not an ISO 3166-1 or 3166-2 region code`)
	require.Contains(t, errs, `dirty.csv:3: systems: unknown system "nosuch" (not in systems.yaml)`)
	require.Contains(t, errs, `dirty.csv:4: phone: "0044 20 7946" is not an E.164 number (+ then country code and number, no spaces)`)
	require.Contains(t, errs, `dirty.csv:4: region: "US-ZZ" is not an ISO 3166-1 or 3166-2 region code`)
	require.Contains(t, errs, `dirty.csv:4: birth_year: "19x" is not a four-digit year`)
	require.Contains(t, strings.Join(errs, "\n"), "dirty.csv:5: broken quotes")
}

func TestSystemsErrorsCarryLines(t *testing.T) {
	_, err := ParseSystems("systems.yaml", strings.NewReader("systems:\n  - id: a\n    location: CN\n    categories: [account.name]\n  - id: a\n    location: ZZ\n    categories: [bogus]\n"))
	require.Error(t, err)
	msg := err.Error()
	require.Contains(t, msg, `systems.yaml:5: id: duplicate system "a" (first on line 2)`)
	require.Contains(t, msg, `systems.yaml:5: location: "ZZ" is not an ISO 3166-1 alpha-2 country code`)
	require.Contains(t, msg, `systems.yaml:5: categories: "bogus" is not a known dotted category`)
}

func TestMinorsAndSensitivity(t *testing.T) {
	require.True(t, IsMinor(2014, 2026))
	require.True(t, IsMinor(2008, 2026), "may still be 17")
	require.False(t, IsMinor(2001, 2026))
	require.False(t, IsMinor(0, 2026))
	require.True(t, SensitiveCategory("biometric.face"))
	require.False(t, SensitiveCategory("account.name"))
}

func TestContactAndLocaleChecks(t *testing.T) {
	for _, c := range []struct {
		email string
		ok    bool
	}{
		{"ann@example.com", true}, {"a.b+tag@mail.example.co.uk", true},
		{"ann@example", false}, {"ann.@example.com", false}, {"a..b@example.com", false}, {"@example.com", false},
		{"Ann <ann@example.com>", false}, {"ann@exa mple.com", false},
	} {
		require.Equal(t, c.ok, ValidEmail(c.email), c.email)
	}
	for _, c := range []struct {
		phone string
		ok    bool
	}{
		{"+8613800000000", true}, {"+12", true}, {"+123456789012345", true},
		{"+1234567890123456", false}, {"+0123", false}, {"8613800000000", false}, {"8.61381E+12", false}, {"+86 138", false},
	} {
		require.Equal(t, c.ok, ValidE164(c.phone), c.phone)
	}
	for _, c := range []struct {
		locale string
		ok     bool
	}{
		{"en", true}, {"zh-CN", true}, {"zh-Hant-HK", true}, {"pt-BR", true}, {"es-419", true},
		{"e", false}, {"english", false}, {"zh_CN", false}, {"zh-", false}, {"1n", false},
	} {
		require.Equal(t, c.ok, ValidLocale(c.locale), c.locale)
	}
}

func TestSemicolonSeparatedExportIsExplained(t *testing.T) {
	_, err := NewSubjectReader("excel.csv", strings.NewReader("subject_id;name;email;phone;onsite_id;locale;region;birth_year;systems\r\n"), nil)
	require.ErrorContains(t, err, `excel.csv:1: header: the columns are separated by ';'`)
}
