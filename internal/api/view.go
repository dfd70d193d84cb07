package api

import (
	"context"
	"time"

	"github.com/tocsin/tocsin/internal/channel"
	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/inventory"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/playbooks"
	"github.com/tocsin/tocsin/workflows"
)

// The values of a View that clients compare against, and the facts a
// responder may set: the API's contract, whatever the workflow calls them.
const (
	StageOpen          = string(workflows.StageOpen)
	StageScoping       = string(workflows.StageScoping)
	StageAssessing     = string(workflows.StageAssessing)
	StageDrafting      = string(workflows.StageDrafting)
	StageAwaitApproval = string(workflows.StageAwaitApproval)
	StageAwaitFiling   = string(workflows.StageAwaitFiling)
	StageNotifying     = string(workflows.StageNotifying)
	StageAnnouncing    = string(workflows.StageAnnouncing)
	StageFiling        = string(workflows.StageFiling)
	StageClosed        = string(workflows.StageClosed)
	DraftPending       = string(workflows.DraftPending)
	DraftApproved      = string(workflows.DraftApproved)
	DraftRejected      = string(workflows.DraftRejected)
	FilingPending      = string(workflows.FilingPending)
	FilingOverdue      = string(workflows.FilingOverdue)
	FilingSubmitted    = string(workflows.FilingSubmitted)
	FilingWaived       = string(workflows.FilingWaived)
)

// Settable are the facts a responder may set or correct.
var Settable = workflows.Settable

// NoticeBegun says whether an incident at stage has begun telling people.
func NoticeBegun(stage string) bool { return workflows.NoticeBegun(incident.Stage(stage)) }

// FactsHint is the command that supplies the facts an incident's drafts lack.
func FactsHint(incidentID string, missing []string) string {
	return workflows.FactsHint(incidentID, missing)
}

// View is `incident show -o json` (DESIGN section 8).
type View struct {
	ID            string            `json:"id"`
	Title         string            `json:"title"`
	Status        string            `json:"status"`
	Drill         bool              `json:"drill"`
	OpenedBy      string            `json:"opened_by"`
	OpenedAt      time.Time         `json:"opened_at"`
	Scope         ScopeView         `json:"scope"`
	Obligations   []ObligationView  `json:"obligations"`
	Drafts        []DraftView       `json:"drafts"`
	Notifications NotificationsView `json:"notifications"`
	Campaign      *CampaignView     `json:"campaign,omitempty"`
	// Pacing projects the campaign's finish at the configured rates
	// against the due times of the duties to tell people, until it is done.
	Pacing       *PacingView      `json:"pacing,omitempty"`
	Announcement AnnouncementView `json:"announcement"`
	// Returns is the wait for returned letters, when the incident has one.
	Returns *ReturnsView `json:"returns,omitempty"`
	// Waves are the follow-up waves asked for after the first notice.
	Waves []WaveView `json:"waves,omitempty"`
	// Corrections are the corrections of notices that went out.
	Corrections []CorrectionView `json:"corrections,omitempty"`
	Timeline    []EventView      `json:"timeline"`
	// RefusedRuns are workflow runs started under the incident's ID outside
	// Tocsin, which did nothing (see activities.ClaimCharter).
	RefusedRuns []RefusedRunView `json:"refused_runs,omitempty"`
	// HeldChannels are the channels held while notice runs: the provider
	// refuses Tocsin's own configuration, and their notices wait.
	HeldChannels []HeldChannelView `json:"held_channels,omitempty"`
	// Paused is the campaign's pause, while legal or an admin holds it.
	Paused *PauseView `json:"paused,omitempty"`
	// TimelineOmitted counts events left out of a long timeline's middle.
	TimelineOmitted int `json:"timeline_omitted,omitempty"`
	// LastKnown, when set, says this is the state the plan last recorded,
	// because it did not answer just now (its worker busy, or Temporal out
	// of reach): the incident runs on, and a later look shows it live.
	LastKnown *LastKnownView `json:"last_known,omitempty"`
	Error     string         `json:"error,omitempty"`
}

// LastKnownView is when the state shown was recorded, and why the live
// state is not shown.
type LastKnownView struct {
	RecordedAt time.Time `json:"recorded_at"`
	Reason     string    `json:"reason"`
}

// HeldChannelView is a channel whose notices wait for its provider to
// accept Tocsin again.
type HeldChannelView struct {
	Channel string    `json:"channel"`
	Since   time.Time `json:"since"`
	Reason  string    `json:"reason"`
	ProbeAt time.Time `json:"next_probe"`
}

