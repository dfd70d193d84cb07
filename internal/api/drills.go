package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/playbooks"
	"github.com/tocsin/tocsin/workflows"
)

// DrillRequest starts a drill, or a schedule of them.
type DrillRequest struct {
	Playbook string `json:"playbook,omitempty"`
	Attended bool   `json:"attended,omitempty"`
	// ApprovalDelay is how long the drill identity waits before approving
	// and filing ("30s"); ignored when attended.
	ApprovalDelay string `json:"approval_delay,omitempty"`
	Subjects      int    `json:"subjects,omitempty"`
	// Name and Cron are for schedules.
	Name string `json:"name,omitempty"`
	Cron string `json:"cron,omitempty"`
}

// DrillView is a drill with what its sinks received.
type DrillView struct {
	store.Drill
	// Messages counts, per channel, what the drill sinks received.
	Messages map[string]int `json:"messages"`
}

func (s *Server) drillRequest(w http.ResponseWriter, r *http.Request) (workflows.DrillRequest, DrillRequest, bool) {
	var req DrillRequest
	if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return workflows.DrillRequest{}, req, false
	}
	if req.Playbook == "" {
		req.Playbook = "default"
	}
	if _, err := playbooks.Load(s.PlaybookDir, req.Playbook); err != nil {
		writeError(w, http.StatusUnprocessableEntity, "playbook: "+err.Error())
		return workflows.DrillRequest{}, req, false
	}
	delay := 30 * time.Second
	if req.ApprovalDelay != "" {
		d, err := time.ParseDuration(req.ApprovalDelay)
		if err != nil || d <= 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("approval_delay: %q is not a positive duration (30s, 5m)", req.ApprovalDelay))
			return workflows.DrillRequest{}, req, false
		}
		delay = d
	}
	if req.Subjects < 0 || req.Subjects > 1_000_000 {
		writeError(w, http.StatusBadRequest, "subjects: from 1 to 1000000 synthetic people")
		return workflows.DrillRequest{}, req, false
	}
	if p := principal(r.Context()); p.Role == RoleDrill && req.Subjects > MaxDrillRoleSubjects {
		writeError(w, http.StatusForbidden, fmt.Sprintf("subjects: the drill role runs drills of at most %d people; a responder or an admin may run a larger one", MaxDrillRoleSubjects))
		return workflows.DrillRequest{}, req, false
	}
	return workflows.DrillRequest{Playbook: req.Playbook, RequestedBy: principal(r.Context()).Identity, Attended: req.Attended, ApprovalDelay: delay,
		Subjects: req.Subjects, BatchSize: s.BatchSize, ReceiptPoll: s.ReceiptPoll,
		BatchWindow: s.BatchWindow, PartitionSize: s.PartitionSize, PartitionWindow: s.PartitionWindow}, req, true
}

// Drill limits: a drill loads a synthetic inventory and runs a whole
// campaign on the workers real incidents need.
const (
	// MaxDrillRoleSubjects bounds the drills the drill role (a scheduler's
	// token) may start.
	MaxDrillRoleSubjects = 10_000
	// MaxRunningDrills bounds the drills running at once.
	MaxRunningDrills = 2
	// MaxDrillSchedules bounds the schedules of drills.
	MaxDrillSchedules = 10
)

// atMostHourly is a cron expression whose minute field is one minute.
var atMostHourly = regexp.MustCompile(`^\s*([0-9]|[1-5][0-9])\s+\S+\s+\S+\s+\S+\s+\S+\s*$`)

func (s *Server) runDrill(w http.ResponseWriter, r *http.Request) {
	drills, err := s.Store.ListDrills(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, "drills unavailable")
		return
	}
	running := 0
	for _, d := range drills {
		if d.Status == store.DrillRunning {
			running++
		}
	}
	if running >= MaxRunningDrills {
		writeError(w, http.StatusTooManyRequests, fmt.Sprintf("%d drills are running; at most %d run at once, so that drills do not take the workers a real incident needs", running, MaxRunningDrills))
		return
	}
	in, _, ok := s.drillRequest(w, r)
	if !ok {
		return
	}
	in.DrillID = "DR-" + strings.ToUpper(strings.ReplaceAll(uuid.NewString(), "-", "")[:10])
	_, err = s.Temporal.ExecuteWorkflow(r.Context(), client.StartWorkflowOptions{ID: in.DrillID, TaskQueue: workflows.TaskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE}, workflows.DrillWorkflow, in)
	if err != nil {
		writeError(w, http.StatusBadGateway, "start drill: "+err.Error())
		return
	}
	s.log().Info("drill started", "drill", in.DrillID, "playbook", in.Playbook, "by", in.RequestedBy, "attended", in.Attended)
	writeJSON(w, http.StatusCreated, map[string]string{"id": in.DrillID})
}

func (s *Server) listDrills(w http.ResponseWriter, r *http.Request) {
	ds, err := s.Store.ListDrills(r.Context())
	if err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ds)
}

func (s *Server) showDrill(w http.ResponseWriter, r *http.Request) {
	d, err := s.Store.GetDrill(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no drill "+r.PathValue("id")+" (it may still be preparing its inventory)")
		return
	}
	if err != nil {
		s.writeErr(w, err)
		return
	}
	v := DrillView{Drill: d, Messages: map[string]int{}}
	msgs, err := s.Store.DrillMessages(r.Context(), d.IncidentID)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	for _, m := range msgs {
		v.Messages[m.Channel]++
	}
	writeJSON(w, http.StatusOK, v)
}

