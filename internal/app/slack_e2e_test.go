package app

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/devtools/devpeers"
	"github.com/tocsin/tocsin/internal/evidence"
	"github.com/tocsin/tocsin/internal/senders"
	"github.com/tocsin/tocsin/internal/store"
)

// slackUser is "Slack" acting for one person of the dev workspace: it signs
// each request with the app's signing secret, as Slack does.
type slackUser struct {
	t  *testing.T
	d  *Dev
	id string
}

func (u slackUser) post(path, body string) (int, string) {
	u.t.Helper()
	req, _ := http.NewRequest("POST", u.d.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	ts, sig := devpeers.SignSlack(u.d.SlackSigningSecret, time.Now(), body)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sig)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(u.t, err)
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

var triggers atomic.Int64

// command runs /tocsin TEXT and returns the reply Slack would show.
func (u slackUser) command(text string) string {
	u.t.Helper()
	// Each invocation has a trigger ID of its own, as Slack gives it: the
	// API takes a signed request once.
	code, body := u.post("/webhooks/slack/commands", url.Values{"command": {"/tocsin"}, "text": {text}, "user_id": {u.id}, "channel_id": {"CGENERAL"}, "trigger_id": {fmt.Sprintf("trig-%d", triggers.Add(1))}}.Encode())
	require.Equal(u.t, http.StatusOK, code, body)
	var reply map[string]string
	require.NoError(u.t, json.Unmarshal([]byte(body), &reply), body)
	return reply["text"]
}

// click presses a button of a war-room message.
func (u slackUser) click(m devpeers.SlackMessage, action, value string) int {
	u.t.Helper()
	payload, _ := json.Marshal(map[string]any{"type": "block_actions", "trigger_id": "trig-" + m.TS, "user": map[string]string{"id": u.id},
		"channel": map[string]string{"id": m.Channel}, "message": map[string]string{"ts": m.TS},
		"actions": []map[string]string{{"block_id": "review", "action_id": action, "value": value, "type": "button"}}})
	code, _ := u.post("/webhooks/slack/interactivity", url.Values{"payload": {string(payload)}}.Encode())
	return code
}

// submitReject fills in the reject form Slack opened and submits it.
func (u slackUser) submitReject(view devpeers.SlackView, reason string) (int, string) {
	u.t.Helper()
	var v struct {
		CallbackID      string `json:"callback_id"`
		PrivateMetadata string `json:"private_metadata"`
	}
	require.NoError(u.t, json.Unmarshal([]byte(view.View), &v))
	payload, _ := json.Marshal(map[string]any{"type": "view_submission", "user": map[string]string{"id": u.id},
		"view": map[string]any{"callback_id": v.CallbackID, "private_metadata": v.PrivateMetadata,
			"state": map[string]any{"values": map[string]any{"reason": map[string]any{"reason": map[string]string{"type": "plain_text_input", "value": reason}}}}}})
	return u.post("/webhooks/slack/interactivity", url.Values{"payload": {string(payload)}}.Encode())
}

// review is a war-room message asking legal about one draft revision.
type review struct {
	msg      devpeers.SlackMessage
	draft    string
	revision int
	value    string
	buttons  bool
}

var reviewHeader = regexp.MustCompile(`^\*([^*]+)\* revision (\d+) `)

// reviews reads the war room's review messages, the newest revision of each
// draft: decided (and replaced) ones keep their header and lose their buttons.
func reviews(t *testing.T, peer *devpeers.SlackPeer, channel, id string) map[string]review {
	t.Helper()
	out := map[string]review{}
	for _, m := range peer.Messages(channel) {
		var blocks []struct {
			Type string `json:"type"`
			Text struct {
				Text string `json:"text"`
			} `json:"text"`
			Elements []struct {
				ActionID string `json:"action_id"`
			} `json:"elements"`
		}
		if m.Blocks == "" || json.Unmarshal([]byte(m.Blocks), &blocks) != nil || len(blocks) == 0 {
			continue
		}
		h := reviewHeader.FindStringSubmatch(blocks[0].Text.Text)
		if h == nil {
			continue
		}
		rev, _ := strconv.Atoi(h[2])
		r := review{msg: m, draft: h[1], revision: rev, value: fmt.Sprintf("%s|%s|%d", id, h[1], rev)}
		for _, b := range blocks {
			for _, e := range b.Elements {
				r.buttons = r.buttons || e.ActionID == senders.ActionApprove
			}
		}
		if cur, ok := out[r.draft]; !ok || rev > cur.revision {
			out[r.draft] = r
		}
	}
	return out
}

func slackStatusStage(t *testing.T, u slackUser, id, stage string) {
	t.Helper()
	eventually(t, 200*time.Millisecond, func(c *assert.CollectT) {
		require.Contains(c, u.command("status "+id), "Stage: *"+stage+"*", id)
	})
}

// TestIncidentRunFromSlackAlone runs the sample breach with nothing but the
// /tocsin command and the war room's buttons (the inventory import is the
// data team's, before any incident), then exports its evidence bundle.
func TestIncidentRunFromSlackAlone(t *testing.T) {
	ctx := context.Background()
	d := startDev(t, t.TempDir(), "")
	defer d.Stop()
	require.NoError(t, as(d, "TOCSIN_TOKEN_RESPONDER").ImportInventory(ctx, filepath.Join(scenario, "systems.yaml"), filepath.Join(scenario, "subjects.csv"), 0, nil, nil))
	responder, legal, legal2 := slackUser{t, d, "UDEVRESPONDER"}, slackUser{t, d, "UDEVLEGAL"}, slackUser{t, d, "UDEVLEGAL2"}
	stranger := slackUser{t, d, "UNOBODY"}
	observer := as(d, "TOCSIN_TOKEN_ADMIN") // reads, to check what Slack did

	require.Contains(t, stranger.command("list"), "Tocsin does not know you")
	incYAML, err := os.ReadFile(filepath.Join(scenario, "incident.yaml"))
	require.NoError(t, err)
	opened := responder.command("open\n" + string(incYAML))
	id := regexp.MustCompile(`INC-[0-9A-F]{10}`).FindString(opened)
	require.NotEmpty(t, id, opened)
	channel := senders.ChannelName(id)
	slackStatusStage(t, responder, id, api.StageAwaitApproval)
	private, exists := d.SlackPeer.Private(channel)
	require.True(t, exists && private, "the default playbook's war room is private")

	var v api.View
	require.NoError(t, observer.Do(ctx, "GET", "/api/v1/incidents/"+id, nil, &v))
	require.Eventually(t, func() bool { return len(reviews(t, d.SlackPeer, channel, id)) == len(v.Drafts) }, 30*time.Second, 100*time.Millisecond,
		"every draft is put before legal with buttons")

	// The facts the laws require, from Slack; changed drafts come back as new revisions.
	facts := responder.command("facts " + id + "\ncause: An access key was committed to a public repository.\norganisation: Example Platform Ltd\n" +
		"reporter: Jane Doe\ndpo_contact: dpo@example.com")
	require.Contains(t, facts, "Facts set.")
	require.NotContains(t, facts, "still lacks")
	require.Eventually(t, func() bool { return reviews(t, d.SlackPeer, channel, id)["notice-en"].revision == 2 }, 30*time.Second, 100*time.Millisecond)

	// A forged click changes nothing; a responder's click is refused and told
	// why; a click on a replaced revision is refused too.
	en := reviews(t, d.SlackPeer, channel, id)["notice-en"]
	require.False(t, slices.ContainsFunc(d.SlackPeer.Messages(channel), func(m devpeers.SlackMessage) bool {
		return strings.Contains(m.Blocks, "*notice-en* revision 1 ") && strings.Contains(m.Blocks, senders.ActionApprove)
	}), "revision 1's buttons are gone")
	require.Equal(t, http.StatusOK, legal.click(en.msg, senders.ActionApprove, id+"|notice-en|1"))
	told := func(user, text string) func() bool {
		return func() bool {
			var ob []devpeers.Entry
			observer.Do(ctx, "GET", "/api/v1/outbox?incident="+id, nil, &ob)
			for _, e := range ob {
				if e.Channel == "slack" && e.To == "@"+user && strings.Contains(e.Body, text) {
					return true
				}
			}
			return false
		}
	}
	require.Eventually(t, told("UDEVLEGAL", "notice-en revision 1 changed since you read it: review revision 2"), 10*time.Second, 100*time.Millisecond)
	forged := slackUser{t, &Dev{URL: d.URL, SlackSigningSecret: "not-the-secret"}, "UDEVLEGAL"}
	require.Equal(t, http.StatusUnauthorized, forged.click(en.msg, senders.ActionApprove, en.value))
	require.Equal(t, http.StatusOK, responder.click(en.msg, senders.ActionApprove, en.value))
	require.Eventually(t, told("UDEVRESPONDER", "only legal may approve"), 10*time.Second, 100*time.Millisecond, "the responder is told, privately, that only legal approves")

	// Legal rejects the English notice with a reason, in the form Slack opens.
	require.Equal(t, http.StatusOK, legal.click(en.msg, senders.ActionReject, en.value))
	views := d.SlackPeer.Views()
	require.Len(t, views, 1)
	code, body := legal.submitReject(views[0], "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `"response_action": "errors"`, "an empty reason keeps the form open")
	code, body = legal.submitReject(views[0], "say which hotline to call")
	require.Equal(t, http.StatusOK, code)
	require.Empty(t, body, "the form closes")
	require.Eventually(t, func() bool {
		r := reviews(t, d.SlackPeer, channel, id)["notice-en"]
		return !r.buttons && strings.Contains(r.msg.Text, "Rejected by legal@example.com (legal, via slack)") && strings.Contains(r.msg.Text, "say which hotline to call")
	}, 10*time.Second, 100*time.Millisecond, "the message shows who rejected it, and why")

	require.Contains(t, responder.command("revise "+id+" notice-en\ncontact: privacy@example.com or +1 800 555 0100"), "will be drafted again")
	require.Eventually(t, func() bool { return reviews(t, d.SlackPeer, channel, id)["notice-en"].revision == 3 }, 30*time.Second, 100*time.Millisecond)

	// Legal approves every draft with the buttons; each message then says who.
	for name, r := range reviews(t, d.SlackPeer, channel, id) {
		require.True(t, r.buttons, name)
		require.Equal(t, http.StatusOK, legal.click(r.msg, senders.ActionApprove, r.value), name)
	}
	require.Eventually(t, func() bool {
		for _, r := range reviews(t, d.SlackPeer, channel, id) {
			if r.buttons || !strings.Contains(r.msg.Text, "Approved by legal@example.com (legal, via slack)") {
				return false
			}
		}
		return true
	}, 30*time.Second, 100*time.Millisecond)

	// Filings, by command; Singapore's regulator first, as notice waits for it.
	slackStatusStage(t, responder, id, api.StageAwaitFiling)
	require.Contains(t, responder.command("file "+id+" sg-pdpc PDPC-2026-0042 the test runs after the scenario's dates"), "recorded as submitted")
	slackStatusStage(t, responder, id, api.StageAnnouncing)
	require.Eventually(t, func() bool { _, ok := reviews(t, d.SlackPeer, channel, id)["announcement"]; return ok }, 60*time.Second, 100*time.Millisecond)
	a := reviews(t, d.SlackPeer, channel, id)["announcement"]
	require.Equal(t, http.StatusOK, legal2.click(a.msg, senders.ActionApprove, a.value))
	slackStatusStage(t, responder, id, api.StageFiling)
	v = api.View{}
	require.NoError(t, observer.Do(ctx, "GET", "/api/v1/incidents/"+id, nil, &v))
	for _, o := range v.Obligations {
		if !o.Voluntary && o.Audience != "individuals" && o.Status != api.FilingSubmitted {
			require.Contains(t, responder.command("file "+id+" "+o.Name+" REF-"+o.Name+" filed after the scenario's dates"), "recorded", o.Name)
		}
	}
	slackStatusStage(t, responder, id, api.StageClosed)

	// The war room told the story as it went.
	var lines []string
	for _, m := range d.SlackPeer.Messages(channel) {
		lines = append(lines, m.Text)
	}
	room := strings.Join(lines, "\n")
	require.NotContains(t, room, "is due in -", "no reminder for a duty already overdue")
	for _, want := range []string{fmt.Sprintf("Scope: %d people affected", v.Scope.Subjects), "drafts are ready for legal review", ":mega: Individual notice: 1 of 1 partitions done",
		"notice-en revision 3: :white_check_mark: Approved by legal@example.com", "filed by responder@example.com", "Public announcement published", id + " closed"} {
		require.Contains(t, room, want)
	}
	// No one's contact details reach Slack.
	f, err := os.Open(filepath.Join(scenario, "subjects.csv"))
	require.NoError(t, err)
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	require.NoError(t, err)
	for _, row := range rows[1:] {
		for _, contact := range []string{row[2], row[3]} { // email, phone
			if contact != "" {
				require.NotContains(t, room, contact)
			}
		}
	}

	// Every decision is in the incident's audit chain, with where it came from.
	var log []store.AuditEntry
	require.NoError(t, observer.Do(ctx, "GET", "/api/v1/incidents/"+id+"/audit", nil, &log))
	require.NoError(t, store.VerifyAuditChain(log))
	seen := map[string]bool{}
	for _, e := range log {
		seen[e.Action+" "+e.Outcome+" "+e.Actor+" "+e.Via] = true
	}
	for _, want := range []string{"open done responder@example.com slack", "facts done responder@example.com slack", "approve refused responder@example.com slack",
		"reject done legal@example.com slack", "revise done responder@example.com slack", "approve done legal@example.com slack",
		"approve done legal2@example.com slack", "submit done responder@example.com slack"} {
		require.True(t, seen[want], "audit log lacks %q: %v", want, seen)
	}

	// The evidence bundle verifies; one changed byte anywhere does not.
	bundle := filepath.Join(t.TempDir(), "evidence")
	m, err := evidence.Export(ctx, observer, id, bundle)
	require.NoError(t, err)
	paths := map[string]bool{}
	for _, f := range m.Files {
		paths[f.Path] = true
	}
	for _, want := range []string{"incident.json", "timeline.csv", "approvals.csv", "filings.csv", "deliveries.csv", "audit.jsonl", "drafts/notice-en-r1.txt", "drafts/notice-en-r3.html"} {
		require.True(t, paths[want], "bundle lacks %s", want)
	}
	ledger, err := os.ReadFile(filepath.Join(bundle, "deliveries.csv"))
	require.NoError(t, err)
	require.Greater(t, strings.Count(string(ledger), "\n"), 50, "one row per person and channel tried")
	approvals, err := os.ReadFile(filepath.Join(bundle, "approvals.csv"))
	require.NoError(t, err)
	require.Contains(t, string(approvals), "legal@example.com,legal,slack,reject,done,notice-en,2,say which hotline to call")
	_, err = evidence.Verify(bundle)
	require.NoError(t, err)
	path := filepath.Join(bundle, "approvals.csv")
	approvals[len(approvals)/2] ^= 0x20
	require.NoError(t, os.WriteFile(path, approvals, 0o600))
	_, err = evidence.Verify(bundle)
	require.ErrorContains(t, err, "approvals.csv: changed since export")
}
