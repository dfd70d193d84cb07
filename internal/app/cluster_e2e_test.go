package app

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
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
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	sdkclient "go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/autopilot"
	"github.com/tocsin/tocsin/internal/client"
	"github.com/tocsin/tocsin/internal/devpeers"
	"github.com/tocsin/tocsin/internal/inventory/synth"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/store/storetest"
	"github.com/tocsin/tocsin/workflows"
)

// proc is one process of the cluster, its output kept in a file that a
// failing test prints.
type proc struct {
	t    *testing.T
	name string
	args []string
	env  []string
	log  string
	cmd  *exec.Cmd
}

func (p *proc) start() {
	p.t.Helper()
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	require.NoError(p.t, err)
	p.cmd = exec.Command(p.args[0], p.args[1:]...)
	p.cmd.Env = append(os.Environ(), p.env...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	require.NoError(p.t, p.cmd.Start(), p.name)
	f.Close()
}

// kill is a crash: SIGKILL, no cleanup.
func (p *proc) kill() {
	if p.cmd != nil && p.cmd.Process != nil {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	}
	p.cmd = nil
}

// stop is a deploy's restart: SIGTERM, then the process's own shutdown.
func (p *proc) stop() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-done
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
	t        *testing.T
	dir      string
	bin      string
	frontend string
	services map[string]*proc
	peers    *proc
	serve    *proc
	workers  []*proc
	peersEnv map[string]string
	config   string
	url      string
	database string
	all      []*proc
}

// lowPort is a free loopback port below 32768: Temporal keeps membership
// ports in a PostgreSQL smallint, and a higher one kills the service.
func lowPort(t *testing.T, taken map[int]bool) int {
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
func buildBinaries(t *testing.T, dir string) {
	t.Helper()
	for _, b := range []struct{ out, pkg string }{{"tocsin", "github.com/tocsin/tocsin/cmd/tocsin"}, {"temporal-server", "go.temporal.io/server/cmd/server"}, {"temporal-sql-tool", "go.temporal.io/server/cmd/tools/sql"}} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, b.out), b.pkg)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "go build %s: %s", b.pkg, out)
	}
}

const clusterServerConfig = `log:
  stdout: true
  level: warn
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: 4
  datastores:
    default:
      sql: {pluginName: postgres12, databaseName: %[1]s, connectAddr: "%[2]s", connectProtocol: tcp, user: "%[3]s", password: "%[4]s", maxConns: 20, maxIdleConns: 20, maxConnLifetime: 1h}
    visibility:
      sql: {pluginName: postgres12, databaseName: %[1]s_visibility, connectAddr: "%[2]s", connectProtocol: tcp, user: "%[3]s", password: "%[4]s", maxConns: 4, maxIdleConns: 4, maxConnLifetime: 1h}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1
services:
  frontend:
    rpc: {grpcPort: %[5]d, membershipPort: %[6]d, httpPort: %[7]d, bindOnLocalHost: true}
  history:
    rpc: {grpcPort: %[8]d, membershipPort: %[9]d, bindOnLocalHost: true}
  matching:
    rpc: {grpcPort: %[10]d, membershipPort: %[11]d, bindOnLocalHost: true}
  worker:
    rpc: {grpcPort: %[12]d, membershipPort: %[13]d, bindOnLocalHost: true}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: 127.0.0.1:%[5]d
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: %[14]s
  pollInterval: 10s
`