var scheduleName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,40}$`)

// drillSchedulePrefix marks Temporal Schedules that start drills.
const drillSchedulePrefix = "tocsin-drill-"

// DrillSchedule is a Temporal Schedule of drills.
type DrillSchedule struct {
	ID       string    `json:"id"`
	Cron     string    `json:"cron"`
	Playbook string    `json:"playbook,omitempty"`
	Next     time.Time `json:"next,omitzero"`
}

func (s *Server) scheduleDrill(w http.ResponseWriter, r *http.Request) {
	in, req, ok := s.drillRequest(w, r)
	if !ok {
		return
	}
	if strings.TrimSpace(req.Cron) == "" {
		writeError(w, http.StatusBadRequest, "cron: a cron expression is required (\"0 3 * * 1\": Mondays at 03:00 UTC)")
		return
	}
	if !atMostHourly.MatchString(req.Cron) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("cron: %q runs more than once an hour; name one minute (\"0 3 * * 1\": Mondays at 03:00 UTC)", req.Cron))
		return
	}
	if n, err := s.countDrillSchedules(r.Context()); err != nil {
		writeError(w, http.StatusBadGateway, err.Error())
		return
	} else if n >= MaxDrillSchedules {
		writeError(w, http.StatusTooManyRequests, fmt.Sprintf("%d drill schedules exist; at most %d (delete one: DELETE /api/v1/drill-schedules/ID)", n, MaxDrillSchedules))
		return
	}
	if req.Name == "" {
		req.Name = "weekly"
	}
	if !scheduleName.MatchString(req.Name) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("name: %q must be lower-case letters, digits and dashes", req.Name))
		return
	}
	id := drillSchedulePrefix + req.Name
	_, err := s.Temporal.ScheduleClient().Create(r.Context(), client.ScheduleOptions{
		ID:   id,
		Spec: client.ScheduleSpec{CronExpressions: []string{req.Cron}},
		Action: &client.ScheduleWorkflowAction{ID: "drill-" + req.Name, Workflow: workflows.DrillWorkflow, TaskQueue: workflows.TaskQueue,
			Args: []any{in}},
		Memo: map[string]any{"cron": req.Cron, "playbook": in.Playbook},
	})
	if err != nil {
		status := http.StatusBadGateway
		var invalid *serviceerror.InvalidArgument
		switch {
		case errors.Is(err, temporal.ErrScheduleAlreadyRunning):
			status = http.StatusConflict
		case errors.As(err, &invalid):
			status = http.StatusBadRequest
		}
		writeError(w, status, "schedule drill: "+err.Error())
		return
	}
	s.log().Info("drill scheduled", "schedule", id, "cron", req.Cron, "by", in.RequestedBy)
	writeJSON(w, http.StatusCreated, DrillSchedule{ID: id, Cron: req.Cron, Playbook: in.Playbook})
}

func (s *Server) listDrillSchedules(w http.ResponseWriter, r *http.Request) {
	it, err := s.Temporal.ScheduleClient().List(r.Context(), client.ScheduleListOptions{})
	if err != nil {
		writeError(w, http.StatusBadGateway, err.Error())
		return
	}
	out := []DrillSchedule{}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			writeError(w, http.StatusBadGateway, err.Error())
			return
		}
		if !strings.HasPrefix(e.ID, drillSchedulePrefix) {
			continue
		}
		ds := DrillSchedule{ID: e.ID}
		if e.Memo != nil {
			dc := s.dataConverter()
			dc.FromPayload(e.Memo.Fields["cron"], &ds.Cron)
			dc.FromPayload(e.Memo.Fields["playbook"], &ds.Playbook)
		}
		if len(e.NextActionTimes) > 0 {
			ds.Next = e.NextActionTimes[0]
		}
		out = append(out, ds)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) countDrillSchedules(ctx context.Context) (int, error) {
	it, err := s.Temporal.ScheduleClient().List(ctx, client.ScheduleListOptions{})
	if err != nil {
		return 0, err
	}
	n := 0
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return 0, err
		}
		if strings.HasPrefix(e.ID, drillSchedulePrefix) {
			n++
		}
	}
	return n, nil
}

// deleteDrillSchedule deletes a schedule of drills (drills it started run
// on); audited.
func (s *Server) deleteDrillSchedule(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	p := principal(r.Context())
	if !strings.HasPrefix(id, drillSchedulePrefix) {
		writeError(w, http.StatusNotFound, "no drill schedule "+id)
		return
	}
	if err := s.Temporal.ScheduleClient().GetHandle(r.Context(), id).Delete(r.Context()); err != nil {
		var gone *serviceerror.NotFound
		if errors.As(err, &gone) {
			writeError(w, http.StatusNotFound, "no drill schedule "+id)
			return
		}
		writeError(w, http.StatusBadGateway, "delete schedule: "+err.Error())
		return
	}
	s.audit(r.Context(), p, "", "delete drill schedule", store.AuditDone, map[string]string{"schedule": id})
	s.log().Info("drill schedule deleted", "schedule", id, "by", p.Identity)
	writeJSON(w, http.StatusOK, map[string]string{"deleted": id})
}
