package workflows

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/activities"
	"github.com/tocsin/tocsin/internal/roles"
)

// The plan refuses a correction it cannot send, whoever reaches it.
func TestThePlanRefusesACorrectionItCannotSend(t *testing.T) {
	legal := Actor{Identity: "legal@example.com", Role: roles.Legal}
	sent := func() *plan {
		return &plan{p: Progress{Status: StageFiling, Drafts: []DraftState{
			{Name: "notice-en", Kind: activities.KindNotice, Revision: 2, Status: DraftApproved},
			{Name: "report-uk-ico", Kind: activities.KindReport, Revision: 1, Status: DraftApproved},
		}}}
	}
	for _, c := range []struct {
		name string
		plan func() *plan
		in   CorrectInput
		want string
	}{
		{"a responder", sent, CorrectInput{Actor: Actor{Identity: "r@example.com", Role: roles.Responder}, Draft: "notice-en"}, "only legal or an admin"},
		{"no such draft", sent, CorrectInput{Actor: legal, Draft: "notice-xx"}, `no draft named "notice-xx"`},
		{"a report", sent, CorrectInput{Actor: legal, Draft: "report-uk-ico"}, "only a notice to people is corrected"},
		{"before notice", func() *plan { p := sent(); p.p.Status = StageAwaitApproval; return p }, CorrectInput{Actor: legal, Draft: "notice-en"}, "nobody has been sent notice-en yet"},
		{"closed", func() *plan { p := sent(); p.p.Status = StageClosed; return p }, CorrectInput{Actor: legal, Draft: "notice-en"}, "is closed"},
		{"pending", func() *plan { p := sent(); p.p.Drafts[0].Status = DraftPending; return p }, CorrectInput{Actor: legal, Draft: "notice-en"}, "is pending"},
		{"one at a time", func() *plan {
			p := sent()
			p.p.Corrections = []CorrectionState{{Number: 1, Draft: "notice-en", Status: CorrectionSending}}
			return p
		}, CorrectInput{Actor: legal, Draft: "notice-en"}, "one correction of a notice at a time"},
		{"an unknown fact", sent, CorrectInput{Actor: legal, Draft: "notice-en", Changes: map[string]string{"nosuch": "x"}}, "nosuch"},
		{"a plan from before corrections", func() *plan { p := sent(); p.noCorrections = true; return p }, CorrectInput{Actor: legal, Draft: "notice-en"}, "began before corrections"},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.ErrorContains(t, c.plan().checkCorrect(c.in), c.want)
		})
	}
	require.NoError(t, sent().checkCorrect(CorrectInput{Actor: legal, Draft: "notice-en", Changes: map[string]string{"measures": "We reset every password."}}))
	done := sent()
	done.p.Corrections = []CorrectionState{{Number: 1, Draft: "notice-en", Status: CorrectionDone}}
	require.NoError(t, done.checkCorrect(CorrectInput{Actor: Actor{Identity: "a@example.com", Role: roles.Admin}, Draft: "notice-en"}), "a second correction once the first is done")
}
