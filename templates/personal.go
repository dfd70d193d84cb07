package templates

import (
	"cmp"
	"fmt"
	htemplate "html/template"
	"strings"

	"github.com/tocsin/tocsin/internal/verify"
)

// EnrolmentMark stands, in an approved notice, for the reader's own
// enrolment code for the remedy offered (removed for readers without one).
const EnrolmentMark = "[[enrolment]]"

// YourDataMark stands, in an approved notice, for the categories of the
// reader's own data involved (an incident's people each had some of its
// categories exposed, not all).
const YourDataMark = "[[your_data]]"

// GuardianMark stands, after a notice's greeting, where a copy sent to
// the person's parent or guardian says so (removed in the person's own).
const GuardianMark = "[[guardian]]"

// Someone stands for the name of a person in a guardian's care whose name
// the inventory does not have.
const Someone = "\x00someone"

// Personal is what one person's copy of a notice carries of their own.
type Personal struct {
	// Code is their notice code (internal/verify).
	Code string
	// EnrolmentCode and EnrolBy are their code for the remedy offered and
	// its last day, where the incident has one for them.
	EnrolmentCode, EnrolBy string
	// Categories are the categories of their own data involved.
	Categories []string
	// GuardianOf, when set, is the name of the person in the reader's
	// care (Someone when unknown): the copy goes to their guardian.
	GuardianOf string
}

// Personalize makes one person's copy of an approved text written in
// locale: their notice code, and their enrolment code or nothing. html
// says the text is the HTML part.
func Personalize(text, locale string, p Personal, html bool) string {
	if !strings.Contains(text, "[[") {
		return text
	}
	if p.Code != "" {
		text = verify.Personalize(text, p.Code)
	}
	if strings.Contains(text, GuardianMark) {
		text = strings.ReplaceAll(text, GuardianMark, guardianLine(locale, p.GuardianOf, html))
	}
	if strings.Contains(text, YourDataMark) {
		text = strings.ReplaceAll(text, YourDataMark, yourData(locale, p.Categories, html))
	}
	if !strings.Contains(text, EnrolmentMark) {
		return text
	}
	line := ""
	if p.EnrolmentCode != "" {
		s, en := labelsFor(locale)
		line = fmt.Sprintf(cmp.Or(s.Enrolment, en.Enrolment), p.EnrolmentCode)
		if p.EnrolBy != "" {
			line += " " + fmt.Sprintf(cmp.Or(s.EnrolBy, en.EnrolBy), p.EnrolBy)
		}
		if html {
			line = "<br>" + htemplate.HTMLEscapeString(line)
		} else {
			line = "\n" + line
		}
	}
	return strings.ReplaceAll(text, EnrolmentMark, line)
}

// yourData is the line naming a reader's own data involved, in their
// language: nothing when Tocsin does not know it.
func yourData(locale string, categories []string, html bool) string {
	if len(categories) == 0 {
		return ""
	}
	s, en := labelsFor(locale)
	sep := ", "
	if s.ListSeparator != nil {
		sep = *s.ListSeparator
	}
	line := fmt.Sprintf(cmp.Or(s.YourOwnData, en.YourOwnData), strings.Join(Labels(categories, locale), sep))
	// The mark begins the line after the list (HTML keeps the text's
	// lines: the article is pre-wrapped).
	if html {
		return htemplate.HTMLEscapeString(line) + "\n"
	}
	return line + "\n"
}

// guardianLine tells a guardian, in their language, whose notice this is
// and that its "you" means that person; nothing in the person's own copy.
func guardianLine(locale, name string, html bool) string {
	if name == "" {
		return ""
	}
	s, en := labelsFor(locale)
	line := cmp.Or(s.GuardianSomeone, en.GuardianSomeone)
	if name != Someone {
		line = fmt.Sprintf(cmp.Or(s.Guardian, en.Guardian), name)
	}
	if html {
		line = htemplate.HTMLEscapeString(line)
	}
	// The mark ends the greeting's line.
	return "\n\n" + line
}
