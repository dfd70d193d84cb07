package playbooks

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var (
	// Friday 2026-11-20 08:00 UTC, the basic scenario's detected_at.
	aware      = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	discovered = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	determined = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	assessed   = time.Date(2026, 11, 24, 15, 30, 0, 0, time.UTC)
	times      = Times{Awareness: aware, Discovery: discovered, Determination: determined, Assessed: assessed}
	practical  = time.Time{} // "as soon as practicable": no fixed due time
)

func defaults(t *testing.T) *Playbook {
	t.Helper()
	p, err := Load("", "default")
	require.NoError(t, err)
	return p
}

// TestDefaultJurisdictions checks each default jurisdiction below and above
// its thresholds, with and without sensitive data, on each anchor, with the
// exact due time of every duty that applies and the absence of every other.
func TestDefaultJurisdictions(t *testing.T) {
	plain := []string{"contact.email", "account.name"}
	plainFam := []string{"contact", "account"}
	health := []string{"health.record"}
	sens := func(f Facts) Facts {
		f.Sensitive = f.Subjects
		f.Categories, f.Families = []string{"biometric.face"}, []string{"biometric"}
		return f
	}
	n := func(subjects int) Facts {
		return Facts{Subjects: subjects, LargestRegion: subjects, Total: subjects, Categories: plain, Families: plainFam, Kind: "loss"}
	}
	cases := []struct {
		name  string
		j     string
		facts Facts
		due   map[string]time.Time // obligation name → due time; every other duty of j must not apply
	}{
		// CN: PIPL duties always; CAC "large" at one million, 1 h for CII operators.
		{"CN small", "CN", n(26), map[string]time.Time{"cn-pipl-regulator": aware, "cn-pipl-individuals": aware}},
		{"CN just below large", "CN", n(999_999), map[string]time.Time{"cn-pipl-regulator": aware, "cn-pipl-individuals": aware}},
		{"CN large", "CN", n(1_000_000), map[string]time.Time{"cn-pipl-regulator": aware, "cn-pipl-individuals": aware,
			"cn-cac-large/initial": aware.Add(4 * time.Hour), "cn-cac-large/closure": aware.AddDate(0, 0, 30)}},
		{"CN large CII", "CN", func() Facts { f := n(1_000_000); f.CriticalInfrastructure = true; return f }(),
			map[string]time.Time{"cn-pipl-regulator": aware, "cn-pipl-individuals": aware, "cn-cac-large-cii": aware.Add(time.Hour)}},
		// SG: 500 people or significant harm; 3 days after the day it was assessed notifiable.
		{"SG below 500 plain", "SG", n(499), nil},
		{"SG 500", "SG", n(500), map[string]time.Time{"sg-pdpc": time.Date(2026, 11, 27, 15, 59, 59, 0, time.UTC) /* 23:59:59 in Singapore */}},
		{"SG harm", "SG", func() Facts { f := n(3); f.Credentials = true; return f }(),
			map[string]time.Time{"sg-pdpc": time.Date(2026, 11, 27, 15, 59, 59, 0, time.UTC) /* 23:59:59 in Singapore */, "sg-individuals": practical}},
		{"SG biometric alone is not a prescribed class", "SG", sens(n(3)), nil},
		// HK: voluntary; individuals where there is real risk.
		{"HK plain", "HK", n(10), map[string]time.Time{"hk-pcpd": practical}},
		{"HK sensitive", "HK", sens(n(10)), map[string]time.Time{"hk-pcpd": practical, "hk-individuals": practical}},
		// EU: authority within 72 h of awareness, phased; individuals on high risk.
		{"EU plain", "EU", n(6), map[string]time.Time{"eu-gdpr-authority/initial": aware.Add(72 * time.Hour), "eu-gdpr-authority/supplementary": practical}},
		{"EU sensitive", "EU", sens(n(6)), map[string]time.Time{"eu-gdpr-authority/initial": aware.Add(72 * time.Hour),
			"eu-gdpr-authority/supplementary": practical, "eu-gdpr-individuals": practical}},
		{"UK plain", "UK", n(2), map[string]time.Time{"uk-ico": aware.Add(72 * time.Hour)}},
		{"UK minors", "UK", func() Facts { f := n(2); f.Minors = 1; return f }(), map[string]time.Time{"uk-ico": aware.Add(72 * time.Hour), "uk-individuals": practical}},
		// US-CA: 30 days from discovery; AG only over 500 Californians.
		{"US-CA not personal information", "US-CA", n(3), nil},
		{"US-CA sensitive 500", "US-CA", sens(n(500)), map[string]time.Time{"us-ca-individuals": discovered.AddDate(0, 0, 30)}},
		{"US-CA sensitive 501", "US-CA", sens(n(501)), map[string]time.Time{"us-ca-individuals": discovered.AddDate(0, 0, 30), "us-ca-attorney-general": discovered.AddDate(0, 0, 45)}},
		// US-NY: 30 days from discovery, three regulators with the notice, bureaus over 5,000.
		{"US-NY 5000", "US-NY", sens(n(5000)), map[string]time.Time{"us-ny-individuals": discovered.AddDate(0, 0, 30),
			"us-ny-attorney-general": discovered.AddDate(0, 0, 30), "us-ny-department-of-state": discovered.AddDate(0, 0, 30), "us-ny-state-police": discovered.AddDate(0, 0, 30)}},
		{"US-NY 5001", "US-NY", sens(n(5001)), map[string]time.Time{"us-ny-individuals": discovered.AddDate(0, 0, 30),
			"us-ny-attorney-general": discovered.AddDate(0, 0, 30), "us-ny-department-of-state": discovered.AddDate(0, 0, 30), "us-ny-state-police": discovered.AddDate(0, 0, 30),
			"us-ny-credit-bureaus": discovered.AddDate(0, 0, 30)}},
		{"US-NY plain", "US-NY", n(9000), nil},
		// US-TX: from determination; AG at 250.
		{"US-TX 249", "US-TX", sens(n(249)), map[string]time.Time{"us-tx-individuals": determined.AddDate(0, 0, 60)}},
		{"US-TX 250", "US-TX", sens(n(250)), map[string]time.Time{"us-tx-individuals": determined.AddDate(0, 0, 60), "us-tx-attorney-general": determined.AddDate(0, 0, 30)}},
		// US-HIPAA: only when flagged; HHS at 500 or in the yearly log; media over 500 in one state.
		{"HIPAA not flagged", "US-HIPAA", func() Facts { f := n(900); f.Categories, f.Families = health, []string{"health"}; return f }(), nil},
		{"HIPAA 499", "US-HIPAA", func() Facts { f := n(499); f.HealthData = true; return f }(), map[string]time.Time{
			"us-hipaa-individuals": discovered.AddDate(0, 0, 60), "us-hipaa-hhs-annual": time.Date(2027, 3, 2, 4, 59, 59, 0, time.UTC) /* 1 March 23:59:59 in Washington */}},
		{"HIPAA 600 over two states", "US-HIPAA", func() Facts { f := n(600); f.LargestRegion = 400; f.HealthData = true; return f }(), map[string]time.Time{
			"us-hipaa-individuals": discovered.AddDate(0, 0, 60), "us-hipaa-hhs": discovered.AddDate(0, 0, 60)}},
		{"HIPAA 501 in one state", "US-HIPAA", func() Facts { f := n(501); f.HealthData = true; return f }(), map[string]time.Time{
			"us-hipaa-individuals": discovered.AddDate(0, 0, 60), "us-hipaa-hhs": discovered.AddDate(0, 0, 60), "us-hipaa-media": discovered.AddDate(0, 0, 60)}},
		// AU: serious harm, counted from the assessment.
		{"AU plain", "AU", n(40), nil},
		{"AU sensitive", "AU", sens(n(40)), map[string]time.Time{"au-oaic": practical, "au-individuals": practical}},
		// JP: sensitive, financial or over 1,000; attacks at any number with 60 days for the final report.
		{"JP 1000 plain", "JP", n(1000), nil},
		{"JP 1001 plain", "JP", n(1001), map[string]time.Time{"jp-ppc/preliminary": aware.AddDate(0, 0, 5), "jp-ppc/final": aware.AddDate(0, 0, 30), "jp-individuals": practical}},
		{"JP attack", "JP", func() Facts { f := n(5); f.Kind = "unauthorized-access"; return f }(), map[string]time.Time{
			"jp-ppc-improper-purpose/preliminary": aware.AddDate(0, 0, 5), "jp-ppc-improper-purpose/final": aware.AddDate(0, 0, 60), "jp-individuals": practical}},
		// KR: individuals always within 72 h; PIPC at 1,000, sensitive or hacking.
		{"KR 999", "KR", n(999), map[string]time.Time{"kr-individuals": aware.Add(72 * time.Hour)}},
		{"KR 1000", "KR", n(1000), map[string]time.Time{"kr-individuals": aware.Add(72 * time.Hour), "kr-pipc": aware.Add(72 * time.Hour)}},
		{"KR sensitive", "KR", sens(n(3)), map[string]time.Time{"kr-individuals": aware.Add(72 * time.Hour), "kr-pipc": aware.Add(72 * time.Hour)}},
		// BR: 3 business days. Friday 20 November is a national holiday, so
		// from Monday's start in Sao Paulo: due Thursday 00:00 there.
		{"BR plain", "BR", n(100), nil},
		{"BR sensitive", "BR", sens(n(100)), map[string]time.Time{"br-anpd": time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC), "br-individuals": time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)}},
	}
	p := defaults(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obs, err := p.Assess(map[string]Facts{tc.j: tc.facts}, times)
			require.NoError(t, err)
			got := map[string]time.Time{}
			for _, o := range obs {
				require.Equal(t, tc.j, o.Jurisdiction)
				require.NotEmpty(t, o.Sources, o.Name)
				got[o.Name] = o.DueAt
			}
			want := tc.due
			if want == nil {
				want = map[string]time.Time{}
			}
			require.Equal(t, want, got)
		})
	}
}

