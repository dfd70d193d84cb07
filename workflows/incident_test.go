package workflows

import (
	"fmt"
	"sync/atomic"

	"github.com/tocsin/tocsin/internal/plandata"

	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/tocsin/tocsin/activities"
	"github.com/tocsin/tocsin/internal/incident"
)

type updateResult struct {
	rejected error
	done     bool
	// result is what the update answered.
	result any
}

// overrides replace setup's default activity results.
type overrides struct {
	assess *activities.AssessResult
	// assessErr fails the assessment.
	assessErr error
	drafts    func(context.Context, activities.DraftInput) (activities.DraftResult, error)
	// draftsTake is how long each render takes on the workflow's clock.
	draftsTake time.Duration
	post       func(context.Context, activities.PostInput) error
	scope      *plandata.ScopeSummary
	// withhold answers WithholdNotice (default: nobody withheld).
	withhold func(context.Context, activities.WithholdInput) (activities.WithholdResult, error)
	reach    *activities.ReachResult
	// reachOf answers each Reach in turn (instead of reach).
	reachOf func() activities.ReachResult
	// record is handed each RecordIncident (default: taken).
	record func(context.Context, activities.RecordInput) error
	// charter answers ClaimCharter (default: the store agrees with the run).
	charter func(context.Context, activities.CharterInput) (activities.CharterResult, error)
	// pace answers ProjectPace (default: on time).
	pace func(context.Context, activities.PaceInput) (activities.PaceResult, error)
	// split answers SplitRange (default: one range of 3 people).
	split func(context.Context, activities.SplitInput) (activities.SplitResult, error)
	// sendTakes is how long each SendBatch takes on the workflow's clock.
	sendTakes time.Duration
}

