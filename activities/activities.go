// Package activities holds every side effect of the emergency plan: the war
// room, scoping, assessment, drafting, notification and the announcement.
// Each activity is idempotent: a retry or a restarted worker repeats nothing
// that already happened.
package activities

import (
	"github.com/tocsin/tocsin/internal/plandata"

	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/senders"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/playbooks"
	"github.com/tocsin/tocsin/templates"
)

// ChatOps is the war room.
type ChatOps interface {
	Open(ctx context.Context, incidentID string, private bool, users []string) (string, error)
	Post(ctx context.Context, channelID, text string) error
	PostReview(ctx context.Context, channelID string, r senders.Review) (string, error)
	Decided(ctx context.Context, channelID, ts string, r senders.Review, decision string) error
}

// Activities holds the dependencies every activity needs.
type Activities struct {
	Store     *store.Store
	Senders   senders.Registry
	Chat      ChatOps
	Announcer senders.Announcer
	// Receipts answers the sweep for receipts that never came (Twilio).
	Receipts    StatusChecker
	PlaybookDir string
	// PublicURL is Tocsin's public base URL (announcement links, and the
	// verify links notices carry).
	PublicURL string
	// VerifyKey makes each person's notice code (internal/verify).
	VerifyKey []byte
	// Rates are the channels' configured messages per second, all workers
	// together: what ProjectPace projects a campaign with.
	Rates map[string]float64
	// PauseFreshness is how stale a batch's knowledge of a campaign pause
	// may be (0: a second): a pause stops new sends within it, at one
	// store read per batch per period.
	PauseFreshness time.Duration
	// SlackUsers maps identities (lower-case e-mail) to Slack user IDs: a
	// restricted incident's war room invites only the people it names.
	SlackUsers map[string]string
	Log        *slog.Logger
	// DoubtHold is how long a send left in doubt waits before the provider
	// is asked about it (0: DefaultDoubtHold).
	DoubtHold time.Duration
	// SendLanes is how many sends of a batch are in flight at once (0:
	// DefaultSendLanes).
	SendLanes int
	// Clock is the time the activities decide by: whose quiet hours it is,
	// when a send in doubt is next asked about, when a drill ended (nil:
	// the wall clock). Leases and waits stay on the wall clock: other
	// workers compare them, and a sleep is real time.
	Clock func() time.Time
	// StragglerAfter is how long a batch a settling step follows waits on
	// one provider call before it goes on without it (0:
	// DefaultStragglerAfter).
	StragglerAfter time.Duration
	// ResendTimeout is how long the resend of an e-mail in doubt waits
	// for the relay's answer (0: DefaultResendTimeout).
	ResendTimeout  time.Duration
	stragglersOnce sync.Once
	late           *stragglerSet
}

func (a *Activities) now() time.Time {
	if a.Clock != nil {
		return a.Clock()
	}
	return time.Now()
}

func (a *Activities) playbook(name string) (*playbooks.Playbook, error) {
	p, err := playbooks.Load(a.PlaybookDir, name)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), ErrPlaybook, err)
	}
	return p, nil
}

// OpenWarRoomInput opens the incident's Slack channel.
type OpenWarRoomInput struct {
	IncidentID string
	Title      string
	Playbook   string
	Drill      bool
	// Restricted incidents always get a private channel, whatever the playbook says.
	Restricted bool `json:",omitempty"`
}

// OpenWarRoomResult names the channel.
type OpenWarRoomResult struct {
	ChannelID string
	Paged     []string
}

