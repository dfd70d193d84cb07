package templates

import (
	"cmp"
	"fmt"
	"path"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

// labelSet is one locale's labels/LOCALE.yaml: how a person reading that
// language is told which data leaked and what could follow. A new
// language is a new file, not code.
type labelSet struct {
	Categories map[string]string `yaml:"categories"`
	Families   map[string]string `yaml:"families"`
	Impacts    map[string]string `yaml:"impacts"`
	NoImpact   string            `yaml:"no_impact"`
	// Alert is a push notification's line under the notice's title.
	Alert string `yaml:"alert"`
	// VoiceLanguage is the provider's voice that reads the language
	// (Twilio's <Say language>); PressOne asks the callee to confirm.
	VoiceLanguage string `yaml:"voice_language"`
	PressOne      string `yaml:"press_one"`
	// Untranslated tells the reader that some details follow in English.
	Untranslated string `yaml:"untranslated"`
	// DateTime is how a time is written (a Go layout); ZoneFormat names
	// its zone after it (%s: the zone's name); Zones are zones' names.
	DateTime   string            `yaml:"datetime"`
	ZoneFormat string            `yaml:"zone_format"`
	Zones      map[string]string `yaml:"zones"`
	// Kinds name the kinds of incident.
	Kinds map[string]string `yaml:"kinds"`
	// Genuine tells a person who checked their notice's code that we sent
	// it; YourData heads the list of their own data involved.
	Genuine  string `yaml:"genuine"`
	YourData string `yaml:"your_data"`
	// Enrolment and EnrolBy give a person their enrolment code for the
	// remedy offered and its last day (%s each).
	Enrolment string `yaml:"enrolment"`
	EnrolBy   string `yaml:"enrol_by"`
	// YourOwnData names, in a notice, the reader's own data involved (%s:
	// their categories, joined by ListSeparator).
	YourOwnData   string  `yaml:"your_own_data"`
	ListSeparator *string `yaml:"list_separator"`
	// Guardian opens a copy sent to a person's parent or guardian (%s:
	// the person's name); GuardianSomeone when the name is unknown.
	Guardian        string `yaml:"guardian"`
	GuardianSomeone string `yaml:"guardian_someone"`
	// InquiryDesk introduces the incident's inquiry desk in a notice.
	InquiryDesk string `yaml:"inquiry_desk"`
	// SMSReplies answer a reply to our text: HELP, STOP, START, a question.
	SMSReplies map[string]string `yaml:"sms_replies"`
	// Correction titles a copy that corrects an earlier notice (%s: its
	// title); CorrectionLead opens it.
	Correction     string `yaml:"correction"`
	CorrectionLead string `yaml:"correction_lead"`
	// WordSeparator joins the impact sentences.
	WordSeparator *string `yaml:"word_separator"`
}

// impactOrder puts the gravest harm first, in every language.
var impactOrder = []string{"biometric", "credential", "financial", "health", "location", "contact"}

var labelSets = sync.OnceValues(func() (map[string]*labelSet, error) {
	out := map[string]*labelSet{}
	entries, err := files.ReadDir("labels")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		locale, ok := strings.CutSuffix(e.Name(), ".yaml")
		if !ok {
			continue
		}
		data, err := files.ReadFile(path.Join("labels", e.Name()))
		if err != nil {
			return nil, err
		}
		var s labelSet
		if err := yaml.Unmarshal(data, &s); err != nil {
			return nil, fmt.Errorf("templates/labels/%s: %w", e.Name(), err)
		}
		out[locale] = &s
	}
	if out["en"] == nil {
		return nil, fmt.Errorf("templates/labels/en.yaml is missing")
	}
	return out, nil
})

// labelsFor is a locale's labels, else English's.
func labelsFor(locale string) (*labelSet, *labelSet) {
	sets, err := labelSets()
	if err != nil {
		panic(err) // embedded; TestEveryLocaleHasEveryLabel reads them
	}
	if s, ok := sets[locale]; ok {
		return s, sets["en"]
	}
	return sets["en"], sets["en"]
}

func lookup(m, fallback map[string]string, key string) (string, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	v, ok := fallback[key]
	return v, ok
}

