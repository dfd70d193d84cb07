package app

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	sdkclient "go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/client"
	"github.com/tocsin/tocsin/internal/codec"
	"github.com/tocsin/tocsin/internal/devtools/devpeers"
	"github.com/tocsin/tocsin/internal/evidence"
	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/store/storetest"
	"github.com/tocsin/tocsin/playbooks"
	"github.com/tocsin/tocsin/workflows"
)

const scenario = "../../examples/basic"

type expected struct {
	Subjects     int                `json:"subjects"`
	ByRegion     map[string]int     `json:"by_region"`
	Unreachable  int                `json:"unreachable"`
	Minors       int                `json:"minors"`
	FirstChannel map[string]*string `json:"first_channel"`
	Unaffected   []string           `json:"unaffected_ids"`
	ZH           []string           `json:"zh_subjects"`
}

func startDev(t *testing.T, dir, database string) *Dev {
	t.Helper()
	d, err := StartDev(context.Background(), DevConfig{DataDir: dir, Database: database, Listen: "127.0.0.1:0", BatchSize: 16, ReceiptPoll: 50 * time.Millisecond, PlaybookDir: anyHourPlaybooks(t),
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	require.NoError(t, err)
	return d
}

// anyHourPlaybooks is the default playbook without quiet hours: the
// scenario's outcome includes phone calls whatever hour the tests run at.
// (Quiet hours have their own tests.)
func anyHourPlaybooks(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, playbooks.WriteAnyHourDefault(dir))
	return dir
}

func as(d *Dev, env string) *client.Client {
	return &client.Client{Server: d.URL, Token: d.Tokens[env]}
}

func waitStatus(t testing.TB, c *client.Client, id, status string) api.View {
	t.Helper()
	var v api.View
	eventually(t, 100*time.Millisecond, func(ct *assert.CollectT) {
		v = api.View{}
		err := c.Do(context.Background(), "GET", "/api/v1/incidents/"+id, nil, &v)
		require.NoError(ct, err)
		require.Equal(ct, status, v.Status, "incident %s (error %q); timeline: %+v", id, v.Error, v.Timeline)
	})
	return v
}

// fileDuties records a filing for each pending duty that match selects; one
// past its due time is first refused without reasons, then filed with them.
func fileDuties(t *testing.T, c *client.Client, v api.View, match func(api.ObligationView) bool) {
	t.Helper()
	for _, o := range v.Obligations {
		if !match(o) || o.Status == api.FilingSubmitted {
			continue
		}
		req := api.SubmitRequest{Obligation: o.Name, Reference: "REF-" + o.Name}
		if o.DueAt != nil && time.Now().After(*o.DueAt) {
			err := c.Do(context.Background(), "POST", "/api/v1/incidents/"+v.ID+"/submit", req, nil)
			require.ErrorContains(t, err, "was due at", o.Name)
			req.LateReason = "filed during the end-to-end test, after the scenario's dates"
		}
		require.NoError(t, c.Do(context.Background(), "POST", "/api/v1/incidents/"+v.ID+"/submit", req, nil), o.Name)
	}
}

func approveAll(t *testing.T, legal *client.Client, v api.View) {
	t.Helper()
	for _, d := range v.Drafts {
		if d.Status == api.DraftPending {
			require.NoError(t, legal.Do(context.Background(), "POST", "/api/v1/incidents/"+v.ID+"/approve", api.DecisionRequest{Draft: d.Name, Revision: d.Revision, Comment: "ok"}, nil), d.Name)
		}
	}
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// TestBasicScenarioEndToEnd runs the sample breach through the embedded
// Temporal server, the real SDKs and the local peers, with a kill of the whole
// process (Stop without cleanup of state) before approval.
// The basic scenario runs once per store backend: the whole path, from import
// to the closed incident, must not depend on which database holds the data.
func TestBasicScenarioEndToEnd(t *testing.T) {
	for _, backend := range storetest.Backends(t) {
		t.Run(backend, func(t *testing.T) { basicScenario(t, storetest.DSN(t, backend)) })
	}
}

func basicScenario(t *testing.T, database string) {
	ctx := context.Background()
	var want expected
	raw, err := os.ReadFile(filepath.Join(scenario, "expected.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &want))

	dir := t.TempDir()
	d := startDev(t, dir, database)
	stopped := false
	defer func() {
		if !stopped {
			d.Stop()
		}
	}()
	responder := as(d, "TOCSIN_TOKEN_RESPONDER")

	var imp map[string]any
	require.NoError(t, responder.ImportInventory(ctx, filepath.Join(scenario, "systems.yaml"), filepath.Join(scenario, "subjects.csv"), 0, nil, &imp))
	require.EqualValues(t, 60, imp["subjects"])

	incYAML, err := os.ReadFile(filepath.Join(scenario, "incident.yaml"))
	require.NoError(t, err)
	id := openIncident(t, responder, string(incYAML))

	v := waitStatus(t, responder, id, api.StageAwaitApproval)
	var shown json.RawMessage
	require.NoError(t, responder.Do(ctx, "GET", "/api/v1/incidents/"+id, nil, &shown))
	require.NotContains(t, string(shown), "0001-01-01", "undecided drafts and unfiled duties have no time, not year 1")
	require.Equal(t, want.Subjects, v.Scope.Subjects)
	require.Equal(t, want.ByRegion, v.Scope.ByRegion)
	require.Equal(t, want.Minors, v.Scope.Minors)
	names := map[string]bool{}
	for _, dr := range v.Drafts {
		names[dr.Name] = true
	}
	for _, n := range []string{"notice-en", "notice-zh-CN", "notice-zh-HK", "notice-us-ca", "report-cn-pipl-regulator", "report-sg-pdpc", "report-eu-gdpr-authority-initial", "report-eu-gdpr-authority-supplementary"} {
		require.True(t, names[n], "draft %s missing from %v", n, names)
	}
	juris := map[string]bool{}
	for _, o := range v.Obligations {
		juris[o.Jurisdiction] = true
	}
	for _, j := range []string{"CN", "SG", "HK", "EU", "US-CA"} {
		require.True(t, juris[j], "no %s obligation", j)
	}

	// A responder cannot approve, and neither can someone who opened the incident.
	err = responder.Do(ctx, "POST", "/api/v1/incidents/"+id+"/approve", api.DecisionRequest{Draft: "notice-en"}, nil)
	var apiErr *client.APIError
	require.True(t, errors.As(err, &apiErr), "%v", err)
	require.Equal(t, http.StatusForbidden, apiErr.Status)

	// Someone with Temporal access alone (the SDK client, straight to the
	// workflow) cannot approve as legal: the API did not sign the actor.
	forged, err := d.Temporal.UpdateWorkflow(ctx, sdkclient.UpdateWorkflowOptions{WorkflowID: id, UpdateName: workflows.UpdateApprove, WaitForStage: sdkclient.WorkflowUpdateStageCompleted,
		Args: []any{workflows.ApproveInput{Actor: workflows.Actor{Identity: "legal@example.com", Role: "legal", Via: "api", Sig: "Zm9yZ2Vk"}, Draft: "notice-en"}}})
	if err == nil {
		err = forged.Get(ctx, nil)
	}
	require.ErrorContains(t, err, "refused as forged")

	// kill the whole process state-wise before approval; a restart on the same data loses nothing.
	// The payload key is rotated meanwhile: the incident begun under the
	// old key runs on under the new one.
	d.Stop()
	oldKeys, err := codec.LoadKeyFile(filepath.Join(dir, DevCodecKeyFile))
	require.NoError(t, err)
	newKey, err := codec.AppendKey(filepath.Join(dir, DevCodecKeyFile), time.Now().Add(time.Hour))
	require.NoError(t, err)
	d = startDev(t, dir, database)
	responder, legal := as(d, "TOCSIN_TOKEN_RESPONDER"), as(d, "TOCSIN_TOKEN_LEGAL")
	v = waitStatus(t, responder, id, api.StageAwaitApproval)

	// The scenario names no cause, organisation, reporter or DPO: the drafts
	// whose law requires them are incomplete, and legal cannot approve them.
	missing := map[string][]string{}
	for _, dr := range v.Drafts {
		missing[dr.Name] = dr.Missing
	}
	require.Equal(t, []string{"cause", "organisation"}, missing["report-cn-pipl-regulator"])
	require.Equal(t, []string{"cause", "dpo_contact"}, missing["notice-en"], "the notices carry the union of every duty to individuals")
	require.Empty(t, missing["notice-us-ca"], "California's form asks nothing the incident file lacks")
	err = legal.Do(ctx, "POST", "/api/v1/incidents/"+id+"/approve", api.DecisionRequest{Draft: "report-cn-pipl-regulator", Revision: 1}, nil)
	require.True(t, errors.As(err, &apiErr), "%v", err)
	require.Equal(t, http.StatusConflict, apiErr.Status)
	require.Contains(t, apiErr.Message, "incomplete: the law requires cause, organisation")
	var text string
	require.NoError(t, legal.Do(ctx, "GET", "/api/v1/incidents/"+id+"/drafts/report-cn-pipl-regulator?format=text", nil, &text))
	require.Contains(t, text, "[MISSING: cause]")

	// A responder supplies them; every pending draft whose text changes gets a new revision.
	var factsOut api.FactsResponse
	require.NoError(t, responder.Do(ctx, "POST", "/api/v1/incidents/"+id+"/facts", api.FactsRequest{Set: map[string]string{
		"cause": "An access key was committed to a public repository.", "organisation": "Example Platform Ltd", "reporter": "Jane Doe, +86 10 5555 0100",
		"dpo_contact": "dpo@example.com"}}, &factsOut))
	require.NotEmpty(t, factsOut.Drafts)
	for _, dr := range factsOut.Drafts {
		require.Empty(t, dr.Missing, dr.Name)
	}
	require.NoError(t, legal.Do(ctx, "GET", "/api/v1/incidents/"+id+"/drafts/report-cn-pipl-regulator?format=text", nil, &text))
	require.Contains(t, text, "报告单位：Example Platform Ltd")
	require.Contains(t, text, "事件原因：一个访问密钥被提交到了公开的代码仓库。", "the cause as the incident file translates it, once it is written")
	require.NotContains(t, text, "An access key", "the CAC reads Chinese")
	for _, dr := range factsOut.Drafts {
		require.Empty(t, dr.Untranslated, "%s: the sample translates every text it quotes", dr.Name)
	}
	require.NoError(t, legal.Do(ctx, "GET", "/api/v1/incidents/"+id+"/drafts/notice-us-ca?format=html", nil, &text))
	require.True(t, strings.Contains(text, "<title>Notice of Data Breach</title>") && strings.Contains(text, "<h2>What Happened</h2>"), text)

	// Legal rejects the English notice; a responder revises it; legal approves the new revision.
	v = api.View{} // decoding into the old view would keep its drafts' missing lists
	require.NoError(t, responder.Do(ctx, "GET", "/api/v1/incidents/"+id, nil, &v))
	rev := 0
	for _, dr := range v.Drafts {
		require.Empty(t, dr.Missing, dr.Name)
		if dr.Name == "notice-en" {
			rev = dr.Revision
		}
	}
	require.Equal(t, 2, rev, "the facts changed the English notice")
	// Legal read revision 1; the facts made revision 2 meanwhile: the
	// approval of what they read is refused, and one that names no
	// revision is refused too.
	err = legal.Do(ctx, "POST", "/api/v1/incidents/"+id+"/approve", api.DecisionRequest{Draft: "notice-en", Revision: 1}, nil)
	require.True(t, errors.As(err, &apiErr), "%v", err)
	require.Equal(t, http.StatusConflict, apiErr.Status)
	require.Contains(t, apiErr.Message, "notice-en revision 1 changed since you read it: review revision 2")
	err = legal.Do(ctx, "POST", "/api/v1/incidents/"+id+"/approve", api.DecisionRequest{Draft: "notice-en"}, nil)
	require.True(t, errors.As(err, &apiErr), "%v", err)
	require.Equal(t, http.StatusBadRequest, apiErr.Status)
	require.Contains(t, apiErr.Message, "name the revision of notice-en you reviewed")
	require.NoError(t, legal.Do(ctx, "POST", "/api/v1/incidents/"+id+"/reject", api.DecisionRequest{Draft: "notice-en", Revision: rev, Reason: "say which hotline to call"}, nil))
	require.NoError(t, responder.Do(ctx, "POST", "/api/v1/incidents/"+id+"/revise", api.DecisionRequest{Draft: "notice-en", Changes: map[string]string{"contact": "privacy@example.com or +1 800 555 0100"}}, nil))
	require.Eventually(t, func() bool {
		var cur api.View
		responder.Do(ctx, "GET", "/api/v1/incidents/"+id, nil, &cur)
		for _, dr := range cur.Drafts {
			if dr.Name == "notice-en" {
				return dr.Revision == rev+1 && dr.Status == api.DraftPending
			}
		}
		return false
	}, 30*time.Second, 50*time.Millisecond)
	require.NoError(t, responder.Do(ctx, "GET", "/api/v1/incidents/"+id, nil, &v))
	approveAll(t, legal, v)

	// Singapore's individuals are told only after the PDPC: notice waits for that filing.
	v = waitStatus(t, responder, id, api.StageAwaitFiling)
	err = responder.Do(ctx, "POST", "/api/v1/incidents/"+id+"/submit", api.SubmitRequest{Obligation: "no-such-duty", Reference: "x"}, nil)
	require.True(t, errors.As(err, &apiErr), "%v", err)
	require.Equal(t, http.StatusConflict, apiErr.Status)
	fileDuties(t, responder, v, func(o api.ObligationView) bool { return o.Name == "sg-pdpc" })

	v = waitStatus(t, responder, id, api.StageAnnouncing)
	v = waitForPendingAnnouncement(t, responder, id)
	// Notice has begun: legal's console offers no waiver of a duty to
	// tell people any more, only of the reports still open.
	announcing := consolePage(t, d, "TOCSIN_TOKEN_LEGAL", "/incidents/"+id)
	require.False(t, strings.Contains(announcing, `aria-label="why eu-gdpr-individuals does not apply"`), "a waiver form for a duty to tell people, after notice began")
	require.True(t, strings.Contains(announcing, `aria-label="why eu-gdpr-authority/initial does not apply"`), "no waiver form for an open report")
	approveAll(t, as(d, "TOCSIN_TOKEN_LEGAL2"), v)

	// The incident stays open until every mandatory duty is filed, or
	// waived by legal with the reason it does not apply.
	v = waitStatus(t, responder, id, api.StageFiling)
	var waived string
	for _, o := range v.Obligations {
		if !o.Voluntary && o.Audience == "regulator" && o.Status != api.FilingSubmitted && waived == "" {
			waived = o.Name
		}
	}
	require.NotEmpty(t, waived, "a regulator duty is still open")
	waiver := api.WaiveRequest{Obligation: waived, Reason: "the regulator confirmed in writing that no report is due"}
	err = responder.Do(ctx, "POST", "/api/v1/incidents/"+id+"/waive", waiver, nil)
	require.True(t, errors.As(err, &apiErr), "%v", err)
	require.Equal(t, http.StatusForbidden, apiErr.Status, "only legal waives")
	require.NoError(t, legal.Do(ctx, "POST", "/api/v1/incidents/"+id+"/waive", waiver, nil))
	fileDuties(t, responder, v, func(o api.ObligationView) bool {
		return !o.Voluntary && o.Audience != "individuals" && o.Name != waived
	})
	v = waitStatus(t, responder, id, api.StageClosed)
	residents := map[string]int{"EU": want.ByRegion["DE"]}
	for region, n := range want.ByRegion {
		residents[region] += n
	}
	for _, o := range v.Obligations {
		if o.Name == waived {
			require.Equal(t, api.FilingWaived, o.Status)
			require.Equal(t, waiver.Reason, o.Filing.WaivedBecause)
			require.Equal(t, "legal@example.com", o.Filing.By)
		} else if !o.Voluntary {
			require.Equal(t, api.FilingSubmitted, o.Status, o.Name)
		}
		if o.Audience == "individuals" && o.Filing != nil {
			// Each duty to individuals states its own residents, not the campaign's.
			var reached, announced int
			_, err := fmt.Sscanf(o.Filing.Reference, "individual notice: %d reached, %d by public announcement", &reached, &announced)
			require.NoError(t, err, o.Filing.Reference)
			require.Equal(t, residents[o.Jurisdiction], reached+announced, "%s: %s", o.Name, o.Filing.Reference)
		}
	}

	if v.Scope.Unreachable != want.Unreachable {
		var ob []devpeers.Entry
		responder.Do(ctx, "GET", "/api/v1/outbox?incident="+id, nil, &ob)
		for _, e := range ob {
			if e.Channel == "sms" || e.Channel == "voice" {
				t.Logf("%s %s %s %s", e.SubjectID, e.Channel, e.Status, e.Ref)
			}
		}
		for _, ev := range v.Timeline {
			t.Logf("%s %s", ev.Stage, ev.Text)
		}
	}
	require.Equal(t, want.Unreachable, v.Scope.Unreachable)
	require.Equal(t, want.Unreachable, v.Notifications.Failed)
	require.True(t, v.Announcement.Published)
	for _, dr := range v.Drafts {
		require.Equal(t, api.DraftApproved, dr.Status, dr.Name)
		require.NotEqual(t, "responder@example.com", dr.ApprovedBy)
	}

	// The breach register has it with each duty's outcome: filed, notified
	// by the campaign, and the waived one with legal's reason.
	var register []api.RegisterEntry
	require.NoError(t, legal.Do(ctx, "GET", "/api/v1/register", nil, &register))
	require.Len(t, register, 1, "one real incident")
	entry := register[0]
	require.Equal(t, id, entry.ID)
	require.Equal(t, want.ByRegion, entry.ByRegion)
	spec, err := incident.Parse("incident.yaml", incYAML)
	require.NoError(t, err)
	require.Equal(t, spec.Kind, entry.Kind)
	require.NotEmpty(t, entry.Measures)
	require.NotEmpty(t, entry.Description)
	duties := map[string]string{}
	for _, d := range entry.Duties {
		duties[d.Name] = d.Outcome
		if d.Name == waived {
			require.Equal(t, waiver.Reason, d.Reason)
		}
	}
	require.Equal(t, api.OutcomeWaived, duties[waived])
	require.Equal(t, api.OutcomeNotified, duties["sg-individuals"])
	require.Equal(t, api.OutcomeFiled, duties["sg-pdpc"])

	// Temporal's database holds no incident fact, identity or contact: only
	// ciphertext under the two keys the incident ran with.
	historyHoldsNoPlaintext(t, dir, []string{"Jane Doe", "+86 10 5555 0100", "An access key was committed", "Example Platform Ltd",
		"persona media store", "say which hotline", "legal@example.com", "p2@mail.invalid", "+14155550002"}, oldKeys.Current(), newKey)

	// The announcement page is public.
	resp, err := http.Get(v.Announcement.URL)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	var outbox []devpeers.Entry
	require.NoError(t, responder.Do(ctx, "GET", "/api/v1/outbox?incident="+url.QueryEscape(id), nil, &outbox))
	checkOutbox(t, want, outbox)
	checkCaliforniaForm(t, outbox)

	// The platform reads a person's in-app inbox from Tocsin: the notice in
	// the revision they were sent. Its token reads nothing else.
	platform := as(d, "TOCSIN_TOKEN_PLATFORM")
	var inbox []store.InboxNotice
	require.NoError(t, platform.Do(ctx, "GET", "/api/v1/onsite/inbox/acct-4", nil, &inbox))
	require.Len(t, inbox, 1)
	require.Equal(t, id+".s00004", inbox[0].ID, "the same ID as the webhook's Idempotency-Key")
	require.Equal(t, "zh-CN", inbox[0].Locale)
	require.True(t, hasHan(inbox[0].Body), inbox[0].Body)
	err = platform.Do(ctx, "GET", "/api/v1/incidents/"+id, nil, nil)
	require.True(t, errors.As(err, &apiErr) && apiErr.Status == http.StatusForbidden, "%v", err)
	err = responder.Do(ctx, "GET", "/api/v1/onsite/inbox/acct-4", nil, nil)
	require.True(t, errors.As(err, &apiErr) && apiErr.Status == http.StatusForbidden, "%v", err)

	// The incident's own record of the first channel agrees with the peers.
	// Paged by a small page size, so the cursor is exercised too.
	var outcomes []store.AffectedSubject
	for after := ""; ; {
		var page api.SubjectsPage
		require.NoError(t, legal.Do(ctx, "GET", "/api/v1/incidents/"+id+"/subjects?limit=7&after="+url.QueryEscape(after), nil, &page))
		outcomes = append(outcomes, page.Subjects...)
		if after = page.Next; after == "" {
			break
		}
	}
	require.Len(t, outcomes, want.Subjects)
	for _, o := range outcomes {
		exp := want.FirstChannel[o.SubjectID]
		if exp == nil {
			require.Empty(t, o.ReachedBy, o.SubjectID)
		} else {
			require.Equal(t, *exp, o.ReachedBy, o.SubjectID)
		}
	}
	// Forensics names the exact rows read: the second incident scopes only
	// them, narrowed further to residents of Hong Kong.
	named := filepath.Join(t.TempDir(), "read-rows.txt")
	require.NoError(t, os.WriteFile(named, []byte("# from the bucket's access log\ns00002\ns00006\ns00008\n"), 0o644))
	narrowed := filepath.Join(t.TempDir(), "incident.yaml")
	require.NoError(t, os.WriteFile(narrowed, append(incYAML, []byte("\nregions: [HK]\n")...), 0o644))
	var second map[string]string
	require.NoError(t, responder.UploadFiles(ctx, "/api/v1/incidents", []client.Upload{{Field: "incident", Path: narrowed}, {Field: "subjects", Path: named}}, nil, &second))
	v2 := waitStatus(t, legal, second["id"], api.StageAwaitApproval)
	require.Equal(t, 2, v2.Scope.Subjects)
	require.Equal(t, map[string]int{"HK": 2}, v2.Scope.ByRegion)
	require.EqualValues(t, 3, v2.Scope.NamedSubjects)
	withholdFromHongKong(t, d, v2)

	if path := os.Getenv("TOCSIN_RECORD_HISTORY"); path != "" {
		recordHistory(t, d, id, path)
		recordKeys(t, filepath.Join(dir, DevCodecKeyFile), filepath.Join(filepath.Dir(path), "codec.keys"))
		// and its first campaign partition, for NotifyWorkflow's replay test
		recordHistory(t, d, id+"-notify-1", strings.TrimSuffix(path, ".json")+"_notify.json")
		// and the second incident, whose notice was withheld
		recordHistory(t, d, v2.ID, strings.TrimSuffix(path, ".json")+"_withheld.json")
	}

	// Tocsin's store is the system of record: with the workflow deleted
	// from Temporal (as the namespace's retention will) and the process
	// restarted, the incident and its evidence read as before.
	// As in a data directory from before records were kept: the first read
	// while Temporal still has the workflow makes the record.
	forgetRecord(t, database, id)
	var before json.RawMessage
	require.NoError(t, responder.Do(ctx, "GET", "/api/v1/incidents/"+id, nil, &before))
	exported := evidenceFiles(t, responder, id)
	pageBefore := consolePage(t, d, "TOCSIN_TOKEN_LEGAL", "/incidents/"+id)
	require.Contains(t, pageBefore, `id="stage">closed<`)
	listedBefore := listed(t, responder, id)
	_, err = d.Temporal.WorkflowService().DeleteWorkflowExecution(ctx, &workflowservice.DeleteWorkflowExecutionRequest{Namespace: "default", WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: id}})
	require.NoError(t, err)
	d.Stop()
	d = startDev(t, dir, database)
	responder = as(d, "TOCSIN_TOKEN_RESPONDER")
	// Temporal deletes in the background (its worker service's task).
	require.Eventually(t, func() bool {
		_, err := d.Temporal.DescribeWorkflowExecution(ctx, id, "")
		var gone *serviceerror.NotFound
		return errors.As(err, &gone)
	}, 2*time.Minute, 200*time.Millisecond, "the workflow is deleted")
	var after json.RawMessage
	require.NoError(t, responder.Do(ctx, "GET", "/api/v1/incidents/"+id, nil, &after))
	require.JSONEq(t, string(before), string(after), "incident show after the workflow is gone")
	require.Equal(t, pageBefore, consolePage(t, d, "TOCSIN_TOKEN_LEGAL", "/incidents/"+id), "the console page after the workflow is gone")
	require.Equal(t, listedBefore, listed(t, responder, id), "incident list after the workflow is gone")
	again := evidenceFiles(t, responder, id)
	require.Equal(t, slices.Sorted(maps.Keys(exported)), slices.Sorted(maps.Keys(again)))
	for name, data := range exported {
		require.Equal(t, data, again[name], "%s of the evidence bundle after the workflow is gone", name)
	}
	d.Stop()
	stopped = true
}

// withholdFromHongKong drives the second incident (two residents of Hong
// Kong) to its close with legal's waiver of the duty to tell them: nobody
// is sent anything, both count as withheld, not unreached (no
// announcement), and the register says why.
func withholdFromHongKong(t *testing.T, d *Dev, v api.View) {
	t.Helper()
	ctx := context.Background()
	responder, legal := as(d, "TOCSIN_TOKEN_RESPONDER"), as(d, "TOCSIN_TOKEN_LEGAL")
	duty := ""
	for _, o := range v.Obligations {
		if o.Audience == "individuals" && o.Jurisdiction == "HK" {
			duty = o.Name
		}
	}
	require.NotEmpty(t, duty, "a duty to tell Hong Kong's residents: %+v", v.Obligations)
	reason := "the leaked rows were encrypted and the key was not taken"
	require.True(t, strings.Contains(consolePage(t, d, "TOCSIN_TOKEN_LEGAL", "/incidents/"+v.ID), `aria-label="why `+duty+` does not apply"`), "before notice, legal may waive %s", duty)
	require.NoError(t, legal.Do(ctx, "POST", "/api/v1/incidents/"+v.ID+"/waive", api.WaiveRequest{Obligation: duty, Reason: reason}, nil))
	require.NoError(t, responder.Do(ctx, "POST", "/api/v1/incidents/"+v.ID+"/facts", api.FactsRequest{Set: map[string]string{
		"cause": "An access key was committed to a public repository.", "organisation": "Example Platform Ltd", "dpo_contact": "dpo@example.com"}}, nil))
	id := v.ID
	eventually(t, 100*time.Millisecond, func(ct *assert.CollectT) {
		v = api.View{}
		require.NoError(ct, responder.Do(ctx, "GET", "/api/v1/incidents/"+id, nil, &v))
		for _, dr := range v.Drafts {
			require.Empty(ct, dr.Missing, dr.Name)
		}
	})
	approveAll(t, legal, v)
	v = waitStatus(t, responder, v.ID, api.StageClosed)
	require.Zero(t, v.Notifications.Reached)
	require.Zero(t, v.Notifications.Failed, "the withheld are not unreached")
	require.Equal(t, 2, v.Notifications.Withheld)
	require.True(t, strings.Contains(consolePage(t, d, "TOCSIN_TOKEN_LEGAL", "/incidents/"+v.ID), `withheld (duty waived): <span id="withheld">2</span>`), "the console shows the withheld")
	require.False(t, v.Announcement.Published, "no announcement is owed the withheld")
	found := false
	for _, e := range v.Timeline {
		found = found || e.Text == "individual notice withheld from 2 people in HK: "+duty+" waived"
	}
	require.True(t, found, "the timeline says who was withheld and why: %+v", v.Timeline)
	var outbox []devpeers.Entry
	require.NoError(t, responder.Do(ctx, "GET", "/api/v1/outbox?incident="+url.QueryEscape(v.ID), nil, &outbox))
	for _, e := range outbox {
		require.Equal(t, "slack", e.Channel, "nobody was sent anything: %+v", e)
	}
	var page api.SubjectsPage
	require.NoError(t, legal.Do(ctx, "GET", "/api/v1/incidents/"+v.ID+"/subjects", nil, &page))
	require.Len(t, page.Subjects, 2)
	for _, s := range page.Subjects {
		require.True(t, s.Withheld, s.SubjectID)
		require.Empty(t, s.ReachedBy, s.SubjectID)
	}
	var register []api.RegisterEntry
	require.NoError(t, legal.Do(ctx, "GET", "/api/v1/register", nil, &register))
	for _, e := range register {
		if e.ID != v.ID {
			continue
		}
		require.Equal(t, 2, e.Withheld)
		for _, dd := range e.Duties {
			if dd.Name == duty {
				require.Equal(t, api.OutcomeWaived, dd.Outcome)
				require.Equal(t, reason, dd.Reason)
				return
			}
		}
	}
	require.Failf(t, "not in the register", "%s and its waived %s", v.ID, duty)
}

// consolePage signs in to the console with a fresh session and reads a
// page, with what differs between sessions and seconds (the form tokens,
// live countdowns) blanked.
func consolePage(t *testing.T, d *Dev, token, path string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	read := func(resp *http.Response, err error) string {
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		return string(body)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	resp, err := c.Get(d.URL + "/") // the sign-in page, answered 401
	require.NoError(t, err)
	form, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	signIn := csrf.FindStringSubmatch(string(form))
	require.NotNil(t, signIn)
	read(c.PostForm(d.URL+"/login", url.Values{"token": {d.Tokens[token]}, "csrf": {signIn[1]}}))
	page := csrf.ReplaceAllString(read(c.Get(d.URL+path)), `name="csrf" value=""`)
	return regexp.MustCompile(`(<time class="countdown"[^>]*>)[^<]*`).ReplaceAllString(page, "$1")
}

// listed is the incident's line of `incident list -o json`, filtered to
// closed incidents.
func listed(t *testing.T, c *client.Client, id string) api.ListItem {
	t.Helper()
	var items []api.ListItem
	_, err := c.GetPage(context.Background(), "/api/v1/incidents?status=closed&limit=1000", &items)
	require.NoError(t, err)
	for _, it := range items {
		if it.ID == id {
			require.Equal(t, api.StageClosed, it.Status)
			require.NotEmpty(t, it.Jurisdictions)
			require.Positive(t, it.Scope.Subjects)
			return it
		}
	}
	require.Failf(t, "not listed", "%s is not among the closed incidents", id)
	return api.ListItem{}
}

// forgetRecord deletes an incident's record from the store behind Tocsin's
// back, as if it had been opened before records were kept.
func forgetRecord(t *testing.T, database, id string) {
	driver, dsn, q := "sqlite", "file:"+database+"?_pragma=busy_timeout(10000)", `DELETE FROM incident_records WHERE incident_id = ?`
	if strings.HasPrefix(database, "postgres") {
		driver, dsn, q = "pgx", database, `DELETE FROM incident_records WHERE incident_id = $1`
	}
	db, err := sql.Open(driver, dsn)
	require.NoError(t, err)
	defer db.Close()
	res, err := db.Exec(q, id)
	require.NoError(t, err)
	n, err := res.RowsAffected()
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "the closed incident had a record")
}

// evidenceFiles exports the incident's evidence bundle and returns its
// files by name (the manifest and its hash, which name the export's time, aside).
func evidenceFiles(t *testing.T, c *client.Client, id string) map[string]string {
	dir := filepath.Join(t.TempDir(), "bundle")
	_, err := evidence.Export(context.Background(), c, id, dir)
	require.NoError(t, err)
	files := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() || strings.HasPrefix(e.Name(), "manifest.") {
			return err
		}
		data, err := os.ReadFile(path)
		files[strings.TrimPrefix(path, dir)] = string(data)
		return err
	}))
	require.NotEmpty(t, files)
	return files
}

