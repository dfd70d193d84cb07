package activities

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/store/storetest"
	"github.com/tocsin/tocsin/internal/verify"
	"github.com/tocsin/tocsin/playbooks"
	"github.com/tocsin/tocsin/templates"
)

// English readers in Singapore, New York and Iceland share one notice,
// which legal reads with its times in UTC; each of them gets those times
// in their own zone.
func TestANoticeReadInSeveralZonesGivesEachReaderTheirOwnTime(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := newCampaignOf(t, s, "subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems\n"+
			"sg,Ann,ann@example.com,,,en,SG,1980,crm\n"+
			"ny,Bo,bo@example.com,,,en,US-NY,1990,crm\n"+
			"is,Cy,cy@example.com,,,en,IS,1990,crm\n", nil, 0)
		snap, err := s.CurrentSnapshot(ctx)
		require.NoError(t, err)
		scope, err := s.Scope(ctx, store.ScopeInput{IncidentID: "INC-N", Snapshot: snap, Systems: []string{"crm"}, Year: 2026})
		require.NoError(t, err)
		spec := incident.Spec{Title: "Breach", DetectedAt: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC), Description: "A key leaked."}
		res, err := c.acts.RenderDrafts(ctx, DraftInput{IncidentID: "INC-N", Spec: spec, Scope: scope, DefaultLocale: "en", Author: "tocsin", Revision: 2})
		require.NoError(t, err)
		require.Len(t, res.Drafts, 1)
		require.Equal(t, []string{"America/New_York", "Asia/Singapore", "Atlantic/Reykjavik"}, res.Drafts[0].Zones, "legal is told where its readers live")
		d, err := s.GetDraft(ctx, "INC-N", "notice-en", 2)
		require.NoError(t, err)
		require.Contains(t, d.Body, "2026-11-20 08:00 UTC", "legal reads the draft in UTC")

		in := batch("email")
		in.Notices = map[string]int{"notice-en": 2}
		_, err = c.acts.SendBatch(ctx, in)
		require.NoError(t, err)
		entries, err := c.outbox.List(ctx, "INC-N")
		require.NoError(t, err)
		got := map[string]string{}
		for _, e := range entries {
			got[e.SubjectID] = e.Body
		}
		require.Contains(t, got["sg"], "2026-11-20 16:00 UTC+08:00")
		require.Contains(t, got["ny"], "2026-11-20 03:00 EST")
		require.Contains(t, got["is"], "2026-11-20 08:00 GMT")
		for id, body := range got {
			require.Contains(t, body, "A key leaked.", "%s reads the approved text", id)
		}
	})
}

// An EU report goes in the first language its authority accepts that
// Tocsin has the form in: Belgium's (Dutch, French, German) gets French,
// addressed by its own name, with Brussels' time; Italy's (Italian only)
// gets the English form and a note that holds it for legal.
func TestAnEUReportIsInALanguageItsAuthorityAccepts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := newCampaign(t, s)
		spec := incident.Spec{Title: "Breach", DetectedAt: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC), Description: "A key leaked.", Kind: "unauthorized-access"}
		ob := func(name, region, regulator, local string, langs ...string) playbooks.Obligation {
			return playbooks.Obligation{Name: name, Jurisdiction: "EU", Audience: "regulator", Template: "report-eu", Zone: "Europe/Brussels",
				Regulator: regulator, RegulatorLocal: local, RegulatorRegion: region, Languages: langs, Content: []string{"description"}}
		}
		res, err := c.acts.RenderDrafts(ctx, DraftInput{IncidentID: "INC-N", Spec: spec, DefaultLocale: "en", Author: "tocsin", Revision: 1, Obligations: []playbooks.Obligation{
			ob("eu-be", "BE", "Belgian Data Protection Authority", "Autorité de protection des données / Gegevensbeschermingsautoriteit", "nl", "fr", "de"),
			ob("eu-it", "IT", "Italian Data Protection Authority", "Garante per la protezione dei dati personali", "it"),
		}})
		require.NoError(t, err)
		require.Len(t, res.Drafts, 2)
		be, it := res.Drafts[0], res.Drafts[1]
		require.Equal(t, "fr", be.Locale)
		require.Empty(t, be.LanguageNote)
		d, err := s.GetDraft(ctx, "INC-N", "report-eu-be", 1)
		require.NoError(t, err)
		require.Contains(t, d.Title, "Notification d’une violation de données à caractère personnel (art. 33 RGPD)")
		require.Contains(t, d.Body, "Destinataire : Autorité de protection des données / Gegevensbeschermingsautoriteit")
		require.Contains(t, d.Body, "Type d’incident : accès non autorisé")
		require.Contains(t, d.Body, "Prise de connaissance : 20/11/2026 à 09:00 (CET)")
		require.Equal(t, []string{"title", "description"}, be.Untranslated, "the facts are in English: legal is told")

		require.Equal(t, "en", it.Locale)
		require.Contains(t, it.LanguageNote, "Italian Data Protection Authority accepts reports in it; Tocsin has report-eu in en, de, fr, es only")
		d, err = s.GetDraft(ctx, "INC-N", "report-eu-it", 1)
		require.NoError(t, err)
		require.Contains(t, d.Body, "To: Italian Data Protection Authority")
	})
}

