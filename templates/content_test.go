package templates_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tocsin/tocsin/playbooks"
	"github.com/tocsin/tocsin/templates"
)

// sentinels are values no template could print by accident.
func fullFacts() templates.Facts {
	return templates.Facts{
		IncidentID: "INC-TEST", Title: "Test breach", Kind: "unauthorized-access",
		Description: "DESC-7f3", Cause: "CAUSE-7f3", Organisation: "ORG-7f3", Reporter: "REPORTER-7f3", DPOContact: "DPO-7f3",
		Impact: "IMPACT-7f3", Measures: "MEASURES-7f3", Advice: "ADVICE-7f3", Remedies: "REMEDIES-7f3", Contact: "CONTACT-7f3",
		DetectedAt:   time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC),
		OccurredFrom: time.Date(2026, 11, 18, 0, 0, 0, 0, time.UTC), OccurredTo: time.Date(2026, 11, 19, 6, 30, 0, 0, time.UTC),
		Categories: []string{"biometric.face"},
	}
}

// expect is what each content field looks like in a rendered text.
func expect(field, locale string) string {
	switch field {
	case "occurred_at":
		return "2026-11-18 00:00"
	case "detected_at":
		return "2026-11-20 08:00"
	case "categories":
		return templates.Labels([]string{"biometric.face"}, locale)[0]
	case "subjects":
		return "4321"
	case "regions":
		return "XX 4321"
	}
	return sentinel(field)
}

func sentinel(field string) string {
	name := map[string]string{"dpo_contact": "DPO", "organisation": "ORG", "description": "DESC"}[field]
	if name == "" {
		name = strings.ToUpper(field)
	}
	return name + "-7f3"
}

// without blanks one content field.
func without(f templates.Facts, field string) templates.Facts {
	switch field {
	case "description":
		f.Description = ""
	case "cause":
		f.Cause = ""
	case "occurred_at":
		f.OccurredFrom, f.OccurredTo = time.Time{}, time.Time{}
	case "categories":
		f.Categories = nil
	case "measures":
		f.Measures = ""
	case "advice":
		f.Advice = ""
	case "remedies":
		f.Remedies = ""
	case "contact":
		f.Contact = ""
	case "dpo_contact":
		f.DPOContact = ""
	case "organisation":
		f.Organisation = ""
	case "reporter":
		f.Reporter = ""
	default:
		return f // computed by Tocsin: never missing
	}
	return f
}

type duty struct {
	name, audience, template string
	content                  []string
}

func defaultDuties(t *testing.T) []duty {
	t.Helper()
	pb, err := playbooks.Load("", "default")
	if err != nil {
		t.Fatal(err)
	}
	var out []duty
	for _, law := range pb.Laws {
		for _, r := range law.Obligations {
			if len(r.Phases) == 0 {
				out = append(out, duty{r.Name, r.Audience, r.Template, r.Content})
			}
			for _, ph := range r.Phases {
				c := ph.Content
				if len(c) == 0 {
					c = r.Content
				}
				out = append(out, duty{r.Name + "/" + ph.Name, r.Audience, r.Template, c})
			}
		}
	}
	if len(out) < 30 {
		t.Fatalf("only %d duties in the default playbook", len(out))
	}
	return out
}

type rendering struct {
	locale string
	render func(templates.Facts) (templates.Rendered, error)
}

func renderingsFor(d duty) []rendering {
	if d.audience == "individuals" {
		if d.template != "" {
			return []rendering{{"en", func(f templates.Facts) (templates.Rendered, error) {
				return templates.Notice(f, "", d.template, d.content)
			}}}
		}
		var out []rendering
		for _, l := range templates.NoticeLocales {
			out = append(out, rendering{l, func(f templates.Facts) (templates.Rendered, error) { return templates.Notice(f, l, "", d.content) }})
		}
		return out
	}
	return []rendering{{templates.ReportLocale(d.template), func(f templates.Facts) (templates.Rendered, error) {
		r, _, err := templates.RegulatorReport(f, templates.Report{Template: d.template, Regulator: "Regulator", Jurisdiction: "XX", Duty: d.name,
			Due: "soon", Regions: []string{"XX 4321"}, Subjects: 4321, Total: 5000, Required: d.content})
		return r, err
	}}}
}

