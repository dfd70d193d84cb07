// Package pacing projects when a campaign reaches the people still
// waiting, at the providers' configured rates, against the due times of
// the duties to tell them: which duty the campaign will miss, by how much,
// and the rate that would meet it.
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
}

// Loads are the channels' sends still to make: for each, the people
// waiting who have the contact it needs (waiting, by contact kind) and
// its rate (configured, or as an admin set it at run time). A channel Tocsin does not know is left out.
func Loads(channels []string, waiting map[string]int, rates map[string]float64) []Load {
	var out []Load
	for _, ch := range channels {
		if info, ok := channel.Lookup(ch); ok {
			out = append(out, Load{Channel: ch, Remaining: waiting[string(info.Contact)], Rate: rates[ch]})
		}
	}
	return out
}

// AheadOf is what goes ahead when the people owed duties are those of
// first among everyone waiting (counts by contact kind, as Loads reads
// them): nothing when they are everyone, as the campaign then sends nobody
// ahead.
func AheadOf(duties, channels []string, first, waiting map[string]int, rates map[string]float64) Ahead {
	if len(duties) == 0 || maps.Equal(first, waiting) {
		return Ahead{}
	}
	return Ahead{Duties: duties, Loads: Loads(channels, first, rates)}
}

// Finish is when a channel's remaining sends end at its rate.
type Finish struct {
	Channel   string
	Remaining int
	Rate      float64
	At        time.Time
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

// Project projects the campaign from now. Unpaced channels finish "now"
// for the projection: their pace is the provider's, which it does not know.
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
		m := Miss{Duty: d.Name, Jurisdiction: d.Jurisdiction, DueAt: d.DueAt, Channel: last.Channel, Rate: last.Rate, Late: last.At.Sub(d.DueAt), Ahead: isAhead}
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
		f := Finish{Channel: l.Channel, Remaining: l.Remaining, Rate: l.Rate, At: now}
		if l.Rate > 0 {
			f.At = now.Add(time.Duration(float64(l.Remaining) / l.Rate * float64(time.Second)))
		}
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b Finish) int { return b.At.Compare(a.At) })
	return out
}

// Say is a miss as a responder reads it.
func (m Miss) Say() string {
	if m.Need == 0 {
		return fmt.Sprintf("%s (%s) was due at %s: at %s %s/s the people still waiting are told %s after it; no rate meets it now",
			m.Duty, m.Jurisdiction, m.DueAt.UTC().Format("2006-01-02 15:04 UTC"), Rate(m.Rate), m.Channel, Span(m.Late))
	}
	who := "the people still waiting are"
	if m.Ahead {
		who = "its people, sent first, are"
	}
	return fmt.Sprintf("at %s %s/s %s told %s after %s (%s) is due at %s; %s %s/s meets it",
		Rate(m.Rate), m.Channel, who, Span(m.Late), m.Duty, m.Jurisdiction, m.DueAt.UTC().Format("2006-01-02 15:04 UTC"), Rate(m.Need), m.Channel)
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

// ceilSignificant rounds x > 0 up to n significant digits: a rate that
// meets a due time must not be rounded below it.
func ceilSignificant(x float64, n int) float64 {
	p := math.Pow(10, float64(n-1)-math.Floor(math.Log10(x)))
	return math.Ceil(x*p) / p
}
