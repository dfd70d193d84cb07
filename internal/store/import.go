package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin/tocsin/internal/inventory"
)

// ImportInput names the two files and who imports them.
type ImportInput struct {
	SystemsFile  string
	Systems      io.Reader
	SubjectsFile string
	Subjects     io.Reader
	ImportedBy   string
	// MaxErrors stops the check after this many bad rows; 0 means defaultMaxErrors.
	MaxErrors int
	// Progress, when set, is called about every ProgressEvery rows.
	Progress func(rows int64)
	// Aside loads the snapshot without making it current: a drill's
	// synthetic inventory must never become the one real incidents scope.
	Aside bool
}

// defaultMaxErrors is how many bad rows a check reports before it stops,
// unless the caller says otherwise.
const defaultMaxErrors = 100

// ProgressEvery is how many rows pass between two Progress calls.
const ProgressEvery = 100_000

// ImportResult summarises an accepted import.
type ImportResult struct {
	Snapshot int64   `json:"snapshot"`
	Previous int64   `json:"previous_snapshot"`
	Systems  int     `json:"systems"`
	Subjects int64   `json:"subjects"`
	Seconds  float64 `json:"seconds"`
}

// ImportError is a refused import: every bad row found, and what was checked.
// Nothing of the import was kept.
type ImportError struct {
	File     string               `json:"file"`
	Rows     int64                `json:"rows_checked"`
	Accepted int64                `json:"rows_accepted"`
	Rejected int64                `json:"rows_rejected"`
	Stopped  bool                 `json:"stopped_early"`
	Errors   []inventory.RowError `json:"errors"`
	Current  int64                `json:"current_snapshot"`
}

func (e *ImportError) Error() string {
	var b strings.Builder
	for _, r := range e.Errors {
		b.WriteString(r.Error())
		b.WriteByte('\n')
	}
	b.WriteString(e.Summary())
	return b.String()
}

// Summary is the one line a person reads first.
func (e *ImportError) Summary() string {
	checked := fmt.Sprintf("%d rows checked", e.Rows)
	if e.Stopped {
		checked = fmt.Sprintf("stopped after %d errors at row %d", len(e.Errors), e.Rows)
	}
	keep := "no inventory was imported before"
	if e.Current > 0 {
		keep = fmt.Sprintf("snapshot %d stays current", e.Current)
	}
	return fmt.Sprintf("%s: import refused, nothing kept: %d rows rejected, %d accepted (%s); %s",
		e.File, e.Rejected, e.Accepted, checked, keep)
}

// subjectColumns are a snapshot's subjects table's columns: a column per
// kind of contact the inventory knows (inventory.Contacts), then the rest.
var subjectColumns = func() []string {
	cols := []string{"subject_id", "name"}
	for _, c := range inventory.Contacts {
		cols = append(cols, c.Column)
	}
	return append(cols, "locale", "region", "birth_year", "set_id", "line", "consent")
}()

// loadColumns are the columns of subjectColumns a load of reader's file
// writes, and the kinds of contact among them (indexes in
// inventory.Contacts). The kinds the file has no column for are left to
// the table's default, empty: binding a value nobody has, for every
// person, was a quarter of the values a SQLite load binds.
func loadColumns(reader *inventory.SubjectReader) (columns []string, contacts []int) {
	columns = []string{"subject_id", "name"}
	for i, c := range inventory.Contacts {
		if reader.HasContact(i) {
			contacts = append(contacts, i)
			columns = append(columns, c.Column)
		}
	}
	return append(columns, subjectColumns[2+len(inventory.Contacts):]...), contacts
}

// loadRow holds one row's values for subjectColumns, in a fixed array so
// that a batch of rows is one allocation.
type loadRow [2 + inventory.MaxContacts + 6]loadValue

