package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/channel"
	"github.com/tocsin/tocsin/internal/store"
)

func (cl *cli) watchCmd() *cobra.Command {
	var every time.Duration
	cmd := &cobra.Command{Use: "watch ID", Short: "Follow an incident live: new timeline lines, and the campaign's progress bar with per-channel counts and ETA",
		Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			tty := false
			if st, err := os.Stdout.Stat(); err == nil {
				tty = st.Mode()&os.ModeCharDevice != 0
			}
			if every <= 0 {
				every = 5 * time.Second
				if tty {
					every = time.Second
				}
			}
			w := &watcher{out: os.Stdout, tty: tty}
			for {
				v, err := cl.apiCalls().Incident(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				w.draw(v)
				if v.Status == api.StageClosed || v.Error != "" {
					if v.Error != "" {
						return fmt.Errorf("incident %s stopped: %s", v.ID, v.Error)
					}
					return nil
				}
				select {
				case <-cmd.Context().Done():
					return nil
				case <-time.After(every):
				}
			}
		}}
	cmd.Flags().DurationVar(&every, "every", 0, "how often to refresh (default 1s on a terminal, 5s otherwise)")
	return cmd
}

// watcher prints timeline lines once each, and redraws the campaign block in
// place on a terminal (a plain line per refresh otherwise).
type watcher struct {
	out   io.Writer
	tty   bool
	seen  int
	drawn int // lines of the last campaign block on screen
}

func (w *watcher) draw(v api.View) {
	if w.tty && w.drawn > 0 {
		fmt.Fprintf(w.out, "\x1b[%dA\x1b[J", w.drawn) // up over the old block, clear to the end
	}
	w.drawn = 0
	// A long timeline drops events from its middle: count every event ever
	// added, and print the newest ones not yet seen.
	total := len(v.Timeline) + v.TimelineOmitted
	fresh := min(max(total-w.seen, 0), len(v.Timeline))
	for _, e := range v.Timeline[len(v.Timeline)-fresh:] {
		fmt.Fprintf(w.out, "%s  %-18s %s\n", e.At.Local().Format("15:04:05"), e.Stage, e.Text)
	}
	w.seen = total
	var lines []string
	if v.Campaign != nil {
		lines = campaignLines(v.Campaign, w.tty)
		if !w.tty {
			lines = lines[:1]
		}
	}
	if v.LastKnown != nil {
		// The plan did not answer this time; the next look may be live.
		lines = append(lines, fmt.Sprintf("(as recorded at %s: %s)", v.LastKnown.RecordedAt.Local().Format("15:04:05"), v.LastKnown.Reason))
	}
	for _, l := range lines {
		fmt.Fprintln(w.out, l)
	}
	if w.tty {
		w.drawn = len(lines)
	}
}

// campaignLines are the progress bar and one line per channel.
func campaignLines(c *api.CampaignView, bar bool) []string {
	pct := 100.0
	if c.Subjects > 0 && !c.Done {
		pct = 100 * float64(min(c.Contacted, c.Subjects)) / float64(c.Subjects)
	}
	head := fmt.Sprintf("%5.1f%%  %d/%d people contacted  %.0f msg/s  partitions %d/%d", pct, c.Contacted, c.Subjects, c.PerSecond, c.PartitionsDone, c.Partitions)
	if c.ETA != "" {
		head += "  ETA " + c.ETA
	}
	if c.Done {
		head += "  done"
	}
	if bar {
		const width = 30
		filled := min(max(int(pct/100*width), 0), width)
		head = "[" + strings.Repeat("#", filled) + strings.Repeat(".", width-filled) + "] " + head
	} else {
		var parts []string
		for _, ch := range channelOrder(c) {
			n := c.Channels[ch]
			parts = append(parts, fmt.Sprintf("%s %d/%d/%d/%d", ch, n.Queued, n.Sent, n.Delivered, n.Failed))
		}
		head = "campaign " + head + "  (queued/sent/delivered/failed: " + strings.Join(parts, ", ") + ")"
		if c.Held != nil {
			head += "; " + heldLine(c.Held)
		}
	}
	out := []string{head}
	if h := c.Held; h != nil {
		out = append(out, "  "+heldLine(h)+" (legal or an admin may place them now if the harm is urgent: incident release-calls --reason)")
	}
	if r := c.Released; r != nil {
		out = append(out, fmt.Sprintf("  calls released from quiet hours by %s at %s: %s", r.By, r.At.UTC().Format("2006-01-02 15:04 UTC"), r.Reason))
	}
	for _, ch := range channelOrder(c) {
		n := c.Channels[ch]
		line := fmt.Sprintf("  %-7s queued %-7d sent %-7d delivered %-8d failed %d", ch, n.Queued, n.Sent, n.Delivered, n.Failed)
		if n.Segments > 0 {
			line += fmt.Sprintf("  (%d SMS segments)", n.Segments)
		}
		out = append(out, line)
		if d := doubtLine(n); d != "" {
			out = append(out, "          "+d)
		}
	}
	return out
}

// doubtLine counts a channel's sends whose outcome was once unknown: how
// many were possibly delivered twice, how many are still unknown, and how
// many were settled once.
func doubtLine(n store.ChannelCounts) string {
	var parts []string
	if n.PossiblyTwice > 0 {
		parts = append(parts, fmt.Sprintf("%d possibly delivered twice (sent again after an interrupted send)", n.PossiblyTwice))
	}
	if n.Unknown > 0 {
		parts = append(parts, fmt.Sprintf("%d unknown (interrupted; the provider may have it)", n.Unknown))
	}
	if n.Recovered > 0 {
		parts = append(parts, fmt.Sprintf("%d interrupted and settled once", n.Recovered))
	}
	return strings.Join(parts, "; ")
}

// heldLine says how many calls wait for people's quiet hours to end, and
// when they will be placed, in their time and in UTC.
func heldLine(h *api.HeldView) string {
	utc := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
	if h.From.Equal(h.To) {
		return fmt.Sprintf("%d calls held for quiet hours until %s (%s)", h.Calls, h.FromLocal, utc(h.From))
	}
	return fmt.Sprintf("%d calls held for quiet hours, placed from %s (%s) to %s (%s)", h.Calls, h.FromLocal, utc(h.From), h.ToLocal, utc(h.To))
}

func channelOrder(c *api.CampaignView) []string {
	order := channel.Names()
	var out []string
	for _, ch := range order {
		if _, ok := c.Channels[ch]; ok {
			out = append(out, ch)
		}
	}
	var extra []string
	for ch := range c.Channels {
		if !slices.Contains(out, ch) {
			extra = append(extra, ch)
		}
	}
	slices.Sort(extra)
	return append(out, extra...)
}