// OpenWarRoom creates the war-room channel, invites the playbook's responders
// and posts the opening line. Retrying finds the channel made before.
func (a *Activities) OpenWarRoom(ctx context.Context, in OpenWarRoomInput) (OpenWarRoomResult, error) {
	pb, err := a.playbook(in.Playbook)
	if err != nil {
		return OpenWarRoomResult{}, err
	}
	inc, err := a.Store.GetIncident(ctx, in.IncidentID)
	if err != nil {
		return OpenWarRoomResult{}, fmt.Errorf("war room: %w", err)
	}
	var users, roles []string
	for _, r := range pb.Responders {
		if r.SlackUser != "" {
			users = append(users, r.SlackUser)
		}
		roles = append(roles, r.Role)
	}
	restricted := in.Restricted || len(inc.Spec.RestrictedTo) > 0
	if restricted {
		// The playbook's responders are not all in the know: only the opener
		// and the people the incident names see its room.
		users = a.slackUsersOf(append([]string{inc.OpenedBy}, inc.Spec.RestrictedTo...))
	}
	if inc.Drill {
		return OpenWarRoomResult{ChannelID: drillChannelPrefix + in.IncidentID, Paged: roles}, nil
	}
	id, err := a.Chat.Open(ctx, in.IncidentID, pb.WarRoom.Private || restricted, users)
	if err != nil {
		return OpenWarRoomResult{}, chatError(err)
	}
	return OpenWarRoomResult{ChannelID: id, Paged: roles}, nil
}

// slackUsersOf is the Slack accounts of the identities that have one.
func (a *Activities) slackUsersOf(identities []string) []string {
	var users []string
	for _, who := range identities {
		if u := a.SlackUsers[incident.NormalizeIdentity(who)]; u != "" && !slices.Contains(users, u) {
			users = append(users, u)
		}
	}
	return users
}

// PostInput is one timeline line for the war room.
type PostInput struct {
	ChannelID string
	Text      string
}

// Post writes a timeline line. A duplicate line after a retry is harmless.
func (a *Activities) Post(ctx context.Context, in PostInput) error {
	if in.ChannelID == "" {
		return nil
	}
	if strings.HasPrefix(in.ChannelID, drillChannelPrefix) {
		return a.drillPost(ctx, in.ChannelID, in.Text)
	}
	return chatError(a.Chat.Post(ctx, in.ChannelID, in.Text))
}

func chatError(err error) error {
	var rl *senders.RateLimitedError
	if errors.As(err, &rl) {
		return temporal.NewApplicationErrorWithOptions("slack rate limited", ErrRateLimited, temporal.ApplicationErrorOptions{NextRetryDelay: rl.RetryAfter, Cause: err})
	}
	return err
}

// ScopeInput says what leaked.
type ScopeInput struct {
	IncidentID string
	Systems    []string
	Categories []string
	Regions    []string
	Year       int
}

// ScopeResult carries aggregates only; the affected set stays in the database.
type ScopeResult struct {
	Summary plandata.ScopeSummary
}

// Scope writes the affected set against the inventory snapshot the incident
// was opened on, limited to the subject IDs it names when it names any.
func (a *Activities) Scope(ctx context.Context, in ScopeInput) (ScopeResult, error) {
	inc, err := a.Store.GetIncident(ctx, in.IncidentID)
	if err != nil {
		return ScopeResult{}, err
	}
	snap := inc.Snapshot
	if snap == 0 {
		if snap, err = a.Store.CurrentSnapshot(ctx); errors.Is(err, store.ErrNotFound) {
			return ScopeResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrNoInventory, err)
		} else if err != nil {
			return ScopeResult{}, err // the database, not the inventory: retried
		}
	}
	sum, err := a.Store.Scope(ctx, store.ScopeInput{IncidentID: in.IncidentID, Snapshot: snap, Systems: in.Systems, Categories: in.Categories,
		Regions: in.Regions, NamedOnly: inc.NamedSubjects > 0, Year: in.Year})
	if err != nil {
		if errors.Is(err, store.ErrBadScope) {
			return ScopeResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrUnknownSystem, err)
		}
		return ScopeResult{}, err
	}
	return ScopeResult{Summary: sum}, nil
}

// WaveInput applies a follow-up wave the store holds (tocsin incident
// add): Systems are all the incident's systems, the wave's included.
type WaveInput struct {
	IncidentID string
	Wave       int
	Systems    []string
	Categories []string
	Regions    []string
	Year       int
}

// WaveResult is how many people the wave added and the scope's aggregates
// over everyone now affected.
type WaveResult struct {
	Added   int
	Summary plandata.ScopeSummary
}

