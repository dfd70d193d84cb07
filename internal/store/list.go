package store

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// IncidentQuery filters and pages a list of incidents. Zero values do not
// filter. Viewer and DrillsOnly narrow the list to what one person may see.
type IncidentQuery struct {
	Status       []string
	Drill        *bool
	OpenedFrom   time.Time
	OpenedTo     time.Time
	Jurisdiction string
	// Viewer is the identity asking: a restricted incident is listed only
	// to its opener and the people it names. Empty lists them all.
	Viewer     string
	DrillsOnly bool
	// Limit is the page size (100 when zero); After is the cursor a
	// previous page returned.
	Limit int
	After string
}

// IncidentSummary is one line of a list: the incident's fixed facts and
// the summary its last record left.
type IncidentSummary struct {
	ID            string
	Title         string
	OpenedBy      string
	OpenedAt      time.Time
	Drill         bool
	Restricted    bool
	Status        string
	Jurisdictions []string
	Subjects      int
	Reached       int
}

// IncidentPage is one page, newest first; Next is the cursor of the next
// page, empty on the last.
type IncidentPage struct {
	Incidents []IncidentSummary
	Next      string
}

// ErrBadCursor is a page cursor this store did not hand out.
var ErrBadCursor = errors.New("not a page cursor from this list")

// MaxPage bounds a page so that one request cannot read the whole store.
const MaxPage = 1000

// ListIncidents returns one page of incidents, newest first, from the
// incidents table alone: its cost is the page's, whatever the store holds.
func (s *Store) ListIncidents(ctx context.Context, q IncidentQuery) (IncidentPage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, MaxPage)
	var where []string
	var args []any
	if len(q.Status) > 0 {
		where = append(where, "status IN ("+placeholders(len(q.Status))+")")
		for _, st := range q.Status {
			args = append(args, st)
		}
	}
	if q.DrillsOnly {
		where = append(where, "drill = 1")
	} else if q.Drill != nil {
		where, args = append(where, "drill = ?"), append(args, boolInt(*q.Drill))
	}
	if !q.OpenedFrom.IsZero() {
		where, args = append(where, "opened_at >= ?"), append(args, formatTime(q.OpenedFrom))
	}
	if !q.OpenedTo.IsZero() {
		where, args = append(where, "opened_at < ?"), append(args, formatTime(q.OpenedTo))
	}
	if q.Jurisdiction != "" {
		where, args = append(where, `jurisdictions LIKE ? ESCAPE '\'`), append(args, "%,"+likeEscape(q.Jurisdiction)+",%")
	}
	if q.Viewer != "" {
		where = append(where, `(viewers = '' OR lower(opened_by) = ? OR viewers LIKE ? ESCAPE '\')`)
		args = append(args, strings.ToLower(q.Viewer), "%,"+likeEscape(strings.ToLower(q.Viewer))+",%")
	}
	if q.After != "" {
		at, id, err := parseCursor(q.After)
		if err != nil {
			return IncidentPage{}, err
		}
		where = append(where, "(opened_at < ? OR (opened_at = ? AND id < ?))")
		args = append(args, at, at, id)
	}
	sqlText := `SELECT id, title, opened_by, opened_at, drill, viewers, status, jurisdictions, subjects, reached FROM incidents`
	if len(where) > 0 {
		sqlText += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.query(ctx, sqlText+" ORDER BY opened_at DESC, id DESC LIMIT ?", append(args, limit+1)...)
	if err != nil {
		return IncidentPage{}, err
	}
	defer rows.Close()
	page := IncidentPage{Incidents: []IncidentSummary{}}
	var lastAt string
	for rows.Next() {
		var in IncidentSummary
		var at, viewers, jur string
		var drill int
		if err := rows.Scan(&in.ID, &in.Title, &in.OpenedBy, &at, &drill, &viewers, &in.Status, &jur, &in.Subjects, &in.Reached); err != nil {
			return IncidentPage{}, err
		}
		if len(page.Incidents) == limit {
			page.Next = cursor(lastAt, page.Incidents[limit-1].ID)
			break
		}
		in.OpenedAt, in.Drill, in.Restricted, in.Jurisdictions = parseTime(at), drill == 1, viewers != "", unwrapList(jur)
		page.Incidents = append(page.Incidents, in)
		lastAt = at
	}
	return page, rows.Err()
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// A cursor is the last row's sort key, opaque to clients.
func cursor(openedAt, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(openedAt + "|" + id))
}

func parseCursor(c string) (string, string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", "", fmt.Errorf("%q: %w", c, ErrBadCursor)
	}
	at, id, ok := strings.Cut(string(raw), "|")
	if !ok || !validIncidentID(id) {
		return "", "", fmt.Errorf("%q: %w", c, ErrBadCursor)
	}
	if _, err := time.Parse(timeLayout, at); err != nil {
		return "", "", fmt.Errorf("%q: %w", c, ErrBadCursor)
	}
	return at, id, nil
}
