// Package devpeers runs local stand-ins for the outside services Tocsin talks
// to (Twilio's REST API, an SMTP server, Slack's Web API, the platform's
// on-site notice service). They speak the real protocols, so the real SDKs
// are exercised, and they keep what they receive in an outbox that survives
// restarts, like a mail catcher.
package devpeers

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"time"

	_ "modernc.org/sqlite"

	"github.com/tocsin/tocsin/internal/gather"
)

// Entry is one thing a peer received.
type Entry struct {
	ID         int64     `json:"-"`
	IncidentID string    `json:"incident_id"`
	SubjectID  string    `json:"subject_id"`
	Channel    string    `json:"channel"`
	To         string    `json:"to"`
	Subject    string    `json:"subject"`
	Body       string    `json:"body"`
	At         time.Time `json:"at"`
	Status     string    `json:"status"`
	Ref        string    `json:"ref,omitempty"`
	// Callback is where a Twilio receipt goes, kept so a restarted peer
	// posts what it still owes without being told where Tocsin is.
	Callback string `json:"-"`
}

// Outbox stores peer entries in SQLite.
type Outbox struct {
	db *sql.DB
	// once shares a transaction among the entries AddOnce is given at the
	// same moment: a provider keeps up with a client sending on many
	// connections at once, and a commit each on the outbox's one
	// connection made the stand-in the queue a concurrent campaign waited
	// in, where a client sending one message at a time never did.
	once gather.Batches[Entry, onceResult]
}

type onceResult struct {
	added bool
	err   error
}

// OpenOutbox opens the outbox file; ":memory:" is fine for tests.
func OpenOutbox(path string) (*Outbox, error) {
	q := url.Values{}
	// WAL with synchronous=NORMAL keeps every commit through a crash or
	// kill of the peers (what the crash tests do); only a power cut may
	// lose the last ones. A real provider's store is not on Tocsin's disk:
	// an fsync per message received would make the stand-in the slowest
	// part of a campaign.
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	_, err = db.Exec(`CREATE TABLE IF NOT EXISTS outbox (
		id INTEGER PRIMARY KEY AUTOINCREMENT, incident_id TEXT NOT NULL, subject_id TEXT NOT NULL, channel TEXT NOT NULL,
		recipient TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL, at TEXT NOT NULL, status TEXT NOT NULL, ref TEXT NOT NULL);
		CREATE INDEX IF NOT EXISTS outbox_ref ON outbox(ref);
		CREATE INDEX IF NOT EXISTS outbox_channel_ref ON outbox(channel, ref);
		CREATE INDEX IF NOT EXISTS outbox_recipient ON outbox(recipient, at);`)
	if err == nil {
		// repeats came later: how often a sender delivered an entry again
		// under the same key (the store kept one copy).
		var n int
		if err = db.QueryRow(`SELECT count(*) FROM pragma_table_info('outbox') WHERE name='repeats'`).Scan(&n); err == nil && n == 0 {
			_, err = db.Exec(`ALTER TABLE outbox ADD COLUMN repeats INTEGER NOT NULL DEFAULT 0`)
		}
	}
	if err == nil {
		var n int
		if err = db.QueryRow(`SELECT count(*) FROM pragma_table_info('outbox') WHERE name='callback'`).Scan(&n); err == nil && n == 0 {
			_, err = db.Exec(`ALTER TABLE outbox ADD COLUMN callback TEXT NOT NULL DEFAULT ''`)
		}
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("outbox %s: %w", path, err)
	}
	o := &Outbox{db: db}
	o.once.Max, o.once.Run = 64, o.addOnce
	return o, nil
}

// Close closes the outbox.
func (o *Outbox) Close() error { return o.db.Close() }

// Add records an entry.
func (o *Outbox) Add(ctx context.Context, e Entry) error {
	return o.add(ctx, o.db, e)
}

type execer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

func (o *Outbox) add(ctx context.Context, db execer, e Entry) error {
	if e.At.IsZero() {
		e.At = time.Now().UTC()
	}
	_, err := db.ExecContext(ctx, `INSERT INTO outbox (incident_id, subject_id, channel, recipient, subject, body, at, status, ref, callback) VALUES (?,?,?,?,?,?,?,?,?,?)`,
		e.IncidentID, e.SubjectID, e.Channel, e.To, e.Subject, e.Body, e.At.Format(time.RFC3339Nano), e.Status, e.Ref, e.Callback)
	return err
}

// AddOnce records an entry unless one with the same channel and reference is
// already there (a webhook redelivered under its Idempotency-Key, a mail
// resent with its Message-ID): mail stores and notification services keep
// one copy. It reports whether the entry is new, once it is committed.
// Look-up and insert are in one transaction, shared with the entries
// received at the same moment.
func (o *Outbox) AddOnce(ctx context.Context, e Entry) (bool, error) {
	if e.Ref == "" {
		return true, o.Add(ctx, e)
	}
	r := o.once.Do(ctx, e)
	return r.added, r.err
}

