package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/store"
)

// browser starts Debian's Chromium headless. Without it the test skips,
// unless TOCSIN_REQUIRE_CHROMIUM is set (CI installs it and sets it).
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("TOCSIN_REQUIRE_CHROMIUM") != "" {
			t.Fatal("chromium is required (TOCSIN_REQUIRE_CHROMIUM) but not installed: apt-get install chromium")
		}
		t.Skip("chromium is not installed (apt-get install chromium)")
	}
	profile, err := os.MkdirTemp("", "tocsin-chromium-")
	require.NoError(t, err)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true), chromedp.UserDataDir(profile), chromedp.WindowSize(1280, 1000))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	// Chromium may still be writing its profile as it exits: removed last, best effort.
	t.Cleanup(func() { cancel(); cancelAlloc(); os.RemoveAll(profile) })
	require.NoError(t, chromedp.Run(ctx), "start chromium")
	return ctx
}

// screenshot saves the page to TOCSIN_SCREENSHOTS (if set) as name.png.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("TOCSIN_SCREENSHOTS")
	if dir == "" {
		return
	}
	var png []byte
	require.NoError(t, chromedp.Run(ctx, chromedp.CaptureScreenshot(&png))) // the viewport, as a person sees it
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
}

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Run(tctx, actions...); err != nil {
		// The page as it stands, read within seconds: a page without the
		// element must not hang the test that already failed.
		var body string
		bctx, stop := context.WithTimeout(ctx, 5*time.Second)
		chromedp.Run(bctx, chromedp.Text("body", &body, chromedp.ByQuery))
		stop()
		t.Fatalf("%s: %v\npage:\n%s", what, err, body)
	}
}

// signIn goes through the dev identity provider's OIDC sign-in as who.
func signIn(t *testing.T, ctx context.Context, base, who string) {
	t.Helper()
	var header string
	run(t, ctx, "sign in as "+who,
		chromedp.Navigate(base+"/"),
		chromedp.Click(`a[href="/login/oidc"]`, chromedp.ByQuery),
		chromedp.Click(`button[value="`+who+`"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`header span`, chromedp.ByQuery),
		chromedp.Text(`header span`, &header, chromedp.ByQuery))
	require.Contains(t, header, who)
}

func signOut(t *testing.T, ctx context.Context) {
	t.Helper()
	run(t, ctx, "sign out", chromedp.Click(`header form button`, chromedp.ByQuery), chromedp.WaitVisible(`a[href="/login/oidc"]`, chromedp.ByQuery))
}

// submit clicks a form's button and returns the flash (or error) the page answers with.
func submit(t *testing.T, ctx context.Context, what, button string, fill ...chromedp.Action) string {
	t.Helper()
	var msg string
	// The previous answer goes first, so the one waited for is the new page's.
	clear := chromedp.Evaluate(`document.querySelectorAll('p.flash, p.error').forEach(e => e.remove())`, nil)
	actions := append(append([]chromedp.Action{clear}, fill...), chromedp.Click(button, chromedp.ByQuery), chromedp.WaitVisible(`p.flash, p.error`, chromedp.ByQuery),
		chromedp.Text(`p.flash, p.error`, &msg, chromedp.ByQuery))
	run(t, ctx, what, actions...)
	return msg
}

func waitStage(t *testing.T, ctx context.Context, page, stage string) {
	t.Helper()
	want := strings.ReplaceAll(stage, "_", " ")
	eventually(t, 300*time.Millisecond, func(c *assert.CollectT) {
		var got string
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		require.NoError(c, chromedp.Run(rctx, chromedp.Navigate(page), chromedp.Text(`#stage`, &got, chromedp.ByQuery)))
		require.Equal(c, want, got, page)
	})
}

// draftRevision reads the revision a draft's panel shows.
func draftRevision(t *testing.T, ctx context.Context, page, draft string) (int, string) {
	t.Helper()
	var head, status string
	run(t, ctx, "read "+draft, chromedp.Navigate(page), chromedp.Text(`#draft-`+draft+` h3 small`, &head, chromedp.ByQuery),
		chromedp.Text(`#draft-`+draft+` p strong`, &status, chromedp.ByQuery))
	var rev int
	fmt.Sscanf(head, "revision %d", &rev)
	return rev, status
}

