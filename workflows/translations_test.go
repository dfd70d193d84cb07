package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/activities"
)

// A Japanese notice quoting English measures is held: legal's approval
// without a comment is refused with the command that translates them; a
// responder's translation (facts --locale ja) drafts it again, complete,
// and legal approves it. Legal may also approve untranslated text with a
// comment saying why.
func TestAnUntranslatedNoticeNeedsATranslationOrLegalsComment(t *testing.T) {
	env := setup(t, 0, overrides{drafts: func(_ context.Context, in activities.DraftInput) (activities.DraftResult, error) {
		if in.Announcement {
			return activities.DraftResult{Drafts: []activities.DraftInfo{{Name: "announcement", Kind: activities.KindAnnouncement, Revision: in.Revision}}}, nil
		}
		var out []activities.DraftInfo
		for _, name := range []string{"notice-ja", "notice-de"} {
			if len(in.Only) > 0 && in.Only[0] != name {
				continue
			}
			d := activities.DraftInfo{Name: name, Kind: activities.KindNotice, Locale: name[len("notice-"):], Revision: in.Revision, Author: in.Author}
			if in.Spec.Translations[d.Locale]["measures"] == "" {
				d.Untranslated = []string{"measures"}
			}
			out = append(out, d)
		}
		return activities.DraftResult{Drafts: out}, nil
	}})
	var bare, badLocale, translate, approveJa, withComment *updateResult
	env.RegisterDelayedCallback(func() {
		withComment = update(env, UpdateApprove, ApproveInput{Actor: legalActor, Draft: "notice-de", Revision: 1, Comment: "German translation follows in the FAQ; the English measures may go"})
		bare = update(env, UpdateApprove, ApproveInput{Actor: legalActor, Draft: "notice-ja", Revision: 1})
		badLocale = update(env, UpdateFacts, FactsInput{Actor: responderActor, Locale: "it", Set: map[string]string{"measures": "x"}})
		translate = update(env, UpdateFacts, FactsInput{Actor: responderActor, Locale: "ja", Set: map[string]string{"measures": "当該キーを無効化しました。"}})
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		p := progressOf(t, env)
		ja := p.Drafts[0]
		require.Equal(t, "notice-ja", ja.Name)
		require.Equal(t, 2, ja.Revision, "translated, drafted again")
		require.Empty(t, ja.Untranslated)
		approveJa = update(env, UpdateApprove, ApproveInput{Actor: legalActor, Draft: "notice-ja", Revision: 2})
	}, 2*time.Minute)
	env.ExecuteWorkflow(IncidentWorkflowName, input())
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.ErrorContains(t, bare.rejected, "quotes in English what is not translated to ja: measures")
	require.ErrorContains(t, bare.rejected, "tocsin incident facts INC-1 --locale ja --set measures=")
	require.ErrorContains(t, badLocale.rejected, `"it" is not a language notices are written in`)
	require.NoError(t, translate.rejected)
	require.NoError(t, withComment.rejected)
	require.NoError(t, approveJa.rejected)
}

// A report drafted in a language its authority does not accept is held:
// legal approves it only with a comment saying how it will be filed.
func TestAReportInALanguageItsAuthorityRefusesNeedsLegalsComment(t *testing.T) {
	env := setup(t, 0, overrides{drafts: func(_ context.Context, in activities.DraftInput) (activities.DraftResult, error) {
		if in.Announcement {
			return activities.DraftResult{Drafts: []activities.DraftInfo{{Name: "announcement", Kind: activities.KindAnnouncement, Revision: in.Revision}}}, nil
		}
		return activities.DraftResult{Drafts: []activities.DraftInfo{{Name: "report-eu-gdpr-authority-initial", Kind: activities.KindReport, Locale: "en", Revision: 1, Author: in.Author,
			LanguageNote: "Garante per la protezione dei dati personali accepts reports in it; Tocsin has report-eu in en, de, fr, es only: have it translated before filing"}}}, nil
	}})
	var bare, withComment *updateResult
	env.RegisterDelayedCallback(func() {
		bare = update(env, UpdateApprove, ApproveInput{Actor: legalActor, Draft: "report-eu-gdpr-authority-initial", Revision: 1})
		withComment = update(env, UpdateApprove, ApproveInput{Actor: legalActor, Draft: "report-eu-gdpr-authority-initial", Revision: 1, Comment: "our Milan counsel files the Italian translation"})
	}, time.Minute)
	env.ExecuteWorkflow(IncidentWorkflowName, input())
	require.True(t, env.IsWorkflowCompleted())
	require.ErrorContains(t, bare.rejected, "is not in a language its recipient accepts: Garante per la protezione dei dati personali accepts reports in it")
	require.NoError(t, withComment.rejected)
}
