package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tocsin/tocsin/activities"
	"github.com/tocsin/tocsin/internal/plandata"
	"github.com/tocsin/tocsin/internal/roles"
	"github.com/tocsin/tocsin/internal/senders"
	"github.com/tocsin/tocsin/playbooks"
)

// trackDeadlines starts one durable timer loop per obligation with a due
// time: reminders to the war room and the owner before it falls due, and an
// escalation when it passes unmet. A worker restart resumes the timers.
func (s *plan) trackDeadlines(ctx workflow.Context, plan activities.AssessResult) {
	s.p.Filings = map[string]*Filing{}
	for _, o := range plan.Obligations {
		s.p.Filings[o.Name] = &Filing{Status: FilingPending}
	}
	s.watchDeadlines(ctx, plan, plan.Obligations)
}

// watchDeadlines starts the timer loops of obligations, with the reminder
// times and owners plan assessed for them.
func (s *plan) watchDeadlines(ctx workflow.Context, plan activities.AssessResult, obligations []playbooks.Obligation) {
	// A reminder whose duty is already due says nothing the overdue alert
	// does not ("due in -13h"); histories from before this replay with it.
	quietLate := workflow.GetVersion(ctx, changeNoLateReminders, workflow.DefaultVersion, 1) >= 1
	movable := workflow.GetVersion(ctx, changeDelayMovesDue, workflow.DefaultVersion, 1) >= 1
	for _, o := range obligations {
		if o.DueAt.IsZero() {
			continue
		}
		owner := plan.Owners[o.Owner]
		met := func() bool { return s.p.Filings[o.Name].Met() }
		// due is the duty's due time as it now stands: moved by a
		// law-enforcement delay (the delay update), where one applies.
		due := func() playbooks.Obligation {
			if cur := s.obligation(o.Name); movable && cur != nil {
				return *cur
			}
			return o
		}
		workflow.Go(ctx, func(ctx workflow.Context) {
			for _, assessed := range plan.Reminders[o.Name] {
				// A reminder is as far before the due time as it was
				// assessed to be: when a delay moves the due time while
				// it waits, it waits again for its moved time.
				for {
					at, cur := assessed, due().DueAt
					if movable {
						at = assessed.Add(cur.Sub(o.DueAt))
					}
					moved := func() bool { return met() || !due().DueAt.Equal(cur) }
					if !s.waitUntil(ctx, at, moved) {
						break
					}
					if met() {
						return
					}
				}
				o := due()
				if quietLate && !workflow.Now(ctx).Before(o.DueAt) {
					break
				}
				s.p.Filings[o.Name].Reminders++
				left := o.DueAt.Sub(workflow.Now(ctx)).Round(time.Minute)
				s.event(ctx, fmt.Sprintf("reminder: %s (%s, %s) is due in %s, at %s", o.Name, o.Jurisdiction, o.Audience, left, o.DueText()))
				s.post(ctx, fmt.Sprintf(":alarm_clock: %s%s: %s to %s is due in %s (%s).", mention(owner), o.Name, o.Audience, o.Jurisdiction, left, o.DueText()))
			}
			for {
				at := due().DueAt
				moved := func() bool { return met() || !due().DueAt.Equal(at) }
				if !s.waitUntil(ctx, at, moved) {
					break
				}
				if met() {
					return
				}
			}
			o := due()
			s.p.Filings[o.Name].Status = FilingOverdue
			s.event(ctx, fmt.Sprintf("OVERDUE: %s (%s, %s) was due at %s", o.Name, o.Jurisdiction, o.Audience, o.DueText()))
			s.post(ctx, fmt.Sprintf(":rotating_light: <!here> OVERDUE: %s to %s was due at %s. %sfile it now and record the reasons for the delay.",
				o.Audience, o.Jurisdiction, o.DueText(), mention(owner)))
		})
	}
}

