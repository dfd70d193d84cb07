package devpeers

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"
)

// TwilioPeer answers Twilio's Messages and Calls API and posts signed status
// callbacks. It follows Twilio's documented magic test numbers.
type TwilioPeer struct {
	AccountSID string
	AuthToken  string
	// Rotated refuses every request 401 (20003), as after the auth token
	// was rotated in the console and not in Tocsin's secrets.
	Rotated atomic.Bool
	Outbox  *Outbox
	// CallbackDelay is how long after acceptance the receipt is posted.
	CallbackDelay time.Duration
	HTTP          *http.Client
	Log           *slog.Logger
	// Outcome decides a message's or call's final status ("delivered",
	// "undelivered", "completed", "no-answer", ...); nil delivers everything.
	Outcome func(channel, to string) string
	// LoseCallback drops the status callback for a number (the status is
	// still kept, for the sweep to find), as the internet sometimes does.
	LoseCallback func(to string) bool
	// Limiter, when set, answers 429 with Retry-After once it is exceeded.
	Limiter *rate.Limiter
	// Faults, when set, makes the peer slow, failing or silent as a
	// profile says (`tocsin dev --peer-faults`).
	Faults *Faults

	// InboundURL is Tocsin's incoming-message webhook, where a person's
	// reply to our number is posted (Text); Number is that number.
	InboundURL string
	Number     string

	mu        sync.Mutex
	optedOut  map[string]bool            // numbers that texted STOP
	callbacks map[string]pendingCallback // by SID
	wg        sync.WaitGroup
	closed    chan struct{}
}

type pendingCallback struct {
	url    string
	params url.Values
}

// Failing numbers and their Twilio error codes.
var testNumbers = map[string]struct {
	code int
	msg  string
	sms  bool // refused only for SMS
}{
	"+15005550001": {21211, "The 'To' number is not a valid phone number.", false},
	"+15005550002": {21612, "The 'To' phone number is not currently reachable via SMS or voice.", false},
	"+15005550009": {21614, "The 'To' number is not a mobile number and cannot receive SMS.", true},
}

var accountPath = regexp.MustCompile(`^/2010-04-01/Accounts/([^/]+)/(Messages|Calls)(/[A-Za-z0-9]+)?\.json$`)

