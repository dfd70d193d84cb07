package store

import (
	"github.com/tocsin/tocsin/internal/plandata"
	"slices"

	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/inventory"
)

// Incident is an incident's fixed record; its live state is the workflow's.
type Incident struct {
	ID       string        `json:"id"`
	Title    string        `json:"title"`
	Spec     incident.Spec `json:"spec"`
	OpenedBy string        `json:"opened_by"`
	OpenedAt time.Time     `json:"opened_at"`
	Drill    bool          `json:"drill"`
	// Snapshot is the inventory snapshot the incident scopes against, fixed
	// when it opens so that its evidence stays reproducible after re-imports.
	Snapshot int64 `json:"snapshot"`
	// SubjectsFile and NamedSubjects describe the explicit list of subject
	// IDs forensics named, when the incident was opened with one.
	SubjectsFile  string `json:"subjects_file,omitempty"`
	NamedSubjects int64  `json:"named_subjects,omitempty"`
	// Scoped is set once the affected set has been written.
	Scoped bool `json:"scoped"`
	// Charter is the secret the opener handed the incident's workflow
	// (written once, with the incident; never read back by GetIncident).
	Charter string `json:"-"`
}

// NamedSubjects is a list of subject IDs, one per line (or a CSV whose header
// has a subject_id column), that limits scoping to exactly those people.
type NamedSubjects struct {
	File      string
	Reader    io.Reader
	MaxErrors int
}

// CreateIncident records a new incident, and the subject IDs it names, in one
// transaction: an ID that is not in the snapshot refuses the whole incident.
func (s *Store) CreateIncident(ctx context.Context, inc Incident, named *NamedSubjects) error {
	if !validIncidentID(inc.ID) || strings.Contains(inc.ID, "_") {
		return fmt.Errorf("incident ID %q: letters, digits and dashes only", inc.ID)
	}
	spec, err := json.Marshal(inc.Spec)
	if err != nil {
		return err
	}
	t, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer t.Rollback()
	if named != nil {
		inc.SubjectsFile = named.File
	}
	if _, err = t.exec(ctx, `INSERT INTO incidents (id, title, spec, opened_by, opened_at, drill, snapshot_id, subjects_file, viewers, summarised, charter) VALUES (?,?,?,?,?,?,?,?,?,1,?)`,
		inc.ID, inc.Title, string(spec), inc.OpenedBy, formatTime(inc.OpenedAt), boolInt(inc.Drill), inc.Snapshot, inc.SubjectsFile, wrapList(inc.Spec.RestrictedTo), inc.Charter); err != nil {
		return err
	}
	if named != nil {
		if err := t.addNamedSubjects(ctx, inc, named); err != nil {
			return err
		}
	}
	return t.Commit()
}

// ForgetIncident removes an incident whose workflow never started, with the
// subject list it was given, so that no record is left that nothing runs.
func (s *Store) ForgetIncident(ctx context.Context, id string) error {
	return s.inTx(ctx, func(t *tx) error {
		if _, err := t.exec(ctx, `DELETE FROM incident_subjects WHERE incident_id=?`, id); err != nil {
			return err
		}
		_, err := t.exec(ctx, `DELETE FROM incidents WHERE id=?`, id)
		return err
	})
}

func (t *tx) addNamedSubjects(ctx context.Context, inc Incident, named *NamedSubjects) error {
	n, err := t.loadNamed(ctx, "incident_subjects", []string{"incident_id"}, []any{inc.ID}, inc.Snapshot, named)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `UPDATE incidents SET named_subjects=? WHERE id=?`, n, inc.ID)
	return err
}

