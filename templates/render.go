// Package templates renders what Tocsin sends: subject notices per locale (full
// text, SMS and voice variants), one report per regulator in the form that
// regulator asks for, and the public announcement. Every text renders as plain
// text (for filing and SMS) and as HTML (for email and the console) from the
// same template source, so the two can never say different things.
package templates

import (
	"embed"
	"fmt"
	htemplate "html/template"
	"regexp"
	"slices"
	"strings"
	ttemplate "text/template"
	"time"

	"github.com/tocsin/tocsin/internal/verify"
)

//go:embed *.tmpl *.yaml labels/*.yaml
var files embed.FS

// missingMark stands where a required fact is not yet known. A draft that
// shows it is incomplete and cannot be approved.
func missingMark(field string) string { return "[MISSING: " + field + "]" }

var missingHTML = regexp.MustCompile(`\[MISSING: [a-z_]+\]`)

var textFuncs = ttemplate.FuncMap{
	"join": strings.Join,
	"h":    func(s string) string { return s },
}

var htmlFuncs = htemplate.FuncMap{
	"join": strings.Join,
	"h": func(s string) htemplate.HTML {
		return htemplate.HTML("<h2>" + htemplate.HTMLEscapeString(s) + "</h2>")
	},
}

// set is one template in both renderings.
type set struct {
	text *ttemplate.Template
	html *htemplate.Template
}

// load parses a template with the blocks the report forms share.
func load(name string) set {
	t, err := ttemplate.New(name).Funcs(textFuncs).ParseFS(files, "common.tmpl", name+".tmpl")
	if err != nil {
		panic(err)
	}
	h, err := htemplate.New(name).Funcs(htmlFuncs).ParseFS(files, "common.tmpl", name+".tmpl")
	if err != nil {
		panic(err)
	}
	return set{t, h}
}

// Form is a form an operator wrote for a jurisdiction of their own (a
// playbook directory's templates/NAME.tmpl), parsed with the blocks the
// built-in forms share: a report form (report-NAME) defines "title" and
// "body", a prescribed notice (notice-NAME) "sms" and "voice" too.
type Form struct {
	name string
	set  set
}

// IsNoticeForm says whether name names a notice form (notice-NAME).
func IsNoticeForm(name string) bool { return strings.HasPrefix(name, "notice-") }

// NewForm parses an operator's report form and renders it once on empty
// facts, so a misspelt field fails when the playbook loads, with the
// template's line, not when an incident is drafted.
func NewForm(name, source string) (*Form, error) {
	t, err := ttemplate.New(name).Funcs(textFuncs).ParseFS(files, "common.tmpl")
	if err == nil {
		t, err = t.Parse(source)
	}
	if err != nil {
		return nil, err
	}
	h, err := htemplate.New(name).Funcs(htmlFuncs).ParseFS(files, "common.tmpl")
	if err == nil {
		h, err = h.Parse(source)
	}
	if err != nil {
		return nil, err
	}
	f := &Form{name: name, set: set{t, h}}
	parts := []string{"title", "body"}
	if IsNoticeForm(name) {
		parts = append(parts, "sms", "voice")
	}
	for _, part := range parts {
		if t.Lookup(part) == nil {
			return nil, fmt.Errorf("template: %s: defines no %q block ({{define %q}}...{{end}})", name, part, part)
		}
	}
	if _, err := render(f.set, newView(Facts{}, "en"), parts...); err != nil {
		return nil, err
	}
	return f, nil
}

// reportTemplates are the regulator report forms by name; a law file's
// `template:` picks one, and "report" is the general form for any other
// recipient. The CN form is in Chinese, the others in English.
var reportTemplates = []string{"report", "report-cn", "report-sg", "report-hk", "report-eu", "report-uk", "report-us-ca",
	"report-us-ny", "report-us-tx", "report-us-hipaa", "report-au", "report-jp", "report-kr", "report-br"}

// noticeTemplates are notices a jurisdiction prescribes the form of; they
// replace the locale notice for its residents.
var noticeTemplates = []string{"notice-ca"}

var reportLocales = map[string]string{"report-cn": "zh-CN", "report-jp": "ja", "report-kr": "ko", "report-br": "pt-BR"}

// reportTranslations are the other languages a form is written in
// (report-eu.de.tmpl): a form for authorities that accept different
// languages (the EU's) is drafted in the one its recipient accepts.
var reportTranslations = map[string][]string{"report-eu": {"de", "fr", "es"}}