// createSubjectsTable is the DDL of a snapshot's subjects table.
func (s *Store) createSubjectsTable(table string) string {
	var b strings.Builder
	b.WriteString(`CREATE TABLE ` + table + ` (subject_id ` + s.dialect.keyText() + ` NOT NULL, name TEXT NOT NULL`)
	for _, c := range inventory.Contacts {
		b.WriteString(`, ` + c.Column + ` TEXT NOT NULL DEFAULT ''`)
	}
	b.WriteString(`, locale TEXT NOT NULL, region TEXT NOT NULL, birth_year INTEGER NOT NULL, set_id INTEGER NOT NULL, line BIGINT NOT NULL, consent TEXT NOT NULL)`)
	return b.String()
}

// ImportInventory loads a new inventory snapshot in one transaction, streaming
// the subjects into a fresh table by the backend's bulk path (multi-row
// inserts on SQLite, COPY on PostgreSQL) in constant memory. Every bad row is
// reported and, if there is any, nothing is kept and the current snapshot
// stays in force.
func (s *Store) ImportInventory(ctx context.Context, in ImportInput) (ImportResult, error) {
	started := time.Now()
	if in.MaxErrors <= 0 {
		in.MaxErrors = defaultMaxErrors
	}
	previous, err := s.CurrentSnapshot(ctx)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return ImportResult{}, err
	}
	systems, err := inventory.ParseSystems(in.SystemsFile, in.Systems)
	if err != nil {
		return ImportResult{}, err
	}
	known := map[string]bool{}
	for _, sys := range systems {
		known[sys.ID] = true
	}
	reader, err := inventory.NewSubjectReader(in.SubjectsFile, in.Subjects, known)
	if err != nil {
		return ImportResult{}, err
	}

	lt, err := s.dialect.beginLoad(ctx, s.db)
	if err != nil {
		return ImportResult{}, err
	}
	var snap int64
	kept := false
	defer func() {
		if kept {
			return
		}
		lt.rollback(ctx)
		if lt.committedSome() {
			// Best effort: what a crash or a failure here leaves behind is
			// dropped by the next prune.
			s.dropSnapshotData(context.WithoutCancel(ctx), snap)
		}
	}()
	if err := lt.queryRow(ctx, `INSERT INTO snapshots (imported_at, imported_by, systems_file, subjects_file, systems, subjects) VALUES (?,?,?,?,0,0) RETURNING id`,
		now(), in.ImportedBy, in.SystemsFile, in.SubjectsFile).Scan(&snap); err != nil {
		return ImportResult{}, err
	}
	for _, sys := range systems {
		if err := lt.exec(ctx, `INSERT INTO systems VALUES (?,?,?,?,?)`, snap, sys.ID, sys.Name, sys.Location, strings.Join(sys.Categories, ";")); err != nil {
			return ImportResult{}, err
		}
	}
	table := subjectsTable(snap)
	if err := lt.exec(ctx, s.createSubjectsTable(table)); err != nil {
		return ImportResult{}, err
	}
	columns, contacts := loadColumns(reader)
	src := &subjectSource{reader: reader, maxErrors: in.MaxErrors, progress: in.Progress, contacts: contacts, width: len(columns),
		sets: map[string]int32{}, tally: newTally()}
	defer src.stop()
	if err := lt.copyRows(ctx, table, columns, src); err != nil {
		src.stop()
		if src.err != nil {
			err = src.err // the reader's own error, not the server's echo of it
		}
		return ImportResult{}, fmt.Errorf("%s: bulk load: %w", in.SubjectsFile, err)
	}
	refused := func() (ImportResult, error) {
		return ImportResult{}, &ImportError{File: in.SubjectsFile, Rows: src.rows, Accepted: src.rows - src.rejected, Rejected: src.rejected,
			Stopped: src.stopped, Errors: src.errs, Current: previous}
	}
	if len(src.errs) > 0 {
		if !src.stopped {
			if err := collectDuplicates(ctx, lt, table, in, src); err != nil {
				return ImportResult{}, err
			}
		}
		return refused()
	}
	if src.rows == 0 {
		return ImportResult{}, fmt.Errorf("%s:2: no subjects: the file has a header but no rows", in.SubjectsFile)
	}
	// Duplicates are found by the database, not by a map in memory, so an
	// import of any size stays within a fixed footprint. A failed index aborts
	// PostgreSQL's transaction, hence the savepoint.
	if err := lt.exec(ctx, `SAVEPOINT unique_ids`); err != nil {
		return ImportResult{}, err
	}
	if err := lt.exec(ctx, `CREATE UNIQUE INDEX `+table+`_id ON `+table+` (subject_id)`); err != nil {
		if err := lt.exec(ctx, `ROLLBACK TO SAVEPOINT unique_ids`); err != nil {
			return ImportResult{}, err
		}
		if err := collectDuplicates(ctx, lt, table, in, src); err != nil {
			return ImportResult{}, err
		}
		if len(src.errs) == 0 {
			return ImportResult{}, fmt.Errorf("%s: index subject IDs: %w", in.SubjectsFile, err)
		}
		return refused()
	}
	if err := lt.yield(ctx); err != nil {
		return ImportResult{}, err
	}
	if err := lt.exec(ctx, onsiteIndex(snap)); err != nil {
		return ImportResult{}, err
	}
	if err := lt.yield(ctx); err != nil {
		return ImportResult{}, err
	}
	sets := make([]string, len(src.sets))
	for key, id := range src.sets {
		sets[id] = key
	}
	for id, key := range sets {
		if err := lt.exec(ctx, `INSERT INTO system_sets VALUES (?,?,?)`, snap, id, key); err != nil {
			return ImportResult{}, err
		}
	}
	if err := lt.copyRows(ctx, "snapshot_counts", countColumns, &countSource{snapshot: snap, counts: src.tally.counts()}); err != nil {
		return ImportResult{}, err
	}
	if err := lt.exec(ctx, `UPDATE snapshots SET systems=?, subjects=?, ids_ascending=? WHERE id=?`, len(systems), src.rows, boolInt(!src.descending), snap); err != nil {
		return ImportResult{}, err
	}
	if !in.Aside {
		if err := lt.exec(ctx, `INSERT INTO meta VALUES ('current_snapshot', ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value`, strconv.FormatInt(snap, 10)); err != nil {
			return ImportResult{}, err
		}
	}
	if err := lt.commit(ctx); err != nil {
		return ImportResult{}, err
	}
	kept = true
	return ImportResult{Snapshot: snap, Previous: previous, Systems: len(systems), Subjects: src.rows, Seconds: time.Since(started).Seconds()}, nil
}