func setup(t *testing.T, unreached int, o ...overrides) *testsuite.TestWorkflowEnvironment {
	var ov overrides
	if len(o) > 0 {
		ov = o[0]
	}
	// The test environment runs activities on goroutines of their own, two
	// posts at once among them: the overrides, which record what they are
	// given, are called one at a time.
	var mu sync.Mutex
	if post := ov.post; post != nil {
		ov.post = func(ctx context.Context, in activities.PostInput) error {
			mu.Lock()
			defer mu.Unlock()
			return post(ctx, in)
		}
	}
	if drafts := ov.drafts; drafts != nil {
		ov.drafts = func(ctx context.Context, in activities.DraftInput) (activities.DraftResult, error) {
			mu.Lock()
			defer mu.Unlock()
			return drafts(ctx, in)
		}
	}
	if withhold := ov.withhold; withhold != nil {
		ov.withhold = func(ctx context.Context, in activities.WithholdInput) (activities.WithholdResult, error) {
			mu.Lock()
			defer mu.Unlock()
			return withhold(ctx, in)
		}
	}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	// The incident workflow as a worker registers it, trusting the key the
	// tests sign updates with.
	Incidents{ActorKeys: [][]byte{testActorKey}}.Register(env)
	var a *activities.Activities
	env.RegisterActivity(a)
	env.RegisterWorkflow(NotifyWorkflow)
	if ov.split != nil {
		env.OnActivity(a.SplitRange, mock.Anything, mock.Anything).Return(ov.split)
	} else {
		env.OnActivity(a.SplitRange, mock.Anything, mock.Anything).Return(activities.SplitResult{Ranges: []plandata.Range{{}}, Subjects: 3}, nil)
	}
	if ov.pace != nil {
		env.OnActivity(a.ProjectPace, mock.Anything, mock.Anything).Return(ov.pace)
	} else {
		env.OnActivity(a.ProjectPace, mock.Anything, mock.Anything).Return(activities.PaceResult{}, nil)
	}
	if ov.charter != nil {
		env.OnActivity(a.ClaimCharter, mock.Anything, mock.Anything).Return(ov.charter)
	} else {
		// The store agrees with what the run says of itself.
		env.OnActivity(a.ClaimCharter, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.CharterInput) (activities.CharterResult, error) {
			return activities.CharterResult{OpenedBy: in.OpenedBy, Spec: in.Spec, Drill: in.Drill, Attended: in.Attended}, nil
		})
	}
	env.OnActivity(a.OpenWarRoom, mock.Anything, mock.Anything).Return(activities.OpenWarRoomResult{ChannelID: "C1"}, nil)
	if ov.post != nil {
		env.OnActivity(a.Post, mock.Anything, mock.Anything).Return(ov.post)
	} else {
		env.OnActivity(a.Post, mock.Anything, mock.Anything).Return(nil)
	}
	scope := plandata.ScopeSummary{Subjects: 3, Regions: map[string]plandata.RegionFacts{"CN": {Subjects: 3}}}
	if ov.scope != nil {
		scope = *ov.scope
	}
	env.OnActivity(a.Scope, mock.Anything, mock.Anything).Return(activities.ScopeResult{Summary: scope}, nil)
	if ov.withhold != nil {
		env.OnActivity(a.WithholdNotice, mock.Anything, mock.Anything).Return(ov.withhold)
	} else {
		env.OnActivity(a.WithholdNotice, mock.Anything, mock.Anything).Return(activities.WithholdResult{}, nil)
	}
	assess := activities.AssessResult{Ladder: [][]string{{"onsite", "email"}, {"sms"}}, ReceiptTimeout: time.Minute}
	if ov.assess != nil {
		assess = *ov.assess
	}
	env.OnActivity(a.Assess, mock.Anything, mock.Anything).Return(assess, ov.assessErr)
	if ov.drafts != nil {
		env.OnActivity(a.RenderDrafts, mock.Anything, mock.Anything).Return(ov.drafts).After(ov.draftsTake)
	} else {
		env.OnActivity(a.RenderDrafts, mock.Anything, mock.Anything).Return(
			func(_ context.Context, in activities.DraftInput) (activities.DraftResult, error) {
				if in.Announcement {
					return activities.DraftResult{Drafts: []activities.DraftInfo{{Name: "announcement", Kind: activities.KindAnnouncement, Revision: in.Revision, Author: in.Author}}}, nil
				}
				name := "notice-en"
				if len(in.Only) > 0 {
					name = in.Only[0]
				}
				return activities.DraftResult{Drafts: []activities.DraftInfo{{Name: name, Kind: activities.KindNotice, Revision: in.Revision, Author: in.Author}}}, nil
			})
	}
	env.OnActivity(a.SendBatch, mock.Anything, mock.Anything).Return(activities.BatchResult{}, nil).After(ov.sendTakes)
	env.OnActivity(a.AwaitReceipts, mock.Anything, mock.Anything).Return(activities.ReceiptsResult{}, nil)
	env.OnActivity(a.SettleRung, mock.Anything, mock.Anything).Return(activities.BatchResult{}, nil)
	env.OnActivity(a.ResolveRung, mock.Anything, mock.Anything).Return(activities.ResolveResult{}, nil)
	reach := activities.ReachResult{Reach: plandata.Reach{Reached: 3 - unreached, Unreached: unreached, ByChannel: map[string]int{"email": 3 - unreached}}}
	if ov.reach != nil {
		reach = *ov.reach
	}
	if ov.reachOf != nil {
		env.OnActivity(a.Reach, mock.Anything, mock.Anything).Return(func(context.Context, string) (activities.ReachResult, error) {
			mu.Lock()
			defer mu.Unlock()
			return ov.reachOf(), nil
		})
	} else {
		env.OnActivity(a.Reach, mock.Anything, mock.Anything).Return(reach, nil)
	}
	env.OnActivity(a.PublishAnnouncement, mock.Anything, mock.Anything).Return(activities.PublishResult{URL: "http://x/announcements/INC-1"}, nil)
	if ov.record != nil {
		record := ov.record
		env.OnActivity(a.RecordIncident, mock.Anything, mock.Anything).Return(func(ctx context.Context, in activities.RecordInput) error {
			mu.Lock()
			defer mu.Unlock()
			return record(ctx, in)
		})
	} else {
		env.OnActivity(a.RecordIncident, mock.Anything, mock.Anything).Return(nil)
	}
	env.OnActivity(a.PostReview, mock.Anything, mock.Anything).Return(nil)
	return env
}

// progressOf asks the test workflow for its progress, as the API would.
func progressOf(t *testing.T, env *testsuite.TestWorkflowEnvironment) Progress {
	t.Helper()
	v, err := env.QueryWorkflow(QueryProgress)
	require.NoError(t, err)
	var p Progress
	require.NoError(t, v.Get(&p))
	return p
}