// loadNamed writes a list of subject IDs into table (keyed by the columns
// key names, with the values vals, then subject_id and line) and answers
// how many it holds under that key. Every ID must be a person of the
// snapshot: a typo would otherwise silently leave someone out of the
// notice. What it cannot take comes back as an *ImportError naming the
// file and line.
func (t *tx) loadNamed(ctx context.Context, table string, key []string, vals []any, snapshot int64, named *NamedSubjects) (int64, error) {
	if named.MaxErrors <= 0 {
		named.MaxErrors = defaultMaxErrors
	}
	bad := &ImportError{File: named.File, Current: snapshot}
	fail := func(line int, reason string) bool {
		bad.Rejected++
		if len(bad.Errors) == named.MaxErrors {
			bad.Stopped = true
			return false
		}
		bad.Errors = append(bad.Errors, inventory.RowError{File: named.File, Line: line, Field: "subject_id", Reason: reason})
		return true
	}
	src := &namedSource{list: inventory.NewIDList(named.Reader), prefix: vals, fail: fail}
	if err := t.insertRows(ctx, table, append(slices.Clone(key), "subject_id", "line"), src, " ON CONFLICT DO NOTHING"); err != nil {
		return 0, fmt.Errorf("%s: %w", named.File, err)
	}
	bad.Rows = src.rows
	if src.rows-bad.Rejected == 0 && len(bad.Errors) == 0 {
		return 0, fmt.Errorf("%s: no subject IDs in the file", named.File)
	}
	var where []string
	for _, k := range key {
		where = append(where, "n."+k+"=?")
	}
	if len(bad.Errors) == 0 {
		rows, err := t.query(ctx, `SELECT n.subject_id, n.line FROM `+table+` n
			LEFT JOIN `+subjectsTable(snapshot)+` s ON s.subject_id = n.subject_id
			WHERE `+strings.Join(where, " AND ")+` AND s.subject_id IS NULL ORDER BY n.line`, vals...)
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var line int
			if err := rows.Scan(&id, &line); err != nil {
				return 0, err
			}
			if !fail(line, fmt.Sprintf("%q is not in inventory snapshot %d", id, snapshot)) {
				break
			}
		}
		if err := rows.Err(); err != nil {
			return 0, err
		}
	}
	if len(bad.Errors) > 0 {
		bad.Accepted = bad.Rows - bad.Rejected
		return 0, bad
	}
	var n int64
	err := t.queryRow(ctx, `SELECT count(*) FROM `+table+` n WHERE `+strings.Join(where, " AND "), vals...).Scan(&n)
	return n, err
}

// namedSource feeds a subject-ID list (inventory.IDList) to insertRows.
type namedSource struct {
	list   *inventory.IDList
	prefix []any // the key the IDs are kept under
	fail   func(line int, reason string) bool
	rows   int64
	vals   []any
	err    error
}

func (n *namedSource) Next() bool {
	for {
		id, line, reason, ok := n.list.Next()
		if !ok {
			n.err = n.list.Err()
			return false
		}
		n.rows++
		if reason != "" {
			if !n.fail(line, reason) {
				return false
			}
			continue
		}
		n.vals = append(append(n.vals[:0], n.prefix...), id, int64(line))
		return true
	}
}

func (n *namedSource) Values() ([]any, error) { return n.vals, nil }
func (n *namedSource) Err() error             { return n.err }

// insertSQL is an INSERT of rows rows of columns into table, with ?
// placeholders.
func insertSQL(table string, columns []string, rows int) string {
	one := "(" + placeholders(len(columns)) + ")"
	return "INSERT INTO " + table + " (" + strings.Join(columns, ",") + ") VALUES " + strings.TrimSuffix(strings.Repeat(one+",", rows), ",")
}

