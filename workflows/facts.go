// Facts responders supply while drafts wait for legal.

package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/roles"
)

// factExamples are how a hint shows each fact a law may require. A content
// field is named as the law names it; occurred_at is set as occurred_from
// (and occurred_to), the only spelling the facts command takes.
var factExamples = map[string]string{
	"description": `description="What happened, in plain words"`, "impact": `impact="What it may mean for the people affected"`,
	"measures": `measures="What was done to contain it"`, "advice": `advice="What people can do to protect themselves"`,
	"remedies": `remedies="What we offer (credit monitoring, a hotline)"`, "contact": `contact="privacy@example.com, +1 800 555 0100"`,
	"occurred_at": `occurred_from=2026-11-18T00:00:00Z`, "cause": `cause="How it happened"`,
	"organisation": `organisation="The company's legal name"`, "reporter": `reporter="Who reports it, with a phone number"`,
	"dpo_contact": `dpo_contact=dpo@example.com`, "inquiry_desk": `inquiry_phone="+1 800 555 0100" --set inquiry_hours="Mon-Fri 9:00-18:00" --set inquiry_url=https://help.example.com`,
}

// TranslateHint is a `tocsin incident facts --locale` command that
// translates the texts a draft quotes in English.
func TranslateHint(incidentID, locale string, keys []string) string {
	var set []string
	for _, k := range keys {
		set = append(set, "--set "+k+"=…")
	}
	return "`tocsin incident facts " + incidentID + " --locale " + locale + " " + strings.Join(set, " ") + "`"
}

// FactsHint is a `tocsin incident facts` command that supplies the missing
// fields (with example values to replace). Fields no command can supply
// (detected_at and categories come from the incident file and the inventory)
// are named after it.
func FactsHint(incidentID string, missing []string) string {
	var set, other []string
	for _, f := range missing {
		if ex, ok := factExamples[f]; ok {
			set = append(set, "--set "+ex)
		} else {
			other = append(other, f)
		}
	}
	hint := ""
	if len(set) > 0 {
		hint = "`tocsin incident facts " + incidentID + " " + strings.Join(set, " ") + "` (with the incident's own values)"
	}
	if len(other) > 0 {
		if hint != "" {
			hint += "; "
		}
		hint += strings.Join(other, ", ") + " come from the incident file and the inventory's systems: open a corrected incident"
	}
	return hint
}

// MaxFactBytes bounds one fact: a fact is a paragraph of a notice, and
// every draft and its revision diff is computed from it.
const MaxFactBytes = 8 << 10

func checkSettable(set map[string]string) error {
	// Checked in Settable's order, never the map's, so that the same request
	// always gets the same answer.
	known := 0
	for _, k := range Settable {
		v, ok := set[k]
		if !ok {
			continue
		}
		known++
		if len(v) > MaxFactBytes {
			return fmt.Errorf("%s: %d bytes is longer than a notice can carry (at most %d); shorten it", k, len(v), MaxFactBytes)
		}
		if err := incident.CheckDeskFact(k, v); err != nil {
			return err
		}
		if k == "occurred_from" || k == "occurred_to" {
			if _, err := time.Parse(time.RFC3339, v); err != nil {
				return fmt.Errorf("%s: %q is not an RFC 3339 time (2026-11-18T00:00:00Z)", k, v)
			}
		}
	}
	if known < len(set) {
		return fmt.Errorf("%q is not a fact a draft states; use one of %s", firstUnknown(set, Settable), strings.Join(Settable, ", "))
	}
	return nil
}

