package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/sdk/activity"

	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/store"
)

// CharterInput is what a workflow run says of itself: the charter it was
// handed and the incident it was started with. The store decides.
type CharterInput struct {
	IncidentID string
	Charter    string
	OpenedBy   string
	Spec       incident.Spec
	Drill      bool
	Attended   bool
}

// CharterResult is the incident as Tocsin's store has it, which the run
// acts on; Refused says why the run may do nothing at all.
type CharterResult struct {
	Refused  string `json:",omitempty"`
	OpenedBy string
	Spec     incident.Spec
	Drill    bool
	Attended bool
}

// ClaimCharter is every incident run's first step: whether the incident is
// a drill, what it scopes and who opened it come from the store (written
// by the API when it opened the incident), never from the workflow's
// input, which anyone with access to Temporal can write. A run that no API
// call started, a second run of the same incident, or one whose input
// disagrees with the store, is refused: recorded with the incident, told
// to its war room, and the run acts on nothing.
func (a *Activities) ClaimCharter(ctx context.Context, in CharterInput) (CharterResult, error) {
	wf := activity.GetInfo(ctx).WorkflowExecution
	run := wf.RunID
	if wf.ID != in.IncidentID {
		// Every step acts on the input's incident ID: a run under another
		// workflow ID would act on an incident whose record it does not hold.
		reason := fmt.Sprintf("the run's workflow ID %s is not the incident it names (%s)", wf.ID, in.IncidentID)
		return CharterResult{Refused: reason}, a.refuseRun(ctx, wf.ID, run, reason)
	}
	c, err := a.Store.ClaimCharter(ctx, in.IncidentID, in.Charter, run, func(c store.Charter) error {
		var differs []string
		if in.Drill != c.Drill {
			differs = append(differs, fmt.Sprintf("drill (the run says %v, Tocsin %v)", in.Drill, c.Drill))
		} else if c.Drill && in.Attended != c.Attended {
			differs = append(differs, fmt.Sprintf("attended (the run says %v, Tocsin %v)", in.Attended, c.Attended))
		}
		if !strings.EqualFold(in.OpenedBy, c.OpenedBy) {
			differs = append(differs, "who opened it")
		}
		if !sameSpec(in.Spec, c.Spec) {
			differs = append(differs, "the incident file (systems, regions, facts)")
		}
		if len(differs) > 0 {
			return fmt.Errorf("the run's input disagrees with what Tocsin recorded when %s was opened: %s", in.IncidentID, strings.Join(differs, "; "))
		}
		return nil
	})
	if errors.Is(err, store.ErrCharterRefused) {
		reason := strings.TrimPrefix(err.Error(), store.ErrCharterRefused.Error()+": ")
		return CharterResult{Refused: reason}, a.refuseRun(ctx, in.IncidentID, run, reason)
	}
	if err != nil {
		return CharterResult{}, err
	}
	return CharterResult{OpenedBy: c.OpenedBy, Spec: c.Spec, Drill: c.Drill, Attended: c.Attended}, nil
}

func sameSpec(a, b incident.Spec) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// refuseRun records a refused run with its incident (once, however often
// the activity is retried), in the incident's audit chain, and tells the
// war room of an incident Tocsin knows.
func (a *Activities) refuseRun(ctx context.Context, incidentID, run, reason string) error {
	first, err := a.Store.RefuseRun(ctx, incidentID, store.RunRefusal{RunID: run, At: a.now().UTC(), Reason: reason})
	if err != nil || !first {
		return err
	}
	_, ierr := a.Store.GetIncident(ctx, incidentID)
	chain := incidentID
	if ierr != nil {
		chain = "" // no such incident: the chain of actions on none
	}
	if _, err := a.Store.AppendAudit(ctx, store.AuditEntry{Chain: chain, At: a.now().UTC(), Actor: "temporal", Role: "workflow", Via: "temporal",
		Action: "workflow run refused", Outcome: store.AuditRefused, Detail: map[string]string{"incident": incidentID, "run": run, "reason": reason}}); err != nil {
		return err
	}
	logger(a).Warn("workflow run refused", "incident", incidentID, "run", run, "reason", reason)
	if ierr == nil {
		a.warRoomPost(ctx, incidentID, fmt.Sprintf(":no_entry: A workflow run of %s (run %s) was started outside Tocsin and refused: it sends and approves nothing. %s. Someone with access to Temporal started it: check who.", incidentID, run, reason))
	}
	return nil
}