// RefusedRunView is a run Tocsin refused to act on, and why.
type RefusedRunView struct {
	RunID  string    `json:"run_id"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

// DraftView is a draft as legal sees it, in `incident show` and in the
// answer to a decision. The API's own type: a field the workflow adds is
// not public until it is added here.
type DraftView struct {
	Name       string    `json:"name"`
	Kind       string    `json:"kind"`
	Locale     string    `json:"locale"`
	Audience   string    `json:"audience"`
	Revision   int       `json:"revision"`
	Status     string    `json:"status"`
	Author     string    `json:"author"`
	ApprovedBy string    `json:"approved_by,omitempty"`
	DecidedAt  time.Time `json:"decided_at,omitzero"`
	Comment    string    `json:"comment,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	Missing    []string  `json:"missing,omitempty"`
	SMSTooLong string    `json:"sms_too_long,omitempty"`
	// Untranslated are texts the draft quotes in English for want of a
	// translation: legal approves it only with a comment.
	Untranslated []string `json:"untranslated,omitempty"`
	// Zones are where a notice's readers live when they live in several:
	// the text shows its times in UTC; each reader gets their own zone's.
	Zones []string `json:"zones,omitempty"`
	// LanguageNote says why a report is not in a language its recipient
	// accepts: legal approves it only with a comment.
	LanguageNote string `json:"language_note,omitempty"`
}

func draftView(d workflows.DraftState) DraftView {
	return DraftView{Name: d.Name, Kind: d.Kind, Locale: d.Locale, Audience: d.Audience, Revision: d.Revision, Status: string(d.Status), Author: d.Author,
		ApprovedBy: d.ApprovedBy, DecidedAt: d.DecidedAt, Comment: d.Comment, Reason: d.Reason, Missing: d.Missing, SMSTooLong: d.SMSTooLong, Untranslated: d.Untranslated, Zones: d.Zones, LanguageNote: d.LanguageNote}
}

func draftViews(ds []workflows.DraftState) []DraftView {
	out := make([]DraftView, 0, len(ds))
	for _, d := range ds {
		out = append(out, draftView(d))
	}
	return out
}

// EventView is one line of the timeline.
type EventView struct {
	At    time.Time `json:"at"`
	Stage string    `json:"stage"`
	Text  string    `json:"text"`
}

// FilingView is what was done about a duty: filed, or waived and why.
type FilingView struct {
	Status        string    `json:"status"`
	By            string    `json:"by,omitempty"`
	At            time.Time `json:"at,omitzero"`
	Reference     string    `json:"reference,omitempty"`
	LateReason    string    `json:"late_reason,omitempty"`
	Reminders     int       `json:"reminders,omitempty"`
	WaivedBecause string    `json:"waived_because,omitempty"`
	// DelayedUntil is when a law-enforcement delay of the duty ends (the
	// due time moved with it); DelayRequestedBy who asked for it.
	DelayedUntil     time.Time `json:"delayed_until,omitzero"`
	DelayRequestedBy string    `json:"delay_requested_by,omitempty"`
}

func filingView(f workflows.Filing) FilingView {
	return FilingView{Status: string(f.Status), By: f.By, At: f.At, Reference: f.Reference, LateReason: f.LateReason, Reminders: f.Reminders, WaivedBecause: f.WaivedBecause,
		DelayedUntil: f.DelayedUntil, DelayRequestedBy: f.DelayRequestedBy}
}

// ScopeView is the scope's aggregates.
type ScopeView struct {
	Subjects    int            `json:"subjects"`
	ByRegion    map[string]int `json:"by_region"`
	Sensitive   int            `json:"sensitive"`
	Minors      int            `json:"minors"`
	Unreachable int            `json:"unreachable"`
	Snapshot    int64          `json:"snapshot"`
	Categories  []string       `json:"categories"`
	// Reachable counts people with an address for each kind of channel.
	Reachable map[string]int `json:"reachable"`
	// Lawful counts, per channel, the people it may reach: they have its
	// contact and every duty to them accepts it (with their consent where
	// the law asks). Absent for incidents scoped before it was kept.
	Lawful map[string]int `json:"lawful,omitempty"`
	// NamedSubjects is the size of the ID list forensics gave, if any.
	NamedSubjects int64  `json:"named_subjects,omitempty"`
	SubjectsFile  string `json:"subjects_file,omitempty"`
}

