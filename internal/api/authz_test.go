package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/store"
)

// tokens for every role, and the identity each one signs in as.
var roleTokens = map[string]store.Token{
	"tok-responder": {Identity: "responder@example.com", Role: RoleResponder},
	"tok-legal":     {Identity: "legal@example.com", Role: RoleLegal},
	"tok-admin":     {Identity: "admin@example.com", Role: RoleAdmin},
	"tok-viewer":    {Identity: "viewer@example.com", Role: RoleViewer},
	"tok-drill":     {Identity: "drill@example.com", Role: RoleDrill},
	"tok-platform":  {Identity: "platform@example.com", Role: RolePlatform},
	"tok-support":   {Identity: "support@example.com", Role: RoleSupport},
}

// authzServer is a server whose Temporal is unreachable: a handler that
// gets past the access check answers with its own error, never 401 or 403.
func authzServer(t testing.TB) (*Server, *httptest.Server) {
	st, err := store.Open(filepath.Join(t.TempDir(), "t.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	require.NoError(t, Seed(context.Background(), st, roleTokens))
	tc, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1"})
	require.NoError(t, err)
	s := &Server{Store: st, Temporal: tc, PublicURL: "http://tocsin.test"}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return s, hs
}

// handlerRan stands for "no answer yet": the call passed the access check
// and is waiting for Temporal.
const handlerRan = 0

func call(t *testing.T, hs *httptest.Server, token, method, path, body string) int {
	t.Helper()
	req, _ := http.NewRequest(method, hs.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if errors.Is(err, context.DeadlineExceeded) {
		// Refusals are answered at once; only a handler that got through
		// waits for the unreachable Temporal.
		return handlerRan
	}
	require.NoError(t, err, "%s %s", method, path)
	resp.Body.Close()
	return resp.StatusCode
}

// TestEveryRouteHasTheRightRoles is written from the roles' side: who may
// do what. A route added to the server without a line here fails the test.
func TestEveryRouteHasTheRightRoles(t *testing.T) {
	_, hs := authzServer(t)
	const (
		resp, legal, admin, viewer, drill, plat, support = "responder", "legal", "admin", "viewer", "drill", "platform", "support"
	)
	allowed := map[string][]string{
		"POST /api/v1/inventory":                      {resp, admin},
		"GET /api/v1/inventory":                       {resp, legal, admin, drill},
		"POST /api/v1/inventory/prune":                {resp, admin},
		"POST /api/v1/incidents":                      {resp, admin},
		"GET /api/v1/incidents":                       {resp, legal, admin, viewer, drill},
		"GET /api/v1/incidents/{id}":                  {resp, legal, admin, viewer, drill},
		"GET /api/v1/incidents/{id}/drafts/{name}":    {resp, legal, admin, drill},
		"GET /api/v1/incidents/{id}/subjects":         {resp, legal, admin, drill},
		"GET /api/v1/incidents/{id}/audit":            {resp, legal, admin},
		"GET /api/v1/incidents/{id}/deliveries":       {resp, legal, admin},
		"GET /api/v1/incidents/{id}/notice-by-duty":   {resp, legal, admin},
		"POST /api/v1/incidents/{id}/returned":        {resp, legal, admin, drill},
		"GET /api/v1/incidents/{id}/letters":          {legal, admin},
		"POST /api/v1/incidents/{id}/approve":         {legal},
		"POST /api/v1/incidents/{id}/reject":          {legal},
		"POST /api/v1/incidents/{id}/revise":          {resp, admin},
		"POST /api/v1/incidents/{id}/submit":          {resp, legal, admin, drill},
		"POST /api/v1/incidents/{id}/facts":           {resp, admin},
		"POST /api/v1/incidents/{id}/waive":           {legal, drill},
		"POST /api/v1/incidents/{id}/release-calls":   {legal, admin},
		"POST /api/v1/incidents/{id}/enrolment-codes": {resp, admin},
		"GET /api/v1/inquiries":                       {resp, legal, admin, support},
		"POST /api/v1/inquiries/{id}/answer":          {resp, legal, admin, support},
		"POST /api/v1/inquiries/{id}/close":           {resp, legal, admin, support},
		"POST /api/v1/incidents/{id}/hold":            {legal, admin},
		"POST /api/v1/incidents/{id}/waves":           {legal, admin},
		"POST /api/v1/incidents/{id}/correct":         {legal, admin},
		"POST /api/v1/incidents/{id}/pause":           {legal, admin},
		"POST /api/v1/incidents/{id}/resume":          {legal, admin},
		"GET /api/v1/register":                        {resp, legal, admin},
		"POST /api/v1/drills":                         {resp, admin, drill},
		"GET /api/v1/drills":                          {resp, legal, admin, viewer, drill},
		"GET /api/v1/drills/{id}":                     {resp, legal, admin, viewer, drill},
		"POST /api/v1/drill-schedules":                {resp, admin, drill},
		"GET /api/v1/drill-schedules":                 {resp, legal, admin, viewer, drill},
		"DELETE /api/v1/drill-schedules/{id}":         {resp, admin, drill},
		"GET /api/v1/outbox":                          {resp, legal, admin, drill},
		"GET /api/v1/channels/holds":                  {resp, legal, admin, drill},
		"POST /api/v1/channels/{channel}/resume":      {resp, admin},
		"GET /api/v1/channels/rates":                  {resp, legal, admin, drill},
		"PUT /api/v1/channels/{channel}/rate":         {admin},
		"GET /api/v1/onsite/inbox/{account}":          {plat},
	}
	var served []string
	for _, r := range apiRoutes {
		served = append(served, r.pattern)
	}
	var listed []string
	for p := range allowed {
		listed = append(listed, p)
	}
	slices.Sort(served)
	slices.Sort(listed)
	require.Equal(t, listed, served, "every API route needs a line in this test saying who may use it")

	fill := strings.NewReplacer("{id}", "INC-NOSUCH", "{name}", "notice-en", "{account}", "acct-1", "{channel}", "email")
	for pattern, roles := range allowed {
		method, path, _ := strings.Cut(pattern, " ")
		path = fill.Replace(path)
		t.Run(pattern, func(t *testing.T) {
			require.Equal(t, http.StatusUnauthorized, call(t, hs, "", method, path, "{}"), "%s without a token", pattern)
			require.Equal(t, http.StatusUnauthorized, call(t, hs, "forged-token", method, path, "{}"), "%s with an unknown token", pattern)
			// The roles' calls run together: a let-through call may wait for
			// the unreachable Temporal until the client gives up.
			var mu sync.Mutex
			got := map[string]int{}
			var wg sync.WaitGroup
			for token, owner := range roleTokens {
				wg.Add(1)
				go func() {
					defer wg.Done()
					code := call(t, hs, token, method, path, "{}")
					mu.Lock()
					got[owner.Role] = code
					mu.Unlock()
				}()
			}
			wg.Wait()
			for _, owner := range roleTokens {
				if slices.Contains(roles, owner.Role) {
					require.NotContains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, got[owner.Role], "%s as %s must be let through", pattern, owner.Role)
				} else {
					require.Equal(t, http.StatusForbidden, got[owner.Role], "%s as %s must be refused", pattern, owner.Role)
				}
			}
		})
	}
}

func TestARefusedCallIsInTheIncidentsAuditLog(t *testing.T) {
	s, hs := authzServer(t)
	require.NoError(t, s.Store.CreateIncident(context.Background(), store.Incident{ID: "INC-A", Title: "t", OpenedBy: "admin@example.com", OpenedAt: time.Now()}, nil))
	require.Equal(t, http.StatusForbidden, call(t, hs, "tok-responder", "POST", "/api/v1/incidents/INC-A/approve", `{"draft":"notice-en"}`))
	require.Equal(t, http.StatusForbidden, call(t, hs, "tok-responder", "POST", "/api/v1/incidents/INC-NONE/approve", `{"draft":"notice-en"}`))
	none, err := s.Store.AuditLog(context.Background(), "INC-NONE")
	require.NoError(t, err)
	require.Empty(t, none, "no chain for an incident that does not exist")
	general, err := s.Store.AuditLog(context.Background(), "")
	require.NoError(t, err)
	require.Len(t, general, 1, "the attempt is in the general chain")
	log, err := s.Store.AuditLog(context.Background(), "INC-A")
	require.NoError(t, err)
	require.Len(t, log, 1)
	require.Equal(t, "responder@example.com", log[0].Actor)
	require.Equal(t, store.AuditRefused, log[0].Outcome)
	require.Equal(t, "POST /api/v1/incidents/{id}/approve", log[0].Action)
}

func TestARestrictedIncidentExistsOnlyForThePeopleItNames(t *testing.T) {
	s, hs := authzServer(t)
	ctx := context.Background()
	for _, inc := range []store.Incident{
		{ID: "INC-OPEN", Title: "ordinary", OpenedBy: "responder@example.com"},
		{ID: "INC-SECRET", Title: "insider case", OpenedBy: "responder@example.com", Spec: incident.Spec{RestrictedTo: []string{"Legal@Example.com"}}},
	} {
		inc.OpenedAt = time.Now()
		require.NoError(t, s.Store.CreateIncident(ctx, inc, nil))
	}
	list := func(token string) []string {
		req, _ := http.NewRequest("GET", hs.URL+"/api/v1/incidents", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		var views []View
		require.NoError(t, json.NewDecoder(res.Body).Decode(&views))
		var ids []string
		for _, v := range views {
			ids = append(ids, v.ID)
		}
		return ids
	}
	require.ElementsMatch(t, []string{"INC-OPEN", "INC-SECRET"}, list("tok-legal"), "named (in another case)")
	require.ElementsMatch(t, []string{"INC-OPEN", "INC-SECRET"}, list("tok-responder"), "opened it")
	require.ElementsMatch(t, []string{"INC-OPEN"}, list("tok-admin"), "even an admin must be named")
	require.ElementsMatch(t, []string{"INC-OPEN"}, list("tok-viewer"))

	require.Equal(t, http.StatusNotFound, call(t, hs, "tok-admin", "GET", "/api/v1/incidents/INC-SECRET", ""))
	require.Equal(t, http.StatusNotFound, call(t, hs, "tok-admin", "GET", "/api/v1/incidents/INC-SECRET/audit", ""))
	require.Equal(t, http.StatusOK, call(t, hs, "tok-legal", "GET", "/api/v1/incidents/INC-SECRET/audit", ""))
	require.Equal(t, http.StatusNotFound, call(t, hs, "tok-viewer", "GET", "/api/v1/incidents/INC-SECRET", ""), "the same answer as for no incident at all")
}

// The drill identity rehearses; it never sees or steers a real incident,
// and it cannot replace the real inventory (see the route table above).
func TestTheDrillRoleStaysInDrills(t *testing.T) {
	s, hs := authzServer(t)
	ctx := context.Background()
	for _, inc := range []store.Incident{
		{ID: "INC-REAL", Title: "real breach", OpenedBy: "responder@example.com"},
		{ID: "INC-REHEARSAL", Title: "drill", OpenedBy: "drill@tocsin", Drill: true},
	} {
		inc.OpenedAt = time.Now()
		require.NoError(t, s.Store.CreateIncident(ctx, inc, nil))
	}
	req, _ := http.NewRequest("GET", hs.URL+"/api/v1/incidents", nil)
	req.Header.Set("Authorization", "Bearer tok-drill")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var views []View
	require.NoError(t, json.NewDecoder(res.Body).Decode(&views))
	res.Body.Close()
	require.Len(t, views, 1)
	require.Equal(t, "INC-REHEARSAL", views[0].ID)
	for _, path := range []string{"/api/v1/incidents/INC-REAL", "/api/v1/incidents/INC-REAL/drafts/notice-en", "/api/v1/incidents/INC-REAL/subjects"} {
		require.Equal(t, http.StatusNotFound, call(t, hs, "tok-drill", "GET", path, ""), path)
	}
	require.Equal(t, http.StatusNotFound, call(t, hs, "tok-drill", "POST", "/api/v1/incidents/INC-REAL/submit", `{"obligation":"sg-pdpc","reference":"X"}`))
	require.Equal(t, http.StatusForbidden, call(t, hs, "tok-drill", "POST", "/api/v1/inventory/prune", "{}"))

	// A console session's token is no API token, even as a bearer.
	require.NoError(t, s.Store.PutToken(ctx, HashToken("tok-session"), store.Token{Identity: "legal@example.com", Role: RoleLegal, Session: true, Expires: time.Now().Add(time.Hour)}))
	require.Equal(t, http.StatusUnauthorized, call(t, hs, "tok-session", "GET", "/api/v1/incidents", ""))
}

// The drill role cannot take the workers a real incident needs: its drills
// are small, at most two drills run at once, and schedules run at most
// hourly.
func TestDrillsAreBounded(t *testing.T) {
	s, hs := authzServer(t)
	post := func(token, path, body string) (int, string) {
		req, _ := http.NewRequest("POST", hs.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		resp, err := http.DefaultClient.Do(req.WithContext(ctx))
		if err != nil {
			return handlerRan, ""
		}
		defer resp.Body.Close()
		msg, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(msg)
	}
	code, msg := post("tok-drill", "/api/v1/drills", `{"subjects":1000000}`)
	require.Equal(t, http.StatusForbidden, code, msg)
	require.Contains(t, msg, "at most 10000 people")
	code, msg = post("tok-drill", "/api/v1/drill-schedules", `{"name":"often","cron":"*/5 * * * *"}`)
	require.Equal(t, http.StatusBadRequest, code, msg)
	require.Contains(t, msg, "more than once an hour")

	for _, id := range []string{"DR-1", "DR-2"} {
		require.NoError(t, s.Store.SaveDrill(context.Background(), store.Drill{ID: id, Playbook: "default", RequestedBy: "x", IncidentID: "DRILL-" + id, Status: store.DrillRunning, StartedAt: time.Now()}))
	}
	code, msg = post("tok-responder", "/api/v1/drills", `{"subjects":100}`)
	require.Equal(t, http.StatusTooManyRequests, code, msg)
	require.Contains(t, msg, "2 drills are running")
}
