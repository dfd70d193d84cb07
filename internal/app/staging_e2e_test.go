package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/client"
	"github.com/tocsin/tocsin/internal/codec"
	"github.com/tocsin/tocsin/internal/devtools/devpeers"
	"github.com/tocsin/tocsin/internal/embedtemporal"
	"github.com/tocsin/tocsin/internal/store"
)

// scenarioCrew are the people who run the basic scenario: the tokens a
// production store is seeded with.
type scenarioCrew struct{ responder, legal, legal2 *client.Client }

// seedCrew gives a production store the scenario's three people.
func seedCrew(t testing.TB, database, server string) scenarioCrew {
	t.Helper()
	st, err := store.Open(database)
	require.NoError(t, err)
	defer st.Close()
	tokens := map[string]store.Token{}
	crew := scenarioCrew{}
	for _, who := range []struct {
		c        **client.Client
		identity string
		role     string
	}{{&crew.responder, "responder@example.com", api.RoleResponder}, {&crew.legal, "legal@example.com", api.RoleLegal}, {&crew.legal2, "legal2@example.com", api.RoleLegal}} {
		tok := api.NewToken()
		tokens[tok] = store.Token{Identity: who.identity, Role: who.role}
		*who.c = &client.Client{Server: server, Token: tok}
	}
	require.NoError(t, api.Seed(context.Background(), st, tokens))
	return crew
}

// runBasicToClosed drives examples/basic from import to a closed incident
// by the API alone, as the people would, and returns the closed view.
func runBasicToClosed(t *testing.T, crew scenarioCrew) api.View {
	t.Helper()
	ctx := context.Background()
	var imp map[string]any
	require.NoError(t, crew.responder.ImportInventory(ctx, filepath.Join(scenario, "systems.yaml"), filepath.Join(scenario, "subjects.csv"), 0, nil, &imp))
	incYAML, err := os.ReadFile(filepath.Join(scenario, "incident.yaml"))
	require.NoError(t, err)
	id := openIncident(t, crew.responder, string(incYAML))
	waitStatus(t, crew.responder, id, api.StageAwaitApproval)
	require.NoError(t, crew.responder.Do(ctx, "POST", "/api/v1/incidents/"+id+"/facts", api.FactsRequest{Set: map[string]string{
		"cause": "An access key was committed to a public repository.", "organisation": "Example Platform Ltd", "reporter": "Jane Doe, +86 10 5555 0100", "dpo_contact": "dpo@example.com"}}, nil))
	var v api.View
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		v = api.View{}
		require.NoError(c, crew.responder.Do(ctx, "GET", "/api/v1/incidents/"+id, nil, &v))
		for _, d := range v.Drafts {
			require.Empty(c, d.Missing, d.Name)
		}
	}, 60*time.Second, 100*time.Millisecond)
	// A report is filed only once legal approved it: the workflow refuses,
	// and the API answers 403 with the workflow's own sentence.
	err = crew.responder.Do(ctx, "POST", "/api/v1/incidents/"+id+"/submit", api.SubmitRequest{Obligation: "sg-pdpc", Reference: "early"}, nil)
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusForbidden, apiErr.Status, apiErr.Message)
	require.Regexp(t, `^forbidden: the report report-sg-pdpc \(revision \d+\) is pending; legal must approve it before it is filed$`, apiErr.Message)
	approveAll(t, crew.legal, v)
	v = waitStatus(t, crew.responder, id, api.StageAwaitFiling)
	fileDuties(t, crew.responder, v, func(o api.ObligationView) bool { return o.Name == "sg-pdpc" })
	waitStatus(t, crew.responder, id, api.StageAnnouncing)
	approveAll(t, crew.legal2, waitForPendingAnnouncement(t, crew.responder, id))
	v = waitStatus(t, crew.responder, id, api.StageFiling)
	fileDuties(t, crew.responder, v, func(o api.ObligationView) bool { return !o.Voluntary && o.Audience != "individuals" })
	return waitStatus(t, crew.responder, id, api.StageClosed)
}

// syncBuffer is a log both processes write to at once.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// scrape reads a process's /metrics.
func scrape(t testing.TB, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(body)
}

