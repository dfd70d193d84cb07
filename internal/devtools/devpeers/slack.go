package devpeers

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack/slacktest"
)

// SlackPeer is slack-go's slacktest server with the war-room calls made
// stateful: channels are created once (name_taken after) and listed, and posts
// are kept in the outbox.
type SlackPeer struct {
	Outbox *Outbox
	server *slacktest.Server

	mu       sync.Mutex
	channels map[string]string   // name -> ID
	names    map[string]string   // ID -> name
	private  map[string]bool     // ID -> made private
	members  map[string][]string // ID -> users invited
	messages map[string]*SlackMessage
	views    []SlackView
	seq      int
	// Limit, when set, answers that many calls with HTTP 429 and Retry-After
	// before serving again, as Slack does under its rate limits.
	Limit int
}

// SlackMessage is a message as the peer holds it: updated in place by chat.update.
type SlackMessage struct {
	Channel string
	TS      string
	Text    string
	// Blocks is the Block Kit JSON as the app sent it.
	Blocks  string
	Updates int
}

// SlackView is a modal the app opened.
type SlackView struct {
	TriggerID string
	View      string
}

// Start runs the server on a loopback port.
func (p *SlackPeer) Start() {
	p.channels, p.names, p.private, p.messages, p.members = map[string]string{}, map[string]string{}, map[string]bool{}, map[string]*SlackMessage{}, map[string][]string{}
	p.server = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/conversations.create", p.limited(p.create))
		c.Handle("/conversations.list", p.limited(p.list))
		c.Handle("/conversations.invite", p.limited(p.invite))
		c.Handle("/chat.postMessage", p.limited(p.post))
		c.Handle("/chat.update", p.limited(p.update))
		c.Handle("/chat.postEphemeral", p.limited(p.ephemeral))
		c.Handle("/views.open", p.limited(p.openView))
	})
	p.server.Start()
}

// APIURL is the base URL for slack.OptionAPIURL.
func (p *SlackPeer) APIURL() string { return p.server.GetAPIURL() }

// Close stops the server.
func (p *SlackPeer) Close() { p.server.Stop() }

func (p *SlackPeer) create(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	name := r.PostForm.Get("name")
	p.mu.Lock()
	_, taken := p.channels[name]
	id := fmt.Sprintf("C%08d", len(p.channels)+1)
	if !taken {
		p.channels[name], p.names[id] = id, name
		p.private[id] = r.PostForm.Get("is_private") == "true"
	}
	p.mu.Unlock()
	if taken {
		writeJSON(w, map[string]any{"ok": false, "error": "name_taken"})
		return
	}
	writeJSON(w, map[string]any{"ok": true, "channel": map[string]any{"id": id, "name": name, "is_channel": true, "is_private": r.PostForm.Get("is_private") == "true"}})
}

func (p *SlackPeer) invite(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	ch := r.PostForm.Get("channel")
	p.mu.Lock()
	name, ok := p.names[ch]
	if ok {
		for _, u := range strings.Split(r.PostForm.Get("users"), ",") {
			if u != "" && !slices.Contains(p.members[ch], u) {
				p.members[ch] = append(p.members[ch], u)
			}
		}
	}
	p.mu.Unlock()
	if !ok {
		writeJSON(w, map[string]any{"ok": false, "error": "channel_not_found"})
		return
	}
	writeJSON(w, map[string]any{"ok": true, "channel": map[string]any{"id": ch, "name": name, "is_channel": true}})
}

// Members is who was invited to the channel, in invitation order.
func (p *SlackPeer) Members(channelName string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.members[p.channels[channelName]])
}

func (p *SlackPeer) list(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	var chans []map[string]any
	for name, id := range p.channels {
		chans = append(chans, map[string]any{"id": id, "name": name, "is_channel": true})
	}
	p.mu.Unlock()
	writeJSON(w, map[string]any{"ok": true, "channels": chans, "response_metadata": map[string]any{"next_cursor": ""}})
}

