package playbooks

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tocsin/tocsin/internal/channel"
	"github.com/tocsin/tocsin/internal/inventory"
	"github.com/tocsin/tocsin/templates"
)

// lintErrors collects every problem of a playbook and its law files, each as
// file:line: field: reason, so one lint run shows them all.
type lintErrors struct{ list []lintError }

type lintError struct {
	file  string
	line  int
	field string
	msg   string
}

func (e *lintErrors) add(file string, line int, field, msg string) {
	e.list = append(e.list, lintError{file, line, field, msg})
}

func (e *lintErrors) err() error {
	if len(e.list) == 0 {
		return nil
	}
	sort.SliceStable(e.list, func(i, j int) bool {
		if e.list[i].file != e.list[j].file {
			return e.list[i].file < e.list[j].file
		}
		return e.list[i].line < e.list[j].line
	})
	var b strings.Builder
	for i, l := range e.list {
		if i > 0 {
			b.WriteByte('\n')
		}
		if l.field == "" {
			fmt.Fprintf(&b, "%s:%d: %s", l.file, l.line, l.msg)
		} else {
			fmt.Fprintf(&b, "%s:%d: %s: %s", l.file, l.line, l.field, l.msg)
		}
	}
	return errors.New(b.String())
}

type parsedPlaybook struct {
	Playbook
	lawLines []int
	leadLine int
}

var (
	yamlLine    = regexp.MustCompile(`^line (\d+): (.*)$`)
	lawFileName = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	// jurisdictionCode is an ISO 3166 region (NZ, US-CA) or a name for a
	// group of regions the law covers together (EU, US-HIPAA).
	formName         = regexp.MustCompile(`^(report|notice)-[a-z0-9][a-z0-9-]*$`)
	jurisdictionCode = regexp.MustCompile(`^[A-Z]{2}(-[A-Z0-9]{1,8})?$`)
	languageTag      = regexp.MustCompile(`^[a-z]{2,3}(-[A-Z][a-z]{3})?(-[A-Z]{2})?$`)
)

// decode reads YAML strictly (an unknown field is an error: a typo in "due"
// would silently drop a deadline) and reports decoding errors by line.
func decode(file string, data []byte, out any, errs *lintErrors) (*yaml.Node, bool) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 1
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			fmt.Sscan(m[1], &line)
			msg = m[2]
		}
		errs.add(file, line, "", msg)
		return nil, false
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		errs.add(file, 1, "", "must be a YAML mapping of fields")
		return nil, false
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, e := range te.Errors {
				line := 1
				if m := yamlLine.FindStringSubmatch(e); m != nil {
					fmt.Sscan(m[1], &line)
					e = m[2]
				}
				errs.add(file, line, "", e)
			}
		} else {
			errs.add(file, 1, "", strings.TrimPrefix(err.Error(), "yaml: "))
		}
		return nil, false
	}
	return root.Content[0], true
}

// fieldLines maps each key of a YAML mapping to its line.
func fieldLines(m *yaml.Node) map[string]int {
	out := map[string]int{}
	if m == nil || m.Kind != yaml.MappingNode {
		return out
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		out[m.Content[i].Value] = m.Content[i].Line
	}
	out[""] = m.Line
	return out
}