// Every duty of every default jurisdiction: its text states each field the
// law requires, and without that fact it is marked incomplete and shows
// where the fact is missing.
func TestEveryTemplateSatisfiesItsLawsContentList(t *testing.T) {
	for _, d := range defaultDuties(t) {
		for _, r := range renderingsFor(d) {
			t.Run(d.name+"/"+r.locale, func(t *testing.T) {
				full, err := r.render(fullFacts())
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(full.Body, "[MISSING") {
					t.Fatalf("complete facts, yet the text shows a missing mark:\n%s", full.Body)
				}
				if m := templates.Missing(d.content, fullFacts()); len(m) > 0 {
					t.Fatalf("complete facts reported missing: %v", m)
				}
				for _, field := range d.content {
					if want := expect(field, r.locale); !strings.Contains(full.Body, want) {
						t.Errorf("the law requires %s but the text does not state it (%q):\n%s", field, want, full.Body)
					}
					lacking := without(fullFacts(), field)
					if !slices.Contains(templates.Missing(d.content, lacking), field) {
						continue // computed by Tocsin
					}
					part, err := r.render(lacking)
					if err != nil {
						t.Fatal(err)
					}
					if !strings.Contains(part.Body, "[MISSING: "+field+"]") {
						t.Errorf("without %s the text does not mark it missing:\n%s", field, part.Body)
					}
					if !strings.Contains(part.HTML, `<mark class="missing">[MISSING: `+field+`]</mark>`) {
						t.Errorf("without %s the HTML does not highlight it", field)
					}
				}
			})
		}
	}
}

func TestLawFilesNameExistingTemplates(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range defaultDuties(t) {
		if d.template != "" {
			seen[d.template] = true
		}
	}
	for _, n := range templates.Names() {
		if n != "report" && !seen[n] {
			t.Errorf("template %s is used by no default duty", n)
		}
	}
}

func TestCaliforniaNoticeHasTheMandatedTitleAndHeadings(t *testing.T) {
	r, err := templates.Notice(fullFacts(), "", "notice-ca", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Title != "Notice of Data Breach" {
		t.Errorf("title %q, want exactly %q (Cal. Civ. Code 1798.82(d)(1))", r.Title, "Notice of Data Breach")
	}
	headings := []string{"What Happened", "What Information Was Involved", "What We Are Doing", "What You Can Do", "For More Information"}
	at := 0
	for _, h := range headings {
		i := strings.Index(r.Body[at:], "\n"+h+"\n")
		if i < 0 {
			t.Fatalf("heading %q missing or out of order:\n%s", h, r.Body)
		}
		at += i + 1
		if !strings.Contains(r.HTML, "<h2>"+h+"</h2>") {
			t.Errorf("HTML lacks heading <h2>%s</h2>", h)
		}
	}
	// Identity data leaked: the credit bureaus' numbers are given.
	f := fullFacts()
	f.Categories = []string{"government_id.ssn"}
	r, _ = templates.Notice(f, "", "notice-ca", nil)
	if !strings.Contains(r.Body, "Equifax") {
		t.Error("an SSN breach notice does not give the credit reporting agencies")
	}
}

func TestChineseReportIsInChinese(t *testing.T) {
	r, locale, err := templates.RegulatorReport(fullFacts(), templates.Report{Template: "report-cn", Regulator: "省网信办", Jurisdiction: "CN", Subjects: 26, Total: 54})
	if err != nil {
		t.Fatal(err)
	}
	if locale != "zh-CN" || !strings.Contains(r.Title, "个人信息安全事件报告") || !strings.Contains(r.Body, "涉及境内个人：26 人") || !strings.Contains(r.Body, "人脸图像") {
		t.Errorf("locale %s, title %q, body:\n%s", locale, r.Title, r.Body)
	}
}

var heading = regexp.MustCompile(`<h2>[^<]+</h2>`)

func TestHTMLEscapesWhatPeopleWrote(t *testing.T) {
	f := fullFacts()
	f.Description = `<script>alert("x")</script> & more`
	for _, name := range templates.Names() {
		var r templates.Rendered
		var err error
		if templates.IsNotice(name) {
			r, err = templates.Notice(f, "", name, nil)
		} else {
			r, _, err = templates.RegulatorReport(f, templates.Report{Template: name})
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(r.HTML, "<script>") || !strings.Contains(r.HTML, "&lt;script&gt;") {
			t.Errorf("%s: description not escaped in HTML", name)
		}
		if !strings.Contains(r.Body, "<script>") {
			t.Errorf("%s: the plain text should keep what was written", name)
		}
		if !heading.MatchString(r.HTML) {
			t.Errorf("%s: HTML has no headings", name)
		}
	}
}

func ExampleMissing() {
	f := fullFacts()
	f.Cause, f.DPOContact = "", ""
	fmt.Println(templates.Missing([]string{"description", "cause", "subjects", "dpo_contact"}, f))
	// Output: [cause dpo_contact]
}
