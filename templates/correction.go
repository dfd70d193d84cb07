package templates

import (
	"fmt"
	htemplate "html/template"
)

// Copy is one notice's texts as a channel may send them.
type Copy struct {
	Title, Body, HTML, SMS, Voice string
}

// Corrected marks a copy as the correction of an earlier notice, in its
// reader's language: the title says so, and every text opens with the
// line that says it replaces the notice sent before, so a reader who
// kept the first one knows which to trust.
func Corrected(locale string, c Copy) Copy {
	s, en := labelsFor(locale)
	title, lead := s.Correction, s.CorrectionLead
	if title == "" || lead == "" {
		title, lead = en.Correction, en.CorrectionLead
	}
	out := Copy{Title: fmt.Sprintf(title, c.Title), Body: lead + "\n\n" + c.Body, Voice: lead + " " + c.Voice}
	if c.HTML != "" {
		out.HTML = "<p><strong>" + htemplate.HTMLEscapeString(lead) + "</strong></p>\n" + c.HTML
	}
	if c.SMS != "" {
		out.SMS = fmt.Sprintf(title, c.SMS)
	}
	return out
}
