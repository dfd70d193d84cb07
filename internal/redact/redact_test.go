package redact

import "testing"

func TestContactDetailsAreMaskedInFreeText(t *testing.T) {
	for in, want := range map[string]string{
		"550 5.1.1 <ann.lee@bad.invalid>: Recipient address rejected": "550 5.1.1 <a***@bad.invalid>: Recipient address rejected",
		"The 'To' number +15005550001 is not a valid phone number":    "The 'To' number ********0001 is not a valid phone number",
		"call +86 138-0000-0002 failed":                               "call **********0002 failed",
		"2,210 sends recovered on 2026-11-23":                         "2,210 sends recovered on 2026-11-23",
		"ann@example.com":                                             "a***@example.com",
	} {
		if got := Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Contact("+6591234567"); got != "*******4567" {
		t.Errorf("Contact = %q", got)
	}
}
