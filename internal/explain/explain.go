// Package explain answers "which duties would this incident trigger, by when,
// and why" without starting anything: it scopes the incident against an
// inventory in a throwaway SQLite store, with the same code the workflow
// runs, and evaluates the playbook on the result.
package explain

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tocsin/tocsin/internal/channel"
	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/inventory"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/playbooks"
	"github.com/tocsin/tocsin/templates"
)

// Input names the incident, the inventory it is scoped against and the
// playbooks to use.
type Input struct {
	IncidentFile string
	SystemsFile  string // default: systems.yaml beside the incident file
	SubjectsFile string // default: subjects.csv beside the incident file
	PlaybookDir  string
	// AssessedAt is when the incident counts as assessed notifiable; zero
	// means not yet (such deadlines are then counted from detected_at).
	AssessedAt time.Time
}

// Result is the explanation.
type Result struct {
	Incident     string                     `json:"incident"`
	Playbook     string                     `json:"playbook"`
	Scope        store.ScopeSummary         `json:"scope"`
	Facts        map[string]playbooks.Facts `json:"facts"`
	Severity     map[string]string          `json:"severity"`
	Obligations  []playbooks.Obligation     `json:"obligations"`
	NotApplied   []playbooks.NotApplied     `json:"not_applied"`
	Jurisdiction []string                   `json:"jurisdictions"`
	// Lawful are the channels each duty to individuals accepts.
	Lawful []playbooks.Lawful `json:"lawful"`
	// DefaultLocale is the playbook's language for people whose own, and
	// whose region's, has no notice.
	DefaultLocale string `json:"default_locale"`
}

// Run scopes and assesses the incident.
func Run(ctx context.Context, in Input) (Result, error) {
	data, err := os.ReadFile(in.IncidentFile)
	if err != nil {
		return Result{}, err
	}
	spec, err := incident.Parse(in.IncidentFile, data)
	if err != nil {
		return Result{}, err
	}
	dir := filepath.Dir(in.IncidentFile)
	if in.SystemsFile == "" {
		in.SystemsFile = filepath.Join(dir, "systems.yaml")
	}
	if in.SubjectsFile == "" {
		in.SubjectsFile = filepath.Join(dir, "subjects.csv")
	}
	pb, err := playbooks.Load(in.PlaybookDir, spec.Playbook)
	if err != nil {
		return Result{}, err
	}
	sum, err := scope(ctx, spec, in)
	if err != nil {
		return Result{}, err
	}
	facts := playbooks.JurisdictionFacts(sum.ForRules(), spec.ForRules())
	ev, err := pb.Evaluate(facts, spec.Times(in.AssessedAt))
	if err != nil {
		return Result{}, err
	}
	res := Result{Incident: spec.Title, Playbook: pb.Name, Scope: sum, Facts: facts, Severity: ev.Severity, Obligations: ev.Obligations, NotApplied: ev.NotApplied,
		Lawful: playbooks.LawfulRules(ev.Obligations), DefaultLocale: pb.DefaultLocale}
	for j := range facts {
		res.Jurisdiction = append(res.Jurisdiction, j)
	}
	slices.Sort(res.Jurisdiction)
	return res, nil
}

func scope(ctx context.Context, spec incident.Spec, in Input) (store.ScopeSummary, error) {
	tmp, err := os.MkdirTemp("", "tocsin-explain-")
	if err != nil {
		return store.ScopeSummary{}, err
	}
	defer os.RemoveAll(tmp)
	s, err := store.Open(filepath.Join(tmp, "explain.db"))
	if err != nil {
		return store.ScopeSummary{}, err
	}
	defer s.Close()
	systems, err := os.Open(in.SystemsFile)
	if err != nil {
		return store.ScopeSummary{}, fmt.Errorf("inventory: %w (give --systems and --subjects)", err)
	}
	defer systems.Close()
	subjects, err := os.Open(in.SubjectsFile)
	if err != nil {
		return store.ScopeSummary{}, fmt.Errorf("inventory: %w (give --systems and --subjects)", err)
	}
	defer subjects.Close()
	res, err := s.ImportInventory(ctx, store.ImportInput{SystemsFile: in.SystemsFile, Systems: systems, SubjectsFile: in.SubjectsFile, Subjects: subjects, ImportedBy: "explain"})
	if err != nil {
		return store.ScopeSummary{}, err
	}
	inc := store.Incident{ID: "EXPLAIN", Title: spec.Title, Spec: spec, OpenedBy: "explain", OpenedAt: time.Now(), Snapshot: res.Snapshot}
	if err := s.CreateIncident(ctx, inc, nil); err != nil {
		return store.ScopeSummary{}, err
	}
	return s.Scope(ctx, store.ScopeInput{IncidentID: inc.ID, Snapshot: res.Snapshot, Systems: spec.Systems, Categories: spec.Categories,
		Regions: spec.Regions, Year: spec.DetectedAt.Year()})
}