// ReportLanguages are the languages Tocsin has a report form in: its own
// first, then its translations.
func ReportLanguages(template string) []string {
	return append([]string{ReportLocale(template)}, reportTranslations[template]...)
}

var sets = func() map[string]set {
	m := map[string]set{}
	for _, l := range NoticeLocales {
		m["notice."+l] = load("notice." + l)
	}
	for _, n := range slices.Concat(reportTemplates, noticeTemplates) {
		m[n] = load(n)
		for _, l := range reportTranslations[n] {
			m[n+"."+l] = load(n + "." + l)
		}
	}
	return m
}()

// Names lists the templates a law file may name.
func Names() []string { return slices.Concat(reportTemplates, noticeTemplates) }

// IsNotice says whether a template is a prescribed notice to individuals.
func IsNotice(name string) bool { return slices.Contains(noticeTemplates, name) }

// Facts is what every text says about the incident.
type Facts struct {
	IncidentID   string
	Title        string
	Kind         string
	Description  string
	Impact       string
	Measures     string
	Advice       string
	Remedies     string
	Contact      string
	Cause        string
	Organisation string
	Reporter     string
	DPOContact   string
	DetectedAt   time.Time
	OccurredFrom time.Time
	OccurredTo   time.Time
	Categories   []string // dotted names
	// Translations are the texts in other languages, by notice locale and
	// key (incident.TranslatableKeys).
	Translations map[string]map[string]string
	// Zone, when set, is the IANA zone a notice's readers live in: its
	// times are given there, written as their language writes them.
	Zone string
	// VerifyURL is Tocsin's public base URL: a notice tells its reader
	// where to check it is genuine, with their own code (verify.Mark).
	VerifyURL string
	// InquiryPhone, InquiryHours and InquiryURL are the incident's inquiry
	// desk, which every notice names when it has one (inquiry_desk).
	InquiryPhone, InquiryHours, InquiryURL string
}

// Rendered is a text ready for legal's review.
type Rendered struct {
	Title string
	Body  string
	// HTML is the body as an HTML fragment (headings, escaped text).
	HTML  string
	SMS   string
	Voice string
}

type view struct {
	Facts
	Name       string
	Categories []string
	Detected   string
	Occurred   string
	// CreditBureaus: identity or financial data leaked, so US notices give
	// the credit bureaus' numbers.
	CreditBureaus bool
	// Required are the content fields the law asks of this text: Field
	// marks them when they are missing.
	Required []string
	// EnrolmentMark stands where a reader with an enrolment code for the
	// remedy gets it (Personalize); readers without one get nothing there.
	EnrolmentMark string
	// YourDataMark stands where each reader's copy names their own data
	// involved (Personalize).
	YourDataMark string
	// GuardianMark opens a copy sent to the person's guardian.
	GuardianMark string
	// DeskLabel introduces the inquiry desk, in the reader's language.
	DeskLabel string
	// VerifyLink opens the reader's own notice; Code and SpokenCode stand
	// for their code (each copy gets its own, verify.Personalize).
	VerifyLink, Code, SpokenCode string
	// Untranslated are texts quoted in English for want of a translation;
	// UntranslatedNote tells the reader so, in their language.
	Untranslated     []string
	UntranslatedNote string
	// report fields
	Regulator, Jurisdiction, Duty, Due string
	Sources                            []string
	Regions                            []string
	Subjects, Total, Sensitive, Minors int
}

