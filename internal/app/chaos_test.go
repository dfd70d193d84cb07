package app

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/client"
	"github.com/tocsin/tocsin/internal/devtools/autopilot"
	"github.com/tocsin/tocsin/internal/devtools/devpeers"
	"github.com/tocsin/tocsin/internal/inventory/synth"
	"github.com/tocsin/tocsin/internal/store"
)

// TestWorkerProcess is the worker that TestCampaignSurvivesKilledWorkers
// starts, kills with SIGKILL and starts again: this test binary, re-run.
func TestWorkerProcess(t *testing.T) {
	dir := os.Getenv("TOCSIN_TEST_WORKER_DIR")
	if dir == "" {
		t.Skip("the worker process of TestCampaignSurvivesKilledWorkers")
	}
	level := slog.LevelError
	if testing.Verbose() {
		level = slog.LevelWarn
	}
	timeout, _ := time.ParseDuration(os.Getenv("TOCSIN_TEST_WORKER_TIMEOUT"))
	err := RunDevWorker(context.Background(), DevWorkerConfig{DataDir: dir, PlaybookDir: os.Getenv("TOCSIN_TEST_WORKER_PLAYBOOKS"), ProviderTimeout: timeout,
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))})
	t.Fatal(err)
}

type workerProc struct {
	t       *testing.T
	dir, pb string
	timeout time.Duration
	cmd     *exec.Cmd
}

func (w *workerProc) start() {
	w.cmd = exec.Command(os.Args[0], "-test.run=^TestWorkerProcess$", "-test.timeout=0", "-test.v="+strconv.FormatBool(testing.Verbose()))
	w.cmd.Env = append(os.Environ(), "TOCSIN_TEST_WORKER_DIR="+w.dir, "TOCSIN_TEST_WORKER_PLAYBOOKS="+w.pb, "TOCSIN_TEST_WORKER_TIMEOUT="+w.timeout.String())
	w.cmd.Stderr = os.Stderr
	require.NoError(w.t, w.cmd.Start())
}

func (w *workerProc) kill() {
	require.NoError(w.t, w.cmd.Process.Kill()) // SIGKILL: no deferred cleanup, no graceful stop
	w.cmd.Wait()
}

// TestCampaignSurvivesKilledWorkers runs a campaign in a worker process and
// kills it with SIGKILL three times at random points of the campaign. Every
// person must get exactly one notice per channel and nobody may be missed.
// TOCSIN_CHAOS_SUBJECTS sets the size (default 3000; the figure in docs/campaigns.md is
// for 100000).
func TestCampaignSurvivesKilledWorkers(t *testing.T) {
	killWorkersDuringACampaign(t, chaos{subjects: envInt(t, "TOCSIN_CHAOS_SUBJECTS", 3000)})
}

// FaultProfile is the game-day profile of the fault crash test: the issue's
// profile, with the latencies scaled down with the senders' timeouts
// (faultTimeout) so that a slow answer still outlasts the sender.
const FaultProfile = "twilio.latency=3s@0.05,twilio.accept_then_timeout=0.02,twilio.status_500=0.05,twilio.reset=0.02," +
	"smtp.latency=3s@0.02,smtp.tempfail=0.05,smtp.accept_then_drop=0.01,onsite.status_503=0.05,onsite.reset=0.02"

const faultTimeout = 2 * time.Second

// TestAFaultyCampaignSurvivesKilledWorkers is the crash test against
// providers that are slow, fail, reset and accept then go silent, as on the
// day of a breach (FaultProfile), with three SIGKILLs: no second text, call
// or on-site notice; a second e-mail only to people the ledger says were
// possibly sent it twice; nobody with a contact missed; nothing left in
// doubt. TOCSIN_FAULT_SUBJECTS sets the size (default 2000).
func TestAFaultyCampaignSurvivesKilledWorkers(t *testing.T) {
	killWorkersDuringACampaign(t, chaos{subjects: envInt(t, "TOCSIN_FAULT_SUBJECTS", 2000), faults: FaultProfile, timeout: faultTimeout, bounces: 0.02})
}

type chaos struct {
	subjects int
	faults   string
	timeout  time.Duration
	// bounces is the share of e-mail addresses the SMTP peer bounces.
	bounces float64
}

func envInt(t testing.TB, name string, def int) int {
	if v := os.Getenv(name); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, name)
		return n
	}
	return def
}