// ObligationView is one duty with its clock.
type ObligationView struct {
	Name         string     `json:"name"`
	Jurisdiction string     `json:"jurisdiction"`
	Audience     string     `json:"audience"`
	Regulator    string     `json:"regulator,omitempty"`
	Anchor       string     `json:"anchor"`
	AnchorAt     time.Time  `json:"anchor_at,omitzero"`
	DueAt        *time.Time `json:"due_at"`
	// Zone is the jurisdiction's time zone; DueLocal the due time there, beside UTC.
	Zone       string      `json:"zone,omitempty"`
	DueLocal   string      `json:"due_local,omitempty"`
	Due        string      `json:"due"`
	Status     string      `json:"status"`
	Owner      string      `json:"owner,omitempty"`
	Voluntary  bool        `json:"voluntary,omitempty"`
	After      string      `json:"after,omitempty"`
	Content    []string    `json:"content,omitempty"`
	Methods    []string    `json:"methods,omitempty"`
	Unverified string      `json:"unverified,omitempty"`
	Filing     *FilingView `json:"filing,omitempty"`
	Sources    []string    `json:"sources"`
}

// NotificationsView counts who was told.
type NotificationsView struct {
	// Done is whether individual notice has finished: until then the
	// counts are zero and the campaign has the live ones.
	Done      bool           `json:"done"`
	Reached   int            `json:"reached"`
	ByChannel map[string]int `json:"by_channel"`
	Failed    int            `json:"failed"`
	// Withheld were not told: legal waived every duty to tell them.
	Withheld int `json:"withheld,omitempty"`
	// Returned are letters the post office returned since; ReturnedUnreached
	// their people nothing else reached, not reached after all and so
	// covered by substitute notice (counted from the ledger, not in
	// Reached and Failed, which are the campaign's outcome).
	Returned          int `json:"returned_letters,omitempty"`
	ReturnedUnreached int `json:"returned_unreached,omitempty"`
	// Verified is how often people checked a notice's code (a count, never
	// who): how many doubted their notice enough to check it.
	Verified int `json:"verified,omitempty"`
	// Inquiries counts the questions people asked about their notice, and
	// how fast support answered.
	Inquiries *store.InquiryStats `json:"inquiries,omitempty"`
}

// CampaignView is the individual-notice campaign, live from the delivery
// ledger: per channel how many are queued (claimed, provider not yet
// answered), sent (awaiting a receipt), delivered and failed.
type CampaignView struct {
	Subjects       int                            `json:"subjects"`
	Partitions     int                            `json:"partitions"`
	PartitionsDone int                            `json:"partitions_done"`
	Channels       map[string]store.ChannelCounts `json:"channels"`
	// Contacted is how many people have had at least one notice attempted.
	Contacted int `json:"contacted"`
	// PerSecond is the ledger's pace since the first send; ETA assumes it holds.
	PerSecond float64   `json:"per_second"`
	StartedAt time.Time `json:"started_at,omitzero"`
	ETA       string    `json:"eta,omitempty"`
	Done      bool      `json:"done"`
	Recovered int       `json:"recovered,omitempty"`
	Deferred  int       `json:"deferred,omitempty"`
	// Held are the calls waiting for the end of people's quiet hours.
	Held *HeldView `json:"held,omitempty"`
	// Released is legal's or an admin's release of the incident's calls
	// from quiet hours (the harm is urgent), when there is one.
	Released *store.QuietRelease `json:"released_from_quiet_hours,omitempty"`
}