// historyHoldsNoPlaintext reads the embedded Temporal's files raw (the
// database and its write-ahead log) and fails on any of secrets; each key
// ID must appear, so the reading is not of an empty file.
func historyHoldsNoPlaintext(t *testing.T, dir string, secrets []string, keyIDs ...string) {
	t.Helper()
	var raw []byte
	for _, name := range []string{"temporal.db", "temporal.db-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if !errors.Is(err, os.ErrNotExist) {
			require.NoError(t, err)
		}
		raw = append(raw, b...)
	}
	require.NotEmpty(t, raw)
	for _, s := range secrets {
		require.NotContains(t, string(raw), s, "Temporal's database holds %q in plain text", s)
	}
	for _, id := range keyIDs {
		require.Contains(t, string(raw), id, "no payload encrypted under key %s", id)
	}
}

// recordKeys adds the keys a recorded history was encrypted with to the
// replay test's key file (test keys, protecting nothing).
func recordKeys(t *testing.T, from, to string) {
	data, err := os.ReadFile(from)
	require.NoError(t, err)
	have, _ := os.ReadFile(to)
	f, err := os.OpenFile(to, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	defer f.Close()
	for _, line := range strings.Split(string(data), "\n") {
		if line != "" && !strings.Contains(string(have), line) {
			_, err := fmt.Fprintln(f, line)
			require.NoError(t, err)
		}
	}
}

// recordHistory writes the incident's history for the workflows replay test.
func recordHistory(t *testing.T, d *Dev, id, path string) {
	it := d.Temporal.GetWorkflowHistory(context.Background(), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, ev)
	}
	data, err := protojson.MarshalOptions{Indent: " "}.Marshal(h)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, data, 0o644))
}