// freeAddr is a loopback address nothing listens on yet.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// A staging environment is `tocsin peers`, a production config file and the
// peers.env it writes, sourced: `tocsin serve` and `tocsin worker` in
// production mode take the basic scenario to closed with every provider a
// peer (reached through the real SDKs, the peers slowed by a fault profile),
// and the peers' outbox shows one notice per person and channel.
func TestAStagingSetupNeedsOnlyPeersEnvBesidesTheConfig(t *testing.T) {
	var want expected
	raw, err := os.ReadFile(filepath.Join(scenario, "expected.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &want))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logged syncBuffer
	log := slog.New(slog.NewTextHandler(io.MultiWriter(os.Stderr, &logged), &slog.HandlerOptions{Level: slog.LevelWarn}))
	dir := t.TempDir()

	bounceAddr := freeAddr(t)
	peers, err := StartPeers(ctx, PeersConfig{DataDir: filepath.Join(dir, "peers"), Listen: "127.0.0.1:0", SMTPListen: "127.0.0.1:0", BounceRelay: bounceAddr, Log: log,
		Faults: mustFaults(t, "twilio.latency=200ms@0.3,smtp.latency=200ms@0.3,onsite.latency=200ms@0.3")})
	require.NoError(t, err)
	defer peers.Stop()
	written, err := loadOrCreateEnv(filepath.Join(dir, "peers", "peers.env"), nil)
	require.NoError(t, err)
	require.Equal(t, peers.Env, written, "peers.env holds what the peers run with")
	for k, v := range written {
		t.Setenv(k, v)
	}

	ts, err := embedtemporal.Start(embedtemporal.Config{DatabaseFile: filepath.Join(dir, "temporal.db")})
	require.NoError(t, err)
	defer ts.Stop()

	listen := freeAddr(t)
	database := filepath.Join(dir, "tocsin.db")
	config := filepath.Join(dir, "tocsin.yaml")
	// Tocsin's own payload keys sit beside its config, as in production.
	keys := filepath.Join(dir, "codec.keys")
	_, err = codec.AppendKey(keys, time.Now())
	require.NoError(t, err)
	t.Setenv("TOCSIN_CODEC_KEYS", "")
	t.Setenv("TOCSIN_ACTOR_KEY", testActorKey)
	require.NoError(t, os.WriteFile(config, fmt.Appendf(nil, `listen: %s
public_url: http://%s
database: %s
playbook_dir: %s
temporal: {address: %s, codec_key_file: %s}
twilio: {account_sid: ACthe-real-one-the-environment-replaces, from: "+15005550006"}
smtp: {addr: smtp.example.com:587, from: "Security Team <security@example.com>", bounce_address: bounces@example.com}
bounces: {listen: %s, allow: [127.0.0.1]}
onsite: {webhook_url: https://notify.example.com/v1/notices}
announce: {webhook_url: https://press.example.com/v1/announcements}
`, listen, listen, database, anyHourPlaybooks(t), ts.HostPort(), keys, bounceAddr), 0o600))
	c, err := LoadConfig(config)
	require.NoError(t, err)
	require.Equal(t, peers.Env["TOCSIN_DEV_TWILIO"], c.Twilio.APIURL)
	require.Equal(t, peers.Env["TOCSIN_DEV_SLACK"], c.Slack.APIURL)

	crew := seedCrew(t, database, "http://"+listen)
	served, worked := make(chan error, 1), make(chan error, 1)
	serveCfg, workerCfg := c, c
	serveCfg.Metrics.Listen, workerCfg.Metrics.Listen = freeAddr(t), freeAddr(t)
	go func() { served <- RunServe(ctx, serveCfg, log) }()
	go func() { worked <- RunWorker(ctx, workerCfg, log) }()
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + listen + "/")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	}, 30*time.Second, 50*time.Millisecond)

	// The embedded namespace keeps a closed workflow a day; the default
	// playbook has duties of months: both processes say so at start.
	require.Eventually(t, func() bool { return strings.Count(logged.String(), "longest_duty=") == 2 }, 10*time.Second, 50*time.Millisecond, logged.String())
	require.Contains(t, logged.String(), "retention=24h0m0s")

	v := runBasicToClosed(t, crew)
	require.Equal(t, want.Unreachable, v.Notifications.Failed)
	require.True(t, v.Announcement.Published)

	// What the peers received, as `tocsin outbox --peers` reads it.
	outbox := func(token string) ([]devpeers.Entry, error) {
		var entries []devpeers.Entry
		err := (&client.Client{Server: peers.Env["TOCSIN_PEERS"], Token: token}).Do(ctx, "GET", "/outbox?incident="+v.ID, nil, &entries)
		return entries, err
	}
	entries, err := outbox(peers.Env["TOCSIN_PEERS_TOKEN"])
	require.NoError(t, err)
	checkOutbox(t, want, entries)
	slackPosts := 0
	for _, e := range entries {
		if e.Channel == "slack" {
			slackPosts++
		}
	}
	require.NotZero(t, slackPosts, "the war room was opened in the Slack peer, with the bot token from peers.env")
	_, err = outbox("tcn_not-the-peers-token")
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusUnauthorized, apiErr.Status, "the outbox holds notices: it is not for anyone who reaches it")

	// The worker's /metrics counts what it sent, by channel and outcome, as
	// the peers saw it; the SDK's own metrics sit beside them.
	perChannel := map[string]int{}
	for _, e := range entries {
		if e.SubjectID != "" && (e.Channel == "email" || e.Channel == "sms") {
			perChannel[e.Channel]++
		}
	}
	scraped := scrape(t, workerCfg.Metrics.Listen)
	for ch, n := range perChannel {
		require.Contains(t, scraped, fmt.Sprintf(`tocsin_sends_total{channel=%q,outcome="accepted"} %d`, ch, n))
	}
	require.Contains(t, scraped, `tocsin_provider_seconds_count{channel="email"}`)
	require.Contains(t, scraped, `temporal_activity_execution_latency_seconds_bucket{`)
	require.NotContains(t, scraped, "@example", "no address in a metric")

	// The API's /metrics shows each open duty's time left: a second
	// incident, waiting for approval, has its duties there.
	incYAML, err := os.ReadFile(filepath.Join(scenario, "incident.yaml"))
	require.NoError(t, err)
	second := openIncident(t, crew.responder, string(incYAML))
	waitStatus(t, crew.responder, second, api.StageAwaitApproval)
	scraped = scrape(t, serveCfg.Metrics.Listen)
	require.Contains(t, scraped, fmt.Sprintf(`tocsin_duty_seconds_left{drill="false",incident=%q,jurisdiction="SG",obligation="sg-pdpc"}`, second))
	require.NotContains(t, scraped, fmt.Sprintf(`incident=%q`, v.ID), "a closed incident has no open duty")

	// Ready while the store and Temporal answer; not ready, and saying
	// which, once Temporal is gone.
	ready := func(addr string) (int, string) {
		resp, err := http.Get("http://" + addr + "/readyz")
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	code, body := ready(listen)
	require.Equal(t, http.StatusOK, code, body)
	require.JSONEq(t, `{"ready":true,"checks":{"store":"ok","temporal":"ok"}}`, body)
	ts.Stop()
	code, body = ready(workerCfg.Metrics.Listen)
	require.Equal(t, http.StatusServiceUnavailable, code, body)
	require.Contains(t, body, `"temporal":"not ready: `)
	require.Contains(t, body, `"store":"ok"`)

	cancel()
	require.NoError(t, <-served)
	require.NoError(t, <-worked)
}

// `tocsin dev` shows the same /metrics and /readyz on its own port: the
// SDK's metrics and an open incident's duties (its worker counts its sends
// as production workers do).
func TestTheDevServerHasMetricsAndReadiness(t *testing.T) {
	d := startDev(t, t.TempDir(), "")
	defer d.Stop()
	ctx := context.Background()
	responder := as(d, "TOCSIN_TOKEN_RESPONDER")
	require.NoError(t, responder.ImportInventory(ctx, filepath.Join(scenario, "systems.yaml"), filepath.Join(scenario, "subjects.csv"), 0, nil, nil))
	incYAML, err := os.ReadFile(filepath.Join(scenario, "incident.yaml"))
	require.NoError(t, err)
	id := openIncident(t, responder, string(incYAML))
	waitStatus(t, responder, id, api.StageAwaitApproval)
	addr := strings.TrimPrefix(d.URL, "http://")
	page := scrape(t, addr)
	require.Contains(t, page, fmt.Sprintf(`tocsin_duty_seconds_left{drill="false",incident=%q,jurisdiction="SG",obligation="sg-pdpc"}`, id))
	require.Contains(t, page, "temporal_request_total{")
	resp, err := http.Get(d.URL + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}