func TestEveryJurisdictionOfTheDesignHasADefaultLaw(t *testing.T) {
	p := defaults(t)
	var got []string
	for _, l := range p.Laws {
		got = append(got, l.Jurisdiction)
		for _, r := range l.Obligations {
			require.NotEmpty(t, r.Sources, r.Name)
		}
	}
	design := []string{"CN", "SG", "HK", "EU", "UK", "US-CA", "US-NY", "US-TX", "US-HIPAA", "AU", "JP", "KR", "BR"}
	require.Equal(t, design, got, "the default playbook's law, in its order")
}

func TestMissingAnchorsFallBackToAwarenessAndSaySo(t *testing.T) {
	p := defaults(t)
	obs, err := p.Assess(map[string]Facts{"US-TX": {Subjects: 300, Sensitive: 300}}, Times{Awareness: aware})
	require.NoError(t, err)
	require.Len(t, obs, 2)
	for _, o := range obs {
		require.Equal(t, aware, o.AnchorAt)
		require.Contains(t, o.AnchorNote, "determination time not recorded")
	}
}

func TestCNSeverityByCountRaisedBySensitiveData(t *testing.T) {
	p := defaults(t)
	for _, tc := range []struct {
		f    Facts
		want string
	}{
		{Facts{Subjects: 10}, "general"},
		{Facts{Subjects: 10, Minors: 1}, "large (raised from general)"},
		{Facts{Subjects: 1_000_000}, "large"},
		{Facts{Subjects: 10_000_000}, "major"},
		{Facts{Subjects: 100_000_000, Sensitive: 5}, "extra-major"},
	} {
		a, err := p.Evaluate(map[string]Facts{"CN": tc.f}, times)
		require.NoError(t, err)
		require.Equal(t, tc.want, a.Severity["CN"], "%+v", tc.f)
	}
}