// TestIncidentRunFromConsoleAlone runs the sample breach in a real headless
// Chromium: each person signs in through OIDC and works in the console's
// forms; nothing goes through the API but the inventory import and reads
// that check what the pages did.
func TestIncidentRunFromConsoleAlone(t *testing.T) {
	ctx := browser(t)
	d := startDev(t, t.TempDir(), "")
	defer d.Stop()
	bg := context.Background()
	require.NoError(t, as(d, "TOCSIN_TOKEN_RESPONDER").ImportInventory(bg, filepath.Join(scenario, "systems.yaml"), filepath.Join(scenario, "subjects.csv"), 0, nil, nil))
	observer := as(d, "TOCSIN_TOKEN_ADMIN")

	// Responder opens the incident from the form.
	run(t, ctx, "sign-in page", chromedp.Navigate(d.URL+"/"), chromedp.WaitVisible(`a[href="/login/oidc"]`, chromedp.ByQuery))
	screenshot(t, ctx, "01-sign-in")
	signIn(t, ctx, d.URL, "responder@example.com")
	incYAML, err := os.ReadFile(filepath.Join(scenario, "incident.yaml"))
	require.NoError(t, err)
	flash := submit(t, ctx, "open incident", `form[action="/incidents"] button`, chromedp.SetValue(`#yaml`, string(incYAML), chromedp.ByQuery))
	id := regexp.MustCompile(`INC-[0-9A-F]{10}`).FindString(flash)
	require.NotEmpty(t, id, flash)
	page := d.URL + "/incidents/" + id
	waitStage(t, ctx, page, api.StageAwaitApproval)
	var affected string
	run(t, ctx, "scope", chromedp.Text(`#affected`, &affected, chromedp.ByQuery))
	var v api.View
	require.NoError(t, observer.Do(bg, "GET", "/api/v1/incidents/"+id, nil, &v))
	require.Equal(t, fmt.Sprint(v.Scope.Subjects), affected)

	// Deadlines count down live (the page's script ticks each second).
	var before, after string
	run(t, ctx, "countdown", chromedp.Text(`time.countdown`, &before, chromedp.ByQuery), chromedp.Sleep(1500*time.Millisecond),
		chromedp.Text(`time.countdown`, &after, chromedp.ByQuery))
	require.NotEqual(t, before, after, "the countdown ticks")
	require.Regexp(t, `^(in|overdue by) \d+d \d+h \d+m \d+s$`, after)

	flash = submit(t, ctx, "set facts", `form[action$="/facts"] button`, chromedp.SetValue(`#facts`,
		"cause: An access key was committed to a public repository.\norganisation: Example Platform Ltd\nreporter: Jane Doe\ndpo_contact: dpo@example.com", chromedp.ByQuery))
	require.Contains(t, flash, "Facts set")
	require.Eventually(t, func() bool { rev, _ := draftRevision(t, ctx, page, "notice-en"); return rev == 2 }, 30*time.Second, 300*time.Millisecond)
	// The Chinese texts are the incident file's; a responder revises the
	// cause's translation from the same form, and only the Chinese drafts
	// are drafted again.
	flash = submit(t, ctx, "translate the cause", `form[action$="/facts"] button`, chromedp.SetValue(`#facts`, "cause: 一名员工把访问密钥提交到了公开的代码仓库。", chromedp.ByQuery),
		chromedp.SetValue(`select[name=locale]`, "zh-CN", chromedp.ByQuery))
	require.Contains(t, flash, "Facts set")
	require.Eventually(t, func() bool { rev, _ := draftRevision(t, ctx, page, "notice-zh-CN"); return rev == 3 }, 30*time.Second, 300*time.Millisecond)
	rev, _ := draftRevision(t, ctx, page, "notice-en")
	require.Equal(t, 2, rev, "the English notice does not change with a Chinese translation")
	screenshot(t, ctx, "02-incident-awaiting-approval")
	run(t, ctx, "open the diff", chromedp.Navigate(page), chromedp.Evaluate(`document.querySelector('#draft-notice-en details:last-of-type').open = true`, nil),
		chromedp.ScrollIntoView(`#draft-notice-en pre.diff`, chromedp.ByQuery))
	screenshot(t, ctx, "02b-revision-diff")
	var forms int
	run(t, ctx, "no approve for responders", chromedp.Evaluate(`document.querySelectorAll('button[value=approve]').length`, &forms))
	require.Zero(t, forms, "a responder sees no Approve buttons")
	signOut(t, ctx)

	// Legal reads what changed between revisions, and rejects with a reason.
	signIn(t, ctx, d.URL, "legal@example.com")
	run(t, ctx, "incident page", chromedp.Navigate(page), chromedp.WaitVisible(`#draft-notice-en`, chromedp.ByQuery))
	var diff string
	run(t, ctx, "diff", chromedp.Evaluate(`Array.from(document.querySelectorAll('#draft-notice-en pre.diff .add')).map(e => e.textContent).join('\n')`, &diff))
	require.Contains(t, diff, "dpo@example.com", "the diff shows the fact added in revision 2")
	// English readers live in several zones: legal reads UTC and can open
	// each zone's rendering of the same revision.
	var zones []string
	run(t, ctx, "zone renderings", chromedp.Evaluate(`Array.from(document.querySelectorAll('#draft-notice-en a[href*="zone="]')).map(a => a.getAttribute('href'))`, &zones))
	require.GreaterOrEqual(t, len(zones), 2, "each zone's rendering is linked")
	var utc, local string
	run(t, ctx, "the draft and a zone's rendering", chromedp.Navigate(page+"/drafts/notice-en.html"), chromedp.Text("body", &utc, chromedp.ByQuery),
		chromedp.Navigate(d.URL+zones[0]), chromedp.Text("body", &local, chromedp.ByQuery))
	require.Contains(t, utc, "We became aware of it on 2026-11-20 08:00 UTC.")
	require.Contains(t, local, "We became aware of it on 2026-11-20")
	require.NotContains(t, local, "08:00 UTC", "%s gives its readers' own time", zones[0])
	run(t, ctx, "back to the incident", chromedp.Navigate(page), chromedp.WaitVisible(`#draft-notice-en`, chromedp.ByQuery))
	msg := submit(t, ctx, "reject without reason", `#draft-notice-en button[value=reject]`)
	require.Contains(t, msg, "Say why notice-en is rejected")
	msg = submit(t, ctx, "reject notice-en", `#draft-notice-en button[value=reject]`, chromedp.SetValue(`#draft-notice-en input[name=note]`, "say which hotline to call", chromedp.ByQuery))
	require.Contains(t, msg, "notice-en revision 2 rejected by legal@example.com")
	run(t, ctx, "show the draft", chromedp.ScrollIntoView(`#draft-notice-en`, chromedp.ByQuery))
	screenshot(t, ctx, "03-draft-rejected")
	signOut(t, ctx)

	signIn(t, ctx, d.URL, "responder@example.com")
	run(t, ctx, "incident page", chromedp.Navigate(page), chromedp.WaitVisible(`#revise-notice-en`, chromedp.ByQuery))
	msg = submit(t, ctx, "revise notice-en", `form[action$="/revise"] button`, chromedp.SetValue(`#revise-notice-en`, "contact: privacy@example.com or +1 800 555 0100", chromedp.ByQuery))
	require.Contains(t, msg, "notice-en is being drafted again")
	require.Eventually(t, func() bool { rev, st := draftRevision(t, ctx, page, "notice-en"); return rev == 3 && st == "pending" }, 30*time.Second, 300*time.Millisecond)
	signOut(t, ctx)

	// Legal approves each draft with its form.
	signIn(t, ctx, d.URL, "legal@example.com")
	for i := 0; ; i++ {
		require.Less(t, i, 30)
		var left int
		run(t, ctx, "pending drafts", chromedp.Navigate(page), chromedp.Evaluate(`document.querySelectorAll('button[value=approve]').length`, &left))
		if left == 0 {
			break
		}
		msg := submit(t, ctx, "approve", `button[value=approve]`, chromedp.SetValue(`form[action$="/decide"] input[name=note]`, "reviewed in the console", chromedp.ByQuery))
		require.Contains(t, msg, "approved by legal@example.com")
	}
	signOut(t, ctx)

	// The responder files with Singapore's regulator; notice goes out; legal2 approves the announcement.
	signIn(t, ctx, d.URL, "responder@example.com")
	waitStage(t, ctx, page, api.StageAwaitFiling)
	file := func(name string) {
		t.Helper()
		sel := `form.file:has(input[name=obligation][value="` + name + `"])`
		fill := []chromedp.Action{chromedp.SetValue(sel+` input[name=reference]`, "REF-"+name, chromedp.ByQuery)}
		var late int
		run(t, ctx, "late?", chromedp.Evaluate(`document.querySelectorAll('`+sel+` input[name=late_reason]').length`, &late))
		if late > 0 {
			fill = append(fill, chromedp.SetValue(sel+` input[name=late_reason]`, "the test runs after the scenario's dates", chromedp.ByQuery))
		}
		msg := submit(t, ctx, "file "+name, sel+` button`, fill...)
		require.Contains(t, msg, name+" recorded as submitted")
	}
	file("sg-pdpc")
	waitStage(t, ctx, page, api.StageAnnouncing)
	signOut(t, ctx)
	signIn(t, ctx, d.URL, "legal2@example.com")
	require.Eventually(t, func() bool {
		var n int
		chromedp.Run(ctx, chromedp.Navigate(page), chromedp.Evaluate(`document.querySelectorAll('#draft-announcement button[value=approve]').length`, &n))
		return n == 1
	}, 60*time.Second, 300*time.Millisecond)
	msg = submit(t, ctx, "approve announcement", `#draft-announcement button[value=approve]`)
	require.Contains(t, msg, "announcement revision 1 approved by legal2@example.com")
	signOut(t, ctx)

	signIn(t, ctx, d.URL, "responder@example.com")
	waitStage(t, ctx, page, api.StageFiling)
	v = api.View{}
	require.NoError(t, observer.Do(bg, "GET", "/api/v1/incidents/"+id, nil, &v))
	for _, o := range v.Obligations {
		if !o.Voluntary && o.Audience != "individuals" && o.Status != api.FilingSubmitted {
			run(t, ctx, "incident page", chromedp.Navigate(page))
			file(o.Name)
		}
	}
	waitStage(t, ctx, page, api.StageClosed)
	var progress, reached, announcement string
	run(t, ctx, "closed page", chromedp.Text(`section:has(progress) p`, &progress, chromedp.ByQuery), chromedp.Text(`#reached`, &reached, chromedp.ByQuery),
		chromedp.AttributeValue(`section a[href*="/announcements/"]`, "href", &announcement, nil, chromedp.ByQuery))
	require.NoError(t, observer.Do(bg, "GET", "/api/v1/incidents/"+id, nil, &v))
	require.Equal(t, fmt.Sprint(v.Notifications.Reached), reached)
	require.NotNil(t, v.Campaign)
	require.Contains(t, progress, fmt.Sprintf("%d of %d people contacted", v.Campaign.Contacted, v.Campaign.Subjects))
	require.Contains(t, progress, "partitions 1/1")
	require.Equal(t, v.Announcement.URL, announcement)
	// How the campaign went, drawn per channel: a line each, ending at
	// what the ledger counts as taken by the provider.
	var lines int
	var legend []string
	run(t, ctx, "progress chart", chromedp.Evaluate(`document.querySelectorAll('#progress svg polyline.sent').length`, &lines),
		chromedp.Evaluate(`Array.from(document.querySelectorAll('#progress svg text')).map(e => e.textContent)`, &legend))
	sent := 0
	for ch, c := range v.Campaign.Channels {
		if c.Delivered+c.Sent > 0 {
			sent++
			require.Contains(t, legend, fmt.Sprintf("%s: %d", ch, c.Delivered+c.Sent))
		}
	}
	require.Equal(t, sent, lines, "a line per channel that sent")
	run(t, ctx, "show the chart", chromedp.ScrollIntoView(`#progress`, chromedp.ByQuery))
	screenshot(t, ctx, "08-campaign-progress")
	run(t, ctx, "back to the top", chromedp.Evaluate(`window.scrollTo(0, 0)`, nil))
	screenshot(t, ctx, "04-incident-closed")

	run(t, ctx, "outbox", chromedp.Navigate(d.URL+"/outbox"), chromedp.WaitVisible(`main table`, chromedp.ByQuery))
	var rows int
	run(t, ctx, "outbox rows", chromedp.Evaluate(`document.querySelectorAll('main table tr').length`, &rows))
	require.Greater(t, rows, 50, "the dev outbox lists what the peers received")
	screenshot(t, ctx, "05-outbox")

	// A drill's report page.
	require.NoError(t, d.Store.SaveDrill(bg, store.Drill{ID: "DRILL-1", Playbook: "default", RequestedBy: "responder@example.com", IncidentID: id, Status: "passed",
		StartedAt: time.Now().Add(-time.Minute), FinishedAt: time.Now(), Report: &store.DrillReport{Passed: true, Sent: map[string]int{"email": 3},
			Milestones: []store.MilestoneResult{{Name: "scoped", Took: 2 * time.Second, Target: time.Hour, Reached: true, Passed: true}}}}))
	// The e-mail as people receive it, linked from the draft.
	var mailTitle string
	run(t, ctx, "rendered e-mail", chromedp.Navigate(page+"/drafts/notice-us-ca.html"), chromedp.Title(&mailTitle))
	require.Equal(t, "Notice of Data Breach", mailTitle)

	var drill string
	run(t, ctx, "drill page", chromedp.Navigate(d.URL+"/drills/DRILL-1"), chromedp.Text(`main`, &drill, chromedp.ByQuery))
	require.Contains(t, drill, "Result: passed")
	require.Contains(t, drill, "scoped")
	screenshot(t, ctx, "06-drill-report")
	signOut(t, ctx)

	// Reading needs no JavaScript: a viewer with scripts off sees the whole page, and no forms.
	signIn(t, ctx, d.URL, "viewer@example.com")
	var text string
	var decideForms int
	run(t, ctx, "read without JavaScript", emulation.SetScriptExecutionDisabled(true), chromedp.Navigate(page),
		chromedp.Text(`main`, &text, chromedp.ByQuery), chromedp.Evaluate(`1`, nil))
	require.Contains(t, text, "Stage: closed")
	require.Contains(t, text, "notice-en")
	require.NotContains(t, text, "Dear customer", "viewers see where drafts stand, not their text")
	require.Contains(t, text, "Timeline")
	run(t, ctx, "scripts back on", emulation.SetScriptExecutionDisabled(false), chromedp.Navigate(page),
		chromedp.Evaluate(`document.querySelectorAll('form[action$="/decide"], form.file').length`, &decideForms))
	require.Zero(t, decideForms, "a viewer gets nothing to click")
}