func child(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func items(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

func lineOf(lines map[string]int, field string) int {
	if l, ok := lines[field]; ok {
		return l
	}
	return lines[""]
}

func parsePlaybook(file string, data []byte, errs *lintErrors) *parsedPlaybook {
	var p parsedPlaybook
	root, ok := decode(file, data, &p.Playbook, errs)
	if !ok {
		return nil
	}
	p.File = file
	lines := fieldLines(root)
	bad := func(field, msg string) { errs.add(file, lineOf(lines, field), field, msg) }
	if p.Name == "" {
		bad("name", "required")
	}
	if p.DefaultLocale == "" {
		p.DefaultLocale = "en"
	}
	for _, r := range p.Responders {
		if r.Role == "" {
			bad("responders", "every responder needs a role")
		}
	}
	for m, v := range p.Targets {
		if !slices.Contains(Milestones, m) {
			bad("targets", fmt.Sprintf("%q is not a milestone (%s)", m, strings.Join(Milestones, ", ")))
		}
		if d, err := ParseTarget(v); err != nil || d <= 0 {
			bad("targets", fmt.Sprintf("%s: %q is not a duration like 2h or 3d", m, v))
		}
	}
	for _, r := range p.Reminders {
		if d, err := ParseTarget(r); r != "half" && (err != nil || d <= 0) {
			bad("reminders", fmt.Sprintf("%q: want half or a duration before the due time, like 1h", r))
		}
	}
	if len(p.Ladder) == 0 {
		bad("ladder", "at least one rung is required")
	}
	for _, rung := range p.Ladder {
		for _, ch := range rung {
			if _, ok := channel.Lookup(ch); !ok {
				bad("ladder", fmt.Sprintf("unknown channel %q (%s)", ch, strings.Join(channel.Names(), ", ")))
			}
		}
	}
	if _, err := p.receiptTimeout(); err != nil {
		bad("receipt_timeout", err.Error())
	}
	if _, err := p.QuietSpan(); err != nil {
		bad("quiet_hours", err.Error())
	}
	if _, err := p.bounceWindow(); err != nil {
		bad("bounce_window", err.Error())
	}
	if _, err := p.returnsWindow(); err != nil {
		bad("returns_window", err.Error())
	}
	if p.SMSMaxSegments < 0 || p.SMSMaxSegments > MaxSMSSegments {
		bad("sms_max_segments", fmt.Sprintf("%d is not from 1 to %d (Twilio carries 1,600 characters: 11 GSM-7 or 24 UCS-2 segments)", p.SMSMaxSegments, MaxSMSSegments))
	}
	if p.Announcement.AppliesWhen != "" {
		if _, err := compile(p.Announcement.AppliesWhen); err != nil {
			errs.add(file, lineOf(fieldLines(child(root, "announcement")), "applies_when"), "announcement.applies_when", err.Error())
		}
	}
	p.leadLine = lineOf(lines, "lead_authority")
	lawNode := items(child(root, "law"))
	for i, code := range p.Law {
		line := lineOf(lines, "law")
		if i < len(lawNode) {
			line = lawNode[i].Line
		}
		p.lawLines = append(p.lawLines, line)
		if !lawFileName.MatchString(code) {
			errs.add(file, line, "law", fmt.Sprintf("%q is not a law file name (like cn or us-ca)", code))
		}
	}
	return &p
}

func parseLaw(file string, data []byte, errs *lintErrors) *Law {
	var l Law
	root, ok := decode(file, data, &l, errs)
	if !ok {
		return nil
	}
	l.File = file
	lines := fieldLines(root)
	if !jurisdictionCode.MatchString(l.Jurisdiction) {
		errs.add(file, lineOf(lines, "jurisdiction"), "jurisdiction", fmt.Sprintf("%q is not a jurisdiction code: a region of residence (NZ, US-CA, AU-NSW) or a group of them (EU, US-HIPAA)", l.Jurisdiction))
	}
	if l.Zone == "" {
		// A country or subdivision counts days where its people live; a
		// group of them (EU) must say where, or its days would end in UTC.
		if z, ok := inventory.ZoneName(l.Jurisdiction); ok && inventory.ValidRegion(l.Jurisdiction) {
			l.Zone = z
		} else {
			errs.add(file, lineOf(lines, "jurisdiction"), "zone", fmt.Sprintf("required: %q is not a region whose time zone is known, so say in which zone its law counts days (an IANA name like Europe/Brussels)", l.Jurisdiction))
		}
	}
	// Each bad date is named with its own line; the calendar is built from
	// the good ones, so NewCalendar can fail only on the zone.
	var holidays []string
	for i, h := range l.Holidays {
		if _, err := time.Parse(time.DateOnly, h); err != nil {
			line := lineOf(lines, "holidays")
			if hn := items(child(root, "holidays")); i < len(hn) {
				line = hn[i].Line
			}
			errs.add(file, line, "holidays", fmt.Sprintf("%q: want a date as YYYY-MM-DD", h))
			continue
		}
		holidays = append(holidays, h)
	}
	if cal, err := NewCalendar(l.Zone, holidays); err != nil {
		errs.add(file, lineOf(lines, "zone"), "zone", err.Error())
	} else {
		l.calendar = cal
	}
	if l.Severity != nil {
		sn := child(root, "severity")
		levels := items(child(sn, "levels"))
		for i, lv := range l.Severity.Levels {
			ll := fieldLines(nil)
			if i < len(levels) {
				ll = fieldLines(levels[i])
			}
			if lv.Level == "" {
				errs.add(file, lineOf(ll, "level"), "severity.level", "required")
			}
			if _, err := compile(lv.When); err != nil {
				errs.add(file, lineOf(ll, "when"), "severity.when", err.Error())
			}
		}
		if l.Severity.RaisedWhen != "" {
			if _, err := compile(l.Severity.RaisedWhen); err != nil {
				errs.add(file, lineOf(fieldLines(sn), "raised_when"), "severity.raised_when", err.Error())
			}
		}
	}
	authorities := items(child(root, "authorities"))
	for i, a := range l.Authorities {
		al := fieldLines(nodesAt(authorities, i))
		bad := func(field, msg string) { errs.add(file, lineOf(al, field), "authorities."+field, msg) }
		if !inventory.ValidRegion(a.Region) {
			bad("region", fmt.Sprintf("%q is not an ISO 3166 region code", a.Region))
		}
		if a.Name == "" {
			bad("name", "required")
		}
		if len(a.Languages) == 0 {
			bad("languages", "list at least one language the authority accepts a report in")
		}
		for _, tag := range a.Languages {
			if !languageTag.MatchString(tag) {
				bad("languages", fmt.Sprintf("%q is not a language tag like de, fr or pt-PT", tag))
			}
		}
	}
	nodes := items(child(root, "obligations"))
	if len(l.Obligations) == 0 {
		errs.add(file, lineOf(lines, "obligations"), "obligations", "a law file lists at least one obligation")
	}
	for i := range l.Obligations {
		r := &l.Obligations[i]
		r.file = file
		rl := map[string]int{"": lineOf(lines, "obligations")}
		if i < len(nodes) {
			rl = fieldLines(nodes[i])
		}
		r.line = rl[""]
		checkRule(r, rl, child(nodesAt(nodes, i), "phases"), errs)
	}
	return &l
}

func nodesAt(nodes []*yaml.Node, i int) *yaml.Node {
	if i < len(nodes) {
		return nodes[i]
	}
	return nil
}

func checkRule(r *Rule, lines map[string]int, phases *yaml.Node, errs *lintErrors) {
	bad := func(field, msg string) { errs.add(r.file, lineOf(lines, field), field, msg) }
	if r.Name == "" {
		bad("name", "required")
	}
	if !slices.Contains(audiences, r.Audience) {
		bad("audience", fmt.Sprintf("%q is not one of %s", r.Audience, strings.Join(audiences, ", ")))
	}
	if !slices.Contains(anchors, r.Anchor) {
		bad("anchor", fmt.Sprintf("%q is not one of %s", r.Anchor, strings.Join(anchors, ", ")))
	}
	switch {
	case len(r.Phases) == 0 && r.Due == "":
		bad("due", "required (or phases, each with its own due)")
	case len(r.Phases) > 0 && r.Due != "":
		bad("due", "a phased duty sets due per phase, not here")
	case r.Due != "":
		if _, _, err := dueAfter(r.Due, time.Time{}, Calendar{}); err != nil {
			bad("due", err.Error())
		}
	}
	pn := items(phases)
	seen := map[string]bool{}
	for i, ph := range r.Phases {
		pl := map[string]int{"": lineOf(lines, "phases")}
		if i < len(pn) {
			pl = fieldLines(pn[i])
		}
		if ph.Name == "" || seen[ph.Name] {
			errs.add(r.file, lineOf(pl, "name"), "phases.name", fmt.Sprintf("%q must be present and unique", ph.Name))
		}
		seen[ph.Name] = true
		if _, _, err := dueAfter(ph.Due, time.Time{}, Calendar{}); err != nil {
			errs.add(r.file, lineOf(pl, "due"), "phases.due", err.Error())
		}
		for _, c := range ph.Content {
			if !slices.Contains(ContentFields, c) {
				errs.add(r.file, lineOf(pl, "content"), "phases.content", fmt.Sprintf("%q is not a content field (%s)", c, strings.Join(ContentFields, ", ")))
			}
		}
	}
	if _, err := compile(r.AppliesWhen); err != nil {
		bad("applies_when", err.Error())
	}
	if r.Template != "" {
		switch {
		case !slices.Contains(templates.Names(), r.Template) && !formName.MatchString(r.Template):
			bad("template", fmt.Sprintf("%q is not a template (%s) nor a form of your own (report-NAME or notice-NAME, in templates/NAME.tmpl)", r.Template, strings.Join(templates.Names(), ", ")))
		case !slices.Contains(templates.Names(), r.Template) && templates.IsNoticeForm(r.Template) != (r.Audience == "individuals"):
			bad("template", fmt.Sprintf("%q is a form of your own for %s; this duty's audience is %s", r.Template, map[bool]string{true: "individuals (notice-NAME)", false: "a regulator (report-NAME)"}[templates.IsNoticeForm(r.Template)], r.Audience))
		case !slices.Contains(templates.Names(), r.Template):
			r.templateLine = lineOf(lines, "template") // the playbook directory's own form, read by Load
		case templates.IsNotice(r.Template) != (r.Audience == "individuals"):
			bad("template", fmt.Sprintf("%q is a %s; this duty's audience is %s", r.Template, map[bool]string{true: "notice to individuals", false: "report form"}[templates.IsNotice(r.Template)], r.Audience))
		}
	}
	for _, c := range r.Content {
		if !slices.Contains(ContentFields, c) {
			bad("content", fmt.Sprintf("%q is not a content field (%s)", c, strings.Join(ContentFields, ", ")))
		}
	}
	if len(r.Methods) == 0 {
		bad("methods", "say how the duty is met (portal, email, phone, mail, onsite, sms, voice...)")
	}
	for _, m := range r.Methods {
		if !slices.Contains(methods, m) {
			bad("methods", fmt.Sprintf("%q is not one of %s", m, strings.Join(methods, ", ")))
		}
	}
	if r.Audience == "individuals" && len(r.Methods) > 0 && !slices.ContainsFunc(r.Methods, func(m string) bool { _, ok := ChannelOf(m); return ok }) {
		bad("methods", "a duty to individuals names at least one channel that reaches a person (onsite, email, sms, voice, push, letter; mail and phone are letter and voice)")
	}
	for _, m := range r.Consent {
		if !slices.Contains(r.Methods, m) {
			bad("consent", fmt.Sprintf("%q is not one of this duty's methods (%s)", m, strings.Join(r.Methods, ", ")))
		}
	}
	if s := r.Substitute; s != nil {
		if _, err := compile(s.When); err != nil {
			bad("substitute_notice", "when: "+err.Error())
		}
		if len(s.Methods) == 0 {
			bad("substitute_notice", "methods: at least one")
		}
		for _, m := range s.Methods {
			if !slices.Contains(methods, m) {
				bad("substitute_notice", fmt.Sprintf("methods: %q is not one of %s", m, strings.Join(methods, ", ")))
			}
		}
	}
	if r.After != "" && r.With != "" {
		bad("with", "a duty is either after another or with it, not both")
	}
	if len(r.Sources) == 0 {
		bad("sources", "every duty must cite its source")
	}
}

// checkAcrossFiles checks what one file cannot: unique names, references
// between duties, owners among the paged roles, one file per jurisdiction.
func (p *parsedPlaybook) checkAcrossFiles(errs *lintErrors) {
	rules := map[string]*Rule{}
	roles := map[string]bool{}
	for _, r := range p.Responders {
		roles[r.Role] = true
	}
	for j, region := range p.LeadAuthority {
		var law *Law
		for _, l := range p.Laws {
			if l.Jurisdiction == j {
				law = l
			}
		}
		switch _, ok := law.Authority(region); {
		case law == nil:
			errs.add(p.File, p.leadLine, "lead_authority", fmt.Sprintf("%s: no law file of this playbook covers %s", j, j))
		case len(law.Authorities) == 0:
			errs.add(p.File, p.leadLine, "lead_authority", fmt.Sprintf("%s: %s lists no authorities", j, law.File))
		case !ok:
			errs.add(p.File, p.leadLine, "lead_authority", fmt.Sprintf("%s: %q is not a region with an authority in %s", j, region, law.File))
		}
	}
	seenJ := map[string]string{}
	for _, l := range p.Laws {
		if prev, ok := seenJ[l.Jurisdiction]; ok && l.Jurisdiction != "" {
			errs.add(l.File, 1, "jurisdiction", fmt.Sprintf("%s is also covered by %s; one file per jurisdiction", l.Jurisdiction, prev))
		}
		seenJ[l.Jurisdiction] = l.File
		for i := range l.Obligations {
			r := &l.Obligations[i]
			if r.Name == "" {
				continue
			}
			if prev, ok := rules[r.Name]; ok {
				errs.add(r.file, r.line, "name", fmt.Sprintf("%q is already used at %s:%d", r.Name, prev.file, prev.line))
				continue
			}
			rules[r.Name] = r
		}
	}
	for _, l := range p.Laws {
		for i := range l.Obligations {
			r := &l.Obligations[i]
			for field, ref := range map[string]string{"after": r.After, "with": r.With} {
				if ref != "" && rules[ref] == nil {
					errs.add(r.file, r.line, field, fmt.Sprintf("no obligation named %q", ref))
				}
			}
			if r.Owner != "" && len(roles) > 0 && !roles[r.Owner] {
				errs.add(r.file, r.line, "owner", fmt.Sprintf("%q is not a role the playbook pages (%s)", r.Owner, strings.Join(sortedKeys(roles), ", ")))
			}
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Lint loads a playbook and every law file it names, returning all problems.
func Lint(dir, name string) error {
	_, err := Load(dir, name)
	return err
}
