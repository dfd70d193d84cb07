// Package templates renders what Tocsin sends: subject notices per locale (full
// text, SMS and voice variants), regulator reports, and the public announcement.
package templates

import (
	"embed"
	"fmt"
	"html"
	"strings"
	"text/template"
	"time"
)

//go:embed *.tmpl
var files embed.FS

var funcs = template.FuncMap{"join": strings.Join}

func set(name string) *template.Template {
	t, err := template.New(name).Funcs(funcs).ParseFS(files, name)
	if err != nil {
		panic(err)
	}
	return t
}

var sets = map[string]*template.Template{
	"notice.en":     set("notice.en.tmpl"),
	"notice.zh-CN":  set("notice.zh-CN.tmpl"),
	"notice.zh-HK":  set("notice.zh-HK.tmpl"),
	"report.en":     set("report.en.tmpl"),
	"report.zh-CN":  set("report.zh-CN.tmpl"),
	"announcement.": set("announcement.tmpl"),
}

// NoticeLocales are the locales subject notices are written in.
var NoticeLocales = []string{"en", "zh-CN", "zh-HK"}

// NoticeLocale picks the notice locale for a subject's BCP 47 tag: the exact
// locale, else Traditional Chinese for HK/MO/TW and Hant, Simplified for other
// Chinese, else the playbook's default.
func NoticeLocale(tag, fallback string) string {
	for _, l := range NoticeLocales {
		if strings.EqualFold(tag, l) {
			return l
		}
	}
	lower := strings.ToLower(tag)
	if lower == "zh" || strings.HasPrefix(lower, "zh-") {
		for _, trad := range []string{"-hk", "-mo", "-tw", "-hant"} {
			if strings.Contains(lower, trad) {
				return "zh-HK"
			}
		}
		return "zh-CN"
	}
	if fallback == "" {
		return "en"
	}
	return fallback
}

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
	DetectedAt   time.Time
	OccurredFrom time.Time
	OccurredTo   time.Time
	Categories   []string // dotted names
}

// Rendered is a text ready for legal's review.
type Rendered struct {
	Title string
	Body  string
	SMS   string
	Voice string
}

type view struct {
	Facts
	Name         string
	Categories   []string
	CategoriesZH []string
	ImpactZH     string
	Detected     string
	Occurred     string
	// report fields
	Regulator, Jurisdiction, Duty, Due string
	Sources                            []string
	Subjects, Total, Sensitive, Minors int
}

func newView(f Facts, locale string) view {
	v := view{Facts: f, Categories: Labels(f.Categories, locale), CategoriesZH: Labels(f.Categories, "zh-CN")}
	v.Detected = f.DetectedAt.UTC().Format("2006-01-02 15:04 UTC")
	if !f.OccurredFrom.IsZero() && !f.OccurredTo.IsZero() {
		v.Occurred = fmt.Sprintf("%s – %s", f.OccurredFrom.UTC().Format("2006-01-02 15:04"), f.OccurredTo.UTC().Format("2006-01-02 15:04 UTC"))
	}
	if f.Impact == "" {
		v.Impact = Impact(f.Categories, locale)
	}
	v.ImpactZH = Impact(f.Categories, "zh-CN")
	return v
}

func render(t *template.Template, v any, parts ...string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range parts {
		var b strings.Builder
		if err := t.ExecuteTemplate(&b, p, v); err != nil {
			return nil, fmt.Errorf("render %s: %w", p, err)
		}
		out[p] = strings.TrimSpace(b.String())
	}
	return out, nil
}

// Notice renders the subject notice for a locale.
func Notice(f Facts, locale string) (Rendered, error) {
	t, ok := sets["notice."+locale]
	if !ok {
		return Rendered{}, fmt.Errorf("no notice template for locale %q", locale)
	}
	p, err := render(t, newView(f, locale), "title", "body", "sms", "voice")
	if err != nil {
		return Rendered{}, err
	}
	return Rendered{Title: p["title"], Body: p["body"], SMS: p["sms"], Voice: p["voice"]}, nil
}

// Report is what a regulator report needs beyond the incident facts.
type Report struct {
	Template     string // "report" (English) or "report-cn" (Chinese)
	Regulator    string
	Jurisdiction string
	Duty         string
	Due          string
	Sources      []string
	Subjects     int
	Total        int
	Sensitive    int
	Minors       int
}

// RegulatorReport renders a report for one obligation.
func RegulatorReport(f Facts, r Report) (Rendered, string, error) {
	locale := "en"
	if r.Template == "report-cn" {
		locale = "zh-CN"
	}
	v := newView(f, locale)
	v.Regulator, v.Jurisdiction, v.Duty, v.Due, v.Sources = r.Regulator, r.Jurisdiction, r.Duty, r.Due, r.Sources
	v.Subjects, v.Total, v.Sensitive, v.Minors = r.Subjects, r.Total, r.Sensitive, r.Minors
	p, err := render(sets["report."+locale], v, "title", "body")
	if err != nil {
		return Rendered{}, "", err
	}
	return Rendered{Title: p["title"], Body: p["body"]}, locale, nil
}

// Announcement renders the public announcement, in English and Chinese.
func Announcement(f Facts) (Rendered, error) {
	p, err := render(sets["announcement."], newView(f, "en"), "title", "body")
	if err != nil {
		return Rendered{}, err
	}
	return Rendered{Title: p["title"], Body: p["body"]}, nil
}

// HTML turns a plain-text body into simple, escaped HTML paragraphs.
func HTML(body string) string {
	var b strings.Builder
	for _, para := range strings.Split(body, "\n\n") {
		b.WriteString("<p>")
		b.WriteString(strings.ReplaceAll(html.EscapeString(strings.TrimSpace(para)), "\n", "<br>\n"))
		b.WriteString("</p>\n")
	}
	return b.String()
}
