// Package playbooks holds the emergency plans as data: who to page, stage
// targets, the channel ladder, and per jurisdiction (one file each under law/)
// the duties the law imposes, with CEL conditions over the scoped facts. The
// defaults are embedded; a directory of the same layout overrides them file by
// file.
package playbooks

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tocsin/tocsin/templates"
)

//go:embed *.yaml law/*.yaml
var embedded embed.FS

// Playbook is one emergency plan.
type Playbook struct {
	Name          string      `yaml:"name"`
	DefaultLocale string      `yaml:"default_locale"`
	Responders    []Responder `yaml:"responders"`
	// WarRoom is the incident's Slack channel.
	WarRoom        WarRoom           `yaml:"war_room"`
	Targets        map[string]string `yaml:"targets"`
	Reminders      []string          `yaml:"reminders"`
	Ladder         [][]string        `yaml:"ladder"`
	ReceiptTimeout string            `yaml:"receipt_timeout"`
	// QuietHours is when nobody is phoned, in each person's local time
	// ("21:00-08:00", the default; "00:00-00:00" phones at any hour).
	QuietHours string `yaml:"quiet_hours"`
	// SMSMaxSegments is the most SMS parts a notice's text may take
	// (default 10): longer texts arrive in pieces, out of order on some
	// phones, and cost as many messages; legal cannot approve one.
	SMSMaxSegments int `yaml:"sms_max_segments"`
	// BounceWindow is how long after a rung's e-mails their bounces are
	// awaited before the rung is resolved ("2m"; "0s" awaits none).
	BounceWindow string `yaml:"bounce_window"`
	// ReturnsWindow is how long after notice, when letters went out and
	// no public announcement did, the incident stays open for returned
	// mail ("720h"; "0s" or empty closes it at once).
	ReturnsWindow string `yaml:"returns_window"`
	// VoicemailCounts says whether a call an answering machine took after
	// its beep counts as reaching the person (default true); false moves
	// them on to the next rung as if nobody answered.
	VoicemailCounts *bool        `yaml:"voicemail_counts"`
	Announcement    Announcement `yaml:"announcement"`
	// LeadAuthority names, per jurisdiction whose law files list
	// authorities (EU), the region whose authority leads for this
	// organisation (its main establishment, GDPR art. 56): reports go to
	// it, in a language it accepts.
	LeadAuthority map[string]string `yaml:"lead_authority"`
	Law           []string          `yaml:"law"`
	// Laws are the jurisdiction files named by Law, loaded.
	Laws []*Law `yaml:"-"`
	// Forms are the report forms of the playbook directory's own
	// (templates/report-NAME.tmpl) its law files name.
	Forms map[string]*templates.Form `yaml:"-"`
	File  string                     `yaml:"-"`
}

// Law is one jurisdiction's duties.
type Law struct {
	Jurisdiction string `yaml:"jurisdiction"`
	Name         string `yaml:"name"`
	// Zone is the IANA time zone the law counts days in; Holidays are the
	// public holidays (YYYY-MM-DD) its business days skip.
	Zone        string   `yaml:"zone"`
	Holidays    []string `yaml:"holidays"`
	calendar    Calendar
	Severity    *Severity `yaml:"severity"`
	Obligations []Rule    `yaml:"obligations"`
	// Authorities are the supervisory authorities of a group of regions
	// (the EU's member states), with the languages each accepts a report
	// in; the playbook's lead_authority picks the one its reports go to.
	Authorities []Authority `yaml:"authorities"`
	File        string      `yaml:"-"`
}

// Authority is one supervisory authority of a jurisdiction.
type Authority struct {
	Region string `yaml:"region"`
	Name   string `yaml:"name"`
	// NameLocal is its name in its own language, which a report in that
	// language addresses it by.
	NameLocal string `yaml:"name_local"`
	// Languages are those it accepts a report in (BCP 47), its preferred
	// first.
	Languages []string `yaml:"languages"`
}

// Authority finds the authority of a region (ok false: none listed, or no law).
func (l *Law) Authority(region string) (Authority, bool) {
	if l == nil {
		return Authority{}, false
	}
	for _, a := range l.Authorities {
		if a.Region == region {
			return a, true
		}
	}
	return Authority{}, false
}

// Severity grades an incident in one jurisdiction: the first level whose
// condition holds, moved one level up when raised_when holds.
type Severity struct {
	Levels     []Level `yaml:"levels"`
	RaisedWhen string  `yaml:"raised_when"`
	RaisedNote string  `yaml:"raised_note"`
}

// Level is one grade and when it applies.
type Level struct {
	Level string `yaml:"level"`
	When  string `yaml:"when"`
}

