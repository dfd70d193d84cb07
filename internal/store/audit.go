package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// AuditEntry is one action or decision, chained to the one before it in the
// same chain (one chain per incident, and "" for actions on no incident), so
// that changing or deleting any entry breaks every hash after it.
type AuditEntry struct {
	Chain   string    `json:"chain"`
	Seq     int64     `json:"seq"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Role    string    `json:"role"`
	Via     string    `json:"via"`
	Action  string    `json:"action"`
	Outcome string    `json:"outcome"`
	// Detail is what the action was about (draft and revision, comment,
	// reason, obligation, reference); never contact details.
	Detail   map[string]string `json:"detail,omitempty"`
	PrevHash string            `json:"prev_hash"`
	Hash     string            `json:"hash"`
}

// Audit outcomes.
const (
	AuditDone    = "done"
	AuditRefused = "refused"
)

// AuditGenesis is the previous hash of a chain's first entry.
const AuditGenesis = "0000000000000000000000000000000000000000000000000000000000000000"

// ComputeHash is the entry's hash: SHA-256 over the previous hash and the
// entry's fields in a fixed order (json.Marshal sorts the detail's keys).
func (e AuditEntry) ComputeHash() string {
	detail, _ := json.Marshal(e.Detail)
	h := sha256.New()
	for _, f := range []string{e.PrevHash, e.Chain, fmt.Sprint(e.Seq), formatTime(e.At), e.Actor, e.Role, e.Via, e.Action, e.Outcome, string(detail)} {
		fmt.Fprintf(h, "%d:%s\n", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// VerifyAuditChain checks that entries form one unbroken chain from its start.
func VerifyAuditChain(entries []AuditEntry) error {
	prev := AuditGenesis
	for i, e := range entries {
		if e.Seq != int64(i+1) {
			return fmt.Errorf("audit entry %d: sequence %d, expected %d (an entry is missing or out of order)", i+1, e.Seq, i+1)
		}
		if e.PrevHash != prev {
			return fmt.Errorf("audit entry %d: previous hash %.12s does not match entry %d's hash %.12s", e.Seq, e.PrevHash, e.Seq-1, prev)
		}
		if got := e.ComputeHash(); got != e.Hash {
			return fmt.Errorf("audit entry %d (%s by %s): content does not match its hash", e.Seq, e.Action, e.Actor)
		}
		prev = e.Hash
	}
	return nil
}

// AppendAudit adds an entry at the end of its chain and returns it with its
// sequence number and hash. The chain's row in audit_heads is taken first,
// with a write, so concurrent writers — other goroutines, other Tocsin
// processes on the same database — queue on it instead of racing for the
// next sequence number and retrying.
func (s *Store) AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error) {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.At = parseTime(formatTime(e.At)) // the precision the hash is computed at
	if len(e.Detail) == 0 {
		e.Detail = nil // one spelling of "no detail" in the hash, in the store and in JSON
	}
	detail, _ := json.Marshal(e.Detail)
	err := s.inTx(ctx, func(t *tx) error {
		if _, err := t.exec(ctx, `INSERT INTO audit_heads (chain, seq) VALUES (?, 0) ON CONFLICT (chain) DO NOTHING`, e.Chain); err != nil {
			return err
		}
		if _, err := t.exec(ctx, `UPDATE audit_heads SET seq = seq + 1 WHERE chain = ?`, e.Chain); err != nil {
			return err
		}
		if err := t.queryRow(ctx, `SELECT seq FROM audit_heads WHERE chain = ?`, e.Chain).Scan(&e.Seq); err != nil {
			return err
		}
		e.PrevHash = AuditGenesis
		if e.Seq > 1 {
			if err := t.queryRow(ctx, `SELECT hash FROM audit WHERE chain = ? AND seq = ?`, e.Chain, e.Seq-1).Scan(&e.PrevHash); err != nil {
				return fmt.Errorf("entry %d before it: %w", e.Seq-1, err)
			}
		}
		e.Hash = e.ComputeHash()
		_, err := t.exec(ctx, `INSERT INTO audit (chain, seq, at, actor, role, via, action, outcome, detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
			e.Chain, e.Seq, formatTime(e.At), e.Actor, e.Role, e.Via, e.Action, e.Outcome, string(detail), e.PrevHash, e.Hash)
		return err
	})
	if err != nil {
		return AuditEntry{}, fmt.Errorf("append audit entry to %s: %w", e.Chain, err)
	}
	return e, nil
}

// AuditLog reads a chain from its start.
func (s *Store) AuditLog(ctx context.Context, chain string) ([]AuditEntry, error) {
	rows, err := s.query(ctx, `SELECT chain, seq, at, actor, role, via, action, outcome, detail, prev_hash, hash FROM audit WHERE chain=? ORDER BY seq`, chain)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var at, detail string
		if err := rows.Scan(&e.Chain, &e.Seq, &at, &e.Actor, &e.Role, &e.Via, &e.Action, &e.Outcome, &detail, &e.PrevHash, &e.Hash); err != nil {
			return nil, err
		}
		e.At = parseTime(at)
		if detail != "" && detail != "null" {
			if err := json.Unmarshal([]byte(detail), &e.Detail); err != nil {
				return nil, fmt.Errorf("audit entry %d of %q: detail: %w", e.Seq, chain, err)
			}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
