// Package playbooks holds the emergency plans as data: who to page, the channel
// ladder, and per jurisdiction the duties the law imposes, with CEL conditions
// over the scoped facts. The default plan is embedded; a directory overrides it.
package playbooks

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/cel-go/cel"
	"gopkg.in/yaml.v3"
)

//go:embed *.yaml
var embedded embed.FS

// Playbook is one emergency plan.
type Playbook struct {
	Name           string       `yaml:"name"`
	DefaultLocale  string       `yaml:"default_locale"`
	Responders     []Responder  `yaml:"responders"`
	Ladder         [][]string   `yaml:"ladder"`
	ReceiptTimeout string       `yaml:"receipt_timeout"`
	Announcement   Announcement `yaml:"announcement"`
	Obligations    []Rule       `yaml:"obligations"`
}

// Responder is a role paged into the war room.
type Responder struct {
	Role      string `yaml:"role"`
	SlackUser string `yaml:"slack_user"`
}

// Announcement says when a public notice replaces individual notice.
type Announcement struct {
	AppliesWhen string `yaml:"applies_when"`
	Reason      string `yaml:"reason"`
}

// Rule is one legal duty in one jurisdiction.
type Rule struct {
	Name         string   `yaml:"name"`
	Jurisdiction string   `yaml:"jurisdiction"`
	Audience     string   `yaml:"audience"`
	Regulator    string   `yaml:"regulator"`
	AppliesWhen  string   `yaml:"applies_when"`
	Anchor       string   `yaml:"anchor"`
	Due          string   `yaml:"due"`
	After        string   `yaml:"after"`
	Voluntary    bool     `yaml:"voluntary"`
	Template     string   `yaml:"template"`
	Sources      []string `yaml:"sources"`
	line         int
}

var (
	jurisdictions = map[string]bool{"CN": true, "SG": true, "HK": true, "EU": true, "UK": true, "US-CA": true, "US-NY": true, "US-TX": true, "US-HIPAA": true, "AU": true, "JP": true, "KR": true, "BR": true}
	audiences     = map[string]bool{"regulator": true, "individuals": true, "media": true, "credit_bureaus": true, "police": true}
	anchors       = map[string]bool{"awareness": true, "discovery": true, "determination": true, "assessed-notifiable": true}
	channels      = map[string]bool{"onsite": true, "email": true, "sms": true, "voice": true}
)

// Load finds a playbook by name: in dir when given, else the embedded defaults.
func Load(dir, name string) (*Playbook, error) {
	if name == "" {
		name = "default"
	}
	file := name + ".yaml"
	var data []byte
	var err error
	if dir != "" {
		data, err = os.ReadFile(filepath.Join(dir, file))
		if err == nil {
			return Parse(filepath.Join(dir, file), data)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("playbook %s: %w", name, err)
		}
	}
	data, err = embedded.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("playbook %q not found (looked in %q and the built-in playbooks)", name, dir)
	}
	return Parse("playbooks/"+file, data)
}