// collectDuplicates turns a failed unique index into one error per repeated
// row, each naming the line of the first occurrence.
func collectDuplicates(ctx context.Context, q loadTx, table string, in ImportInput, src *subjectSource) error {
	rows, err := q.query(ctx, `SELECT t.subject_id, t.line, d.first FROM `+table+` t
		JOIN (SELECT subject_id, min(line) AS first FROM `+table+` GROUP BY subject_id HAVING count(*) > 1) d ON d.subject_id = t.subject_id
		WHERE t.line <> d.first ORDER BY t.line LIMIT ?`, in.MaxErrors+1)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var line, first int64
		if err := rows.Scan(&id, &line, &first); err != nil {
			return err
		}
		src.errs = append(src.errs, inventory.RowError{File: in.SubjectsFile, Line: int(line), Field: "subject_id",
			Reason: fmt.Sprintf("duplicate subject %q (first on line %d)", id, first)})
		src.rejected++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// One list in file order, whichever check found each row.
	slices.SortStableFunc(src.errs, func(a, b inventory.RowError) int { return cmp.Compare(a.Line, b.Line) })
	if len(src.errs) > in.MaxErrors {
		src.errs, src.stopped = src.errs[:in.MaxErrors], true
	}
	return nil
}

// subjectSource streams validated rows to the bulk loader. Reading and
// checking the CSV runs in its own goroutine, a few batches ahead of the
// database writes, so the two overlap on two cores; memory stays at those few
// batches whatever the file size. After the first bad row it keeps checking,
// to report every error up to the limit, but sends no more rows: the import
// will be refused anyway.
type subjectSource struct {
	reader    *inventory.SubjectReader
	maxErrors int
	progress  func(int64)
	// contacts are the indexes in inventory.Contacts of the kinds the
	// file has, whose columns the rows carry; width is how many values
	// a row has (loadColumns).
	contacts []int
	width    int

	sets  map[string]int32
	tally *tally
	// descending is set once a row's ID sorts before the one above it
	// (byte order, as SQLite compares text): scoping then sorts.
	descending bool
	lastID     string
	rows       int64
	rejected   int64
	errs       []inventory.RowError
	stopped    bool
	err        error

	// copyText makes the producer write PostgreSQL's COPY text format
	// instead of rows of values: the parser goroutine then does the encoding
	// pgx would otherwise do value by value on the loader's side.
	copyText bool
	text     []byte // the unread part of the current text batch
	textBuf  []byte // the whole current text batch
	free     chan []byte

	started bool
	// freeRows hands a batch of rows the loader has finished with back
	// to the producer, as free does text buffers.
	freeRows chan []loadRow
	batches  chan loadBatch
	done     chan struct{} // closed with the producer's last write to the fields above
	cancel   chan struct{}
	batch    []loadRow
	pos      int
	boxed    []any
}

