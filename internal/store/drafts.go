package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Draft is one revision of an outgoing text: a regulator report, a subject
// notice for one locale (with its SMS and voice variants) or the public announcement.
type Draft struct {
	IncidentID string `json:"incident_id"`
	Name       string `json:"name"`
	Revision   int    `json:"revision"`
	Kind       string `json:"kind"`
	Locale     string `json:"locale"`
	Audience   string `json:"audience"`
	Title      string `json:"title"`
	Body       string `json:"body"`
	// HTML is the body rendered as HTML from the same template.
	HTML      string    `json:"html,omitempty"`
	SMS       string    `json:"sms,omitempty"`
	Voice     string    `json:"voice,omitempty"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// SaveDraft stores a revision; saving the same revision again keeps the first,
// so a retried drafting activity changes nothing.
func (s *Store) SaveDraft(ctx context.Context, d Draft) error {
	_, err := s.exec(ctx, `INSERT INTO drafts (incident_id, name, revision, kind, locale, audience, title, body, sms, voice, created_by, created_at, html)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING`,
		d.IncidentID, d.Name, d.Revision, d.Kind, d.Locale, d.Audience, d.Title, d.Body, d.SMS, d.Voice, d.CreatedBy, now(), d.HTML)
	return err
}

// GetDraft reads one revision of a draft; revision 0 means the latest.
func (s *Store) GetDraft(ctx context.Context, incidentID, name string, revision int) (Draft, error) {
	q := `SELECT incident_id, name, revision, kind, locale, audience, title, body, sms, voice, created_by, created_at, html FROM drafts
		WHERE incident_id=? AND name=? AND (?=0 OR revision=?) ORDER BY revision DESC LIMIT 1`
	var d Draft
	var at string
	err := s.queryRow(ctx, q, incidentID, name, revision, revision).Scan(&d.IncidentID, &d.Name, &d.Revision, &d.Kind, &d.Locale, &d.Audience, &d.Title, &d.Body, &d.SMS, &d.Voice, &d.CreatedBy, &at, &d.HTML)
	if errors.Is(err, sql.ErrNoRows) {
		return Draft{}, fmt.Errorf("draft %s of incident %s: %w", name, incidentID, ErrNotFound)
	}
	d.CreatedAt = parseTime(at)
	return d, err
}

// Announcement is a published public notice.
type Announcement struct {
	IncidentID  string    `json:"incident_id"`
	Revision    int       `json:"revision"`
	Unreached   int       `json:"unreached"`
	Reason      string    `json:"reason"`
	PublishedAt time.Time `json:"published_at"`
}

// PublishAnnouncement makes the approved announcement public, once.
func (s *Store) PublishAnnouncement(ctx context.Context, a Announcement) error {
	_, err := s.exec(ctx, `INSERT INTO announcements VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING`, a.IncidentID, a.Revision, a.Unreached, a.Reason, now())
	return err
}

// GetAnnouncement reads a published announcement.
func (s *Store) GetAnnouncement(ctx context.Context, incidentID string) (Announcement, error) {
	var a Announcement
	var at string
	err := s.queryRow(ctx, `SELECT incident_id, draft_revision, unreached, reason, published_at FROM announcements WHERE incident_id=?`, incidentID).
		Scan(&a.IncidentID, &a.Revision, &a.Unreached, &a.Reason, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("announcement of incident %s: %w", incidentID, ErrNotFound)
	}
	a.PublishedAt = parseTime(at)
	return a, err
}

// Token is an API credential's owner.
type Token struct {
	Identity string
	Role     string
	// Expires ends a console session's token; API tokens do not expire.
	Expires time.Time
}

// PutToken stores a token by its hash; the token itself is never stored.
func (s *Store) PutToken(ctx context.Context, hash string, t Token) error {
	exp := ""
	if !t.Expires.IsZero() {
		exp = formatTime(t.Expires)
	}
	_, err := s.exec(ctx, `INSERT INTO tokens (hash, identity, role, expires_at) VALUES (?,?,?,?)
		ON CONFLICT(hash) DO UPDATE SET identity=excluded.identity, role=excluded.role, expires_at=excluded.expires_at`, hash, t.Identity, t.Role, exp)
	return err
}

// LookupToken finds the owner of a token hash; an expired token is unknown.
func (s *Store) LookupToken(ctx context.Context, hash string) (Token, error) {
	var t Token
	var exp string
	err := s.queryRow(ctx, `SELECT identity, role, expires_at FROM tokens WHERE hash=?`, hash).Scan(&t.Identity, &t.Role, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return t, ErrNotFound
	}
	if err == nil && exp != "" {
		t.Expires = parseTime(exp)
		if time.Now().After(t.Expires) {
			return Token{}, ErrNotFound
		}
	}
	return t, err
}

// DeleteToken forgets a token (a console sign-out).
func (s *Store) DeleteToken(ctx context.Context, hash string) error {
	_, err := s.exec(ctx, `DELETE FROM tokens WHERE hash=? AND expires_at <> ''`, hash)
	return err
}
