package api

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/client"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/workflows"
)

// storeOnlyServer has no Temporal at all: a handler that asked a workflow
// would panic, so a list that answers was read from the store alone.
func storeOnlyServer(t testing.TB, incidents int) (*Server, *httptest.Server) {
	st, err := store.Open(filepath.Join(t.TempDir(), "t.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	require.NoError(t, Seed(context.Background(), st, roleTokens))
	ctx := context.Background()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range incidents {
		id := fmt.Sprintf("INC-%05d", i)
		require.NoError(t, st.CreateIncident(ctx, store.Incident{ID: id, Title: "breach " + id, OpenedBy: "responder@example.com", OpenedAt: base.Add(time.Duration(i) * time.Hour), Drill: i%10 == 9}, nil))
		sum := store.RecordSummary{Status: "closed", Jurisdictions: []string{"EU", "UK"}, Subjects: 100 + i, Reached: 90}
		if i%3 == 0 {
			sum.Status, sum.Jurisdictions = "notifying", []string{"US-CA"}
		}
		require.NoError(t, st.SaveRecord(ctx, id, 1, []byte(`{}`), sum))
	}
	s := &Server{Store: st, PublicURL: "http://tocsin.test"}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return s, hs
}

func TestIncidentListsPageAndFilterWithoutAskingTemporal(t *testing.T) {
	_, hs := storeOnlyServer(t, 150)
	c := &client.Client{Server: hs.URL, Token: "tok-viewer"}
	ctx := context.Background()
	var first []ListItem
	next, err := c.GetPage(ctx, "/api/v1/incidents", &first)
	require.NoError(t, err)
	require.Len(t, first, 100, "a page is 100 unless asked")
	require.NotEmpty(t, next)
	require.Equal(t, "INC-00149", first[0].ID, "newest first")
	require.Equal(t, 249, first[0].Scope.Subjects)
	require.Equal(t, []string{"EU", "UK"}, first[0].Jurisdictions)
	var rest []ListItem
	last, err := c.GetPage(ctx, "/api/v1/incidents?after="+url.QueryEscape(next), &rest)
	require.NoError(t, err)
	require.Len(t, rest, 50)
	require.Empty(t, last, "the last page says so")
	require.Equal(t, "INC-00000", rest[49].ID)

	count := func(query string) int {
		var items []ListItem
		_, err := c.GetPage(ctx, "/api/v1/incidents?"+query+"&limit=1000", &items)
		require.NoError(t, err, query)
		return len(items)
	}
	require.Equal(t, 50, count("status=notifying"))
	require.Equal(t, 150, count("status=notifying,closed"))
	require.Equal(t, 15, count("drill=true"))
	require.Equal(t, 50, count("jurisdiction=US-CA"))
	require.Equal(t, 24, count("from=2026-01-02&to=2026-01-02"), "a day, both bounds inclusive")
	require.Equal(t, 45, count("status=notifying&drill=false"))

	for query, field := range map[string]string{"status=done": "status", "drill=maybe": "drill", "from=yesterday": "from", "jurisdiction=eu": "jurisdiction", "limit=5000": "limit", "after=xyz": "after"} {
		var apiErr *client.APIError
		_, err := c.GetPage(ctx, "/api/v1/incidents?"+query, nil)
		require.ErrorAs(t, err, &apiErr, query)
		require.Equal(t, http.StatusBadRequest, apiErr.Status, query)
		require.Contains(t, apiErr.Message, field, query)
	}
}

// The console's list pages and filters the same way, with a link to the
// next page that keeps the filter.
func TestTheConsoleListPagesAndFilters(t *testing.T) {
	_, hs := storeOnlyServer(t, 120)
	c := consoleClient(t, hs.URL, "tok-legal")
	get := func(path string) string {
		resp, err := c.Get(hs.URL + path)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return string(body)
	}
	page := get("/?status=closed&limit=50")
	require.True(t, strings.Contains(page, `href="/incidents/INC-00119"`))
	require.False(t, strings.Contains(page, `href="/incidents/INC-00117"`), "notifying, filtered out")
	next := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(page)
	require.NotNil(t, next, "80 closed incidents: more than a page of 50")
	older := get(html.UnescapeString(next[1]))
	require.True(t, strings.Contains(older, `href="/incidents/INC-00001"`))
	require.False(t, strings.Contains(older, `href="/incidents/INC-00119"`), "the next page, not the first again")
	require.False(t, strings.Contains(older, `href="/incidents/INC-00003"`), "still filtered")
	require.Contains(t, get("/?status=closed&jurisdiction=JP"), "No incidents match.")
	require.Contains(t, get("/?from=soon"), "from &#34;soon&#34;")
}

// BenchmarkListTenThousandIncidents lists the first page, a filtered page
// and a page deep in the list of a store holding 10,000 incidents; the
// target is well under a second per list.
func BenchmarkListTenThousandIncidents(b *testing.B) {
	s, hs := storeOnlyServer(b, 10_000)
	c := &client.Client{Server: hs.URL, Token: "tok-admin"}
	ctx := context.Background()
	var items []ListItem
	deep, err := c.GetPage(ctx, "/api/v1/incidents?limit=1000", &items)
	require.NoError(b, err)
	// The baseline: what a list cost before the list columns, for closed
	// incidents alone (a live one also cost a workflow query each): every
	// incident read, and its record decoded.
	b.Run("baseline=every-record", func(b *testing.B) {
		for b.Loop() {
			incs, err := s.Store.AllIncidents(ctx)
			if err != nil {
				b.Fatal(err)
			}
			for _, inc := range incs {
				rec, err := s.Store.GetRecord(ctx, inc.ID)
				if err != nil {
					b.Fatal(err)
				}
				var p workflows.Progress
				if err := json.Unmarshal(rec.Record, &p); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	for _, q := range []string{"", "status=notifying&jurisdiction=US-CA", "drill=false&from=2026-06-01&to=2026-06-30", "after=" + url.QueryEscape(deep)} {
		b.Run("query="+q[:min(len(q), 24)], func(b *testing.B) {
			for b.Loop() {
				if _, err := c.GetPage(ctx, "/api/v1/incidents?"+q, &items); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