// ApplyWave adds a wave's people to the affected set, once (the store
// answers the same count when the activity is retried).
func (a *Activities) ApplyWave(ctx context.Context, in WaveInput) (WaveResult, error) {
	added, sum, err := a.Store.ApplyWave(ctx, store.WaveInput{IncidentID: in.IncidentID, Wave: in.Wave, Systems: in.Systems, Categories: in.Categories, Regions: in.Regions, Year: in.Year})
	if errors.Is(err, store.ErrBadScope) || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrNotScoped) {
		return WaveResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrUnknownSystem, err)
	}
	if err != nil {
		return WaveResult{}, err
	}
	return WaveResult{Added: int(added), Summary: sum}, nil
}

// AssessInput is what the playbook needs.
type AssessInput struct {
	Playbook   string
	Scope      plandata.ScopeSummary
	DetectedAt time.Time
	AssessedAt time.Time
	// Spec gives the other anchors and the incident's flags; histories
	// recorded before it existed leave it empty.
	Spec incident.Spec
}

// AssessResult is the plan for this incident.
type AssessResult struct {
	Obligations    []playbooks.Obligation
	Ladder         [][]string
	ReceiptTimeout time.Duration
	DefaultLocale  string
	// Quiet is when nobody is phoned, in their local time.
	Quiet playbooks.Quiet
	// Reminders are when to remind each obligation's owner, by obligation name.
	Reminders map[string][]time.Time
	// Owners are the Slack users paged for each role.
	Owners map[string]string
	// SMSMaxSegments is the playbook's limit on a notice's SMS.
	SMSMaxSegments int `json:",omitempty"`
	// BounceWindow is how long e-mail bounces are awaited after a rung.
	BounceWindow time.Duration `json:",omitempty"`
	// ReturnsWindow is how long returned letters are awaited after notice.
	ReturnsWindow time.Duration `json:",omitempty"`
	// NoVoicemail: a call taken by an answering machine reached nobody.
	NoVoicemail bool `json:",omitempty"`
}

// Assess evaluates the playbook's rules on the scoped facts.
func (a *Activities) Assess(ctx context.Context, in AssessInput) (AssessResult, error) {
	pb, err := a.playbook(in.Playbook)
	if err != nil {
		return AssessResult{}, err
	}
	spec := in.Spec
	if spec.DetectedAt.IsZero() {
		spec.DetectedAt = in.DetectedAt
	}
	ev, err := pb.Evaluate(playbooks.JurisdictionFacts(in.Scope.ForRules(), spec.ForRules()), spec.Times(in.AssessedAt))
	if err != nil {
		return AssessResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrPlaybook, err)
	}
	quiet, err := pb.QuietSpan()
	if err != nil {
		return AssessResult{}, temporal.NewNonRetryableApplicationError(pb.File+": quiet_hours: "+err.Error(), ErrPlaybook, err)
	}
	res := AssessResult{Obligations: ev.Obligations, Ladder: pb.Ladder, ReceiptTimeout: pb.ReceiptTimeoutDuration(),
		DefaultLocale: pb.DefaultLocale, Quiet: quiet, Reminders: map[string][]time.Time{}, Owners: map[string]string{}, SMSMaxSegments: pb.SMSLimit(), BounceWindow: pb.BounceWindowDuration(), ReturnsWindow: pb.ReturnsWindowDuration(), NoVoicemail: pb.NoVoicemail()}
	for _, r := range pb.Responders {
		res.Owners[r.Role] = r.SlackUser
	}
	for _, o := range ev.Obligations {
		if r := pb.ReminderTimes(o); len(r) > 0 {
			res.Reminders[o.Name] = r
		}
	}
	return res, nil
}

// FactsOf is what the templates know of an incident: its file's fields and
// the facts responders supplied since.
func FactsOf(spec incident.Spec, id string, categories []string) templates.Facts {
	return templates.Facts{
		IncidentID: id, Title: spec.Title, Kind: spec.Kind, Description: spec.Description, Impact: spec.Impact,
		Measures: spec.Measures, Advice: spec.Advice, Remedies: spec.Remedies, Contact: spec.Contact,
		DetectedAt: spec.DetectedAt, OccurredFrom: spec.OccurredFrom, OccurredTo: spec.OccurredTo, Categories: categories,
		Cause: spec.Facts["cause"], Organisation: spec.Facts["organisation"], Reporter: spec.Facts["reporter"], DPOContact: spec.Facts["dpo_contact"],
		Translations: spec.Translations,
		InquiryPhone: spec.Facts["inquiry_phone"], InquiryHours: spec.Facts["inquiry_hours"], InquiryURL: spec.Facts["inquiry_url"],
	}
}

