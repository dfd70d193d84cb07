// Package incident defines the incident file a responder writes (DESIGN section 4)
// and checks it, naming the line of every bad field.
package incident

import (
	"bytes"
	"cmp"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tocsin/tocsin/internal/inventory"
	"github.com/tocsin/tocsin/playbooks"
	"github.com/tocsin/tocsin/templates"
)

// Spec is what a responder knows when opening an incident.
type Spec struct {
	Title      string    `yaml:"title" json:"title"`
	Kind       string    `yaml:"kind" json:"kind"`
	DetectedAt time.Time `yaml:"detected_at" json:"detected_at"`
	// DiscoveredAt and DeterminedAt are the anchors some laws count from
	// (US states, HIPAA: discovery; Texas: determination); unset, they are
	// detected_at.
	DiscoveredAt time.Time `yaml:"discovered_at" json:"discovered_at,omitempty"`
	DeterminedAt time.Time `yaml:"determined_at" json:"determined_at,omitempty"`
	OccurredFrom time.Time `yaml:"occurred_from" json:"occurred_from,omitempty"`
	OccurredTo   time.Time `yaml:"occurred_to" json:"occurred_to,omitempty"`
	Systems      []string  `yaml:"systems" json:"systems"`
	Categories   []string  `yaml:"categories" json:"categories,omitempty"`
	// Regions narrows the scope to residents of these regions (ISO 3166-1 or
	// 3166-2; a country also matches its subdivisions).
	Regions     []string `yaml:"regions" json:"regions,omitempty"`
	Description string   `yaml:"description" json:"description"`
	Impact      string   `yaml:"impact" json:"impact,omitempty"`
	Measures    string   `yaml:"measures" json:"measures"`
	Advice      string   `yaml:"advice" json:"advice"`
	Remedies    string   `yaml:"remedies" json:"remedies"`
	Contact     string   `yaml:"contact" json:"contact"`
	Playbook    string   `yaml:"playbook" json:"playbook"`
	Drill       bool     `yaml:"drill" json:"drill"`
	// HealthData flags protected health information (HIPAA applies);
	// CriticalInfrastructure flags a critical-information-infrastructure
	// operator (shorter CAC deadlines).
	HealthData             bool `yaml:"health_data" json:"health_data,omitempty"`
	CriticalInfrastructure bool `yaml:"critical_infrastructure" json:"critical_infrastructure,omitempty"`
	// Facts are what reports must state beyond the fields above: cause,
	// organisation, reporter, dpo_contact. Responders add them as they learn.
	Facts map[string]string `yaml:"facts" json:"facts,omitempty"`
	// Translations are the incident's texts in the languages its notices
	// are read in, by notice locale (ja, de, ...): each of
	// TranslatableKeys. A notice quoting a text with no translation into
	// its language is flagged for legal.
	Translations map[string]map[string]string `yaml:"translations" json:"translations,omitempty"`
	// RestrictedTo makes the incident visible only to these identities (and
	// whoever opened it): an insider case, or one involving an executive.
	RestrictedTo []string `yaml:"restricted_to" json:"restricted_to,omitempty"`
	// Inquiry is read from the file into Facts (see InquiryDesk).
	Inquiry *InquiryDesk `yaml:"inquiry" json:"-"`
}

// TranslatableKeys are the texts notices and reports quote as written,
// which a reader of another language needs translated.
var TranslatableKeys = templates.TranslatableKeys

// CheckDeskFact says what is wrong with an inquiry desk fact: too long,
// or a URL that is not an absolute http(s) address a reader can open.
func CheckDeskFact(key, v string) error {
	if !strings.HasPrefix(key, "inquiry_") {
		return nil
	}
	if len(v) > maxDeskField {
		return fmt.Errorf("%s: at most %d bytes", key, maxDeskField)
	}
	if key == "inquiry_url" && v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("%s %q: want an address such as https://help.example.com", key, v)
		}
	}
	return nil
}

