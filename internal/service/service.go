// Package service is what a person can do to an incident, whichever surface
// they use (the API, the console, Slack): open it, read its record, decide
// on a draft, file or waive a duty, set facts, release calls held for the
// night. It checks roles, signs each update for the workflow, audits the
// outcome, and answers with domain values or an incident.Refusal; the HTTP,
// console and Slack adapters in internal/api turn those into what their
// callers read, and choose statuses.
package service

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/roles"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/playbooks"
	"github.com/tocsin/tocsin/workflows"
)

// Caller is who asks, as the surface authenticated them.
type Caller struct {
	Identity string
	Role     string
	// Via is the surface: api, console or slack (for the audit log).
	Via string
}

// Sizing is how a new incident's campaign is cut up (zero: the workflow's defaults).
type Sizing struct {
	BatchSize, BatchWindow, PartitionSize, PartitionWindow int
	// ReceiptPoll overrides how often receipts are checked (tests).
	ReceiptPoll time.Duration
}

// Service acts on incidents.
type Service struct {
	Store       *store.Store
	Temporal    client.Client
	ActorKey    []byte
	PlaybookDir string
	Sizing      Sizing
	Log         *slog.Logger
}

var (
	responders = []string{roles.Responder, roles.Admin}
	releasers  = []string{roles.Legal, roles.Admin}
)

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Audit appends an action to the incident's hash-chained log (chain "" for
// actions on no incident). The action has already happened or been refused
// when this runs, so a failure to record it is logged loudly, not returned.
func (s *Service) Audit(ctx context.Context, c Caller, chain, action, outcome string, detail map[string]string) {
	_, err := s.Store.AppendAudit(context.WithoutCancel(ctx), store.AuditEntry{Chain: chain, Actor: c.Identity, Role: c.Role, Via: c.Via,
		Action: action, Outcome: outcome, Detail: detail})
	if err != nil {
		s.log().Error("audit entry not recorded", "incident", chain, "action", action, "actor", c.Identity, "error", err)
	}
}

// MayView says whether c may see inc: everyone with a role may see an
// ordinary incident; a restricted one only the people it names and its
// opener; the drill identity only drills.
func MayView(c Caller, inc store.Incident) bool {
	if c.Role == roles.Drill && !inc.Drill {
		// The drill identity runs rehearsals; a real incident is none of its business.
		return false
	}
	if len(inc.Spec.RestrictedTo) == 0 {
		return true
	}
	return strings.EqualFold(c.Identity, inc.OpenedBy) || slices.ContainsFunc(inc.Spec.RestrictedTo, func(who string) bool { return strings.EqualFold(who, c.Identity) })
}

// Visible loads an incident if c may see it.
func (s *Service) Visible(ctx context.Context, c Caller, id string) (store.Incident, bool) {
	inc, err := s.Store.GetIncident(ctx, id)
	if err != nil {
		return inc, false
	}
	return inc, MayView(c, inc)
}