type loadBatch struct {
	rows []loadRow
	text []byte
}

const batchRows = 1024

func (s *subjectSource) start() {
	if !s.started {
		s.started = true
		s.batches = make(chan loadBatch, 4)
		s.done = make(chan struct{})
		s.cancel = make(chan struct{})
		s.free = make(chan []byte, 8)
		s.freeRows = make(chan []loadRow, 8)
		go s.produce()
	}
}

func (s *subjectSource) Next() bool {
	s.start()
	s.pos++
	if s.pos < len(s.batch) {
		return true
	}
	if s.batch != nil {
		select { // every row of it is written: hand it back
		case s.freeRows <- s.batch[:0]:
		default:
		}
		s.batch = nil
	}
	b, ok := <-s.batches
	if !ok {
		<-s.done
		return false
	}
	s.batch, s.pos = b.rows, 0
	return true
}

func (s *subjectSource) useCopyText() { s.copyText = true }

// Read serves the rows as COPY text (copyText mode), for pgconn.CopyFrom.
func (s *subjectSource) Read(p []byte) (int, error) {
	s.start()
	for len(s.text) == 0 {
		b, ok := <-s.batches
		if !ok {
			<-s.done
			if s.err != nil {
				return 0, s.err
			}
			return 0, io.EOF
		}
		s.text, s.textBuf = b.text, b.text
	}
	n := copy(p, s.text)
	s.text = s.text[n:]
	if len(s.text) == 0 {
		select { // hand the buffer back to the producer
		case s.free <- s.textBuf[:0]:
		default:
		}
	}
	return n, nil
}

// Values boxes the row for database/sql, which takes only the first
// chunk of a SQLite load; the rest goes by typedValues.
func (s *subjectSource) Values() ([]any, error) {
	s.boxed = s.boxed[:0]
	for _, v := range s.typedValues() {
		s.boxed = append(s.boxed, v.boxed())
	}
	return s.boxed, nil
}

func (s *subjectSource) typedValues() []loadValue { return s.batch[s.pos][:s.width] }

// Err is the read error, if any; valid once Next has returned false.
func (s *subjectSource) Err() error { return s.err }

// stop ends the producer early (the loader failed); safe to call more than once.
func (s *subjectSource) stop() {
	if s.started {
		select {
		case <-s.cancel:
		default:
			close(s.cancel)
		}
		for range s.batches {
		}
		<-s.done
	}
}

