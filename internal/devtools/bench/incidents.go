package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/app"
	"github.com/tocsin/tocsin/internal/devtools/autopilot"
	"github.com/tocsin/tocsin/internal/inventory/synth"
)

// IncidentsConfig says how many incidents run at once on one dev server.
type IncidentsConfig struct {
	Dir         string
	Incidents   int
	Subjects    int // people in the inventory, everyone affected by each incident
	Backends    []string
	PostgresDSN string
	// Poll is how often each incident's pilot looks at it, as a person
	// keeping a console open would.
	Poll    time.Duration
	Timeout time.Duration
	// CPUProfile, when set, is where the whole dev process's CPU profile
	// from the first open to the last close is written.
	CPUProfile string
	Log        io.Writer
}

// IncidentsResult is one backend's run.
type IncidentsResult struct {
	Backend   string `json:"backend"`
	Incidents int    `json:"incidents"`
	Subjects  int    `json:"subjects_each"`
	Closed    int    `json:"closed"`
	// Seconds runs from the first open to the last close.
	Seconds     float64 `json:"seconds"`
	OpenSeconds float64 `json:"open_seconds"` // to open them all
	PerMinute   float64 `json:"closed_per_minute"`
	// Each incident's own open to close.
	MedianSeconds  float64 `json:"median_incident_seconds"`
	SlowestSeconds float64 `json:"slowest_incident_seconds"`
	Messages       int     `json:"messages"`
	// TimedOut counts the pilots' calls that got no answer within the
	// client's two minutes (each is tried again at the next look, as a
	// person would); a busy server shows here first.
	TimedOut     int     `json:"calls_timed_out"`
	Duplicates   int     `json:"duplicates"`
	EmailRepeats int     `json:"email_repeats"`
	PeakMB       float64 `json:"peak_rss_mb"`
}

// Incidents opens c.Incidents incidents at once on one tocsin dev, each
// affecting everyone in a small synthetic inventory, steers each with its
// own autopilot (facts, legal's approvals, filings) until every one is
// closed, and checks at the peers that nobody was told twice by any.
func Incidents(ctx context.Context, c IncidentsConfig) ([]IncidentsResult, error) {
	if c.Poll <= 0 {
		c.Poll = 2 * time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Minute
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, err
	}
	subjects := filepath.Join(c.Dir, fmt.Sprintf("incidents-subjects-%d.csv", c.Subjects))
	if err := writeFile(subjects, func(w io.Writer) error {
		return synth.WriteSubjects(w, synth.Options{Subjects: c.Subjects, ScopeShare: 1, Seed: 11})
	}); err != nil {
		return nil, err
	}
	return eachBackend(c.Backends, func(b string) (IncidentsResult, error) { return c.run(ctx, b, subjects) })
}

func (c IncidentsConfig) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format+"\n", args...)
	}
}