func TestPhasesFollowEachOtherAndOrderingIsKept(t *testing.T) {
	p := defaults(t)
	a, err := p.Evaluate(map[string]Facts{"SG": {Subjects: 600, Credentials: true}, "JP": {Subjects: 2000}}, times)
	require.NoError(t, err)
	byName := map[string]Obligation{}
	for _, o := range a.Obligations {
		byName[o.Name] = o
	}
	require.Equal(t, "sg-pdpc", byName["sg-individuals"].After)
	require.Equal(t, "jp-ppc/preliminary", byName["jp-ppc/final"].After)
	require.Equal(t, "preliminary", byName["jp-ppc/preliminary"].Phase)
	require.Contains(t, byName["jp-ppc/final"].Content, "cause")
}

func TestSubstituteNoticeWhenPeopleCannotBeReached(t *testing.T) {
	p := defaults(t)
	obs, err := p.Assess(map[string]Facts{"CN": {Subjects: 10, NoContact: 2}}, times)
	require.NoError(t, err)
	var ind Obligation
	for _, o := range obs {
		if o.Name == "cn-pipl-individuals" {
			ind = o
		}
	}
	require.NotNil(t, ind.Substitute)
	require.Equal(t, []string{"announcement"}, ind.Substitute.Methods)

	obs, err = p.Assess(map[string]Facts{"CN": {Subjects: 10}}, times)
	require.NoError(t, err)
	for _, o := range obs {
		require.Nil(t, o.Substitute, o.Name)
	}
}

