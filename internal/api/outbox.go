package api

import (
	"context"
	"time"
)

// Outbox is what the local peers received, in dev mode only: the API and
// the console show it, and know nothing else of the peers (dev tooling
// stays out of the production server).
type Outbox interface {
	// List is every entry in arrival order, optionally for one incident.
	List(ctx context.Context, incidentID string) ([]OutboxEntry, error)
	// Recent is the last limit entries, newest first.
	Recent(ctx context.Context, incidentID string, limit int) ([]OutboxEntry, error)
}

// OutboxEntry is one thing a peer received, as `tocsin outbox -o json`
// and the console show it.
type OutboxEntry struct {
	IncidentID string    `json:"incident_id"`
	SubjectID  string    `json:"subject_id"`
	Channel    string    `json:"channel"`
	To         string    `json:"to"`
	Subject    string    `json:"subject"`
	Body       string    `json:"body"`
	At         time.Time `json:"at"`
	Status     string    `json:"status"`
	Ref        string    `json:"ref,omitempty"`
}