func (c IncidentsConfig) run(ctx context.Context, backend, subjects string) (IncidentsResult, error) {
	r := IncidentsResult{Backend: backend, Incidents: c.Incidents, Subjects: c.Subjects}
	dsn, err := devDatabase(backend, c.PostgresDSN)
	if err != nil {
		return r, err
	}
	dir := filepath.Join(c.Dir, "incidents-"+backend+"-"+strconv.FormatInt(time.Now().Unix(), 10))
	d, err := startDev(ctx, dir, dsn, app.DevConfig{})
	if err != nil {
		return r, err
	}
	defer d.stop()
	if err := d.importSubjects(ctx, c.Dir, subjects); err != nil {
		return r, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	resetPeakRSS()

	if c.CPUProfile != "" {
		stop, err := startCPUProfile(c.CPUProfile)
		if err != nil {
			return r, err
		}
		defer stop()
	}
	c.logf("%s: opening %d incidents", backend, c.Incidents)
	started := time.Now()
	ids := make([]string, c.Incidents)
	opened := make([]time.Time, c.Incidents)
	if err := each(ctx, c.Incidents, 16, func(ctx context.Context, i int) error {
		yaml := autopilot.Incident(synth.LeakedSystem, time.Now())
		yaml = strings.Replace(yaml, "title: Media bucket exposed", fmt.Sprintf("title: Media bucket exposed (%d of %d)", i+1, c.Incidents), 1)
		var res map[string]string
		opened[i] = time.Now()
		if err := d.responder.Do(ctx, "POST", "/api/v1/incidents", api.OpenRequest{File: "incident.yaml", YAML: yaml}, &res); err != nil {
			return fmt.Errorf("open incident %d: %w", i+1, err)
		}
		ids[i] = res["id"]
		return nil
	}); err != nil {
		return r, err
	}
	r.OpenSeconds = time.Since(started).Seconds()
	c.logf("%s: %d incidents opened in %.1f s", backend, c.Incidents, r.OpenSeconds)

	var mu sync.Mutex
	stages := map[string]string{}
	took := make([]float64, c.Incidents)
	progress := time.NewTicker(10 * time.Second)
	defer progress.Stop()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-progress.C:
				mu.Lock()
				c.logf("%s: %s", backend, stageCounts(stages, c.Incidents))
				mu.Unlock()
			}
		}
	}()
	// Every incident has a pilot of its own at once: the pilots are the
	// people, and the server is what is measured.
	err = each(ctx, c.Incidents, c.Incidents, func(ctx context.Context, i int) error {
		pilot := d.pilot()
		// Pilots that all look at the same instant would be a load no
		// console makes; each starts at its own point of the interval.
		tick := time.NewTimer(time.Duration(rand.Int64N(int64(c.Poll))))
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return fmt.Errorf("incident %s: %w", ids[i], ctx.Err())
			case <-tick.C:
			}
			v, err := pilot.View(ctx, ids[i])
			if err != nil {
				return fmt.Errorf("incident %s: %w", ids[i], err)
			}
			if v.Error != "" {
				return fmt.Errorf("incident %s: %s", ids[i], v.Error)
			}
			mu.Lock()
			stages[ids[i]] = v.Status
			mu.Unlock()
			if v.Status == api.StageClosed {
				took[i] = time.Since(opened[i]).Seconds()
				return nil
			}
			if err := pilot.Step(ctx, v); err != nil {
				var slow net.Error
				if !errors.As(err, &slow) || !slow.Timeout() || ctx.Err() != nil {
					return fmt.Errorf("incident %s: %w", ids[i], err)
				}
				mu.Lock()
				r.TimedOut++
				mu.Unlock()
				c.logf("%s: incident %s: a call timed out; trying again at the next look: %v", backend, ids[i], err)
			}
			tick.Reset(c.Poll)
		}
	})
	r.Seconds = time.Since(started).Seconds()
	r.PeakMB = peakRSSMB()
	mu.Lock()
	for _, s := range stages {
		if s == api.StageClosed {
			r.Closed++
		}
	}
	left := stageCounts(stages, c.Incidents)
	mu.Unlock()
	if err != nil {
		return r, fmt.Errorf("%w (%s)", err, left)
	}
	c.logf("%s: all %d closed in %.1f s", backend, c.Incidents, r.Seconds)
	r.PerMinute = float64(r.Closed) / r.Seconds * 60
	sort.Float64s(took)
	r.MedianSeconds, r.SlowestSeconds = took[len(took)/2], took[len(took)-1]
	for _, id := range ids {
		counts, _, _, err := d.Store.CampaignCounts(ctx, id)
		if err != nil {
			return r, err
		}
		for _, n := range counts {
			r.Messages += n.Sent + n.Delivered + n.Failed
		}
		dups, repeats, err := d.duplicates(ctx, id)
		if err != nil {
			return r, err
		}
		r.Duplicates += dups
		r.EmailRepeats += repeats
	}
	return r, nil
}

// stageCounts says how many incidents are at each stage, e.g.
// "closed 180, notifying 20".
func stageCounts(stages map[string]string, total int) string {
	n := map[string]int{}
	for _, s := range stages {
		n[s]++
	}
	if unseen := total - len(stages); unseen > 0 {
		n["not yet seen"] = unseen
	}
	var keys []string
	for k := range n {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, n[k]))
	}
	return strings.Join(parts, ", ")
}

// each runs f for 0..n-1, at most limit at once, and returns the first
// error; the context it gives f ends with that error, so the others stop.
func each(ctx context.Context, n, limit int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			if first != nil {
				return first
			}
			return ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := f(ctx, i); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		}()
	}
	wg.Wait()
	return first
}