func TestRemindersAtHalfTimeAndAnHourBefore(t *testing.T) {
	p := defaults(t)
	o := Obligation{AnchorAt: aware, DueAt: aware.Add(72 * time.Hour)}
	require.Equal(t, []time.Time{aware.Add(36 * time.Hour), aware.Add(71 * time.Hour)}, p.ReminderTimes(o))
	require.Empty(t, p.ReminderTimes(Obligation{AnchorAt: aware, DueAt: aware}), "immediately: nothing to remind before")
	require.Equal(t, []time.Time{aware.Add(time.Hour)}, p.ReminderTimes(Obligation{AnchorAt: aware, DueAt: aware.Add(2 * time.Hour)}), "half-time and 1 h before coincide")
}

func TestBusinessDaysSkipWeekends(t *testing.T) {
	sat := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	due, _, err := dueAfter("3bd", sat, Calendar{})
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), due, "from Monday's start: Tue, Wed, Thu")
}

// calendarOf is a jurisdiction's calendar as its default law file sets it.
func calendarOf(t *testing.T, jurisdiction string) Calendar {
	t.Helper()
	for _, l := range defaults(t).Laws {
		if l.Jurisdiction == jurisdiction {
			require.NotEqual(t, time.UTC, l.calendar.zone(), "%s has a zone", jurisdiction)
			return l.calendar
		}
	}
	t.Fatalf("no law file for %s", jurisdiction)
	return Calendar{}
}

