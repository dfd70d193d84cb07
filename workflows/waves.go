// Follow-up waves: people forensics finds after the first notice, added
// to the incident, assessed, drafted for and told without re-scoping
// anyone already told.

package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/tocsin/tocsin/activities"
	"github.com/tocsin/tocsin/internal/plandata"
	"github.com/tocsin/tocsin/internal/roles"
	"github.com/tocsin/tocsin/playbooks"
)

// Wave statuses, as WaveState.Status and the record show them.
const (
	WaveQueued   = "queued"
	WaveScoping  = "scoping"
	WaveApproval = "awaiting_approval"
	WaveNotify   = "notifying"
	WaveDone     = "done"
	WaveFailed   = "failed"
)

// MaxWaveSystems bounds the systems one wave names.
const MaxWaveSystems = 100

func (s *plan) registerAdd(ctx workflow.Context) error {
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateAdd, func(ctx workflow.Context, in AddInput) (WaveState, error) {
		s.remember(ctx, &in)
		w := WaveState{Number: in.Wave, RequestedBy: in.Actor.Identity, RequestedAt: workflow.Now(ctx), Systems: in.Systems,
			SubjectsFile: in.SubjectsFile, Named: in.Named, Status: WaveQueued}
		s.p.Waves = append(s.p.Waves, w)
		s.event(ctx, fmt.Sprintf("wave %d asked for by %s: %s", w.Number, in.Actor.Identity, waveWhat(w)))
		return w, nil
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, in AddInput) error {
		if err := s.verifySigned(ctx, UpdateAdd, &in); err != nil {
			return err
		}
		return s.checkAdd(in)
	}})
}

func (s *plan) checkAdd(in AddInput) error {
	if in.Actor.Role != roles.Legal && in.Actor.Role != roles.Admin {
		return forbidden("only legal or an admin add people to an incident (%s is %s)", in.Actor.Identity, in.Actor.Role)
	}
	switch {
	case s.noWaves:
		return errors.New("this incident's plan began before follow-up waves and cannot take one: open a follow-up incident for these people (tocsin incident open --subjects-file)")
	case s.p.Status == StageClosed:
		return errors.New("the incident is closed: open a follow-up incident for these people (tocsin incident open --subjects-file)")
	case s.p.Scope == nil:
		return errors.New("the incident is not scoped yet: its own scope will find these people")
	case len(in.Systems) == 0 && in.Named == 0:
		return errors.New("a wave names systems, subject IDs or both")
	case len(in.Systems) > MaxWaveSystems:
		return fmt.Errorf("systems: %d in one wave; at most %d", len(in.Systems), MaxWaveSystems)
	case len(in.SubjectsFile) > MaxReferenceBytes:
		return fmt.Errorf("subjects_file: %d bytes; at most %d", len(in.SubjectsFile), MaxReferenceBytes)
	}
	for _, sys := range in.Systems {
		if len(sys) > MaxNameBytes {
			return fmt.Errorf("systems: a name of %d bytes; at most %d", len(sys), MaxNameBytes)
		}
	}
	for _, w := range s.p.Waves {
		if w.Number >= in.Wave {
			return fmt.Errorf("wave %d is not newer than wave %d, which the plan already has", in.Wave, w.Number)
		}
	}
	return nil
}

// waveWhat says what a wave names.
func waveWhat(w WaveState) string {
	var parts []string
	if len(w.Systems) > 0 {
		parts = append(parts, "systems "+strings.Join(w.Systems, ", "))
	}
	if w.Named > 0 {
		parts = append(parts, fmt.Sprintf("%d subject IDs from %s", w.Named, w.SubjectsFile))
	}
	return strings.Join(parts, " and ")
}

// queuedWave is the oldest wave the plan has not run yet.
func (s *plan) queuedWave() *WaveState {
	for i := range s.p.Waves {
		if s.p.Waves[i].Status == WaveQueued {
			return &s.p.Waves[i]
		}
	}
	return nil
}