func waitForPendingAnnouncement(t *testing.T, c *client.Client, id string) api.View {
	var v api.View
	require.Eventually(t, func() bool {
		if c.Do(context.Background(), "GET", "/api/v1/incidents/"+id, nil, &v) != nil {
			return false
		}
		for _, d := range v.Drafts {
			if d.Name == "announcement" {
				return true
			}
		}
		return false
	}, 30*time.Second, 50*time.Millisecond)
	return v
}

func checkOutbox(t *testing.T, want expected, outbox []devpeers.Entry) {
	t.Helper()
	type key struct{ subject, channel string }
	seen := map[key]int{}
	reached := map[string]map[string]bool{}
	bodies := map[string][]string{}
	announcements := 0
	devices := sampleDevices(t)
	for _, e := range outbox {
		if e.Channel == "push" && e.SubjectID == "" {
			// An alert names no subject (Google and Apple get no
			// internal IDs): the sample's device tokens say whose.
			e.SubjectID = devices[e.To]
			require.NotEmpty(t, e.SubjectID, "a push to %s, a device of nobody in the sample", e.To)
		}
		if e.Channel == "announcement" {
			announcements++
			require.True(t, hasHan(e.Body) && strings.Contains(e.Body, "What happened"), "announcement is bilingual")
			continue
		}
		if e.SubjectID == "" {
			continue // war-room posts
		}
		seen[key{e.SubjectID, e.Channel}]++
		bodies[e.SubjectID] = append(bodies[e.SubjectID], e.Body)
		if e.Status == "accepted" || e.Status == "delivered" || e.Status == "completed" {
			if reached[e.SubjectID] == nil {
				reached[e.SubjectID] = map[string]bool{}
			}
			reached[e.SubjectID][e.Channel] = true
		}
	}
	require.Equal(t, 1, announcements, "exactly one public announcement")
	for k, n := range seen {
		require.Equal(t, 1, n, "subject %s got %d notices over %s", k.subject, n, k.channel)
	}
	for _, id := range want.Unaffected {
		require.Empty(t, bodies[id], "unaffected subject %s was contacted", id)
	}
	for subject, exp := range want.FirstChannel {
		got := firstRung(reached[subject])
		if exp == nil {
			require.Empty(t, got, "subject %s should be unreachable", subject)
			continue
		}
		require.Equal(t, *exp, got, "first channel of %s", subject)
	}
	zh := map[string]bool{}
	for _, id := range want.ZH {
		zh[id] = true
		if want.FirstChannel[id] != nil { // the unreachable read the bilingual announcement
			require.NotEmpty(t, bodies[id], "zh subject %s got nothing", id)
		}
	}
	for subject, bs := range bodies {
		for _, b := range bs {
			if strings.HasPrefix(b, "<?xml") { // voice TwiML: the script sits inside
				b = b[strings.Index(b, "<Say"):]
			}
			require.Equal(t, zh[subject], hasHan(b), "subject %s notice language: %.80s", subject, b)
		}
	}
}

