package store

import (
	"github.com/tocsin/tocsin/internal/channel"
	"github.com/tocsin/tocsin/internal/plandata"

	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"
)

// Range is plandata.Range, the slice of an affected set the campaign carries.
type Range = plandata.Range

func rangeWhere(r Range, col string) (string, []any) {
	if r.Upto == "" {
		return col + " > ?", []any{r.After}
	}
	return col + " > ? AND " + col + " <= ?", []any{r.After, r.Upto}
}

// regionsWhere narrows a query to the residents of regions (none: all).
func regionsWhere(regions []string, col string) (string, []any) {
	if len(regions) == 0 {
		return "", nil
	}
	args := make([]any, len(regions))
	for i, r := range regions {
		args[i] = r
	}
	return " AND " + col + " IN (" + strings.TrimSuffix(strings.Repeat("?,", len(regions)), ",") + ")", args
}

// SplitRange cuts r into consecutive ranges of at most size subjects, counting
// only subjects not yet reached when unreached is set, and only residents of
// regions when any are named. It returns the ranges and how many subjects
// they hold; an empty r gives no ranges.
func (s *Store) SplitRange(ctx context.Context, incidentID string, r Range, regions []string, size int, unreached bool) ([]Range, int, error) {
	cond, args := rangeWhere(r, "a.subject_id")
	among, more := regionsWhere(regions, "a.region")
	cond, args = cond+among, append(args, more...)
	if unreached {
		cond += " AND a.reached_rung = 0"
	} else {
		cond += " AND a.reached_rung >= 0" // the withheld are not in the campaign
	}
	return s.split(ctx, incidentID, r, size, cond, args)
}

// SplitMovedOn cuts, as SplitRange does, the people of r not yet reached
// whom rung (1-based) can no longer reach (MovedOnRecipients' people).
func (s *Store) SplitMovedOn(ctx context.Context, incidentID string, r Range, regions []string, size, rung int) ([]Range, int, error) {
	cond, args := rangeWhere(r, "a.subject_id")
	among, more := regionsWhere(regions, "a.region")
	pending, also := movedOnWhere(incidentID, rung, "a.subject_id")
	return s.split(ctx, incidentID, r, size, cond+among+" AND a.reached_rung = 0"+pending, append(append(args, more...), also...))
}

