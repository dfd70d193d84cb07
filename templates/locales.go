package templates

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// NoticeLocales are the locales subject notices are written in: each has
// a notice.LOCALE.tmpl and a labels/LOCALE.yaml.
var NoticeLocales = []string{"en", "zh-CN", "zh-HK", "ja", "ko", "de", "fr", "es", "pt-BR"}

var officialLanguages = sync.OnceValues(func() (map[string]string, error) {
	data, err := files.ReadFile("languages.yaml")
	if err != nil {
		return nil, err
	}
	var doc struct {
		Official map[string]string `yaml:"official"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("templates/languages.yaml: %w", err)
	}
	for country, l := range doc.Official {
		if !slices.Contains(NoticeLocales, l) {
			return nil, fmt.Errorf("templates/languages.yaml: %s: %q has no notice (%s)", country, l, strings.Join(NoticeLocales, ", "))
		}
	}
	return doc.Official, nil
})

// OfficialLocale is the notice locale of where a person lives (a country,
// or a region such as US-CA), or "" where languages.yaml names none.
func OfficialLocale(region string) string {
	m, err := officialLanguages()
	if err != nil {
		panic(err) // embedded; TestOfficialLanguagesHaveNotices reads it
	}
	country, _, _ := strings.Cut(strings.ToUpper(region), "-")
	return m[country]
}

// NoticeLocale picks the notice locale for a subject's BCP 47 tag, without
// knowing where they live: see NoticeLocaleIn.
func NoticeLocale(tag, fallback string) string {
	l, _ := NoticeLocaleIn(tag, "", fallback)
	return l
}

// NoticeLocaleIn picks the notice locale for a person whose language is
// tag and who lives in region, and says why: their own language (exactly,
// or its script or base language: zh-TW reads Traditional Chinese, de-AT
// German, pt-PT Brazilian Portuguese), else the official language of
// where they live, else the playbook's default (fallback), else English.
func NoticeLocaleIn(tag, region, fallback string) (string, string) {
	if l := ownLocale(tag); l != "" {
		if strings.EqualFold(l, tag) {
			return l, "their language"
		}
		return l, "closest to their language " + tag
	}
	if l := OfficialLocale(region); l != "" {
		return l, "the official language of " + region + " (no notice in " + orNone(tag) + ")"
	}
	if fallback == "" {
		fallback = "en"
	}
	return fallback, "the playbook's default (no notice in " + orNone(tag) + ", none for " + orNone(region) + ")"
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// ownLocale is the notice locale that reads the person's language, or "".
func ownLocale(tag string) string {
	for _, l := range NoticeLocales {
		if strings.EqualFold(tag, l) {
			return l
		}
	}
	lower := strings.ToLower(strings.ReplaceAll(tag, "_", "-"))
	base, _, _ := strings.Cut(lower, "-")
	if base == "zh" {
		for _, trad := range []string{"-hk", "-mo", "-tw", "-hant"} {
			if strings.Contains(lower, trad) {
				return "zh-HK"
			}
		}
		return "zh-CN"
	}
	for _, l := range NoticeLocales {
		lb, _, _ := strings.Cut(strings.ToLower(l), "-")
		if base != "" && lb == base {
			return l
		}
	}
	return ""
}
