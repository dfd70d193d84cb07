package playbooks

import (
	"github.com/tocsin/tocsin/internal/inventory"
	"slices"
)

// Scope is what the rules know of who was affected: counts, never people.
type Scope struct {
	Subjects    int
	Credentials bool
	Categories  []string
	Regions     map[string]RegionCounts
}

// RegionCounts are the affected residents of one region.
type RegionCounts struct {
	Subjects, Sensitive, Minors, NoContact int
}

// Incident is what the rules know of an incident itself, beside its scope
// (incident.Spec.ForRules gives it).
type Incident struct {
	Kind                   string
	HealthData             bool
	CriticalInfrastructure bool
}

// JurisdictionFacts groups the scope's regions of residence by the
// jurisdictions whose law may protect them (JurisdictionsOf): EEA states as
// EU, US states each on its own (US law is per state) and every US resident
// under US-HIPAA too, whose rules apply only when the incident is flagged as
// involving health data.
func JurisdictionFacts(s Scope, spec Incident) map[string]Facts {
	var families []string
	for _, c := range s.Categories {
		if f := inventory.Family(c); !slices.Contains(families, f) {
			families = append(families, f)
		}
	}
	out := map[string]Facts{}
	add := func(j string, f RegionCounts) {
		cur := out[j]
		cur.Subjects += f.Subjects
		cur.Sensitive += f.Sensitive
		cur.Minors += f.Minors
		cur.NoContact += f.NoContact
		cur.LargestRegion = max(cur.LargestRegion, f.Subjects)
		cur.Credentials = s.Credentials
		cur.Categories = s.Categories
		cur.Families = families
		cur.Total = s.Subjects
		cur.Kind = spec.Kind
		cur.HealthData = spec.HealthData
		cur.CriticalInfrastructure = spec.CriticalInfrastructure
		out[j] = cur
	}
	for region, f := range s.Regions {
		for _, j := range JurisdictionsOf(region) {
			add(j, f)
		}
	}
	return out
}

// JurisdictionsOf names the jurisdictions whose law may protect a resident
// of region, most specific first: a subdivision's own law (US-CA, AU-NSW),
// then EEA states as EU, GB as UK, every US resident under US-HIPAA, and
// any other country as itself. A law file takes any of these codes, so an
// operator adds a country's or a state's law with no code; a code no law
// file uses is simply never assessed.
func JurisdictionsOf(region string) []string {
	country := inventory.Country(region)
	var out []string
	if region != country || country == "US" {
		out = append(out, region)
	}
	switch {
	case inventory.InEEA(region):
		return append(out, "EU")
	case country == "GB":
		return append(out, "UK")
	case country == "US":
		return append(out, "US-HIPAA")
	}
	return append(out, country)
}
