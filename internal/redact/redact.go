// Package redact hides contact details before they reach a log, a chat
// message or an export: enough stays to tell two people apart, not to reach them.
package redact

import (
	"regexp"
	"strings"
)

// Contact masks one address or number: "a***@example.com", "*******4567".
func Contact(s string) string {
	if at := strings.LastIndex(s, "@"); at > 0 {
		return s[:1] + "***" + s[at:]
	}
	if len(s) > 4 {
		return strings.Repeat("*", len(s)-4) + s[len(s)-4:]
	}
	return "****"
}

var (
	emailPattern = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
	// phonePattern is an E.164-looking number or a long run of digits with
	// the usual separators; dates and counts are shorter.
	phonePattern = regexp.MustCompile(`\+?\d[\d \-().]{7,}\d`)
)

// Text masks every e-mail address and phone number inside free text, such
// as a provider's error message that quotes the recipient.
func Text(s string) string {
	s = emailPattern.ReplaceAllStringFunc(s, Contact)
	return phonePattern.ReplaceAllStringFunc(s, func(m string) string {
		digits := 0
		for _, c := range m {
			if c >= '0' && c <= '9' {
				digits++
			}
		}
		// An international number has a '+'; a bare run must be long enough
		// not to be a date (2026-11-23) or a count.
		if digits < 8 || !strings.HasPrefix(m, "+") && digits < 10 {
			return m
		}
		return Contact(strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' || r == '+' {
				return r
			}
			return -1
		}, m))
	})
}
