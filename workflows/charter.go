package workflows

import (
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tocsin/tocsin/activities"
)

// ErrTypeRunRefused is the type of the error a refused run ends with.
const ErrTypeRunRefused = "RunRefused"

// claimCharter is a run's first step: the incident it acts on (whether a
// drill and unattended, what it scopes, who opened it) is what Tocsin's
// store recorded when the API opened it, never this run's input, which
// anyone who can start workflows in the namespace can write. A run that
// shows no charter the API issued, a second run of an incident, or one
// whose input disagrees with the store, ends here having done nothing:
// the activity records the refusal with the incident and tells its war
// room.
func (s *plan) claimCharter(ctx workflow.Context) error {
	s.unchartered = true
	in := activities.CharterInput{IncidentID: s.in.IncidentID, Charter: s.in.Charter, OpenedBy: s.in.OpenedBy, Spec: s.in.Spec,
		Drill: s.in.Drill != nil || s.in.Spec.Drill, Attended: s.in.Drill == nil || s.in.Drill.Attended}
	var res activities.CharterResult
	if err := workflow.ExecuteActivity(activityOptions(ctx), a.ClaimCharter, in).Get(ctx, &res); err != nil {
		return fmt.Errorf("charter: %w", err)
	}
	if res.Refused != "" {
		return temporal.NewNonRetryableApplicationError("run refused: "+res.Refused, ErrTypeRunRefused, nil)
	}
	s.in.OpenedBy, s.in.Spec, s.spec = res.OpenedBy, res.Spec, res.Spec
	s.p.OpenedBy, s.p.Facts = res.OpenedBy, FactsOf(res.Spec)
	switch {
	case !res.Drill:
		s.in.Drill = nil
	case res.Attended:
		s.in.Drill = &DrillMode{Attended: true, Identity: DrillIdentity}
	default:
		mode := DrillMode{ApprovalDelay: defaultApprovalDelay, Identity: DrillIdentity}
		if s.in.Drill != nil && s.in.Drill.ApprovalDelay > 0 {
			mode.ApprovalDelay = s.in.Drill.ApprovalDelay
		}
		s.in.Drill = &mode
	}
	s.unchartered, s.chartered = false, true
	return nil
}
