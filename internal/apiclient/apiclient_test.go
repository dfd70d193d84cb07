package apiclient_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/apiclient"
	"github.com/tocsin/tocsin/internal/client"
	"github.com/tocsin/tocsin/internal/store"
)

// The typed calls reach the routes they name and decode what the API
// answers; an API refusal arrives as the transport's APIError.
func TestTypedCallsReadWhatTheAPIServes(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(filepath.Join(t.TempDir(), "t.db"))
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, api.Seed(ctx, st, map[string]store.Token{"tok-legal": {Identity: "legal@example.com", Role: api.RoleLegal}}))
	opened := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	for _, id := range []string{"INC-A", "INC-B"} {
		require.NoError(t, st.CreateIncident(ctx, store.Incident{ID: id, Title: "t " + id, OpenedBy: "r@example.com", OpenedAt: opened}, nil))
		require.NoError(t, st.SaveRecord(ctx, id, 1, []byte(`{"status":"closed","obligations":[]}`), store.RecordSummary{Status: "closed", Subjects: 4}))
		opened = opened.Add(time.Hour)
	}
	hs := httptest.NewServer((&api.Server{Store: st}).Handler())
	defer hs.Close()
	c := apiclient.New(&client.Client{Server: hs.URL, Token: "tok-legal"})

	page, next, err := c.ListIncidents(ctx, url.Values{"limit": {"1"}})
	require.NoError(t, err)
	require.Equal(t, "INC-B", page[0].ID)
	require.Equal(t, 4, page[0].Scope.Subjects)
	rest, last, err := c.ListIncidents(ctx, url.Values{"after": {next}})
	require.NoError(t, err)
	require.Equal(t, "INC-A", rest[0].ID)
	require.Empty(t, last)

	v, err := c.Incident(ctx, "INC-A")
	require.NoError(t, err)
	require.Equal(t, "closed", v.Status)
	reg, err := c.Register(ctx, "2026-03-01", "2026-03-31")
	require.NoError(t, err)
	require.Len(t, reg, 2)
	csv, err := c.RegisterCSV(ctx, "", "")
	require.NoError(t, err)
	require.Contains(t, csv, "incident,title,status")

	// What an evidence export reads: each revision as JSON and as the HTML
	// people received, the audit chain and the ledger as CSV.
	require.NoError(t, st.SaveDraft(ctx, store.Draft{IncidentID: "INC-A", Name: "notice-en", Revision: 1, Kind: "subject_notice", Locale: "en",
		Title: "About your data", Body: "We lost it.", CreatedBy: "system"}))
	d, err := c.Draft(ctx, "INC-A", "notice-en", 1)
	require.NoError(t, err)
	require.Equal(t, "About your data", d.Title)
	html, err := c.DraftHTML(ctx, "INC-A", "notice-en", 1)
	require.NoError(t, err)
	require.Contains(t, html, "<title>About your data</title>")
	require.Contains(t, html, "We lost it.")
	_, err = st.AppendAudit(ctx, store.AuditEntry{Chain: "INC-A", Actor: "legal@example.com", Role: api.RoleLegal, Via: "cli", Action: "approve", Outcome: store.AuditDone})
	require.NoError(t, err)
	audit, err := c.Audit(ctx, "INC-A")
	require.NoError(t, err)
	require.Len(t, audit, 1)
	require.Equal(t, "approve", audit[0].Action)
	require.NotEmpty(t, audit[0].Hash)
	var ledger strings.Builder
	require.NoError(t, c.Deliveries(ctx, "INC-A", &ledger))
	require.True(t, strings.HasPrefix(ledger.String(), "subject_id,"), ledger.String())

	_, err = c.Incident(ctx, "INC-NONE")
	var apiErr *client.APIError
	require.True(t, errors.As(err, &apiErr), "%v", err)
	require.Equal(t, http.StatusNotFound, apiErr.Status)
}
