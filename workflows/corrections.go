// Corrections: a notice that went out wrong is drafted again, approved by
// legal, and sent to exactly the people who received an earlier revision.

package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tocsin/tocsin/activities"
	"github.com/tocsin/tocsin/internal/roles"
)

// Correction statuses, as CorrectionState.Status and the record show them.
const (
	CorrectionQueued   = "queued"
	CorrectionDrafting = "drafting"
	CorrectionApproval = "awaiting_approval"
	CorrectionSending  = "sending"
	CorrectionDone     = "done"
)

// correctionPage is how many ledger rows one SendCorrections reads.
const correctionPage = 500

func (s *plan) registerCorrect(ctx workflow.Context) error {
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateCorrect, func(ctx workflow.Context, in CorrectInput) (CorrectionState, error) {
		s.remember(ctx, &in)
		s.setFacts(in.Changes)
		d := s.draft(in.Draft)
		c := CorrectionState{Number: len(s.p.Corrections) + 1, Draft: in.Draft, RequestedBy: in.Actor.Identity, RequestedAt: workflow.Now(ctx), From: d.Revision, Status: CorrectionQueued}
		s.p.Corrections = append(s.p.Corrections, c)
		s.event(ctx, fmt.Sprintf("correction %d of %s (revision %d) asked for by %s", c.Number, in.Draft, d.Revision, in.Actor.Identity))
		return c, nil
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, in CorrectInput) error {
		if err := s.verifySigned(ctx, UpdateCorrect, &in); err != nil {
			return err
		}
		return s.checkCorrect(in)
	}})
}

func (s *plan) checkCorrect(in CorrectInput) error {
	if in.Actor.Role != roles.Legal && in.Actor.Role != roles.Admin {
		return forbidden("only legal or an admin correct a notice that went out (%s is %s)", in.Actor.Identity, in.Actor.Role)
	}
	d := s.draft(in.Draft)
	switch {
	case d == nil:
		return fmt.Errorf("no draft named %q", in.Draft)
	case d.Kind != activities.KindNotice:
		return fmt.Errorf("%s is a %s: only a notice to people is corrected (a report is filed again with the regulator)", in.Draft, d.Kind)
	case s.noCorrections:
		return errors.New("this incident's plan began before corrections and cannot send one: legal may publish a correction another way")
	case s.p.Status == StageClosed:
		return errors.New("the incident is closed: its plan can no longer send a correction")
	case !NoticeBegun(s.p.Status):
		return fmt.Errorf("nobody has been sent %s yet: reject it and revise it instead", in.Draft)
	case d.Status != DraftApproved:
		return fmt.Errorf("%s revision %d is %s: a correction follows an approved notice", in.Draft, d.Revision, d.Status)
	case s.redrafted(in.Draft):
		return fmt.Errorf("%s is being drafted again already", in.Draft)
	}
	for _, c := range s.p.Corrections {
		if c.Draft == in.Draft && c.Status != CorrectionDone {
			return fmt.Errorf("correction %d of %s is %s: one correction of a notice at a time", c.Number, in.Draft, c.Status)
		}
	}
	return checkSettable(in.Changes)
}

// queuedCorrection is the oldest correction the plan has not begun.
func (s *plan) queuedCorrection() *CorrectionState {
	for i := range s.p.Corrections {
		if s.p.Corrections[i].Status == CorrectionQueued {
			return &s.p.Corrections[i]
		}
	}
	return nil
}

// correct runs one correction: the notice is drafted again with the facts
// as they now stand, legal approves the new revision (rejecting and
// revising as for any draft), and it goes to every copy of an earlier
// revision that reached, or may have reached, its reader, by the channel
// it went by, marked as a correction in its reader's language. Its pages
// carry cursors, never people.
func (s *plan) correct(ctx workflow.Context, c *CorrectionState, draftIn activities.DraftInput) error {
	d := s.draft(c.Draft)
	c.Status = CorrectionDrafting
	rin := draftIn
	rin.Spec, rin.Only, rin.Except, rin.Revision, rin.Author, rin.Announcement, rin.IfChanged = s.spec, []string{c.Draft}, nil, d.Revision+1, c.RequestedBy, false, false
	var res activities.DraftResult
	if err := workflow.ExecuteActivity(ctx, a.RenderDrafts, rin).Get(ctx, &res); err != nil {
		return fmt.Errorf("correct %s: %w", c.Draft, err)
	}
	if len(res.Drafts) != 1 {
		return fmt.Errorf("correct %s: %d drafts rendered", c.Draft, len(res.Drafts))
	}
	got := res.Drafts[0]
	pendRevision(d, got)
	c.Revision, c.Status = d.Revision, CorrectionApproval
	s.event(ctx, fmt.Sprintf("%s revision %d drafted by %s as correction %d of revision %d", c.Draft, d.Revision, d.Author, c.Number, c.From))
	s.post(ctx, fmt.Sprintf(":pencil2: Correction %d: %s revision %d is ready for legal review; once approved it goes to everyone who got an earlier revision.", c.Number, c.Draft, d.Revision))
	s.review(ctx, res.Drafts)
	if err := s.awaitApproval(ctx, draftIn, func(x DraftState) bool { return x.Name == c.Draft }); err != nil {
		return err
	}
	c.Revision, c.Status = d.Revision, CorrectionSending
	s.event(ctx, fmt.Sprintf("correction %d: sending %s revision %d to everyone who got an earlier revision", c.Number, c.Draft, c.Revision))
	pctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: max(5*time.Minute, correctionPage*slowestProviderCall/10),
		HeartbeatTimeout:    time.Minute,
	})
	var after [2]string
	for {
		var page activities.CorrectionResult
		in := activities.CorrectionInput{IncidentID: s.in.IncidentID, Correction: c.Number, Draft: c.Draft, Revision: c.Revision, After: after, Limit: correctionPage}
		if err := workflow.ExecuteActivity(pctx, a.SendCorrections, in).Get(ctx, &page); err != nil {
			return fmt.Errorf("correction %d of %s: %w", c.Number, c.Draft, err)
		}
		c.Copies += page.Copies
		c.Sent += page.Sent
		c.Failed += page.Failed
		if page.Next == ([2]string{}) {
			break
		}
		after = page.Next
	}
	c.Status = CorrectionDone
	s.event(ctx, fmt.Sprintf("correction %d done: %s revision %d sent in place of %d earlier copies (%d failed)", c.Number, c.Draft, c.Revision, c.Copies, c.Failed))
	s.post(ctx, fmt.Sprintf(":white_check_mark: Correction %d: %s revision %d went to the %d copies of an earlier revision (%d failed).", c.Number, c.Draft, c.Revision, c.Copies, c.Failed))
	return nil
}