// Due times are counted on the jurisdiction's own calendar, on both sides
// of each day boundary, and business days skip its public holidays.
func TestDueTimesAreCountedInTheLawsOwnTime(t *testing.T) {
	sg, _ := time.LoadLocation("Asia/Singapore")
	ny, _ := time.LoadLocation("America/New_York")
	br, _ := time.LoadLocation("America/Sao_Paulo")
	for _, c := range []struct {
		name, jurisdiction, due string
		anchor, want            time.Time
	}{
		// Singapore: 3 calendar days after the day of the assessment, days
		// ending at midnight in Singapore (it used to be 23:59 UTC, 8 h late).
		{"SG assessed on 1 Dec, morning", "SG", "3d-after-day", time.Date(2026, 12, 1, 10, 0, 0, 0, sg), time.Date(2026, 12, 4, 23, 59, 59, 0, sg)},
		{"SG assessed at 07:30 on 1 Dec (still 30 Nov in UTC)", "SG", "3d-after-day", time.Date(2026, 11, 30, 23, 30, 0, 0, time.UTC), time.Date(2026, 12, 4, 23, 59, 59, 0, sg)},
		{"SG assessed at 23:59 on 30 Nov", "SG", "3d-after-day", time.Date(2026, 11, 30, 23, 59, 0, 0, sg), time.Date(2026, 12, 3, 23, 59, 59, 0, sg)},
		// HIPAA's annual log: 60 days after the end of the calendar year in which
		// the breach was discovered, that year being the one in Washington.
		{"HIPAA found at 23:00 on 31 Dec (1 Jan in UTC)", "US-HIPAA", "60d-after-year", time.Date(2026, 12, 31, 23, 0, 0, 0, ny), time.Date(2027, 3, 1, 23, 59, 59, 0, ny)},
		{"HIPAA found on 1 Jan", "US-HIPAA", "60d-after-year", time.Date(2027, 1, 1, 0, 30, 0, 0, ny), time.Date(2028, 2, 29, 23, 59, 59, 0, ny)},
		// Brazil: 3 business days, without the national holidays.
		{"BR Wednesday, Friday 20 Nov is a holiday", "BR", "3bd", time.Date(2026, 11, 18, 10, 0, 0, 0, br), time.Date(2026, 11, 24, 10, 0, 0, 0, br)},
		{"BR Wednesday 23:30 (Thursday in UTC)", "BR", "3bd", time.Date(2026, 11, 19, 2, 30, 0, 0, time.UTC), time.Date(2026, 11, 24, 23, 30, 0, 0, br)},
		{"BR on the holiday itself counts from the next business day", "BR", "3bd", time.Date(2026, 11, 20, 10, 0, 0, 0, br), time.Date(2026, 11, 26, 0, 0, 0, 0, br)},
		{"BR over Good Friday 2027", "BR", "3bd", time.Date(2027, 3, 24, 9, 0, 0, 0, br), time.Date(2027, 3, 30, 9, 0, 0, 0, br)},
		{"BR an ordinary week", "BR", "3bd", time.Date(2026, 11, 9, 9, 0, 0, 0, br), time.Date(2026, 11, 12, 9, 0, 0, 0, br)},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, _, err := dueAfter(c.due, c.anchor, calendarOf(t, c.jurisdiction))
			require.NoError(t, err)
			require.Equal(t, c.want.UTC(), got.UTC(), "got %s", got.In(c.want.Location()))
		})
	}
}

func TestLocalTimeIsShownBesideUTC(t *testing.T) {
	at := time.Date(2026, 12, 4, 15, 59, 59, 0, time.UTC)
	require.Equal(t, "2026-12-04 23:59 +08 Asia/Singapore (2026-12-04 15:59 UTC)", Local(at, "Asia/Singapore"))
	require.Equal(t, "2026-12-04 15:59 UTC", Local(at, ""))
}

func TestABadZoneOrHolidayIsNamedWithItsLine(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "law"), 0o755))
	def, err := Embedded("default.yaml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "default.yaml"), def, 0o644))
	br, err := Embedded("law/br.yaml")
	require.NoError(t, err)
	bad := strings.Replace(strings.Replace(string(br), "zone: America/Sao_Paulo", "zone: America/Rio", 1), "  - 2026-11-20", "  - 2026-11-31", 1)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "law", "br.yaml"), []byte(bad), 0o644))
	_, err = Load(dir, "default")
	require.ErrorContains(t, err, `law/br.yaml:4: zone: zone "America/Rio": not an IANA time zone`)
	require.ErrorContains(t, err, `holidays: "2026-11-31": want a date as YYYY-MM-DD`)
}