// Open records an incident from its file and starts its plan. It returns
// the new ID, or a refusal saying why not.
func (s *Service) Open(ctx context.Context, c Caller, file, yaml string, named *store.NamedSubjects) (string, error) {
	// The API route checks the role too; Slack and the console rely on this.
	if !slices.Contains(responders, c.Role) {
		s.Audit(ctx, c, "", "open", store.AuditRefused, map[string]string{"reason": "role " + c.Role + " not allowed"})
		return "", incident.Refuse(incident.Forbidden, fmt.Errorf("%s (%s) may not open incidents; responders and admins may", c.Identity, c.Role))
	}
	if file == "" {
		file = "incident.yaml"
	}
	spec, err := incident.Parse(file, []byte(yaml))
	if err != nil {
		return "", incident.Refuse(incident.Unreadable, err)
	}
	// An incident whose playbook cannot load would stop at its first step:
	// say why now, with the playbook's file:line, and open nothing.
	if _, err := playbooks.Load(s.PlaybookDir, spec.Playbook); err != nil {
		return "", incident.Refuse(incident.Unreadable, fmt.Errorf("%s: playbook: %w", file, err))
	}
	snap, err := s.Store.CurrentSnapshot(ctx)
	if err != nil {
		return "", incident.Refuse(incident.Conflict, err)
	}
	id := "INC-" + strings.ToUpper(strings.ReplaceAll(uuid.NewString(), "-", "")[:10])
	charter := store.NewCharter()
	inc := store.Incident{ID: id, Title: spec.Title, Spec: spec, OpenedBy: c.Identity, OpenedAt: time.Now().UTC(), Drill: spec.Drill, Snapshot: snap, Charter: charter}
	if err := s.Store.CreateIncident(ctx, inc, named); err != nil {
		var unreadable *store.ImportError
		if errors.As(err, &unreadable) || named != nil {
			// An unreadable list of named subjects, or a scope the inventory cannot answer.
			return "", incident.Refuse(incident.Unreadable, err)
		}
		return "", fmt.Errorf("record incident: %w", err)
	}
	_, err = s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE},
		workflows.IncidentWorkflow, workflows.IncidentInput{IncidentID: id, OpenedBy: c.Identity, Spec: spec, Charter: charter, BatchSize: s.Sizing.BatchSize, ReceiptPoll: s.Sizing.ReceiptPoll,
			BatchWindow: s.Sizing.BatchWindow, PartitionSize: s.Sizing.PartitionSize, PartitionWindow: s.Sizing.PartitionWindow})
	if err != nil {
		// An incident recorded but never started would sit in every list
		// with nothing behind it. Unless Temporal did start it (the error
		// came after), the record goes and the refusal is audited.
		var exists *serviceerror.WorkflowExecutionAlreadyStarted
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, derr := s.Temporal.DescribeWorkflowExecution(dctx, id, ""); derr != nil && !errors.As(err, &exists) {
			if ferr := s.Store.ForgetIncident(dctx, id); ferr != nil {
				s.log().Error("incident record left without a workflow", "incident", id, "error", ferr)
			}
			s.Audit(ctx, c, "", "open", store.AuditRefused, map[string]string{"title": spec.Title, "reason": "workflow did not start: " + err.Error()})
			return "", incident.Refuse(incident.Unavailable, fmt.Errorf("start incident workflow: %w; nothing was recorded, open it again", err))
		}
	}
	s.Audit(ctx, c, id, "open", store.AuditDone, map[string]string{"title": spec.Title, "playbook": spec.Playbook, "file": file})
	s.log().Info("incident opened", "incident", id, "by", c.Identity, "via", c.Via)
	return id, nil
}

// Record is where the incident's plan stands. Tocsin's store is the
// system of record: a closed incident is read from its record alone (the
// namespace keeps the history only for its retention), a live one from
// its workflow, and one whose workflow is gone from its last record.
func (s *Service) Record(ctx context.Context, id string) (incident.Record, error) {
	rec, _, err := s.record(ctx, id, false)
	return rec, err
}

// LastKnown says a record shown is the one the workflow last kept in the
// store, because the workflow itself did not answer, and why.
type LastKnown struct {
	WrittenAt time.Time
	Why       error
}

// RecordToShow is Record for people to look at: when the workflow does not
// answer (its worker busy with many incidents at once, or Temporal out of
// reach), the record it last kept, at most a few seconds behind, is shown
// with when it was written, rather than no state at all. Decisions read
// Record, which never falls back.
func (s *Service) RecordToShow(ctx context.Context, id string) (incident.Record, *LastKnown, error) {
	return s.record(ctx, id, true)
}