// Where a substitute notice must name an inquiry desk (Japan's), the
// announcement holds for legal until the incident has one, and names it
// once it does; elsewhere nothing asks for it.
func TestTheAnnouncementNeedsTheInquiryDeskWhereTheLawDoes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := newCampaign(t, s)
		spec := incident.Spec{Title: "Breach", DetectedAt: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC), Description: "A key leaked.", Measures: "m", Advice: "a", Contact: "privacy@example.com"}
		jp := playbooks.Obligation{Name: "jp-individuals", Jurisdiction: "JP", Audience: "individuals", Substitute: &playbooks.Substitution{Methods: []string{"website", "inquiry_desk"}}}
		in := DraftInput{IncidentID: "INC-N", Spec: spec, DefaultLocale: "en", Author: "tocsin", Revision: 1, Announcement: true, Obligations: []playbooks.Obligation{jp}}
		res, err := c.acts.RenderDrafts(ctx, in)
		require.NoError(t, err)
		require.Equal(t, []string{"inquiry_desk"}, res.Drafts[0].Missing)

		in.Spec.Facts = map[string]string{"inquiry_phone": "0120-000-000", "inquiry_hours": "9:00-18:00 JST"}
		in.Revision = 2
		res, err = c.acts.RenderDrafts(ctx, in)
		require.NoError(t, err)
		require.Empty(t, res.Drafts[0].Missing)
		d, err := s.GetDraft(ctx, "INC-N", "announcement", 2)
		require.NoError(t, err)
		require.Contains(t, d.Body, "Our inquiry desk: 0120-000-000 (9:00-18:00 JST)")

		in.Obligations[0].Substitute.Methods = []string{"website"}
		in.Spec.Facts, in.Revision = nil, 3
		res, err = c.acts.RenderDrafts(ctx, in)
		require.NoError(t, err)
		require.Empty(t, res.Drafts[0].Missing, "no law here asks for a desk")
	})
}

// Each copy of a notice carries its reader's own code; without the key
// codes are made with, nothing is sent and the batch waits for an
// operator (our configuration, never a fact about a person).
func TestEachCopyCarriesItsReadersCodeAndNoKeySendsNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := newCampaign(t, s)
		require.NoError(t, s.SaveDraft(ctx, store.Draft{IncidentID: "INC-N", Name: "notice-en", Revision: 2, Kind: KindNotice, Locale: "en", Title: "Notice",
			Body: "Check it at https://x.example/n/" + verify.Mark + ".", SMS: "See https://x.example/n/" + verify.Mark, Voice: "Your code is " + verify.SpokenMark + "."}))
		in := batch("email", "sms")
		in.Notices = map[string]int{"notice-en": 2}

		_, err := c.acts.SendBatch(ctx, in)
		var appErr *temporal.ApplicationError
		require.ErrorAs(t, err, &appErr)
		require.Equal(t, ErrMisconfigured, appErr.Type())
		require.False(t, appErr.NonRetryable(), "retried once an operator supplies the key")
		tally, _, err := c.outbox.Tally(ctx, "INC-N")
		require.NoError(t, err)
		require.Empty(t, tally, "nothing went out with a placeholder in it")

		c.acts.VerifyKey = []byte("test key")
		_, err = c.acts.SendBatch(ctx, in)
		require.NoError(t, err)
		entries, err := c.outbox.List(ctx, "INC-N")
		require.NoError(t, err)
		require.Len(t, entries, 3)
		for _, e := range entries {
			code := verify.Code(c.acts.VerifyKey, "INC-N", e.SubjectID, 0)
			require.Contains(t, e.Body, "https://x.example/n/"+code, "%s's %s", e.SubjectID, e.Channel)
			who, err := s.LookupCode(ctx, code)
			require.NoError(t, err)
			require.Equal(t, e.SubjectID, who.SubjectID)
		}
	})
}

// A minor's notice goes to the guardian the inventory names, and opens by
// saying whose notice it is; an adult with a guardian's contact alone
// (under guardianship) is told through the guardian too; an adult with
// their own address gets their own copy, and a minor without a guardian
// named gets theirs.
func TestAMinorsNoticeGoesToTheirGuardian(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := newCampaignOf(t, s, "subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems,guardian_email,guardian_phone\n"+
			"kid,Mia Chen,mia@example.com,,,en,SG,2014,crm,parent@example.com,+6591110000\n"+
			"ward,Ed Low,,,,en,SG,1950,crm,carer@example.com,\n"+
			"adult,Ann Lee,ann@example.com,,,en,SG,1980,crm,,\n"+
			"teen,Bo Tan,bo@example.com,,,en,SG,2012,crm,,\n", nil, 0)
		require.NoError(t, s.SaveDraft(ctx, store.Draft{IncidentID: "INC-N", Name: "notice-en", Revision: 2, Kind: KindNotice, Locale: "en", Title: "Notice",
			Body: "Dear customer," + templates.GuardianMark + "\n\nYour data leaked."}))
		in := batch("email")
		in.Notices = map[string]int{"notice-en": 2}
		_, err := c.acts.SendBatch(ctx, in)
		require.NoError(t, err)
		entries, err := c.outbox.List(ctx, "INC-N")
		require.NoError(t, err)
		to, body := map[string]string{}, map[string]string{}
		for _, e := range entries {
			to[e.SubjectID], body[e.SubjectID] = e.To, e.Body
		}
		require.Equal(t, map[string]string{"kid": "parent@example.com", "ward": "carer@example.com", "adult": "ann@example.com", "teen": "bo@example.com"}, to)
		require.Contains(t, body["kid"], "as the parent or guardian of Mia Chen")
		require.Contains(t, body["ward"], "as the parent or guardian of Ed Low")
		require.NotContains(t, body["adult"], "guardian")
		require.NotContains(t, body["teen"], "guardian")
		require.NotContains(t, body["adult"], "[[")
	})
}