// insertRows writes rows through one prepared multi-row INSERT, the fastest
// path database/sql offers on both backends.
func (t *tx) insertRows(ctx context.Context, table string, columns []string, src rowSource, suffix string) error {
	const perInsert = 200
	insert := func(n int) string { return t.d.rebind(insertSQL(table, columns, n) + suffix) }
	var bulk *sql.Stmt
	args := make([]any, 0, perInsert*len(columns))
	rows := 0
	for src.Next() {
		vals, err := src.Values()
		if err != nil {
			return err
		}
		args = append(args, vals...)
		rows++
		if rows < perInsert {
			continue
		}
		if bulk == nil {
			if bulk, err = t.PrepareContext(ctx, insert(perInsert)); err != nil {
				return err
			}
			defer bulk.Close()
		}
		if _, err := bulk.ExecContext(ctx, args...); err != nil {
			return err
		}
		args, rows = args[:0], 0
	}
	if err := src.Err(); err != nil {
		return err
	}
	if rows > 0 {
		if _, err := t.ExecContext(ctx, insert(rows), args...); err != nil {
			return err
		}
	}
	return nil
}

// scopeState is the incident's snapshot and whether its affected set exists:
// what the per-batch and per-page reads need, without decoding the spec.
func (s *Store) scopeState(ctx context.Context, id string) (snapshot int64, scoped bool, err error) {
	var snap sql.NullInt64
	var sc int
	err = s.queryRow(ctx, `SELECT snapshot_id, scoped FROM incidents WHERE id=?`, id).Scan(&snap, &sc)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, fmt.Errorf("incident %s: %w", id, ErrNotFound)
	}
	return snap.Int64, sc == 1, err
}