func newView(f Facts, locale string) view {
	v := view{Categories: Labels(f.Categories, locale)}
	v.Untranslated = Untranslated(f, locale)
	if len(v.Untranslated) > 0 {
		s, _ := labelsFor(locale)
		v.UntranslatedNote = s.Untranslated
	}
	// A translation stands in for a text only once the text is written:
	// until then the fact is missing, in every language.
	for key, text := range f.Translations[locale] {
		if text != "" && strings.TrimSpace(*f.text(key)) != "" {
			*f.text(key) = text
		}
	}
	v.Facts = f
	v.EnrolmentMark, v.YourDataMark, v.GuardianMark = EnrolmentMark, YourDataMark, GuardianMark
	if ls, en := labelsFor(locale); ls.InquiryDesk != "" {
		v.DeskLabel = ls.InquiryDesk
	} else {
		v.DeskLabel = en.InquiryDesk
	}
	if f.VerifyURL != "" {
		v.VerifyLink, v.Code, v.SpokenCode = strings.TrimRight(f.VerifyURL, "/")+"/n/"+verify.Mark, verify.Mark, verify.SpokenMark
		v.VerifyURL = strings.TrimRight(f.VerifyURL, "/")
	}
	v.Detected = f.DetectedAt.UTC().Format("2006-01-02 15:04 UTC")
	if !f.OccurredFrom.IsZero() {
		v.Occurred = f.OccurredFrom.UTC().Format("2006-01-02 15:04 UTC")
		if !f.OccurredTo.IsZero() && !f.OccurredTo.Equal(f.OccurredFrom) {
			v.Occurred = fmt.Sprintf("%s – %s", f.OccurredFrom.UTC().Format("2006-01-02 15:04"), f.OccurredTo.UTC().Format("2006-01-02 15:04 UTC"))
		}
	}
	if f.Zone != "" {
		v.localTimes(locale, f.Zone)
	}
	if f.Impact == "" {
		v.Impact = Impact(f.Categories, locale)
	}
	for _, c := range f.Categories {
		fam, _, _ := strings.Cut(c, ".")
		if fam == "government_id" || fam == "financial" {
			v.CreditBureaus = true
		}
	}
	return v
}

// text is the field a translatable key names.
func (f *Facts) text(key string) *string {
	switch key {
	case "title":
		return &f.Title
	case "description":
		return &f.Description
	case "cause":
		return &f.Cause
	case "impact":
		return &f.Impact
	case "measures":
		return &f.Measures
	case "advice":
		return &f.Advice
	case "remedies":
		return &f.Remedies
	}
	panic("templates: no translatable text " + key)
}

// TranslatableKeys are the texts a text in another language than the
// incident's (English) needs translated (incident.TranslatableKeys).
var TranslatableKeys = []string{"title", "description", "cause", "impact", "measures", "advice", "remedies"}

// Untranslated lists the incident's texts a locale's reader would get in
// English: written, and not translated into locale.
func Untranslated(f Facts, locale string) []string {
	if locale == "" || locale == "en" || strings.HasPrefix(locale, "en-") {
		return nil
	}
	var out []string
	for _, k := range TranslatableKeys {
		if strings.TrimSpace(*f.text(k)) != "" && strings.TrimSpace(f.Translations[locale][k]) == "" {
			out = append(out, k)
		}
	}
	return out
}

// localTimes gives the view's times in zone, as a reader of locale writes them.
func (v *view) localTimes(locale, zone string) {
	v.Detected = LocalTime(v.DetectedAt, locale, zone)
	v.Occurred = ""
	if !v.OccurredFrom.IsZero() {
		v.Occurred = LocalTime(v.OccurredFrom, locale, zone)
		if !v.OccurredTo.IsZero() && !v.OccurredTo.Equal(v.OccurredFrom) {
			v.Occurred += " – " + LocalTime(v.OccurredTo, locale, zone)
		}
	}
}

// value is a content field's text; ok is false for fields Tocsin counts
// itself (subjects, regions), which no text can lack.
func (v view) value(name string) (val string, ok bool) {
	switch name {
	case "description":
		return v.Description, true
	case "cause":
		return v.Cause, true
	case "occurred_at":
		return v.Occurred, true
	case "detected_at":
		if v.DetectedAt.IsZero() {
			return "", true
		}
		return v.Detected, true
	case "impact":
		return v.Impact, true
	case "measures":
		return v.Measures, true
	case "advice":
		return v.Advice, true
	case "remedies":
		return v.Remedies, true
	case "contact":
		return v.Contact, true
	case "dpo_contact":
		return v.DPOContact, true
	case "organisation":
		return v.Organisation, true
	case "reporter":
		return v.Reporter, true
	case "inquiry_desk":
		return v.desk(), true
	case "categories":
		return strings.Join(v.Categories, ", "), true
	}
	return "", false
}

// desk is the inquiry desk in one line, in any language: "+1 800 555
// 0100 (Mon-Fri 9:00-18:00) · https://help.example.com"; empty without a
// phone or an address.
func (v view) desk() string {
	var parts []string
	if p := strings.TrimSpace(v.InquiryPhone); p != "" {
		if h := strings.TrimSpace(v.InquiryHours); h != "" {
			p += " (" + h + ")"
		}
		parts = append(parts, p)
	}
	if u := strings.TrimSpace(v.InquiryURL); u != "" {
		parts = append(parts, u)
	}
	return strings.Join(parts, " · ")
}