func input() IncidentInput {
	return IncidentInput{IncidentID: "INC-1", OpenedBy: "responder@example.com", Spec: incident.Spec{Title: "t", DetectedAt: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC), Systems: []string{"db"}}}
}

// testActorKey is the key the test workers trust and the tests' updates are
// signed with, as the API signs real ones.
var testActorKey = []byte("test actor key: thirty-two bytes!")

// testRun is the test environment's run ID, which signatures name.
const testRun = "default-test-run-id"

var nonces atomic.Int64

// signedAt signs an update's input as the API does, for the test workflow:
// stamped with the time at and a nonce of its own (unless it has them).
func signedAt(at time.Time, name string, arg any) any {
	sign := func(in SignedInput) {
		a := in.Signer()
		if a.At.IsZero() {
			a.At = at
		}
		if a.Nonce == "" {
			a.Nonce = fmt.Sprintf("nonce-%d", nonces.Add(1))
		}
		SignUpdate(testActorKey, "default-test-workflow-id", testRun, name, in)
	}
	switch in := arg.(type) {
	case ApproveInput:
		sign(&in)
		return in
	case RejectInput:
		sign(&in)
		return in
	case ReviseInput:
		sign(&in)
		return in
	case FactsInput:
		sign(&in)
		return in
	case DelayInput:
		sign(&in)
		return in
	case SubmitInput:
		sign(&in)
		return in
	case WaiveInput:
		sign(&in)
		return in
	case ReturnedInput:
		sign(&in)
		return in
	}
	return arg
}

// update sends a signed update, stamped with the workflow's time.
func update(env *testsuite.TestWorkflowEnvironment, name string, arg any) *updateResult {
	return unsignedUpdate(env, name, signedAt(env.Now(), name, arg))
}

func unsignedUpdate(env *testsuite.TestWorkflowEnvironment, name string, arg any) *updateResult {
	u := &updateResult{}
	env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
		OnReject:   func(err error) { u.rejected, u.done = err, true },
		OnComplete: func(v any, _ error) { u.result, u.done = v, true },
	}, arg)
	return u
}

// Someone with Temporal access alone cannot act as legal: an approval sent
// straight to the workflow without the API's signature, or with one made
// for another decision or with another key, is refused; the signed one goes.
func TestAnUnsignedOrForgedActorIsRefused(t *testing.T) {
	env := setup(t, 0)
	var unsigned, forged, moved, otherKey, ok *updateResult
	env.RegisterDelayedCallback(func() {
		legal := Actor{Identity: "legal@example.com", Role: "legal"}
		unsigned = unsignedUpdate(env, UpdateApprove, ApproveInput{Actor: legal, Draft: "notice-en"})
		f := legal
		f.Sig = "bm90IGEgc2lnbmF0dXJl"
		forged = unsignedUpdate(env, UpdateApprove, ApproveInput{Actor: f, Draft: "notice-en"})
		// A real signature, for a rejection, pasted onto an approval.
		rejection := signedAt(env.Now(), UpdateReject, RejectInput{Actor: legal, Draft: "notice-en", Reason: "x"}).(RejectInput)
		moved = unsignedUpdate(env, UpdateApprove, ApproveInput{Actor: rejection.Actor, Draft: "notice-en"})
		elsewhere := ApproveInput{Actor: legal, Draft: "notice-en"}
		elsewhere.Actor.At, elsewhere.Actor.Nonce = env.Now(), "intruder-1"
		SignUpdate([]byte("a key only an intruder holds......"), "default-test-workflow-id", testRun, UpdateApprove, &elsewhere)
		otherKey = unsignedUpdate(env, UpdateApprove, elsewhere)
		ok = update(env, UpdateApprove, ApproveInput{Actor: legal, Draft: "notice-en"})
	}, time.Minute)
	env.RegisterDelayedCallback(func() { env.CancelWorkflow() }, time.Hour)
	env.ExecuteWorkflow(IncidentWorkflowName, input())
	require.ErrorContains(t, unsigned.rejected, "is not signed")
	for _, u := range []*updateResult{forged, moved, otherKey} {
		require.ErrorContains(t, u.rejected, "refused as forged")
		var app *temporal.ApplicationError
		require.ErrorAs(t, u.rejected, &app)
		require.Equal(t, ErrTypeForbidden, app.Type())
	}
	require.True(t, ok.done)
	require.NoError(t, ok.rejected)
}

