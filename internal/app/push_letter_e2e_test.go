package app

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/client"
)

const (
	fcmDevice  = "ZmNtLWRldmljZS1vZi1wYXQtMDAwMQ"
	fcmGone    = "ZmNtLWRldmljZS1yZW1vdmVkLTAwMDE"
	apnsDevice = "5f3a9c0e1b2d4f6a8c7e9b1d3f5a7c9e2b4d6f8a0c1e3b5d7f9a2c4e6b8d0f1a"
	pushPeople = "subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems,push_tokens,address_line1,address_line2,address_city,address_state,address_postal_code,address_country\n" +
		"p1,Pat,,,,en,SG,1990,account-db,fcm:" + fcmDevice + ",,,,,,\n" +
		"p2,李雷,,,,zh-CN,CN,1985,account-db,apns:" + apnsDevice + ",,,,,,\n" +
		"p3,Ann,,,,en,SG,1970,account-db,fcm:" + fcmGone + ",,,,,,\n" +
		"p4,Bo,bo@example.com,,,en,SG,1980,account-db,fcm:" + fcmDevice + "2,,,,,,\n" +
		"p5,韩梅梅,,,,zh-CN,CN,1988,account-db,,朝阳区建国路 1 号,,北京,,100022,CN\n" +
		"p6,Dee Smith,,,,en,SG,1975,account-db,,1 Harbour St,#04-01,Singapore,,049315,SG\n"
)

// TestPushAndLettersReachPeopleWithoutEmailOrPhone: people whose only
// contact is a phone app are alerted through FCM and APNs by the real
// clients, whose OAuth bearer and provider JWT the peer checks; the alert
// carries the title, a line in the person's language and a link, never
// the notice; a device the service reports unregistered leaves its person
// unreached. People with only a postal address get a printed letter in
// their language, handed to the print vendor.
func TestPushAndLettersReachPeopleWithoutEmailOrPhone(t *testing.T) {
	ctx := context.Background()
	r := runSampleIncidentWith(t, pushPeople, "", func(d *Dev) { d.PushPeer.Unregister("fcm:" + fcmGone) })
	d, responder, legal, pilot, id, v := r.dev, r.responder, r.legal, r.pilot, r.id, r.view

	require.Equal(t, 4, v.Scope.Reachable["push"])
	require.Equal(t, 1, v.Scope.Reachable["email"])
	require.Equal(t, 2, v.Scope.Reachable["address"], "%v", v.Scope)
	require.Equal(t, 5, v.Notifications.Reached, "p1, p2 and p4 by push, p5 and p6 by letter")
	require.Equal(t, 1, v.Notifications.Failed, "p3's only device is gone")

	entries, err := d.Outbox.List(ctx, id)
	require.NoError(t, err)
	got := map[string]string{}
	for _, e := range entries {
		if e.Channel == "push" {
			got[e.To] = e.Subject + " | " + e.Body
		}
	}
	require.Len(t, got, 3, "one alert to each live device: %v", got)
	letters := map[string]string{}
	for _, e := range entries {
		if e.Channel == "letter" {
			letters[e.SubjectID] = pdfText(t, e.Body)
			require.NotContains(t, []string{"p1", "p2", "p3", "p4"}, e.SubjectID, "a letter only where nothing else reached")
		}
	}
	require.Len(t, letters, 2)
	for _, want := range []string{"韩梅梅", "朝阳区建国路 1 号", "北京 100022", "个人信息安全事件告知", "涉及的个人信息种类", "密码（经加密散列处理）"} {
		require.Contains(t, letters["p5"], want, "the Chinese letter")
	}
	require.Contains(t, strings.ReplaceAll(letters["p5"], " ", ""), "（北京时间）发现该事件。", "a line wrapped inside a Chinese sentence keeps every character; the time is Beijing's")
	for _, want := range []string{"Dee Smith", "1 Harbour St", "#04-01", "Singapore 049315", "leaked access key", "Change your password"} {
		require.Contains(t, letters["p6"], want, "the English letter")
	}

	// Legal writes the batches out for inspection, a letter per batch
	// here; a responder may not (names and addresses).
	var apiErr *client.APIError
	require.ErrorAs(t, responder.Do(ctx, "GET", "/api/v1/incidents/"+id+"/letters", nil, nil), &apiErr)
	require.Equal(t, http.StatusForbidden, apiErr.Status)
	var manifests []string
	after := ""
	for {
		var b api.LettersBatch
		require.NoError(t, legal.Do(ctx, "GET", "/api/v1/incidents/"+id+"/letters?size=1&after="+after, nil, &b))
		if b.Letters == 0 {
			require.Empty(t, b.Next)
			break
		}
		manifests = append(manifests, b.Manifest)
		pdf := filepath.Join(t.TempDir(), "batch.pdf")
		require.NoError(t, os.WriteFile(pdf, b.PDF, 0o600))
		require.Contains(t, pdfText(t, pdf), map[int]string{0: "韩梅梅", 1: "Dee Smith"}[len(manifests)-1], "the letter as mailed")
		if b.Next == "" {
			break
		}
		after = b.Next
	}
	require.Len(t, manifests, 2)
	require.Contains(t, manifests[0], ",p5,韩梅梅,朝阳区建国路 1 号,,北京,,100022,CN,1,", "first page 1, then its page count")
	require.Contains(t, manifests[1], ",p6,Dee Smith,1 Harbour St,#04-01,Singapore,,049315,SG,1,")

	// The post office returns Dee's letter: nothing else reached Dee, who
	// is now covered by substitute notice; p1 had no letter.
	var ret api.ReturnedResponse
	require.NoError(t, responder.Do(ctx, "POST", "/api/v1/incidents/"+id+"/returned", api.ReturnedRequest{Subjects: []string{"p6", "p1"}}, &ret))
	require.Equal(t, api.ReturnedResponse{Returned: 1, Unreached: 1, NotMailed: []string{"p1"}, SubstituteNotice: "covered by the public announcement at " + v.Announcement.URL}, ret)
	v, err = pilot.View(ctx, id)
	require.NoError(t, err)
	require.Equal(t, 1, v.Notifications.Returned)
	require.Equal(t, 1, v.Notifications.ReturnedUnreached)
	en, zh := got["fcm:"+fcmDevice], got["apns:"+apnsDevice]
	require.Contains(t, en, "We have sent you an important notice about your personal information.")
	require.Contains(t, en, "tocsin-dev://notices/"+id)
	require.Contains(t, zh, "我们向您发送了一则关于您个人信息的重要告知")
	require.Contains(t, got, "fcm:"+fcmDevice+"2")
	for to, text := range got {
		require.NotContains(t, text, "leaked access key", "%s: the notice itself stays off the lock screen", to)
		require.False(t, strings.Contains(text, "Pat") || strings.Contains(text, "李雷"), "%s: no name on the lock screen", to)
	}
}

