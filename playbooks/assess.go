package playbooks

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/cel-go/cel"
)

// Facts are what rules are evaluated on, for one jurisdiction: the people
// who live there, and what is true of the incident as a whole. This is the
// documented schema of every CEL expression in a playbook.
type Facts struct {
	// Subjects is the number of affected people resident in the jurisdiction.
	Subjects int `json:"subjects"`
	// Sensitive counts those whose exposed data includes a sensitive category
	// (biometric, health, financial, government ID, location, credential) or
	// who are minors.
	Sensitive int `json:"sensitive"`
	// Minors counts those who may be under 18.
	Minors int `json:"minors"`
	// NoContact counts those with no email, phone or on-site account.
	NoContact int `json:"no_contact"`
	// LargestRegion is the most affected people in one subdivision (a US
	// state, say) of the jurisdiction, or the jurisdiction's count if none.
	LargestRegion int `json:"largest_region"`
	// Total is every affected person, in all jurisdictions.
	Total int `json:"total_subjects"`
	// Unreached is how many people no channel reached (0 before notice).
	Unreached int `json:"unreached"`
	// Credentials is true when a credential.* category leaked.
	Credentials bool `json:"credentials"`
	// Categories are the exposed categories; Families their first segments.
	Categories []string `json:"categories"`
	Families   []string `json:"families"`
	// Kind is the incident's kind (unauthorized-access, ransomware, loss, ...).
	Kind string `json:"kind"`
	// HealthData is the incident's flag for protected health information.
	HealthData bool `json:"health_data"`
	// CriticalInfrastructure is the incident's flag for a CII operator.
	CriticalInfrastructure bool `json:"critical_infrastructure"`
}

func (f Facts) vars() map[string]any {
	return map[string]any{
		"subjects": int64(f.Subjects), "sensitive": int64(f.Sensitive), "minors": int64(f.Minors),
		"no_contact": int64(f.NoContact), "largest_region": int64(f.LargestRegion), "total_subjects": int64(f.Total),
		"unreached": int64(f.Unreached), "credentials": f.Credentials, "categories": orEmpty(f.Categories),
		"families": orEmpty(f.Families), "kind": f.Kind, "health_data": f.HealthData,
		"critical_infrastructure": f.CriticalInfrastructure,
	}
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

var env = func() *cel.Env {
	var opts []cel.EnvOption
	for _, v := range []string{"subjects", "sensitive", "minors", "no_contact", "largest_region", "total_subjects", "unreached"} {
		opts = append(opts, cel.Variable(v, cel.IntType))
	}
	for _, v := range []string{"credentials", "health_data", "critical_infrastructure"} {
		opts = append(opts, cel.Variable(v, cel.BoolType))
	}
	opts = append(opts, cel.Variable("categories", cel.ListType(cel.StringType)), cel.Variable("families", cel.ListType(cel.StringType)),
		cel.Variable("kind", cel.StringType))
	e, err := cel.NewEnv(opts...)
	if err != nil {
		panic(err)
	}
	return e
}()

var programs sync.Map // expression → cel.Program

func compile(expr string) (cel.Program, error) {
	if p, ok := programs.Load(expr); ok {
		return p.(cel.Program), nil
	}
	if strings.TrimSpace(expr) == "" {
		return nil, errors.New("an expression is required")
	}
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		return nil, fmt.Errorf("%q: %s", expr, strings.ReplaceAll(iss.Err().Error(), "\n", " "))
	}
	if ast.OutputType() != cel.BoolType {
		return nil, fmt.Errorf("%q must be true or false, not %s", expr, ast.OutputType())
	}
	prg, err := env.Program(ast)
	if err != nil {
		return nil, err
	}
	programs.Store(expr, prg)
	return prg, nil
}

func eval(expr string, f Facts) (bool, error) {
	prg, err := compile(expr)
	if err != nil {
		return false, err
	}
	out, _, err := prg.Eval(f.vars())
	if err != nil {
		return false, fmt.Errorf("%q: %w", expr, err)
	}
	b, _ := out.Value().(bool)
	return b, nil
}