func (p *SlackPeer) limited(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		refuse := p.Limit > 0
		if refuse {
			p.Limit--
		}
		p.mu.Unlock()
		if refuse {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		h(w, r)
	}
}

func (p *SlackPeer) post(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	ch, text, blocks := r.PostForm.Get("channel"), r.PostForm.Get("text"), r.PostForm.Get("blocks")
	p.mu.Lock()
	name := p.names[ch]
	p.seq++
	ts := fmt.Sprintf("1700000000.%06d", p.seq)
	p.messages[ts] = &SlackMessage{Channel: ch, TS: ts, Text: text, Blocks: blocks}
	p.mu.Unlock()
	p.Outbox.Add(context.Background(), Entry{IncidentID: strings.ToUpper(name), Channel: "slack", To: "#" + name, Body: text, Status: "posted", Ref: ts})
	writeJSON(w, map[string]any{"ok": true, "channel": ch, "ts": ts, "message": map[string]any{"text": text}})
}

func (p *SlackPeer) update(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	ch, ts := r.PostForm.Get("channel"), r.PostForm.Get("ts")
	p.mu.Lock()
	m, ok := p.messages[ts]
	if ok && m.Channel == ch {
		m.Text, m.Blocks = r.PostForm.Get("text"), r.PostForm.Get("blocks")
		m.Updates++
	}
	name := p.names[ch]
	p.mu.Unlock()
	if !ok || m.Channel != ch {
		writeJSON(w, map[string]any{"ok": false, "error": "message_not_found"})
		return
	}
	p.Outbox.Add(context.Background(), Entry{IncidentID: strings.ToUpper(name), Channel: "slack", To: "#" + name, Body: r.PostForm.Get("text"), Status: "updated", Ref: ts})
	writeJSON(w, map[string]any{"ok": true, "channel": ch, "ts": ts, "text": r.PostForm.Get("text")})
}

func (p *SlackPeer) ephemeral(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	ch, user := r.PostForm.Get("channel"), r.PostForm.Get("user")
	p.mu.Lock()
	name := p.names[ch]
	p.mu.Unlock()
	p.Outbox.Add(context.Background(), Entry{IncidentID: strings.ToUpper(name), Channel: "slack", To: "@" + user, Body: r.PostForm.Get("text"), Status: "ephemeral"})
	writeJSON(w, map[string]any{"ok": true, "message_ts": "1700000000.999999"})
}

func (p *SlackPeer) openView(w http.ResponseWriter, r *http.Request) {
	// views.open is one of the Web API methods that take a JSON body.
	var req struct {
		TriggerID string          `json:"trigger_id"`
		View      json.RawMessage `json:"view"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.TriggerID == "" {
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_trigger_id"})
		return
	}
	p.mu.Lock()
	p.views = append(p.views, SlackView{TriggerID: req.TriggerID, View: string(req.View)})
	p.mu.Unlock()
	writeJSON(w, map[string]any{"ok": true, "view": map[string]any{"id": "V0001", "type": "modal"}})
}

// Messages returns copies of what the channel holds, in posting order.
func (p *SlackPeer) Messages(channelName string) []SlackMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	id := p.channels[channelName]
	var out []SlackMessage
	for _, m := range p.messages {
		if m.Channel == id {
			out = append(out, *m)
		}
	}
	slices.SortFunc(out, func(a, b SlackMessage) int { return strings.Compare(a.TS, b.TS) })
	return out
}

// Private says whether the named channel was created private.
func (p *SlackPeer) Private(channelName string) (private, exists bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id, ok := p.channels[channelName]
	return p.private[id], ok
}

// Views returns the modals opened so far.
func (p *SlackPeer) Views() []SlackView {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.views)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// SignSlack signs a request body as Slack does (v0 HMAC-SHA256 over
// "v0:timestamp:body"); it returns the X-Slack-Request-Timestamp and
// X-Slack-Signature headers' values.
func SignSlack(secret string, at time.Time, body string) (timestamp, signature string) {
	timestamp = strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + timestamp + ":" + body))
	return timestamp, "v0=" + hex.EncodeToString(mac.Sum(nil))
}