func mention(slackUser string) string {
	if slackUser == "" {
		return ""
	}
	return "<@" + slackUser + "> "
}

// waitUntil sleeps until at, or until done holds; it reports whether done held.
func (s *plan) waitUntil(ctx workflow.Context, at time.Time, done func() bool) bool {
	if d := at.Sub(workflow.Now(ctx)); d > 0 {
		ok, err := workflow.AwaitWithTimeout(ctx, d, done)
		return err == nil && ok
	}
	return done()
}

// awaitFilingsBeforeNotice holds individual notice until every report the
// law says must come first has been filed (Singapore: the PDPC before the
// people).
func (s *plan) awaitFilingsBeforeNotice(ctx workflow.Context) error {
	// Asked anew each time: a duty to individuals waived meanwhile waits
	// for nothing.
	unmet := func() []string {
		var first, out []string
		for _, o := range s.p.Obligations {
			if o.Audience == "individuals" && o.After != "" && !s.p.Filings[o.Name].Met() && !slices.Contains(first, o.After) {
				first = append(first, o.After)
			}
		}
		for _, n := range first {
			if f := s.p.Filings[n]; f != nil && !f.Met() {
				out = append(out, n)
			}
		}
		return out
	}
	if len(unmet()) == 0 {
		return nil
	}
	s.stage(ctx, StageAwaitFiling, "individual notice waits for these filings: "+strings.Join(unmet(), ", "))
	s.post(ctx, "Individual notice waits until these are filed: "+strings.Join(unmet(), ", ")+" (tocsin incident submit).")
	return workflow.Await(ctx, func() bool { return len(unmet()) == 0 })
}

// awaitFilings marks the duties to individuals met by the campaign, then
// keeps the incident open until every mandatory duty is filed.
// Where letters went out and no announcement did, it first awaits
// returned mail (awaitReturns), and answers with the reach and
// announcement as they then stand.
func (s *plan) awaitFilings(ctx workflow.Context, reach activities.ReachResult, announced bool, returnsWindow time.Duration, announce func(plandata.Reach) (bool, error),
	follow func(*WaveState, activities.ReachResult, bool) (activities.ReachResult, bool, error), correct func(*CorrectionState) error) (activities.ReachResult, bool, error) {
	// Each duty states its own jurisdiction's residents; a history from
	// before the per-jurisdiction counts states the whole campaign's.
	refFor := func(jurisdiction string) string {
		reached, unreached := reach.Reach.Reached, reach.Reach.Unreached
		if n, ok := reach.ByJurisdiction[jurisdiction]; ok {
			reached, unreached = n.Reached, n.Unreached
		}
		ref := fmt.Sprintf("individual notice: %d reached", reached)
		if announced {
			ref += fmt.Sprintf(", %d by public announcement", unreached)
		}
		return ref
	}
	for _, o := range s.p.Obligations {
		s.noticeMet(ctx, o, refFor(o.Jurisdiction))
	}
	if workflow.GetVersion(ctx, changeReturnedMail, workflow.DefaultVersion, 1) >= 1 {
		var err error
		wasAnnounced := announced
		if reach, announced, err = s.awaitReturns(ctx, reach, announced, returnsWindow, announce); err != nil {
			return reach, announced, err
		}
		if announced && !wasAnnounced {
			for _, o := range s.p.Obligations {
				if f := s.p.Filings[o.Name]; o.Audience == "individuals" && f.Status == FilingSubmitted && f.By == "tocsin" {
					f.Reference = refFor(o.Jurisdiction)
				}
			}
		}
	}
	open := func() []string {
		var out []string
		for _, o := range s.p.Obligations {
			if !o.Voluntary && !s.p.Filings[o.Name].Met() {
				out = append(out, o.Name)
			}
		}
		return out
	}
	// A follow-up wave asked for meanwhile runs before the incident may
	// close, and any later while it waits for filings.
	waves := workflow.GetVersion(ctx, changeFollowUpWaves, workflow.DefaultVersion, 1) >= 1
	s.noWaves = !waves
	// So does a correction of a notice that went out.
	corrections := workflow.GetVersion(ctx, changeCorrections, workflow.DefaultVersion, 1) >= 1
	s.noCorrections = !corrections
	queued := func() bool {
		return waves && s.queuedWave() != nil || corrections && s.queuedCorrection() != nil
	}
	for {
		if w := s.queuedWave(); waves && w != nil {
			var err error
			if reach, announced, err = follow(w, reach, announced); err != nil {
				return reach, announced, err
			}
			continue
		}
		if c := s.queuedCorrection(); corrections && c != nil {
			if err := correct(c); err != nil {
				return reach, announced, err
			}
			continue
		}
		if len(open()) == 0 {
			return reach, announced, nil
		}
		s.stage(ctx, StageFiling, "waiting for filings: "+strings.Join(open(), ", "))
		s.post(ctx, "Notice is done; the incident closes once these are filed: "+strings.Join(open(), ", ")+".")
		if err := workflow.Await(ctx, func() bool { return len(open()) == 0 || queued() }); err != nil {
			return reach, announced, err
		}
	}
}

