package api

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/tocsin/tocsin/internal/pacing"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/playbooks"
	"github.com/tocsin/tocsin/workflows"
)

// PacingView projects when the people still waiting are reached at the
// configured rates, or the slower rates a running campaign has measured
// (the ladder's first rung, which tries everyone), and
// names each duty to tell them that the campaign would miss, with the
// rate that would meet it.
type PacingView struct {
	Finishes []PacingFinish `json:"finishes"`
	Misses   []PacingMiss   `json:"misses,omitempty"`
}

// PacingFinish is when one channel's remaining sends end at its rate.
type PacingFinish struct {
	Channel   string  `json:"channel"`
	Remaining int     `json:"remaining"`
	Rate      float64 `json:"rate"`
	// Measured: Rate is what the running campaign has kept lately, slower
	// than the configured rate (or the channel is unpaced).
	Measured bool      `json:"measured,omitempty"`
	At       time.Time `json:"at"`
}

// PacingMiss is a duty the campaign would reach its people after.
type PacingMiss struct {
	Duty         string    `json:"duty"`
	Jurisdiction string    `json:"jurisdiction"`
	DueAt        time.Time `json:"due_at"`
	Channel      string    `json:"channel"`
	Rate         float64   `json:"rate"`
	Measured     bool      `json:"measured,omitempty"`
	LateSeconds  int64     `json:"late_seconds"`
	// Need is the rate on Channel that meets the due time (0: none can).
	Need float64 `json:"need"`
	Text string  `json:"text"`
}

// pacingView projects an incident's campaign until it is done, where the
// channels it sends first have configured rates or a measured pace. A
// paused campaign is projected at its configured rates: what it sent in
// the last minutes is the pause's pace, not its providers'; one resumed
// lately is measured from its resume.
func (s *Server) pacingView(ctx context.Context, id string, p workflows.Progress, playbook string) *PacingView {
	if p.Scope == nil || p.Reach != nil || p.Status == workflows.StageClosed {
		return nil
	}
	now := time.Now().UTC()
	var measured map[string]float64
	if p.Campaign != nil {
		if window, err := s.Store.MeasureWindow(ctx, id, now); err == nil && window > 0 {
			measured = pacing.Measured(now, s.sendProgress(ctx, id, false), window)
		}
	}
	if len(s.Rates) == 0 && len(measured) == 0 {
		return nil
	}
	ladder := s.firstRung(playbook)
	if len(ladder) == 0 {
		return nil
	}
	waiting, err := s.waitingByContact(ctx, id, nil)
	if err != nil {
		return nil
	}
	rates, err := s.Store.RatesNow(ctx, s.Rates) // with any an admin raised
	if err != nil {
		return nil
	}
	duties := workflows.PaceDuties(p)
	regions, names, _ := workflows.DueFirst(p.Scope, duties)
	var ahead pacing.Ahead
	if len(regions) > 0 {
		first, err := s.waitingByContact(ctx, id, regions)
		if err != nil {
			return nil
		}
		ahead = pacing.AheadOf(names, ladder, first, waiting, rates, measured)
	}
	proj := pacing.Project(now, duties, pacing.Loads(ladder, waiting, rates, measured), ahead)
	out := &PacingView{Finishes: []PacingFinish{}}
	for _, f := range proj.Finishes {
		out.Finishes = append(out.Finishes, PacingFinish{Channel: f.Channel, Remaining: f.Remaining, Rate: f.Rate, Measured: f.Measured, At: f.At})
	}
	for _, m := range proj.Misses {
		out.Misses = append(out.Misses, PacingMiss{Duty: m.Duty, Jurisdiction: m.Jurisdiction, DueAt: m.DueAt, Channel: m.Channel, Rate: m.Rate, Measured: m.Measured,
			LateSeconds: int64(m.Late.Seconds()), Need: m.Need, Text: m.Say()})
	}
	return out
}

// ladders keeps each playbook's first rung for a while: a view is read
// every few seconds while a campaign runs, and a playbook is a dozen
// law files to parse.
type ladders struct {
	mu   sync.Mutex
	seen map[string]ladderAt
}

type ladderAt struct {
	rung []string
	at   time.Time
}

const ladderTTL = 30 * time.Second

// firstRung is the channels a playbook's campaign tries everyone on first.
func (s *Server) firstRung(playbook string) []string {
	s.ladders.mu.Lock()
	defer s.ladders.mu.Unlock()
	if l, ok := s.ladders.seen[playbook]; ok && time.Since(l.at) < ladderTTL {
		return l.rung
	}
	pb, err := playbooks.Load(s.PlaybookDir, playbook)
	if err != nil || len(pb.Ladder) == 0 {
		return nil
	}
	if s.ladders.seen == nil {
		s.ladders.seen = map[string]ladderAt{}
	}
	s.ladders.seen[playbook] = ladderAt{rung: pb.Ladder[0], at: time.Now()}
	return pb.Ladder[0]
}

// waitingTTL is how long a count of the people still waiting is reused: it
// reads the whole affected set, and a running campaign's view is read
// every few seconds by each console open on it.
const waitingTTL = 5 * time.Second

type cachedWaiting struct {
	at     time.Time
	counts map[string]int
}

func (s *Server) waitingByContact(ctx context.Context, id string, regions []string) (map[string]int, error) {
	key := id + "|" + strings.Join(regions, ",")
	if v, ok := s.waiting.Load(key); ok {
		if c := v.(cachedWaiting); time.Since(c.at) < waitingTTL {
			return c.counts, nil
		}
	}
	counts, err := s.Store.WaitingByContact(ctx, id, regions)
	if err == nil {
		s.waiting.Store(key, cachedWaiting{at: time.Now(), counts: counts})
	}
	return counts, err
}

// progressPoints bounds the progress chart's points per channel.
const progressPoints = 300

type cachedProgress struct {
	at     time.Time
	done   bool
	points map[string][]store.ProgressPoint
}

// sendProgress is the campaign's sends over time per channel, read at most
// every waitingTTL per incident while it runs (it groups the incident's
// whole ledger), and once more when it is done.
func (s *Server) sendProgress(ctx context.Context, id string, done bool) map[string][]store.ProgressPoint {
	if v, ok := s.sends.Load(id); ok {
		if c := v.(cachedProgress); c.done == done && (done || time.Since(c.at) < waitingTTL) {
			return c.points
		}
	}
	points, err := s.Store.SendProgress(ctx, id, progressPoints)
	if err != nil {
		return nil
	}
	s.sends.Store(id, cachedProgress{at: time.Now(), done: done, points: points})
	return points
}