func (s *Service) record(ctx context.Context, id string, lastKnown bool) (incident.Record, *LastKnown, error) {
	var stored incident.Record
	kept, rerr := s.Store.GetRecord(ctx, id)
	if rerr == nil {
		rerr = json.Unmarshal(kept.Record, &stored)
	}
	if rerr == nil && stored.Status == incident.StageClosed {
		return stored, nil, nil
	}
	// The run that claimed the incident's charter is the incident: a run
	// someone else started under its ID (refused, see ClaimCharter) is not.
	run, _ := s.Store.ChartedRun(ctx, id)
	v, err := s.Temporal.QueryWorkflow(ctx, id, run, workflows.QueryProgress)
	if err != nil {
		var gone *serviceerror.NotFound
		if rerr == nil && errors.As(err, &gone) {
			return stored, nil, nil
		}
		if lastKnown {
			if rerr == nil {
				return stored, &LastKnown{WrittenAt: kept.WrittenAt, Why: err}, nil
			}
			// Opened, and its plan has not yet recorded anything: that
			// much the store knows.
			if inc, ierr := s.Store.GetIncident(ctx, id); ierr == nil && errors.Is(rerr, store.ErrNotFound) {
				return incident.Record{Status: incident.StageOpen}, &LastKnown{WrittenAt: inc.OpenedAt, Why: err}, nil
			}
		}
		return incident.Record{}, nil, err
	}
	var p incident.Record
	if err := v.Get(&p); err != nil {
		return p, nil, err
	}
	if errors.Is(rerr, store.ErrNotFound) && p.Status == incident.StageClosed {
		// An incident closed before workflows kept their record (an older
		// data directory or deployment) gets one the first time it is read,
		// while Temporal still has it.
		if rec, err := json.Marshal(p); err == nil {
			if err := s.Store.SaveRecord(ctx, id, 1, rec, p.Summary()); err != nil {
				s.log().Warn("could not keep the record of a closed incident", "incident", id, "error", err)
			}
		}
	}
	return p, nil, nil
}

// Decision approves, rejects or revises a draft.
type Decision struct {
	Draft   string
	Comment string
	Reason  string
	Changes map[string]string
	// Revision is the revision decided on (required to approve or reject).
	Revision int
}

// Decide approves, rejects or revises a draft. Legal-only, four-eyes and
// completeness are the workflow's own checks, so no surface can go around them.
func (s *Service) Decide(ctx context.Context, c Caller, id, update string, d Decision) (incident.DraftState, error) {
	actor := actorOf(c)
	var arg workflows.SignedInput
	switch update {
	case workflows.UpdateApprove, workflows.UpdateReject:
		if d.Revision <= 0 {
			// Legal decides on the text they read: a revision drafted
			// after they read it (new facts) must not be approved unseen.
			return incident.DraftState{}, incident.Refuse(incident.Invalid, fmt.Errorf("name the revision of %s you reviewed (revision; incident show lists it): a decision holds for the text you read", d.Draft))
		}
	}
	switch update {
	case workflows.UpdateApprove:
		arg = &incident.ApproveInput{Actor: actor, Draft: d.Draft, Comment: d.Comment, Revision: d.Revision}
	case workflows.UpdateReject:
		arg = &incident.RejectInput{Actor: actor, Draft: d.Draft, Reason: d.Reason, Revision: d.Revision}
	case workflows.UpdateRevise:
		arg = &incident.ReviseInput{Actor: actor, Draft: d.Draft, Changes: d.Changes}
	default:
		return incident.DraftState{}, incident.Refuse(incident.Invalid, fmt.Errorf("unknown decision %q", update))
	}
	detail := map[string]string{"draft": d.Draft}
	if d.Comment != "" {
		detail["comment"] = d.Comment
	}
	if d.Reason != "" {
		detail["reason"] = d.Reason
	}
	if len(d.Changes) > 0 {
		detail["changed"] = strings.Join(slices.Sorted(maps.Keys(d.Changes)), ",")
	}
	var out incident.DraftState
	err := s.runUpdate(ctx, c, id, update, arg, &out, detail)
	if err == nil {
		s.log().Info("draft decision", "incident", id, "update", update, "draft", d.Draft, "revision", out.Revision, "by", c.Identity, "via", c.Via)
	}
	return out, err
}

// Submit records a filing of one obligation.
func (s *Service) Submit(ctx context.Context, c Caller, id, obligation, reference, lateReason string) (incident.Filing, error) {
	var out incident.Filing
	err := s.runUpdate(ctx, c, id, workflows.UpdateSubmit, &incident.SubmitInput{Actor: actorOf(c), Obligation: obligation, Reference: reference, LateReason: lateReason}, &out,
		map[string]string{"obligation": obligation, "reference": reference, "late_reason": lateReason})
	if err == nil {
		s.log().Info("filing recorded", "incident", id, "obligation", obligation, "by", c.Identity, "via", c.Via)
	}
	return out, err
}