func TestOnlyLegalApprovesAndNeverTheOpener(t *testing.T) {
	env := setup(t, 0)
	var refused []*updateResult
	var ok *updateResult
	env.RegisterDelayedCallback(func() {
		refused = append(refused,
			update(env, UpdateApprove, ApproveInput{Actor: Actor{Identity: "responder@example.com", Role: "responder"}, Draft: "notice-en"}),
			update(env, UpdateApprove, ApproveInput{Actor: Actor{Identity: "admin@example.com", Role: "admin"}, Draft: "notice-en"}),
			update(env, UpdateApprove, ApproveInput{Actor: Actor{Identity: "responder@example.com", Role: "legal"}, Draft: "notice-en"}),
			update(env, UpdateApprove, ApproveInput{Actor: Actor{Identity: "legal@example.com", Role: "legal"}, Draft: "nope"}),
			// The opener under another spelling of the same address.
			update(env, UpdateApprove, ApproveInput{Actor: Actor{Identity: "Responder@Example.com", Role: "legal"}, Draft: "notice-en"}),
		)
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		ok = update(env, UpdateApprove, ApproveInput{Actor: Actor{Identity: "legal@example.com", Role: "legal"}, Draft: "notice-en"})
	}, 2*time.Minute)
	env.ExecuteWorkflow(IncidentWorkflowName, input())
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.Len(t, refused, 5)
	for i, u := range refused {
		require.True(t, u.done, "attempt %d never answered", i)
		require.Error(t, u.rejected, "attempt %d should be refused", i)
	}
	require.ErrorContains(t, refused[0].rejected, "only legal")
	require.ErrorContains(t, refused[2].rejected, "opened this incident")
	require.ErrorContains(t, refused[4].rejected, "opened this incident", "identities compare without case")
	require.True(t, ok.done)
	require.NoError(t, ok.rejected)
	var res IncidentResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, 3, res.Reached)
	require.False(t, res.Announced)
}

func TestRejectionSendsDraftBackForRevision(t *testing.T) {
	env := setup(t, 1)
	var noReason, reject, approveRejected, revise *updateResult
	env.RegisterDelayedCallback(func() {
		noReason = update(env, UpdateReject, RejectInput{Actor: Actor{Identity: "legal@example.com", Role: "legal"}, Draft: "notice-en"})
		reject = update(env, UpdateReject, RejectInput{Actor: Actor{Identity: "legal@example.com", Role: "legal"}, Draft: "notice-en", Reason: "name the hotline"})
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		approveRejected = update(env, UpdateApprove, ApproveInput{Actor: Actor{Identity: "legal@example.com", Role: "legal"}, Draft: "notice-en"})
		revise = update(env, UpdateRevise, ReviseInput{Actor: Actor{Identity: "responder2@example.com", Role: "responder"}, Draft: "notice-en", Changes: map[string]string{"contact": "hotline"}})
	}, 90*time.Second)
	env.RegisterDelayedCallback(func() {
		p := progressOf(t, env)
		require.Equal(t, StageAwaitApproval, p.Status)
		require.Equal(t, 2, p.Drafts[0].Revision, "%+v", p.Drafts)
		require.Equal(t, DraftPending, p.Drafts[0].Status)
		update(env, UpdateApprove, ApproveInput{Actor: Actor{Identity: "legal2@example.com", Role: "legal"}, Draft: "notice-en"})
	}, 2*time.Minute)
	env.RegisterDelayedCallback(func() {
		update(env, UpdateApprove, ApproveInput{Actor: Actor{Identity: "legal@example.com", Role: "legal"}, Draft: "announcement"})
	}, 3*time.Minute)
	env.ExecuteWorkflow(IncidentWorkflowName, input())
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res IncidentResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.True(t, res.Announced, "one person was unreachable, so the announcement went out")
	require.ErrorContains(t, noReason.rejected, "needs a reason")
	require.NoError(t, reject.rejected)
	require.ErrorContains(t, approveRejected.rejected, "not pending")
	require.NoError(t, revise.rejected)
}