// Field is a content field's text: its value, the missing mark when the law
// requires it and nobody supplied it yet, else empty.
func (v view) Field(name string) string {
	val, ok := v.value(name)
	if !ok {
		panic("templates: no content field " + name)
	}
	if strings.TrimSpace(val) == "" && slices.Contains(v.Required, name) {
		return missingMark(name)
	}
	return val
}

func render(s set, v any, parts ...string) (Rendered, error) {
	out := map[string]string{}
	for _, p := range parts {
		var b strings.Builder
		if err := s.text.ExecuteTemplate(&b, p, v); err != nil {
			return Rendered{}, fmt.Errorf("render %s: %w", p, err)
		}
		out[p] = strings.TrimSpace(b.String())
	}
	var h strings.Builder
	if err := s.html.ExecuteTemplate(&h, "body", v); err != nil {
		return Rendered{}, fmt.Errorf("render body as HTML: %w", err)
	}
	body := missingHTML.ReplaceAllString(strings.TrimSpace(h.String()), `<mark class="missing">$0</mark>`)
	return Rendered{Title: out["title"], Body: out["body"], SMS: out["sms"], Voice: out["voice"],
		HTML: `<article class="draft">` + body + "</article>\n"}, nil
}

// Notice renders the subject notice for a locale, or the form a
// jurisdiction prescribes when form names one (notice-ca).
func Notice(f Facts, locale, form string, required []string) (Rendered, error) {
	return NoticeWith(f, locale, form, nil, required)
}

// NoticeWith is Notice, with the operator's own form when own is set.
func NoticeWith(f Facts, locale, form string, own *Form, required []string) (Rendered, error) {
	if own != nil {
		v := newView(f, "en")
		v.Required = required
		return render(own.set, v, "title", "body", "sms", "voice")
	}
	name := "notice." + locale
	if form != "" {
		name, locale = form, "en"
	}
	t, ok := sets[name]
	if !ok {
		return Rendered{}, fmt.Errorf("no notice template %q", name)
	}
	v := newView(f, locale)
	v.Required = required
	return render(t, v, "title", "body", "sms", "voice")
}

// Report is what a regulator report needs beyond the incident facts.
type Report struct {
	Template string // one of the report templates; empty is "report"
	// Locale is the language to write it in, one of ReportLanguages
	// (empty: the form's own).
	Locale string
	// Form is the operator's own form named by Template, when it is not built in.
	Form      *Form
	Regulator string
	// RegulatorLocal is the regulator's name in its own language, used by
	// a report written in it.
	RegulatorLocal string
	// Zone is the regulator's time zone (IANA): the report's times are
	// given there.
	Zone         string
	Jurisdiction string
	Duty         string
	Due          string
	Sources      []string
	// SourcesLocal cite the law in the report's language; DueAt is when
	// the report is due (zero: no fixed time), given in its language.
	SourcesLocal []string
	DueAt        time.Time
	Regions      []string // "CN 26", residents per region in this jurisdiction
	Required     []string // the content fields the law asks for
	Subjects     int
	Total        int
	Sensitive    int
	Minors       int
}

// ReportLocale is the language a report template is written in.
func ReportLocale(template string) string {
	if l, ok := reportLocales[template]; ok {
		return l
	}
	return "en"
}

// RegulatorReport renders a report for one obligation.
func RegulatorReport(f Facts, r Report) (Rendered, string, error) {
	if r.Template == "" {
		r.Template = "report"
	}
	t, ok := sets[r.Template]
	if r.Form != nil {
		t, ok = r.Form.set, true
	}
	if !ok || IsNotice(r.Template) {
		return Rendered{}, "", fmt.Errorf("no report template %q (have %s)", r.Template, strings.Join(reportTemplates, ", "))
	}
	locale := ReportLocale(r.Template)
	if r.Locale != "" && r.Locale != locale && r.Form == nil {
		t, ok = sets[r.Template+"."+r.Locale]
		if !ok {
			return Rendered{}, "", fmt.Errorf("report template %q is not written in %s (it is in %s)", r.Template, r.Locale, strings.Join(ReportLanguages(r.Template), ", "))
		}
		locale = r.Locale
	}
	v := newView(f, locale)
	v.Regulator, v.Jurisdiction, v.Duty, v.Due, v.Sources, v.Regions = r.Regulator, r.Jurisdiction, r.Duty, r.Due, r.Sources, r.Regions
	if locale != "en" && r.RegulatorLocal != "" {
		v.Regulator = r.RegulatorLocal
	}
	if locale != "en" && len(r.SourcesLocal) > 0 {
		v.Sources = r.SourcesLocal
	}
	if locale != "en" && !r.DueAt.IsZero() {
		v.Due = LocalTime(r.DueAt, locale, r.Zone)
	}
	v.Kind = KindLabel(v.Kind, locale)
	if r.Zone != "" {
		v.localTimes(locale, r.Zone)
	}
	v.Subjects, v.Total, v.Sensitive, v.Minors = r.Subjects, r.Total, r.Sensitive, r.Minors
	v.Required = r.Required
	out, err := render(t, v, "title", "body")
	return out, locale, err
}