func (s *subjectSource) produce() {
	defer close(s.done)
	defer close(s.batches)
	// A text buffer the loader has finished with is written again.
	textBuffer := func() []byte {
		select {
		case b := <-s.free:
			return b
		default:
			return make([]byte, 0, batchRows*128)
		}
	}
	rowBuffer := func() []loadRow {
		select {
		case b := <-s.freeRows:
			return b
		default:
			return make([]loadRow, 0, batchRows)
		}
	}
	var batch []loadRow
	var text []byte
	if s.copyText {
		text = textBuffer()
	} else {
		batch = rowBuffer()
	}
	n := 0
	send := func() bool {
		if n == 0 {
			return true
		}
		select {
		case s.batches <- loadBatch{rows: batch, text: text}:
			if s.copyText {
				text = textBuffer()
			} else {
				batch = rowBuffer()
			}
			n = 0
			return true
		case <-s.cancel:
			return false
		}
	}
	for {
		sub, err := s.reader.Next()
		if errors.Is(err, io.EOF) {
			send()
			return
		}
		var rowErrs *inventory.Errors
		if err != nil && !errors.As(err, &rowErrs) {
			s.err = err
			return
		}
		s.rows++
		if s.progress != nil && s.rows%ProgressEvery == 0 {
			s.progress(s.rows)
		}
		if rowErrs != nil {
			s.rejected++
			for _, e := range rowErrs.List {
				if len(s.errs) == s.maxErrors {
					s.stopped = true
					return
				}
				s.errs = append(s.errs, e)
			}
			continue
		}
		// Rows after a bad one are still loaded, though the import will be
		// refused: the database finds their duplicate IDs, so that one pass
		// reports every bad row.
		if sub.ID < s.lastID {
			s.descending = true
		}
		s.lastID = sub.ID
		set := s.setID(sub.SystemsKey)
		s.tally.add(sub.Region, sub.Locale, set, int32(sub.BirthYear), int32(sub.Reach()), sub.Consent)
		if s.copyText {
			text = appendCopyRow(text, sub, set, s.contacts)
		} else {
			batch = append(batch, rowOf(sub, set, s.contacts))
		}
		n++
		if n == batchRows && !send() {
			return
		}
	}
}

// rowOf is one row of subjectColumns, with the contacts of kinds
// (indexes in inventory.Contacts) only.
func rowOf(sub inventory.Subject, set int32, contacts []int) loadRow {
	var r loadRow
	r[0], r[1] = textOf(sub.ID), textOf(sub.Name)
	i := 2
	for _, c := range contacts {
		r[i] = textOf(sub.Contacts[c])
		i++
	}
	r[i], r[i+1], r[i+2], r[i+3], r[i+4], r[i+5] = textOf(sub.Locale), textOf(sub.Region), intOf(int64(sub.BirthYear)), intOf(int64(set)), intOf(int64(sub.Line)), textOf(sub.Consent)
	return r
}

// appendCopyRow writes one row as rowOf does in COPY's text format: tab
// separated, with backslash, tab, newline and carriage return escaped.
func appendCopyRow(b []byte, sub inventory.Subject, set int32, contacts []int) []byte {
	b = appendCopyField(b, sub.ID)
	b = append(b, '\t')
	b = appendCopyField(b, sub.Name)
	b = append(b, '\t')
	for _, c := range contacts {
		b = appendCopyField(b, sub.Contacts[c])
		b = append(b, '\t')
	}
	b = appendCopyField(b, sub.Locale)
	b = append(b, '\t')
	b = appendCopyField(b, sub.Region)
	b = append(b, '\t')
	b = strconv.AppendInt(b, int64(sub.BirthYear), 10)
	b = append(b, '\t')
	b = strconv.AppendInt(b, int64(set), 10)
	b = append(b, '\t')
	b = strconv.AppendInt(b, int64(sub.Line), 10)
	b = append(b, '\t')
	b = appendCopyField(b, sub.Consent)
	return append(b, '\n')
}