// HeldView is the calls held for quiet hours: how many, and from when to
// when they will be placed, in UTC and in the people's own time.
type HeldView struct {
	Calls     int       `json:"calls"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	FromLocal string    `json:"from_local"`
	ToLocal   string    `json:"to_local"`
}

// AnnouncementView is the public notice's state.
type AnnouncementView struct {
	Published bool   `json:"published"`
	URL       string `json:"url,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// ReturnsView is the incident's wait for returned letters: how many people
// were sent one, until when returns are awaited, and, once over, why.
type ReturnsView struct {
	Letters   int       `json:"letters"`
	Until     time.Time `json:"until"`
	Ended     string    `json:"ended,omitempty"`
	SettledBy string    `json:"settled_by,omitempty"`
}

func (s *Server) view(ctx context.Context, inc store.Incident) View {
	v := View{ID: inc.ID, Title: inc.Title, Drill: inc.Drill, OpenedBy: inc.OpenedBy, OpenedAt: inc.OpenedAt,
		Obligations: []ObligationView{}, Drafts: []DraftView{}, Timeline: []EventView{},
		Scope: ScopeView{ByRegion: map[string]int{}, Categories: []string{}, Reachable: map[string]int{}, Snapshot: inc.Snapshot, NamedSubjects: inc.NamedSubjects, SubjectsFile: inc.SubjectsFile}, Notifications: NotificationsView{ByChannel: map[string]int{}}}
	if refused, err := s.Store.RunRefusals(ctx, inc.ID); err == nil {
		for _, r := range refused {
			v.RefusedRuns = append(v.RefusedRuns, RefusedRunView(r))
		}
	}
	p, last, err := s.service().RecordToShow(ctx, inc.ID)
	if err != nil {
		v.Status = "unknown"
		v.Error = "progress unavailable: " + err.Error()
		return v
	}
	if last != nil {
		v.LastKnown = &LastKnownView{RecordedAt: last.WrittenAt, Reason: "the plan did not answer: " + last.Why.Error()}
	}
	v.Status, v.Error = string(p.Status), p.Error
	for _, d := range p.Drafts {
		v.Drafts = append(v.Drafts, draftView(d))
	}
	for _, e := range p.Timeline {
		v.Timeline = append(v.Timeline, EventView{At: e.At, Stage: string(e.Stage), Text: e.Text})
	}
	v.TimelineOmitted = p.TimelineOmitted
	if p.Scope != nil {
		v.Scope.Subjects, v.Scope.ByRegion, v.Scope.Sensitive, v.Scope.Minors = p.Scope.Subjects, p.Scope.ByRegion(), p.Scope.Sensitive, p.Scope.Minors
		v.Scope.Unreachable, v.Scope.Snapshot = p.Unreachable, p.Scope.Snapshot
		if p.Scope.Categories != nil {
			v.Scope.Categories = p.Scope.Categories
		}
		v.Scope.Reachable = map[string]int{}
		for _, c := range inventory.Contacts {
			v.Scope.Reachable[c.Name] = p.Scope.Reachable[c.Name]
		}
		if p.Scope.Reachable == nil { // scoped before contacts were counted by kind
			v.Scope.Reachable["onsite"], v.Scope.Reachable["email"], v.Scope.Reachable["phone"] = p.Scope.WithOnsite, p.Scope.WithEmail, p.Scope.WithPhone
		}
		v.Scope.Lawful = s.lawfulReach(ctx, inc.ID, p.Obligations)
	}
	now := time.Now()
	for _, o := range p.Obligations {
		ov := ObligationView{Name: o.Name, Jurisdiction: o.Jurisdiction, Audience: o.Audience, Regulator: o.Regulator, Anchor: o.Anchor, AnchorAt: o.AnchorAt,
			Due: o.Due, Status: FilingPending, Owner: o.Owner, Voluntary: o.Voluntary, After: o.After, Content: o.Content, Methods: o.Methods,
			Unverified: o.Unverified, Sources: o.Sources, Zone: o.Zone}
		if !o.DueAt.IsZero() {
			due := o.DueAt
			ov.DueAt, ov.DueLocal = &due, o.DueText()
			if now.After(due) {
				ov.Status = FilingOverdue
			}
		}
		if f := p.Filings[o.Name]; f != nil {
			fv := filingView(*f)
			ov.Filing = &fv
			if f.Met() {
				ov.Status = string(f.Status)
			}
		}
		v.Obligations = append(v.Obligations, ov)
	}
	if p.Campaign != nil {
		v.Campaign = s.campaignView(ctx, inc.ID, *p.Campaign, p.Reach != nil)
	}
	pause, paused, err := s.Store.CampaignPaused(ctx, inc.ID)
	if err == nil && paused {
		pv := pauseView(pause)
		v.Paused = &pv
	}
	v.Pacing = s.pacingView(ctx, inc.ID, p, inc.Spec.Playbook)
	if p.Reach == nil && workflows.NoticeBegun(p.Status) {
		if holds, err := s.Store.ChannelHolds(ctx); err == nil {
			for _, h := range holds {
				v.HeldChannels = append(v.HeldChannels, HeldChannelView{Channel: h.Channel, Since: h.Since, Reason: h.Reason, ProbeAt: h.ProbeAt})
			}
		}
	}
	if p.Reach != nil {
		v.Notifications = NotificationsView{Done: true, Reached: p.Reach.Reached, ByChannel: p.Reach.ByChannel, Failed: p.Reach.Unreached, Withheld: p.Reach.Withheld}
		v.Notifications.Returned, v.Notifications.ReturnedUnreached, _ = s.Store.ReturnedLetters(ctx, inc.ID)
		v.Notifications.Verified, _ = s.Store.VerifyLookups(ctx, inc.ID)
		if st, err := s.Store.InquiryStatsOf(ctx, inc.ID); err == nil && (st.Asked > 0 || st.OptedOut > 0) {
			v.Notifications.Inquiries = &st
		}
	}
	if p.Announcement != nil {
		v.Announcement = AnnouncementView{Published: p.Announcement.Published, URL: p.Announcement.URL, Reason: p.Announcement.Reason}
	}
	if w := p.Returns; w != nil {
		v.Returns = &ReturnsView{Letters: w.Letters, Until: w.Until, Ended: w.Ended, SettledBy: w.SettledBy}
	}
	for _, w := range p.Waves {
		v.Waves = append(v.Waves, waveView(w))
	}
	for _, c := range p.Corrections {
		v.Corrections = append(v.Corrections, correctionView(c))
	}
	return v
}

type cachedCampaign struct {
	at   time.Time
	view *CampaignView
}

func (s *Server) campaignView(ctx context.Context, id string, c workflows.CampaignState, done bool) *CampaignView {
	if v, ok := s.campaigns.Load(id); ok {
		if cached := v.(cachedCampaign); time.Since(cached.at) < time.Second && cached.view.Done == done {
			cv := *cached.view
			cv.PartitionsDone, cv.Recovered, cv.Deferred = c.PartitionsDone, c.Recovered, c.Deferred
			return &cv
		}
	}
	cv := s.countCampaign(ctx, id, c, done)
	s.campaigns.Store(id, cachedCampaign{at: time.Now(), view: cv})
	return cv
}

func (s *Server) countCampaign(ctx context.Context, id string, c workflows.CampaignState, done bool) *CampaignView {
	cv := &CampaignView{Subjects: c.Subjects, Partitions: c.Partitions, PartitionsDone: c.PartitionsDone, StartedAt: c.StartedAt, Done: done,
		Recovered: c.Recovered, Deferred: c.Deferred, Channels: map[string]store.ChannelCounts{}}
	counts, first, last, err := s.Store.CampaignCounts(ctx, id)
	if err != nil {
		return cv
	}
	cv.Channels = counts
	cv.Contacted, _ = s.Store.ContactedSubjects(ctx, id)
	start, _ := time.Parse(time.RFC3339Nano, first)
	end := time.Now()
	if done {
		end, _ = time.Parse(time.RFC3339Nano, last)
	}
	total := 0
	for _, n := range counts {
		total += n.Queued + n.Sent + n.Delivered + n.Failed
	}
	var eta time.Duration
	if secs := end.Sub(start).Seconds(); !start.IsZero() && secs > 0 {
		cv.PerSecond = float64(total) / secs
		if !done && cv.Contacted > 0 && cv.Contacted < c.Subjects {
			eta = time.Duration(secs * float64(c.Subjects-cv.Contacted) / float64(cv.Contacted) * float64(time.Second))
		}
	}
	if h, err := s.Store.HeldCalls(ctx, id); err == nil && h.Calls > 0 && !done {
		cv.Held = &HeldView{Calls: h.Calls, From: h.First, To: h.Last, FromLocal: h.FirstLocal, ToLocal: h.LastLocal}
		// The campaign is not done before its last held call is placed.
		eta = max(eta, time.Until(h.Last))
	}
	if r, released, err := s.Store.QuietReleased(ctx, id); err == nil && released {
		cv.Released = &r
	}
	if eta > 0 {
		cv.ETA = eta.Round(time.Second).String()
	}
	return cv
}

// lawfulReach counts, per channel, the people it may lawfully reach, from
// the scope's groups of people by region, consent and contacts (a few
// rows, not the people).
func (s *Server) lawfulReach(ctx context.Context, id string, obligations []playbooks.Obligation) map[string]int {
	groups, err := s.Store.ReachGroups(ctx, id)
	if err != nil || len(groups) == 0 {
		return nil
	}
	rules := playbooks.LawfulRules(obligations)
	out := map[string]int{}
	for _, c := range channel.All() {
		bit := inventory.ReachMask(string(c.Contact)) // a guardian's contact stands in for a person's own
		out[c.Name] = 0
		for g, n := range groups {
			if g.Reach&bit != 0 && playbooks.Allows(rules, g.Region, g.Consent, c.Name) {
				out[c.Name] += n
			}
		}
	}
	return out
}