// Obligation is a duty that applies to an incident, with its due time. A
// phased duty becomes one obligation per phase, named rule/phase.
type Obligation struct {
	Name         string `json:"name"`
	Rule         string `json:"rule"`
	Phase        string `json:"phase,omitempty"`
	Jurisdiction string `json:"jurisdiction"`
	Audience     string `json:"audience"`
	Regulator    string `json:"regulator,omitempty"`
	// RegulatorLocal is the regulator's name in its own language.
	RegulatorLocal string    `json:"regulator_local,omitempty"`
	Owner          string    `json:"owner,omitempty"`
	Anchor         string    `json:"anchor"`
	AnchorAt       time.Time `json:"anchor_at,omitzero"`
	// AnchorNote says when the anchor's time was not known and another stood in.
	AnchorNote string    `json:"anchor_note,omitempty"`
	DueAt      time.Time `json:"due_at,omitzero"`
	Due        string    `json:"due"`
	// Zone is the jurisdiction's time zone (IANA), in which its law counts
	// days; empty for UTC. DueLocal is the due time there, beside UTC.
	Zone        string   `json:"zone,omitempty"`
	DueLocal    string   `json:"due_local,omitempty"`
	After       string   `json:"after,omitempty"`
	With        string   `json:"with,omitempty"`
	Voluntary   bool     `json:"voluntary,omitempty"`
	LateReasons bool     `json:"late_reasons,omitempty"`
	Template    string   `json:"template,omitempty"`
	Content     []string `json:"content,omitempty"`
	Methods     []string `json:"methods,omitempty"`
	// Consent are the methods the law accepts only with the person's
	// consent to electronic notice.
	Consent    []string      `json:"consent,omitempty"`
	Substitute *Substitution `json:"substitute_notice,omitempty"`
	Subjects   int           `json:"subjects"`
	Why        string        `json:"why"`
	Unverified string        `json:"unverified,omitempty"`
	Sources    []string      `json:"sources"`
	// SourcesLocal cite the law in the language of the regulator's report.
	SourcesLocal []string `json:"sources_local,omitempty"`
	// RegulatorRegion is where the regulator is, when the law file lists
	// its authorities and the playbook named the lead one; Languages are
	// those it accepts a report in, its preferred first.
	RegulatorRegion string   `json:"regulator_region,omitempty"`
	Languages       []string `json:"languages,omitempty"`
	// LawEnforcementDelay cites the law that lets a law-enforcement request
	// delay this duty (empty: none does).
	LawEnforcementDelay string `json:"law_enforcement_delay,omitempty"`
}

// DueText is the due time as people read it: in the jurisdiction's zone
// beside UTC ("2026-12-04 23:59 +08 Asia/Singapore (2026-12-04 15:59 UTC)"),
// or UTC alone for an obligation assessed before zones.
func (o Obligation) DueText() string {
	if o.DueLocal != "" {
		return o.DueLocal
	}
	return o.DueAt.UTC().Format("2006-01-02 15:04 UTC")
}

// MoveDue sets the due time (a law-enforcement delay moved it), written
// in the jurisdiction's zone as assessment writes it.
func (o *Obligation) MoveDue(t time.Time) {
	o.DueAt = t
	o.DueLocal = localDue(t, o.Zone)
}

func localDue(t time.Time, zone string) string {
	if t.IsZero() {
		return ""
	}
	return Local(t, zone)
}

// Substitution is a substitute notice the facts call for.
type Substitution struct {
	Methods []string `json:"methods"`
	Note    string   `json:"note,omitempty"`
}

// Times are the clock anchors of an incident. A missing discovery or
// determination time falls back to awareness, and the obligation says so.
type Times struct {
	Awareness     time.Time // detected_at
	Discovery     time.Time // discovered_at
	Determination time.Time // determined_at
	Assessed      time.Time // when the incident was assessed notifiable
}

func (t Times) anchor(name string) (time.Time, string) {
	switch name {
	case "discovery":
		if t.Discovery.IsZero() {
			return t.Awareness, "discovery time not recorded: counted from detected_at"
		}
		return t.Discovery, ""
	case "determination":
		if t.Determination.IsZero() {
			return t.Awareness, "determination time not recorded: counted from detected_at"
		}
		return t.Determination, ""
	case "assessed-notifiable":
		if t.Assessed.IsZero() {
			return t.Awareness, "not yet assessed: counted from detected_at"
		}
		return t.Assessed, ""
	}
	return t.Awareness, ""
}

// Assessment is what a playbook says about an incident: the duties that
// apply, those that do not and why, and each jurisdiction's severity.
type Assessment struct {
	Obligations []Obligation      `json:"obligations"`
	NotApplied  []NotApplied      `json:"not_applied"`
	Severity    map[string]string `json:"severity"`
}

// NotApplied is a duty whose condition did not hold.
type NotApplied struct {
	Rule         string `json:"rule"`
	Jurisdiction string `json:"jurisdiction"`
	Why          string `json:"why"`
}

// Assess returns every duty whose condition holds for its jurisdiction's
// facts, in jurisdiction order, each with its own due time.
func (p *Playbook) Assess(facts map[string]Facts, t Times) ([]Obligation, error) {
	a, err := p.Evaluate(facts, t)
	return a.Obligations, err
}