// Waive records legal's decision that a duty does not apply; the workflow
// checks that c is legal.
func (s *Service) Waive(ctx context.Context, c Caller, id, obligation, reason string) (incident.Filing, error) {
	var out incident.Filing
	err := s.runUpdate(ctx, c, id, workflows.UpdateWaive, &incident.WaiveInput{Actor: actorOf(c), Obligation: obligation, Reason: reason}, &out,
		map[string]string{"obligation": obligation, "reason": reason})
	if err == nil {
		s.log().Info("duty waived", "incident", id, "obligation", obligation, "by", c.Identity, "via", c.Via)
	}
	return out, err
}

// SetFacts supplies or corrects facts, or with a locale their translation
// into it; it answers with the drafts that were waiting for legal, as they
// now stand.
func (s *Service) SetFacts(ctx context.Context, c Caller, id string, set map[string]string, locale string) ([]incident.DraftState, error) {
	var drafts []incident.DraftState
	keys := strings.Join(slices.Sorted(maps.Keys(set)), ",")
	detail := map[string]string{"facts": keys}
	if locale != "" {
		detail["locale"] = locale
	}
	err := s.runUpdate(ctx, c, id, workflows.UpdateFacts, &incident.FactsInput{Actor: actorOf(c), Set: set, Locale: locale}, &drafts, detail)
	if err == nil {
		s.log().Info("facts set", "incident", id, "keys", keys, "locale", locale, "by", c.Identity, "via", c.Via)
	}
	return drafts, err
}

// Returned tells a running incident's plan that returned letters left
// unreached people nothing else reached (the store has recorded them):
// it answers what substitute notice covers them. A closed incident has no
// plan to tell: its record says whether an announcement covers them.
func (s *Service) Returned(ctx context.Context, c Caller, id string, unreached int) (string, error) {
	if rec, err := s.Record(ctx, id); err == nil && rec.Status == incident.StageClosed {
		if a := rec.Announcement; a != nil && a.Published {
			return "covered by the public announcement at " + a.URL, nil
		}
		if unreached == 0 {
			return "", nil
		}
		return "the incident is closed and made no public announcement: open a follow-up incident for these people (tocsin incident open --subjects-file)", nil
	}
	var out string
	err := s.runUpdate(ctx, c, id, workflows.UpdateReturned, &incident.ReturnedInput{Actor: actorOf(c), Unreached: unreached}, &out,
		map[string]string{"unreached": strconv.Itoa(unreached)})
	return out, err
}

// SettleReturns ends a running incident's wait for returned mail, as c
// (legal or an admin; the workflow checks).
func (s *Service) SettleReturns(ctx context.Context, c Caller, id string) (string, error) {
	var out string
	err := s.runUpdate(ctx, c, id, workflows.UpdateReturned, &incident.ReturnedInput{Actor: actorOf(c), Settled: true}, &out, map[string]string{"settled": "true"})
	return out, err
}

// runUpdate runs a workflow update as c and records it in the incident's
// audit chain, done or refused: a NotFound refusal for no such incident,
// Forbidden for who asked and Conflict for anything else the plan refused.
func (s *Service) runUpdate(ctx context.Context, c Caller, id, name string, arg workflows.SignedInput, out any, detail map[string]string) error {
	if err := workflows.TooLong(arg); err != nil {
		s.Audit(ctx, c, id, name, store.AuditRefused, map[string]string{"reason": err.Error()})
		return incident.Refuse(incident.Invalid, err)
	}
	// Signed last, over the whole input: the workers refuse an actor the
	// API did not vouch for (someone with Temporal access alone). The
	// update goes to, and its signature names, the run that claimed the
	// incident's charter: never a run someone else started under its ID.
	run, _ := s.Store.ChartedRun(ctx, id)
	workflows.SignUpdate(s.ActorKey, id, run, name, arg)
	h, err := s.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, RunID: run, UpdateName: name,
		Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err == nil {
		err = h.Get(ctx, out)
	}
	if detail == nil {
		detail = map[string]string{}
	}
	if err != nil {
		var gone *serviceerror.NotFound
		var refused *temporal.ApplicationError
		switch {
		case errors.As(err, &gone):
			err = incident.Refuse(incident.NotFound, errors.New("no running incident "+id))
		case errors.As(err, &refused) && refused.Type() == workflows.ErrTypeForbidden:
			err = incident.Refuse(incident.Forbidden, errors.New(refused.Message()))
		default:
			// Whatever else refused it, the update did not happen: the
			// plan's state conflicts with it.
			err = incident.Refuse(incident.Conflict, errors.New(cleanUpdateError(err)))
		}
		detail["refusal"] = err.Error()
		s.Audit(ctx, c, id, name, store.AuditRefused, detail)
		return err
	}
	if d, ok := out.(*incident.DraftState); ok {
		detail["revision"] = strconv.Itoa(d.Revision)
	}
	s.Audit(ctx, c, id, name, store.AuditDone, detail)
	return nil
}