func appendCopyField(b []byte, f string) []byte {
	if !strings.ContainsAny(f, "\\\t\n\r") {
		return append(b, f...)
	}
	for i := 0; i < len(f); i++ {
		switch c := f[i]; c {
		case '\\':
			b = append(b, '\\', '\\')
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, c)
		}
	}
	return b
}

// countKey is one cell of a snapshot's counts: how many people share a
// region, locale, system set, birth year, set of contacts (a bit per
// inventory.Contacts kind) and answer on electronic consent. Scoping reads
// its aggregates from these few cells instead of a second pass over the
// people; the cells are bounded by the distinct combinations, not the rows.
type countKey struct {
	region, locale string
	set            int32
	birthYear      int32
	reach          int32
	consent        string
}

// countColumns are snapshot_counts' columns. can_onsite, can_email and
// can_phone repeat reach's first three bits for an earlier Tocsin reading
// the database after a rollback.
var countColumns = []string{"snapshot_id", "region", "locale", "set_id", "birth_year", "can_onsite", "can_email", "can_phone", "reach", "consent", "n"}

type countSource struct {
	snapshot int64
	counts   map[countKey]int64
	keys     []countKey
	started  bool
	vals     [11]any
}

func (c *countSource) Next() bool {
	if !c.started {
		c.started = true
		for k := range c.counts {
			c.keys = append(c.keys, k)
		}
	}
	if len(c.keys) == 0 {
		return false
	}
	k := c.keys[len(c.keys)-1]
	c.keys = c.keys[:len(c.keys)-1]
	bit := func(i int) int { return int(k.reach>>i) & 1 }
	c.vals = [11]any{c.snapshot, k.region, k.locale, k.set, k.birthYear, bit(0), bit(1), bit(2), k.reach, k.consent, c.counts[k]}
	return true
}

func (c *countSource) Values() ([]any, error) { return c.vals[:], nil }
func (c *countSource) Err() error             { return nil }

// setID numbers each distinct combination of systems; scoping then decides per
// combination, not per person, what leaked.
func (s *subjectSource) setID(key string) int32 {
	id, ok := s.sets[key]
	if !ok {
		id = int32(len(s.sets))
		s.sets[key] = id
	}
	return id
}

