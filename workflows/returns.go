// Returned letters: substitute notice for people only a letter had reached.

package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tocsin/tocsin/activities"
	"github.com/tocsin/tocsin/internal/channel"
	"github.com/tocsin/tocsin/internal/plandata"
	"github.com/tocsin/tocsin/internal/roles"
)

// registerReturned takes word of returned letters from the API, which has
// recorded them in the store already. Registering it adds no command, and
// older histories carry no such update.
func (s *plan) registerReturned(ctx workflow.Context) error {
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateReturned, func(ctx workflow.Context, in ReturnedInput) (string, error) {
		s.remember(ctx, &in)
		return s.returned(ctx, in), nil
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, in ReturnedInput) error {
		if err := s.verifySigned(ctx, UpdateReturned, &in); err != nil {
			return err
		}
		if in.Settled {
			if !slices.Contains([]string{roles.Legal, roles.Admin}, in.Actor.Role) {
				return forbidden("%s is %s; legal or an admin decide that no more returned mail is awaited", in.Actor.Identity, in.Actor.Role)
			}
			if s.p.Returns == nil || s.p.Returns.Ended != "" {
				return fmt.Errorf("%s is not awaiting returned mail", s.in.IncidentID)
			}
			return nil
		}
		if !slices.Contains([]string{roles.Responder, roles.Legal, roles.Admin}, in.Actor.Role) {
			return forbidden("%s is %s; responders, legal and admins record returned mail", in.Actor.Identity, in.Actor.Role)
		}
		if in.Unreached < 0 {
			return fmt.Errorf("unreached is %d", in.Unreached)
		}
		return nil
	}})
}

// returned answers what substitute notice the people of returned letters get.
func (s *plan) returned(ctx workflow.Context, in ReturnedInput) string {
	w := s.p.Returns
	if in.Settled {
		w.Ended, w.SettledBy, w.EndedAt = "settled", in.Actor.Identity, workflow.Now(ctx)
		s.event(ctx, "returned mail is no longer awaited: settled by "+in.Actor.Identity)
		return "returned mail is no longer awaited"
	}
	if in.Unreached == 0 {
		return ""
	}
	switch a := s.p.Announcement; {
	case a != nil && a.Published:
		return "covered by the public announcement at " + a.URL
	case a != nil:
		return "covered by the public announcement now being drafted"
	case w != nil && w.Ended == "":
		s.returnsPending = true
		return "a public announcement is being drafted for legal, as substitute notice"
	case w != nil:
		return fmt.Sprintf("returned mail was no longer awaited (%s at %s) and no public announcement was made: open a follow-up incident for these people", w.Ended, w.EndedAt.UTC().Format(time.RFC3339))
	default:
		// Individual notice is not done yet: its count of the reached
		// leaves these people out, and an announcement follows.
		s.returnsPending = true
		return "counted when individual notice is done: a public announcement is drafted for everyone it leaves unreached"
	}
}

// lettersOut counts the people reached by a channel whose sends the post
// may return.
func lettersOut(reach plandata.Reach) int {
	n := 0
	for _, ch := range channel.Names() {
		if channel.Is(ch, channel.MayComeBack) {
			n += reach.ByChannel[ch]
		}
	}
	return n
}

// awaitReturns keeps the incident open for returned letters while
// letters went out and no public announcement did: until window after
// notice, or until legal settles it. A return that leaves anyone unreached
// makes the plan draft the announcement, for legal, and publish it. It
// answers with the reach and announcement as they then stand.
func (s *plan) awaitReturns(ctx workflow.Context, reach activities.ReachResult, announced bool, window time.Duration, announce func(plandata.Reach) (bool, error)) (activities.ReachResult, bool, error) {
	letters := lettersOut(reach.Reach)
	if announced || s.in.Drill != nil || window <= 0 || letters == 0 {
		return reach, announced, nil
	}
	until := workflow.Now(ctx).Add(window)
	s.p.Returns = &ReturnsWatch{Letters: letters, Until: until}
	s.stage(ctx, StageFiling, fmt.Sprintf("%d people were sent letters: returned mail is awaited until %s (tocsin incident returned)", letters, until.UTC().Format(time.RFC3339)))
	s.post(ctx, fmt.Sprintf("Letters went to %d people. The incident stays open for returned mail until %s: record returns with `tocsin incident returned %s --subjects-file F`; legal may end the wait with `--settled`.", letters, until.UTC().Format(time.RFC3339), s.in.IncidentID))
	tctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	timer := workflow.NewTimer(tctx, window)
	w := s.p.Returns
	for {
		if err := workflow.Await(ctx, func() bool { return s.returnsPending || w.Ended != "" || timer.IsReady() }); err != nil {
			return reach, announced, err
		}
		if s.returnsPending {
			s.returnsPending = false
			if err := workflow.ExecuteActivity(ctx, a.Reach, s.in.IncidentID).Get(ctx, &reach); err != nil {
				return reach, announced, fmt.Errorf("reach: %w", err)
			}
			s.p.Reach, s.p.Unreachable = &reach.Reach, reach.Reach.Unreached
			if reach.Reach.Unreached == 0 {
				continue
			}
			s.event(ctx, fmt.Sprintf("returned letters left %d people unreached", reach.Reach.Unreached))
			w.Ended, w.EndedAt = "announcement", workflow.Now(ctx)
			ok, err := announce(reach.Reach)
			return reach, ok, err
		}
		if w.Ended == "" {
			w.Ended, w.EndedAt = "window", workflow.Now(ctx)
			s.event(ctx, "the wait for returned mail ended: no letter left anyone unreached")
		}
		return reach, announced, nil
	}
}