// addOnce adds the entries not there yet, in one transaction. A failed
// transaction fails each of them.
func (o *Outbox) addOnce(ctx context.Context, batch []Entry) []onceResult {
	out := make([]onceResult, len(batch))
	err := func() error {
		tx, err := o.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for i, e := range batch {
			res, err := tx.ExecContext(ctx, `UPDATE outbox SET repeats = repeats + 1 WHERE channel=? AND ref=?`, e.Channel, e.Ref)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				if err := o.add(ctx, tx, e); err != nil {
					return err
				}
				out[i].added = true
			}
		}
		return tx.Commit()
	}()
	if err != nil {
		for i := range out {
			out[i] = onceResult{err: err}
		}
	}
	return out
}

// ByRef finds the entry with a provider reference.
func (o *Outbox) ByRef(ctx context.Context, ref string) (Entry, bool, error) {
	list, err := o.where(ctx, `ref=? ORDER BY id LIMIT 1`, ref)
	if err != nil || len(list) == 0 {
		return Entry{}, false, err
	}
	return list[0], true, nil
}

// Sent lists what a channel took for one recipient since a time.
func (o *Outbox) Sent(ctx context.Context, channel, to string, since time.Time) ([]Entry, error) {
	return o.where(ctx, `recipient=? AND at>=? AND channel=? ORDER BY id`, to, since.UTC().Format(time.RFC3339Nano), channel)
}

// ForRecipient lists what one recipient got on a channel.
func (o *Outbox) ForRecipient(ctx context.Context, channel, to string) ([]Entry, error) {
	return o.where(ctx, `recipient=? AND channel=? ORDER BY id`, to, channel)
}

func (o *Outbox) where(ctx context.Context, cond string, args ...any) ([]Entry, error) {
	rows, err := o.db.QueryContext(ctx, `SELECT id, incident_id, subject_id, channel, recipient, subject, body, at, status, ref, callback FROM outbox WHERE `+cond, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		var e Entry
		var at string
		if err := rows.Scan(&e.ID, &e.IncidentID, &e.SubjectID, &e.Channel, &e.To, &e.Subject, &e.Body, &at, &e.Status, &e.Ref, &e.Callback); err != nil {
			return nil, err
		}
		e.At, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Tally counts, for one incident, the entries per subject and channel: a
// value above one is a person who got the same kind of notice twice. Repeats
// are redeliveries the store recognised by key and kept once.
func (o *Outbox) Tally(ctx context.Context, incidentID string) (map[[2]string]int, int, error) {
	keys, err := o.perKey(ctx, incidentID)
	if err != nil {
		return nil, 0, err
	}
	out := map[[2]string]int{}
	repeats := 0
	for k, c := range keys {
		out[k] = c.entries
		repeats += c.repeats
	}
	return out, repeats, nil
}

// Count is how many messages one incident's people received.
func (o *Outbox) Count(ctx context.Context, incidentID string) (int, error) {
	var n int
	err := o.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE incident_id=?`, incidentID).Scan(&n)
	return n, err
}

// Repeated lists, for one incident, the subjects and channels whose notice
// reached the store more than once (kept once by its key), with how many
// extra copies came.
func (o *Outbox) Repeated(ctx context.Context, incidentID string) (map[[2]string]int, error) {
	keys, err := o.perKey(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	out := map[[2]string]int{}
	for k, c := range keys {
		if c.repeats > 0 {
			out[k] = c.repeats
		}
	}
	return out, nil
}

type keyCounts struct{ entries, repeats int }

// perKey counts one incident's entries and their repeats by subject and channel.
func (o *Outbox) perKey(ctx context.Context, incidentID string) (map[[2]string]keyCounts, error) {
	rows, err := o.db.QueryContext(ctx, `SELECT subject_id, channel, count(*), sum(repeats) FROM outbox WHERE incident_id=? AND subject_id != '' GROUP BY subject_id, channel`, incidentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[[2]string]keyCounts{}
	for rows.Next() {
		var subject, channel string
		var c keyCounts
		if err := rows.Scan(&subject, &channel, &c.entries, &c.repeats); err != nil {
			return nil, err
		}
		out[[2]string{subject, channel}] = c
	}
	return out, rows.Err()
}

// SetStatus updates the status of the entry with a provider reference.
func (o *Outbox) SetStatus(ctx context.Context, ref, status string) error {
	_, err := o.db.ExecContext(ctx, `UPDATE outbox SET status=? WHERE ref=?`, status, ref)
	return err
}

// List returns every entry in arrival order, optionally for one incident.
func (o *Outbox) List(ctx context.Context, incidentID string) ([]Entry, error) {
	return o.where(ctx, `?='' OR incident_id=? ORDER BY id`, incidentID, incidentID)
}

// pending lists entries still waiting for a status callback.
func (o *Outbox) pending(ctx context.Context) ([]Entry, error) {
	return o.where(ctx, `channel IN ('sms','voice') AND status='queued' ORDER BY id`)
}

// Recent lists the last limit entries, newest first (the console's outbox page).
func (o *Outbox) Recent(ctx context.Context, incidentID string, limit int) ([]Entry, error) {
	return o.where(ctx, `(?='' OR incident_id=?) ORDER BY id DESC LIMIT ?`, incidentID, incidentID, limit)
}
