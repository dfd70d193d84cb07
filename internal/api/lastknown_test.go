package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/store"
)

// With Temporal out of reach, an incident's page and its JSON show the
// state the plan last recorded, saying when, instead of "unknown".
func TestAnIncidentIsShownAsLastRecordedWhenThePlanCannotBeAsked(t *testing.T) {
	s, hs := authzServer(t)
	ctx := context.Background()
	require.NoError(t, s.Store.CreateIncident(ctx, store.Incident{ID: "INC-LK", Title: "Bucket", OpenedBy: "responder@example.com", OpenedAt: time.Now()}, nil))
	require.NoError(t, s.Store.SaveRecord(ctx, "INC-LK", 7, []byte(`{"status":"notifying"}`), store.RecordSummary{Status: "notifying"}))

	req, _ := http.NewRequest("GET", hs.URL+"/api/v1/incidents/INC-LK", nil)
	req.Header.Set("Authorization", "Bearer tok-responder")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var v View
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&v))
	require.Equal(t, StageNotifying, v.Status)
	require.Empty(t, v.Error)
	require.NotNil(t, v.LastKnown)
	require.WithinDuration(t, time.Now(), v.LastKnown.RecordedAt, time.Minute)
	require.True(t, strings.HasPrefix(v.LastKnown.Reason, "the plan did not answer: "), v.LastKnown.Reason)

	c := consoleClient(t, hs.URL, "tok-responder")
	resp, err = c.Get(hs.URL + "/incidents/INC-LK")
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(page), `id="last-known"`)
	require.Contains(t, string(page), "the incident runs on: refresh to see it live")
}