// WarRoom says how the incident's channel is made.
type WarRoom struct {
	// Private channels are seen only by those invited: the usual choice,
	// since the channel names the breach before anything is public.
	Private bool `yaml:"private"`
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
	Name      string `yaml:"name"`
	Audience  string `yaml:"audience"`
	Regulator string `yaml:"regulator"`
	// RegulatorLocal is the regulator's name in its own language, which its
	// report addresses it by.
	RegulatorLocal string   `yaml:"regulator_local"`
	Owner          string   `yaml:"owner"`
	AppliesWhen    string   `yaml:"applies_when"`
	Anchor         string   `yaml:"anchor"`
	Due            string   `yaml:"due"`
	Phases         []Phase  `yaml:"phases"`
	After          string   `yaml:"after"`
	With           string   `yaml:"with"`
	Content        []string `yaml:"content"`
	Methods        []string `yaml:"methods"`
	// Consent lists the methods the law accepts only from people who
	// agreed to electronic notice (consent_electronic: yes).
	Consent     []string `yaml:"consent"`
	Substitute  *Subst   `yaml:"substitute_notice"`
	LateReasons bool     `yaml:"late_reasons"`
	Voluntary   bool     `yaml:"voluntary"`
	Template    string   `yaml:"template"`
	// LawEnforcementDelay cites the law that lets a law-enforcement
	// request delay this duty (empty: none does).
	LawEnforcementDelay string   `yaml:"law_enforcement_delay"`
	Unverified          string   `yaml:"unverified"`
	Sources             []string `yaml:"sources"`
	// SourcesLocal cite the same law in the language of the regulator's
	// report.
	SourcesLocal []string `yaml:"sources_local"`

	file string
	line int
	// templateLine is set when Template names a form of the operator's own.
	templateLine int
}

// Phase is one report of a phased duty (initial, final...), with its own due time.
type Phase struct {
	Name    string   `yaml:"name"`
	Due     string   `yaml:"due"`
	Content []string `yaml:"content"`
}

// Subst is when and how a public or substitute notice replaces individual notice.
type Subst struct {
	When    string   `yaml:"when"`
	Methods []string `yaml:"methods"`
	Note    string   `yaml:"note"`
}

// Milestones are the stages a target may be set for, in the order they happen.
var Milestones = []string{"scoped", "assessed", "drafted", "approved", "notified", "closed"}

var (
	audiences = []string{"regulator", "individuals", "media", "credit_bureaus", "police"}
	anchors   = []string{"awareness", "discovery", "determination", "assessed-notifiable"}
	// ContentFields are the facts a report or notice can be required to state.
	ContentFields = []string{"description", "cause", "occurred_at", "detected_at", "categories", "subjects", "regions", "impact",
		"measures", "advice", "remedies", "contact", "dpo_contact", "organisation", "reporter"}
	methods = []string{"portal", "email", "phone", "mail", "letter", "push", "onsite", "sms", "voice", "announcement", "website", "media",
		"social_media", "press_release", "toll_free_number", "inquiry_desk"}
)

// source reads a playbook file from the user's directory when it has it,
// else from the built-in defaults.
type source struct{ dir string }

func (s source) read(name string) (string, []byte, error) {
	if s.dir != "" {
		p := filepath.Join(s.dir, filepath.FromSlash(name))
		data, err := os.ReadFile(p)
		if err == nil {
			return p, data, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return p, nil, err
		}
	}
	data, err := embedded.ReadFile(name)
	if err != nil {
		where := "the built-in playbooks"
		if s.dir != "" {
			where = fmt.Sprintf("%q or the built-in playbooks", s.dir)
		}
		return "", nil, fmt.Errorf("%s not found in %s", name, where)
	}
	return "playbooks/" + name, data, nil
}