// GetIncident reads one incident.
func (s *Store) GetIncident(ctx context.Context, id string) (Incident, error) {
	row := s.queryRow(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE id=?`, id)
	inc, err := scanIncident(row.Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return Incident{}, fmt.Errorf("incident %s: %w", id, ErrNotFound)
	}
	return inc, err
}

const incidentColumns = `id, title, spec, opened_by, opened_at, drill, snapshot_id, subjects_file, named_subjects, scoped`

// AllIncidents reads every incident, newest first, specs included: for the
// few jobs that must look at each one. Lists people read use ListIncidents.
func (s *Store) AllIncidents(ctx context.Context) ([]Incident, error) {
	rows, err := s.query(ctx, `SELECT `+incidentColumns+` FROM incidents ORDER BY opened_at DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Incident
	for rows.Next() {
		inc, err := scanIncident(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, inc)
	}
	return out, rows.Err()
}

func scanIncident(scan func(...any) error) (Incident, error) {
	var inc Incident
	var spec, at string
	var drill int
	var snap sql.NullInt64
	var scoped int
	if err := scan(&inc.ID, &inc.Title, &spec, &inc.OpenedBy, &at, &drill, &snap, &inc.SubjectsFile, &inc.NamedSubjects, &scoped); err != nil {
		return Incident{}, err
	}
	inc.OpenedAt = parseTime(at)
	inc.Drill = drill == 1
	inc.Snapshot = snap.Int64
	inc.Scoped = scoped == 1
	return inc, json.Unmarshal([]byte(spec), &inc.Spec)
}

// Recipient is an affected subject with the contacts a notice can use.
type Recipient struct {
	SubjectID string
	Name      string
	// Contacts holds a value per kind in inventory.Contacts.
	Contacts [inventory.MaxContacts]string
	Consent  string
	Locale   string
	Region   string
	// Minor: under the age of majority at the incident (their notice goes
	// to a guardian where the inventory names one).
	Minor bool
}

// Contact is the recipient's value for a kind of contact ("" if none).
func (r Recipient) Contact(name string) string {
	if i := inventory.ContactIndex(name); i >= 0 {
		return r.Contacts[i]
	}
	return ""
}

// contactColumns selects a subjects table's contacts, in
// inventory.Contacts order.
func contactColumns(alias string) string {
	var cols []string
	for _, c := range inventory.Contacts {
		cols = append(cols, alias+"."+c.Column)
	}
	return strings.Join(cols, ", ")
}

// UnreachedRecipients pages through affected subjects not yet reached, in
// subject order, within the range r (after the cursor r.After), residents
// of regions only when any are named.
func (s *Store) UnreachedRecipients(ctx context.Context, incidentID string, r Range, regions []string, limit int) ([]Recipient, error) {
	return s.unreachedRecipients(ctx, incidentID, r, regions, limit, "", nil)
}

// MovedOnRecipients pages, as UnreachedRecipients does, through the people
// rung (1-based) can no longer reach: every send of it to them failed, or
// it had none. The next rung may be sent to them while rung's other sends
// settle and before it is resolved; anyone rung may yet reach (a send under
// way or in doubt, a text awaiting its receipt, an e-mail accepted that may
// bounce) waits for that resolution.
func (s *Store) MovedOnRecipients(ctx context.Context, incidentID string, r Range, regions []string, rung, limit int) ([]Recipient, error) {
	pending, also := movedOnWhere(incidentID, rung, "a.subject_id")
	return s.unreachedRecipients(ctx, incidentID, r, regions, limit, pending, also)
}

// unreachedRecipients is UnreachedRecipients narrowed by extra (an
// " AND ..." clause over the affected table a) and its arguments.
func (s *Store) unreachedRecipients(ctx context.Context, incidentID string, r Range, regions []string, limit int, extra string, extraArgs []any) ([]Recipient, error) {
	cond, args := rangeWhere(r, "a.subject_id")
	among, more := regionsWhere(regions, "a.region")
	args = append(append(append(args, more...), extraArgs...), limit)
	return s.recipients(ctx, incidentID, `a.reached_rung=0 AND `+cond+among+extra+` ORDER BY a.subject_id LIMIT ?`, args...)
}

// movedOnWhere keeps, of the subjects whose ID column col names, those
// rung (1-based) can no longer reach: no send of it to them but failed ones.
func movedOnWhere(incidentID string, rung int, col string) (string, []any) {
	return ` AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.incident_id=? AND d.subject_id=` + col + ` AND d.rung=? AND d.status NOT IN (?, ?))`,
		append([]any{incidentID, rung}, failedStatuses...)
}

// RecipientsOf reads the affected subjects named, in subject order, reached
// or not: the people whose sends a rung's settling step finishes.
func (s *Store) RecipientsOf(ctx context.Context, incidentID string, ids []string) ([]Recipient, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return s.recipients(ctx, incidentID, `a.subject_id IN (`+placeholders(len(ids))+`) ORDER BY a.subject_id`, args...)
}

// recipients reads the affected subjects (a) with their contacts (s) that
// where selects.
func (s *Store) recipients(ctx context.Context, incidentID, where string, args ...any) ([]Recipient, error) {
	snapshot, scoped, err := s.scopeState(ctx, incidentID)
	if err != nil || !scoped {
		return nil, err
	}
	rows, err := s.query(ctx, `SELECT a.subject_id, s.name, `+contactColumns("s")+`, s.consent, a.locale, a.region, a.minor
		FROM `+affectedTable(incidentID)+` a JOIN `+subjectsTable(snapshot)+` s ON s.subject_id=a.subject_id
		WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Recipient
	for rows.Next() {
		var r Recipient
		dest := []any{&r.SubjectID, &r.Name}
		for i := range inventory.Contacts {
			dest = append(dest, &r.Contacts[i])
		}
		var minor int
		if err := rows.Scan(append(dest, &r.Consent, &r.Locale, &r.Region, &minor)...); err != nil {
			return nil, err
		}
		r.Minor = minor == 1
		out = append(out, r)
	}
	return out, rows.Err()
}

// SharesPhone says whether another affected person of the incident has
// the subject's phone number (a family's landline, siblings' guardian): a call found at the
// provider for that number may be theirs. Asked only when a call was
// interrupted, so an unindexed look is fine.
func (s *Store) SharesPhone(ctx context.Context, incidentID, subjectID, phone string) (bool, error) {
	snapshot, scoped, err := s.scopeState(ctx, incidentID)
	if err != nil || !scoped || phone == "" {
		return false, err
	}
	var n int
	err = s.queryRow(ctx, `SELECT count(*) FROM `+affectedTable(incidentID)+` a JOIN `+subjectsTable(snapshot)+` s ON s.subject_id=a.subject_id
		WHERE (s.phone=? OR s.`+inventory.GuardianPhone+`=?) AND a.subject_id<>?`, phone, phone, subjectID).Scan(&n)
	return n > 0, err
}

// Reach and RegionReach are the plan's summaries of who was told.
type (
	Reach       = plandata.Reach
	RegionReach = plandata.RegionReach
)

// ReachByRegion counts who was reached, per region of residence.
func (s *Store) ReachByRegion(ctx context.Context, incidentID string) (map[string]RegionReach, error) {
	out := map[string]RegionReach{}
	if _, scoped, err := s.scopeState(ctx, incidentID); err != nil || !scoped {
		return out, err
	}
	rows, err := s.query(ctx, `SELECT region, CASE WHEN reached_rung < 0 THEN 2 WHEN reached_via = '' THEN 0 ELSE 1 END, count(*) FROM `+affectedTable(incidentID)+` GROUP BY 1, 2`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var region string
		var state, n int
		if err := rows.Scan(&region, &state, &n); err != nil {
			return nil, err
		}
		r := out[region]
		switch state {
		case 1:
			r.Reached += n
		case 2:
			r.Withheld += n
		default:
			r.Unreached += n
		}
		out[region] = r
	}
	return out, rows.Err()
}

// ReachSummary counts reached subjects by the rung channels that reached them.
func (s *Store) ReachSummary(ctx context.Context, incidentID string) (Reach, error) {
	r := Reach{ByChannel: map[string]int{}}
	if _, scoped, err := s.scopeState(ctx, incidentID); err != nil || !scoped {
		return r, err
	}
	rows, err := s.query(ctx, `SELECT reached_via, CASE WHEN reached_rung < 0 THEN 1 ELSE 0 END, count(*) FROM `+affectedTable(incidentID)+` GROUP BY 1, 2`)
	if err != nil {
		return r, err
	}
	defer rows.Close()
	for rows.Next() {
		var via string
		var withheld, n int
		if err := rows.Scan(&via, &withheld, &n); err != nil {
			return r, err
		}
		if withheld == 1 {
			r.Withheld += n
			continue
		}
		if via == "" {
			r.Unreached += n
			continue
		}
		r.Reached += n
		for _, ch := range strings.Split(via, "+") {
			r.ByChannel[ch] += n
		}
	}
	return r, rows.Err()
}

// rungWithheld marks an affected person legal waived every duty to tell:
// no rung reads them (each reads reached_rung = 0) and none marks them.
const rungWithheld = -1

// WithholdNotice takes the residents of regions out of an incident's
// campaign before it begins, because legal waived every duty to tell them.
// They stay in the affected set (the record of who was affected) and count
// as withheld, not unreached. It returns how many are withheld, however
// often it runs; people already told are not touched.
func (s *Store) WithholdNotice(ctx context.Context, incidentID string, regions []string) (int, error) {
	if _, scoped, err := s.scopeState(ctx, incidentID); err != nil || !scoped || len(regions) == 0 {
		return 0, err
	}
	marks := placeholders(len(regions))
	args := []any{rungWithheld}
	for _, r := range regions {
		args = append(args, r)
	}
	table := affectedTable(incidentID)
	if _, err := s.exec(ctx, `UPDATE `+table+` SET reached_rung=? WHERE reached_rung=0 AND region IN (`+marks+`)`, args...); err != nil {
		return 0, err
	}
	var n int
	err := s.queryRow(ctx, `SELECT count(*) FROM `+table+` WHERE reached_rung=? AND region IN (`+marks+`)`, args...).Scan(&n)
	return n, err
}