func killWorkersDuringACampaign(t *testing.T, c chaos) {
	n := c.subjects
	seed := uint64(time.Now().UnixNano())
	t.Logf("%d subjects, seed %d, faults %q", n, seed, c.faults)
	rng := rand.New(rand.NewPCG(seed, 1))
	ctx := context.Background()
	dir := t.TempDir()
	pb := anyHourPlaybooks(t)
	faults, err := devpeers.ParseFaults(c.faults, int64(seed))
	require.NoError(t, err)
	started := time.Now()
	d, err := StartDev(ctx, DevConfig{DataDir: dir, Listen: "127.0.0.1:0", TemporalPort: 0, SMTPListen: "127.0.0.1:0", BatchSize: 100, ReceiptPoll: 100 * time.Millisecond,
		PlaybookDir: pb, ExternalWorker: true, PeerFaults: faults, ProviderTimeout: c.timeout, Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))})
	require.NoError(t, err)
	defer d.Stop()

	responder, legal := importSyntheticWith(t, d, synth.Options{Subjects: n, ScopeShare: 1, Seed: seed, BounceShare: c.bounces})

	worker := &workerProc{t: t, dir: dir, pb: pb, timeout: c.timeout}
	worker.start()
	defer func() { worker.kill() }()

	incYAML := autopilot.Incident(synth.LeakedSystem, time.Now())
	id := openIncident(t, responder, incYAML)

	// Kill when the ledger passes three random points of the campaign.
	marks := []float64{0.1 + 0.2*rng.Float64(), 0.4 + 0.2*rng.Float64(), 0.7 + 0.2*rng.Float64()}
	kills := 0
	pilot := &autopilot.Pilot{Responder: responder, Legal: legal}
	perPerson := 5 * time.Millisecond
	if c.faults != "" {
		perPerson = 30 * time.Millisecond // retries, holds and the bounce window
	}
	deadline := time.Now().Add(10*time.Minute + time.Duration(n)*perPerson)
	var v api.View
	for {
		require.True(t, time.Now().Before(deadline), "incident %s did not close: %s %s", id, v.Status, v.Error)
		v = api.View{}
		require.NoError(t, responder.Do(ctx, "GET", "/api/v1/incidents/"+id, nil, &v))
		require.Empty(t, v.Error)
		if v.Status == api.StageClosed {
			break
		}
		if err := pilot.Step(ctx, v); err != nil {
			responder.Do(ctx, "GET", "/api/v1/incidents/"+id, nil, &v)
			t.Fatalf("steering %s: %v (now %s %s; last events %+v)", id, err, v.Status, v.Error, v.Timeline[max(0, len(v.Timeline)-4):])
		}
		if kills < len(marks) && v.Status == api.StageNotifying && v.Campaign != nil {
			if contacted := v.Campaign.Contacted; float64(contacted) >= marks[kills]*float64(n) {
				worker.kill()
				kills++
				t.Logf("kill -9 #%d at %d/%d people contacted", kills, contacted, n)
				time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond)
				worker.start()
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	require.Equal(t, 3, kills, "every kill must land inside the campaign")

	// Exactly one notice per person and channel, at the peers themselves.
	tally, repeats, err := d.Outbox.Tally(ctx, id)
	require.NoError(t, err)
	got := map[string]bool{}
	for k, c := range tally {
		require.Equal(t, 1, c, "%s got %d %s notices", k[0], c, k[1])
		got[k[0]] = true
	}
	// Nobody missed: everyone with a contact got a notice, and the ledger
	// holds no send left in doubt.
	counts, _, _, err := d.Store.CampaignCounts(ctx, id)
	require.NoError(t, err)
	for ch, c := range counts {
		require.Zero(t, c.Queued, "%s sends still claimed", ch)
		require.Zero(t, c.Unknown, "%s sends left in doubt", ch)
	}
	// Whoever's e-mail bounced was not counted as reached by it: the ladder
	// went on to the next rung for them (SMS for those with a phone).
	entries, err := d.Outbox.List(ctx, id)
	require.NoError(t, err)
	bounced := map[string]bool{}
	for _, e := range entries {
		if e.Channel == "email" && strings.HasSuffix(e.To, ".bounce.test") {
			bounced[e.SubjectID] = true
		}
	}
	if c.bounces > 0 {
		require.NotEmpty(t, bounced, "the inventory has addresses that bounce")
	}
	missed, movedOn, onlyBounced, reachedNow, noContact := 0, 0, 0, 0, 0
	after := ""
	for {
		page, err := d.Store.AffectedPage(ctx, id, after, 1000)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		for _, s := range page {
			after = s.SubjectID
			if len(s.Channels) > 0 && !got[s.SubjectID] {
				missed++
			}
			if s.ReachedBy != "" {
				reachedNow++
			}
			if len(s.Channels) == 0 {
				noContact++
			}
			if !bounced[s.SubjectID] {
				continue
			}
			row, err := d.Store.GetDelivery(ctx, id, s.SubjectID, "email")
			require.NoError(t, err)
			require.Equal(t, store.StatusFailed, row.Status, "%s's e-mail bounced", s.SubjectID)
			require.Contains(t, row.Error, "hard bounce 5.1.1")
			require.NotContains(t, s.ReachedBy, "email", "%s was not reached by the e-mail that bounced", s.SubjectID)
			switch {
			case !slices.Contains(s.Channels, "onsite") && slices.Contains(s.Channels, "sms"):
				require.True(t, tally[[2]string{s.SubjectID, "sms"}] == 1, "%s moved on to SMS", s.SubjectID)
				movedOn++
			case len(s.Channels) == 1:
				onlyBounced++ // an address that bounced was all there was
			}
		}
	}
	require.Zero(t, missed, "people with a contact who got nothing")
	require.Equal(t, reachedNow, v.Notifications.Reached, "the incident's count is the ledger's")
	require.Equal(t, n-noContact, len(got), "everyone with a contact got a notice")
	require.Equal(t, n-noContact-onlyBounced, v.Notifications.Reached, "and was reached, but those whose only address bounced")
	require.Equal(t, noContact+onlyBounced, v.Scope.Unreachable, "who the announcement must reach")
	t.Logf("%d e-mails bounced; %d of those people moved on to SMS, %d had no other contact", len(bounced), movedOn, onlyBounced)
	require.NotNil(t, v.Campaign)
	// A second e-mail reached only people the ledger says were possibly
	// sent it twice; the other peers keep one by key, so a person sees one.
	repeated, err := d.Outbox.Repeated(ctx, id)
	require.NoError(t, err)
	twice := 0
	for k := range repeated {
		if k[1] != "email" {
			continue
		}
		twice++
		row, err := d.Store.GetDelivery(ctx, id, k[0], k[1])
		require.NoError(t, err)
		require.Equal(t, store.DoubtResent, row.Doubt, "%s got a second e-mail the ledger does not own up to", k[0])
	}
	require.LessOrEqual(t, twice, counts["email"].PossiblyTwice)
	require.LessOrEqual(t, repeats, v.Campaign.Recovered+counts["email"].PossiblyTwice+counts["onsite"].Recovered,
		"only a send recovered after a kill or a fault may reach a peer again")
	t.Logf("%s: %d people reached %v, %d without contact; %d sends recovered; e-mails possibly twice %d (second copies seen %d); settled once: %v; %d redeliveries kept once by key",
		time.Since(started).Round(time.Second), v.Notifications.Reached, v.Notifications.ByChannel, v.Scope.Unreachable, v.Campaign.Recovered,
		counts["email"].PossiblyTwice, twice, recoveredByChannel(counts), repeats)
}

func recoveredByChannel(counts map[string]store.ChannelCounts) map[string]int {
	out := map[string]int{}
	for ch, c := range counts {
		if c.Recovered > 0 {
			out[ch] = c.Recovered
		}
	}
	return out
}

// importSynthetic imports n synthetic people, every one of them affected by
// an incident on synth.LeakedSystem, and returns a responder and legal.
func importSynthetic(t *testing.T, d *Dev, n int, seed uint64) (responder, legal *client.Client) {
	return importSyntheticWith(t, d, synth.Options{Subjects: n, ScopeShare: 1, Seed: seed})
}

func importSyntheticWith(t *testing.T, d *Dev, o synth.Options) (responder, legal *client.Client) {
	t.Helper()
	dir := t.TempDir()
	systems, subjects := filepath.Join(dir, "systems.yaml"), filepath.Join(dir, "subjects.csv")
	require.NoError(t, os.WriteFile(systems, []byte(synth.Systems), 0o600))
	f, err := os.Create(subjects)
	require.NoError(t, err)
	require.NoError(t, synth.WriteSubjects(f, o))
	require.NoError(t, f.Close())
	responder, legal = as(d, "TOCSIN_TOKEN_RESPONDER"), as(d, "TOCSIN_TOKEN_LEGAL")
	require.NoError(t, responder.ImportInventory(context.Background(), systems, subjects, 0, nil, nil))
	return responder, legal
}