func TestLintNamesFileLineAndField(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "law"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "mine.yaml"), []byte("name: mine\nladder: [[email, fax]]\nlaw: [xx, cn]\ntargets: {scoped: soon}\nsms_max_segments: 30\nreturns_window: 2400h\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "law", "xx.yaml"), []byte(`jurisdiction: Xx
obligations:
  - name: a
    audience: regulator
    applies_when: "subjects >"
    anchor: whenever
    due: soon
    methods: [pigeon]
    after: nobody
  - name: cn-pipl-regulator
    audience: press
    applies_when: "subjects"
    anchor: awareness
    due: 72h
    methods: [portal]
    content: [mood]
    sources: [x]
    template: report-zz
  - name: b
    audience: individuals
    applies_when: "subjects > 0"
    anchor: awareness
    due: 72h
    methods: [email]
    template: report-cn
    sources: [x]
`), 0o644))
	err := Lint(dir, "mine")
	require.Error(t, err)
	for _, want := range []string{
		"mine.yaml:2: ladder: unknown channel \"fax\"",
		"mine.yaml:4: targets: scoped: \"soon\"",
		"mine.yaml:5: sms_max_segments: 30 is not from 1 to 24",
		"mine.yaml:6: returns_window: 2400h is not from 0s to 2160h (90 days)",
		"xx.yaml:1: jurisdiction: \"Xx\" is not a jurisdiction code",
		"xx.yaml:1: zone: required",
		"xx.yaml:5: applies_when:",
		"xx.yaml:6: anchor: \"whenever\"",
		"xx.yaml:7: due: \"soon\"",
		"xx.yaml:8: methods: \"pigeon\"",
		"xx.yaml:3: sources: every duty must cite its source",
		"xx.yaml:3: after: no obligation named \"nobody\"",
		"xx.yaml:11: audience: \"press\"",
		"xx.yaml:12: applies_when: \"subjects\" must be true or false",
		"xx.yaml:16: content: \"mood\"",
		"xx.yaml:18: template: templates/report-zz.tmpl not found",
		"xx.yaml:25: template: \"report-cn\" is a report form; this duty's audience is individuals",
		"cn.yaml:", // the built-in CN file reuses the name cn-pipl-regulator
	} {
		require.True(t, strings.Contains(err.Error(), want), "want %q in:\n%s", want, err)
	}
}

func TestUnknownFieldIsAnError(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "typo.yaml"), []byte("name: typo\nladder: [[email]]\ndue_in: 3d\n"), 0o644))
	err := Lint(dir, "typo")
	require.ErrorContains(t, err, "typo.yaml:3: field due_in not found")
}

func TestUserDirectoryOverridesOneLawFile(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "law"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "law", "hk.yaml"), []byte(`jurisdiction: HK
obligations:
  - name: hk-pcpd-house-rule
    audience: regulator
    applies_when: "subjects > 0"
    anchor: awareness
    due: 48h
    methods: [portal]
    sources: ["internal policy: report to the PCPD within 48 hours"]
`), 0o644))
	p, err := Load(dir, "default")
	require.NoError(t, err)
	obs, err := p.Assess(map[string]Facts{"HK": {Subjects: 1}}, times)
	require.NoError(t, err)
	require.Len(t, obs, 1)
	require.Equal(t, aware.Add(48*time.Hour), obs[0].DueAt)
}

func TestQuietHoursWrapPastMidnight(t *testing.T) {
	p := &Playbook{}
	q, err := p.QuietSpan()
	require.NoError(t, err)
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	at := func(h, m int) time.Time { return time.Date(2026, 11, 23, h, m, 0, 0, shanghai) }
	until, quiet := q.Until(at(22, 30))
	require.True(t, quiet)
	require.Equal(t, time.Date(2026, 11, 24, 8, 0, 0, 0, shanghai), until)
	until, quiet = q.Until(at(3, 0))
	require.True(t, quiet)
	require.Equal(t, at(8, 0), until)
	_, quiet = q.Until(at(8, 0))
	require.False(t, quiet)
	_, quiet = q.Until(at(20, 59))
	require.False(t, quiet)
	p.QuietHours = "25:00-x"
	_, err = p.QuietSpan()
	require.ErrorContains(t, err, "21:00-08:00")
}

// The namespace's retention is checked against the longest duty: for the
// default playbook one counted in months (a year-end report), not hours.
func TestTheLongestDutyIsFoundAcrossLawsAndPhases(t *testing.T) {
	p, err := Load("", "default")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	d, name := p.LongestDuty(from)
	if d < 7*24*time.Hour || name == "" {
		t.Fatalf("longest duty %s (%q): the default playbook has duties of weeks", d, name)
	}
	for _, l := range p.Laws {
		for _, r := range l.Obligations {
			if at, _, err := dueAfter(r.Due, from, l.calendar); err == nil && at.Sub(from) > d {
				t.Fatalf("%s is due later (%s) than the longest found (%s %s)", r.Name, at.Sub(from), name, d)
			}
		}
	}
	t.Logf("longest: %s, %s", name, d)
}

func TestJurisdictionsOfARegionMostSpecificFirst(t *testing.T) {
	for region, want := range map[string][]string{
		"NZ": {"NZ"}, "CA-QC": {"CA-QC", "CA"}, "AU-NSW": {"AU-NSW", "AU"}, "FR": {"EU"}, "FR-75": {"FR-75", "EU"},
		"GB": {"UK"}, "US-CA": {"US-CA", "US-HIPAA"}, "US": {"US", "US-HIPAA"}, "HK": {"HK"},
	} {
		require.Equal(t, want, JurisdictionsOf(region), region)
	}
}

// A state's or province's own law is one file too: Quebec's residents are
// assessed under it and under Canada's, on Quebec's clock.
func TestASubnationalLawIsAssessedForItsResidents(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "law"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "qc.yaml"), []byte("name: qc\nladder: [[email]]\nlaw: [ca-qc]\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "law", "ca-qc.yaml"), []byte(`jurisdiction: CA-QC
name: Quebec (Law 25)
obligations:
  - name: qc-cai
    audience: regulator
    applies_when: "sensitive > 0"
    anchor: awareness
    due: 3d
    methods: [portal]
    sources: ["Act respecting the protection of personal information in the private sector, s 3.5"]
`), 0o644))
	p, err := Load(dir, "qc")
	require.NoError(t, err)
	require.Equal(t, "America/Toronto", p.Laws[0].Zone, "the zone comes from where Quebec's people live")
	scope := Scope{Subjects: 3, Regions: map[string]RegionCounts{"CA-QC": {Subjects: 2, Sensitive: 1}, "CA-ON": {Subjects: 1, Sensitive: 1}}}
	obs, err := p.Assess(JurisdictionFacts(scope, Incident{}), Times{Awareness: aware})
	require.NoError(t, err)
	require.Len(t, obs, 1)
	require.Equal(t, 2, obs[0].Subjects, "Ontario's resident is not Quebec's")
	require.Equal(t, aware.AddDate(0, 0, 3), obs[0].DueAt)
}

// A law for a group of regions has no zone of its own to take: it must
// say where its days end, or they would silently end in UTC.
func TestAGroupLawMustNameItsZone(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "law"), 0o755))
	eu, err := Embedded("law/eu.yaml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "law", "eu.yaml"), regexp.MustCompile(`(?m)^zone: .*\n`).ReplaceAll(eu, nil), 0o644))
	_, err = Load(dir, "default")
	require.ErrorContains(t, err, filepath.Join(dir, "law", "eu.yaml")+":1: zone: required")
	require.ErrorContains(t, Check(dir), "eu.yaml:1: zone: required")
	require.NoError(t, Check(""))
}

// A report form of the operator's own is checked when the playbook loads,
// each mistake named by its file and line.
func TestAnOperatorsReportFormIsCheckedOnLoad(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"law", "templates"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, d), 0o755))
	}
	law := "jurisdiction: NZ\nobligations:\n  - name: nz-opc\n    audience: regulator\n    applies_when: \"subjects > 0\"\n    anchor: awareness\n    due: 72h\n    methods: [portal]\n    template: %s\n    sources: [\"Privacy Act 2020 s 114\"]\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nz.yaml"), []byte("name: nz\nladder: [[email]]\nlaw: [nz]\n"), 0o644))
	write := func(template, form string) error {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "law", "nz.yaml"), fmt.Appendf(nil, law, template), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "templates", "report-nz.tmpl"), []byte(form), 0o644))
		_, err := Load(dir, "nz")
		return err
	}
	require.NoError(t, write("report-nz", `{{define "title"}}NotifyUs{{end}}{{define "body"}}{{.Field "description"}}{{end}}`))
	err := write("report-nz", "{{define \"title\"}}NotifyUs{{end}}\n{{define \"body\"}}\n{{.Fieldz \"description\"}}{{end}}")
	require.ErrorContains(t, err, filepath.Join(dir, "templates", "report-nz.tmpl")+":3:")
	require.ErrorContains(t, err, "Fieldz")
	err = write("report-nz", `{{define "title"}}NotifyUs{{end}}`)
	require.ErrorContains(t, err, `defines no "body" block`)
	err = write("report-au-nsw", `{{define "title"}}x{{end}}`)
	require.ErrorContains(t, err, filepath.Join(dir, "law", "nz.yaml")+":9: template: templates/report-au-nsw.tmpl not found")
	err = write("notice-nz", `{{define "title"}}x{{end}}{{define "body"}}y{{end}}{{define "sms"}}z{{end}}{{define "voice"}}v{{end}}`)
	require.ErrorContains(t, err, `nz.yaml:9: template: "notice-nz" is a form of your own for individuals (notice-NAME); this duty's audience is regulator`)
	err = write("nz-form", `{{define "title"}}x{{end}}`)
	require.ErrorContains(t, err, `nz.yaml:9: template: "nz-form" is not a template`)
}

