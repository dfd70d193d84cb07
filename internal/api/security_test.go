package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/devtools/devpeers"
	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/playbooks"
	"github.com/tocsin/tocsin/workflows"
)

func newServer(t testing.TB) (*Server, *httptest.Server) {
	st, err := store.Open(filepath.Join(t.TempDir(), "t.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	require.NoError(t, Seed(context.Background(), st, map[string]store.Token{"resp": {Identity: "r@example.com", Role: RoleResponder}, "view": {Identity: "v@example.com", Role: RoleViewer}}))
	s := &Server{Store: st, TwilioAuthToken: "token0", PublicURL: "http://tocsin.test"}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return s, hs
}

func TestEveryAPICallNeedsAToken(t *testing.T) {
	_, hs := newServer(t)
	for _, route := range []struct{ method, path string }{
		{"GET", "/api/v1/incidents"}, {"GET", "/api/v1/incidents/INC-1"}, {"POST", "/api/v1/incidents"},
		{"POST", "/api/v1/incidents/INC-1/approve"}, {"POST", "/api/v1/incidents/INC-1/reject"}, {"POST", "/api/v1/incidents/INC-1/revise"},
		{"POST", "/api/v1/inventory"}, {"GET", "/api/v1/inventory"}, {"POST", "/api/v1/inventory/prune"}, {"GET", "/api/v1/outbox"}, {"GET", "/api/v1/incidents/INC-1/subjects"},
	} {
		req, _ := http.NewRequest(route.method, hs.URL+route.path, nil)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%s %s", route.method, route.path)
	}
}

func TestRolesAreChecked(t *testing.T) {
	_, hs := newServer(t)
	for _, c := range []struct{ token, method, path string }{
		{"resp", "POST", "/api/v1/incidents/INC-1/approve"}, // responders never approve
		{"resp", "POST", "/api/v1/incidents/INC-1/reject"},
		{"view", "POST", "/api/v1/incidents"}, // viewers only read
		{"view", "POST", "/api/v1/inventory"},
		{"view", "POST", "/api/v1/inventory/prune"},
		{"view", "GET", "/api/v1/incidents/INC-1/subjects"},
	} {
		req, _ := http.NewRequest(c.method, hs.URL+c.path, strings.NewReader(`{"draft":"notice-en"}`))
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusForbidden, resp.StatusCode, "%s %s as %s", c.method, c.path, c.token)
	}
}

func TestForgedTwilioCallbackIsRefused(t *testing.T) {
	s, hs := newServer(t)
	ctx := context.Background()
	_, _, err := s.Store.BeginDelivery(ctx, store.Delivery{IncidentID: "INC-1", SubjectID: "s1", Channel: "sms", Rung: 2})
	require.NoError(t, err)
	require.NoError(t, s.Store.FinishDelivery(ctx, store.Delivery{IncidentID: "INC-1", SubjectID: "s1", Channel: "sms", Status: store.StatusSent, ProviderRef: "SM1"}))

	path := "/webhooks/twilio/status?channel=sms&incident=INC-1&subject=s1"
	params := url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"delivered"}}
	post := func(sig string) int {
		req, _ := http.NewRequest("POST", hs.URL+path, strings.NewReader(params.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", sig)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusForbidden, post("forged"))
	require.Equal(t, http.StatusForbidden, post(devpeers.SignTwilio("another-token", s.PublicURL+path, params)))
	d, err := s.Store.GetDelivery(ctx, "INC-1", "s1", "sms")
	require.NoError(t, err)
	require.Equal(t, store.StatusSent, d.Status, "a forged receipt changes nothing")

	require.Equal(t, http.StatusNoContent, post(devpeers.SignTwilio("token0", s.PublicURL+path, params)))
	d, _ = s.Store.GetDelivery(ctx, "INC-1", "s1", "sms")
	require.Equal(t, store.StatusDelivered, d.Status)

	// A late "sent" after "delivered" never moves the delivery backwards.
	params.Set("MessageStatus", "failed")
	require.Equal(t, http.StatusNoContent, post(devpeers.SignTwilio("token0", s.PublicURL+path, params)))
	d, _ = s.Store.GetDelivery(ctx, "INC-1", "s1", "sms")
	require.Equal(t, store.StatusDelivered, d.Status)
}

func TestCallAcknowledgementIsSignedAndRecorded(t *testing.T) {
	s, hs := newServer(t)
	ctx := context.Background()
	_, _, err := s.Store.BeginDelivery(ctx, store.Delivery{IncidentID: "INC-1", SubjectID: "s1", Channel: "voice", Rung: 3})
	require.NoError(t, err)
	require.NoError(t, s.Store.FinishDelivery(ctx, store.Delivery{IncidentID: "INC-1", SubjectID: "s1", Channel: "voice", Status: store.StatusSent, ProviderRef: "CA1"}))
	post := func(path string, params url.Values, sig string) (int, string) {
		req, _ := http.NewRequest("POST", hs.URL+path, strings.NewReader(params.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", sig)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	ack := "/webhooks/twilio/ack?channel=voice&incident=INC-1&subject=s1"
	pressed := url.Values{"CallSid": {"CA1"}, "Digits": {"1"}}
	code, _ := post(ack, pressed, devpeers.SignTwilio("another-token", s.PublicURL+ack, pressed))
	require.Equal(t, http.StatusForbidden, code, "a forged key press is refused")
	code, body := post(ack, pressed, devpeers.SignTwilio("token0", s.PublicURL+ack, pressed))
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "<Hangup/>")

	status := "/webhooks/twilio/status?channel=voice&incident=INC-1&subject=s1"
	done := url.Values{"CallSid": {"CA1"}, "CallStatus": {"completed"}, "AnsweredBy": {"human"}}
	code, _ = post(status, done, devpeers.SignTwilio("token0", s.PublicURL+status, done))
	require.Equal(t, http.StatusNoContent, code)
	d, err := s.Store.GetDelivery(ctx, "INC-1", "s1", "voice")
	require.NoError(t, err)
	require.Equal(t, store.StatusDelivered, d.Status)
	require.Equal(t, "acknowledged: pressed 1; answered by human", d.Detail)
}

// Subject IDs and provider errors come from outside; the ledger export that
// legal opens in a spreadsheet must not run them as formulas.
func TestTheLedgerExportWritesFormulasAsText(t *testing.T) {
	s, hs := newServer(t)
	ctx := context.Background()
	require.NoError(t, s.Store.CreateIncident(ctx, store.Incident{ID: "INC-1", Title: "t", OpenedBy: "r@example.com"}, nil))
	_, _, err := s.Store.BeginDelivery(ctx, store.Delivery{IncidentID: "INC-1", SubjectID: "=HYPERLINK(\"http://evil.example\")", Channel: "email", Rung: 1})
	require.NoError(t, err)
	req, _ := http.NewRequest("GET", hs.URL+"/api/v1/incidents/INC-1/deliveries", nil)
	req.Header.Set("Authorization", "Bearer resp")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), `"'=HYPERLINK(""http://evil.example"")"`)
}

// A campaign whose last calls wait for morning is not nearly done: its ETA
// runs at least to the last held call.
func TestHeldCallsCountInTheCampaignsETA(t *testing.T) {
	s, _ := newServer(t)
	ctx := context.Background()
	last := time.Now().Add(5 * time.Hour)
	require.NoError(t, s.Store.HoldCalls(ctx, "INC-1", []store.HeldCall{{SubjectID: "s1", Until: time.Now().Add(time.Hour), Local: "a"}, {SubjectID: "s2", Until: last, Local: "b"}}))
	cv := s.countCampaign(ctx, "INC-1", workflows.CampaignState{Subjects: 10}, false)
	require.NotNil(t, cv.Held)
	require.Equal(t, 2, cv.Held.Calls)
	require.Equal(t, "b", cv.Held.ToLocal)
	eta, err := time.ParseDuration(cv.ETA)
	require.NoError(t, err)
	require.Greater(t, eta, 4*time.Hour+59*time.Minute)
}

// A call that "completed" because a fax or a silent answering machine picked
// up told nobody: the person is not counted as reached and moves on.
func TestACallAnsweredByAFaxIsNotDelivered(t *testing.T) {
	s, hs := newServer(t)
	ctx := context.Background()
	for sid, by := range map[string]string{"CAFAX": "fax", "CAMACHINE": "machine_end_silence", "CABEEP": "machine_end_beep", "CAHUMAN": "human"} {
		subject := "s-" + sid
		_, _, err := s.Store.BeginDelivery(ctx, store.Delivery{IncidentID: "INC-1", SubjectID: subject, Channel: "voice", Rung: 3})
		require.NoError(t, err)
		require.NoError(t, s.Store.FinishDelivery(ctx, store.Delivery{IncidentID: "INC-1", SubjectID: subject, Channel: "voice", Status: store.StatusSent, ProviderRef: sid}))
		path := "/webhooks/twilio/status?channel=voice&incident=INC-1&subject=" + subject
		params := url.Values{"CallSid": {sid}, "CallStatus": {"completed"}, "AnsweredBy": {by}}
		req, _ := http.NewRequest("POST", hs.URL+path, strings.NewReader(params.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", devpeers.SignTwilio("token0", s.PublicURL+path, params))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		d, err := s.Store.GetDelivery(ctx, "INC-1", subject, "voice")
		require.NoError(t, err)
		want := store.StatusFailed
		if by == "human" || by == "machine_end_beep" {
			want = store.StatusDelivered
		}
		require.Equal(t, want, d.Status, "answered by %s", by)
	}
}

// Free text past its limit is refused at the API with 400, naming the field
// and the limit, before anything reaches the workflow.
func TestFreeTextPastItsLimitIsRefusedNamingTheField(t *testing.T) {
	s, hs := authzServer(t)
	require.NoError(t, s.Store.CreateIncident(context.Background(), store.Incident{ID: "INC-1", Title: "t", OpenedBy: "r@example.com", OpenedAt: time.Now()}, nil))
	long := strings.Repeat("x", workflows.MaxNoteBytes+1)
	for path, body := range map[string]string{
		"/api/v1/incidents/INC-1/reject":  `{"draft":"notice-en","revision":1,"reason":"` + long + `"}`,
		"/api/v1/incidents/INC-1/approve": `{"draft":"notice-en","revision":1,"comment":"` + long + `"}`,
		"/api/v1/incidents/INC-1/waive":   `{"obligation":"eu-authority","reason":"` + long + `"}`,
	} {
		req, _ := http.NewRequest("POST", hs.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer tok-legal")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, path)
		require.Contains(t, string(msg), fmt.Sprintf("%d bytes; at most %d", workflows.MaxNoteBytes+1, workflows.MaxNoteBytes), path)
	}
}

// Legal releases an incident's calls from quiet hours only with a reason,
// and the audit log keeps who and why; a responder may not.
func TestReleasingCallsNeedsLegalAndAReason(t *testing.T) {
	s, _ := authzServer(t)
	ctx := context.Background()
	require.NoError(t, s.Store.CreateIncident(ctx, store.Incident{ID: "INC-1", Title: "t", OpenedBy: "r@example.com", OpenedAt: time.Now()}, nil))
	legal := Principal{Identity: "legal@example.com", Role: RoleLegal, Via: "api"}
	_, err := s.ReleaseCalls(ctx, Principal{Identity: "r@example.com", Role: RoleResponder, Via: "slack"}, "INC-1", "urgent")
	require.Equal(t, incident.Forbidden, incident.RefusedAs(err), "%v", err)
	require.Equal(t, http.StatusForbidden, statusOf(err))
	_, err = s.ReleaseCalls(ctx, legal, "INC-1", "  ")
	require.Equal(t, incident.Invalid, incident.RefusedAs(err))
	require.Equal(t, http.StatusBadRequest, statusOf(err))
	require.ErrorContains(t, err, "say why the harm cannot wait")
	_, err = s.ReleaseCalls(ctx, legal, "INC-404", "urgent")
	require.Equal(t, http.StatusNotFound, statusOf(err))
	rel, err := s.ReleaseCalls(ctx, legal, "INC-1", "accounts are being taken over tonight")
	require.NoError(t, err)
	require.Equal(t, "legal@example.com", rel.By)
	log, err := s.Store.AuditLog(ctx, "INC-1")
	require.NoError(t, err)
	var done, refused int
	for _, e := range log {
		if e.Action == "release calls" {
			if e.Outcome == store.AuditDone {
				done++
				require.Equal(t, "accounts are being taken over tonight", e.Detail["reason"])
			} else {
				refused++
			}
		}
	}
	require.Equal(t, 1, done)
	require.Equal(t, 2, refused)
}

// Legal or an admin pause a campaign only with a reason, once; a
// responder (from Slack too) may neither pause nor resume; resuming a
// campaign that runs says so. The audit log keeps each, done or refused.
func TestPausingACampaignNeedsLegalAndAReason(t *testing.T) {
	s, _ := authzServer(t)
	ctx := context.Background()
	require.NoError(t, s.Store.CreateIncident(ctx, store.Incident{ID: "INC-1", Title: "t", OpenedBy: "r@example.com", OpenedAt: time.Now()}, nil))
	legal := Principal{Identity: "legal@example.com", Role: RoleLegal, Via: "slack"}
	responder := Principal{Identity: "r@example.com", Role: RoleResponder, Via: "slack"}
	_, err := s.PauseCampaign(ctx, responder, "INC-1", "stop")
	require.Equal(t, http.StatusForbidden, statusOf(err))
	_, err = s.PauseCampaign(ctx, legal, "INC-1", " ")
	require.ErrorContains(t, err, "say why the campaign stops")
	_, err = s.ResumeCampaign(ctx, legal, "INC-1")
	require.Equal(t, http.StatusConflict, statusOf(err), "%v", err)
	p, err := s.PauseCampaign(ctx, legal, "INC-1", "wrong hotline in the notice")
	require.NoError(t, err)
	require.Equal(t, "legal@example.com", p.By)
	_, err = s.PauseCampaign(ctx, Principal{Identity: "admin@example.com", Role: RoleAdmin, Via: "api"}, "INC-1", "again")
	require.ErrorContains(t, err, "already paused, by legal@example.com")
	_, err = s.ResumeCampaign(ctx, responder, "INC-1")
	require.Equal(t, http.StatusForbidden, statusOf(err))
	_, paused, err := s.Store.CampaignPaused(ctx, "INC-1")
	require.NoError(t, err)
	require.True(t, paused, "a refused resume leaves it paused")
	got, err := s.ResumeCampaign(ctx, legal, "INC-1")
	require.NoError(t, err)
	require.Equal(t, "wrong hotline in the notice", got.Reason)
	log, err := s.Store.AuditLog(ctx, "INC-1")
	require.NoError(t, err)
	outcomes := map[string]int{}
	for _, e := range log {
		outcomes[e.Action+" "+e.Outcome]++
	}
	require.Equal(t, map[string]int{"pause campaign " + store.AuditDone: 1, "pause campaign " + store.AuditRefused: 3, "resume campaign " + store.AuditDone: 1, "resume campaign " + store.AuditRefused: 2}, outcomes)
}

// A law-enforcement hold is taken only where the law of every duty to
// tell people lets such a request move it; it names the agency, is kept
// with the duties it moves, and lifts on its own when its time passes.
func TestAHoldMovesOnlyDutiesWhoseLawAllowsIt(t *testing.T) {
	s, _ := authzServer(t)
	ctx := context.Background()
	legal := Principal{Identity: "legal@example.com", Role: RoleLegal, Via: "api"}
	record := func(id string, obs ...playbooks.Obligation) {
		require.NoError(t, s.Store.CreateIncident(ctx, store.Incident{ID: id, Title: "t", OpenedBy: "r@example.com", OpenedAt: time.Now()}, nil))
		rec := incident.Record{Status: incident.StageClosed, Obligations: obs}
		b, err := json.Marshal(rec)
		require.NoError(t, err)
		require.NoError(t, s.Store.SaveRecord(ctx, id, 1, b, rec.Summary()))
	}
	ca := playbooks.Obligation{Name: "us-ca-individuals", Jurisdiction: "US-CA", Audience: "individuals", LawEnforcementDelay: "Cal. Civ. Code 1798.82(c)"}
	eu := playbooks.Obligation{Name: "eu-gdpr-individuals", Jurisdiction: "EU", Audience: "individuals"}
	record("INC-MIXED", ca, eu)
	record("INC-US", ca, playbooks.Obligation{Name: "us-ca-attorney-general", Audience: "regulator"})
	until := time.Now().Add(2 * time.Second).UTC()
	req := HoldRequest{Until: until, Reason: "the suspect must not be alerted", RequestedBy: "Det. Kim, SFPD cyber crimes"}

	_, err := s.HoldCampaign(ctx, legal, "INC-MIXED", req)
	require.Equal(t, http.StatusConflict, statusOf(err))
	require.ErrorContains(t, err, "the law of eu-gdpr-individuals lets no law-enforcement request delay notice")
	_, err = s.HoldCampaign(ctx, legal, "INC-US", HoldRequest{Until: until, Reason: "x"})
	require.ErrorContains(t, err, "name the agency and officer who asked")
	_, err = s.HoldCampaign(ctx, legal, "INC-US", HoldRequest{Until: time.Now().Add(-time.Hour), Reason: "x", RequestedBy: "y"})
	require.ErrorContains(t, err, "is not in the future")
	_, err = s.HoldCampaign(ctx, Principal{Identity: "r@example.com", Role: RoleResponder, Via: "api"}, "INC-US", req)
	require.Equal(t, http.StatusForbidden, statusOf(err))

	pv, err := s.HoldCampaign(ctx, legal, "INC-US", req)
	require.NoError(t, err)
	require.Equal(t, []string{"us-ca-individuals"}, pv.Duties, "the regulator's duty is not moved")
	require.Equal(t, "Det. Kim, SFPD cyber crimes", pv.RequestedBy)
	_, paused, err := s.Store.CampaignPaused(ctx, "INC-US")
	require.NoError(t, err)
	require.True(t, paused)
	require.Eventually(t, func() bool {
		_, paused, err := s.Store.CampaignPaused(ctx, "INC-US")
		return err == nil && !paused
	}, 10*time.Second, 100*time.Millisecond, "the hold lifts on its own at its time")
	_, err = s.PauseCampaign(ctx, legal, "INC-US", "a new pause after the hold ended")
	require.NoError(t, err, "a hold that ended stands in nobody's way")
}