// CheckTranslation says what is wrong with a translation of key into
// locale: a language Tocsin has no notice in, English (the incident's own
// text), or a text notices do not quote.
func CheckTranslation(locale, key string) error {
	if !slices.Contains(templates.NoticeLocales, locale) || locale == "en" {
		return fmt.Errorf("%q is not a language notices are written in besides English (%s)", locale, strings.Join(templates.NoticeLocales[1:], ", "))
	}
	if !slices.Contains(TranslatableKeys, key) {
		return fmt.Errorf("%q is not a text notices quote (%s)", key, strings.Join(TranslatableKeys, ", "))
	}
	return nil
}

// FactKeys are the free facts an incident can carry for its reports.
var FactKeys = []string{"cause", "organisation", "reporter", "dpo_contact", "inquiry_phone", "inquiry_hours", "inquiry_url"}

// InquiryDesk is where affected people call or write with questions: a
// substitute notice must name one in Japan, a toll-free number under
// HIPAA. The incident file's inquiry: is kept as the facts inquiry_phone,
// inquiry_hours and inquiry_url, which responders may change later.
type InquiryDesk struct {
	Phone string `yaml:"phone"`
	Hours string `yaml:"hours"`
	URL   string `yaml:"url"`
}

// maxDeskField bounds each of the desk's fields.
const maxDeskField = 200

var kinds = map[string]bool{"unauthorized-access": true, "ransomware": true, "loss": true, "misdelivery": true, "insider": true, "other": true}

var systemID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Parse reads an incident file. Unknown fields are errors, because a typo in
// "detected_at" would silently move every legal deadline.
func Parse(file string, data []byte) (Spec, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return Spec{}, fmt.Errorf("%s: %s", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return Spec{}, fmt.Errorf("%s:1: the incident must be a YAML mapping of fields", file)
	}
	lines := map[string]int{}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		lines[m.Content[i].Value] = m.Content[i].Line
	}
	var spec Spec
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&spec); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		msg = strings.TrimPrefix(msg, "unmarshal errors:\n  ")
		return Spec{}, fmt.Errorf("%s: %s", file, msg)
	}
	line := func(field string) int {
		if l, ok := lines[field]; ok {
			return l
		}
		return 1
	}
	var errs []string
	bad := func(field, reason string) {
		errs = append(errs, fmt.Sprintf("%s:%d: %s: %s", file, line(field), field, reason))
	}
	if strings.TrimSpace(spec.Title) == "" {
		bad("title", "required")
	}
	if spec.Kind == "" {
		spec.Kind = "other"
	} else if !kinds[spec.Kind] {
		bad("kind", fmt.Sprintf("%q is not one of unauthorized-access, ransomware, loss, misdelivery, insider, other", spec.Kind))
	}
	if spec.DetectedAt.IsZero() {
		bad("detected_at", "required: when the company became aware, as RFC 3339 (2026-11-20T08:00:00Z); every deadline runs from it")
	}
	if !spec.OccurredFrom.IsZero() && !spec.OccurredTo.IsZero() && spec.OccurredTo.Before(spec.OccurredFrom) {
		bad("occurred_to", "is before occurred_from")
	}
	for field, at := range map[string]time.Time{"discovered_at": spec.DiscoveredAt, "determined_at": spec.DeterminedAt} {
		if !at.IsZero() && !spec.DetectedAt.IsZero() && at.Before(spec.DetectedAt.Add(-365*24*time.Hour)) {
			bad(field, "is more than a year before detected_at; check the date")
		}
	}
	for k := range spec.Facts {
		if !slices.Contains(FactKeys, k) {
			bad("facts", fmt.Sprintf("%q is not a fact reports use (%s)", k, strings.Join(FactKeys, ", ")))
		}
	}
	if d := spec.Inquiry; d != nil {
		if spec.Facts == nil {
			spec.Facts = map[string]string{}
		}
		for key, v := range map[string]string{"inquiry_phone": d.Phone, "inquiry_hours": d.Hours, "inquiry_url": d.URL} {
			v = strings.TrimSpace(v)
			if err := CheckDeskFact(key, v); err != nil {
				bad("inquiry", err.Error())
			} else if v != "" {
				spec.Facts[key] = v
			}
		}
		if strings.TrimSpace(d.Phone) == "" && strings.TrimSpace(d.URL) == "" {
			bad("inquiry", "give the desk's phone, its url, or both")
		}
		spec.Inquiry = nil
	}
	if len(spec.Systems) == 0 {
		bad("systems", "at least one system ID is required")
	}
	for _, s := range spec.Systems {
		if !systemID.MatchString(s) {
			bad("systems", fmt.Sprintf("%q is not a system ID", s))
		}
	}
	for i, r := range spec.Regions {
		spec.Regions[i] = strings.ToUpper(strings.TrimSpace(r))
		if !inventory.ValidRegion(spec.Regions[i]) {
			bad("regions", fmt.Sprintf("%q is not an ISO 3166-1 or 3166-2 region code", r))
		}
	}
	for field, v := range map[string]string{"description": spec.Description, "measures": spec.Measures, "advice": spec.Advice, "contact": spec.Contact} {
		if strings.TrimSpace(v) == "" {
			bad(field, "required: every notice must say it")
		}
	}
	for locale, texts := range spec.Translations {
		for key := range texts {
			if err := CheckTranslation(locale, key); err != nil {
				bad("translations", err.Error())
			}
		}
	}
	for i, who := range spec.RestrictedTo {
		spec.RestrictedTo[i] = NormalizeIdentity(who)
		if who = spec.RestrictedTo[i]; !strings.Contains(who, "@") || strings.ContainsAny(who, " ,;") {
			bad("restricted_to", fmt.Sprintf("%q is not an identity (the e-mail address a person signs in with)", who))
		}
	}
	if spec.Playbook == "" {
		spec.Playbook = "default"
	} else if !ValidPlaybookName(spec.Playbook) {
		bad("playbook", fmt.Sprintf("%q is not a playbook name (letters, digits, '-' and '_'; the file playbooks/NAME.yaml)", spec.Playbook))
	}
	if len(errs) > 0 {
		sortByLine(errs)
		return Spec{}, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return spec, nil
}

