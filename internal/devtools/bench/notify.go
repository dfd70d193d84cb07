package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/app"
	"github.com/tocsin/tocsin/internal/devtools/autopilot"
	"github.com/tocsin/tocsin/internal/devtools/bench/loop"
	"github.com/tocsin/tocsin/internal/devtools/devpeers"
	"github.com/tocsin/tocsin/internal/devtools/proccpu"
	"github.com/tocsin/tocsin/internal/inventory/synth"
	"github.com/tocsin/tocsin/workflows"
)

// DefaultBatchSize is the campaign's own batch size, the benchmark's default.
const DefaultBatchSize = workflows.DefaultBatchSize

// BadDayProfile is a carrier's ordinary bad day (issue 29's profile): 3%
// of Twilio calls slower than the client waits, a few percent failing or
// going silent after accepting, an SMTP relay that hangs 2% of sessions
// past its 30 s timeout and defers 5%, an on-site webhook that refuses or
// resets a few percent.
const BadDayProfile = "twilio.latency=20s@0.03,twilio.accept_then_timeout=0.02,twilio.status_500=0.05,twilio.reset=0.02," +
	"smtp.latency=40s@0.02,smtp.tempfail=0.05,onsite.status_503=0.05,onsite.reset=0.02"

// NotifyConfig says what campaign to measure.
type NotifyConfig struct {
	Dir         string
	Subjects    int  // all of them affected
	Shuffled    bool // people in no order of their IDs (synth.Options.Shuffled)
	Backends    []string
	PostgresDSN string
	// BaselineSubjects is how many people the plain loop notifies (its rate
	// is what is compared; a million sequential sends would only take longer).
	BaselineSubjects int
	BatchSize        int
	// PeerFaults, when set, runs the campaign again on each backend with
	// the local peers slow and failing as this profile says (the syntax of
	// `tocsin dev --peer-faults`), beside the fault-free run.
	PeerFaults string
	FaultSeed  int64
	// BatchWindow and SendLanes, when set, replace the campaign's batches
	// at once per partition and the worker's sends at once per batch.
	BatchWindow, SendLanes int
	// PartitionWindow, when set, replaces the campaign's partitions at once.
	PartitionWindow int
	// SMTPConnections, when set, replaces the dev e-mail pool's size: on a
	// bad day it bounds the e-mails a second (hung sessions hold theirs).
	SMTPConnections int
	// CPUProfile, when set, is where the fault-free campaign's CPU profile
	// is written (the last backend's, when there are several): the whole
	// dev process (embedded Temporal, worker, store, peers) from legal's
	// approval to the incident's close. The campaign under PeerFaults
	// writes its own beside it, with ".faults" added to the name.
	CPUProfile string
	// UntilDrafts stops once the drafts are ready for legal, with no loop
	// and no campaign: how long a big inventory takes from open to drafts.
	UntilDrafts bool
	Log         *os.File
}

