package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/devtools/devpeers"
	"github.com/tocsin/tocsin/internal/senders"
)

const slackSecret = "8f742231b10e8888abcd99yyyzzz85a5"

func slackServer(t testing.TB) (*Server, string, *devpeers.SlackPeer) {
	s, hs := authzServer(t)
	outbox, err := devpeers.OpenOutbox(filepath.Join(t.TempDir(), "peers.db"))
	require.NoError(t, err)
	t.Cleanup(func() { outbox.Close() })
	peer := &devpeers.SlackPeer{Outbox: outbox}
	peer.Start()
	t.Cleanup(peer.Close)
	s.Slack = &SlackApp{SigningSecret: slackSecret, WarRoom: senders.NewWarRoom(senders.SlackConfig{BotToken: "xoxb-test", APIURL: peer.APIURL()}),
		Users: map[string]Principal{"ULEGAL": {Identity: "legal@example.com", Role: RoleLegal}, "UVIEW": {Identity: "viewer@example.com", Role: RoleViewer}}}
	return s, hs.URL, peer
}

func slackPost(t *testing.T, url, secret string, at time.Time, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	ts, sig := devpeers.SignSlack(secret, at, body)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sig)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

func command(user, text string) string {
	return url.Values{"command": {"/tocsin"}, "text": {text}, "user_id": {user}, "channel_id": {"C1"}, "team_id": {"T1"}, "trigger_id": {"tr1"}}.Encode()
}

func TestForgedOrReplayedSlackRequestsAreRefused(t *testing.T) {
	_, base, peer := slackServer(t)
	body := command("ULEGAL", "list")
	for name, c := range map[string]struct {
		secret string
		at     time.Time
	}{
		"wrong secret":         {"not-the-secret", time.Now()},
		"replayed after 6 min": {slackSecret, time.Now().Add(-6 * time.Minute)},
		"from the future":      {slackSecret, time.Now().Add(6 * time.Minute)},
	} {
		code, _ := slackPost(t, base+"/webhooks/slack/commands", c.secret, c.at, body)
		require.Equal(t, http.StatusUnauthorized, code, name)
	}
	// A body changed after signing is refused too.
	req, _ := http.NewRequest("POST", base+"/webhooks/slack/commands", strings.NewReader(command("ULEGAL", "open")))
	ts, sig := devpeers.SignSlack(slackSecret, time.Now(), body)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sig)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	click := url.Values{"payload": {`{"type":"block_actions","user":{"id":"ULEGAL"},"channel":{"id":"C1"},"actions":[{"block_id":"review","action_id":"tocsin_approve","value":"INC-1|notice-en|1"}]}`}}.Encode()
	code, _ := slackPost(t, base+"/webhooks/slack/interactivity", "not-the-secret", time.Now(), click)
	require.Equal(t, http.StatusUnauthorized, code, "a forged Approve click")
	require.Empty(t, peer.Views())

	at := time.Now().Add(-4 * time.Minute)
	code, reply := slackPost(t, base+"/webhooks/slack/commands", slackSecret, at, body)
	require.Equal(t, http.StatusOK, code, "a genuine request four minutes old is still fresh")
	require.Contains(t, reply, "No incidents.")
	code, reply = slackPost(t, base+"/webhooks/slack/commands", slackSecret, at, body)
	require.Equal(t, http.StatusUnauthorized, code, "the same signed request captured and sent again")
	require.Contains(t, reply, "already taken once")
}

func TestUnknownAndUnauthorisedSlackUsersAreToldSo(t *testing.T) {
	_, base, _ := slackServer(t)
	code, reply := slackPost(t, base+"/webhooks/slack/commands", slackSecret, time.Now(), command("USTRANGER", "list"))
	require.Equal(t, http.StatusOK, code)
	var msg map[string]string
	require.NoError(t, json.Unmarshal([]byte(reply), &msg))
	require.Equal(t, "ephemeral", msg["response_type"])
	require.Contains(t, msg["text"], "Tocsin does not know you (Slack user USTRANGER)")

	_, reply = slackPost(t, base+"/webhooks/slack/commands", slackSecret, time.Now(), command("UVIEW", "open\ntitle: x"))
	require.Contains(t, reply, "viewer@example.com (viewer) may not open incidents")
}

func TestUnknownSlackUserClickingApproveIsToldAndNothingHappens(t *testing.T) {
	s, base, _ := slackServer(t)
	click := url.Values{"payload": {`{"type":"block_actions","user":{"id":"USTRANGER"},"channel":{"id":"C1"},"actions":[{"block_id":"review","action_id":"tocsin_approve","value":"INC-1|notice-en|1"}]}`}}.Encode()
	code, _ := slackPost(t, base+"/webhooks/slack/interactivity", slackSecret, time.Now(), click)
	require.Equal(t, http.StatusOK, code)
	require.Eventually(t, func() bool {
		entries, _ := s.Store.AuditLog(context.Background(), "")
		return len(entries) == 1 && entries[0].Actor == "slack:USTRANGER" && entries[0].Outcome == "refused"
	}, 5*time.Second, 50*time.Millisecond, "the refusal is in the audit log")
}

func TestSlackRateLimitsAreWaitedOutNotDropped(t *testing.T) {
	s, _, peer := slackServer(t)
	peer.Limit = 2 // the next two calls get 429 with Retry-After: 1
	started := time.Now()
	s.tell(context.Background(), "C1", "ULEGAL", "only legal may approve")
	require.GreaterOrEqual(t, time.Since(started), 2*time.Second, "each Retry-After was honoured")
	entries, err := peer.Outbox.List(context.Background(), "")
	require.NoError(t, err)
	require.Len(t, entries, 1, "the reply arrived once, after the limit passed")
	require.Equal(t, "@ULEGAL", entries[0].To)
}

// What people typed comes back in replies as text: an incident file whose
// kind is "<!channel>" must not page the channel through the error that
// quotes it, and nothing a command answers is shown to the whole channel.
func TestSlackRepliesArePrivateAndShowTextAsWritten(t *testing.T) {
	_, base, _ := slackServer(t)
	_, reply := slackPost(t, base+"/webhooks/slack/commands", slackSecret, time.Now(), command("ULEGAL", "status <!channel> <https://evil.example|Approve>"))
	var msg map[string]string
	require.NoError(t, json.Unmarshal([]byte(reply), &msg))
	require.Equal(t, "ephemeral", msg["response_type"])
	require.NotContains(t, msg["text"], "<!channel>")
	require.NotContains(t, msg["text"], "<https://")
	require.Contains(t, msg["text"], "&lt;!channel&gt;")
}
