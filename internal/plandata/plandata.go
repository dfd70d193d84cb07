// Package plandata holds the values an incident's plan carries between its
// workflows, activities and store: ranges of the affected set, the scope
// and reach summaries, drill reports. Temporal histories carry them, so a
// change must read what running histories hold: add fields, never rename
// or retype one. The store reads and writes them; it does not own them.
package plandata

import (
	"time"

	"github.com/tocsin/tocsin/playbooks"
)

// Range is a slice of an incident's affected set in subject-ID order: the
// subjects after After up to and including Upto ("" is open-ended). A
// notification campaign is split into ranges, so workflows carry two IDs,
// never the subjects.
type Range struct {
	After string `json:"after,omitempty"`
	Upto  string `json:"upto,omitempty"`
}

// Contains reports whether a subject ID falls in the range.
func (r Range) Contains(id string) bool {
	return id > r.After && (r.Upto == "" || id <= r.Upto)
}

// RegionFacts are the counts a jurisdiction's rules look at.
type RegionFacts struct {
	Subjects  int `json:"subjects"`
	Sensitive int `json:"sensitive"`
	Minors    int `json:"minors"`
	NoContact int `json:"no_contact,omitempty"`
	// Locales counts the region's people by their language tag, so each
	// reads the notice their language, or where they live, picks.
	Locales map[string]int `json:"locales,omitempty"`
}

// ScopeSummary is what scoping returns to the workflow: aggregates only.
type ScopeSummary struct {
	Snapshot   int64                  `json:"snapshot"`
	Subjects   int                    `json:"subjects"`
	Regions    map[string]RegionFacts `json:"regions"`
	Sensitive  int                    `json:"sensitive"`
	Minors     int                    `json:"minors"`
	NoContact  int                    `json:"no_contact"`
	Locales    map[string]int         `json:"locales"`
	Categories []string               `json:"categories"`
	WithEmail  int                    `json:"with_email"`
	WithPhone  int                    `json:"with_phone"`
	WithOnsite int                    `json:"with_onsite"`
	// Reachable counts people per kind of contact they have
	// (inventory.Contacts: "email", "push", "address"...); summaries from
	// before it have only the With fields above.
	Reachable   map[string]int `json:"reachable,omitempty"`
	Credentials bool           `json:"credentials"`
}

// ByRegion is the number of affected subjects per region of residence.
func (s ScopeSummary) ByRegion() map[string]int {
	out := map[string]int{}
	for r, f := range s.Regions {
		out[r] = f.Subjects
	}
	return out
}

// ForRules is the summary as the playbooks' rules read it.
func (s ScopeSummary) ForRules() playbooks.Scope {
	out := playbooks.Scope{Subjects: s.Subjects, Credentials: s.Credentials, Categories: s.Categories, Regions: map[string]playbooks.RegionCounts{}}
	for r, f := range s.Regions {
		out.Regions[r] = playbooks.RegionCounts{Subjects: f.Subjects, Sensitive: f.Sensitive, Minors: f.Minors, NoContact: f.NoContact}
	}
	return out
}

// Reach summarises who was told and how.
type Reach struct {
	Reached   int            `json:"reached"`
	Unreached int            `json:"unreached"`
	ByChannel map[string]int `json:"by_channel"`
	// Withheld are the people not told because legal waived every duty to
	// tell them (neither reached nor unreached: no announcement for them).
	Withheld int `json:"withheld,omitempty"`
}

// RegionReach counts one region's affected people: told individually, or
// not, or withheld (every duty to tell them waived).
type RegionReach struct {
	Reached   int `json:"reached"`
	Unreached int `json:"unreached"`
	Withheld  int `json:"withheld,omitempty"`
}

// DrillReport grades a drill: time to each milestone against the playbook's target.
type DrillReport struct {
	Milestones []MilestoneResult `json:"milestones"`
	Passed     bool              `json:"passed"`
	// Sent counts what the drill sinks received, by channel.
	Sent  map[string]int `json:"sent"`
	Notes []string       `json:"notes,omitempty"`
}

// MilestoneResult is one stage of the plan in a drill.
type MilestoneResult struct {
	Name    string        `json:"name"`
	At      time.Time     `json:"at,omitzero"`
	Took    time.Duration `json:"took_ns"`
	Target  time.Duration `json:"target_ns,omitempty"`
	Reached bool          `json:"reached"`
	Passed  bool          `json:"passed"`
}