// NotifyResult is one backend's campaign beside the plain loop.
type NotifyResult struct {
	Backend  string `json:"backend"`
	Subjects int    `json:"subjects"`
	// ImportSeconds is the inventory's import through the API; DraftsSeconds
	// runs from the incident's open to its drafts waiting for legal
	// (scoped, assessed and drafted; facts the synthetic file leaves out
	// are a responder's to supply, and the autopilot supplies them after).
	ImportSeconds float64            `json:"import_seconds"`
	DraftsSeconds float64            `json:"open_to_drafts_seconds"`
	Seconds       float64            `json:"campaign_seconds"`
	Messages      int                `json:"messages"`
	PerS          float64            `json:"messages_per_s"`
	Channels      map[string]float64 `json:"channel_messages_per_s"`
	// RSS: the whole dev process (embedded Temporal, peers, API, worker).
	PeakMB     float64   `json:"peak_rss_mb"`
	RSSMBAt    []float64 `json:"rss_mb_at_quarters"`
	Partitions int       `json:"partitions"`
	// The same SDK calls in a plain loop to the same peers.
	BaselineSubjects int                `json:"baseline_subjects"`
	BaselineMessages int                `json:"baseline_messages"`
	BaselinePerS     float64            `json:"baseline_messages_per_s"`
	BaselineChannels map[string]float64 `json:"baseline_channel_messages_per_s"`
	Ratio            float64            `json:"ratio"`
	// SendRatio is the campaign's send rate over the loop's: the ratio
	// without the campaign's waits after its last new send (the e-mails'
	// bounce window, receipts, the later rungs' resolutions).
	SendRatio float64 `json:"send_ratio"`
	// CPUMsPerMessage is the whole process's CPU time (worker, embedded
	// Temporal, store, peers, API) over the campaign, a millisecond per
	// message; BaselineCPUMsPerMessage the same over the loop. Steadier
	// than a rate on a shared machine, and it says where a slip comes
	// from: the peers cost the same in both.
	CPUMsPerMessage         float64 `json:"cpu_ms_per_message"`
	BaselineCPUMsPerMessage float64 `json:"baseline_cpu_ms_per_message"`
	// Faults is the peers' fault profile of this run ("" fault-free).
	Faults string `json:"faults,omitempty"`
	// SendSeconds runs from the campaign's start to its last new send (a
	// claim of someone not tried before); SendPerS is the messages over it.
	SendSeconds float64 `json:"send_seconds"`
	SendPerS    float64 `json:"send_messages_per_s"`
	// InDoubt counts sends the ledger ever saw in doubt (settled as found or
	// sent again); SettleSeconds is from the last new send to the moment
	// none was left in doubt (0: none was by then).
	InDoubt       int     `json:"in_doubt"`
	SettleSeconds float64 `json:"settle_seconds"`
	// FaultRatio is this run's send rate over the fault-free run's, in the
	// same benchmark run (faulted runs only).
	FaultRatio float64 `json:"fault_ratio,omitempty"`
	// Duplicates are people who got a second text, call, on-site or push
	// notice, or a second e-mail the ledger does not mark possibly twice;
	// EmailRepeats the people who got a second e-mail (each marked, of the
	// PossiblyTwice the ledger marks: a relay that timed out may never
	// have taken the first).
	Duplicates    int `json:"duplicates"`
	EmailRepeats  int `json:"email_repeats"`
	PossiblyTwice int `json:"possibly_twice"`
}

func (c NotifyConfig) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format+"\n", args...)
	}
}

// Notify measures an incident's whole campaign through the embedded server.
func Notify(ctx context.Context, c NotifyConfig) ([]NotifyResult, error) {
	if c.BaselineSubjects <= 0 {
		c.BaselineSubjects = min(c.Subjects, 50_000)
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, err
	}
	subjects, err := synthFile(c.Dir, "notify-subjects", synth.Options{Subjects: c.Subjects, ScopeShare: 1, Seed: 7, Shuffled: c.Shuffled}, c.logf)
	if err != nil {
		return nil, err
	}
	var out []NotifyResult
	for _, b := range c.Backends {
		r, err := c.campaign(ctx, b, subjects, nil)
		if err != nil {
			return out, fmt.Errorf("%s: %w", b, err)
		}
		out = append(out, r)
		if c.PeerFaults == "" || c.UntilDrafts {
			continue
		}
		faults, err := devpeers.ParseFaults(c.PeerFaults, c.FaultSeed)
		if err != nil {
			return out, fmt.Errorf("--peer-faults: %w", err)
		}
		f, err := c.campaign(ctx, b, subjects, faults)
		if err != nil {
			return out, fmt.Errorf("%s with faults: %w", b, err)
		}
		f.Faults = c.PeerFaults
		if r.SendPerS > 0 {
			f.FaultRatio = f.SendPerS / r.SendPerS
		}
		out = append(out, f)
	}
	return out, nil
}