// noticeMet records a duty to tell people as met by the campaign, with
// the reference given (late, where it ended after the due time); other
// duties, and one met already, are left as they are.
func (s *plan) noticeMet(ctx workflow.Context, o playbooks.Obligation, reference string) {
	f := s.p.Filings[o.Name]
	if o.Audience != "individuals" || f.Met() {
		return
	}
	f.Status, f.By, f.At, f.Reference = FilingSubmitted, "tocsin", workflow.Now(ctx), reference
	if !o.DueAt.IsZero() && workflow.Now(ctx).After(o.DueAt) {
		f.LateReason = "individual notice finished after the due time"
	}
}

func alreadyMet(name string, f *Filing) error {
	switch f.Status {
	case FilingSubmitted:
		return fmt.Errorf("%s was already filed by %s at %s, reference %s", name, f.By, f.At.UTC().Format(time.RFC3339), f.Reference)
	case FilingWaived:
		return fmt.Errorf("%s was waived by %s at %s: %s", name, f.By, f.At.UTC().Format(time.RFC3339), f.WaivedBecause)
	}
	return nil
}

func (s *plan) obligation(name string) *playbooks.Obligation {
	for i := range s.p.Obligations {
		if s.p.Obligations[i].Name == name {
			return &s.p.Obligations[i]
		}
	}
	return nil
}

func (s *plan) registerSubmit(ctx workflow.Context) error {
	// The waive update adds no command and sets a state only a waive can
	// reach, so histories from before it replay unchanged: no change ID.
	err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateWaive, func(ctx workflow.Context, in WaiveInput) (Filing, error) {
		s.remember(ctx, &in)
		return s.waive(ctx, in), nil
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, in WaiveInput) error {
		if err := s.verifySigned(ctx, UpdateWaive, &in); err != nil {
			return err
		}
		return s.checkWaive(in)
	}})
	if err != nil {
		return err
	}
	// The delay update, as the waive one, sets a state only it reaches;
	// the deadlines' timers follow it under changeDelayMovesDue.
	err = workflow.SetUpdateHandlerWithOptions(ctx, UpdateDelay, func(ctx workflow.Context, in DelayInput) ([]Filing, error) {
		s.remember(ctx, &in)
		return s.delay(ctx, in), nil
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, in DelayInput) error {
		if err := s.verifySigned(ctx, UpdateDelay, &in); err != nil {
			return err
		}
		return s.checkDelay(in)
	}})
	if err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateSubmit, func(ctx workflow.Context, in SubmitInput) (Filing, error) {
		s.remember(ctx, &in)
		return s.submit(ctx, in), nil
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, in SubmitInput) error {
		if err := s.verifySigned(ctx, UpdateSubmit, &in); err != nil {
			return err
		}
		return s.checkSubmit(ctx, in)
	}})
}