// Announcement renders the public announcement in each of locales (the
// languages of the people it stands in for; English first), a section
// each, and lists the texts it quotes untranslated.
func Announcement(f Facts, locales []string, required []string) (Rendered, []string, error) {
	locales = AnnouncementLocales(locales)
	var titles, bodies, htmls, untranslated []string
	for _, l := range locales {
		t, ok := sets["notice."+l]
		if !ok {
			return Rendered{}, nil, fmt.Errorf("no notice template for %q", l)
		}
		v := newView(f, l)
		v.Required = required
		for _, k := range v.Untranslated {
			if !slices.Contains(untranslated, k) {
				untranslated = append(untranslated, k)
			}
		}
		var title, body, h strings.Builder
		if err := t.text.ExecuteTemplate(&title, "announcement-title", v); err != nil {
			return Rendered{}, nil, fmt.Errorf("render %s announcement title: %w", l, err)
		}
		if err := t.text.ExecuteTemplate(&body, "announcement", v); err != nil {
			return Rendered{}, nil, fmt.Errorf("render %s announcement: %w", l, err)
		}
		if err := t.html.ExecuteTemplate(&h, "announcement", v); err != nil {
			return Rendered{}, nil, fmt.Errorf("render %s announcement as HTML: %w", l, err)
		}
		titles = append(titles, strings.TrimSpace(title.String()))
		bodies = append(bodies, strings.TrimSpace(body.String()))
		htmls = append(htmls, `<section lang="`+htemplate.HTMLEscapeString(l)+`">`+strings.TrimSpace(h.String())+"</section>")
	}
	return Rendered{Title: strings.Join(titles, " / "), Body: strings.Join(bodies, "\n\n——\n\n"),
		HTML: `<article class="draft">` + strings.Join(htmls, "\n<hr>\n") + "</article>\n"}, untranslated, nil
}

// AnnouncementLocales are the languages an announcement for readers of
// locales is written in: English first (the public at large), then theirs.
func AnnouncementLocales(locales []string) []string {
	out := []string{"en"}
	for _, l := range locales {
		if l != "en" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// Missing lists the content fields a law requires that the facts cannot yet
// supply, exactly where a text would show the missing mark. Counts Tocsin
// computes itself are never missing; impact is derived from the categories
// when nobody wrote one.
func Missing(content []string, f Facts) []string {
	v := newView(f, "en")
	var out []string
	for _, field := range content {
		if val, ok := v.value(field); ok && strings.TrimSpace(val) == "" && !slices.Contains(out, field) {
			out = append(out, field)
		}
	}
	return out
}

// HTML turns a plain-text body into escaped HTML paragraphs: the HTML of a
// draft stored before drafts carried their own.
func HTML(body string) string {
	var b strings.Builder
	for _, para := range strings.Split(body, "\n\n") {
		b.WriteString("<p>")
		b.WriteString(strings.ReplaceAll(htemplate.HTMLEscapeString(strings.TrimSpace(para)), "\n", "<br>\n"))
		b.WriteString("</p>\n")
	}
	return b.String()
}

// Document wraps a draft's HTML in a page of its own, for filing or review.
func Document(title, body, locale string) string {
	lang := locale
	if strings.Contains(lang, "+") {
		lang, _, _ = strings.Cut(lang, "+")
	}
	return `<!doctype html>
<html lang="` + htemplate.HTMLEscapeString(lang) + `"><head><meta charset="utf-8"><title>` + htemplate.HTMLEscapeString(title) + `</title>
<style>body{font:11pt/1.5 system-ui,sans-serif;max-width:48em;margin:2em auto;padding:0 1em}.draft{white-space:pre-wrap}h1{font-size:1.4em}h2{font-size:1.1em;margin:1em 0 0}mark.missing{background:#fd0}</style>
</head><body><h1>` + htemplate.HTMLEscapeString(title) + "</h1>\n" + body + "</body></html>\n"
}