// checkCaliforniaForm: residents of California get the Notice of Data Breach
// with the statute's headings; everyone else gets their locale's notice.
func checkCaliforniaForm(t *testing.T, outbox []devpeers.Entry) {
	t.Helper()
	f, err := os.Open(filepath.Join(scenario, "subjects.csv"))
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	region := map[string]string{}
	for _, r := range rows[1:] {
		region[r[0]] = r[6]
	}
	californians := 0
	for _, e := range outbox {
		if e.Channel != "email" || e.SubjectID == "" {
			continue
		}
		ca := strings.Contains(e.Body, "What Information Was Involved")
		require.Equal(t, region[e.SubjectID] == "US-CA", ca, "subject %s in %s: %.80s", e.SubjectID, region[e.SubjectID], e.Body)
		if ca {
			californians++
			require.Equal(t, "Notice of Data Breach", e.Subject)
		}
	}
	require.Positive(t, californians)
}

// firstRung names what reached a subject the way expected.json does: the
// channels of the first rung that reached them, in ladder order.
func firstRung(ch map[string]bool) string {
	var first []string
	for _, c := range []string{"onsite", "email", "push"} {
		if ch[c] {
			first = append(first, c)
		}
	}
	if len(first) > 0 {
		return strings.Join(first, "+")
	}
	for _, c := range []string{"sms", "voice", "letter"} {
		if ch[c] {
			return c
		}
	}
	return ""
}

// sampleDevices maps each device token of the sample ("fcm:...") to its
// subject.
func sampleDevices(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(scenario, "subjects.csv"))
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	col := slices.Index(rows[0], "push_tokens")
	out := map[string]string{}
	for _, r := range rows[1:] {
		for _, tok := range strings.Split(r[col], ";") {
			if tok != "" {
				out[tok] = r[0]
			}
		}
	}
	return out
}
