package playbooks

import (
	"slices"
	"time"

	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/inventory"
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

// TimesOf are the clock anchors of an incident.
func TimesOf(spec incident.Spec, assessed time.Time) Times {
	return Times{Awareness: spec.DetectedAt, Discovery: spec.DiscoveredAt, Determination: spec.DeterminedAt, Assessed: assessed}
}

// JurisdictionFacts groups the scope's regions of residence by the
// jurisdictions the playbooks know: EEA states as EU, US states each on its
// own (US law is per state), and every US resident under US-HIPAA too, whose
// rules apply only when the incident is flagged as involving health data.
func JurisdictionFacts(s Scope, spec incident.Spec) map[string]Facts {
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

// JurisdictionsOf names the jurisdictions whose law protects a resident of
// region: EEA states are EU, GB is UK, a US state is itself and HIPAA.
func JurisdictionsOf(region string) []string {
	country := inventory.Country(region)
	switch {
	case inventory.InEEA(region):
		return []string{"EU"}
	case country == "GB":
		return []string{"UK"}
	case country == "US":
		return []string{region, "US-HIPAA"}
	}
	return []string{country}
}