func heartbeat(ctx context.Context, details ...any) {
	if activity.IsActivity(ctx) {
		activity.RecordHeartbeat(ctx, details...)
	}
}

// keepAliveEvery is how often an activity waiting on a provider says it is
// alive: well inside the shortest heartbeat timeout the workflows set (10 s).
const keepAliveEvery = 2 * time.Second

// keepAlive heartbeats until the returned stop is called, so a slow
// provider call is not taken for a dead worker.
func keepAlive(ctx context.Context) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	return every(ctx, keepAliveEvery, func() { activity.RecordHeartbeat(ctx) })
}

// every calls f each interval until stop is called or ctx ends; stop waits
// for a call under way to return.
func every(ctx context.Context, interval time.Duration, f func()) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				f()
			case <-done:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

func logger(a *Activities) *slog.Logger {
	if a.Log != nil {
		return a.Log
	}
	return slog.Default()
}

var errNoDraft = fmt.Errorf("draft missing")

// ReviewInput asks legal, in the war room, to decide on draft revisions.
type ReviewInput struct {
	ChannelID  string
	IncidentID string
	Drafts     []DraftRef
}

// DraftRef names one revision of a draft.
type DraftRef struct {
	Name     string
	Revision int
	Missing  []string
}

// PostReview posts each revision with Approve / Reject buttons and keeps
// where it went. A revision already posted is not posted again on a retry.
func (a *Activities) PostReview(ctx context.Context, in ReviewInput) error {
	if in.ChannelID == "" {
		return nil
	}
	for _, ref := range in.Drafts {
		if _, err := a.Store.GetReviewMessage(ctx, in.IncidentID, ref.Name, ref.Revision); err == nil {
			continue
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		d, err := a.Store.GetDraft(ctx, in.IncidentID, ref.Name, ref.Revision)
		if err != nil {
			return err
		}
		r := senders.Review{IncidentID: in.IncidentID, Draft: d.Name, Revision: d.Revision, Kind: d.Kind, Locale: d.Locale, Title: d.Title, Missing: ref.Missing,
			URL: senders.DraftURL(a.PublicURL, in.IncidentID, d.Name)}
		if strings.HasPrefix(in.ChannelID, drillChannelPrefix) {
			// A drill's legal reviewers are the autopilot; the line goes to the sink.
			if err := a.drillPost(ctx, in.ChannelID, fmt.Sprintf("%s revision %d is ready for legal review (Approve / Reject).", d.Name, d.Revision)); err != nil {
				return err
			}
			continue
		}
		// The previous revision's buttons go first, so nobody decides on
		// replaced text; doing it again on a retry changes nothing.
		if old, err := a.Store.GetReviewMessage(ctx, in.IncidentID, d.Name, d.Revision-1); err == nil {
			prev := r
			prev.Revision, prev.Missing, prev.Title = d.Revision-1, nil, ""
			err := a.Chat.Decided(ctx, old.Channel, old.TS, prev, fmt.Sprintf(":arrows_counterclockwise: Replaced by revision %d.", d.Revision))
			var rl *senders.RateLimitedError
			if errors.As(err, &rl) {
				return chatError(err)
			}
			if err != nil {
				// The old message may be gone (deleted, or the channel
				// archived); a click on it is refused anyway, since a
				// decision names the revision it was made on.
				logger(a).Warn("could not mark a replaced revision's review message", "incident", in.IncidentID, "draft", d.Name, "error", err)
			}
		}
		ts, err := a.Chat.PostReview(ctx, in.ChannelID, r)
		if err != nil {
			return chatError(err)
		}
		if err := a.Store.SaveReviewMessage(ctx, store.ReviewMessage{IncidentID: in.IncidentID, Draft: d.Name, Revision: d.Revision, Channel: in.ChannelID, TS: ts}); err != nil {
			return err
		}
	}
	return nil
}