// Load finds a playbook by name, with its law files: each file from dir when
// it has one, else the embedded default.
func Load(dir, name string) (*Playbook, error) {
	if name == "" {
		name = "default"
	}
	if !ValidName(name) {
		return nil, fmt.Errorf("playbook %q: a playbook is named by letters, digits, '-' and '_' (the file playbooks/NAME.yaml)", name)
	}
	src := source{dir}
	file, data, err := src.read(name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("playbook %q: %w", name, err)
	}
	var errs lintErrors
	p := parsePlaybook(file, data, &errs)
	if p != nil {
		for i, code := range p.Law {
			lf, ldata, err := src.read(path.Join("law", code+".yaml"))
			if err != nil {
				errs.add(file, p.lawLines[i], "law", err.Error())
				continue
			}
			if l := parseLaw(lf, ldata, &errs); l != nil {
				p.Laws = append(p.Laws, l)
				p.loadForms(src, l, &errs)
			}
		}
		p.checkAcrossFiles(&errs)
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return &p.Playbook, nil
}

// loadForms reads the operator's report forms a law file names.
func (p *parsedPlaybook) loadForms(src source, l *Law, errs *lintErrors) {
	for _, r := range l.Obligations {
		if r.templateLine == 0 || p.Forms[r.Template] != nil {
			continue
		}
		file, data, err := src.read(path.Join("templates", r.Template+".tmpl"))
		if err != nil {
			errs.add(r.file, r.templateLine, "template", err.Error())
			continue
		}
		f, err := templates.NewForm(r.Template, string(data))
		if err != nil {
			errs.add(file, templateLine(err), "", err.Error())
			continue
		}
		if p.Forms == nil {
			p.Forms = map[string]*templates.Form{}
		}
		p.Forms[r.Template] = f
	}
}

var templateErrLine = regexp.MustCompile(`template: [^:]+:(\d+):`)

// templateLine is the line a text/template error names, else 1.
func templateLine(err error) int {
	line := 1
	if m := templateErrLine.FindStringSubmatch(err.Error()); m != nil {
		fmt.Sscan(m[1], &line)
	}
	return line
}

var playbookName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// ValidName says whether name can name a playbook file: no path, so
// an incident file cannot reach outside the playbook directory.
func ValidName(name string) bool { return playbookName.MatchString(name) }

// Names lists the playbooks available: the built-in ones and those in dir.
func Names(dir string) ([]string, error) {
	seen := map[string]bool{}
	entries, _ := fs.ReadDir(embedded, ".")
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			seen[n] = true
		}
	}
	if dir != "" {
		des, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		for _, e := range des {
			if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok && !e.IsDir() {
				seen[n] = true
			}
		}
	}
	var out []string
	for n := range seen {
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}

// DefaultSMSMaxSegments is sms_max_segments when a playbook sets none.
const DefaultSMSMaxSegments = 10

// MaxSMSSegments is the most Twilio carries: 1,600 characters are at most
// 11 GSM-7 or 24 UCS-2 parts.
const MaxSMSSegments = 24

// SMSLimit is the playbook's sms_max_segments, or the default.
func (p *Playbook) SMSLimit() int {
	if p.SMSMaxSegments > 0 {
		return p.SMSMaxSegments
	}
	return DefaultSMSMaxSegments
}

// NoVoicemail says whether voicemail does not count as reaching a person.
func (p *Playbook) NoVoicemail() bool { return p.VoicemailCounts != nil && !*p.VoicemailCounts }

// BounceWindowDuration is how long to await e-mail bounces (0: none).
func (p *Playbook) BounceWindowDuration() time.Duration {
	d, _ := p.bounceWindow()
	return d
}

func (p *Playbook) bounceWindow() (time.Duration, error) {
	if p.BounceWindow == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(p.BounceWindow)
	if err == nil && (d < 0 || d > time.Hour) {
		err = fmt.Errorf("%s is not from 0s to 1h", p.BounceWindow)
	}
	return d, err
}

// MaxReturnsWindow bounds returns_window: returned mail comes back within
// weeks, and an incident should not stay open for a season.
const MaxReturnsWindow = 90 * 24 * time.Hour

// ReturnsWindowDuration is how long to await returned letters (0: none).
func (p *Playbook) ReturnsWindowDuration() time.Duration {
	d, _ := p.returnsWindow()
	return d
}

func (p *Playbook) returnsWindow() (time.Duration, error) {
	if p.ReturnsWindow == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(p.ReturnsWindow)
	if err == nil && (d < 0 || d > MaxReturnsWindow) {
		err = fmt.Errorf("%s is not from 0s to 2160h (90 days)", p.ReturnsWindow)
	}
	return d, err
}

// ReceiptTimeoutDuration is how long to wait for SMS and voice receipts.
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

// Quiet is a daily span of local time, which may wrap past midnight.
type Quiet struct {
	From, To time.Duration // since local midnight
}

// QuietSpan parses quiet_hours.
func (p *Playbook) QuietSpan() (Quiet, error) {
	s := p.QuietHours
	if s == "" {
		s = "21:00-08:00"
	}
	from, to, ok := strings.Cut(s, "-")
	f, err1 := time.Parse("15:04", strings.TrimSpace(from))
	t, err2 := time.Parse("15:04", strings.TrimSpace(to))
	if !ok || err1 != nil || err2 != nil {
		return Quiet{}, fmt.Errorf("%q is not a span of local time like 21:00-08:00", s)
	}
	midnight := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	return Quiet{From: f.Sub(midnight), To: t.Sub(midnight)}, nil
}