// ReleaseCalls records, as c (legal or an admin), that an incident's calls
// no longer wait for the quiet hours of the people called, because the
// harm is urgent. Held calls are placed at once, later ones at any hour.
// Audited, with the reason.
func (s *Service) ReleaseCalls(ctx context.Context, c Caller, id, reason string) (store.QuietRelease, error) {
	refuse := func(kind incident.Refused, err error) (store.QuietRelease, error) {
		s.Audit(ctx, c, id, "release calls", store.AuditRefused, map[string]string{"reason": err.Error()})
		return store.QuietRelease{}, incident.Refuse(kind, err)
	}
	if !slices.Contains(releasers, c.Role) {
		return refuse(incident.Forbidden, fmt.Errorf("%s (%s) may not release calls from quiet hours; legal and admins may", c.Identity, c.Role))
	}
	if _, ok := s.Visible(ctx, c, id); !ok {
		return store.QuietRelease{}, incident.Refuse(incident.NotFound, errors.New("no incident "+id))
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return refuse(incident.Invalid, errors.New("say why the harm cannot wait for the morning (--reason): the audit log keeps it"))
	}
	if len(reason) > workflows.MaxNoteBytes {
		return refuse(incident.Invalid, fmt.Errorf("reason: %d bytes; at most %d", len(reason), workflows.MaxNoteBytes))
	}
	rel, err := s.Store.ReleaseQuietHours(ctx, id, store.QuietRelease{By: c.Identity, Reason: reason, At: time.Now().UTC()})
	if err != nil {
		return store.QuietRelease{}, err
	}
	s.Audit(ctx, c, id, "release calls", store.AuditDone, map[string]string{"reason": reason})
	s.log().Info("calls released from quiet hours", "incident", id, "by", c.Identity, "via", c.Via)
	s.wakePartitions(ctx, id)
	return rel, nil
}

// wakePartitions signals the incident's campaign partitions that sleep
// until morning, so they place their held calls now.
func (s *Service) wakePartitions(ctx context.Context, id string) {
	p, err := s.Record(ctx, id)
	if err != nil || p.Campaign == nil {
		return // no campaign yet: its batches will read the release
	}
	for k := 1; k <= p.Campaign.Partitions; k++ {
		err := s.Temporal.SignalWorkflow(ctx, fmt.Sprintf("%s-notify-%d", id, k), "", workflows.SignalReleaseCalls, nil)
		var gone *serviceerror.NotFound
		if err != nil && !errors.As(err, &gone) {
			s.log().Warn("could not wake a campaign partition", "incident", id, "partition", k, "error", err)
		}
	}
}

// actorOf is who asks, as the workflow records them (signed in runUpdate).
func actorOf(c Caller) incident.Actor {
	return incident.Actor{Identity: c.Identity, Role: c.Role, Via: c.Via, At: time.Now().UTC(), Nonce: newNonce()}
}

// cleanUpdateError keeps the validator's sentence and drops SDK wrapping.
func cleanUpdateError(err error) string {
	var refused *temporal.ApplicationError
	if errors.As(err, &refused) {
		return refused.Message()
	}
	return err.Error()
}

// newNonce makes a signed update one of a kind (the workflow takes each
// nonce once).
func newNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