// firstUnknown is the alphabetically first key of set that is not known.
func firstUnknown(set map[string]string, known []string) string {
	var unknown []string
	// The keys are sorted before use, so the map's order does not matter.
	//workflowcheck:ignore
	for k := range set {
		if !slices.Contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	return unknown[0]
}

// registerFacts lets responders supply facts the law requires while drafts
// wait for legal: each pending draft is drafted again if its text changes.
func (s *plan) registerFacts(ctx workflow.Context) error {
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateFacts, func(ctx workflow.Context, in FactsInput) ([]DraftState, error) {
		s.remember(ctx, &in)
		var keys []string
		if in.Locale != "" {
			// A translation: histories from before translations carry no
			// locale, so they take the branch below as they did.
			keys = s.setTranslation(in.Locale, in.Set)
		} else {
			keys = s.setFacts(in.Set)
		}
		if s.reviewer == nil {
			s.reviewer = map[string]string{}
		}
		var touched []string
		rendering := len(s.redrafting) > 0 && workflow.GetVersion(ctx, changeFactsDuringRender, workflow.DefaultVersion, 1) >= 1
		for _, d := range s.p.Drafts {
			// A draft rendering right now renders the facts as they were:
			// it is drafted again after, with these.
			again := rendering && slices.Contains(s.redrafting, d.Name) && !slices.Contains(s.refresh, d.Name) && !slices.Contains(s.pending, d.Name)
			if d.Status == DraftPending && !s.redrafted(d.Name) || again {
				s.refresh = append(s.refresh, d.Name)
				s.reviewer[d.Name] = in.Actor.Identity
				touched = append(touched, d.Name)
			}
		}
		s.event(ctx, fmt.Sprintf("%s set by %s", strings.Join(keys, ", "), in.Actor.Identity))
		// Pending drafts exist only while the plan awaits approval, which
		// drafts them again: answer with the drafts as legal will now see them.
		if err := workflow.Await(ctx, func() bool {
			return !slices.ContainsFunc(touched, s.redrafted)
		}); err != nil {
			return nil, err
		}
		out := []DraftState{}
		for _, n := range touched {
			out = append(out, *s.draft(n))
		}
		return out, nil
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, in FactsInput) error {
		if err := s.verifySigned(ctx, UpdateFacts, &in); err != nil {
			return err
		}
		if in.Actor.Role != roles.Responder && in.Actor.Role != roles.Admin && (in.Actor.Role != roles.Drill || !s.spec.Drill) {
			return forbidden("only responders set an incident's facts (%s is %s)", in.Actor.Identity, in.Actor.Role)
		}
		if len(in.Set) == 0 {
			return errors.New("set at least one fact (key=value)")
		}
		if s.p.Status == StageClosed {
			return errors.New("the incident is closed")
		}
		if in.Locale != "" {
			return checkTranslation(in.Locale, in.Set)
		}
		return checkSettable(in.Set)
	}})
}

// checkTranslation checks a translation's keys and lengths, in
// TranslatableKeys' order.
func checkTranslation(locale string, set map[string]string) error {
	known := 0
	for _, k := range incident.TranslatableKeys {
		v, ok := set[k]
		if !ok {
			continue
		}
		known++
		if err := incident.CheckTranslation(locale, k); err != nil {
			return err
		}
		if len(v) > MaxFactBytes {
			return fmt.Errorf("%s: %d bytes is longer than a notice can carry (at most %d); shorten it", k, len(v), MaxFactBytes)
		}
	}
	if known < len(set) {
		return fmt.Errorf("%q is not a text notices quote; translate %s", firstUnknown(set, incident.TranslatableKeys), strings.Join(incident.TranslatableKeys, ", "))
	}
	return nil
}

// setTranslation records texts of set translated into locale, and returns
// the keys it set ("description (ja)").
func (s *plan) setTranslation(locale string, set map[string]string) []string {
	var keys []string
	for _, k := range incident.TranslatableKeys {
		if v, ok := set[k]; ok {
			if s.spec.Translations == nil {
				s.spec.Translations = map[string]map[string]string{}
			}
			if s.spec.Translations[locale] == nil {
				s.spec.Translations[locale] = map[string]string{}
			}
			s.spec.Translations[locale][k] = v
			keys = append(keys, k+" ("+locale+")")
		}
	}
	return keys
}

// setFacts applies the settable facts of set to the incident, in Settable's
// order, and returns the keys it set.
func (s *plan) setFacts(set map[string]string) []string {
	var keys []string
	for _, k := range Settable {
		if v, ok := set[k]; ok {
			setField(&s.spec, k, v)
			keys = append(keys, k)
		}
	}
	s.p.Facts = FactsOf(s.spec)
	return keys
}

func setField(spec *incident.Spec, k, v string) {
	switch k {
	case "description":
		spec.Description = v
	case "impact":
		spec.Impact = v
	case "measures":
		spec.Measures = v
	case "advice":
		spec.Advice = v
	case "remedies":
		spec.Remedies = v
	case "contact":
		spec.Contact = v
	case "occurred_from":
		spec.OccurredFrom, _ = time.Parse(time.RFC3339, v)
	case "occurred_to":
		spec.OccurredTo, _ = time.Parse(time.RFC3339, v)
	default:
		// A new map, so the input's spec is not changed under it; filled in
		// FactKeys' order (the only keys a spec's facts hold).
		facts := make(map[string]string, len(spec.Facts)+1)
		for _, fk := range incident.FactKeys {
			if fv, ok := spec.Facts[fk]; ok {
				facts[fk] = fv
			}
		}
		facts[k] = v
		spec.Facts = facts
	}
}