func (c NotifyConfig) campaign(ctx context.Context, backend, subjects string, faults *devpeers.Faults) (NotifyResult, error) {
	r := NotifyResult{Backend: backend, Subjects: c.Subjects, Channels: map[string]float64{}, BaselineChannels: map[string]float64{}}
	dir := filepath.Join(c.Dir, "notify-"+backend+"-"+strconv.FormatInt(time.Now().Unix(), 10))
	dsn, err := devDatabase(backend, c.PostgresDSN)
	if err != nil {
		return r, err
	}
	d, err := startDev(ctx, dir, dsn, app.DevConfig{BatchSize: c.BatchSize, BatchWindow: c.BatchWindow, PartitionWindow: c.PartitionWindow, SendLanes: c.SendLanes, SMTPConnections: c.SMTPConnections, PeerFaults: faults,
		ReceiptPoll: 200 * time.Millisecond})
	if err != nil {
		return r, err
	}
	defer d.stop()
	responder, pilot := d.responder, d.pilot()
	c.logf("%s: importing %d subjects", backend, c.Subjects)
	importing := time.Now()
	if err := d.importSubjects(ctx, c.Dir, subjects); err != nil {
		return r, err
	}
	r.ImportSeconds = time.Since(importing).Seconds()
	incYAML := autopilot.Incident(synth.LeakedSystem, time.Now())
	var opened map[string]string
	openedAt := time.Now()
	if err := responder.Do(ctx, "POST", "/api/v1/incidents", api.OpenRequest{File: "incident.yaml", YAML: incYAML}, &opened); err != nil {
		return r, err
	}
	id := opened["id"]
	var v api.View
	var started, lastNew, lastDoubt, counted time.Time
	var cpuAtStart time.Duration
	rows := 0
	quarter := 1
	for {
		if v, err = pilot.View(ctx, id); err != nil {
			return r, err
		}
		if v.Error != "" {
			return r, fmt.Errorf("incident %s: %s", id, v.Error)
		}
		if v.Status == api.StageAwaitApproval && r.DraftsSeconds == 0 {
			r.DraftsSeconds = time.Since(openedAt).Seconds()
			c.logf("%s: drafts ready %.1f s after the incident opened", backend, r.DraftsSeconds)
			if c.UntilDrafts {
				return r, nil
			}
		}
		if v.Status == api.StageAwaitApproval && r.BaselineSubjects == 0 && faults == nil {
			// While legal reads, the plain loop sends the same notices.
			c.logf("%s: baseline loop over %d people", backend, c.BaselineSubjects)
			if err := c.baseline(ctx, d, id, &r); err != nil {
				return r, err
			}
			c.logf("%s: baseline %d messages at %.0f/s", backend, r.BaselineMessages, r.BaselinePerS)
		}
		if v.Status == api.StageNotifying && started.IsZero() {
			resetPeakRSS()
			started, cpuAtStart = time.Now(), processCPU()
			c.logf("%s: campaign started", backend)
			if c.CPUProfile != "" {
				path := c.CPUProfile
				if faults != nil {
					path += ".faults"
				}
				stop, err := startCPUProfile(path)
				if err != nil {
					return r, err
				}
				defer stop()
			}
		}
		if !started.IsZero() && (time.Since(counted) >= time.Second || v.Status != api.StageNotifying) {
			// The ledger says when the last new send went out (a row
			// appeared) and when the last send in doubt was settled. Read
			// once a second: the count reads the whole ledger, and every
			// 200 ms it took 6% of the campaign's CPU (the profile in
			// docs/benchmarks.md), holding SQLite's one connection.
			counted = time.Now()
			counts, _, _, err := d.Store.CampaignCounts(ctx, id)
			if err != nil {
				return r, err
			}
			n, doubt := 0, 0
			for _, k := range counts {
				n += k.Queued + k.Sent + k.Delivered + k.Failed
				doubt += k.Unknown
			}
			now := time.Now()
			if n > rows {
				rows, lastNew = n, now
			}
			if doubt > 0 {
				lastDoubt = now
			}
			if v.Status != api.StageNotifying {
				break
			}
		}
		if v.Campaign != nil && quarter <= 3 && v.Campaign.Contacted >= quarter*c.Subjects/4 {
			r.RSSMBAt = append(r.RSSMBAt, rssMB())
			c.logf("%s: %d%% contacted, %.0f msg/s, RSS %.0f MB", backend, quarter*25, v.Campaign.PerSecond, rssMB())
			quarter++
		}
		if err := pilot.Step(ctx, v); err != nil {
			return r, err
		}
		time.Sleep(200 * time.Millisecond)
	}
	r.Seconds = time.Since(started).Seconds()
	r.SendSeconds = lastNew.Sub(started).Seconds()
	if lastDoubt.After(lastNew) {
		r.SettleSeconds = lastDoubt.Sub(lastNew).Seconds()
	}
	r.PeakMB = peakRSSMB()
	r.RSSMBAt = append(r.RSSMBAt, rssMB())
	counts, _, _, err := d.Store.CampaignCounts(ctx, id)
	if err != nil {
		return r, err
	}
	for ch, n := range counts {
		m := n.Sent + n.Delivered + n.Failed
		r.Messages += m
		r.Channels[ch] = float64(m) / r.Seconds
		r.InDoubt += n.Recovered + n.PossiblyTwice
		r.PossiblyTwice += n.PossiblyTwice
	}
	r.PerS = float64(r.Messages) / r.Seconds
	if r.SendSeconds > 0 {
		r.SendPerS = float64(r.Messages) / r.SendSeconds
	}
	if r.Duplicates, r.EmailRepeats, err = d.duplicates(ctx, id); err != nil {
		return r, err
	}
	if v.Campaign != nil {
		r.Partitions = v.Campaign.Partitions
	}
	c.logf("%s: campaign %d messages in %.1f s (%.0f/s); per channel %v msg/s; peak RSS %.0f MB", backend, r.Messages, r.Seconds, r.PerS, r.Channels, r.PeakMB)
	if r.BaselinePerS > 0 {
		r.Ratio, r.SendRatio = r.PerS/r.BaselinePerS, r.SendPerS/r.BaselinePerS
	}
	if r.Messages > 0 {
		r.CPUMsPerMessage = msPer(processCPU()-cpuAtStart, r.Messages)
	}
	return r, nil
}

