package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"
)

// Delivery statuses in the ledger. A row is written as "sending" before the
// provider is called and moved on after, so a crash in between is visible.
const (
	StatusSending     = "sending"
	StatusAccepted    = "accepted"  // on-site and email: the provider took it
	StatusSent        = "sent"      // SMS and voice: waiting for the status callback
	StatusDelivered   = "delivered" // SMS and voice: the callback confirmed it
	StatusFailed      = "failed"
	StatusUndelivered = "undelivered"
	// StatusUnknown marks a send interrupted between the provider call and the
	// ledger update: we do not know whether it went out, so it is never resent.
	StatusUnknown = "unknown"
)

// failedStatuses are the outcomes that leave a person unreached on a
// channel: a later rung or a retry may try them again.
var failedStatuses = []any{StatusFailed, StatusUndelivered}

// IsFailure says whether a send's status leaves its person unreached.
func IsFailure(status string) bool { return slices.Contains(failedStatuses, any(status)) }

// Delivery is one ledger row: one notice to one subject over one channel.
type Delivery struct {
	IncidentID  string `json:"incident_id"`
	SubjectID   string `json:"subject_id"`
	Channel     string `json:"channel"`
	Rung        int    `json:"rung"`
	Status      string `json:"status"`
	ProviderRef string `json:"provider_ref"`
	Error       string `json:"error"`
	// Draft is the notice revision sent ("notice-en@2"): what the person read.
	Draft string `json:"draft,omitempty"`
	// Segments is what an SMS cost (GSM-7 or UCS-2 parts).
	Segments int `json:"segments,omitempty"`
	// Detail is what the provider added: who answered a call, a key pressed.
	Detail string `json:"detail,omitempty"`
	// ClaimedAt is when the row was claimed, before the provider was called.
	ClaimedAt string `json:"claimed_at,omitempty"`
	// Owner is the activity attempt whose claim this is, while it is
	// "sending", and LeaseUntil when the claim lapses unless renewed.
	Owner      string `json:"-"`
	LeaseUntil string `json:"-"`
	// Doubt says the send's outcome was once unknown (DoubtInterrupted) and
	// how that was settled (DoubtFound, DoubtResent).
	Doubt string `json:"doubt,omitempty"`
}

// Doubt marks on the ledger: a send whose request may have reached the
// provider but whose answer never came (a timeout, a reset, a killed worker).
const (
	// DoubtInterrupted: still unsettled; the next attempt asks the provider
	// or sends again under the same key.
	DoubtInterrupted = "interrupted"
	// DoubtFound: the provider had it (Twilio listed it); sent once.
	DoubtFound = "found"
	// DoubtResent: sent again under the same idempotency key. The on-site
	// service keeps one; an SMTP relay has no such key, so the mail was
	// possibly delivered twice.
	DoubtResent = "resent"
	// DoubtStraggling: the provider call is still under way, past the
	// batch's patience: the batch went on without it and the worker that
	// made it records its answer (a worker that died leaves it as
	// interrupted: its lease lapses and the next attempt asks or resends).
	DoubtStraggling = "straggling"
	// DoubtUnsent: that late call came back refused (or never began):
	// nothing went out, and whoever takes the claim over sends it afresh.
	DoubtUnsent = "unsent"
)

const deliveryCols = `incident_id, subject_id, channel, rung, status, provider_ref, error, draft, segments, detail, created_at, owner, lease_until, doubt`

func (d *Delivery) scan() []any {
	return []any{&d.IncidentID, &d.SubjectID, &d.Channel, &d.Rung, &d.Status, &d.ProviderRef, &d.Error, &d.Draft, &d.Segments, &d.Detail, &d.ClaimedAt, &d.Owner, &d.LeaseUntil, &d.Doubt}
}

// Lease is an activity attempt's hold on the claims it makes: a claim whose
// lease has not run out belongs to a live attempt, and nobody else may
// take it for a crash's.
type Lease struct {
	Owner string
	Until time.Time
}

