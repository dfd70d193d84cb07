package activities

import (
	"cmp"
	"maps"

	"github.com/tocsin/tocsin/internal/inventory"
	"github.com/tocsin/tocsin/internal/plandata"
	"github.com/tocsin/tocsin/internal/verify"

	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"go.temporal.io/sdk/temporal"

	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/senders"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/playbooks"
	"github.com/tocsin/tocsin/templates"
)

// Draft kinds, as the API reports them.
const (
	KindReport       = "regulator_report"
	KindNotice       = "subject_notice"
	KindAnnouncement = "public_announcement"
)

// DraftInfo is a draft's identity, without its text.
type DraftInfo struct {
	Name     string
	Kind     string
	Locale   string
	Audience string
	Revision int
	Author   string
	// Missing are the content fields the law requires that the facts do not
	// yet supply; a draft with any is incomplete and cannot be approved.
	Missing []string `json:",omitempty"`
	// SMSTooLong says why a notice's SMS is over the playbook's limit of
	// segments; such a notice cannot be approved.
	SMSTooLong string `json:",omitempty"`
	// Untranslated are texts quoted in English for want of a translation
	// into the draft's language.
	Untranslated []string `json:",omitempty"`
	// Zones are where a notice's readers live when they live in several:
	// each reads the notice with its times in their own zone (a variant
	// rendered with the draft, incident.ZoneVariant), and the draft legal
	// reads gives them in UTC.
	Zones []string `json:",omitempty"`
	// LanguageNote says why a report is not in a language its recipient
	// accepts; legal approves it only with a comment.
	LanguageNote string `json:",omitempty"`
}

// DraftInput asks for drafts to be rendered.
type DraftInput struct {
	IncidentID    string
	Spec          incident.Spec
	Scope         plandata.ScopeSummary
	Obligations   []playbooks.Obligation
	DefaultLocale string
	Author        string
	// Only limits rendering to these names (a revision); empty renders the
	// regulator reports and subject notices.
	Only []string
	// Except skips these names: a follow-up wave drafts only what its new
	// duties and readers need, leaving the approved drafts as they are.
	Except []string `json:",omitempty"`
	// Revision numbers the new texts; 1 for the first drafts.
	Revision int
	// Announcement renders the public announcement instead.
	Announcement bool
	// IfChanged keeps the current revision (Revision-1) when the new text
	// would be the same: new facts need not make legal read a draft again.
	IfChanged bool
	// SMSMaxSegments is the playbook's limit on a notice's SMS (0: none).
	SMSMaxSegments int `json:",omitempty"`
}

// CheckSMSLength says why an SMS text is over the limit of segments ("" when
// it is not, or there is no limit).
func CheckSMSLength(text string, limit int) string {
	encoding, parts := senders.Segments(text)
	if limit <= 0 || parts <= limit {
		return ""
	}
	return fmt.Sprintf("its SMS is %d segments (%s, %d characters), over the playbook's sms_max_segments of %d", parts, encoding, utf8.RuneCountInString(text), limit)
}

// DraftResult lists what was rendered.
type DraftResult struct {
	Drafts []DraftInfo
}

// NoticeLocalesFor returns the notice locales the affected subjects need:
// each person's language, else where they live (templates.NoticeLocaleIn).
func NoticeLocalesFor(s plandata.ScopeSummary, fallback string) []string {
	return slices.Sorted(maps.Keys(noticeReaders(s, fallback)))
}

// noticeReaders maps each notice locale the affected people read to the
// zones they live in. A summary from before regions counted languages
// picks by language alone, and knows no zones.
func noticeReaders(s plandata.ScopeSummary, fallback string) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for region, f := range s.Regions {
		zone, ok := inventory.ZoneName(region)
		if !ok {
			zone = "UTC"
		}
		for tag := range f.Locales {
			l, _ := templates.NoticeLocaleIn(tag, region, fallback)
			if out[l] == nil {
				out[l] = map[string]bool{}
			}
			out[l][zone] = true
		}
	}
	if len(out) == 0 {
		for tag := range s.Locales {
			out[templates.NoticeLocale(tag, fallback)] = map[string]bool{}
		}
	}
	return out
}