// CurrentSnapshot is the inventory snapshot new incidents scope against.
func (s *Store) CurrentSnapshot(ctx context.Context) (int64, error) {
	var v string
	err := s.queryRow(ctx, `SELECT value FROM meta WHERE key='current_snapshot'`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("no inventory imported yet: run 'tocsin inventory import' first: %w", ErrNotFound)
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(v, 10, 64)
}

// Snapshot is one imported inventory.
type Snapshot struct {
	ID           int64     `json:"id"`
	ImportedAt   time.Time `json:"imported_at"`
	ImportedBy   string    `json:"imported_by"`
	SystemsFile  string    `json:"systems_file"`
	SubjectsFile string    `json:"subjects_file"`
	Systems      int       `json:"systems"`
	Subjects     int64     `json:"subjects"`
	Current      bool      `json:"current"`
}

// Snapshots lists the imported inventories, newest first.
func (s *Store) Snapshots(ctx context.Context) ([]Snapshot, error) {
	cur, err := s.CurrentSnapshot(ctx)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	rows, err := s.query(ctx, `SELECT id, imported_at, imported_by, systems_file, subjects_file, systems, subjects FROM snapshots WHERE subjects > 0 ORDER BY id DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Snapshot
	for rows.Next() {
		var sn Snapshot
		var at string
		if err := rows.Scan(&sn.ID, &at, &sn.ImportedBy, &sn.SystemsFile, &sn.SubjectsFile, &sn.Systems, &sn.Subjects); err != nil {
			return nil, err
		}
		sn.ImportedAt, sn.Current = parseTime(at), sn.ID == cur
		out = append(out, sn)
	}
	return out, rows.Err()
}

// PruneSnapshots drops the subject tables of snapshots that are neither
// current nor the snapshot of any incident, and returns their IDs. Incidents
// keep theirs for as long as they exist, as evidence.
func (s *Store) PruneSnapshots(ctx context.Context) ([]int64, error) {
	cur, err := s.CurrentSnapshot(ctx)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	ids, err := queryColumn[int64](ctx, s, `SELECT id FROM snapshots WHERE subjects > 0 AND id <> ? AND id NOT IN (SELECT snapshot_id FROM incidents WHERE snapshot_id IS NOT NULL) ORDER BY id`, cur)
	if err != nil {
		return nil, err
	}
	// An import that never finished (the process died during a SQLite
	// load, which commits as it goes) left rows no one can see; one still
	// running is not a day old.
	abandoned, err := queryColumn[int64](ctx, s, `SELECT id FROM snapshots WHERE subjects = 0 AND imported_at < ? ORDER BY id`, formatTime(time.Now().Add(-abandonedAfter)))
	if err != nil {
		return nil, err
	}
	for _, id := range abandoned {
		if n, err := s.tablesNamed(ctx, subjectsTable(id)); err != nil {
			return nil, err
		} else if n > 0 {
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		if err := s.dropSnapshotData(ctx, id); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// abandonedAfter is how old an unfinished import must be for a prune to
// take it for abandoned.
const abandonedAfter = 24 * time.Hour

// dropSnapshotData drops a snapshot's people, systems and counts, and
// leaves its row, with no subjects, as the record that it was imported.
func (s *Store) dropSnapshotData(ctx context.Context, id int64) error {
	t, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer t.Rollback()
	if _, err := t.exec(ctx, `DROP TABLE IF EXISTS `+subjectsTable(id)); err != nil {
		return err
	}
	for _, q := range []string{`DELETE FROM system_sets WHERE snapshot_id=?`, `DELETE FROM snapshot_counts WHERE snapshot_id=?`, `DELETE FROM systems WHERE snapshot_id=?`, `UPDATE snapshots SET subjects=0 WHERE id=?`} {
		if _, err := t.exec(ctx, q, id); err != nil {
			return err
		}
	}
	return t.Commit()
}

// systemCategories maps a snapshot's systems to the categories each holds.
func (s *Store) systemCategories(ctx context.Context, snapshot int64) (map[string][]string, error) {
	rows, err := s.query(ctx, `SELECT id, categories FROM systems WHERE snapshot_id=?`, snapshot)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var id, cats string
		if err := rows.Scan(&id, &cats); err != nil {
			return nil, err
		}
		out[id] = strings.Split(cats, ";")
	}
	return out, rows.Err()
}

// scanner and rowIter are what both database/sql and pgx rows offer.
type scanner interface{ Scan(dest ...any) error }

type rowIter interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// rowSource is pgx's CopyFromSource; the SQLite loader reads it the same way.
// The values Values returns are good until the next call to Next: the
// subjects' source writes the next batch over them.
type rowSource interface {
	Next() bool
	Values() ([]any, error)
	Err() error
}

// textSource is a rowSource that can also stream itself as COPY text, the
// format PostgreSQL parses fastest.
type textSource interface {
	rowSource
	io.Reader
	useCopyText()
}

// loadTx is the transaction an import runs in.
type loadTx interface {
	exec(ctx context.Context, q string, args ...any) error
	queryRow(ctx context.Context, q string, args ...any) scanner
	query(ctx context.Context, q string, args ...any) (rowIter, error)
	copyRows(ctx context.Context, table string, columns []string, src rowSource) error
	commit(ctx context.Context) error
	rollback(ctx context.Context) error
	// committedSome says part of the load is already committed (a SQLite
	// load commits as it goes), so abandoning it must drop that part.
	committedSome() bool
	// yield lets the store's other calls through before the next step,
	// where the load holds the one connection they need (SQLite).
	yield(ctx context.Context) error
}
