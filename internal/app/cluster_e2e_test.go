package app

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdkclient "go.temporal.io/sdk/client"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/client"
	"github.com/tocsin/tocsin/internal/codec"
	"github.com/tocsin/tocsin/internal/devtools/autopilot"
	"github.com/tocsin/tocsin/internal/devtools/bench/loop"
	"github.com/tocsin/tocsin/internal/devtools/devpeers"
	"github.com/tocsin/tocsin/internal/inventory/synth"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/store/storetest"
)

// proc is one process of the cluster, its output kept in a file that a
// failing test prints.
type proc struct {
	t    testing.TB
	name string
	args []string
	env  []string
	log  string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
}

func (p *proc) start() {
	p.t.Helper()
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	require.NoError(p.t, err)
	p.cmd = exec.Command(p.args[0], p.args[1:]...)
	p.cmd.Env = append(os.Environ(), p.env...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	// A test binary that dies (a timeout) takes its cluster with it.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(p.t, p.cmd.Start(), p.name)
	f.Close()
	done, cmd := make(chan struct{}), p.cmd
	p.done = done
	go func() { cmd.Wait(); close(done) }()
}

// kill is a crash: SIGKILL, no cleanup.
func (p *proc) kill() {
	if p.cmd != nil {
		p.cmd.Process.Kill()
		<-p.done
	}
	p.cmd = nil
}

// stop is a deploy's restart: SIGTERM, then the process's own shutdown.
func (p *proc) stop() {
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
	p.cmd = nil
}

// tail is the end of the process's output.
func (p *proc) tail(lines int) string {
	data, _ := os.ReadFile(p.log)
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}

// tempCluster is a Temporal cluster of four processes on PostgreSQL, with
// `tocsin peers`, `tocsin serve` and `tocsin worker`s beside it, as a
// production deployment runs them, on loopback.
type tempCluster struct {
	t        testing.TB
	dir      string
	bin      string
	frontend string
	services map[string]*proc
	grpcPort map[string]int
	peers    *proc
	serve    *proc
	workers  []*proc
	peersEnv map[string]string
	env      []string // peers.env, for the tocsin processes
	metrics  []string // each worker's metrics address
	// taken are the ports handed out so far: one not listened on yet
	// (a process still starting) must not be handed out twice.
	taken map[int]bool
	// spent is the CPU time each process used in the last metered campaign.
	spent    map[string]time.Duration
	config   string
	url      string
	database string
	all      []*proc
}

// lowPort is a free loopback port below 32768: Temporal keeps membership
// ports in a PostgreSQL smallint, and a higher one kills the service.
func lowPort(t testing.TB, taken map[int]bool) int {
	t.Helper()
	for range 1000 {
		p := 20000 + rand.IntN(12000)
		if taken[p] {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		l.Close()
		taken[p] = true
		return p
	}
	t.Fatal("no free port below 32768")
	return 0
}

// buildBinaries builds tocsin, temporal-server and temporal-sql-tool from
// this module (the tool block in go.mod pins the last two).
func buildBinaries(t testing.TB, dir string) {
	t.Helper()
	for _, b := range []struct{ out, pkg string }{{"tocsin", "github.com/tocsin/tocsin/cmd/tocsin"}, {"temporal-server", "go.temporal.io/server/cmd/server"}, {"temporal-sql-tool", "go.temporal.io/server/cmd/tools/sql"}} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, b.out), b.pkg)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "go build %s: %s", b.pkg, out)
	}
}

// deployTemporal holds the Temporal server's configuration template and
// schema script that deploy/ ships: the cluster test runs those very files.
const deployTemporal = "../../deploy/temporal"