// Evaluate is Assess with the reasons: what fired, what did not, and the
// severity per jurisdiction.
func (p *Playbook) Evaluate(facts map[string]Facts, t Times) (Assessment, error) {
	out := Assessment{Obligations: []Obligation{}, NotApplied: []NotApplied{}, Severity: map[string]string{}}
	for _, l := range p.Laws {
		f, ok := facts[l.Jurisdiction]
		if !ok || f.Subjects == 0 {
			for _, r := range l.Obligations {
				out.NotApplied = append(out.NotApplied, NotApplied{r.Name, l.Jurisdiction, "no affected residents"})
			}
			continue
		}
		if l.Severity != nil {
			level, err := l.Severity.grade(f)
			if err != nil {
				return out, fmt.Errorf("%s severity: %w", l.File, err)
			}
			out.Severity[l.Jurisdiction] = level
		}
		for _, r := range l.Obligations {
			ok, err := eval(r.AppliesWhen, f)
			if err != nil {
				return out, fmt.Errorf("obligation %s: %w", r.Name, err)
			}
			why := fmt.Sprintf("%s, with %s", r.AppliesWhen, f.describe())
			if !ok {
				out.NotApplied = append(out.NotApplied, NotApplied{r.Name, l.Jurisdiction, "false: " + why})
				continue
			}
			anchorAt, note := t.anchor(r.Anchor)
			base := Obligation{
				Name: r.Name, Rule: r.Name, Jurisdiction: l.Jurisdiction, Audience: r.Audience, Regulator: r.Regulator, RegulatorLocal: r.RegulatorLocal, Owner: r.Owner,
				Anchor: r.Anchor, AnchorAt: anchorAt, AnchorNote: note, Zone: l.Zone, After: r.After, With: r.With, Voluntary: r.Voluntary,
				LateReasons: r.LateReasons, Template: r.Template, Content: r.Content, Methods: r.Methods, Consent: r.Consent,
				Subjects: f.Subjects, Why: why, Unverified: r.Unverified, Sources: r.Sources, SourcesLocal: r.SourcesLocal,
				LawEnforcementDelay: r.LawEnforcementDelay,
			}
			if a, ok := l.Authority(p.LeadAuthority[l.Jurisdiction]); ok && r.Audience == "regulator" {
				base.Regulator, base.RegulatorLocal, base.RegulatorRegion, base.Languages = a.Name, a.NameLocal, a.Region, a.Languages
			}
			if r.Substitute != nil {
				sub, err := eval(r.Substitute.When, f)
				if err != nil {
					return out, fmt.Errorf("obligation %s substitute_notice: %w", r.Name, err)
				}
				if sub {
					base.Substitute = &Substitution{Methods: r.Substitute.Methods, Note: r.Substitute.Note}
				}
			}
			if len(r.Phases) == 0 {
				base.DueAt, base.Due, _ = dueAfter(r.Due, anchorAt, l.calendar)
				base.DueLocal = localDue(base.DueAt, l.Zone)
				out.Obligations = append(out.Obligations, base)
				continue
			}
			prev := r.After
			for _, ph := range r.Phases {
				o := base
				o.Name, o.Phase, o.After = r.Name+"/"+ph.Name, ph.Name, prev
				if len(ph.Content) > 0 {
					o.Content = ph.Content
				}
				o.DueAt, o.Due, _ = dueAfter(ph.Due, anchorAt, l.calendar)
				o.DueLocal = localDue(o.DueAt, l.Zone)
				out.Obligations = append(out.Obligations, o)
				prev = o.Name
			}
		}
	}
	// References name rules; a phased rule is referred to by its last phase.
	last := map[string]string{}
	for _, o := range out.Obligations {
		last[o.Rule] = o.Name
	}
	for i := range out.Obligations {
		o := &out.Obligations[i]
		if n, ok := last[o.After]; ok && o.Phase == "" {
			o.After = n
		}
		if n, ok := last[o.With]; ok {
			o.With = n
		}
	}
	// Jurisdictions in the order the playbook lists its law.
	order := make([]string, 0, len(p.Laws))
	for _, l := range p.Laws {
		order = append(order, l.Jurisdiction)
	}
	sort.SliceStable(out.Obligations, func(i, j int) bool {
		return slices.Index(order, out.Obligations[i].Jurisdiction) < slices.Index(order, out.Obligations[j].Jurisdiction)
	})
	return out, nil
}

