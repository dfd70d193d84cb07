package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/mail"
	"net/smtp"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/client"
	"github.com/tocsin/tocsin/internal/inventory"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/verify"
	"github.com/tocsin/tocsin/templates"
)

// verifyPeople: an English reader with e-mail, a Japanese reader of
// another system, and a person with a phone alone (told by SMS).
const verifyPeople = "subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems\n" +
	"v1,Ann Lee,v1@example.com,,,en,SG,1980,account-db\n" +
	"v2,山田花子,v2@example.com,,,ja,JP,1985,persona-media\n" +
	"v3,Bo Tan,,+6598765432,,en,SG,1990,account-db\n"

var noticeLink = regexp.MustCompile(`/n/([A-Z0-9]{10})\b`)

func publicVerify(t *testing.T, base, code string) (int, api.VerifyResponse) {
	t.Helper()
	body, _ := json.Marshal(api.VerifyRequest{Code: code})
	resp, err := http.Post(base+"/api/v1/public/verify", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	var out api.VerifyResponse
	if resp.StatusCode == http.StatusOK {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	}
	return resp.StatusCode, out
}

// TestANoticesCodeVerifiesAndAMadeUpOneDoesNot: an enrolment code the
// remedy's vendor issued to one person is in exactly her notice and on her
// verify page; every notice carries its
// reader's own code and link; the code shows that person their notice, in
// their language, and which of their data was involved; a made-up code
// gets the one answer a wrong code gets; a client that keeps guessing is
// refused; the page works in Chromium with scripts off; the SMS is one
// segment with the link; the incident counts the checks, not who made them.
func TestANoticesCodeVerifiesAndAMadeUpOneDoesNot(t *testing.T) {
	ctx := context.Background()
	r := runSample(t, sampleOptions{subjects: verifyPeople, done: func(v api.View) bool { return v.Status == api.StageAwaitApproval }})
	// The remedy's vendor issued an enrolment code to Ann alone.
	var imported api.EnrolmentCodesResponse
	err := r.responder.Do(ctx, "POST", "/api/v1/incidents/"+r.id+"/enrolment-codes", api.EnrolmentCodesRequest{Codes: []inventory.EnrolmentCode{{SubjectID: "nobody", Code: "CM-0"}}}, nil)
	require.ErrorContains(t, err, "not affected by "+r.id)
	require.NoError(t, r.responder.Do(ctx, "POST", "/api/v1/incidents/"+r.id+"/enrolment-codes",
		api.EnrolmentCodesRequest{Codes: []inventory.EnrolmentCode{{SubjectID: "v1", Code: "CM-7Q2X-ANN", EnrolBy: "2027-01-31"}}}, &imported))
	require.Equal(t, 1, imported.Imported)
	r.until(t, func(v api.View) bool { return v.Status == api.StageClosed })
	entries, err := r.dev.Outbox.List(ctx, r.id)
	require.NoError(t, err)
	codes, texts := map[string]string{}, map[string]string{}
	for _, e := range entries {
		if e.SubjectID == "" {
			continue // the war room's posts
		}
		m := noticeLink.FindStringSubmatch(e.Body)
		require.NotNil(t, m, "%s's %s carries a link to their notice:\n%s", e.SubjectID, e.Channel, e.Body)
		if prev, ok := codes[e.SubjectID]; ok {
			require.Equal(t, prev, m[1], "%s's copies carry one code", e.SubjectID)
		}
		codes[e.SubjectID], texts[e.SubjectID+"/"+e.Channel] = m[1], e.Body
		require.NotContains(t, e.Body, "[[")
		if e.SubjectID == "v1" && e.Channel == "email" {
			require.Contains(t, e.Body, "Your enrolment code: CM-7Q2X-ANN. Enrol by 2027-01-31.", "Ann's own code, in her notice")
		} else {
			require.NotContains(t, e.Body, "CM-7Q2X-ANN", "%s's %s carries nobody else's code", e.SubjectID, e.Channel)
			require.NotContains(t, e.Body, "enrolment code")
		}
	}
	require.Len(t, codes, 3)
	require.NotEqual(t, codes["v1"], codes["v3"])
	sms := texts["v3/sms"]
	require.NotEmpty(t, sms)
	require.LessOrEqual(t, len(sms), 160, "one GSM-7 segment: %q", sms)
	require.Contains(t, sms, "We never ask for your password")

	var subjects api.SubjectsPage
	require.NoError(t, r.responder.Do(ctx, "GET", "/api/v1/incidents/"+r.id+"/subjects", nil, &subjects))
	categories := map[string][]string{}
	for _, s := range subjects.Subjects {
		categories[s.SubjectID] = s.Categories
	}
	require.NotEqual(t, categories["v1"], categories["v2"], "the two systems hold different data")
	require.Contains(t, texts["v1/email"], "Your own information involved: "+strings.Join(templates.Labels(categories["v1"], "en"), ", ")+".", "Ann's notice names her own data")
	require.Contains(t, texts["v2/email"], "お客様ご自身の対象情報："+strings.Join(templates.Labels(categories["v2"], "ja"), "、")+"。", "and 花子's hers, in Japanese")

	status, v1 := publicVerify(t, r.dev.URL, strings.ToLower(verify.Format(codes["v1"])))
	require.Equal(t, http.StatusOK, status)
	require.True(t, v1.Genuine)
	require.Equal(t, r.id, v1.IncidentID)
	require.Equal(t, "This notice is genuine: we sent it to you.", v1.Message)
	require.Contains(t, v1.Notice, "What happened")
	require.Contains(t, v1.Notice, codes["v1"], "their own notice, with their own code")
	require.Equal(t, templates.Labels(categories["v1"], "en"), v1.YourData)
	require.Equal(t, "CM-7Q2X-ANN", v1.EnrolmentCode)
	require.Contains(t, v1.Notice, "Your enrolment code: CM-7Q2X-ANN.")

	_, v2 := publicVerify(t, r.dev.URL, codes["v2"])
	require.True(t, v2.Genuine)
	require.Equal(t, "ja", v2.Locale)
	require.Equal(t, "この通知は当社が正式にお送りしたものです。", v2.Message)
	require.Contains(t, v2.Notice, "お客様各位")
	require.Equal(t, templates.Labels(categories["v2"], "ja"), v2.YourData)
	require.Empty(t, v2.EnrolmentCode)

	_, madeUp := publicVerify(t, r.dev.URL, "ABCDE23456")
	_, garbage := publicVerify(t, r.dev.URL, "hello")
	require.False(t, madeUp.Genuine)
	require.Equal(t, madeUp, garbage, "a wrong code says nothing about why")
	require.Empty(t, madeUp.Notice)

	b := browser(t)
	var genuine, received, fake string
	run(t, b, "open a notice's link, ask a question, then type a made-up code, scripts off",
		emulation.SetScriptExecutionDisabled(true),
		chromedp.Navigate(r.dev.URL+"/n/"+codes["v1"]),
		chromedp.Text(`[role=status]`, &genuine, chromedp.ByQuery),
		chromedp.SetValue(`#question`, "Do I need to cancel my card?", chromedp.ByQuery),
		chromedp.Submit(`#question`, chromedp.ByQuery),
		chromedp.WaitVisible(`.qa`, chromedp.ByQuery),
		chromedp.Text(`body`, &received, chromedp.ByQuery),
		chromedp.SetValue(`#code`, "ZZZZZ-ZZZZZ", chromedp.ByQuery),
		chromedp.Submit(`#code`, chromedp.ByQuery),
		chromedp.WaitVisible(`[role=alert]`, chromedp.ByQuery),
		chromedp.Text(`[role=alert]`, &fake, chromedp.ByQuery))
	require.Equal(t, "This notice is genuine: we sent it to you.", genuine)
	require.Contains(t, fake, "No notice of ours carries this code")
	screenshot(t, b, "verify-fake")
	require.Contains(t, received, "Your question was received")
	require.Contains(t, received, "Do I need to cancel my card?")

	// Support sees the question, answers it; Ann reads the answer where she asked.
	support := as(r.dev, "TOCSIN_TOKEN_SUPPORT")
	var open []store.Inquiry
	require.NoError(t, support.Do(ctx, "GET", "/api/v1/inquiries?status=open&incident="+r.id, nil, &open))
	require.Len(t, open, 1)
	require.Equal(t, "v1", open[0].SubjectID)
	require.Equal(t, "Do I need to cancel my card?", open[0].Question)
	require.Error(t, support.Do(ctx, "GET", "/api/v1/incidents/"+r.id, nil, nil), "support sees questions, not the incident")
	var answered store.Inquiry
	require.NoError(t, support.Do(ctx, "POST", "/api/v1/inquiries/"+open[0].ID+"/answer", api.AnswerRequest{Answer: "No: card numbers were not involved."}, &answered))
	require.Equal(t, "support@example.com", answered.AnsweredBy)
	_, again := publicVerify(t, r.dev.URL, codes["v1"])
	require.Len(t, again.Inquiries, 1)
	require.Equal(t, "No: card numbers were not involved.", again.Inquiries[0].Answer)
	_, v2again := publicVerify(t, r.dev.URL, codes["v2"])
	require.Empty(t, v2again.Inquiries, "a person sees only their own questions")

	askedByText(t, r, support)
	askedByEmail(t, r, support)

	limited := false
	for range api.DefaultVerifyPerMinute + 1 {
		if status, _ := publicVerify(t, r.dev.URL, "ABCDE23456"); status == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	require.True(t, limited, "a client that keeps trying codes is refused")
	resp, err := http.Get(r.dev.URL + "/n/" + codes["v1"])
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "the page too: %s", page)

	v := waitStatus(t, r.responder, r.id, api.StageClosed)
	require.Equal(t, 6, v.Notifications.Verified, "v1 and v2 by the API, v1 twice in the browser and both again once answered count against the incident; the wrong codes and the refused check do not")
	require.NotNil(t, v.Notifications.Inquiries)
	require.Equal(t, 3, v.Notifications.Inquiries.Asked)
	require.Equal(t, 3, v.Notifications.Inquiries.Answered)
	require.Equal(t, map[string]int{"web": 1, "sms": 1, "email": 1}, v.Notifications.Inquiries.ByChannel)
}

// askedByEmail: Ann replies to her notice's e-mail; the reply mailbox
// makes what she wrote above the quote a question, and support's answer
// goes back to her address. A reply naming her notice from someone else's
// address is not kept.
func askedByEmail(t *testing.T, r sampleRun, support *client.Client) {
	ctx := context.Background()
	reply := func(from, text string) {
		t.Helper()
		msg := "From: " + from + "\r\nTo: replies@tocsin.local\r\nSubject: Re: Notice\r\nIn-Reply-To: <" + r.id + ".v1@tocsin.local>\r\n" +
			"Content-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n\r\nOn Fri, Security Team wrote:\r\n> Dear customer,\r\n"
		envelope, err := mail.ParseAddress(from)
		require.NoError(t, err)
		require.NoError(t, smtp.SendMail(r.dev.MailboxAddr, nil, envelope.Address, []string{"replies@tocsin.local"}, []byte(msg)))
	}
	reply("mallory@example.net", "Send me Ann's data.")
	reply("Ann Lee <v1@example.com>", "Should I change my bank PIN too?")
	var open []store.Inquiry
	require.NoError(t, support.Do(ctx, "GET", "/api/v1/inquiries?status=open&incident="+r.id, nil, &open))
	require.Len(t, open, 1, "only Ann's own reply is a question")
	require.Equal(t, "email", open[0].Channel)
	require.Equal(t, "v1", open[0].SubjectID)
	require.Equal(t, "Should I change my bank PIN too?", open[0].Question, "her words, without the quoted notice")

	var answered store.Inquiry
	require.NoError(t, support.Do(ctx, "POST", "/api/v1/inquiries/"+open[0].ID+"/answer", api.AnswerRequest{Answer: "No: no bank data was involved."}, &answered))
	require.NotEmpty(t, answered.AnswerRef, "e-mailed back")
	got, err := r.dev.Outbox.ForRecipient(ctx, "email", "v1@example.com")
	require.NoError(t, err)
	last := got[len(got)-1]
	require.Contains(t, last.Body, "No: no bank data was involved.")
	require.Equal(t, "Re: your question (reference "+r.id+")", last.Subject)
}

// askedByText: Bo, told by SMS, replies to it. HELP says who we are and
// how to stop; a question becomes support's, answered by text to his
// number; a number we never texted learns nothing and leaves nothing;
// after STOP the carrier refuses our text, support is told the answer
// was not sent, and after START it goes.
func askedByText(t *testing.T, r sampleRun, support *client.Client) {
	ctx := context.Background()
	const bo, stranger = "+6598765432", "+15550001111"
	texted := func(from, body string) string {
		t.Helper()
		reply, err := r.dev.TwilioPeer.Text(ctx, from, body)
		require.NoError(t, err)
		return reply
	}
	help := texted(bo, "help")
	require.Contains(t, help, "Reply STOP")
	require.Contains(t, help, r.dev.URL+"/verify")
	require.Contains(t, texted(bo, "Is my card at risk? I only gave you my number."), "we have your question and will answer by text")
	require.Contains(t, texted(stranger, "Is this real?"), "Reply STOP", "a number we never texted is told who texts and where to check a notice, and nothing is kept")

	var open []store.Inquiry
	require.NoError(t, support.Do(ctx, "GET", "/api/v1/inquiries?status=open&incident="+r.id, nil, &open))
	require.Len(t, open, 1, "only Bo's question: HELP and the stranger's text are not questions")
	require.Equal(t, "v3", open[0].SubjectID)
	require.Equal(t, "sms", open[0].Channel)
	require.Equal(t, "Is my card at risk? I only gave you my number.", open[0].Question)
	raw, err := json.Marshal(open[0])
	require.NoError(t, err)
	require.NotContains(t, string(raw), bo, "support sees the question, not the number")

	var answered store.Inquiry
	require.NoError(t, support.Do(ctx, "POST", "/api/v1/inquiries/"+open[0].ID+"/answer", api.AnswerRequest{Answer: "No: only your phone number was involved."}, &answered))
	require.NotEmpty(t, answered.AnswerRef, "texted back")
	got, err := r.dev.Outbox.ForRecipient(ctx, "sms", bo)
	require.NoError(t, err)
	require.Equal(t, "No: only your phone number was involved.", got[len(got)-1].Body, "the answer went to Bo's number")
	require.Equal(t, answered.AnswerRef, got[len(got)-1].Ref)

	require.Contains(t, texted(bo, "STOP"), "Reply START")
	v := waitStatus(t, r.responder, r.id, api.StageClosed)
	require.Equal(t, 1, v.Notifications.Inquiries.OptedOut)
	err = support.Do(ctx, "POST", "/api/v1/inquiries/"+open[0].ID+"/answer", api.AnswerRequest{Answer: "One more thing."}, nil)
	require.ErrorContains(t, err, "saved but was not texted")
	require.ErrorContains(t, err, "21610", "the carrier's refusal, named")
	require.Contains(t, texted(bo, "START"), "Reply STOP")
	require.NoError(t, support.Do(ctx, "POST", "/api/v1/inquiries/"+open[0].ID+"/answer", api.AnswerRequest{Answer: "One more thing."}, &answered))
	got, err = r.dev.Outbox.ForRecipient(ctx, "sms", bo)
	require.NoError(t, err)
	require.Equal(t, "One more thing.", got[len(got)-1].Body)
	strangers, err := r.dev.Outbox.ForRecipient(ctx, "sms", stranger)
	require.NoError(t, err)
	require.Len(t, strangers, 1, "the stranger got the one help text back")
}