// pdfText is the text pdftotext reads from a PDF file, words joined by
// single spaces (a paragraph wraps where the page ends).
func pdfText(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("pdftotext", path, "-").Output()
	require.NoError(t, err, "pdftotext %s (poppler-utils; .ci/run installs it)", path)
	return strings.Join(strings.Fields(string(out)), " ")
}

// lettersOnly are two people only a letter reaches.
const lettersOnly = "subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems,address_line1,address_line2,address_city,address_state,address_postal_code,address_country\n" +
	"p5,韩梅梅,,,,zh-CN,CN,1988,account-db,朝阳区建国路 1 号,,北京,,100022,CN\n" +
	"p6,Dee Smith,,,,en,SG,1975,account-db,1 Harbour St,#04-01,Singapore,,049315,SG\n"

// TestAReturnedLetterGivesSubstituteNotice: everyone was reached, by
// letter, so no announcement went out and the incident stays open for
// returned mail. The post office returns Dee's letter: the plan drafts
// the public announcement, legal approves it, it is published, and the
// incident closes; a later return is covered by it. Only legal or an
// admin may end the wait early.
func TestAReturnedLetterGivesSubstituteNotice(t *testing.T) {
	ctx := context.Background()
	awaiting := func(v api.View) bool { return v.Returns != nil && v.Returns.Ended == "" }
	r := runSampleIncidentUntil(t, lettersOnly, "", nil, awaiting)
	id, v := r.id, r.view
	require.Equal(t, 2, v.Returns.Letters)
	require.False(t, v.Announcement.Published)
	require.Equal(t, 0, v.Notifications.Failed)
	require.WithinDuration(t, time.Now().Add(720*time.Hour), v.Returns.Until, 5*time.Minute, "the default playbook's returns_window")

	var apiErr *client.APIError
	require.ErrorAs(t, r.responder.Do(ctx, "POST", "/api/v1/incidents/"+id+"/returned", api.ReturnedRequest{Settled: true}, nil), &apiErr)
	require.Equal(t, http.StatusForbidden, apiErr.Status, "a responder may not end the wait: %v", apiErr)

	var ret api.ReturnedResponse
	require.NoError(t, r.responder.Do(ctx, "POST", "/api/v1/incidents/"+id+"/returned", api.ReturnedRequest{Subjects: []string{"p6"}}, &ret))
	require.Equal(t, 1, ret.Unreached)
	require.Equal(t, "a public announcement is being drafted for legal, as substitute notice", ret.SubstituteNotice)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var err error
		v, err = r.pilot.View(ctx, id)
		require.NoError(c, err)
		require.NoError(c, r.pilot.Step(ctx, v))
		require.Equal(c, api.StageClosed, v.Status, "timeline: %+v", v.Timeline)
	}, 2*time.Minute, 100*time.Millisecond)
	require.True(t, v.Announcement.Published, "legal approved the announcement, and it went out")
	require.Equal(t, "announcement", v.Returns.Ended)
	require.Equal(t, 1, v.Notifications.Failed, "Dee is unreached again")
	require.Equal(t, 1, v.Notifications.ReturnedUnreached)
	for _, o := range v.Obligations {
		if o.Audience == "individuals" && o.Jurisdiction == "SG" {
			require.NotNil(t, o.Filing)
			require.Contains(t, o.Filing.Reference, "1 by public announcement", "the register states the substitute notice")
		}
	}

	require.NoError(t, r.responder.Do(ctx, "POST", "/api/v1/incidents/"+id+"/returned", api.ReturnedRequest{Subjects: []string{"p5"}}, &ret))
	require.Equal(t, "covered by the public announcement at "+v.Announcement.URL, ret.SubstituteNotice)

	if path := os.Getenv("TOCSIN_RECORD_RETURNS_HISTORY"); path != "" {
		recordHistory(t, r.dev, id, path)
		recordKeys(t, filepath.Join(r.dir, DevCodecKeyFile), filepath.Join(filepath.Dir(path), "codec.keys"))
	}
}