// TestConsoleFormsNeedTheSessionsCSRFToken posts a decision the way another
// site's page would: with the cookie the browser sends along, but without
// the form's token.
func TestConsoleFormsNeedTheSessionsCSRFToken(t *testing.T) {
	d := startDev(t, t.TempDir(), "")
	defer d.Stop()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(d.URL + "/")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	signIn := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(string(body))
	require.NotNil(t, signIn, "the sign-in form carries a CSRF token")
	resp, err = c.PostForm(d.URL+"/login", url.Values{"token": {d.Tokens["TOCSIN_TOKEN_LEGAL"]}, "csrf": {signIn[1]}})
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(body), "legal@example.com (legal)", "signed in with an API token")
	u, _ := url.Parse(d.URL)
	for _, ck := range jar.Cookies(u) {
		require.NotEqual(t, d.Tokens["TOCSIN_TOKEN_LEGAL"], ck.Value, "the browser gets a session, not the API token")
	}
	resp, err = c.PostForm(d.URL+"/incidents/INC-1/decide", url.Values{"draft": {"notice-en"}, "decision": {"approve"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, err = c.PostForm(d.URL+"/incidents/INC-1/decide", url.Values{"draft": {"notice-en"}, "decision": {"approve"}, "csrf": {"guessed"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	jar2, _ := cookiejar.New(nil)
	c2 := &http.Client{Jar: jar2}
	resp, err = c2.Get(d.URL + "/")
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	signIn = regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(string(body))
	require.NotNil(t, signIn)
	resp, err = c2.PostForm(d.URL+"/login", url.Values{"token": {"tcn_forged"}, "csrf": {signIn[1]}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

// TestOIDCSignInRefusesForgedStateAndPeopleWithoutARole goes through the
// authorization-code flow with a plain HTTP client.
func TestOIDCSignInRefusesForgedStateAndPeopleWithoutARole(t *testing.T) {
	d := startDev(t, t.TempDir(), "")
	defer d.Stop()
	signInAs := func(who string) (int, string) {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		resp, err := c.Get(d.URL + "/login/oidc") // follows to the provider's page
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		form := resp.Request.URL.Query()
		form.Set("login", who)
		resp, err = c.PostForm(resp.Request.URL.String(), form) // back through /auth/callback
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	code, body := signInAs("legal@example.com")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "legal@example.com (legal)")

	code, body = signInAs("legal+unverified@example.com")
	require.Equal(t, http.StatusUnauthorized, code, "a provider that did not say the address is verified names nobody")
	require.Contains(t, body, "no verified e-mail address")

	code, body = signInAs("intruder@example.com")
	require.Equal(t, http.StatusForbidden, code)
	require.Contains(t, body, "intruder@example.com has no Tocsin role")
	log, err := d.Store.AuditLog(context.Background(), "")
	require.NoError(t, err)
	last := log[len(log)-1]
	require.Equal(t, "intruder@example.com", last.Actor)
	require.Equal(t, store.AuditRefused, last.Outcome)

	resp, err := http.Get(d.URL + "/auth/callback?code=stolen&state=guessed")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "a callback without the state cookie is refused")
}
