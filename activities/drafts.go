package activities

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/tocsin/tocsin/internal/incident"
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
}

// DraftInput asks for drafts to be rendered.
type DraftInput struct {
	IncidentID    string
	Spec          incident.Spec
	Scope         store.ScopeSummary
	Obligations   []playbooks.Obligation
	DefaultLocale string
	Author        string
	// Only limits rendering to these names (a revision); empty renders the
	// regulator reports and subject notices.
	Only []string
	// Revision numbers the new texts; 1 for the first drafts.
	Revision int
	// Announcement renders the public announcement instead.
	Announcement bool
}

// DraftResult lists what was rendered.
type DraftResult struct {
	Drafts []DraftInfo
}

// NoticeLocalesFor returns the notice locales the affected subjects need.
func NoticeLocalesFor(s store.ScopeSummary, fallback string) []string {
	seen := map[string]bool{}
	for tag := range s.Locales {
		seen[templates.NoticeLocale(tag, fallback)] = true
	}
	var out []string
	for l := range seen {
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}

// ReportDraftName is the draft that carries an obligation's report.
func ReportDraftName(obligation string) string {
	return "report-" + strings.ReplaceAll(obligation, "/", "-")
}

// RenderDrafts renders regulator reports (one per obligation to a regulator),
// subject notices (one per locale) or the announcement, and stores them.
// Saving is keyed by (incident, name, revision), so a retry stores nothing new.
func (a *Activities) RenderDrafts(ctx context.Context, in DraftInput) (DraftResult, error) {
	if in.Revision == 0 {
		in.Revision = 1
	}
	facts := factsOf(in.Spec, in.IncidentID, in.Scope.Categories)
	want := func(name string) bool { return len(in.Only) == 0 || slices.Contains(in.Only, name) }
	var out []DraftInfo
	save := func(info DraftInfo, r templates.Rendered) error {
		info.Revision, info.Author = in.Revision, in.Author
		err := a.Store.SaveDraft(ctx, store.Draft{IncidentID: in.IncidentID, Name: info.Name, Revision: in.Revision, Kind: info.Kind, Locale: info.Locale,
			Audience: info.Audience, Title: r.Title, Body: r.Body, SMS: r.SMS, Voice: r.Voice, CreatedBy: in.Author})
		out = append(out, info)
		return err
	}
	if in.Announcement {
		r, err := templates.Announcement(facts)
		if err != nil {
			return DraftResult{}, temporal.NewNonRetryableApplicationError(err.Error(), "template", err)
		}
		return DraftResult{Drafts: out}, save(DraftInfo{Name: "announcement", Kind: KindAnnouncement, Locale: "en+zh-CN", Audience: "public"}, r)
	}
	byJurisdiction := JurisdictionFacts(in.Scope, in.Spec)
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
			due = fmt.Sprintf("%s (%s from %s)", ob.DueAt.UTC().Format("2006-01-02 15:04 UTC"), ob.Due, ob.Anchor)
		}
		r, locale, err := templates.RegulatorReport(facts, templates.Report{Template: ob.Template, Regulator: ob.Regulator, Jurisdiction: ob.Jurisdiction,
			Duty: ob.Name, Due: due, Sources: ob.Sources, Subjects: f.Subjects, Total: in.Scope.Subjects, Sensitive: f.Sensitive, Minors: f.Minors})
		if err != nil {
			return DraftResult{}, temporal.NewNonRetryableApplicationError(err.Error(), "template", err)
		}
		if err := save(DraftInfo{Name: name, Kind: KindReport, Locale: locale, Audience: ob.Regulator}, r); err != nil {
			return DraftResult{}, err
		}
	}
	for _, locale := range NoticeLocalesFor(in.Scope, in.DefaultLocale) {
		name := "notice-" + locale
		if !want(name) {
			continue
		}
		r, err := templates.Notice(facts, locale)
		if err != nil {
			return DraftResult{}, temporal.NewNonRetryableApplicationError(err.Error(), "template", err)
		}
		if err := save(DraftInfo{Name: name, Kind: KindNotice, Locale: locale, Audience: "individuals"}, r); err != nil {
			return DraftResult{}, err
		}
	}
	return DraftResult{Drafts: out}, nil
}