// ServeHTTP implements the endpoints Tocsin uses: create, fetch and list
// Messages and Calls.
func (p *TwilioPeer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/inbound" && r.Method == http.MethodPost {
		p.inbound(w, r)
		return
	}
	m := accountPath.FindStringSubmatch(r.URL.Path)
	if m == nil || (r.Method != http.MethodPost && r.Method != http.MethodGet) || (r.Method == http.MethodPost && m[3] != "") {
		twilioErr(w, http.StatusNotFound, 20404, "The requested resource was not found")
		return
	}
	user, pass, ok := r.BasicAuth()
	if !ok || user != p.AccountSID || pass != p.AuthToken || m[1] != p.AccountSID || p.Rotated.Load() {
		twilioErr(w, http.StatusUnauthorized, 20003, "Authentication Error - invalid username")
		return
	}
	if p.Limiter != nil && !p.Limiter.Allow() {
		w.Header().Set("Retry-After", "1")
		twilioErr(w, http.StatusTooManyRequests, 20429, "Too Many Requests")
		return
	}
	channel := "sms"
	if m[2] == "Calls" {
		channel = "voice"
	}
	if r.Method == http.MethodPost {
		r.ParseForm()
	}
	// A create's key is its message (the callback URL names the ledger
	// row), so a retry of the same message rolls anew.
	hit := p.Faults.Roll("twilio", r.Method+" "+r.URL.RequestURI()+" "+r.PostForm.Get("To")+" "+r.PostForm.Get("StatusCallback")+" "+r.PostForm.Get("Body"))
	time.Sleep(hit.Delay)
	switch hit.Fail {
	case "status_500":
		twilioErr(w, http.StatusInternalServerError, 20500, "Internal Server Error")
		return
	case "reset":
		resetConnection(w)
		return
	}
	switch {
	case r.Method == http.MethodGet && m[3] != "":
		p.fetch(w, r, channel, strings.TrimPrefix(m[3], "/"))
		return
	case r.Method == http.MethodGet:
		p.list(w, r, channel)
		return
	}
	if err := r.ParseForm(); err != nil {
		twilioErr(w, http.StatusBadRequest, 21100, "Invalid form")
		return
	}
	to := r.PostForm.Get("To")
	p.mu.Lock()
	stopped := p.optedOut[to]
	p.mu.Unlock()
	if stopped && channel == "sms" {
		twilioErr(w, http.StatusBadRequest, 21610, "Attempt to send to unsubscribed recipient")
		return
	}
	if bad, ok := testNumbers[to]; ok && (!bad.sms || channel == "sms") {
		twilioErr(w, http.StatusBadRequest, bad.code, bad.msg)
		return
	}
	if to == "" || (r.PostForm.Get("From") == "" && r.PostForm.Get("MessagingServiceSid") == "") {
		twilioErr(w, http.StatusBadRequest, 21604, "A 'To' and a 'From' phone number are required.")
		return
	}
	prefix := "SM"
	body := r.PostForm.Get("Body")
	if channel == "sms" && utf8.RuneCountInString(body) > 1600 {
		twilioErr(w, http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit.")
		return
	}
	if channel == "voice" {
		prefix = "CA"
		body = r.PostForm.Get("Twiml")
	}
	sid := prefix + randomHex(16)
	cb := r.PostForm.Get("StatusCallback")
	q := callbackQuery(cb)
	if err := p.Outbox.Add(r.Context(), Entry{IncidentID: q.Get("incident"), SubjectID: q.Get("subject"), Channel: channel, To: to, Body: body, Status: "queued", Ref: sid, Callback: cb}); err != nil {
		twilioErr(w, http.StatusInternalServerError, 20500, "Internal Server Error")
		return
	}
	if cb != "" {
		p.schedule(sid, channel, to, cb)
	}
	if hit.Fail == "accept_then_timeout" {
		// Created, and the receipt will come; the answer never does.
		<-r.Context().Done()
		resetConnection(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(p.resource(Entry{Channel: channel, To: to, Body: body, Status: "queued", Ref: sid, At: time.Now()}))
}

// Twilio's default opt-out keywords: after one, it refuses to text the
// number (21610) until it texts an opt-in keyword.
var (
	optOutWords = []string{"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
	optInWords  = []string{"START", "UNSTOP", "YES"}
)

// Text is a person texting body from their number to ours: as Twilio, the
// peer posts the signed incoming-message webhook, keeps STOP and START,
// and texts back what the webhook's TwiML says (also returned).
func (p *TwilioPeer) Text(ctx context.Context, from, body string) (string, error) {
	word := strings.ToUpper(strings.TrimSpace(body))
	p.mu.Lock()
	if p.optedOut == nil {
		p.optedOut = map[string]bool{}
	}
	switch {
	case slices.Contains(optOutWords, word):
		p.optedOut[from] = true
	case slices.Contains(optInWords, word):
		delete(p.optedOut, from)
	}
	p.mu.Unlock()
	params := url.Values{"MessageSid": {"SM" + randomHex(16)}, "AccountSid": {p.AccountSID}, "From": {from}, "To": {p.Number}, "Body": {body}, "NumMedia": {"0"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.InboundURL, strings.NewReader(params.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", SignTwilio(p.AuthToken, p.InboundURL, params))
	client := p.HTTP
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("incoming-message webhook: %s", resp.Status)
	}
	var twiml struct {
		Messages []string `xml:"Message"`
	}
	if err := xml.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&twiml); err != nil {
		return "", fmt.Errorf("incoming-message webhook: TwiML: %w", err)
	}
	reply := strings.Join(twiml.Messages, "\n")
	if reply != "" {
		if err := p.Outbox.Add(ctx, Entry{Channel: "sms", To: from, Body: reply, Status: "delivered", Ref: "SM" + randomHex(16), At: time.Now()}); err != nil {
			return "", err
		}
	}
	return reply, nil
}

// inbound is POST /inbound (From, Body): dev's way to reply to a text.
func (p *TwilioPeer) inbound(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("From") == "" {
		http.Error(w, "want a form with From and Body", http.StatusBadRequest)
		return
	}
	reply, err := p.Text(r.Context(), r.PostForm.Get("From"), r.PostForm.Get("Body"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, reply)
}

// resource is a Message or Call as Twilio's API shows it.
func (p *TwilioPeer) resource(e Entry) map[string]any {
	res := map[string]any{"sid": e.Ref, "account_sid": p.AccountSID, "to": e.To, "status": e.Status, "date_created": e.At.UTC().Format(time.RFC1123Z)}
	if e.Channel == "sms" {
		res["body"] = e.Body
		res["num_segments"] = "1"
	} else if e.Status == "completed" {
		res["answered_by"] = AnsweredBy(e.To)
	}
	return res
}

func (p *TwilioPeer) fetch(w http.ResponseWriter, r *http.Request, channel, sid string) {
	e, ok, err := p.Outbox.ByRef(r.Context(), sid)
	if err != nil {
		twilioErr(w, http.StatusInternalServerError, 20500, "Internal Server Error")
		return
	}
	if !ok || e.Channel != channel {
		twilioErr(w, http.StatusNotFound, 20404, "The requested resource was not found")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(p.resource(e))
}

// list answers one page of a To filter with a date floor (DateSent> for
// messages, StartTime> for calls), which is how a sender finds a message an
// interrupted attempt may have created.
func (p *TwilioPeer) list(w http.ResponseWriter, r *http.Request, channel string) {
	q := r.URL.Query()
	floor := q.Get("DateSent>")
	key := "messages"
	if channel == "voice" {
		floor, key = q.Get("StartTime>"), "calls"
	}
	since, err := time.Parse(time.RFC3339, floor)
	if err != nil {
		since = time.Time{}
	}
	entries, err := p.Outbox.Sent(r.Context(), channel, q.Get("To"), since)
	if err != nil {
		twilioErr(w, http.StatusInternalServerError, 20500, "Internal Server Error")
		return
	}
	items := []map[string]any{}
	for _, e := range entries {
		items = append(items, p.resource(e))
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{key: items, "page": 0, "page_size": len(items), "uri": r.URL.RequestURI()})
}

func callbackQuery(cb string) url.Values {
	u, err := url.Parse(cb)
	if err != nil {
		return url.Values{}
	}
	return u.Query()
}

// AnsweredBy is who the peer says picked up a call: numbers ending in 0177
// are a fax, in 0178 an answering machine that never beeps, and everyone
// else a person.
func AnsweredBy(to string) string {
	switch {
	case strings.HasSuffix(to, "0177"):
		return "fax"
	case strings.HasSuffix(to, "0178"):
		return "machine_end_silence"
	}
	return "human"
}

func (p *TwilioPeer) schedule(sid, channel, to, cb string) {
	params := url.Values{"AccountSid": {p.AccountSID}, "To": {to}}
	outcome := ""
	if p.Outcome != nil {
		outcome = p.Outcome(channel, to)
	}
	if channel == "sms" {
		params.Set("MessageSid", sid)
		params.Set("SmsSid", sid)
		params.Set("MessageStatus", cmp.Or(outcome, "delivered"))
	} else {
		outcome = cmp.Or(outcome, "completed")
		params.Set("CallSid", sid)
		params.Set("CallStatus", outcome)
		if outcome == "completed" {
			params.Set("AnsweredBy", AnsweredBy(to))
			params.Set("CallDuration", "42")
		}
	}
	if p.LoseCallback != nil && p.LoseCallback(to) {
		// The carrier knows; Tocsin is never told.
		p.Outbox.SetStatus(context.Background(), sid, cmp.Or(params.Get("MessageStatus"), params.Get("CallStatus")))
		return
	}
	p.mu.Lock()
	if p.callbacks == nil {
		p.callbacks = map[string]pendingCallback{}
		p.closed = make(chan struct{})
	}
	p.callbacks[sid] = pendingCallback{url: cb, params: params}
	p.mu.Unlock()
	p.wg.Add(1)
	go p.deliver(sid)
}

// deliver posts the receipt, retrying while Tocsin is unreachable (as Twilio does).
func (p *TwilioPeer) deliver(sid string) {
	defer p.wg.Done()
	p.mu.Lock()
	pc := p.callbacks[sid]
	closed := p.closed
	p.mu.Unlock()
	delay := p.CallbackDelay
	for attempt := 0; attempt < 30; attempt++ {
		select {
		case <-closed:
			return
		case <-time.After(delay):
		}
		if p.post(pc) {
			status := pc.params.Get("MessageStatus")
			if status == "" {
				status = pc.params.Get("CallStatus")
			}
			p.Outbox.SetStatus(context.Background(), sid, status)
			p.mu.Lock()
			delete(p.callbacks, sid)
			p.mu.Unlock()
			return
		}
		delay = min(2*delay+100*time.Millisecond, 5*time.Second)
	}
}

func (p *TwilioPeer) post(pc pendingCallback) bool {
	req, err := http.NewRequest(http.MethodPost, pc.url, strings.NewReader(pc.params.Encode()))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", SignTwilio(p.AuthToken, pc.url, pc.params))
	client := p.HTTP
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 && p.Log != nil {
		p.Log.Warn("twilio peer: status callback refused", "status", resp.StatusCode)
	}
	return resp.StatusCode/100 == 2
}

// Resume re-posts receipts that a restart interrupted, so nothing stays
// "sent" forever: to the callback each request named, or, for entries kept
// before the outbox remembered it, to callbackBase (skipped when empty).
func (p *TwilioPeer) Resume(ctx context.Context, callbackBase string) error {
	pending, err := p.Outbox.pending(ctx)
	if err != nil {
		return err
	}
	for _, e := range pending {
		cb := e.Callback
		if cb == "" && callbackBase != "" {
			q := url.Values{"incident": {e.IncidentID}, "subject": {e.SubjectID}, "channel": {e.Channel}}
			cb = callbackBase + "?" + q.Encode()
		}
		if cb != "" {
			p.schedule(e.Ref, e.Channel, e.To, cb)
		}
	}
	return nil
}

// Close stops pending callbacks.
func (p *TwilioPeer) Close() {
	p.mu.Lock()
	if p.closed != nil {
		select {
		case <-p.closed:
		default:
			close(p.closed)
		}
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// SignTwilio computes X-Twilio-Signature: base64 HMAC-SHA1 over the full URL
// followed by each POST parameter name and value, sorted by name.
func SignTwilio(token, fullURL string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteString(fullURL)
	for _, k := range keys {
		for _, v := range params[k] {
			b.WriteString(k + v)
		}
	}
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write(b.Bytes())
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func twilioErr(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"code": code, "message": msg, "more_info": "https://www.twilio.com/docs/errors/" + strconv.Itoa(code), "status": status})
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
