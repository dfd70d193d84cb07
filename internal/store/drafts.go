package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tocsin/tocsin/internal/incident"
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

// Token is an API credential's owner, or a console session's.
type Token struct {
	Identity string
	Role     string
	// Session marks a console session's token (minted at sign-in, 12 hours);
	// the API takes only API tokens and the console only sessions.
	Session bool
	// Expires ends the token; zero for an API token that never expires.
	Expires time.Time
	// ID names the token in lists and revocations: the start of its hash,
	// which says nothing about the token itself.
	ID      string
	Created time.Time
}

// tokenID is how a token is named in lists and revocations: the first 12
// hex digits of its hash.
func tokenID(hash string) string { return hash[:min(12, len(hash))] }

// PutToken stores a token by its hash; the token itself is never stored.
func (s *Store) PutToken(ctx context.Context, hash string, t Token) error {
	exp := ""
	if !t.Expires.IsZero() {
		exp = formatTime(t.Expires)
	}
	kind := "api"
	if t.Session {
		kind = "session"
	}
	_, err := s.exec(ctx, `INSERT INTO tokens (hash, identity, role, expires_at, kind, created_at) VALUES (?,?,?,?,?,?)
		ON CONFLICT(hash) DO UPDATE SET identity=excluded.identity, role=excluded.role, expires_at=excluded.expires_at, kind=excluded.kind`,
		hash, incident.NormalizeIdentity(t.Identity), t.Role, exp, kind, now())
	if err == nil && !t.Session {
		// A token issued again gives the person back their access.
		_, err = s.exec(ctx, `DELETE FROM suspended_identities WHERE identity=?`, incident.NormalizeIdentity(t.Identity))
	}
	return err
}

// LookupToken finds the owner of a token hash; an expired token is unknown.
func (s *Store) LookupToken(ctx context.Context, hash string) (Token, error) {
	var t Token
	var exp, kind, created string
	err := s.queryRow(ctx, `SELECT identity, role, expires_at, kind, created_at FROM tokens WHERE hash=?`, hash).Scan(&t.Identity, &t.Role, &exp, &kind, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return t, ErrNotFound
	}
	if err != nil {
		return t, err
	}
	t.Session, t.ID, t.Created = kind == "session", tokenID(hash), parseTime(created)
	if exp != "" {
		t.Expires = parseTime(exp)
		if time.Now().After(t.Expires) {
			return Token{}, ErrNotFound
		}
	}
	return t, nil
}

// APITokens lists the API tokens (not console sessions), oldest first.
func (s *Store) APITokens(ctx context.Context) ([]Token, error) {
	rows, err := s.query(ctx, `SELECT hash, identity, role, expires_at, created_at FROM tokens WHERE kind = 'api' ORDER BY created_at, hash`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var hash, exp, created string
		t := Token{}
		if err := rows.Scan(&hash, &t.Identity, &t.Role, &exp, &created); err != nil {
			return nil, err
		}
		t.ID, t.Created = tokenID(hash), parseTime(created)
		if exp != "" {
			t.Expires = parseTime(exp)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// ErrAmbiguous is a token ID that names more than one token.
var ErrAmbiguous = errors.New("names more than one token")

// RevokeToken deletes the API token whose ID (its hash's start, as listed)
// is id, and every console session of the same identity: someone whose
// access is withdrawn must not keep it through a browser still signed in.
func (s *Store) RevokeToken(ctx context.Context, id string) (Token, error) {
	var t Token
	if len(id) < 6 || strings.Trim(id, "0123456789abcdef") != "" {
		return t, fmt.Errorf("token ID %q: give at least six hex digits as `tocsin token list` shows them: %w", id, ErrNotFound)
	}
	err := s.inTx(ctx, func(tx *tx) error {
		rows, err := tx.query(ctx, `SELECT hash, identity, role FROM tokens WHERE kind = 'api' AND hash LIKE ?`, id+"%")
		if err != nil {
			return err
		}
		var hashes []string
		for rows.Next() {
			var h string
			if err := rows.Scan(&h, &t.Identity, &t.Role); err != nil {
				rows.Close()
				return err
			}
			hashes = append(hashes, h)
		}
		rows.Close()
		switch len(hashes) {
		case 0:
			return fmt.Errorf("token %s: %w", id, ErrNotFound)
		case 1:
		default:
			return fmt.Errorf("token %s %w; give more of its ID", id, ErrAmbiguous)
		}
		t.ID = tokenID(hashes[0])
		if _, err := tx.exec(ctx, `DELETE FROM tokens WHERE hash = ?`, hashes[0]); err != nil {
			return err
		}
		if _, err = tx.exec(ctx, `DELETE FROM tokens WHERE kind = 'session' AND identity = ?`, t.Identity); err != nil {
			return err
		}
		// Their other ways in (a Slack mapping in the configuration) are
		// suspended too, until a token is issued to them again.
		_, err = tx.exec(ctx, `INSERT INTO suspended_identities (identity, at) VALUES (?,?) ON CONFLICT DO NOTHING`, t.Identity, now())
		return err
	})
	return t, err
}

// Suspended says whether an identity's access was revoked (token revoke)
// and no token was issued to it since.
func (s *Store) Suspended(ctx context.Context, identity string) (bool, error) {
	var one int
	err := s.queryRow(ctx, `SELECT 1 FROM suspended_identities WHERE identity=?`, incident.NormalizeIdentity(identity)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// DeleteToken forgets a console session's token (a sign-out).
func (s *Store) DeleteToken(ctx context.Context, hash string) error {
	_, err := s.exec(ctx, `DELETE FROM tokens WHERE hash=? AND kind = 'session'`, hash)
	return err
}