// A draft that lacks a fact the law requires cannot be approved; a responder
// supplies it, the draft is drafted again, and only then can legal approve.
// A draft whose text the fact does not change keeps its revision.
func TestIncompleteDraftWaitsForTheFact(t *testing.T) {
	var causes []string
	env := setup(t, 0, overrides{drafts: func(_ context.Context, in activities.DraftInput) (activities.DraftResult, error) {
		causes = append(causes, in.Spec.Facts["cause"])
		var missing []string
		if in.Spec.Facts["cause"] == "" {
			missing = []string{"cause"}
		}
		notice := activities.DraftInfo{Name: "notice-en", Kind: activities.KindNotice, Revision: in.Revision, Author: in.Author, Missing: missing}
		report := activities.DraftInfo{Name: "report-cn-pipl-regulator", Kind: activities.KindReport, Revision: in.Revision, Author: in.Author}
		if in.IfChanged && in.Only[0] == report.Name {
			report.Revision, report.Author = in.Revision-1, "responder@example.com" // the text did not change
		}
		var out []activities.DraftInfo
		for _, d := range []activities.DraftInfo{notice, report} {
			if len(in.Only) == 0 || in.Only[0] == d.Name {
				out = append(out, d)
			}
		}
		return activities.DraftResult{Drafts: out}, nil
	}})
	var early, byLegal, badKey, set, late *updateResult
	var afterSet []DraftState
	env.RegisterDelayedCallback(func() {
		early = update(env, UpdateApprove, ApproveInput{Actor: Actor{Identity: "legal@example.com", Role: "legal"}, Draft: "notice-en"})
		byLegal = update(env, UpdateFacts, FactsInput{Actor: Actor{Identity: "legal@example.com", Role: "legal"}, Set: map[string]string{"cause": "x"}})
		badKey = update(env, UpdateFacts, FactsInput{Actor: Actor{Identity: "r2@example.com", Role: "responder"}, Set: map[string]string{"mood": "calm"}})
		set = &updateResult{}
		env.UpdateWorkflow(UpdateFacts, "", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { set.rejected, set.done = err, true },
			OnComplete: func(v any, err error) {
				set.done, set.rejected = true, err
				afterSet, _ = v.([]DraftState)
			},
		}, signedAt(env.Now(), UpdateFacts, FactsInput{Actor: Actor{Identity: "r2@example.com", Role: "responder"}, Set: map[string]string{"cause": "a leaked access key", "occurred_from": "2026-11-18T00:00:00Z"}}))
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		late = update(env, UpdateApprove, ApproveInput{Actor: Actor{Identity: "legal@example.com", Role: "legal"}, Draft: "notice-en"})
		update(env, UpdateApprove, ApproveInput{Actor: Actor{Identity: "legal@example.com", Role: "legal"}, Draft: "report-cn-pipl-regulator"})
	}, 2*time.Minute)
	env.ExecuteWorkflow(IncidentWorkflowName, input())
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.ErrorContains(t, early.rejected, "incomplete: the law requires cause")
	require.ErrorContains(t, early.rejected, "tocsin incident facts INC-1 --set cause=")
	require.ErrorContains(t, byLegal.rejected, "only responders")
	require.ErrorContains(t, badKey.rejected, `"mood" is not a fact`)
	require.True(t, set.done)
	require.NoError(t, set.rejected)
	require.Len(t, afterSet, 2, "the answer lists the pending drafts as legal now sees them")
	require.Equal(t, 2, afterSet[0].Revision)
	require.Empty(t, afterSet[0].Missing)
	require.Equal(t, []string{"", "a leaked access key", "a leaked access key"}, causes, "first draft, then both pending drafts drafted again with the cause")
	require.NoError(t, late.rejected)
	p := progressOf(t, env)
	require.Equal(t, 2, p.Drafts[0].Revision, "%+v", p.Drafts)
	require.Equal(t, "r2@example.com", p.Drafts[0].Author)
	require.Empty(t, p.Drafts[0].Missing)
	require.Equal(t, 1, p.Drafts[1].Revision, "the report's text did not change: no new revision for legal to read")
	require.Equal(t, DraftApproved, p.Drafts[1].Status)
}