// startCluster creates the Temporal schemas on the PostgreSQL server of
// TOCSIN_TEST_POSTGRES, starts frontend, history, matching and worker as
// four processes, registers the namespace, then starts the peers, the API
// and workers (each worker process is started later by startWorker).
func startCluster(t testing.TB, workers int, extraConfig string) *tempCluster {
	t.Helper()
	base := os.Getenv("TOCSIN_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("TOCSIN_REQUIRE_POSTGRES") == "1" {
			t.Fatal("TOCSIN_REQUIRE_POSTGRES=1 but TOCSIN_TEST_POSTGRES is not set")
		}
		t.Skip("the cluster test runs Temporal on PostgreSQL: set TOCSIN_TEST_POSTGRES (.ci/run does)")
	}
	c := &tempCluster{t: t, dir: t.TempDir(), services: map[string]*proc{}, grpcPort: map[string]int{}, taken: map[int]bool{}}
	c.bin = filepath.Join(c.dir, "bin")
	buildBinaries(t, c.bin)
	t.Cleanup(func() {
		for i := len(c.all) - 1; i >= 0; i-- {
			c.all[i].kill()
		}
		if t.Failed() {
			for _, p := range c.all {
				t.Logf("--- %s (last lines)\n%s", p.name, p.tail(30))
			}
			// The whole logs, for whoever investigates (CI keeps /tmp).
			keep := filepath.Join(os.TempDir(), fmt.Sprintf("tocsin-cluster-logs-%d", time.Now().Unix()))
			if os.MkdirAll(keep, 0o700) == nil {
				for _, p := range c.all {
					if data, err := os.ReadFile(p.log); err == nil {
						os.WriteFile(filepath.Join(keep, p.name+".log"), data, 0o600)
					}
				}
				t.Logf("full logs in %s", keep)
			}
		}
	})

	// Temporal's two databases, made and migrated by deploy's schema script
	// (Temporal's own schema tool, twice: a second run must find them done).
	u, err := url.Parse(base)
	require.NoError(t, err)
	pass, _ := u.User.Password()
	host, port, err := net.SplitHostPort(u.Host)
	require.NoError(t, err)
	db := fmt.Sprintf("temporal_%d", rand.Uint32())
	admin, err := sql.Open("pgx", base)
	require.NoError(t, err)
	t.Cleanup(func() {
		for _, name := range []string{db, db + "_visibility"} {
			admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		}
		admin.Close()
	})
	dbEnv := []string{"TEMPORAL_DB_HOST=" + host, "TEMPORAL_DB_PORT=" + port, "TEMPORAL_DB_ADDR=" + u.Host, "TEMPORAL_DB_USER=" + u.User.Username(), "TEMPORAL_DB_PASSWORD=" + pass,
		"TEMPORAL_DB=" + db, "TEMPORAL_VISIBILITY_DB=" + db + "_visibility"}
	for range 2 {
		schema := exec.Command("sh", filepath.Join(deployTemporal, "schema.sh"))
		schema.Env = append(os.Environ(), append(dbEnv, "PATH="+c.bin+string(os.PathListSeparator)+os.Getenv("PATH"))...)
		out, err := schema.CombinedOutput()
		require.NoError(t, err, "deploy/temporal/schema.sh: %s", out)
	}

	ports := make([]int, 9)
	for i := range ports {
		ports[i] = lowPort(t, c.taken)
	}
	dynamic, err := filepath.Abs(filepath.Join(deployTemporal, "dynamicconfig.yaml"))
	require.NoError(t, err)
	serverConfig, err := filepath.Abs(filepath.Join(deployTemporal, "temporal.yaml"))
	require.NoError(t, err)
	serverEnv := append(dbEnv, "TEMPORAL_DYNAMIC_CONFIG="+dynamic, "TEMPORAL_BIND_ON_IP=127.0.0.1", "TEMPORAL_BROADCAST_ADDRESS=127.0.0.1",
		fmt.Sprintf("TEMPORAL_FRONTEND_ADDRESS=127.0.0.1:%d", ports[0]),
		fmt.Sprintf("TEMPORAL_FRONTEND_PORT=%d", ports[0]), fmt.Sprintf("TEMPORAL_FRONTEND_MEMBERSHIP_PORT=%d", ports[1]), fmt.Sprintf("TEMPORAL_FRONTEND_HTTP_PORT=%d", ports[2]),
		fmt.Sprintf("TEMPORAL_HISTORY_PORT=%d", ports[3]), fmt.Sprintf("TEMPORAL_HISTORY_MEMBERSHIP_PORT=%d", ports[4]),
		fmt.Sprintf("TEMPORAL_MATCHING_PORT=%d", ports[5]), fmt.Sprintf("TEMPORAL_MATCHING_MEMBERSHIP_PORT=%d", ports[6]),
		fmt.Sprintf("TEMPORAL_WORKER_PORT=%d", ports[7]), fmt.Sprintf("TEMPORAL_WORKER_MEMBERSHIP_PORT=%d", ports[8]))
	c.frontend = fmt.Sprintf("127.0.0.1:%d", ports[0])
	// One service at a time: the first initialises the cluster's metadata
	// in the fresh database, and services starting together race for it
	// (the loser exits with "SaveClusterMetadata encountered version
	// mismatch"). Each is up when its gRPC port answers.
	for _, svc := range []struct {
		name string
		port int
	}{{"history", ports[3]}, {"matching", ports[5]}, {"frontend", ports[0]}, {"worker", ports[7]}} {
		p := c.add(svc.name, filepath.Join(c.bin, "temporal-server"), "--config-file", serverConfig, "--allow-no-auth", "start", "--service", svc.name)
		p.env = serverEnv
		c.services[svc.name], c.grpcPort[svc.name] = p, svc.port
		p.start()
		c.waitListening(p, svc.port)
	}

	// The peers, then the API and the workers aimed at them by peers.env.
	bounces := fmt.Sprintf("127.0.0.1:%d", lowPort(t, c.taken))
	c.peers = c.add("peers", filepath.Join(c.bin, "tocsin"), "peers", "--data", filepath.Join(c.dir, "peers"), "--listen", "127.0.0.1:0", "--smtp-listen", "127.0.0.1:0", "--apns-listen", "127.0.0.1:0", "--bounce-relay", bounces)
	c.peers.start()
	envFile := filepath.Join(c.dir, "peers", "peers.env")
	require.Eventually(t, func() bool { _, err := os.Stat(envFile); return err == nil }, 30*time.Second, 50*time.Millisecond, "peers.env")
	c.peersEnv, err = loadOrCreateEnv(envFile, nil)
	require.NoError(t, err)
	// Besides peers.env, serve and the workers share the key that signs
	// who asks for each update.
	env := []string{"TOCSIN_ACTOR_KEY=" + testActorKey}
	for k, v := range c.peersEnv {
		env = append(env, k+"="+v)
	}

	c.database = storetest.DSN(t, "postgres")
	apiPort := lowPort(t, c.taken)
	listen := fmt.Sprintf("127.0.0.1:%d", apiPort)
	c.url = "http://" + listen
	c.config = filepath.Join(c.dir, "tocsin.yaml")
	keys := filepath.Join(c.dir, "codec.keys")
	_, err = codec.AppendKey(keys, time.Now())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(c.config, fmt.Appendf(nil, `listen: %s
public_url: http://%s
database: %s
playbook_dir: %s
temporal: {address: %s, namespace: tocsin, codec_key_file: %s}
twilio: {account_sid: ACreplaced-by-peers-env, from: "+15005550006"}
smtp: {addr: replaced.by.peers.env:25, from: "Security Team <security@example.com>", bounce_address: bounces@example.com}
bounces: {listen: %s, allow: [127.0.0.1]}
onsite: {webhook_url: https://replaced.by.peers.env/}
announce: {webhook_url: https://replaced.by.peers.env/}
%s
`, listen, listen, c.database, anyHourPlaybooks(t), c.frontend, keys, bounces, extraConfig), 0o600))
	// The namespace, registered as an operator would, once the frontend answers.
	require.Eventually(t, func() bool {
		ensure := exec.Command(filepath.Join(c.bin, "tocsin"), "namespace", "ensure", "--config", c.config, "--retention", "72h")
		ensure.Env = append(os.Environ(), env...)
		out, err := ensure.CombinedOutput()
		if err != nil {
			t.Logf("namespace ensure: %v: %s", err, out)
			return false
		}
		return strings.Contains(string(out), "namespace tocsin registered; closed workflows are kept 72h0m0s") ||
			strings.Contains(string(out), "namespace tocsin exists")
	}, 2*time.Minute, time.Second, "tocsin namespace ensure")
	c.waitForNamespace("tocsin")
	c.serve = c.add("serve", filepath.Join(c.bin, "tocsin"), "serve", "--config", c.config)
	c.serve.env = env
	c.serve.start()
	c.env = env
	for range workers {
		c.startWorker()
	}
	c.waitListening(c.serve, apiPort)
	return c
}