// Print writes the explanation for a person: per jurisdiction the facts, the
// severity, each duty with its due time and why it applies, and the duties
// that do not apply with the reason.
func (r Result) Print(w io.Writer) {
	fmt.Fprintf(w, "%s\nplaybook %s; %d people affected\n", r.Incident, r.Playbook, r.Scope.Subjects)
	for _, j := range r.Jurisdiction {
		f := r.Facts[j]
		if f.Subjects == 0 {
			continue
		}
		sev := ""
		if s := r.Severity[j]; s != "" {
			sev = "; severity " + s
		}
		fmt.Fprintf(w, "\n%s: %d people, %d sensitive, %d minors, %d without contact%s\n", j, f.Subjects, f.Sensitive, f.Minors, f.NoContact, sev)
		n := 0
		for _, o := range r.Obligations {
			if o.Jurisdiction != j {
				continue
			}
			n++
			due := o.Due
			if !o.DueAt.IsZero() {
				due = o.DueText() + " (" + o.Due + " from " + o.Anchor + ")"
			}
			extra := []string{}
			if o.Voluntary {
				extra = append(extra, "voluntary")
			}
			if o.After != "" {
				extra = append(extra, "after "+o.After)
			}
			if o.With != "" {
				extra = append(extra, "with "+o.With)
			}
			if o.Substitute != nil {
				extra = append(extra, "substitute notice: "+strings.Join(o.Substitute.Methods, ", "))
			}
			if o.Unverified != "" {
				extra = append(extra, "UNVERIFIED")
			}
			fmt.Fprintf(w, "  DUE %-34s %-12s %s\n", o.Name, o.Audience, due)
			if len(extra) > 0 {
				fmt.Fprintf(w, "      %s\n", strings.Join(extra, "; "))
			}
			fmt.Fprintf(w, "      why: %s\n", o.Why)
			if o.Audience == "individuals" {
				fmt.Fprintf(w, "      channels: %s\n", r.channelsOf(o.Name))
			}
			if o.AnchorNote != "" {
				fmt.Fprintf(w, "      note: %s\n", o.AnchorNote)
			}
		}
		for _, na := range r.NotApplied {
			if na.Jurisdiction == j {
				fmt.Fprintf(w, "  no  %-34s %s\n", na.Rule, na.Why)
			}
		}
		if n == 0 {
			fmt.Fprintln(w, "  no duty applies")
		}
		if inventory.ValidRegion(j) {
			fmt.Fprintf(w, "  residents may be told by: %s; with consent to electronic notice: %s\n",
				r.allowed(j, ""), r.allowed(j, inventory.ConsentYes))
		}
		if langs := r.languagesOf(j); langs != "" {
			fmt.Fprintf(w, "  notices read: %s\n", langs)
		}
	}
}

// languagesOf says in which language each group of a jurisdiction's
// residents reads their notice, and why (their own language, else where
// they live, else the playbook's default).
func (r Result) languagesOf(jurisdiction string) string {
	type pick struct{ locale, why string }
	count := map[pick]int{}
	for region, f := range r.Scope.Regions {
		if !slices.Contains(playbooks.JurisdictionsOf(region), jurisdiction) {
			continue
		}
		for tag, n := range f.Locales {
			l, why := templates.NoticeLocaleIn(tag, region, r.DefaultLocale)
			count[pick{l, why}] += n
		}
	}
	var parts []string
	for p, n := range count {
		parts = append(parts, fmt.Sprintf("%s %d (%s)", p.locale, n, p.why))
	}
	slices.Sort(parts)
	return strings.Join(parts, "; ")
}

// channelsOf says which channels a duty accepts, and which only with
// consent.
func (r Result) channelsOf(duty string) string {
	for _, l := range r.Lawful {
		if l.Duty != duty {
			continue
		}
		var parts []string
		for _, ch := range l.Channels {
			if slices.Contains(l.Consent, ch) {
				ch += " (with consent)"
			}
			parts = append(parts, ch)
		}
		return strings.Join(parts, ", ")
	}
	return "none that reaches a person"
}

// allowed lists the channels every duty to a region's residents accepts.
func (r Result) allowed(region, consent string) string {
	var out []string
	for _, ch := range channel.Names() {
		if playbooks.Allows(r.Lawful, region, consent, ch) {
			out = append(out, ch)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}