// sortByLine orders "file:line: ..." messages by line, stable for equal lines.
func sortByLine(errs []string) {
	line := func(s string) int {
		var n int
		if parts := strings.SplitN(s, ":", 3); len(parts) > 1 {
			n, _ = strconv.Atoi(parts[1])
		}
		return n
	}
	slices.SortStableFunc(errs, func(a, b string) int { return cmp.Compare(line(a), line(b)) })
}

// ValidPlaybookName says whether name can name a playbook file: no path, so
// an incident file cannot make Tocsin read any YAML on the machine.
func ValidPlaybookName(name string) bool { return playbooks.ValidName(name) }

// Times are the incident's clock anchors, as the rules count from them.
func (s Spec) Times(assessed time.Time) playbooks.Times {
	return playbooks.Times{Awareness: s.DetectedAt, Discovery: s.DiscoveredAt, Determination: s.DeterminedAt, Assessed: assessed}
}

// ForRules is what the playbook's rules know of the incident itself.
func (s Spec) ForRules() playbooks.Incident {
	return playbooks.Incident{Kind: s.Kind, HealthData: s.HealthData, CriticalInfrastructure: s.CriticalInfrastructure}
}

// NormalizeIdentity is how an identity (the e-mail address a person signs in
// with) is kept and compared everywhere: trimmed and lower-case, since
// identity providers and people type addresses in any case, and four-eyes
// and restricted_to must not be beaten by Legal@ against legal@.
func NormalizeIdentity(identity string) string {
	return strings.ToLower(strings.TrimSpace(identity))
}
