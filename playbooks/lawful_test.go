package playbooks

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/channel"
)

// lawfulFor is what each region's residents may be told by, with and
// without consent to electronic notice, under the built-in law files when
// every duty to individuals applies (a health-data breach of credentials
// with minors among the people).
func lawfulFor(t *testing.T, region, consent string) []string {
	t.Helper()
	p := defaults(t)
	all := []string{"CN", "HK", "SG", "JP", "KR", "AU", "BR", "DE", "GB", "US-CA", "US-NY", "US-TX", "US-FL"}
	regions := map[string]RegionCounts{}
	for _, r := range all {
		regions[r] = RegionCounts{Subjects: 600, Sensitive: 600, Minors: 1}
	}
	a, err := p.Evaluate(JurisdictionFacts(Scope{Subjects: 600 * len(all), Credentials: true, Categories: []string{"credential.password_hash", "health.record"}, Regions: regions},
		Incident{Kind: "unauthorized-access", HealthData: true}), times)
	require.NoError(t, err)
	rules := LawfulRules(a.Obligations)
	var out []string
	for _, ch := range channel.Names() {
		if Allows(rules, region, consent, ch) {
			out = append(out, ch)
		}
	}
	return out
}

func TestEachJurisdictionAllowsItsLawfulChannels(t *testing.T) {
	every := channel.Names()
	written := []string{"letter"}
	for _, tc := range []struct {
		region             string
		consented, unasked []string
	}{
		// Any reasonable manner: every channel, consent or not.
		{"CN", every, every}, {"HK", every, every}, {"SG", every, every}, {"JP", every, every}, {"KR", every, every},
		{"AU", every, every}, {"BR", every, every}, {"DE", every, every}, {"GB", every, every},
		// HIPAA applies to every US resident of a health-data breach:
		// first-class mail, or e-mail with consent, and nothing else.
		{"US-FL", []string{"email", "letter"}, written},
		{"US-CA", []string{"email", "letter"}, written},
		{"US-TX", []string{"email", "letter"}, written},
		{"US-NY", []string{"email", "letter"}, written},
	} {
		require.Equal(t, sorted(tc.consented), sorted(lawfulFor(t, tc.region, "yes")), "%s with consent", tc.region)
		require.Equal(t, sorted(tc.unasked), sorted(lawfulFor(t, tc.region, "")), "%s not asked", tc.region)
		require.Equal(t, sorted(tc.unasked), sorted(lawfulFor(t, tc.region, "no")), "%s refused", tc.region)
	}
}

// Without HIPAA (no health data), each state's own law decides.
func TestUSStatesWithoutHealthData(t *testing.T) {
	p := defaults(t)
	regions := map[string]RegionCounts{"US-CA": {Subjects: 10, Sensitive: 10}, "US-NY": {Subjects: 10, Sensitive: 10}, "US-TX": {Subjects: 10, Sensitive: 10}}
	a, err := p.Evaluate(JurisdictionFacts(Scope{Subjects: 30, Credentials: true, Categories: []string{"credential.password_hash"}, Regions: regions}, Incident{}), times)
	require.NoError(t, err)
	rules := LawfulRules(a.Obligations)
	allowed := func(region, consent string) []string {
		var out []string
		for _, ch := range channel.Names() {
			if Allows(rules, region, consent, ch) {
				out = append(out, ch)
			}
		}
		return sorted(out)
	}
	// New York: written notice, telephone with a log, electronic with consent.
	require.Equal(t, []string{"letter", "voice"}, allowed("US-NY", ""))
	require.Equal(t, []string{"email", "letter", "onsite", "push", "sms", "voice"}, allowed("US-NY", "yes"))
	// California and Texas: written, or electronic under E-SIGN consent; no calls.
	for _, r := range []string{"US-CA", "US-TX"} {
		require.Equal(t, []string{"letter"}, allowed(r, "no"), r)
		require.Equal(t, []string{"email", "letter", "onsite", "push", "sms"}, allowed(r, "yes"), r)
	}
	// A state with no law file of its own: no duty restricts the channels.
	require.Equal(t, sorted(channel.Names()), allowed("US-FL", ""))
	ok, why := Why(rules, "US-NY", "no", "email")
	require.False(t, ok)
	require.Equal(t, &Refusal{Duty: "us-ny-individuals", NoConsent: true}, why)
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