// The playbook's lead authority for the EU addresses the GDPR report to
// that authority, with the languages it accepts; a region the law file
// lists no authority for is named with the playbook's line.
func TestTheLeadAuthorityReceivesTheReportInItsLanguages(t *testing.T) {
	dir := t.TempDir()
	def, err := Embedded("default.yaml")
	require.NoError(t, err)
	write := func(lead string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "default.yaml"), append(def, []byte("lead_authority: {EU: "+lead+"}\n")...), 0o644))
	}
	write("FR")
	p, err := Load(dir, "default")
	require.NoError(t, err)
	obs, err := p.Assess(map[string]Facts{"EU": {Subjects: 3}}, times)
	require.NoError(t, err)
	require.Equal(t, "eu-gdpr-authority/initial", obs[0].Name)
	require.Equal(t, "Commission nationale de l'informatique et des libertés (CNIL)", obs[0].Regulator)
	require.Equal(t, "FR", obs[0].RegulatorRegion)
	require.Equal(t, []string{"fr"}, obs[0].Languages)

	write("US")
	_, err = Load(dir, "default")
	lines := strings.Count(string(def), "\n") + 1
	require.ErrorContains(t, err, fmt.Sprintf("default.yaml:%d: lead_authority: EU: \"US\" is not a region with an authority in playbooks/law/eu.yaml", lines))
}

