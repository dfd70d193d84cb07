package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/tocsin/tocsin/internal/senders"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/templates"
)

// BatchInput is one page of one rung of the ladder.
type BatchInput struct {
	IncidentID string
	Rung       int // 1-based
	Channels   []string
	// After is the cursor: the last subject ID of the previous page.
	After         string
	Limit         int
	DefaultLocale string
	// Notices maps "notice-<locale>" and regional notices ("notice-us-ca")
	// to the approved revision.
	Notices map[string]int
}

// BatchResult moves the cursor and counts what happened.
type BatchResult struct {
	Next     string
	Done     bool
	Attempts int
	Skipped  int // no contact on this rung's channels
	Failed   int
}

// SendBatch sends the rung's channels to one page of subjects not yet reached.
// The ledger row is claimed before each provider call and completed after, so
// a retried batch skips every send that was already attempted.
func (a *Activities) SendBatch(ctx context.Context, in BatchInput) (BatchResult, error) {
	if in.Limit <= 0 {
		in.Limit = 200
	}
	recipients, err := a.Store.UnreachedRecipients(ctx, in.IncidentID, in.After, in.Limit)
	if err != nil {
		return BatchResult{}, err
	}
	drill, err := a.isDrill(ctx, in.IncidentID)
	if err != nil {
		return BatchResult{}, err
	}
	res := BatchResult{Done: len(recipients) < in.Limit}
	drafts := map[string]store.Draft{}
	for i, r := range recipients {
		heartbeat(ctx, i)
		locale := templates.NoticeLocale(r.Locale, in.DefaultLocale)
		name := "notice-" + locale
		for _, j := range JurisdictionsOf(r.Region) {
			if _, ok := in.Notices[RegionalNoticeName(j)]; ok {
				name, locale = RegionalNoticeName(j), "en"
				break
			}
		}
		d, ok := drafts[name]
		if !ok {
			rev, approved := in.Notices[name]
			if !approved {
				return res, temporal.NewNonRetryableApplicationError(fmt.Sprintf("no approved %s for subject %s", name, r.SubjectID), "NoApprovedNotice", errNoDraft)
			}
			if d, err = a.Store.GetDraft(ctx, in.IncidentID, name, rev); err != nil {
				return res, err
			}
			drafts[name] = d
		}
		sentAny := false
		for _, ch := range in.Channels {
			to := contactFor(r, ch)
			if to == "" {
				continue
			}
			sentAny = true
			failed, err := a.sendOne(ctx, in, drill, r, ch, to, locale, d)
			if err != nil {
				return res, err
			}
			res.Attempts++
			if failed {
				res.Failed++
			}
		}
		if !sentAny {
			res.Skipped++
		}
		res.Next = r.SubjectID
	}
	return res, nil
}

func (a *Activities) sendOne(ctx context.Context, in BatchInput, drill bool, r store.Recipient, ch, to, locale string, d store.Draft) (bool, error) {
	key := store.Delivery{IncidentID: in.IncidentID, SubjectID: r.SubjectID, Channel: ch, Rung: in.Rung}
	claimed, existing, err := a.Store.BeginDelivery(ctx, key)
	if err != nil {
		return false, err
	}
	if !claimed {
		if existing.Status == store.StatusSending {
			// An earlier attempt died between the provider call and the ledger
			// update. It may have gone out: never send it twice.
			existing.Status, existing.Error = store.StatusUnknown, "interrupted during send; not resent"
			return true, a.Store.FinishDelivery(ctx, existing)
		}
		return existing.Status == store.StatusFailed, nil
	}
	sender, ok := a.senderFor(drill, ch)
	if !ok {
		key.Status, key.Error = store.StatusFailed, "no sender configured for "+ch
		return true, a.Store.FinishDelivery(ctx, key)
	}
	msg := senders.Message{IncidentID: in.IncidentID, SubjectID: r.SubjectID, To: to, Locale: locale, Title: d.Title, Body: d.Body}
	switch ch {
	case senders.Email:
		msg.HTML = d.HTML
		if msg.HTML == "" {
			msg.HTML = templates.HTML(d.Body)
		}
	case senders.SMS:
		msg.Body = d.SMS
	case senders.Voice:
		msg.Body = d.Voice
	}
	result, err := sender.Send(ctx, msg)
	switch {
	case senders.IsPermanent(err):
		key.Status, key.Error = store.StatusFailed, err.Error()
		logger(a).Info("notice refused", "incident", in.IncidentID, "subject", r.SubjectID, "channel", ch, "to", Mask(to), "reason", err.Error())
		return true, a.Store.FinishDelivery(ctx, key)
	case err != nil:
		// The provider said no for now: release the claim so the retry sends.
		if rerr := a.Store.ReleaseDelivery(ctx, key); rerr != nil {
			return false, errors.Join(err, rerr)
		}
		return false, fmt.Errorf("send %s to subject %s: %w", ch, r.SubjectID, err)
	}
	key.ProviderRef = result.Ref
	key.Status = store.StatusSent
	if result.Final {
		key.Status = store.StatusAccepted
	}
	if result.Delivered {
		key.Status = store.StatusDelivered
	}
	return false, a.Store.FinishDelivery(ctx, key)
}