// Labels names categories in a locale, most specific label first.
func Labels(categories []string, locale string) []string {
	s, en := labelsFor(locale)
	out := make([]string, 0, len(categories))
	for _, c := range categories {
		if l, ok := lookup(s.Categories, en.Categories, c); ok {
			out = append(out, l)
			continue
		}
		family, _, _ := strings.Cut(c, ".")
		if l, ok := lookup(s.Families, en.Families, family); ok {
			out = append(out, l+" ("+c+")")
			continue
		}
		out = append(out, c)
	}
	return out
}

// Impact describes the possible harm of the exposed categories in a locale.
func Impact(categories []string, locale string) string {
	s, en := labelsFor(locale)
	seen := map[string]bool{}
	for _, c := range categories {
		f, _, _ := strings.Cut(c, ".")
		seen[f] = true
	}
	var parts []string
	for _, f := range impactOrder {
		if seen[f] {
			l, _ := lookup(s.Impacts, en.Impacts, f)
			parts = append(parts, l)
		}
	}
	if len(parts) == 0 {
		if s.NoImpact != "" {
			return s.NoImpact
		}
		return en.NoImpact
	}
	sep := " "
	if s.WordSeparator != nil {
		sep = *s.WordSeparator
	}
	return strings.Join(parts, sep)
}

// Alert is what a push notification says under the notice's title, in a
// locale (else English): that a notice came and where to read it, never
// what it says, since a lock screen is public.
func Alert(locale string) string {
	s, en := labelsFor(locale)
	if s.Alert != "" {
		return s.Alert
	}
	return en.Alert
}

// VoiceLanguage is the text-to-speech language that reads a locale's
// voice script (Twilio's <Say language>), else English's.
func VoiceLanguage(locale string) string {
	s, en := labelsFor(locale)
	if s.VoiceLanguage != "" {
		return s.VoiceLanguage
	}
	return en.VoiceLanguage
}

// PressOne asks, in a locale, the person called to press 1 once they
// heard the notice.
func PressOne(locale string) string {
	s, en := labelsFor(locale)
	if s.PressOne != "" {
		return s.PressOne
	}
	return en.PressOne
}

// LocalTime writes t as a reader of locale reads a time, in the IANA zone
// (UTC when zone is empty or unknown), with the zone named: "2026年11月20日
// 16:00（北京时间）", "2026-11-20 17:00 JST".
func LocalTime(t time.Time, locale, zone string) string {
	s, en := labelsFor(locale)
	loc, err := time.LoadLocation(zone)
	if zone == "" || err != nil {
		loc, zone = time.UTC, "UTC"
	}
	layout, format := s.DateTime, s.ZoneFormat
	if layout == "" {
		layout = en.DateTime
	}
	if format == "" {
		format = en.ZoneFormat
	}
	at := t.In(loc)
	name := s.Zones[zone]
	if name == "" {
		name = at.Format("MST")
	}
	if strings.HasPrefix(name, "+") || strings.HasPrefix(name, "-") {
		// Many zones have no abbreviation ("+08" for Singapore): say
		// what it means.
		name = "UTC" + at.Format("-07:00")
	}
	return at.Format(layout) + fmt.Sprintf(format, name)
}

// Verified is what the verify page tells a person whose code matched their
// notice: that it is genuine, and the heading of their own data.
func Verified(locale string) (genuine, yourData string) {
	s, en := labelsFor(locale)
	return cmp.Or(s.Genuine, en.Genuine), cmp.Or(s.YourData, en.YourData)
}

// Answers to a reply to our text, as carriers require (HELP, STOP, START)
// and to a question.
const (
	ReplyHelp     = "help"
	ReplyStop     = "stop"
	ReplyStart    = "start"
	ReplyReceived = "received"
)

// SMSReply is what a reply to our text gets back, in the person's
// language: organisation names who sends (HELP), publicURL where to check
// a notice.
func SMSReply(kind, locale, organisation, publicURL string) string {
	s, en := labelsFor(locale)
	text, _ := lookup(s.SMSReplies, en.SMSReplies, kind)
	if strings.Contains(text, "%s") {
		text = fmt.Sprintf(text, strings.TrimRight(publicURL, "/"))
	}
	if kind == ReplyHelp && organisation != "" {
		text = organisation + ": " + text
	}
	return text
}

// KindLabel names a kind of incident in a locale (else as written).
func KindLabel(kind, locale string) string {
	s, en := labelsFor(locale)
	if l, ok := lookup(s.Kinds, en.Kinds, kind); ok {
		return l
	}
	return kind
}