// processCPU is this process's CPU time so far (0 where /proc is not).
func processCPU() time.Duration {
	t, err := proccpu.Of(os.Getpid())
	if err != nil {
		return 0
	}
	return t.Own
}

// msPer is d in milliseconds over n.
func msPer(d time.Duration, n int) float64 {
	return float64(d) / float64(time.Millisecond) / float64(n)
}

// baseline runs Loop with the dev worker's senders.
func (c NotifyConfig) baseline(ctx context.Context, d *benchDev, incidentID string, r *NotifyResult) error {
	reg, closeSenders := d.Senders()
	defer closeSenders()
	cpu := processCPU()
	res, err := loop.Run(ctx, reg, d.Store, incidentID, c.BaselineSubjects)
	if err != nil {
		return err
	}
	if res.Messages > 0 {
		r.BaselineCPUMsPerMessage = msPer(processCPU()-cpu, res.Messages)
	}
	r.BaselineSubjects, r.BaselineMessages, r.BaselinePerS = res.Subjects, res.Messages, res.PerS
	for ch, v := range res.Channels {
		r.BaselineChannels[ch] = v
	}
	return nil
}

// rssMB reads the current resident set (VmRSS) in megabytes.
func rssMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// startCPUProfile profiles this process into path until stop.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpu-profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpu-profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