// Parse reads and checks a playbook, naming the line of every bad rule.
func Parse(file string, data []byte) (*Playbook, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %s", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var p Playbook
	if err := root.Decode(&p); err != nil {
		return nil, fmt.Errorf("%s: %s", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	ruleLines := obligationLines(&root)
	var errs []string
	bad := func(line int, field, reason string) {
		errs = append(errs, fmt.Sprintf("%s:%d: %s: %s", file, line, field, reason))
	}
	if len(p.Ladder) == 0 {
		bad(1, "ladder", "at least one rung is required")
	}
	for _, rung := range p.Ladder {
		for _, ch := range rung {
			if !channels[ch] {
				bad(1, "ladder", fmt.Sprintf("unknown channel %q (onsite, email, sms, voice)", ch))
			}
		}
	}
	if _, err := p.receiptTimeout(); err != nil {
		bad(1, "receipt_timeout", err.Error())
	}
	if p.Announcement.AppliesWhen != "" {
		if _, err := compile(p.Announcement.AppliesWhen); err != nil {
			bad(1, "announcement.applies_when", err.Error())
		}
	}
	names := map[string]bool{}
	for i := range p.Obligations {
		r := &p.Obligations[i]
		if i < len(ruleLines) {
			r.line = ruleLines[i]
		}
		if r.Name == "" || names[r.Name] {
			bad(r.line, "name", fmt.Sprintf("%q must be present and unique", r.Name))
		}
		names[r.Name] = true
		if !jurisdictions[r.Jurisdiction] {
			bad(r.line, "jurisdiction", fmt.Sprintf("%q is not a known jurisdiction code", r.Jurisdiction))
		}
		if !audiences[r.Audience] {
			bad(r.line, "audience", fmt.Sprintf("%q is not one of regulator, individuals, media, credit_bureaus, police", r.Audience))
		}
		if !anchors[r.Anchor] {
			bad(r.line, "anchor", fmt.Sprintf("%q is not one of awareness, discovery, determination, assessed-notifiable", r.Anchor))
		}
		if _, _, err := dueAfter(r.Due, time.Time{}); err != nil {
			bad(r.line, "due", err.Error())
		}
		if _, err := compile(r.AppliesWhen); err != nil {
			bad(r.line, "applies_when", err.Error())
		}
		if len(r.Sources) == 0 {
			bad(r.line, "sources", "every duty must cite its source")
		}
	}
	for _, r := range p.Obligations {
		if r.After != "" && !names[r.After] {
			bad(r.line, "after", fmt.Sprintf("no obligation named %q", r.After))
		}
	}
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "\n"))
	}
	if p.DefaultLocale == "" {
		p.DefaultLocale = "en"
	}
	return &p, nil
}

func obligationLines(root *yaml.Node) []int {
	if len(root.Content) == 0 {
		return nil
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "obligations" {
			var lines []int
			for _, n := range m.Content[i+1].Content {
				lines = append(lines, n.Line)
			}
			return lines
		}
	}
	return nil
}

// ReceiptTimeout is how long to wait for SMS and voice receipts.
func (p *Playbook) ReceiptTimeoutDuration() time.Duration {
	d, _ := p.receiptTimeout()
	return d
}

func (p *Playbook) receiptTimeout() (time.Duration, error) {
	if p.ReceiptTimeout == "" {
		return 10 * time.Minute, nil
	}
	return time.ParseDuration(p.ReceiptTimeout)
}

// Facts are what rules are evaluated on, for one jurisdiction.
type Facts struct {
	Subjects    int      `json:"subjects"`
	Sensitive   int      `json:"sensitive"`
	Minors      int      `json:"minors"`
	Credentials bool     `json:"credentials"`
	Categories  []string `json:"categories"`
	Total       int      `json:"total_subjects"`
	Unreached   int      `json:"unreached"`
}

func (f Facts) vars() map[string]any {
	return map[string]any{
		"subjects": int64(f.Subjects), "sensitive": int64(f.Sensitive), "minors": int64(f.Minors),
		"credentials": f.Credentials, "categories": f.Categories, "total_subjects": int64(f.Total),
		"unreached": int64(f.Unreached),
	}
}

var env = func() *cel.Env {
	e, err := cel.NewEnv(
		cel.Variable("subjects", cel.IntType), cel.Variable("sensitive", cel.IntType),
		cel.Variable("minors", cel.IntType), cel.Variable("credentials", cel.BoolType),
		cel.Variable("categories", cel.ListType(cel.StringType)), cel.Variable("total_subjects", cel.IntType),
		cel.Variable("unreached", cel.IntType),
	)
	if err != nil {
		panic(err)
	}
	return e
}()