// Live reports whether a claim's lease has not yet run out.
func (d Delivery) Live(now time.Time) bool {
	return d.Status == StatusSending && d.LeaseUntil != "" && parseTime(d.LeaseUntil).After(now)
}

// BeginDelivery claims (incident, subject, channel) before a send. It returns
// false with the existing row when a send was already attempted: the caller
// must not call the provider again.
func (s *Store) BeginDelivery(ctx context.Context, d Delivery) (bool, Delivery, error) {
	t := now()
	res, err := s.exec(ctx, `INSERT INTO deliveries (incident_id, subject_id, channel, rung, status, created_at, updated_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT DO NOTHING`,
		d.IncidentID, d.SubjectID, d.Channel, d.Rung, StatusSending, t, t)
	if err != nil {
		return false, Delivery{}, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		d.Status = StatusSending
		return true, d, nil
	}
	existing, err := s.GetDelivery(ctx, d.IncidentID, d.SubjectID, d.Channel)
	return false, existing, err
}

// FinishDelivery records the provider's answer.
func (s *Store) FinishDelivery(ctx context.Context, d Delivery) error {
	// A receipt that names a send held in doubt settles it: it was sent once.
	_, err := s.exec(ctx, `UPDATE deliveries SET status=?, provider_ref=?, error=?, `+settleDoubt+`, updated_at=? WHERE incident_id=? AND subject_id=? AND channel=?`,
		d.Status, d.ProviderRef, d.Error, now(), d.IncidentID, d.SubjectID, d.Channel)
	return err
}

// GetDelivery reads one ledger row.
func (s *Store) GetDelivery(ctx context.Context, incidentID, subjectID, channel string) (Delivery, error) {
	var d Delivery
	err := s.queryRow(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE incident_id=? AND subject_id=? AND channel=?`,
		incidentID, subjectID, channel).Scan(d.scan()...)
	if errors.Is(err, sql.ErrNoRows) {
		return d, ErrNotFound
	}
	return d, err
}

// settleDoubt is the assignment by which word from the provider itself (a
// receipt, a bounce) settles a send held in doubt: it was sent, once.
const settleDoubt = `doubt = CASE WHEN doubt='` + DoubtInterrupted + `' THEN '` + DoubtFound + `' WHEN doubt='` + DoubtStraggling + `' THEN '' ELSE doubt END`

// DeliveryByRef reads the ledger row that a provider reference belongs to.
func (s *Store) DeliveryByRef(ctx context.Context, ref string) (Delivery, error) {
	var d Delivery
	err := s.queryRow(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE provider_ref=? LIMIT 1`, ref).Scan(d.scan()...)
	if errors.Is(err, sql.ErrNoRows) {
		return d, ErrNotFound
	}
	return d, err
}

