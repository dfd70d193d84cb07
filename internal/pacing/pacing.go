// Package pacing projects when a campaign reaches the people still
// waiting, at the providers' configured rates (or the slower rate a
// running campaign has measured), against the due times of the duties to
// tell them: which duty the campaign will miss, by how much, and the rate
// that would meet it.
package pacing

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/tocsin/tocsin/internal/channel"
)

// Duty is a duty to tell people that has a due time.
type Duty struct {
	Name, Jurisdiction string
	DueAt              time.Time
}

// Load is one channel's sends still to make and its configured rate
// (messages per second; 0: unpaced, as fast as the provider answers).
type Load struct {
	Channel   string
	Remaining int
	Rate      float64
	// Measured is the rate the running campaign has kept on the channel
	// lately (0: not known). A provider having a bad day sends below the
	// configured rate, and an unpaced channel has none: the projection
	// takes the slower of the two it knows.
	Measured float64
}

// pace is the rate l is projected at, and whether it is the measured one.
func (l Load) pace() (float64, bool) {
	if l.Measured > 0 && (l.Rate <= 0 || l.Measured < l.Rate) {
		return l.Measured, true
	}
	return l.Rate, false
}

// Loads are the channels' sends still to make: for each, the people
// waiting who have the contact it needs (waiting, by contact kind), its
// rate (configured, or as an admin set it at run time) and the rate
// measured (Measured; nil before the campaign sends). A channel Tocsin
// does not know is left out.
func Loads(channels []string, waiting map[string]int, rates, measured map[string]float64) []Load {
	var out []Load
	for _, ch := range channels {
		if info, ok := channel.Lookup(ch); ok {
			out = append(out, Load{Channel: ch, Remaining: waiting[string(info.Contact)], Rate: rates[ch], Measured: measured[ch]})
		}
	}
	return out
}

// Point is how many of a channel's sends had gone out by At.
type Point struct {
	At   time.Time
	Sent int
}

// MeasureWindow is how far back a running campaign's rate is measured:
// long enough to smooth a batch's rhythm, short enough to see a provider
// slow down within minutes.
const MeasureWindow = 5 * time.Minute

// WindowSince is MeasureWindow, or the time since the campaign resumed
// from a pause when that is shorter: the pause's silence is not its
// providers' pace. A zero resumed means it never paused.
func WindowSince(now, resumed time.Time) time.Duration {
	if since := now.Sub(resumed); !resumed.IsZero() && since < MeasureWindow {
		return max(since, 0)
	}
	return MeasureWindow
}

// MinMeasured is the least time a channel must have been sending, within
// the window, before its rate is taken as measured: the first seconds of
// a campaign are its ramp, not its pace.
const MinMeasured = 30 * time.Second

// Measured is each channel's send rate over the window before now, from
// its sends over time (cumulative, in time order). A channel that has sent
// for less than MinMeasured, or nothing within the window, has none. The
// rate runs to now, not to the last send: a channel that stopped sending
// a minute ago is slowing, not at its old pace. Failed sends are not
// counted, so a channel failing many errs on the late side.
func Measured(now time.Time, sent map[string][]Point, window time.Duration) map[string]float64 {
	out := map[string]float64{}
	for ch, pts := range sent {
		if len(pts) == 0 {
			continue
		}
		from := now.Add(-window)
		base := Point{At: pts[0].At}
		for _, p := range pts {
			if p.At.After(from) {
				break
			}
			base = Point{At: from, Sent: p.Sent}
		}
		span := now.Sub(base.At)
		if span < MinMeasured {
			continue
		}
		if n := pts[len(pts)-1].Sent - base.Sent; n > 0 {
			out[ch] = float64(n) / span.Seconds()
		}
	}
	return out
}

// AheadOf is what goes ahead when the people owed duties are those of
// first among everyone waiting (counts by contact kind, as Loads reads
// them): nothing when they are everyone, as the campaign then sends nobody
// ahead.
func AheadOf(duties, channels []string, first, waiting map[string]int, rates, measured map[string]float64) Ahead {
	if len(duties) == 0 || maps.Equal(first, waiting) {
		return Ahead{}
	}
	return Ahead{Duties: duties, Loads: Loads(channels, first, rates, measured)}
}

// Finish is when a channel's remaining sends end at its rate.
type Finish struct {
	Channel   string
	Remaining int
	Rate      float64
	// Measured: Rate is the one the campaign has kept, below the
	// configured rate (or the channel is unpaced).
	Measured bool
	At       time.Time
}