func compile(expr string) (cel.Program, error) {
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
	return env.Program(ast)
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

// Obligation is a duty that applies to an incident, with its due time.
type Obligation struct {
	Name         string    `json:"name"`
	Jurisdiction string    `json:"jurisdiction"`
	Audience     string    `json:"audience"`
	Regulator    string    `json:"regulator,omitempty"`
	Anchor       string    `json:"anchor"`
	AnchorAt     time.Time `json:"anchor_at"`
	DueAt        time.Time `json:"due_at"`
	Due          string    `json:"due"`
	After        string    `json:"after,omitempty"`
	Voluntary    bool      `json:"voluntary,omitempty"`
	Template     string    `json:"template,omitempty"`
	Subjects     int       `json:"subjects"`
	Why          string    `json:"why"`
	Sources      []string  `json:"sources"`
}

// Times are the clock anchors of an incident.
type Times struct {
	Awareness time.Time // detected_at
	Assessed  time.Time // when Tocsin assessed the incident notifiable
}

// Assess returns every duty whose condition holds for its jurisdiction's facts,
// in jurisdiction order, each with its own due time.
func (p *Playbook) Assess(facts map[string]Facts, t Times) ([]Obligation, error) {
	var out []Obligation
	for _, r := range p.Obligations {
		f, ok := facts[r.Jurisdiction]
		if !ok || f.Subjects == 0 {
			continue
		}
		ok, err := eval(r.AppliesWhen, f)
		if err != nil {
			return nil, fmt.Errorf("obligation %s: %w", r.Name, err)
		}
		if !ok {
			continue
		}
		anchorAt := t.Awareness
		if r.Anchor == "assessed-notifiable" {
			anchorAt = t.Assessed
		}
		due, label, _ := dueAfter(r.Due, anchorAt)
		out = append(out, Obligation{
			Name: r.Name, Jurisdiction: r.Jurisdiction, Audience: r.Audience, Regulator: r.Regulator,
			Anchor: r.Anchor, AnchorAt: anchorAt, DueAt: due, Due: label, After: r.After, Voluntary: r.Voluntary,
			Template: r.Template, Subjects: f.Subjects, Sources: r.Sources,
			Why: fmt.Sprintf("%s with subjects=%d sensitive=%d minors=%d credentials=%t", r.AppliesWhen, f.Subjects, f.Sensitive, f.Minors, f.Credentials),
		})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Jurisdiction < out[j].Jurisdiction })
	return out, nil
}

// AnnouncementDue reports whether the plan calls for a public announcement.
func (p *Playbook) AnnouncementDue(f Facts) (bool, error) {
	if p.Announcement.AppliesWhen == "" {
		return f.Unreached > 0, nil
	}
	return eval(p.Announcement.AppliesWhen, f)
}

// dueAfter turns a due expression into a time: "immediately" (due at the
// anchor), "practicable" (no fixed time: zero), "72h", "30d" (calendar days),
// or "3d-after-day" (the end of the third calendar day after the anchor's day, UTC).
func dueAfter(due string, anchor time.Time) (time.Time, string, error) {
	switch {
	case due == "immediately":
		return anchor, "immediately", nil
	case due == "practicable":
		return time.Time{}, "as soon as practicable", nil
	case strings.HasSuffix(due, "d-after-day"):
		n, err := strconv.Atoi(strings.TrimSuffix(due, "d-after-day"))
		if err != nil || n <= 0 {
			return time.Time{}, "", fmt.Errorf("%q: want N-after-day with N > 0", due)
		}
		day := time.Date(anchor.Year(), anchor.Month(), anchor.Day(), 0, 0, 0, 0, time.UTC)
		return day.AddDate(0, 0, n+1).Add(-time.Second), fmt.Sprintf("%d calendar days after the day", n), nil
	case strings.HasSuffix(due, "d"):
		n, err := strconv.Atoi(strings.TrimSuffix(due, "d"))
		if err != nil || n <= 0 {
			return time.Time{}, "", fmt.Errorf("%q: want Nd with N > 0", due)
		}
		return anchor.AddDate(0, 0, n), fmt.Sprintf("%d calendar days", n), nil
	case strings.HasSuffix(due, "h"):
		d, err := time.ParseDuration(due)
		if err != nil || d <= 0 {
			return time.Time{}, "", fmt.Errorf("%q: want a number of hours like 72h", due)
		}
		return anchor.Add(d), due, nil
	}
	return time.Time{}, "", fmt.Errorf("%q: want immediately, practicable, Nh, Nd or Nd-after-day", due)
}