func (s *plan) submit(ctx workflow.Context, in SubmitInput) Filing {
	o := s.obligation(in.Obligation)
	f := s.p.Filings[o.Name]
	f.Status, f.By, f.At, f.Reference, f.LateReason = FilingSubmitted, in.Actor.Identity, workflow.Now(ctx), in.Reference, in.LateReason
	late := ""
	if in.LateReason != "" {
		late = " (late: " + in.LateReason + ")"
	}
	s.event(ctx, fmt.Sprintf("%s filed by %s, reference %s%s", o.Name, in.Actor.Identity, in.Reference, late))
	s.post(ctx, fmt.Sprintf(":page_facing_up: %s to %s filed by %s, reference %s%s.", o.Audience, o.Jurisdiction, senders.SlackEscape(in.Actor.Identity), senders.SlackEscape(in.Reference), senders.SlackEscape(late)))
	return *f
}

// checkDelay admits a law-enforcement delay from legal or an admin, of
// duties to tell people whose law allows one, not yet met.
func (s *plan) checkDelay(in DelayInput) error {
	if in.Actor.Role != roles.Legal && in.Actor.Role != roles.Admin {
		return forbidden("only legal and admins may hold notice for law enforcement (%s is %s)", in.Actor.Identity, in.Actor.Role)
	}
	if len(in.Duties) == 0 || in.Until.IsZero() {
		return errors.New("a delay names the duties it moves and until when")
	}
	for _, name := range in.Duties {
		o := s.obligation(name)
		if o == nil || s.p.Filings == nil {
			return s.noObligation(name)
		}
		if o.Audience != "individuals" || o.LawEnforcementDelay == "" {
			return fmt.Errorf("%s: its law lets no law-enforcement request delay it", name)
		}
		if err := alreadyMet(name, s.p.Filings[name]); err != nil {
			return err
		}
	}
	return nil
}

// delay moves each duty's due time to no earlier than the delay's end
// (from the time assessed, so a hold lifted early moves it back), and
// the deadlines' reminders and overdue alert follow it.
func (s *plan) delay(ctx workflow.Context, in DelayInput) []Filing {
	if s.assessedDue == nil {
		s.assessedDue = map[string]time.Time{}
	}
	var out []Filing
	for _, name := range in.Duties {
		o := s.obligation(name)
		if _, ok := s.assessedDue[name]; !ok {
			s.assessedDue[name] = o.DueAt
		}
		if assessed := s.assessedDue[name]; !assessed.IsZero() {
			moved := assessed
			if in.Until.After(assessed) {
				moved = in.Until
			}
			o.MoveDue(moved)
		}
		f := s.p.Filings[name]
		f.DelayedUntil, f.DelayRequestedBy = in.Until.UTC(), in.RequestedBy
		due := "when practicable after it"
		if !o.DueAt.IsZero() {
			due = "due " + o.DueText()
		}
		s.event(ctx, fmt.Sprintf("%s held for law enforcement (%s) until %s by %s: %s", name, in.RequestedBy, in.Until.UTC().Format("2006-01-02 15:04 UTC"), in.Actor.Identity, due))
		out = append(out, *f)
	}
	return out
}

// waive records legal's decision that a duty does not apply: the duty is
// met for every wait on it (the incident can close, notice need not wait),
// and the register shows it waived, with the reason.
func (s *plan) waive(ctx workflow.Context, in WaiveInput) Filing {
	o := s.obligation(in.Obligation)
	f := s.p.Filings[o.Name]
	f.Status, f.By, f.At, f.WaivedBecause = FilingWaived, in.Actor.Identity, workflow.Now(ctx), strings.TrimSpace(in.Reason)
	s.event(ctx, fmt.Sprintf("%s waived by %s: %s", o.Name, in.Actor.Identity, f.WaivedBecause))
	s.post(ctx, fmt.Sprintf(":no_entry_sign: %s to %s waived by %s: %s.", o.Audience, o.Jurisdiction, senders.SlackEscape(in.Actor.Identity), senders.SlackEscape(f.WaivedBecause)))
	return *f
}