// noticeZone is the zone the draft of a notice gives its times in: the
// one its readers live in; UTC, named in its language, for readers in
// several (each of whom gets a variant in their own); none known, as
// before zones.
func noticeZone(zones map[string]bool) string {
	switch len(zones) {
	case 0:
		return ""
	case 1:
		for z := range zones {
			return z
		}
	}
	return "UTC"
}

// sampleCode stands for a person's code where an SMS is measured.
var sampleCode = strings.Repeat("X", verify.Length)

// saveZoneVariants stores, beside a notice read in several zones, the
// same revision with its times in each zone but UTC (whose readers get
// the draft itself). They are rendered from the facts the draft was, by
// the same template, so legal's approval of the draft covers them; a
// retry or an unchanged revision saves nothing new.
func (a *Activities) saveZoneVariants(ctx context.Context, incidentID string, info DraftInfo, facts templates.Facts, content []string) error {
	for _, zone := range info.Zones {
		if zone == "UTC" {
			continue
		}
		zoned := facts
		zoned.Zone = zone
		r, err := templates.Notice(zoned, info.Locale, "", content)
		if err != nil {
			return temporal.NewNonRetryableApplicationError(err.Error(), ErrTemplate, err)
		}
		d := store.Draft{IncidentID: incidentID, Name: incident.ZoneVariant(info.Name, zone), Revision: info.Revision, Kind: info.Kind, Locale: info.Locale,
			Audience: info.Audience, Title: r.Title, Body: r.Body, HTML: r.HTML, SMS: r.SMS, Voice: r.Voice, CreatedBy: info.Author}
		if err := a.Store.SaveDraft(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// reportLanguage is the language a report is drafted in: the first its
// recipient accepts that Tocsin has the form in (empty: the form's own,
// for a recipient whose languages the law file does not list); when it
// has none of them, the form's own, and a note saying so for legal.
func reportLanguage(ob playbooks.Obligation) (locale, note string) {
	if len(ob.Languages) == 0 {
		return "", ""
	}
	template := cmp.Or(ob.Template, "report")
	have := templates.ReportLanguages(template)
	for _, want := range ob.Languages {
		for _, h := range have {
			if h == want || strings.HasPrefix(want, h+"-") {
				return h, ""
			}
		}
	}
	return "", fmt.Sprintf("%s accepts reports in %s; Tocsin has %s in %s only: have it translated before filing", ob.Regulator, strings.Join(ob.Languages, ", "), template, strings.Join(have, ", "))
}

// AnnouncementContent is what the public announcement must state beyond
// its usual text: the inquiry desk, where a substitute notice the law
// allows must name one (Japan's inquiry desk, HIPAA's toll-free number).
func AnnouncementContent(obligations []playbooks.Obligation) []string {
	for _, ob := range obligations {
		if ob.Substitute != nil && (slices.Contains(ob.Substitute.Methods, "inquiry_desk") || slices.Contains(ob.Substitute.Methods, "toll_free_number")) {
			return []string{"inquiry_desk"}
		}
	}
	return nil
}

// ReportDraftName is the draft that carries an obligation's report.
func ReportDraftName(obligation string) string {
	return "report-" + strings.ReplaceAll(obligation, "/", "-")
}

// RegionalNoticeName is the draft of a notice whose form a jurisdiction
// prescribes (California's); its residents get it instead of the locale notice.
func RegionalNoticeName(jurisdiction string) string {
	return "notice-" + strings.ToLower(jurisdiction)
}

// noticeContent is what the locale notices must say: the union of every
// duty to individuals that has no form of its own, so the notice satisfies
// the strictest.
func noticeContent(obligations []playbooks.Obligation) []string {
	var out []string
	for _, ob := range obligations {
		if ob.Audience != "individuals" || ob.Template != "" {
			continue
		}
		for _, c := range ob.Content {
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out
}

func regionsOf(s plandata.ScopeSummary, jurisdiction string) []string {
	var out []string
	for region, f := range s.Regions {
		if slices.Contains(playbooks.JurisdictionsOf(region), jurisdiction) {
			out = append(out, fmt.Sprintf("%s %d", region, f.Subjects))
		}
	}
	slices.Sort(out)
	return out
}

// RenderDrafts renders regulator reports (one per obligation to a regulator),
// subject notices (one per locale, plus one per prescribed regional form) or
// the announcement, and stores them, each with the list of required facts it
// still lacks. Saving is keyed by (incident, name, revision), so a retry
// stores nothing new.
func (a *Activities) RenderDrafts(ctx context.Context, in DraftInput) (DraftResult, error) {
	if in.Revision == 0 {
		in.Revision = 1
	}
	facts := FactsOf(in.Spec, in.IncidentID, in.Scope.Categories)
	facts.VerifyURL = a.PublicURL
	want := func(name string) bool {
		return (len(in.Only) == 0 || slices.Contains(in.Only, name)) && !slices.Contains(in.Except, name)
	}
	var out []DraftInfo
	save := func(info DraftInfo, r templates.Rendered) error {
		info.Revision, info.Author = in.Revision, in.Author
		d := store.Draft{IncidentID: in.IncidentID, Name: info.Name, Revision: in.Revision, Kind: info.Kind, Locale: info.Locale,
			Audience: info.Audience, Title: r.Title, Body: r.Body, HTML: r.HTML, SMS: r.SMS, Voice: r.Voice, CreatedBy: in.Author}
		if in.IfChanged && in.Revision > 1 {
			cur, err := a.Store.GetDraft(ctx, in.IncidentID, info.Name, in.Revision-1)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if err == nil && cur.Title == d.Title && cur.Body == d.Body && cur.SMS == d.SMS && cur.Voice == d.Voice {
				info.Revision, info.Author = cur.Revision, cur.CreatedBy
				out = append(out, info)
				return nil
			}
		}
		out = append(out, info)
		return a.Store.SaveDraft(ctx, d)
	}
	fail := func(err error) (DraftResult, error) {
		return DraftResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTemplate, err)
	}
	// ownForm is a form of the operator's own that a duty names, from
	// their playbook directory, which is read once however many name one.
	var pb *playbooks.Playbook
	ownForm := func(ob playbooks.Obligation) (*templates.Form, error) {
		if pb == nil {
			p, err := a.playbook(in.Spec.Playbook)
			if err != nil {
				return nil, err
			}
			pb = p
		}
		if f := pb.Forms[ob.Template]; f != nil {
			return f, nil
		}
		err := fmt.Errorf("obligation %s: playbook %s has no form %q", ob.Name, in.Spec.Playbook, ob.Template)
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), ErrTemplate, err)
	}
	if in.Announcement {
		locales := templates.AnnouncementLocales(NoticeLocalesFor(in.Scope, in.DefaultLocale))
		required := AnnouncementContent(in.Obligations)
		r, untranslated, err := templates.Announcement(facts, locales, required)
		if err != nil {
			return fail(err)
		}
		return DraftResult{Drafts: out}, save(DraftInfo{Name: "announcement", Kind: KindAnnouncement, Locale: strings.Join(locales, "+"), Audience: "public", Untranslated: untranslated,
			Missing: templates.Missing(required, facts)}, r)
	}
	byJurisdiction := playbooks.JurisdictionFacts(in.Scope.ForRules(), in.Spec.ForRules())
	for _, ob := range in.Obligations {
		if ob.Audience == "individuals" {
			continue
		}
		name := ReportDraftName(ob.Name)
		if !want(name) {
			continue
		}
		f := byJurisdiction[ob.Jurisdiction]
		due := ob.Due
		if !ob.DueAt.IsZero() {
			due = fmt.Sprintf("%s (%s from %s)", ob.DueText(), ob.Due, ob.Anchor)
		}
		locale, languageNote := reportLanguage(ob)
		zone := ob.Zone
		if z, ok := inventory.ZoneName(ob.RegulatorRegion); ok && ob.RegulatorRegion != "" {
			zone = z
		}
		report := templates.Report{Template: ob.Template, Locale: locale, Regulator: ob.Regulator, RegulatorLocal: ob.RegulatorLocal, Zone: zone, SourcesLocal: ob.SourcesLocal, DueAt: ob.DueAt, Jurisdiction: ob.Jurisdiction,
			Duty: ob.Name, Due: due, Sources: ob.Sources, Regions: regionsOf(in.Scope, ob.Jurisdiction), Subjects: f.Subjects, Total: in.Scope.Subjects,
			Sensitive: f.Sensitive, Minors: f.Minors, Required: ob.Content}
		if ob.Template != "" && !slices.Contains(templates.Names(), ob.Template) {
			form, err := ownForm(ob)
			if err != nil {
				return DraftResult{}, err
			}
			report.Form = form
		}
		r, locale, err := templates.RegulatorReport(facts, report)
		if err != nil {
			return fail(err)
		}
		info := DraftInfo{Name: name, Kind: KindReport, Locale: locale, Audience: ob.Regulator, Missing: templates.Missing(ob.Content, facts), Untranslated: templates.Untranslated(facts, locale),
			LanguageNote: languageNote}
		if err := save(info, r); err != nil {
			return DraftResult{}, err
		}
	}
	content := noticeContent(in.Obligations)
	readers := noticeReaders(in.Scope, in.DefaultLocale)
	for _, locale := range slices.Sorted(maps.Keys(readers)) {
		name := "notice-" + locale
		if !want(name) {
			continue
		}
		zoned := facts
		zoned.Zone = noticeZone(readers[locale])
		r, err := templates.Notice(zoned, locale, "", content)
		if err != nil {
			return fail(err)
		}
		info := DraftInfo{Name: name, Kind: KindNotice, Locale: locale, Audience: "individuals", Missing: templates.Missing(content, facts), SMSTooLong: CheckSMSLength(verify.Personalize(r.SMS, sampleCode), in.SMSMaxSegments),
			Untranslated: templates.Untranslated(facts, locale)}
		if len(readers[locale]) > 1 {
			info.Zones = slices.Sorted(maps.Keys(readers[locale]))
		}
		if err := save(info, r); err != nil {
			return DraftResult{}, err
		}
		if err := a.saveZoneVariants(ctx, in.IncidentID, out[len(out)-1], facts, content); err != nil {
			return DraftResult{}, err
		}
	}
	for _, ob := range in.Obligations {
		if ob.Audience != "individuals" || ob.Template == "" {
			continue
		}
		name := RegionalNoticeName(ob.Jurisdiction)
		if !want(name) {
			continue
		}
		var own *templates.Form
		if !templates.IsNotice(ob.Template) {
			form, err := ownForm(ob)
			if err != nil {
				return DraftResult{}, err
			}
			own = form
		}
		zoned := facts
		zoned.Zone = ob.Zone
		r, err := templates.NoticeWith(zoned, "", ob.Template, own, ob.Content)
		if err != nil {
			return fail(err)
		}
		info := DraftInfo{Name: name, Kind: KindNotice, Locale: "en", Audience: "individuals in " + ob.Jurisdiction, Missing: templates.Missing(ob.Content, facts), SMSTooLong: CheckSMSLength(verify.Personalize(r.SMS, sampleCode), in.SMSMaxSegments)}
		if err := save(info, r); err != nil {
			return DraftResult{}, err
		}
	}
	return DraftResult{Drafts: out}, nil
}