// startCluster creates the Temporal schemas on the PostgreSQL server of
// TOCSIN_TEST_POSTGRES, starts frontend, history, matching and worker as
// four processes, registers the namespace, then starts the peers, the API
// and workers (each worker process is started later by startWorker).
func startCluster(t *testing.T) *tempCluster {
	t.Helper()
	base := os.Getenv("TOCSIN_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("TOCSIN_REQUIRE_POSTGRES") == "1" {
			t.Fatal("TOCSIN_REQUIRE_POSTGRES=1 but TOCSIN_TEST_POSTGRES is not set")
		}
		t.Skip("the cluster test runs Temporal on PostgreSQL: set TOCSIN_TEST_POSTGRES (.ci/run does)")
	}
	c := &tempCluster{t: t, dir: t.TempDir(), services: map[string]*proc{}}
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
		}
	})

	// Temporal's two databases, made and migrated by its own schema tool.
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
	for _, name := range []struct{ db, schema string }{{db, "postgresql/v12/temporal"}, {db + "_visibility", "postgresql/v12/visibility"}} {
		for _, args := range [][]string{{"create-database"}, {"setup-schema", "-v", "0.0"}, {"update-schema", "--schema-name", name.schema}} {
			cmd := exec.Command(filepath.Join(c.bin, "temporal-sql-tool"), append([]string{"--plugin", "postgres12", "--ep", host, "-p", port, "-u", u.User.Username(), "--pw", pass, "--db", name.db}, args...)...)
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "temporal-sql-tool %v: %s", args, out)
		}
	}

	taken := map[int]bool{}
	ports := make([]int, 9)
	for i := range ports {
		ports[i] = lowPort(t, taken)
	}
	dynamic := filepath.Join(c.dir, "dynamicconfig.yaml")
	require.NoError(t, os.WriteFile(dynamic, nil, 0o600))
	serverConfig := filepath.Join(c.dir, "temporal.yaml")
	require.NoError(t, os.WriteFile(serverConfig, fmt.Appendf(nil, clusterServerConfig, db, u.Host, u.User.Username(), pass,
		ports[0], ports[1], ports[2], ports[3], ports[4], ports[5], ports[6], ports[7], ports[8], dynamic), 0o600))
	c.frontend = fmt.Sprintf("127.0.0.1:%d", ports[0])
	for _, svc := range []string{"history", "matching", "frontend", "worker"} {
		p := c.add(svc, filepath.Join(c.bin, "temporal-server"), "--config-file", serverConfig, "--allow-no-auth", "start", "--service", svc)
		c.services[svc] = p
		p.start()
	}
	c.registerNamespace("tocsin")

	// The peers, then the API and the workers aimed at them by peers.env.
	bounces := fmt.Sprintf("127.0.0.1:%d", lowPort(t, taken))
	c.peers = c.add("peers", filepath.Join(c.bin, "tocsin"), "peers", "--data", filepath.Join(c.dir, "peers"), "--listen", "127.0.0.1:0", "--smtp-listen", "127.0.0.1:0", "--bounce-relay", bounces)
	c.peers.start()
	envFile := filepath.Join(c.dir, "peers", "peers.env")
	require.Eventually(t, func() bool { _, err := os.Stat(envFile); return err == nil }, 30*time.Second, 50*time.Millisecond, "peers.env")
	c.peersEnv, err = loadOrCreateEnv(envFile, nil)
	require.NoError(t, err)
	var env []string
	for k, v := range c.peersEnv {
		env = append(env, k+"="+v)
	}

	c.database = storetest.DSN(t, "postgres")
	listen := fmt.Sprintf("127.0.0.1:%d", lowPort(t, taken))
	c.url = "http://" + listen
	c.config = filepath.Join(c.dir, "tocsin.yaml")
	require.NoError(t, os.WriteFile(c.config, fmt.Appendf(nil, `listen: %s
public_url: http://%s
database: %s
playbook_dir: %s
temporal: {address: %s, namespace: tocsin}
twilio: {account_sid: ACreplaced-by-peers-env, from: "+15005550006"}
smtp: {addr: replaced.by.peers.env:25, from: "Security Team <security@example.com>", bounce_address: bounces@example.com}
bounces: {listen: %s}
onsite: {webhook_url: https://replaced.by.peers.env/}
announce: {webhook_url: https://replaced.by.peers.env/}
`, listen, listen, c.database, anyHourPlaybooks(t), c.frontend, bounces), 0o600))
	c.serve = c.add("serve", filepath.Join(c.bin, "tocsin"), "serve", "--config", c.config)
	c.serve.env = env
	c.serve.start()
	for i := range 2 {
		w := c.add(fmt.Sprintf("worker-%d", i+1), filepath.Join(c.bin, "tocsin"), "worker", "--config", c.config)
		w.env = env
		w.start()
		c.workers = append(c.workers, w)
	}
	require.Eventually(t, func() bool {
		conn, err := net.Dial("tcp", listen)
		if err == nil {
			conn.Close()
		}
		return err == nil
	}, 60*time.Second, 100*time.Millisecond, "tocsin serve never listened")
	return c
}

func (c *tempCluster) add(name string, args ...string) *proc {
	p := &proc{t: c.t, name: name, args: args, log: filepath.Join(c.dir, name+".log")}
	c.all = append(c.all, p)
	return p
}

// registerNamespace registers the namespace through the SDK and waits until
// a workflow can start in it (every service's namespace cache has it).
func (c *tempCluster) registerNamespace(name string) {
	t := c.t
	var nc sdkclient.NamespaceClient
	require.Eventually(t, func() bool {
		var err error
		nc, err = sdkclient.NewNamespaceClient(sdkclient.Options{HostPort: c.frontend})
		return err == nil
	}, 60*time.Second, 200*time.Millisecond, "the frontend never answered")
	defer nc.Close()
	require.Eventually(t, func() bool {
		err := nc.Register(context.Background(), &workflowservice.RegisterNamespaceRequest{Namespace: name, WorkflowExecutionRetentionPeriod: durationpb.New(72 * time.Hour)})
		var exists *serviceerror.NamespaceAlreadyExists
		return err == nil || errors.As(err, &exists)
	}, 60*time.Second, 500*time.Millisecond, "namespace registration")
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
	c := startCluster(t)
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
	var opened map[string]string
	require.NoError(t, crew.responder.Do(ctx, "POST", "/api/v1/incidents", api.OpenRequest{File: "incident.yaml", YAML: autopilot.Incident(synth.LeakedSystem, time.Now())}, &opened))
	id := opened["id"]

	pilot := &autopilot.Pilot{Responder: crew.responder, Legal: crew.legal}
	killed, restarted, killedAt := false, false, 0
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
		if v.Status == workflows.StageClosed {
			break
		}
		if err := pilot.Step(ctx, v); err != nil {
			t.Logf("steering %s: %v (retried)", id, err)
		}
		if v.Status == workflows.StageNotifying && v.Campaign != nil {
			switch contacted := v.Campaign.Contacted; {
			case !killed && contacted >= n/4:
				c.workers[0].kill()
				killed, killedAt = true, contacted
				t.Logf("kill -9 worker-1 at %d/%d people contacted", contacted, n)
			case killed && !restarted && contacted >= killedAt+n/4:
				c.services["history"].stop()
				c.services["history"].start()
				restarted = true
				t.Logf("history service restarted at %d/%d people contacted", contacted, n)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	require.True(t, killed && restarted, "the kill and the restart must land inside the campaign")

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