// A title is what a responder typed: in the war room it reads as text, and
// "<!here>" in it pages nobody.
func TestWarRoomLinesShowTitlesAsText(t *testing.T) {
	var posts []string
	env := setup(t, 0, overrides{post: func(_ context.Context, in activities.PostInput) error {
		posts = append(posts, in.Text)
		return nil
	}})
	in := input()
	in.Spec.Title = "<!here> leak & <https://evil.example|approve>"
	env.RegisterDelayedCallback(func() {
		update(env, UpdateApprove, ApproveInput{Actor: Actor{Identity: "legal@example.com", Role: "legal"}, Draft: "notice-en"})
	}, time.Minute)
	env.ExecuteWorkflow(IncidentWorkflowName, in)
	require.True(t, env.IsWorkflowCompleted())
	require.NotEmpty(t, posts)
	require.Contains(t, posts[0], "&lt;!here&gt; leak &amp; &lt;https://evil.example|approve&gt;")
	for _, p := range posts {
		require.NotContains(t, p, "<!here> leak")
	}
}

// A notice whose SMS would arrive in more parts than the playbook allows
// cannot be approved; the refusal gives the count and the way out, and once
// a responder shortens the description the new revision can be.
func TestANoticeWhoseSMSIsTooLongIsRefusedAtApproval(t *testing.T) {
	assess := activities.AssessResult{Ladder: [][]string{{"sms"}}, ReceiptTimeout: time.Minute, SMSMaxSegments: 2}
	env := setup(t, 0, overrides{assess: &assess, drafts: func(_ context.Context, in activities.DraftInput) (activities.DraftResult, error) {
		sms := "Security notice (ref INC-1): " + in.Spec.Description
		return activities.DraftResult{Drafts: []activities.DraftInfo{{Name: "notice-en", Kind: activities.KindNotice, Revision: in.Revision, Author: in.Author,
			SMSTooLong: activities.CheckSMSLength(sms, in.SMSMaxSegments)}}}, nil
	}})
	in := input()
	in.Spec.Description = strings.Repeat("An attacker copied the customer database. ", 8)
	var long, short *updateResult
	env.RegisterDelayedCallback(func() {
		long = update(env, UpdateApprove, ApproveInput{Actor: Actor{Identity: "legal@example.com", Role: "legal"}, Draft: "notice-en"})
		update(env, UpdateFacts, FactsInput{Actor: Actor{Identity: "r2@example.com", Role: "responder"}, Set: map[string]string{"description": "An attacker copied the customer database."}})
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		short = update(env, UpdateApprove, ApproveInput{Actor: Actor{Identity: "legal@example.com", Role: "legal"}, Draft: "notice-en"})
	}, 2*time.Minute)
	env.ExecuteWorkflow(IncidentWorkflowName, in)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.ErrorContains(t, long.rejected, "notice-en revision 1 cannot be approved: its SMS is 3 segments (GSM-7, 365 characters), over the playbook's sms_max_segments of 2")
	require.ErrorContains(t, long.rejected, "tocsin incident facts INC-1 --set description=")
	require.NoError(t, short.rejected, "the shorter revision 2 is approved")
}

// A plan that cannot go on (here a law file that no longer loads) says so
// where responders look: the war room, beside the record's error.
func TestAPlanThatStopsSaysWhyInTheWarRoom(t *testing.T) {
	var mu sync.Mutex
	var posts []string
	failed := temporal.NewNonRetryableApplicationError("playbooks/law/nz.yaml:11: due: \"soonish\"", activities.ErrPlaybook, nil)
	env := setup(t, 0, overrides{assessErr: failed, post: func(_ context.Context, in activities.PostInput) error {
		mu.Lock()
		defer mu.Unlock()
		posts = append(posts, in.Text)
		return nil
	}})
	env.ExecuteWorkflow(IncidentWorkflowName, input())
	require.True(t, env.IsWorkflowCompleted())
	require.ErrorContains(t, env.GetWorkflowError(), "nz.yaml:11")
	last := posts[len(posts)-1]
	require.Contains(t, last, "The plan stopped at assessing")
	require.Contains(t, last, "assess: playbooks/law/nz.yaml:11: due:")
	require.NotContains(t, last, "scheduledEventID", "the step's own words, not the SDK's wrapping")
}