// Miss is a duty the campaign reaches its people after: the channel that
// finishes last, how late, and the rate on it that would meet the due time
// (0 when the due time has passed: no rate meets it).
type Miss struct {
	Duty         string
	Jurisdiction string
	DueAt        time.Time
	Channel      string
	Rate         float64
	Measured     bool // Rate is the campaign's measured rate
	Late         time.Duration
	Need         float64
	// Ahead: the duty's people are sent first, and are late on their own.
	Ahead bool
}

// Ahead are the people a campaign sends its first rung to before anyone
// else (the earliest due first): the duties owed them, and their sends
// still to make on each channel. Those duties are measured against their
// people's finish, not everyone's.
type Ahead struct {
	Duties []string
	Loads  []Load
}

// Projection is the campaign's finish per channel and the duties it misses.
type Projection struct {
	Finishes []Finish
	Misses   []Miss
}

// Project projects the campaign from now. An unpaced channel the campaign
// has not measured finishes "now" for the projection: its pace is the
// provider's, which it does not know yet.
func Project(now time.Time, duties []Duty, loads []Load, ahead Ahead) Projection {
	p := Projection{Finishes: finishes(now, loads)}
	first := finishes(now, ahead.Loads)
	for _, d := range duties {
		fs, isAhead := p.Finishes, slices.Contains(ahead.Duties, d.Name)
		if isAhead {
			fs = first
		}
		if len(fs) == 0 || d.DueAt.IsZero() || !fs[0].At.After(d.DueAt) {
			continue
		}
		last := fs[0]
		m := Miss{Duty: d.Name, Jurisdiction: d.Jurisdiction, DueAt: d.DueAt, Channel: last.Channel, Rate: last.Rate, Measured: last.Measured, Late: last.At.Sub(d.DueAt), Ahead: isAhead}
		if left := d.DueAt.Sub(now).Seconds(); left > 0 {
			m.Need = ceilSignificant(float64(last.Remaining)/left, 3)
		}
		p.Misses = append(p.Misses, m)
	}
	return p
}

// finishes are the channels' finishes with sends still to make, the last
// first.
func finishes(now time.Time, loads []Load) []Finish {
	var out []Finish
	for _, l := range loads {
		if l.Remaining <= 0 {
			continue
		}
		rate, measured := l.pace()
		f := Finish{Channel: l.Channel, Remaining: l.Remaining, Rate: rate, Measured: measured, At: now}
		if rate > 0 {
			f.At = now.Add(time.Duration(float64(l.Remaining) / rate * float64(time.Second)))
		}
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b Finish) int { return b.At.Compare(a.At) })
	return out
}

// Say is a miss as a responder reads it.
func (m Miss) Say() string {
	at := "at " + Rate(m.Rate) + " " + m.Channel + "/s"
	if m.Measured {
		// A measured rate is an estimate: two significant digits say it.
		at = "at the " + Rate(roundSignificant(m.Rate, 2)) + " " + m.Channel + "/s measured lately"
	}
	if m.Need == 0 {
		return fmt.Sprintf("%s (%s) was due at %s: %s the people still waiting are told %s after it; no rate meets it now",
			m.Duty, m.Jurisdiction, m.DueAt.UTC().Format("2006-01-02 15:04 UTC"), at, Span(m.Late))
	}
	who := "the people still waiting are"
	if m.Ahead {
		who = "its people, sent first, are"
	}
	return fmt.Sprintf("%s %s told %s after %s (%s) is due at %s; %s %s/s meets it",
		at, who, Span(m.Late), m.Duty, m.Jurisdiction, m.DueAt.UTC().Format("2006-01-02 15:04 UTC"), Rate(m.Need), m.Channel)
}

// Rate writes a rate without needless decimals (20, 0.5, 0.0001).
func Rate(r float64) string {
	return fmt.Sprintf("%.4g", r)
}

// Span writes a duration in days, hours and minutes, as people say it.
func Span(d time.Duration) string {
	d = d.Round(time.Minute)
	days, hours, mins := int(d.Hours())/24, int(d.Hours())%24, int(d.Minutes())%60
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh", days, hours)
	case hours > 0:
		return fmt.Sprintf("%dh %dm", hours, mins)
	}
	return fmt.Sprintf("%dm", mins)
}

// roundSignificant rounds x > 0 to n significant digits.
func roundSignificant(x float64, n int) float64 { return toSignificant(x, n, math.Round) }

// ceilSignificant rounds x > 0 up to n significant digits: a rate that
// meets a due time must not be rounded below it.
func ceilSignificant(x float64, n int) float64 { return toSignificant(x, n, math.Ceil) }

// toSignificant rounds x > 0 to n significant digits by round.
func toSignificant(x float64, n int, round func(float64) float64) float64 {
	p := math.Pow(10, float64(n-1)-math.Floor(math.Log10(x)))
	return round(x*p) / p
}
