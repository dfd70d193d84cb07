package senders

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// WebhookAnnouncer posts announcements as signed JSON to a press-list webhook.
type WebhookAnnouncer struct {
	URL    string
	Secret string `json:"-"`
}

var _ Announcer = (*WebhookAnnouncer)(nil)

// Announce posts the announcement; any 2xx is success. No URL means Tocsin's page is the only place.
func (w *WebhookAnnouncer) Announce(ctx context.Context, a Announcement) error {
	if w.URL == "" {
		return nil
	}
	body, _ := json.Marshal(a)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "announcement."+a.IncidentID)
	req.Header.Set("X-Tocsin-Timestamp", ts)
	req.Header.Set("X-Tocsin-Signature", SignOnsite(w.Secret, ts, body))
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("announcement webhook: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("announcement webhook: %s", resp.Status)
	}
	return nil
}
