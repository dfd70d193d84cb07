package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A server that takes the request but answers too late is not a server
// that cannot be reached: the person is told it may still act on it, and
// to look before sending it again (an approval sent twice is not what a
// busy server needs).
func TestAServerThatAnswersTooLateIsNotCalledUnreachable(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer slow.Close()
	defer close(release)
	c := &Client{Server: slow.URL, Token: "t", HTTP: &http.Client{Timeout: 100 * time.Millisecond}}
	err := c.Do(context.Background(), "POST", "/api/v1/incidents/INC-1/approve", map[string]string{"draft": "notice-en"}, nil)
	if err == nil || !strings.Contains(err.Error(), "within 100ms; it may still carry the request out: look at the incident before sending it again") {
		t.Fatalf("a late answer: %v", err)
	}
	if strings.Contains(err.Error(), "is 'tocsin dev' running") {
		t.Fatalf("a late answer is not an unreachable server: %v", err)
	}

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	c = &Client{Server: closed.URL, Token: "t", HTTP: &http.Client{Timeout: 100 * time.Millisecond}}
	if err := c.Do(context.Background(), "GET", "/api/v1/incidents", nil, nil); err == nil || !strings.Contains(err.Error(), "cannot reach Tocsin") {
		t.Fatalf("nobody listening: %v", err)
	}
}
