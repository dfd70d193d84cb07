// Legal's gate: who may approve, reject and revise drafts, and how.

package workflows

import (
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tocsin/tocsin/internal/roles"
)

// ErrTypeForbidden is the type of an update refused for who asked (an
// ApplicationError, so the API tells it from other refusals by its type).
const ErrTypeForbidden = "Forbidden"

// forbidden refuses an update for who asked; the message keeps the
// "forbidden: " the API has always shown.
func forbidden(format string, args ...any) error {
	return temporal.NewApplicationError("forbidden: "+fmt.Sprintf(format, args...), ErrTypeForbidden)
}

// checkLegal is the legal gate every decision on a draft passes; revision,
// when not 0, must be the draft's current one.
func (s *plan) checkLegal(actor Actor, name string, revision int) (*DraftState, error) {
	if actor.Role != roles.Legal && (actor.Role != roles.Drill || !s.spec.Drill) {
		return nil, forbidden("only legal may approve or reject drafts (%s is %s)", actor.Identity, actor.Role)
	}
	d := s.draft(name)
	if d == nil {
		return nil, fmt.Errorf("no draft named %q", name)
	}
	if strings.EqualFold(actor.Identity, s.in.OpenedBy) {
		return nil, forbidden("%s opened this incident and cannot approve its drafts", actor.Identity)
	}
	if strings.EqualFold(actor.Identity, d.Author) {
		return nil, forbidden("%s wrote revision %d of %s and cannot approve it", actor.Identity, d.Revision, name)
	}
	if revision != 0 && revision != d.Revision {
		return nil, fmt.Errorf("%s revision %d changed since you read it: review revision %d", name, revision, d.Revision)
	}
	if d.Status != DraftPending {
		return nil, fmt.Errorf("draft %s revision %d is %s, not pending", name, d.Revision, d.Status)
	}
	if s.redrafted(name) {
		return nil, fmt.Errorf("draft %s is being drafted again with new facts; review the new revision", name)
	}
	return d, nil
}

// checkApprove is approve's validator, for the drill identity too.
func (s *plan) checkApprove(in ApproveInput) error {
	d, err := s.checkLegal(in.Actor, in.Draft, in.Revision)
	if err == nil && len(d.Missing) > 0 {
		return fmt.Errorf("draft %s revision %d is incomplete: the law requires %s; a responder supplies them with %s",
			d.Name, d.Revision, strings.Join(d.Missing, ", "), FactsHint(s.in.IncidentID, d.Missing))
	}
	if err == nil && len(d.Untranslated) > 0 && strings.TrimSpace(in.Comment) == "" {
		return fmt.Errorf("draft %s revision %d quotes in English what is not translated to %s: %s; a responder translates them with %s, or legal approves with a comment saying why the English may go (the text tells its reader so)",
			d.Name, d.Revision, d.Locale, strings.Join(d.Untranslated, ", "), TranslateHint(s.in.IncidentID, d.Locale, d.Untranslated))
	}
	if err == nil && d.LanguageNote != "" && strings.TrimSpace(in.Comment) == "" {
		return fmt.Errorf("draft %s revision %d is not in a language its recipient accepts: %s; legal approves it only with a comment saying how it will be filed", d.Name, d.Revision, d.LanguageNote)
	}
	if err == nil && d.SMSTooLong != "" {
		return fmt.Errorf("draft %s revision %d cannot be approved: %s; a responder shortens the description or advice it quotes with %s, or the playbook allows more",
			d.Name, d.Revision, d.SMSTooLong, FactsHint(s.in.IncidentID, []string{"description", "advice"}))
	}
	return err
}

func (s *plan) registerUpdates(ctx workflow.Context) error {
	err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateApprove, func(ctx workflow.Context, in ApproveInput) (DraftState, error) {
		s.remember(ctx, &in)
		return s.approve(ctx, in), nil
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, in ApproveInput) error {
		if err := s.verifySigned(ctx, UpdateApprove, &in); err != nil {
			return err
		}
		return s.checkApprove(in)
	}})
	if err != nil {
		return err
	}
	err = workflow.SetUpdateHandlerWithOptions(ctx, UpdateReject, func(ctx workflow.Context, in RejectInput) (DraftState, error) {
		s.remember(ctx, &in)
		d := s.draft(in.Draft)
		d.Status, d.Reason, d.DecidedAt = DraftRejected, in.Reason, workflow.Now(ctx)
		s.event(ctx, fmt.Sprintf("%s revision %d rejected by %s: %s", d.Name, d.Revision, in.Actor.Identity, in.Reason))
		return *d, nil
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, in RejectInput) error {
		if err := s.verifySigned(ctx, UpdateReject, &in); err != nil {
			return err
		}
		if strings.TrimSpace(in.Reason) == "" {
			return errors.New("a rejection needs a reason, so the draft can be revised")
		}
		_, err := s.checkLegal(in.Actor, in.Draft, in.Revision)
		return err
	}})
	if err != nil {
		return err
	}
	if err := s.registerSubmit(ctx); err != nil {
		return err
	}
	if err := s.registerFacts(ctx); err != nil {
		return err
	}
	if err := s.registerReturned(ctx); err != nil {
		return err
	}
	if err := s.registerAdd(ctx); err != nil {
		return err
	}
	if err := s.registerCorrect(ctx); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateRevise, func(ctx workflow.Context, in ReviseInput) (DraftState, error) {
		s.remember(ctx, &in)
		s.setFacts(in.Changes)
		if s.reviewer == nil {
			s.reviewer = map[string]string{}
		}
		s.reviewer[in.Draft] = in.Actor.Identity
		s.pending = append(s.pending, in.Draft)
		d := s.draft(in.Draft)
		s.event(ctx, fmt.Sprintf("%s revision requested by %s", in.Draft, in.Actor.Identity))
		return *d, nil
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, in ReviseInput) error {
		if err := s.verifySigned(ctx, UpdateRevise, &in); err != nil {
			return err
		}
		if in.Actor.Role != roles.Responder && in.Actor.Role != roles.Admin {
			return forbidden("only responders revise drafts (%s is %s)", in.Actor.Identity, in.Actor.Role)
		}
		d := s.draft(in.Draft)
		if d == nil {
			return fmt.Errorf("no draft named %q", in.Draft)
		}
		if d.Status != DraftRejected {
			return fmt.Errorf("draft %s is %s: only a rejected draft is revised", in.Draft, d.Status)
		}
		if s.redrafted(in.Draft) {
			return fmt.Errorf("draft %s is already being revised", in.Draft)
		}
		return checkSettable(in.Changes)
	}})
}

func (s *plan) approve(ctx workflow.Context, in ApproveInput) DraftState {
	d := s.draft(in.Draft)
	d.Status, d.ApprovedBy, d.Comment, d.DecidedAt = DraftApproved, in.Actor.Identity, in.Comment, workflow.Now(ctx)
	s.event(ctx, fmt.Sprintf("%s revision %d approved by %s", d.Name, d.Revision, in.Actor.Identity))
	return *d
}