func (s *Severity) grade(f Facts) (string, error) {
	idx := -1
	for i, lv := range s.Levels {
		ok, err := eval(lv.When, f)
		if err != nil {
			return "", err
		}
		if ok {
			idx = i
			break
		}
	}
	if idx < 0 {
		return "", nil
	}
	if s.RaisedWhen != "" && idx > 0 {
		raised, err := eval(s.RaisedWhen, f)
		if err != nil {
			return "", err
		}
		if raised {
			return s.Levels[idx-1].Level + " (raised from " + s.Levels[idx].Level + ")", nil
		}
	}
	return s.Levels[idx].Level, nil
}

func (f Facts) describe() string {
	parts := []string{fmt.Sprintf("subjects=%d", f.Subjects), fmt.Sprintf("sensitive=%d", f.Sensitive), fmt.Sprintf("minors=%d", f.Minors)}
	if f.NoContact > 0 {
		parts = append(parts, fmt.Sprintf("no_contact=%d", f.NoContact))
	}
	if f.Credentials {
		parts = append(parts, "credentials")
	}
	if f.HealthData {
		parts = append(parts, "health_data")
	}
	if f.CriticalInfrastructure {
		parts = append(parts, "critical_infrastructure")
	}
	if f.Kind != "" {
		parts = append(parts, "kind="+f.Kind)
	}
	return strings.Join(parts, " ")
}

// AnnouncementDue reports whether the plan calls for a public announcement.
func (p *Playbook) AnnouncementDue(f Facts) (bool, error) {
	if p.Announcement.AppliesWhen == "" {
		return f.Unreached > 0, nil
	}
	return eval(p.Announcement.AppliesWhen, f)
}

// dueAfter turns a due expression into a time, on the jurisdiction's
// calendar:
//   - immediately: at the anchor
//   - practicable: no fixed time (zero)
//   - Nh, Nm: hours or minutes after the anchor
//   - Nd: N calendar days after the anchor (the same time of day in the zone)
//   - Nbd: N business days after the anchor: Monday to Friday in the zone,
//     without the law file's public holidays
//   - Nd-after-day: the end of the Nth calendar day after the anchor's day,
//     days ending at midnight in the zone
//   - Nd-after-year: N days after the end of the anchor's calendar year in the zone
func dueAfter(due string, anchor time.Time, cal Calendar) (time.Time, string, error) {
	num := func(suffix string) (int, bool) {
		s, ok := strings.CutSuffix(due, suffix)
		if !ok {
			return 0, false
		}
		n, err := strconv.Atoi(s)
		return n, err == nil && n > 0
	}
	zone := cal.zone()
	switch {
	case due == "immediately":
		return anchor, "immediately", nil
	case due == "practicable":
		return time.Time{}, "as soon as practicable", nil
	case strings.HasSuffix(due, "d-after-day"):
		n, ok := num("d-after-day")
		if !ok {
			return time.Time{}, "", fmt.Errorf("%q: want N-after-day with N > 0", due)
		}
		return cal.endOfDay(anchor, n).UTC(), fmt.Sprintf("%d calendar days after the day", n), nil
	case strings.HasSuffix(due, "d-after-year"):
		n, ok := num("d-after-year")
		if !ok {
			return time.Time{}, "", fmt.Errorf("%q: want Nd-after-year with N > 0", due)
		}
		end := time.Date(anchor.In(zone).Year()+1, 1, 1, 0, 0, 0, 0, zone)
		return end.AddDate(0, 0, n).Add(-time.Second).UTC(), fmt.Sprintf("%d days after the end of the year", n), nil
	case strings.HasSuffix(due, "bd"):
		n, ok := num("bd")
		if !ok {
			return time.Time{}, "", fmt.Errorf("%q: want Nbd with N > 0", due)
		}
		return cal.addBusinessDays(anchor, n).UTC(), fmt.Sprintf("%d business days", n), nil
	case strings.HasSuffix(due, "d"):
		n, ok := num("d")
		if !ok {
			return time.Time{}, "", fmt.Errorf("%q: want Nd with N > 0", due)
		}
		return anchor.In(zone).AddDate(0, 0, n).UTC(), fmt.Sprintf("%d calendar days", n), nil
	case strings.HasSuffix(due, "h"), strings.HasSuffix(due, "m"):
		d, err := time.ParseDuration(due)
		if err != nil || d <= 0 {
			return time.Time{}, "", fmt.Errorf("%q: want a number of hours like 72h", due)
		}
		return anchor.Add(d), due, nil
	}
	return time.Time{}, "", fmt.Errorf("%q: want immediately, practicable, Nh, Nd, Nbd, Nd-after-day or Nd-after-year", due)
}
