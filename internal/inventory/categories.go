package inventory

import "strings"

// sensitiveFamilies are the first segments of category names that make an
// exposure sensitive (PIPL art. 28, GDPR art. 9 and their neighbours).
var sensitiveFamilies = map[string]bool{
	"biometric": true, "health": true, "financial": true,
	"government_id": true, "location": true, "credential": true,
}

var knownFamilies = map[string]bool{
	"account": true, "contact": true, "credential": true, "device": true, "log": true, "biometric": true,
	"health": true, "financial": true, "government_id": true, "location": true, "content": true, "tag": true,
}

// SensitiveCategory reports whether a dotted category name is sensitive.
func SensitiveCategory(c string) bool {
	family, _, _ := strings.Cut(c, ".")
	return sensitiveFamilies[family]
}

// Family is the first segment of a dotted category name.
func Family(c string) string {
	family, _, _ := strings.Cut(c, ".")
	return family
}

// MinorAgeLimit is the age below which a subject counts as a minor.
const MinorAgeLimit = 18

// IsMinor reports whether someone born in birthYear may be a minor in year.
// Without a birth date, anyone who could still be under the limit counts,
// because treating a child as an adult is the worse mistake.
func IsMinor(birthYear, year int) bool {
	if birthYear == 0 {
		return false
	}
	return year-birthYear <= MinorAgeLimit
}