func (s *plan) checkWaive(in WaiveInput) error {
	if in.Actor.Role != roles.Legal && (in.Actor.Role != roles.Drill || !s.spec.Drill) {
		return forbidden("only legal may waive a duty (%s is %s)", in.Actor.Identity, in.Actor.Role)
	}
	if strings.EqualFold(in.Actor.Identity, s.in.OpenedBy) {
		// The same separation as approval: whoever opened the incident
		// does not also decide that a duty it raised does not apply.
		return forbidden("%s opened this incident and cannot waive its duties", in.Actor.Identity)
	}
	o := s.obligation(in.Obligation)
	if o == nil || s.p.Filings == nil {
		return s.noObligation(in.Obligation)
	}
	if err := alreadyMet(o.Name, s.p.Filings[o.Name]); err != nil {
		return err
	}
	if o.Audience == "individuals" && NoticeBegun(s.p.Status) {
		// Before notice, a waiver withholds it from the residents it
		// covers (withholdWaived); once people are being told, it cannot.
		return fmt.Errorf("%s cannot be waived: individual notice has begun, and the campaign (or the public announcement) meets it", o.Name)
	}
	if strings.TrimSpace(in.Reason) == "" {
		return errors.New("a waiver needs the reason the duty does not apply (--reason): the register keeps it")
	}
	return nil
}

func (s *plan) noObligation(name string) error {
	var names []string
	for _, o := range s.p.Obligations {
		names = append(names, o.Name)
	}
	return fmt.Errorf("no obligation named %q (this incident has: %s)", name, strings.Join(names, ", "))
}

func (s *plan) checkSubmit(ctx workflow.Context, in SubmitInput) error {
	if !slices.Contains([]string{roles.Responder, roles.Legal, roles.Admin}, in.Actor.Role) && (in.Actor.Role != roles.Drill || !s.spec.Drill) {
		return forbidden("%s is %s; responders, legal and admins record filings", in.Actor.Identity, in.Actor.Role)
	}
	o := s.obligation(in.Obligation)
	if o == nil || s.p.Filings == nil {
		return s.noObligation(in.Obligation)
	}
	if o.Audience == "individuals" {
		// The campaign files this duty with its own figures (who was
		// reached, by what); a hand-made filing would replace them in the
		// register.
		return fmt.Errorf("%s is met by telling people: the campaign records it when individual notice is done (legal may waive it before notice begins)", o.Name)
	}
	if err := alreadyMet(o.Name, s.p.Filings[o.Name]); err != nil {
		return err
	}
	if strings.TrimSpace(in.Reference) == "" {
		return fmt.Errorf("a filing needs the regulator's reference or receipt (--reference)")
	}
	if o.After != "" {
		if f := s.p.Filings[o.After]; f != nil && !f.Met() {
			return fmt.Errorf("%s comes after %s, which is not filed yet", o.Name, o.After)
		}
	}
	if d := s.draft(activities.ReportDraftName(o.Name)); d != nil && d.Status != DraftApproved {
		return forbidden("the report %s (revision %d) is %s; legal must approve it before it is filed", d.Name, d.Revision, d.Status)
	}
	if !o.DueAt.IsZero() && workflow.Now(ctx).After(o.DueAt) && strings.TrimSpace(in.LateReason) == "" {
		why := "say why it is late (--late-reason)"
		if o.LateReasons {
			why = "the law asks for the reasons for the delay (--late-reason): " + strings.Join(o.Sources, "; ")
		}
		return fmt.Errorf("%s was due at %s: %s", o.Name, o.DueText(), why)
	}
	return nil
}