func contactFor(r store.Recipient, ch string) string {
	switch ch {
	case senders.Onsite:
		return r.OnsiteID
	case senders.Email:
		return r.Email
	case senders.SMS, senders.Voice:
		return r.Phone
	}
	return ""
}

// Mask hides most of a contact detail for logs.
func Mask(s string) string {
	if at := strings.LastIndex(s, "@"); at > 0 {
		return s[:1] + "***" + s[at:]
	}
	if len(s) > 4 {
		return strings.Repeat("*", len(s)-4) + s[len(s)-4:]
	}
	return "****"
}

// ReceiptsInput waits for SMS and voice receipts of one rung.
type ReceiptsInput struct {
	IncidentID string
	Rung       int
	Timeout    time.Duration
	Poll       time.Duration
}

// ReceiptsResult says how many never reported back.
type ReceiptsResult struct {
	Pending int
}

// AwaitReceipts polls the ledger until no delivery of the rung is still
// waiting for its status callback, or until the timeout.
func (a *Activities) AwaitReceipts(ctx context.Context, in ReceiptsInput) (ReceiptsResult, error) {
	if in.Poll <= 0 {
		in.Poll = 500 * time.Millisecond
	}
	deadline := time.Now().Add(in.Timeout)
	for {
		rows, err := a.Store.RungDeliveries(ctx, in.IncidentID, in.Rung)
		if err != nil {
			return ReceiptsResult{}, err
		}
		pending := 0
		for _, d := range rows {
			if d.Status == store.StatusSent {
				pending++
			}
		}
		heartbeat(ctx, pending)
		if pending == 0 || time.Now().After(deadline) {
			return ReceiptsResult{Pending: pending}, nil
		}
		select {
		case <-ctx.Done():
			return ReceiptsResult{}, ctx.Err()
		case <-time.After(in.Poll):
		}
	}
}

// ResolveInput closes one rung.
type ResolveInput struct {
	IncidentID string
	Rung       int
	Channels   []string
}

// ResolveResult counts who this rung reached.
type ResolveResult struct {
	Reached int
}

// ResolveRung marks every subject that a channel of the rung reached, with the
// channels that did, in ladder order ("onsite+email").
func (a *Activities) ResolveRung(ctx context.Context, in ResolveInput) (ResolveResult, error) {
	rows, err := a.Store.RungDeliveries(ctx, in.IncidentID, in.Rung)
	if err != nil {
		return ResolveResult{}, err
	}
	via := map[string][]string{}
	var order []string
	for _, d := range rows {
		if d.Status != store.StatusAccepted && d.Status != store.StatusDelivered {
			continue
		}
		if _, seen := via[d.SubjectID]; !seen {
			order = append(order, d.SubjectID)
		}
		via[d.SubjectID] = append(via[d.SubjectID], d.Channel)
	}
	for _, subject := range order {
		chans := via[subject]
		slices.SortFunc(chans, func(x, y string) int { return slices.Index(in.Channels, x) - slices.Index(in.Channels, y) })
		if err := a.Store.MarkReached(ctx, in.IncidentID, subject, in.Rung, strings.Join(chans, "+")); err != nil {
			return ResolveResult{}, err
		}
	}
	return ResolveResult{Reached: len(order)}, nil
}

// ReachResult summarises the campaign.
type ReachResult struct {
	Reach store.Reach
}

// Reach counts who was told and how.
func (a *Activities) Reach(ctx context.Context, incidentID string) (ReachResult, error) {
	r, err := a.Store.ReachSummary(ctx, incidentID)
	return ReachResult{Reach: r}, err
}

// PublishInput publishes the approved announcement.
type PublishInput struct {
	IncidentID string
	Revision   int
	Unreached  int
	Reason     string
}

// PublishResult is where the announcement is.
type PublishResult struct {
	URL string
}

// PublishAnnouncement puts the approved announcement on Tocsin's public page
// and sends it to the press webhook. Both steps are keyed by incident.
func (a *Activities) PublishAnnouncement(ctx context.Context, in PublishInput) (PublishResult, error) {
	d, err := a.Store.GetDraft(ctx, in.IncidentID, "announcement", in.Revision)
	if err != nil {
		return PublishResult{}, err
	}
	if err := a.Store.PublishAnnouncement(ctx, store.Announcement{IncidentID: in.IncidentID, Revision: in.Revision, Unreached: in.Unreached, Reason: in.Reason}); err != nil {
		return PublishResult{}, err
	}
	url := strings.TrimSuffix(a.PublicURL, "/") + "/announcements/" + in.IncidentID
	drill, err := a.isDrill(ctx, in.IncidentID)
	if err != nil {
		return PublishResult{}, err
	}
	if drill { // the public never sees a drill: the sink does
		return PublishResult{URL: url}, a.Store.RecordDrillMessage(ctx, "announcement", store.DrillMessage{IncidentID: in.IncidentID,
			Channel: "announcement", To: "public", Title: d.Title, Body: d.Body})
	}
	if a.Announcer != nil {
		if err := a.Announcer.Announce(ctx, senders.Announcement{IncidentID: in.IncidentID, Title: d.Title, Body: d.Body, URL: url}); err != nil {
			return PublishResult{}, err
		}
	}
	return PublishResult{URL: url}, nil
}