// RecordBounce fails a person's e-mail delivery that a relay bounced, with
// its reason. It reports whether the incident has such a delivery.
func (s *Store) RecordBounce(ctx context.Context, incidentID, subjectID, messageID, reason string) (bool, error) {
	// The bounce must name the message the ledger sent (its Message-ID is
	// the delivery's provider reference); a send held in doubt has none
	// yet, and a relay that bounced it had taken it: it was sent.
	id := "<" + strings.Trim(strings.TrimSpace(messageID), "<>") + ">"
	res, err := s.exec(ctx, `UPDATE deliveries SET status=?, error=?, `+settleDoubt+`, updated_at=? WHERE incident_id=? AND subject_id=? AND channel='email'
		AND (provider_ref=? OR provider_ref='')`,
		StatusFailed, reason, now(), incidentID, subjectID, id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// LastEmailAccepted is when a rung's e-mails in a range last changed in the
// ledger (taken by the relay, or failed): bounces are awaited from then ("":
// the rung sent no e-mail there).
func (s *Store) LastEmailAccepted(ctx context.Context, incidentID string, rung int, r Range) (string, error) {
	cond, args := rangeWhere(r, "subject_id")
	var last sql.NullString
	err := s.queryRow(ctx, `SELECT max(updated_at) FROM deliveries WHERE incident_id=? AND rung=? AND channel='email' AND `+cond,
		append([]any{incidentID, rung}, args...)...).Scan(&last)
	return last.String, err
}

// finalRank orders statuses so that a late or repeated callback can never move
// a delivery backwards (Twilio may post "sent" after "delivered").
var finalRank = map[string]int{StatusSending: 0, StatusSent: 1, StatusUnknown: 1, StatusAccepted: 2, StatusDelivered: 3, StatusUndelivered: 3, StatusFailed: 3}

// UpdateDeliveryByRef applies a provider status callback to the row with that
// provider reference. It reports false when no row has that reference.
// The write is conditional on the status it read: two callbacks at once
// ("delivered" and a late "sent") cannot both pass the rank check and
// leave the lower one last; the loser reads again and stops.
func (s *Store) UpdateDeliveryByRef(ctx context.Context, ref, status, errText string) (found bool, err error) {
	err = s.grouped(ctx, []string{statusByRef, updateStatusByRef}, func(ctx context.Context, q querier) error {
		found, err = updateByRef(ctx, q, ref, status, errText)
		return err
	})
	return found, err
}

const (
	statusByRef       = `SELECT status FROM deliveries WHERE provider_ref=?`
	updateStatusByRef = `UPDATE deliveries SET status=?, error=?, updated_at=? WHERE provider_ref=? AND status=?`
)

func updateByRef(ctx context.Context, q querier, ref, status, errText string) (bool, error) {
	for {
		var cur string
		err := q.queryRow(ctx, statusByRef, ref).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if finalRank[status] <= finalRank[cur] && cur != StatusSending {
			return true, nil
		}
		res, err := q.exec(ctx, updateStatusByRef, status, errText, now(), ref, cur)
		if err != nil {
			return true, err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return true, err
		}
		if err := ctx.Err(); err != nil {
			return true, err
		}
	}
}

// CountDeliveries counts an incident's ledger rows by status.
func (s *Store) CountDeliveries(ctx context.Context, incidentID string) (map[string]int, error) {
	rows, err := s.query(ctx, `SELECT status, count(*) FROM deliveries WHERE incident_id=? GROUP BY status`, incidentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}

// AnnotateDelivery adds what the provider told us about a delivery (who
// answered a call, a key pressed) to the row with that reference.
func (s *Store) AnnotateDelivery(ctx context.Context, ref, detail string) error {
	if ref == "" {
		return nil
	}
	_, err := s.exec(ctx, `UPDATE deliveries SET detail = CASE WHEN detail = '' THEN ? ELSE detail || '; ' || ? END, updated_at=? WHERE provider_ref=?`, detail, detail, now(), ref)
	return err
}

// LedgerPage reads up to limit ledger rows of an incident after the
// (subject, channel) cursor, in that order. Exports read the ledger a page at
// a time so that a million rows never hold SQLite's one connection for long.
func (s *Store) LedgerPage(ctx context.Context, incidentID, afterSubject, afterChannel string, limit int) ([]LedgerRow, error) {
	rows, err := s.query(ctx, `SELECT `+deliveryCols+`, updated_at FROM deliveries WHERE incident_id=? AND (subject_id > ? OR (subject_id = ? AND channel > ?))
		ORDER BY subject_id, channel LIMIT ?`, incidentID, afterSubject, afterSubject, afterChannel, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []LedgerRow
	for rows.Next() {
		var r LedgerRow
		if err := rows.Scan(append(r.Delivery.scan(), &r.UpdatedAt)...); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// LedgerRow is a delivery with when it last changed.
type LedgerRow struct {
	Delivery
	UpdatedAt string `json:"updated_at"`
}