func TestAnAuthorityWithoutLanguagesIsNamedWithItsLine(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "law"), 0o755))
	eu, err := Embedded("law/eu.yaml")
	require.NoError(t, err)
	broken := strings.Replace(string(eu), "name_local: Datatilsynet, languages: [da]}", "name_local: Datatilsynet, languages: []}", 1)
	broken = strings.Replace(broken, "languages: [sv]}", "languages: [Swedish]}", 1)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "law", "eu.yaml"), []byte(broken), 0o644))
	err = Check(dir)
	require.ErrorContains(t, err, "authorities.languages: list at least one language")
	require.ErrorContains(t, err, `authorities.languages: "Swedish" is not a language tag`)
}

// Every EEA state's authority is listed, with the languages it accepts.
func TestEveryEEAStateHasAnAuthority(t *testing.T) {
	p, err := Load("", "default")
	require.NoError(t, err)
	var eu *Law
	for _, l := range p.Laws {
		if l.Jurisdiction == "EU" {
			eu = l
		}
	}
	require.NotNil(t, eu)
	for _, region := range strings.Fields("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO") {
		a, ok := eu.Authority(region)
		require.True(t, ok, region)
		require.NotEmpty(t, a.Languages, region)
	}
	require.Len(t, eu.Authorities, 30)
}
