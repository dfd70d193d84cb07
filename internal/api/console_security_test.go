package api

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/store"
)

// consoleClient signs in to the console through the sign-in form, as a
// browser does: it reads the form's CSRF token first.
func consoleClient(t *testing.T, base, token string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(base+"/login", url.Values{"token": {token}, "csrf": {signInCSRF(t, c, base)}})
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	return c
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signInCSRF is the sign-in form's CSRF token, read as a browser reads it.
func signInCSRF(t *testing.T, c *http.Client, base string) string {
	return formCSRF(t, c, base, csrfField)
}

// formCSRF reads the first CSRF field of the console's front page.
func formCSRF(t *testing.T, c *http.Client, base string, field *regexp.Regexp) string {
	t.Helper()
	resp, err := c.Get(base + "/")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := field.FindStringSubmatch(string(body))
	require.NotNil(t, m, "the page carries a CSRF token")
	return m[1]
}

// A page on a sibling site makes the browser send the console's cookie with
// its request; the API must not take that for the signed-in legal counsel.
func TestTheAPIDoesNotAcceptTheConsolesSessionCookie(t *testing.T) {
	s, hs := authzServer(t)
	ctx := context.Background()
	require.NoError(t, s.Store.CreateIncident(ctx, store.Incident{ID: "INC-A", Title: "t", OpenedBy: "responder@example.com", OpenedAt: time.Now()}, nil))
	c := consoleClient(t, hs.URL, "tok-legal")
	req, _ := http.NewRequest("POST", hs.URL+"/api/v1/incidents/INC-A/approve", strings.NewReader(`{"draft":"notice-en"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the cookie is the console's, not the API's")

	// A JSON body must say it is JSON (a cross-site form cannot).
	code := func(contentType string) int {
		req, _ := http.NewRequest("POST", hs.URL+"/api/v1/incidents/INC-A/reject", strings.NewReader(`{"draft":"notice-en","reason":"x"}`))
		req.Header.Set("Authorization", "Bearer tok-legal")
		req.Header.Set("Content-Type", contentType)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusBadRequest, code("text/plain"))
	require.Equal(t, http.StatusBadRequest, code("application/x-www-form-urlencoded"))
}

func TestSignInNeedsTheFormsCSRFToken(t *testing.T) {
	_, hs := authzServer(t)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(hs.URL+"/login", url.Values{"token": {"tok-legal"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "a sign-in posted from elsewhere")
	u, _ := url.Parse(hs.URL)
	for _, ck := range jar.Cookies(u) {
		require.NotEqual(t, sessionCookie, ck.Name, "no session from a forged sign-in")
	}
	resp, err = c.PostForm(hs.URL+"/login", url.Values{"token": {"tok-legal"}, "csrf": {"guessed"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	c = consoleClient(t, hs.URL, "tok-legal")
	resp, err = c.Get(hs.URL + "/")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(body), "legal@example.com (legal)")
}

// A link can carry any text in ?flash= or ?error=; the console shows only
// the messages it wrote for this session after a form.
func TestTheConsoleShowsOnlyItsOwnMessages(t *testing.T) {
	_, hs := authzServer(t)
	c := consoleClient(t, hs.URL, "tok-responder")
	page := func(query string) string {
		resp, err := c.Get(hs.URL + "/?" + query)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return string(body)
	}
	lure := "Your session expired: call +1 555 0100 to restore it"
	require.NotContains(t, page(url.Values{"flash": {lure}}.Encode()), "restore it")
	require.NotContains(t, page(url.Values{"error": {lure}, "error_sig": {"00"}}.Encode()), "restore it")

	// A real message: the open form refuses an incident file without a title.
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.PostForm(hs.URL+"/incidents", url.Values{"csrf": {consoleCSRF(t, c, hs.URL)}, "yaml": {"kind: loss\n"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.NotEmpty(t, loc.Query().Get("error"))
	require.Contains(t, page(loc.RawQuery), "title")
	// The same signature does not vouch for other text.
	q := loc.Query()
	q.Set("error", lure)
	require.NotContains(t, page(q.Encode()), "restore it")
}

// sessionCSRF is a signed-in page's token (hex, unlike the sign-in form's).
var sessionCSRF = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func consoleCSRF(t *testing.T, c *http.Client, base string) string {
	return formCSRF(t, c, base, sessionCSRF)
}

// A console session ends no later than the token it was signed in with,
// and revoking a person's token suspends their Slack mapping too, until a
// token is issued to them again.
func TestSessionsAndSlackEndWithThePersonsToken(t *testing.T) {
	s, hs := authzServer(t)
	ctx := context.Background()
	expires := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	require.NoError(t, s.Store.PutToken(ctx, HashToken("tok-shortlived"), store.Token{Identity: "temp@example.com", Role: RoleLegal, Expires: expires}))
	c := consoleClient(t, hs.URL, "tok-shortlived")
	u, _ := url.Parse(hs.URL)
	var session string
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			session = ck.Value
		}
	}
	require.NotEmpty(t, session)
	got, err := s.Store.LookupToken(ctx, HashToken(session))
	require.NoError(t, err)
	require.False(t, got.Expires.After(expires), "the session (until %s) outlives its token (until %s)", got.Expires, expires)

	s.Slack = &SlackApp{SigningSecret: "x", Users: map[string]Principal{"ULEGAL": {Identity: "legal@example.com", Role: RoleLegal}}}
	_, known := s.slackUser(ctx, "ULEGAL")
	require.True(t, known)
	toks, err := s.Store.APITokens(ctx)
	require.NoError(t, err)
	for _, tk := range toks {
		if tk.Identity == "legal@example.com" {
			_, err := s.Store.RevokeToken(ctx, tk.ID)
			require.NoError(t, err)
		}
	}
	_, known = s.slackUser(ctx, "ULEGAL")
	require.False(t, known, "a revoked person cannot approve from Slack")
	require.NoError(t, s.Store.PutToken(ctx, HashToken("tok-legal-again"), store.Token{Identity: "legal@example.com", Role: RoleLegal}))
	_, known = s.slackUser(ctx, "ULEGAL")
	require.True(t, known, "a new token gives access back")
}

// Support answers a person's question from the console's Questions page;
// the answer is stored and audited, and a viewer has no such page.
func TestSupportAnswersQuestionsFromTheConsole(t *testing.T) {
	s, hs := authzServer(t)
	ctx := context.Background()
	require.NoError(t, s.Store.CreateIncident(ctx, store.Incident{ID: "INC-Q", Title: "t", OpenedBy: "responder@example.com", OpenedAt: time.Now()}, nil))
	qid, err := s.Store.AddInquiry(ctx, store.Inquiry{IncidentID: "INC-Q", SubjectID: "s1", Channel: "web", Question: "Is my card affected?", AskedAt: time.Now()})
	require.NoError(t, err)
	c := consoleClient(t, hs.URL, "tok-support")
	resp, err := c.Get(hs.URL + "/inquiries")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(body), "Is my card affected?")
	csrf := sessionCSRF.FindStringSubmatch(string(body))
	require.NotNil(t, csrf)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err = c.PostForm(hs.URL+"/inquiries/"+qid+"/answer", url.Values{"csrf": {csrf[1]}, "answer": {"No card data was involved."}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	q, err := s.Store.GetInquiry(ctx, qid)
	require.NoError(t, err)
	require.Equal(t, "No card data was involved.", q.Answer)
	require.Equal(t, "support@example.com", q.AnsweredBy)
	log, err := s.Store.AuditLog(ctx, "INC-Q")
	require.NoError(t, err)
	require.Equal(t, "answer inquiry", log[len(log)-1].Action)

	viewer := consoleClient(t, hs.URL, "tok-viewer")
	resp, err = viewer.Get(hs.URL + "/inquiries")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
}
