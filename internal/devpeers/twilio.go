package devpeers

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// TwilioPeer answers Twilio's Messages and Calls API and posts signed status
// callbacks. It follows Twilio's documented magic test numbers.
type TwilioPeer struct {
	AccountSID string
	AuthToken  string
	Outbox     *Outbox
	// CallbackDelay is how long after acceptance the receipt is posted.
	CallbackDelay time.Duration
	HTTP          *http.Client
	Log           *slog.Logger

	mu        sync.Mutex
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

var accountPath = regexp.MustCompile(`^/2010-04-01/Accounts/([^/]+)/(Messages|Calls)\.json$`)

// ServeHTTP implements the two endpoints Tocsin uses.
func (p *TwilioPeer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := accountPath.FindStringSubmatch(r.URL.Path)
	if m == nil || r.Method != http.MethodPost {
		twilioErr(w, http.StatusNotFound, 20404, "The requested resource was not found")
		return
	}
	user, pass, ok := r.BasicAuth()
	if !ok || user != p.AccountSID || pass != p.AuthToken || m[1] != p.AccountSID {
		twilioErr(w, http.StatusUnauthorized, 20003, "Authentication Error - invalid username")
		return
	}
	if err := r.ParseForm(); err != nil {
		twilioErr(w, http.StatusBadRequest, 21100, "Invalid form")
		return
	}
	to := r.PostForm.Get("To")
	channel := "sms"
	if m[2] == "Calls" {
		channel = "voice"
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
	if channel == "voice" {
		prefix = "CA"
		body = r.PostForm.Get("Twiml")
	}
	sid := prefix + randomHex(16)
	cb := r.PostForm.Get("StatusCallback")
	q := callbackQuery(cb)
	if err := p.Outbox.Add(r.Context(), Entry{IncidentID: q.Get("incident"), SubjectID: q.Get("subject"), Channel: channel, To: to, Body: body, Status: "queued", Ref: sid}); err != nil {
		twilioErr(w, http.StatusInternalServerError, 20500, "Internal Server Error")
		return
	}
	if cb != "" {
		p.schedule(sid, channel, to, cb)
	}
	resource := map[string]any{"sid": sid, "account_sid": p.AccountSID, "to": to, "from": r.PostForm.Get("From"), "status": "queued", "date_created": time.Now().UTC().Format(time.RFC1123Z)}
	if channel == "sms" {
		resource["body"] = body
		resource["num_segments"] = "1"
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(resource)
}

func callbackQuery(cb string) url.Values {
	u, err := url.Parse(cb)
	if err != nil {
		return url.Values{}
	}
	return u.Query()
}

func (p *TwilioPeer) schedule(sid, channel, to, cb string) {
	params := url.Values{"AccountSid": {p.AccountSID}, "To": {to}}
	if channel == "sms" {
		params.Set("MessageSid", sid)
		params.Set("SmsSid", sid)
		params.Set("MessageStatus", "delivered")
	} else {
		params.Set("CallSid", sid)
		params.Set("CallStatus", "completed")
		params.Set("AnsweredBy", "human")
		params.Set("CallDuration", "42")
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

// Resume re-posts receipts that a restart interrupted, so nothing stays "sent" forever.
func (p *TwilioPeer) Resume(ctx context.Context, callbackBase string) error {
	pending, err := p.Outbox.pending(ctx)
	if err != nil {
		return err
	}
	for _, e := range pending {
		q := url.Values{"incident": {e.IncidentID}, "subject": {e.SubjectID}, "channel": {e.Channel}}
		p.schedule(e.Ref, e.Channel, e.To, callbackBase+"?"+q.Encode())
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