// followUp runs one wave: its people join the affected set, the playbook
// is assessed again on everyone now affected (the duties that were not
// there before are tracked and drafted for legal, with notices for
// readers of a language no notice was written in), and once legal has
// approved them the campaign runs again for the people not yet reached.
// A wave that cannot be applied fails alone; the incident goes on.
func (s *plan) followUp(ctx workflow.Context, w *WaveState, draftIn *activities.DraftInput, reach activities.ReachResult, announced bool) (activities.ReachResult, bool, error) {
	id := s.in.IncidentID
	n := w.Number
	w.Status = WaveScoping
	s.event(ctx, fmt.Sprintf("wave %d: scoping %s against the incident's snapshot", n, waveWhat(*w)))
	systems := slices.Clone(s.spec.Systems)
	for _, sys := range w.Systems {
		if !slices.Contains(systems, sys) {
			systems = append(systems, sys)
		}
	}
	var res activities.WaveResult
	if err := workflow.ExecuteActivity(ctx, a.ApplyWave, activities.WaveInput{IncidentID: id, Wave: n, Systems: systems, Categories: s.spec.Categories,
		Regions: s.spec.Regions, Year: s.spec.DetectedAt.Year()}).Get(ctx, &res); err != nil {
		w.Status, w.Error = WaveFailed, clip(stopReason(err), MaxNoteBytes)
		s.event(ctx, fmt.Sprintf("wave %d failed: %s", n, w.Error))
		s.post(ctx, fmt.Sprintf(":x: Wave %d could not be added: %s", n, w.Error))
		return reach, announced, nil
	}
	s.spec.Systems = systems
	w.Added = res.Added
	before := s.p.Scope
	s.p.Scope = &res.Summary
	if res.Added == 0 {
		w.Status = WaveDone
		s.event(ctx, fmt.Sprintf("wave %d: nobody new (everyone it names was affected already)", n))
		s.post(ctx, fmt.Sprintf("Wave %d added nobody: everyone it names was already affected.", n))
		return reach, announced, nil
	}
	s.event(ctx, fmt.Sprintf("wave %d: %d more people affected, %d in all", n, res.Added, res.Summary.Subjects))
	s.post(ctx, fmt.Sprintf(":mag: Wave %d: %d more people affected (%d in all).", n, res.Added, res.Summary.Subjects))

	grown := grownJurisdictions(before, &res.Summary)
	var plan activities.AssessResult
	if err := workflow.ExecuteActivity(ctx, a.Assess, activities.AssessInput{Playbook: s.spec.Playbook, Scope: res.Summary, DetectedAt: s.spec.DetectedAt,
		AssessedAt: workflow.Now(ctx), Spec: s.spec}).Get(ctx, &plan); err != nil {
		return reach, announced, fmt.Errorf("wave %d: assess: %w", n, err)
	}
	var added []playbooks.Obligation
	for _, o := range plan.Obligations {
		if s.obligation(o.Name) == nil {
			added = append(added, o)
			w.Duties = append(w.Duties, o.Name)
		}
	}
	s.p.Obligations = append(s.p.Obligations, added...)
	for _, o := range added {
		s.p.Filings[o.Name] = &Filing{Status: FilingPending}
	}
	s.watchDeadlines(ctx, plan, added)
	if len(added) > 0 {
		s.event(ctx, fmt.Sprintf("wave %d: new duties %s", n, strings.Join(w.Duties, ", ")))
		s.post(ctx, fmt.Sprintf(":scales: Wave %d brings new duties: %s.", n, strings.Join(w.Duties, ", ")))
	}

	draftIn.Spec, draftIn.Scope, draftIn.Obligations = s.spec, res.Summary, s.p.Obligations
	in := *draftIn
	in.Only, in.Revision, in.Announcement, in.IfChanged, in.Author = nil, 1, false, false, s.in.OpenedBy
	for _, d := range s.p.Drafts {
		in.Except = append(in.Except, d.Name)
	}
	var drafts activities.DraftResult
	if err := workflow.ExecuteActivity(ctx, a.RenderDrafts, in).Get(ctx, &drafts); err != nil {
		return reach, announced, fmt.Errorf("wave %d: draft: %w", n, err)
	}
	// A regulator already reported to (or about to be) whose jurisdiction
	// the wave adds people to gets a supplementary report: its report is
	// drafted again with the new totals, for legal.
	for _, o := range s.p.Obligations {
		name := activities.ReportDraftName(o.Name)
		d := s.draft(name)
		if o.Audience == "individuals" || !slices.Contains(grown, o.Jurisdiction) || d == nil || slices.Contains(w.Duties, o.Name) || s.reportWaived(name) {
			continue
		}
		rin := in
		rin.Only, rin.Except, rin.Revision, rin.IfChanged = []string{name}, nil, d.Revision+1, true
		var res activities.DraftResult
		if err := workflow.ExecuteActivity(ctx, a.RenderDrafts, rin).Get(ctx, &res); err != nil {
			return reach, announced, fmt.Errorf("wave %d: supplementary report %s: %w", n, name, err)
		}
		if len(res.Drafts) != 1 || res.Drafts[0].Revision == d.Revision {
			continue // the report states nothing the wave changed
		}
		got := res.Drafts[0]
		pendRevision(d, got)
		w.Supplementary = append(w.Supplementary, name)
		filed := ""
		if f := s.p.Filings[o.Name]; f.Met() {
			filed = fmt.Sprintf(" (%s was filed as %s)", o.Name, f.Reference)
		}
		s.event(ctx, fmt.Sprintf("wave %d: %s revision %d drafted with the new totals, a supplementary report%s", n, name, d.Revision, filed))
		drafts.Drafts = append(drafts.Drafts, got)
	}
	for _, d := range drafts.Drafts {
		if slices.Contains(w.Supplementary, d.Name) {
			continue // a new revision of a draft the plan has
		}
		s.p.Drafts = append(s.p.Drafts, draftState(d))
		w.Drafts = append(w.Drafts, d.Name)
	}
	if len(drafts.Drafts) > 0 {
		w.Status = WaveApproval
		s.event(ctx, fmt.Sprintf("wave %d: %s drafted for legal", n, strings.Join(slices.Concat(w.Drafts, w.Supplementary), ", ")))
		s.post(ctx, fmt.Sprintf("Wave %d: %d drafts are ready for legal review; its people are told once they are approved.", n, len(drafts.Drafts)))
		s.review(ctx, drafts.Drafts)
	}
	needed := func(d DraftState) bool { return d.Kind != activities.KindAnnouncement && !s.reportWaived(d.Name) }
	if err := s.awaitApproval(ctx, *draftIn, needed); err != nil {
		return reach, announced, err
	}
	if err := s.awaitFilingsBeforeNotice(ctx); err != nil {
		return reach, announced, err
	}

	w.Status = WaveNotify
	s.stage(ctx, StageNotifying, fmt.Sprintf("wave %d: notifying the %d people it added", n, res.Added))
	if err := s.withholdWaived(ctx); err != nil {
		return reach, announced, err
	}
	notices := s.noticeRevisions()
	s.postedQuarter = 0
	if err := s.campaign(ctx, plan, notices, n); err != nil {
		return reach, announced, fmt.Errorf("wave %d: %w", n, err)
	}
	if err := workflow.ExecuteActivity(ctx, a.Reach, id).Get(ctx, &reach); err != nil {
		return reach, announced, fmt.Errorf("wave %d: reach: %w", n, err)
	}
	s.p.Reach = &reach.Reach
	s.p.Unreachable = reach.Reach.Unreached
	for _, o := range added {
		r := reach.Reach.Reached
		if j, ok := reach.ByJurisdiction[o.Jurisdiction]; ok {
			r = j.Reached
		}
		s.noticeMet(ctx, o, fmt.Sprintf("individual notice (wave %d): %d reached", n, r))
	}
	w.Status, w.Reached = WaveDone, reach.Reach.Reached
	s.event(ctx, fmt.Sprintf("wave %d done: %d reached in all, %d not reachable", n, reach.Reach.Reached, reach.Reach.Unreached))
	s.post(ctx, fmt.Sprintf(":white_check_mark: Wave %d told its people: %d reached in all, %d not reachable.", n, reach.Reach.Reached, reach.Reach.Unreached))
	if reach.Reach.Unreached > 0 && (s.p.Announcement == nil || !s.p.Announcement.Published) {
		ok, err := s.announce(ctx, *draftIn, reach.Reach)
		if err != nil {
			return reach, announced, err
		}
		announced = announced || ok
	}
	return reach, announced, nil
}

// grownJurisdictions lists, sorted, the jurisdictions of the regions whose
// affected people grew from before to after.
func grownJurisdictions(before, after *plandata.ScopeSummary) []string {
	var out []string
	// Sorted before use: the map's order does not matter.
	//workflowcheck:ignore
	for region, f := range after.Regions {
		was := 0
		if before != nil {
			was = before.Regions[region].Subjects
		}
		if f.Subjects > was {
			for _, j := range playbooks.JurisdictionsOf(region) {
				if !slices.Contains(out, j) {
					out = append(out, j)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}
