package playbooks

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDefaultPlaybookOnBasicScenarioFacts(t *testing.T) {
	p, err := Load("", "default")
	require.NoError(t, err)
	detected := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	assessed := time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)
	facts := map[string]Facts{
		"CN":    {Subjects: 26, Sensitive: 20, Minors: 6, Credentials: true},
		"SG":    {Subjects: 9, Sensitive: 5, Minors: 2, Credentials: true},
		"EU":    {Subjects: 6, Sensitive: 5, Credentials: true},
		"US-CA": {Subjects: 3, Sensitive: 3, Minors: 1},
		"HK":    {Subjects: 10, Sensitive: 8},
	}
	obs, err := p.Assess(facts, Times{Awareness: detected, Assessed: assessed})
	require.NoError(t, err)
	due := map[string]time.Time{}
	for _, o := range obs {
		due[o.Name] = o.DueAt
	}
	require.Equal(t, detected, due["cn-pipl-regulator"], "PIPL: immediately")
	require.NotContains(t, due, "cn-cac-large", "26 people is far below the CAC 'large' grade")
	require.Equal(t, time.Date(2026, 11, 23, 23, 59, 59, 0, time.UTC), due["sg-pdpc"], "3 calendar days after the day it was assessed notifiable")
	require.Equal(t, detected.Add(72*time.Hour), due["eu-gdpr-authority"])
	require.Equal(t, detected.AddDate(0, 0, 30), due["us-ca-individuals"])
	require.NotContains(t, due, "us-ca-attorney-general", "only over 500 Californians")
	require.Contains(t, due, "hk-pcpd")
}

func TestCACLargeGradeAtOneMillion(t *testing.T) {
	p, err := Load("", "default")
	require.NoError(t, err)
	detected := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		n    int
		want bool
	}{{999_999, false}, {1_000_000, true}} {
		obs, err := p.Assess(map[string]Facts{"CN": {Subjects: tc.n}}, Times{Awareness: detected})
		require.NoError(t, err)
		found := false
		for _, o := range obs {
			if o.Name == "cn-cac-large" {
				found = true
				require.Equal(t, detected.Add(4*time.Hour), o.DueAt)
			}
		}
		require.Equal(t, tc.want, found, "subjects=%d", tc.n)
	}
}

func TestSGNotNotifiableWithoutHarmOrScale(t *testing.T) {
	p, err := Load("", "default")
	require.NoError(t, err)
	obs, err := p.Assess(map[string]Facts{"SG": {Subjects: 499}}, Times{})
	require.NoError(t, err)
	require.Empty(t, obs)
}

func TestLintNamesFileAndLine(t *testing.T) {
	_, err := Parse("bad.yaml", []byte("name: x\nladder: [[email]]\nobligations:\n  - name: a\n    jurisdiction: XX\n    audience: regulator\n    applies_when: \"subjects >\"\n    anchor: awareness\n    due: soon\n"))
	require.Error(t, err)
	for _, want := range []string{"bad.yaml:4: jurisdiction:", "bad.yaml:4: applies_when:", "bad.yaml:4: due:", "bad.yaml:4: sources:"} {
		require.True(t, strings.Contains(err.Error(), want), "want %q in %s", want, err)
	}
}