// split numbers the affected subjects (a) that cond selects and cuts them
// into ranges of size.
func (s *Store) split(ctx context.Context, incidentID string, r Range, size int, cond string, args []any) ([]Range, int, error) {
	if _, scoped, err := s.scopeState(ctx, incidentID); err != nil || !scoped {
		return nil, 0, err
	}
	// Numbering the rows in the database sends back one ID per range, not
	// every ID of a million-person incident.
	rows, err := s.query(ctx, `SELECT subject_id, rn, total FROM (
		SELECT a.subject_id, row_number() OVER (ORDER BY a.subject_id) AS rn, count(*) OVER () AS total
		FROM `+affectedTable(incidentID)+` a WHERE `+cond+`) t
		WHERE rn % ? = 0 OR rn = total ORDER BY rn`, append(args, size)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Range
	total, after := 0, r.After
	for rows.Next() {
		var id string
		var rn int
		if err := rows.Scan(&id, &rn, &total); err != nil {
			return nil, 0, err
		}
		out = append(out, Range{After: after, Upto: id})
		after = id
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if len(out) > 0 {
		// Subjects added past the last one counted (none are, once scoped)
		// still belong to the caller's range.
		out[len(out)-1].Upto = r.Upto
	}
	return out, total, nil
}

// ClaimDeliveries writes a "sending" row for each delivery in one
// transaction, before any provider is called, held by the lease. It returns
// the rows that already existed (a send was attempted before), by subject
// and channel; every other delivery is now claimed by the caller.
func (s *Store) ClaimDeliveries(ctx context.Context, ds []Delivery, lease Lease) (map[[2]string]Delivery, error) {
	existing := map[[2]string]Delivery{}
	if len(ds) == 0 {
		return existing, nil
	}
	ts, until := now(), formatTime(lease.Until)
	// One statement claims the whole chunk on PostgreSQL: a row per
	// delivery costs a round trip each, which on a remote database is most
	// of a campaign (SQLite's are a row each, see rowsPerStatement).
	rows := s.rowsPerStatement(len(ds))
	q := claimStatement(rows)
	err := s.grouped(ctx, []string{q, deliveryByKey}, func(ctx context.Context, t querier) error {
		for chunk := range slices.Chunk(ds, rows) {
			args := make([]any, 0, 10*len(chunk))
			for _, d := range chunk {
				args = append(args, d.IncidentID, d.SubjectID, d.Channel, d.Rung, StatusSending, d.Draft, ts, ts, lease.Owner, until)
			}
			if err := claimChunk(ctx, t, q, args, chunk, existing); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return existing, nil
}

// claimStatement claims n deliveries and returns those it claimed.
func claimStatement(n int) string {
	var q strings.Builder
	q.WriteString(`INSERT INTO deliveries (incident_id, subject_id, channel, rung, status, draft, created_at, updated_at, owner, lease_until) VALUES `)
	for i := range n {
		if i > 0 {
			q.WriteString(",")
		}
		q.WriteString("(?,?,?,?,?,?,?,?,?,?)")
	}
	q.WriteString(` ON CONFLICT DO NOTHING RETURNING incident_id, subject_id, channel`)
	return q.String()
}

// deliveryByKey reads one ledger row.
const deliveryByKey = `SELECT ` + deliveryCols + ` FROM deliveries WHERE incident_id=? AND subject_id=? AND channel=?`

// claimChunk runs one claim statement and reads the rows of the chunk that
// were there before into existing.
func claimChunk(ctx context.Context, t querier, q string, args []any, chunk []Delivery, existing map[[2]string]Delivery) error {
	claimed := map[[3]string]bool{}
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var k [3]string
		if err := rows.Scan(&k[0], &k[1], &k[2]); err != nil {
			rows.Close()
			return err
		}
		claimed[k] = true
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	for _, d := range chunk {
		if claimed[[3]string{d.IncidentID, d.SubjectID, d.Channel}] {
			continue
		}
		var e Delivery
		if err := t.queryRow(ctx, deliveryByKey, d.IncidentID, d.SubjectID, d.Channel).Scan(e.scan()...); err != nil {
			return err
		}
		existing[[2]string{d.SubjectID, d.Channel}] = e
	}
	return nil
}

// RenewLeases extends the lease on those of ds the owner still holds and
// is sending (not those it holds in doubt, whose hold must run out, nor
// those left unsent for the rung's settling step).
func (s *Store) RenewLeases(ctx context.Context, ds []Delivery, lease Lease) error {
	until := formatTime(lease.Until)
	return s.eachInTx(ctx, ds, `UPDATE deliveries SET lease_until=? WHERE incident_id=? AND subject_id=? AND channel=? AND owner=? AND status=? AND doubt NOT IN (?,?)`,
		func(d Delivery, _ string) []any {
			return []any{until, d.IncidentID, d.SubjectID, d.Channel, lease.Owner, StatusSending, DoubtInterrupted, DoubtUnsent}
		})
}

// TakeOver moves a claim whose lease ran out to a new lease, if nobody took
// it or finished it first; it reports whether the caller now holds it. The
// claim is being sent again, so it is no longer held in doubt.
func (s *Store) TakeOver(ctx context.Context, d Delivery, lease Lease) (bool, error) {
	res, err := s.exec(ctx, `UPDATE deliveries SET owner=?, lease_until=?, doubt='', updated_at=? WHERE incident_id=? AND subject_id=? AND channel=? AND status=? AND owner=? AND lease_until=? AND lease_until < ?`,
		lease.Owner, formatTime(lease.Until), now(), d.IncidentID, d.SubjectID, d.Channel, StatusSending, d.Owner, d.LeaseUntil, now())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// LeaveInDoubt marks the owner's claims whose send may have reached the
// provider as interrupted and holds them until until: the provider may
// still be working on the request, and its receipt may settle it. Then
// whoever takes them over asks the provider before sending again.
func (s *Store) LeaveInDoubt(ctx context.Context, ds []Delivery, owner string, until time.Time) error {
	u := formatTime(until)
	return s.eachInTx(ctx, ds, `UPDATE deliveries SET doubt=?, lease_until=?, updated_at=? WHERE incident_id=? AND subject_id=? AND channel=? AND owner=? AND status=?`,
		func(d Delivery, ts string) []any {
			return []any{DoubtInterrupted, u, ts, d.IncidentID, d.SubjectID, d.Channel, owner, StatusSending}
		})
}

// FinishDeliveries records the providers' answers in one transaction. Only a
// row still "sending" changes status: a status callback that arrived first wins.
func (s *Store) FinishDeliveries(ctx context.Context, ds []Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	ts := now()
	rows := s.rowsPerStatement(len(ds))
	q := finishStatement(rows)
	return s.grouped(ctx, []string{q}, func(ctx context.Context, t querier) error {
		for chunk := range slices.Chunk(ds, rows) {
			args := make([]any, 0, 3+9*len(chunk)+1)
			args = append(args, StatusSending, StatusSending, ts)
			for _, d := range chunk {
				args = append(args, d.IncidentID, d.SubjectID, d.Channel, d.Status, d.Error, d.ProviderRef, d.Segments, d.Detail, d.Doubt)
			}
			if _, err := t.exec(ctx, q, append(args, StatusSending)...); err != nil {
				return err
			}
		}
		return nil
	})
}

// finishStatement records the answers of n deliveries. VALUES columns are
// column1..N in both PostgreSQL and SQLite; the casts give PostgreSQL the
// types its parameters would otherwise lack.
func finishStatement(n int) string {
	var q strings.Builder
	q.WriteString(`UPDATE deliveries SET
		status = CASE WHEN deliveries.status=? THEN v.column4 ELSE deliveries.status END,
		error = CASE WHEN deliveries.status=? THEN v.column5 ELSE deliveries.error END,
		provider_ref = CASE WHEN deliveries.provider_ref='' THEN v.column6 ELSE deliveries.provider_ref END,
		segments = v.column7, detail = CASE WHEN deliveries.detail='' THEN v.column8 ELSE deliveries.detail END,
		doubt = CASE WHEN v.column9<>'' THEN v.column9 WHEN deliveries.doubt='` + DoubtStraggling + `' THEN '' ELSE deliveries.doubt END,
		lease_until = '', updated_at=?
		FROM (VALUES `)
	for i := range n {
		if i > 0 {
			q.WriteString(",")
		}
		q.WriteString("(CAST(? AS TEXT),CAST(? AS TEXT),CAST(? AS TEXT),CAST(? AS TEXT),CAST(? AS TEXT),CAST(? AS TEXT),CAST(? AS INTEGER),CAST(? AS TEXT),CAST(? AS TEXT))")
	}
	// Every CASE reads the row as it was: a receipt that came first keeps
	// its status, and the send's own facts (segments) are still added. A
	// row a bounce failed before its send was recorded (a resend under
	// way when the first copy bounced) has no reference yet: the send's
	// reference and doubt still go in, so the ledger owns up to a resend.
	q.WriteString(`) AS v WHERE deliveries.incident_id=v.column1 AND deliveries.subject_id=v.column2 AND deliveries.channel=v.column3
		AND (deliveries.status=? OR deliveries.provider_ref=v.column6 OR deliveries.provider_ref='')`)
	return q.String()
}

// rowsPerStatement is how many of n rows one statement writes. On
// PostgreSQL all of them: a statement each would cost a round trip each.
// On SQLite one: parsing a statement as long as the chunk cost more than
// running it (7% of a campaign's CPU), where a one-row statement is
// prepared once and kept.
func (s *Store) rowsPerStatement(n int) int {
	if s.dialect.groupsWrites() {
		return 1
	}
	return n
}

// eachInTx runs statement q once for every delivery, with the arguments
// args gives it, in one transaction (none: no transaction), with one
// timestamp for all. On SQLite the transaction is shared with other
// writes (grouped).
func (s *Store) eachInTx(ctx context.Context, ds []Delivery, q string, args func(d Delivery, ts string) []any) error {
	if len(ds) == 0 {
		return nil
	}
	ts := now()
	each := func(ctx context.Context, t querier) error {
		for _, d := range ds {
			if _, err := t.exec(ctx, q, args(d, ts)...); err != nil {
				return err
			}
		}
		return nil
	}
	if s.dialect.groupsWrites() {
		return s.grouped(ctx, []string{q}, each)
	}
	return s.inTx(ctx, func(t *tx) error { return each(ctx, t) })
}

// FirstUnsettled is the first subject, in subject order between lo and hi
// (inclusive; "" leaves a side open), whose send on channel the owner
// claimed and neither recorded nor marked in doubt; "" when there is none.
func (s *Store) FirstUnsettled(ctx context.Context, incidentID, owner, channel, lo, hi string) (string, error) {
	var first string
	err := s.queryRow(ctx, `SELECT coalesce(min(subject_id), '') FROM deliveries
		WHERE incident_id=? AND (?='' OR subject_id>=?) AND (?='' OR subject_id<=?) AND channel=? AND owner=? AND status=? AND doubt=''`,
		incidentID, lo, lo, hi, hi, channel, owner, StatusSending).Scan(&first)
	return first, err
}

// MarkStraggling marks the owner's claim whose provider call outlasted the
// batch's patience: the batch goes on and the call's answer is recorded when
// it comes. Marked before the batch moves on, the claim is never taken for
// the one unrecorded e-mail a dead lane can have had in flight (FirstUnsettled
// skips it), and a retry that finds its lease lapsed treats it as in doubt.
// It reports whether the claim was still the owner's, sending, and unmarked.
func (s *Store) MarkStraggling(ctx context.Context, d Delivery, owner string) (bool, error) {
	res, err := s.exec(ctx, `UPDATE deliveries SET doubt=?, updated_at=? WHERE incident_id=? AND subject_id=? AND channel=? AND owner=? AND status=? AND doubt=''`,
		DoubtStraggling, now(), d.IncidentID, d.SubjectID, d.Channel, owner, StatusSending)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// MarkUnsent leaves the owner's straggling claims whose call came back
// certainly unsent for whoever settles the rung: the lease ends now, and
// the mark says to send afresh rather than ask the provider or own up to a
// second copy.
func (s *Store) MarkUnsent(ctx context.Context, ds []Delivery, owner string) error {
	ts := now()
	return s.eachInTx(ctx, ds, `UPDATE deliveries SET doubt=?, lease_until=?, updated_at=? WHERE incident_id=? AND subject_id=? AND channel=? AND owner=? AND status=?`,
		func(d Delivery, _ string) []any {
			return []any{DoubtUnsent, ts, ts, d.IncidentID, d.SubjectID, d.Channel, owner, StatusSending}
		})
}

// ReleaseDeliveries drops the owner's claims whose send never reached the
// provider, so a retry sends them.
func (s *Store) ReleaseDeliveries(ctx context.Context, ds []Delivery, owner string) error {
	return s.eachInTx(ctx, ds, `DELETE FROM deliveries WHERE incident_id=? AND subject_id=? AND channel=? AND status=? AND owner=?`,
		func(d Delivery, _ string) []any {
			return []any{d.IncidentID, d.SubjectID, d.Channel, StatusSending, owner}
		})
}

// RangeDeliveries lists the ledger rows of one rung within a range, with the
// given statuses (all when none are given).
func (s *Store) RangeDeliveries(ctx context.Context, incidentID string, rung int, r Range, statuses ...string) ([]Delivery, error) {
	cond, args := rangeWhere(r, "subject_id")
	q := `SELECT ` + deliveryCols + ` FROM deliveries WHERE incident_id=? AND rung=? AND ` + cond
	args = append([]any{incidentID, rung}, args...)
	if len(statuses) > 0 {
		q += ` AND status IN (?` + strings.Repeat(",?", len(statuses)-1) + `)`
		for _, st := range statuses {
			args = append(args, st)
		}
	}
	rows, err := s.query(ctx, q+` ORDER BY subject_id, channel`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var d Delivery
		if err := rows.Scan(d.scan()...); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// ResolveRange marks every subject of the range that a channel of the rung
// reached (accepted or delivered), with those channels in ladder order
// ("onsite+email"), in one transaction; with noVoicemail, a call an
// answering machine took reached nobody. It returns how many it marked.
func (s *Store) ResolveRange(ctx context.Context, incidentID string, rung int, r Range, ladder []string, noVoicemail bool) (int, error) {
	rows, err := s.RangeDeliveries(ctx, incidentID, rung, r, StatusAccepted, StatusDelivered)
	if err != nil {
		return 0, err
	}
	via := map[string][]string{}
	var order []string
	for _, d := range rows {
		if noVoicemail && channel.Is(d.Channel, channel.MayBeAnswered) && strings.Contains(d.Detail, AnsweredByMachine) {
			continue
		}
		if _, seen := via[d.SubjectID]; !seen {
			order = append(order, d.SubjectID)
		}
		via[d.SubjectID] = append(via[d.SubjectID], d.Channel)
	}
	err = s.inTx(ctx, func(t *tx) error {
		for _, subject := range order {
			chans := via[subject]
			slices.SortFunc(chans, func(x, y string) int { return slices.Index(ladder, x) - slices.Index(ladder, y) })
			if _, err := t.exec(ctx, `UPDATE `+affectedTable(incidentID)+` SET reached_rung=?, reached_via=? WHERE subject_id=? AND reached_rung=0`, rung, strings.Join(chans, "+"), subject); err != nil {
				return err
			}
		}
		return nil
	})
	return len(order), err
}

// AnsweredByMachine is how the ledger's detail names a call an answering
// machine took after its beep.
const AnsweredByMachine = "answered by machine_end_beep"

// ChannelCounts is one channel's ledger rows by outcome, and the sends
// whose outcome was once unknown.
type ChannelCounts struct {
	Queued    int `json:"queued"`    // claimed, the provider not yet answered
	Sent      int `json:"sent"`      // the provider took it; a receipt is awaited
	Delivered int `json:"delivered"` // accepted (on-site, email) or delivered (SMS, voice)
	Failed    int `json:"failed"`    // refused, undelivered, failed or no answer
	Segments  int `json:"segments,omitempty"`
	// Unknown are sends interrupted after the request may have reached the
	// provider and not yet settled.
	Unknown int `json:"unknown,omitempty"`
	// PossiblyTwice are e-mails sent again after an interrupted send: SMTP
	// has no idempotency key, so the person may have two copies.
	PossiblyTwice int `json:"possibly_twice,omitempty"`
	// Recovered are other interrupted sends settled once: found at the
	// provider, or sent again under a key the provider deduplicates.
	Recovered int `json:"recovered,omitempty"`
}

// CampaignCounts counts an incident's ledger by channel and outcome, with the
// time of the first claim and the last change (for rates and an ETA).
func (s *Store) CampaignCounts(ctx context.Context, incidentID string) (map[string]ChannelCounts, string, string, error) {
	rows, err := s.query(ctx, `SELECT channel, status, doubt, count(*), coalesce(sum(segments),0), min(created_at), max(updated_at) FROM deliveries WHERE incident_id=? GROUP BY channel, status, doubt`, incidentID)
	if err != nil {
		return nil, "", "", err
	}
	defer rows.Close()
	out := map[string]ChannelCounts{}
	first, last := "", ""
	for rows.Next() {
		var ch, st, doubt, lo, hi string
		var n, seg int
		if err := rows.Scan(&ch, &st, &doubt, &n, &seg, &lo, &hi); err != nil {
			return nil, "", "", err
		}
		c := out[ch]
		switch st {
		case StatusSending:
			c.Queued += n
		case StatusSent, StatusUnknown:
			c.Sent += n
		case StatusAccepted, StatusDelivered:
			c.Delivered += n
		default:
			c.Failed += n
		}
		switch {
		case doubt == DoubtInterrupted, doubt == DoubtStraggling:
			c.Unknown += n
		case possiblyTwice(ch, doubt):
			c.PossiblyTwice += n
		case doubt == DoubtFound || doubt == DoubtResent:
			c.Recovered += n
		}
		c.Segments += seg
		out[ch] = c
		if first == "" || lo < first {
			first = lo
		}
		last = max(last, hi)
	}
	return out, first, last, rows.Err()
}

// possiblyTwice says whether a doubt mark means the person may hold two
// copies: sent again on a channel whose provider keeps no key.
func possiblyTwice(ch, doubt string) bool {
	return doubt == DoubtResent && channel.Is(ch, channel.MayDuplicate)
}

// DoubtText says in words what a delivery's doubt mark means on its
// channel, for the evidence bundle's ledger.
func DoubtText(ch, doubt string) string {
	switch {
	case doubt == DoubtInterrupted, doubt == DoubtStraggling:
		return "unknown: interrupted after the request may have reached the provider"
	case possiblyTwice(ch, doubt):
		return "possibly delivered twice: sent again after an interrupted send (the provider keeps no idempotency key)"
	case doubt == DoubtResent && channel.Is(ch, channel.FoldsResends):
		return "once: sent again after an interrupted send under the same Idempotency-Key"
	case doubt == DoubtResent:
		return "once: not found at the provider after an interrupted send, so sent again"
	case doubt == DoubtFound:
		return "once: found at the provider after an interrupted send"
	}
	return ""
}

// ContactedSubjects counts the people with at least one ledger row.
func (s *Store) ContactedSubjects(ctx context.Context, incidentID string) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT count(DISTINCT subject_id) FROM deliveries WHERE incident_id=?`, incidentID).Scan(&n)
	return n, err
}

// InboxNotice is an on-site notice as the platform shows it in a person's
// inbox.
type InboxNotice struct {
	ID         string `json:"id"` // the webhook's Idempotency-Key: incident.subject
	IncidentID string `json:"incident_id"`
	Locale     string `json:"locale"`
	Title      string `json:"title"`
	Body       string `json:"body"`
	SentAt     string `json:"sent_at"`
}

// OnsiteInbox lists the on-site notices the platform accepted for one
// account, across real incidents (never drills), oldest first: the text of
// the revision each person was sent, from the ledger.
//
// The platform asks this each time a person opens the app, so it must not
// read a million-row inventory per incident: the account is looked up once
// per snapshot (indexed, see onsiteIndex), and the ledger only by its key.
func (s *Store) OnsiteInbox(ctx context.Context, account string) ([]InboxNotice, error) {
	out := []InboxNotice{}
	if account == "" {
		return out, nil
	}
	bySnapshot, order, err := s.realIncidentsBySnapshot(ctx)
	if err != nil {
		return nil, err
	}
	for _, snap := range order {
		subjects, err := queryColumn[string](ctx, s, `SELECT subject_id FROM `+subjectsTable(snap)+` WHERE onsite_id=? AND onsite_id <> ''`, account)
		if err != nil {
			return nil, err
		}
		if len(subjects) == 0 {
			continue
		}
		marks := placeholders(len(subjects))
		for _, id := range bySnapshot[snap] {
			args := []any{id, StatusAccepted, StatusDelivered}
			for _, sub := range subjects {
				args = append(args, sub)
			}
			notices, err := s.inboxNotices(ctx, id, `SELECT subject_id, draft, updated_at FROM deliveries
				WHERE incident_id=? AND channel='onsite' AND status IN (?,?) AND subject_id IN (`+marks+`)`, args)
			if err != nil {
				return nil, err
			}
			out = append(out, notices...)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].SentAt != out[j].SentAt {
			return out[i].SentAt < out[j].SentAt
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// realIncidentsBySnapshot groups the scoped, non-drill incidents by the
// inventory snapshot they were scoped from.
func (s *Store) realIncidentsBySnapshot(ctx context.Context) (map[int64][]string, []int64, error) {
	rows, err := s.query(ctx, `SELECT id, snapshot_id FROM incidents WHERE drill=0 AND scoped=1 AND snapshot_id IS NOT NULL ORDER BY snapshot_id, id`)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	by := map[int64][]string{}
	var order []int64
	for rows.Next() {
		var id string
		var snap int64
		if err := rows.Scan(&id, &snap); err != nil {
			return nil, nil, err
		}
		if _, seen := by[snap]; !seen {
			order = append(order, snap)
		}
		by[snap] = append(by[snap], id)
	}
	return by, order, rows.Err()
}

// inboxNotices turns ledger rows (subject, draft revision, time) into the
// notices as sent.
func (s *Store) inboxNotices(ctx context.Context, incidentID, q string, args []any) ([]InboxNotice, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	type hit struct{ subject, draft, at string }
	var hits []hit
	for rows.Next() {
		var h hit
		if err := rows.Scan(&h.subject, &h.draft, &h.at); err != nil {
			rows.Close()
			return nil, err
		}
		hits = append(hits, h)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, err
	}
	var out []InboxNotice
	for _, h := range hits {
		name, n, _ := DraftRef(h.draft)
		d, err := s.GetDraft(ctx, incidentID, name, n)
		if err != nil {
			return nil, err
		}
		out = append(out, InboxNotice{ID: incidentID + "." + h.subject, IncidentID: incidentID, Locale: d.Locale, Title: d.Title, Body: d.Body, SentAt: h.at})
	}
	return out, nil
}