// waitListening waits until the process listens on port, and fails at once
// with its output if it exits first.
func (c *tempCluster) waitListening(p *proc, port int) {
	c.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			conn.Close()
			return
		}
		select {
		case <-p.done:
			c.t.Fatalf("%s exited while starting:\n%s", p.name, p.tail(10))
		default:
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s never listened on %d:\n%s", p.name, port, p.tail(10))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startWorker starts one more `tocsin worker` process.
// Its /metrics is at c.metrics[i].
func (c *tempCluster) startWorker() *proc {
	addr := fmt.Sprintf("127.0.0.1:%d", lowPort(c.t, c.taken))
	w := c.add(fmt.Sprintf("worker-%d", len(c.workers)+1), filepath.Join(c.bin, "tocsin"), "worker", "--config", c.config, "--metrics-listen", addr)
	w.env = c.env
	w.start()
	c.workers = append(c.workers, w)
	c.metrics = append(c.metrics, addr)
	return w
}

func (c *tempCluster) add(name string, args ...string) *proc {
	p := &proc{t: c.t, name: name, args: args, log: filepath.Join(c.dir, name+".log")}
	c.all = append(c.all, p)
	return p
}

// waitForNamespace waits until a workflow can start in the namespace:
// every service's namespace cache has it.
func (c *tempCluster) waitForNamespace(name string) {
	t := c.t
	tc, err := sdkclient.Dial(sdkclient.Options{HostPort: c.frontend, Namespace: name})
	require.NoError(t, err)
	defer tc.Close()
	require.Eventually(t, func() bool {
		run, err := tc.ExecuteWorkflow(context.Background(), sdkclient.StartWorkflowOptions{ID: "cluster-probe-" + strconv.Itoa(rand.Int()), TaskQueue: "cluster-probe"}, "Probe")
		if err != nil {
			return false
		}
		tc.TerminateWorkflow(context.Background(), run.GetID(), run.GetRunID(), "probe")
		return true
	}, 60*time.Second, 500*time.Millisecond, "the namespace never became usable")
}

// outbox is what the peers received for one incident.
func (c *tempCluster) outbox(id string) []devpeers.Entry {
	c.t.Helper()
	var entries []devpeers.Entry
	require.NoError(c.t, (&client.Client{Server: c.peersEnv["TOCSIN_PEERS"], Token: c.peersEnv["TOCSIN_PEERS_TOKEN"]}).Do(context.Background(), "GET", "/outbox?incident="+url.QueryEscape(id), nil, &entries))
	return entries
}

// TestTocsinRunsOnATemporalCluster is the production shape on loopback: a
// Temporal cluster of four processes on PostgreSQL, `tocsin peers`, `tocsin
// serve` and two `tocsin worker` processes on the PostgreSQL store. The
// basic scenario runs to closed; then a campaign (TOCSIN_CLUSTER_SUBJECTS,
// default 5000) during which one worker is killed with SIGKILL and the
// history service is restarted: every person with a contact gets exactly
// one notice per channel, nobody is missed, and the other worker finishes.
func TestTocsinRunsOnATemporalCluster(t *testing.T) {
	ctx := context.Background()
	started := time.Now()
	// Two partitions of small batches: the operator's sizing reaches the
	// campaign, and both workers have batches to share.
	c := startCluster(t, 2, "campaign: {partition_size: 2500, batch_size: 100}\nworker: {max_concurrent_activities: 8}")
	t.Logf("cluster up in %s", time.Since(started).Round(time.Second))
	crew := seedCrew(t, c.database, c.url)

	var want expected
	raw, err := os.ReadFile(filepath.Join(scenario, "expected.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &want))
	v := runBasicToClosed(t, crew)
	require.Equal(t, want.Unreachable, v.Notifications.Failed)
	checkOutbox(t, want, c.outbox(v.ID))
	t.Logf("basic scenario closed at %s", time.Since(started).Round(time.Second))

	n := envInt(t, "TOCSIN_CLUSTER_SUBJECTS", 5000)
	dir := t.TempDir()
	systems, subjects := filepath.Join(dir, "systems.yaml"), filepath.Join(dir, "subjects.csv")
	require.NoError(t, os.WriteFile(systems, []byte(synth.Systems), 0o600))
	f, err := os.Create(subjects)
	require.NoError(t, err)
	require.NoError(t, synth.WriteSubjects(f, synth.Options{Subjects: n, ScopeShare: 1, Seed: 7}))
	require.NoError(t, f.Close())
	require.NoError(t, crew.responder.ImportInventory(ctx, systems, subjects, 0, nil, nil))
	id := openIncident(t, crew.responder, autopilot.Incident(synth.LeakedSystem, time.Now()))

	pilot := &autopilot.Pilot{Responder: crew.responder, Legal: crew.legal}
	killed, restarted, killedAt := false, false, 0
	sendsSeen := 0.0
	deadline := time.Now().Add(10*time.Minute + time.Duration(n)*5*time.Millisecond)
	for {
		require.True(t, time.Now().Before(deadline), "incident %s did not close: %s %s", id, v.Status, v.Error)
		v = api.View{}
		if err := crew.responder.Do(ctx, "GET", "/api/v1/incidents/"+id, nil, &v); err != nil {
			t.Logf("reading %s: %v (the history service may be restarting)", id, err)
			time.Sleep(500 * time.Millisecond)
			continue
		}
		require.Empty(t, v.Error)
		if v.Status == api.StageClosed {
			break
		}
		if err := pilot.Step(ctx, v); err != nil {
			t.Logf("steering %s: %v (retried)", id, err)
		}
		if v.Status == api.StageNotifying && v.Campaign != nil {
			require.Equal(t, (n+2499)/2500, v.Campaign.Partitions, "campaign.partition_size from the config")
			switch contacted := v.Campaign.Contacted; {
			case !killed && contacted >= n/8 && sendsSeen == 0:
				// The survivor's /metrics counts sends as they happen.
				sendsSeen = sendsCounted(t, scrape(t, c.metrics[1]))
				t.Logf("worker-2 /metrics: %.0f sends at %d/%d people contacted", sendsSeen, contacted, n)
			case !killed && contacted >= n/4:
				c.workers[0].kill()
				killed, killedAt = true, contacted
				t.Logf("kill -9 worker-1 at %d/%d people contacted", contacted, n)
			case killed && !restarted && contacted >= killedAt+n/4:
				c.services["history"].stop()
				c.services["history"].start()
				c.waitListening(c.services["history"], c.grpcPort["history"])
				restarted = true
				t.Logf("history service restarted at %d/%d people contacted", contacted, n)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	require.True(t, killed && restarted, "the kill and the restart must land inside the campaign")
	require.Positive(t, sendsSeen, "a worker's /metrics showed its sends during the campaign")
	require.Greater(t, sendsCounted(t, scrape(t, c.metrics[1])), sendsSeen, "and more once the other worker was gone")

	// One notice per person and channel, as the peers received them.
	entries := c.outbox(id)
	tally := map[[2]string]int{}
	for _, e := range entries {
		if e.SubjectID != "" {
			tally[[2]string{e.SubjectID, e.Channel}]++
		}
	}
	got := map[string]bool{}
	for k, count := range tally {
		require.Equal(t, 1, count, "%s got %d %s notices", k[0], count, k[1])
		got[k[0]] = true
	}
	st, err := store.Open(c.database)
	require.NoError(t, err)
	defer st.Close()
	counts, _, _, err := st.CampaignCounts(ctx, id)
	require.NoError(t, err)
	for ch, cc := range counts {
		require.Zero(t, cc.Queued, "%s sends still claimed", ch)
		require.Zero(t, cc.Unknown, "%s sends left in doubt", ch)
	}
	missed, withContact := 0, 0
	for after := ""; ; {
		page, err := st.AffectedPage(ctx, id, after, 1000)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		for _, s := range page {
			after = s.SubjectID
			if len(s.Channels) > 0 {
				withContact++
				if !got[s.SubjectID] {
					missed++
				}
			}
		}
	}
	require.Zero(t, missed, "people with a contact who got nothing")
	require.Equal(t, withContact, len(got))
	t.Logf("%d people, %d reached %v, in %s (cluster, scenario and campaign)", n, v.Notifications.Reached, v.Notifications.ByChannel, time.Since(started).Round(time.Second))
}

// sendsCounted adds up a /metrics page's tocsin_sends_total series.
func sendsCounted(t testing.TB, page string) float64 {
	total := 0.0
	for _, line := range strings.Split(page, "\n") {
		if strings.HasPrefix(line, "tocsin_sends_total{") {
			v, err := strconv.ParseFloat(line[strings.LastIndex(line, " ")+1:], 64)
			require.NoError(t, err, line)
			total += v
		}
	}
	return total
}

// campaignOnCluster imports n synthetic people (all affected), runs an
// incident to closed, and returns the campaign's messages per second: every
// send the ledger holds, over the time from its first send to its last.
func campaignOnCluster(tb testing.TB, crew scenarioCrew, database string, n int, seed uint64) (perS float64, messages int, id string) {
	return meteredCampaign(tb, nil, crew, database, n, seed)
}

// meteredCampaign is campaignOnCluster; with c, it also reads what each of
// c's processes spent on the CPU from legal's approval (the status
// "notifying") to the close, into c.spent.
func meteredCampaign(tb testing.TB, c *tempCluster, crew scenarioCrew, database string, n int, seed uint64) (perS float64, messages int, id string) {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	systems, subjects := filepath.Join(dir, "systems.yaml"), filepath.Join(dir, "subjects.csv")
	require.NoError(tb, os.WriteFile(systems, []byte(synth.Systems), 0o600))
	f, err := os.Create(subjects)
	require.NoError(tb, err)
	require.NoError(tb, synth.WriteSubjects(f, synth.Options{Subjects: n, ScopeShare: 1, Seed: seed}))
	require.NoError(tb, f.Close())
	require.NoError(tb, crew.responder.ImportInventory(ctx, systems, subjects, 0, nil, nil))
	id = openIncident(tb, crew.responder, autopilot.Incident(synth.LeakedSystem, time.Now()))
	pilot := &autopilot.Pilot{Responder: crew.responder, Legal: crew.legal}
	deadline := time.Now().Add(10*time.Minute + time.Duration(n)*5*time.Millisecond)
	var before map[string]time.Duration
	for {
		require.True(tb, time.Now().Before(deadline), "incident %s did not close", id)
		v, err := pilot.View(ctx, id)
		require.NoError(tb, err)
		require.Empty(tb, v.Error)
		if c != nil && before == nil && v.Status == api.StageNotifying {
			before = c.cpuNow(tb)
		}
		if v.Status == api.StageClosed {
			if c != nil {
				require.NotNil(tb, before, "the campaign was never seen notifying")
				c.spent = cpuSpent(before, c.cpuNow(tb))
			}
			break
		}
		require.NoError(tb, pilot.Step(ctx, v))
		time.Sleep(200 * time.Millisecond)
	}
	st, err := store.Open(database)
	require.NoError(tb, err)
	defer st.Close()
	counts, first, last, err := st.CampaignCounts(ctx, id)
	require.NoError(tb, err)
	for _, c := range counts {
		messages += c.Sent + c.Delivered + c.Failed
	}
	start, _ := time.Parse(time.RFC3339Nano, first)
	end, _ := time.Parse(time.RFC3339Nano, last)
	return float64(messages) / end.Sub(start).Seconds(), messages, id
}

// BenchmarkCampaignOnACluster measures a campaign's throughput on the
// cluster with one `tocsin worker` and then with two, beside the same SDK
// calls to the same peers in a plain loop (no Temporal, no ledger):
//
//	TOCSIN_TEST_POSTGRES=... go test -run '^$' -bench CampaignOnACluster -benchtime 1x ./internal/app/
//
// TOCSIN_CLUSTER_BENCH_SUBJECTS sets the campaign size (default 20000).
func BenchmarkCampaignOnACluster(b *testing.B) {
	n := envInt(b, "TOCSIN_CLUSTER_BENCH_SUBJECTS", 20000)
	c := startCluster(b, 1, "")
	crew := seedCrew(b, c.database, c.url)
	for range b.N {
		one, msgs1, _ := meteredCampaign(b, c, crew, c.database, n, 11)
		table, campaignMS := cpuTable(c.spent, msgs1)
		b.Logf("one worker: %.0f msg/s (%d messages); CPU from approval to close:\n%s", one, msgs1, table)
		c.startWorker()
		two, msgs2, _ := campaignOnCluster(b, crew, c.database, n, 12)
		b.Logf("two workers: %.0f msg/s (%d messages)", two, msgs2)

		for k, v := range c.peersEnv {
			b.Setenv(k, v)
		}
		b.Setenv("TOCSIN_ACTOR_KEY", testActorKey)
		cfg, err := LoadConfig(c.config) // the workers' own senders, aimed at the same peers
		require.NoError(b, err)
		// The loop notifies the people of a third incident, opened on the
		// same inventory and left waiting for legal.
		id := openIncident(b, crew.responder, autopilot.Incident(synth.LeakedSystem, time.Now()))
		waitStatus(b, crew.responder, id, api.StageAwaitApproval)
		reg, _, closeSenders := cfg.Senders()
		st, err := store.Open(c.database)
		require.NoError(b, err)
		before := c.cpuNow(b)
		plain, err := loop.Run(context.Background(), reg, st, id, n/2)
		loopSpent := cpuSpent(before, c.cpuNow(b))
		closeSenders()
		st.Close()
		require.NoError(b, err)

		b.ReportMetric(one, "msg/s-1-worker")
		b.ReportMetric(two, "msg/s-2-workers")
		b.ReportMetric(plain.PerS, "msg/s-loop")
		b.ReportMetric(one/plain.PerS, "ratio-1-worker")
		b.ReportMetric(two/2/plain.PerS, "ratio-per-worker-of-2")
		loopTable, loopMS := cpuTable(loopSpent, plain.Messages)
		b.Logf("plain loop: CPU over its %d messages:\n%s", plain.Messages, loopTable)
		b.ReportMetric(campaignMS, "cpu-ms/msg-campaign")
		b.ReportMetric(loopMS, "cpu-ms/msg-loop")
		b.Logf("%d people: one worker %.0f msg/s (%d messages), two workers %.0f msg/s (%d), plain loop %.0f msg/s (%d messages, %v)",
			n, one, msgs1, two, msgs2, plain.PerS, plain.Messages, plain.Channels)
	}
}
