package api

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/client"
	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/playbooks"
	"github.com/tocsin/tocsin/workflows"
)

// The register lists every real incident in the period with its facts and
// each duty's outcome, from the store alone; drills are not breaches, and a
// restricted incident stays with the people it names.
func TestTheRegisterListsEachDutysOutcome(t *testing.T) {
	s, hs := storeOnlyServer(t, 0)
	ctx := context.Background()
	detected := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	filedAt, waivedAt := detected.Add(20*time.Hour), detected.Add(30*time.Hour)
	progress := workflows.Progress{Status: workflows.StageClosed,
		Scope:       &store.ScopeSummary{Subjects: 15, Regions: map[string]store.RegionFacts{"DE": {Subjects: 6}, "SG": {Subjects: 9}}, Sensitive: 2, Categories: []string{"contact", "health"}},
		Reach:       &store.Reach{Reached: 14, Unreached: 1},
		Facts:       &workflows.BreachFacts{Kind: "unauthorized-access", DetectedAt: detected, Cause: "phished admin", Description: "=HYPERLINK(\"x\")", Impact: "phishing risk", Measures: "reset passwords"},
		Obligations: []playbooks.Obligation{{Name: "eu-authority", Jurisdiction: "EU", Audience: "regulator", Regulator: "DPC", DueAt: detected.Add(72 * time.Hour)}, {Name: "sg-pdpc", Jurisdiction: "SG", Audience: "regulator"}, {Name: "eu-individuals", Jurisdiction: "EU", Audience: "individuals"}},
		Filings: map[string]*workflows.Filing{
			"eu-authority":   {Status: workflows.FilingSubmitted, By: "legal@example.com", At: filedAt, Reference: "DPC-77"},
			"sg-pdpc":        {Status: workflows.FilingWaived, By: "legal@example.com", At: waivedAt, WaivedBecause: "encrypted, key not taken"},
			"eu-individuals": {Status: workflows.FilingSubmitted, By: "tocsin", At: filedAt, Reference: "individual notice: 6 reached"},
		}}
	rec, err := json.Marshal(progress)
	require.NoError(t, err)
	for _, inc := range []store.Incident{
		{ID: "INC-REAL", Title: "Customer database", OpenedAt: detected},
		{ID: "INC-DRILL", Title: "Rehearsal", OpenedAt: detected.Add(time.Hour), Drill: true},
		{ID: "INC-SECRET", Title: "Insider", OpenedAt: detected.Add(2 * time.Hour), Spec: incident.Spec{RestrictedTo: []string{"legal@example.com"}}},
		{ID: "INC-APRIL", Title: "Later", OpenedAt: detected.AddDate(0, 1, 0)},
	} {
		inc.OpenedBy = "responder2@example.com"
		require.NoError(t, s.Store.CreateIncident(ctx, inc, nil))
		require.NoError(t, s.Store.SaveRecord(ctx, inc.ID, 1, rec, store.RecordSummary{Status: StageClosed}))
	}
	// Two people asked about INC-REAL; one was answered a minute later.
	for i, q := range []string{"Is my card safe?", "Which password?"} {
		id, err := s.Store.AddInquiry(ctx, store.Inquiry{IncidentID: "INC-REAL", SubjectID: fmt.Sprint("s", i), Channel: "web", Question: q, AskedAt: detected})
		require.NoError(t, err)
		if i == 0 {
			require.NoError(t, s.Store.AnswerInquiry(ctx, id, "Yes.", "support@example.com", detected.Add(time.Minute)))
		}
	}
	read := func(token, query string) []RegisterEntry {
		var out []RegisterEntry
		require.NoError(t, (&client.Client{Server: hs.URL, Token: token}).Do(ctx, "GET", "/api/v1/register"+query, nil, &out))
		return out
	}
	ids := func(es []RegisterEntry) (out []string) {
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	require.Equal(t, []string{"INC-REAL", "INC-SECRET", "INC-APRIL"}, ids(read("tok-legal", "")), "oldest first, no drill")
	require.Equal(t, []string{"INC-REAL", "INC-APRIL"}, ids(read("tok-responder", "")), "restricted to legal")
	march := read("tok-legal", "?from=2026-03-01&to=2026-03-31")
	require.Equal(t, []string{"INC-REAL", "INC-SECRET"}, ids(march))

	e := march[0]
	require.Equal(t, "phished admin", e.Cause)
	require.Equal(t, "phishing risk", e.Effects)
	require.Equal(t, map[string]int{"DE": 6, "SG": 9}, e.ByRegion)
	require.Equal(t, 14, e.Reached)
	require.Equal(t, 2, e.Inquiries)
	require.Equal(t, 1, e.InquiriesAnswered)
	require.Equal(t, 60, e.MedianAnswerSeconds)
	outcome := map[string]RegisterDuty{}
	for _, d := range e.Duties {
		outcome[d.Name] = d
	}
	require.Equal(t, OutcomeFiled, outcome["eu-authority"].Outcome)
	require.Equal(t, "DPC-77", outcome["eu-authority"].Reference)
	require.Equal(t, filedAt, outcome["eu-authority"].At.UTC())
	require.Equal(t, OutcomeWaived, outcome["sg-pdpc"].Outcome)
	require.Equal(t, "encrypted, key not taken", outcome["sg-pdpc"].Reason)
	require.Equal(t, OutcomeNotified, outcome["eu-individuals"].Outcome)

	var apiErr *client.APIError
	require.ErrorAs(t, (&client.Client{Server: hs.URL, Token: "tok-legal"}).Do(ctx, "GET", "/api/v1/register?to=March", nil, nil), &apiErr)
	require.Contains(t, apiErr.Message, `to "March"`)

	var raw string
	require.NoError(t, (&client.Client{Server: hs.URL, Token: "tok-admin"}).Do(ctx, "GET", "/api/v1/register?format=csv&to=2026-03-02", nil, &raw))
	rows, err := csv.NewReader(strings.NewReader(raw)).ReadAll()
	require.NoError(t, err)
	require.Equal(t, RegisterColumns, rows[0])
	require.Len(t, rows, 4, "a header and one row per duty of INC-REAL")
	col := map[string]int{}
	for i, c := range rows[0] {
		col[c] = i
	}
	require.Equal(t, "waived", rows[2][col["outcome"]])
	require.Equal(t, "encrypted, key not taken", rows[2][col["reason"]])
	require.Equal(t, "DE=6;SG=9", rows[1][col["by_region"]])
	require.Equal(t, "2", rows[1][col["inquiries"]])
	require.Equal(t, `'=HYPERLINK("x")`, rows[1][col["description"]], "a formula is written as text")

	c := consoleClient(t, hs.URL, "tok-legal")
	resp, err := c.Get(hs.URL + "/register?from=2026-03-01")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	require.True(t, strings.Contains(page, `id="breach-INC-REAL"`))
	require.True(t, strings.Contains(page, `<td class="outcome-waived">waived</td>`))
	require.True(t, strings.Contains(page, "encrypted, key not taken"))
	require.False(t, strings.Contains(page, "INC-DRILL"))
	resp, err = consoleClient(t, hs.URL, "tok-viewer").Get(hs.URL + "/register")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 403, resp.StatusCode, "viewers do not read the register")
}

