package devpeers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/slack-go/slack/slacktest"
)

// SlackPeer is slack-go's slacktest server with the war-room calls made
// stateful: channels are created once (name_taken after) and listed, and posts
// are kept in the outbox.
type SlackPeer struct {
	Outbox *Outbox
	server *slacktest.Server

	mu       sync.Mutex
	channels map[string]string // name -> ID
	names    map[string]string // ID -> name
}

// Start runs the server on a loopback port.
func (p *SlackPeer) Start() {
	p.channels, p.names = map[string]string{}, map[string]string{}
	p.server = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/conversations.create", p.create)
		c.Handle("/conversations.list", p.list)
		c.Handle("/chat.postMessage", p.post)
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
	}
	p.mu.Unlock()
	if taken {
		writeJSON(w, map[string]any{"ok": false, "error": "name_taken"})
		return
	}
	writeJSON(w, map[string]any{"ok": true, "channel": map[string]any{"id": id, "name": name, "is_channel": true, "is_private": r.PostForm.Get("is_private") == "true"}})
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

func (p *SlackPeer) post(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	ch, text := r.PostForm.Get("channel"), r.PostForm.Get("text")
	p.mu.Lock()
	name := p.names[ch]
	p.mu.Unlock()
	incident := strings.ToUpper(name)
	p.Outbox.Add(context.Background(), Entry{IncidentID: incident, Channel: "slack", To: "#" + name, Body: text, Status: "posted"})
	writeJSON(w, map[string]any{"ok": true, "channel": ch, "ts": "1700000000.000100", "message": map[string]any{"text": text}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