// Until says whether t falls in the quiet span and, if so, when it ends (in t's zone).
func (q Quiet) Until(t time.Time) (time.Time, bool) {
	if q.From == q.To {
		return t, false
	}
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	since := t.Sub(day)
	switch {
	case q.From < q.To && since >= q.From && since < q.To:
		return day.Add(q.To), true
	case q.From > q.To && since >= q.From:
		return day.AddDate(0, 0, 1).Add(q.To), true
	case q.From > q.To && since < q.To:
		return day.Add(q.To), true
	}
	return t, false
}

// ParseTarget reads a stage target: a Go duration or a number of days ("2d").
func ParseTarget(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := time.ParseDuration(n + "h")
		return d * 24, err
	}
	return time.ParseDuration(s)
}

// ReminderTimes are when to remind the owner of an obligation before it falls
// due, in order; none for an obligation without a fixed due time.
func (p *Playbook) ReminderTimes(o Obligation) []time.Time {
	if o.DueAt.IsZero() || !o.DueAt.After(o.AnchorAt) {
		return nil
	}
	spec := p.Reminders
	if spec == nil {
		spec = []string{"half", "1h"}
	}
	var out []time.Time
	for _, r := range spec {
		var at time.Time
		if r == "half" {
			at = o.AnchorAt.Add(o.DueAt.Sub(o.AnchorAt) / 2)
		} else {
			d, err := ParseTarget(r)
			if err != nil {
				continue
			}
			at = o.DueAt.Add(-d)
		}
		if at.After(o.AnchorAt) && at.Before(o.DueAt) && !slices.ContainsFunc(out, at.Equal) {
			out = append(out, at)
		}
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}

// Embedded returns a built-in playbook file ("default.yaml", "law/cn.yaml"),
// for tools that write a variant of it into an override directory.
func Embedded(name string) ([]byte, error) { return embedded.ReadFile(name) }

// WriteAnyHourDefault writes the default playbook into dir with quiet hours
// off, for tests and benchmarks whose outcome includes calls at whatever hour
// they run (quiet hours have their own tests).
func WriteAnyHourDefault(dir string) error {
	data, err := Embedded("default.yaml")
	if err != nil {
		return err
	}
	re := regexp.MustCompile(`(?m)^quiet_hours: .*$`)
	if !re.Match(data) {
		return errors.New("the default playbook sets no quiet_hours")
	}
	data = re.ReplaceAll(data, []byte(`quiet_hours: "00:00-00:00"`))
	// The dev SMTP peer bounces within seconds; a test need not wait minutes.
	data = regexp.MustCompile(`(?m)^bounce_window: .*$`).ReplaceAll(data, []byte(`bounce_window: 5s`))
	return os.WriteFile(filepath.Join(dir, "default.yaml"), data, 0o644)
}

// LongestDuty is the longest time any duty of the playbook allows from its
// anchor, counted from "from" (business days and year ends make it depend
// on the day), with the duty's name: an incident's workflow must outlive
// it, so the Temporal namespace's retention must too.
func (p *Playbook) LongestDuty(from time.Time) (time.Duration, string) {
	var longest time.Duration
	var name string
	consider := func(due string, cal Calendar, what string) {
		at, _, err := dueAfter(due, from, cal)
		if err == nil && !at.IsZero() && at.Sub(from) > longest {
			longest, name = at.Sub(from), what
		}
	}
	for _, l := range p.Laws {
		for _, r := range l.Obligations {
			if r.Due != "" {
				consider(r.Due, l.calendar, r.Name)
			}
			for _, ph := range r.Phases {
				consider(ph.Due, l.calendar, r.Name+"/"+ph.Name)
			}
		}
	}
	return longest, name
}

// Check loads every playbook in dir and the built-in ones it does not
// override, with their law files: a server or worker refuses to start on
// a playbook that cannot load, rather than accept incidents that would
// stop at their first step.
func Check(dir string) error {
	names, err := Names(dir)
	if err != nil {
		return fmt.Errorf("playbooks %q: %w", dir, err)
	}
	var msgs []string
	for _, n := range names {
		if _, err := Load(dir, n); err != nil {
			msgs = append(msgs, err.Error())
		}
	}
	if len(msgs) > 0 {
		return fmt.Errorf("playbooks cannot load (tocsin playbook lint shows the same):\n%s", strings.Join(msgs, "\n"))
	}
	return nil
}
