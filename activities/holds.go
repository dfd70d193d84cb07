package activities

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/tocsin/tocsin/internal/redact"
)

// channelHolds is one batch's view of the channels held because their
// provider refuses Tocsin itself (senders.ConfigError): a held channel's
// sends are left queued, the other channels go on, and the batch then
// fails with ErrChannelHeld for Temporal to retry when the next probe is
// due. The hold is shared in the store: one batch at a time probes the
// provider with one real send, and the first that gets through lifts it.
type channelHolds struct {
	a          *Activities
	incidentID string
	// mu guards the maps: the batch's lanes share them.
	mu sync.Mutex
	// skipped are the channels this batch leaves queued; probing those it
	// is the one to probe.
	skipped, probing map[string]bool
	// probe keeps a probed channel to one send at a time, whatever the
	// lanes: a provider that still refuses Tocsin is asked once.
	probe sync.Mutex
}

// isSkipped says whether the batch leaves a channel's sends queued.
func (h *channelHolds) isSkipped(ch string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.skipped[ch]
}

// probeTurn waits for the channel's turn when this batch probes it, and
// returns what ends the turn (after the send's answer is known).
func (h *channelHolds) probeTurn(ch string) (done func()) {
	h.mu.Lock()
	probing := h.probing[ch]
	h.mu.Unlock()
	if !probing {
		return func() {}
	}
	h.probe.Lock()
	return h.probe.Unlock
}

// check leaves out of the plan the sends of channels held and not due a
// probe; a channel due one gets its probe from this batch.
func (h *channelHolds) check(ctx context.Context, plan []planned) ([]planned, error) {
	seen := map[string]bool{}
	for _, p := range plan {
		ch := p.key.Channel
		if seen[ch] {
			continue
		}
		seen[ch] = true
		held, probe, err := h.a.Store.TakeProbe(ctx, ch, h.a.now())
		if err != nil {
			return nil, err
		}
		h.mu.Lock()
		if held && !probe {
			h.skipped[ch] = true
		}
		h.probing[ch] = held && probe
		h.mu.Unlock()
	}
	return h.keep(plan), nil
}

// keep is the plan without the sends of skipped channels.
func (h *channelHolds) keep(plan []planned) []planned {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.skipped) == 0 {
		return plan
	}
	out := plan[:0:0]
	for _, p := range plan {
		if !h.skipped[p.key.Channel] {
			out = append(out, p)
		}
	}
	return out
}

// hold records that the channel's provider refused Tocsin (a new hold, or a
// probe refused again) and tells the incident's war room once per hold.
func (h *channelHolds) hold(ctx context.Context, channel string, cause error) error {
	h.mu.Lock()
	probed := h.probing[channel]
	h.skipped[channel] = true
	h.probing[channel] = false
	h.mu.Unlock()
	reason := redact.Text(cause.Error())
	held, began, err := h.a.Store.HoldChannel(ctx, channel, reason, h.a.now(), probed)
	if err != nil {
		return err
	}
	if began {
		logger(h.a).Error("channel held: the provider refuses Tocsin's configuration", "channel", channel, "reason", reason)
	}
	if first, err := h.a.Store.FirstHoldNotice(ctx, held, h.incidentID); err == nil && first {
		h.a.warRoomPost(ctx, h.incidentID, fmt.Sprintf(":octagonal_sign: %s held since %s: %s. Nobody is written off: notices by %s wait, the other channels go on, and Tocsin probes the provider on its own (`tocsin channel resume %s` probes at once once fixed).",
			channel, held.Since.UTC().Format("15:04 UTC"), reason, channel, channel))
	}
	return nil
}

// accepted is a send the provider took: on a channel this batch probed, the
// hold is lifted, and every incident told of it is told it ended.
func (h *channelHolds) accepted(ctx context.Context, channel string) {
	h.mu.Lock()
	probing := h.probing[channel]
	h.probing[channel] = false
	h.mu.Unlock()
	if !probing {
		return
	}
	held, found, err := h.a.Store.LiftHold(ctx, channel)
	if err != nil || !found {
		return
	}
	took := h.a.now().Sub(held.Since).Round(time.Second)
	logger(h.a).Info("channel resumed: the provider accepts again", "channel", channel, "held_for", took)
	told, _ := h.a.Store.HoldNoticed(ctx, held)
	for _, id := range told {
		h.a.warRoomPost(ctx, id, fmt.Sprintf(":white_check_mark: %s resumed after %s: the provider accepts again, and the notices that waited go out.", channel, took))
	}
}

// err is the batch's end while a channel it skipped is held: retried when
// the next probe is due.
func (h *channelHolds) err(ctx context.Context) error {
	h.mu.Lock()
	skipped := maps.Clone(h.skipped)
	h.mu.Unlock()
	if len(skipped) == 0 {
		return nil
	}
	holds, err := h.a.Store.ChannelHolds(ctx)
	if err != nil {
		return err
	}
	var parts []string
	next := 5 * time.Minute
	for _, held := range holds {
		if !skipped[held.Channel] {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s held since %s: %s", held.Channel, held.Since.UTC().Format("15:04:05 UTC"), held.Reason))
		next = min(next, held.ProbeAt.Sub(h.a.now()))
	}
	if len(parts) == 0 {
		// Lifted meanwhile by another batch: the sends left out are still
		// unsent, and only a retry sends them (ending well would leave
		// them to the rung's resolution, as if they had failed).
		lifted := slices.Sorted(maps.Keys(skipped))
		return temporal.NewApplicationErrorWithOptions(strings.Join(lifted, ", ")+" lifted while the batch ran: the retry sends what it left out", ErrChannelHeld,
			temporal.ApplicationErrorOptions{NextRetryDelay: time.Second})
	}
	return temporal.NewApplicationErrorWithOptions(strings.Join(parts, "; "), ErrChannelHeld,
		temporal.ApplicationErrorOptions{NextRetryDelay: max(next, 5*time.Second)})
}

// warRoomPost tells an incident's war room something, as a courtesy: the
// record of it is elsewhere, and a Slack failure stops nothing.
func (a *Activities) warRoomPost(ctx context.Context, incidentID, text string) {
	if a.Chat == nil {
		return
	}
	inc, err := a.Store.GetIncident(ctx, incidentID)
	if err != nil || inc.Drill {
		return
	}
	room, err := a.OpenWarRoom(ctx, OpenWarRoomInput{IncidentID: incidentID, Playbook: inc.Spec.Playbook, Restricted: len(inc.Spec.RestrictedTo) > 0})
	if err == nil {
		err = a.Chat.Post(ctx, room.ChannelID, text)
	}
	if err != nil {
		logger(a).Warn("war room post failed", "incident", incidentID, "error", err)
	}
}