// /metrics names no restricted incident: its duties are folded into one
// series with the soonest due time, and its campaign is not shown; an
// open incident everyone may see keeps its own series.
func TestMetricsKeepRestrictedIncidentsAnonymous(t *testing.T) {
	now := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	due := func(h int) *time.Time { d := now.Add(time.Duration(h) * time.Hour); return &d }
	secret := openIncident{store.Incident{ID: "INC-SECRET", Spec: incident.Spec{RestrictedTo: []string{"ciso@example.com"}}},
		View{ID: "INC-SECRET", Status: StageNotifying, Obligations: []ObligationView{{Name: "cn-pipl-regulator", Jurisdiction: "CN", DueAt: due(3), Status: FilingPending}, {Name: "eu-gdpr-authority", Jurisdiction: "EU", DueAt: due(70), Status: FilingPending}},
			Campaign: &CampaignView{Subjects: 1000000, Contacted: 10}}}
	public := openIncident{store.Incident{ID: "INC-OPEN"}, View{ID: "INC-OPEN", Status: StageAwaitApproval, Obligations: []ObligationView{{Name: "sg-pdpc", Jurisdiction: "SG", DueAt: due(72), Status: FilingPending}}}}
	var lines []string
	emitOpen([]openIncident{secret, public}, now, func(name string, value float64, labels ...string) {
		lines = append(lines, fmt.Sprintf("%s %v %v", name, labels, value))
	})
	all := strings.Join(lines, "\n")
	for _, hidden := range []string{"INC-SECRET", "cn-pipl", "CN", "1e+06", "subjects"} {
		require.NotContains(t, all, hidden)
	}
	require.Contains(t, all, "duty [restricted restricted restricted false] 10800", "the soonest restricted duty, anonymous")
	require.Contains(t, all, "duty [INC-OPEN sg-pdpc SG false] 259200")
}
