// Package inventory reads and validates the data inventory: systems.yaml (which
// system holds which categories) and subjects.csv (one row per data subject).
package inventory

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// System is one entry of systems.yaml.
type System struct {
	ID         string   `yaml:"id" json:"id"`
	Name       string   `yaml:"name" json:"name"`
	Location   string   `yaml:"location" json:"location"`
	Categories []string `yaml:"categories" json:"categories"`
}

// Subject is one row of subjects.csv.
type Subject struct {
	ID   string
	Name string
	// Contacts holds a value per kind in Contacts ("" where the person
	// has none).
	Contacts [MaxContacts]string
	// Consent is consent_electronic: ConsentYes, ConsentNo or "" (not
	// asked).
	Consent   string
	Locale    string
	Region    string
	BirthYear int
	// Systems is sorted and without repeats; the reader shares one slice
	// among rows with the same systems, so it must not be modified.
	Systems []string
	// SystemsKey is Systems joined by ';', one name for the combination.
	SystemsKey string
	Line       int
}

// RowError is one bad value, located precisely enough to fix it.
type RowError struct {
	File   string
	Line   int
	Field  string
	Reason string
}

func (e RowError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Field, e.Reason)
}

// Errors is every problem found in an import, in file order.
type Errors struct {
	List []RowError
	// Truncated is set when the error limit stopped the check early.
	Truncated bool
}

func (e *Errors) Error() string {
	var b strings.Builder
	for i, r := range e.List {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(r.Error())
	}
	if e.Truncated {
		b.WriteString("\n(stopped after the error limit)")
	}
	return b.String()
}

var (
	systemIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	categoryPattern = regexp.MustCompile(`^[a-z_]+(\.[a-z0-9_]+)+$`)
)

// ParseSystems reads systems.yaml and reports every bad entry with its line.
func ParseSystems(file string, r io.Reader) ([]System, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	var doc struct {
		Systems yaml.Node `yaml:"systems"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %s", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if doc.Systems.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s:1: systems: a list of systems is required", file)
	}
	var errs Errors
	var out []System
	seen := map[string]int{}
	for _, n := range doc.Systems.Content {
		var s System
		if err := n.Decode(&s); err != nil {
			errs.List = append(errs.List, RowError{file, n.Line, "", strings.TrimPrefix(err.Error(), "yaml: ")})
			continue
		}
		bad := func(field, reason string) { errs.List = append(errs.List, RowError{file, n.Line, field, reason}) }
		switch {
		case s.ID == "":
			bad("id", "required")
		case !systemIDPattern.MatchString(s.ID):
			bad("id", fmt.Sprintf("%q must be lowercase letters, digits and hyphens", s.ID))
		case seen[s.ID] != 0:
			bad("id", fmt.Sprintf("duplicate system %q (first on line %d)", s.ID, seen[s.ID]))
		}
		seen[s.ID] = n.Line
		if !ValidCountry(s.Location) {
			bad("location", fmt.Sprintf("%q is not an ISO 3166-1 alpha-2 country code", s.Location))
		}
		if len(s.Categories) == 0 {
			bad("categories", "at least one category is required")
		}
		for _, c := range s.Categories {
			if !categoryPattern.MatchString(c) || !knownFamilies[Family(c)] {
				bad("categories", fmt.Sprintf("%q is not a known dotted category (account.*, contact.*, biometric.*, ...)", c))
			}
		}
		out = append(out, s)
	}
	if len(errs.List) > 0 {
		return nil, &errs
	}
	return out, nil
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

var subjectColumns = []string{"subject_id", "name", "email", "phone", "onsite_id", "locale", "region", "birth_year", "systems"}

// Positions in subjectColumns.
const (
	colID = iota
	colName
	_ // email, phone and onsite_id are read as Contacts
	_
	_
	colLocale
	colRegion
	colBirthYear
	colSystems
)

// SubjectReader streams subjects.csv row by row, so an import of any size
// runs in constant memory. It checks each row on its own; duplicate IDs across
// rows are the store's to find (a map of ten million IDs would not fit).
type SubjectReader struct {
	file  string
	csv   *csv.Reader
	limit *rowLimit
	line  int    // where the last row read ended
	col   [9]int // position of each of subjectColumns in the file
	// contactCol is the position in the file of each contact's columns
	// (-1: an optional column the file does not have).
	contactCol [MaxContacts][]int
	consentCol int
	cells      []string
	systems    map[string]bool
	// sets caches each distinct systems cell already checked: an inventory
	// has few combinations, and splitting every row's cell again costs more
	// than the rest of the checks together.
	sets map[string]systemSet
}

type systemSet struct {
	list []string
	key  string
}

const maxCachedSets = 4096

// NewSubjectReader checks the header and prepares to read rows. systems holds
// the IDs a row may name.
func NewSubjectReader(file string, r io.Reader, systems map[string]bool) (*SubjectReader, error) {
	limit := &rowLimit{r: r, limit: MaxRowBytes}
	br := bufio.NewReaderSize(limit, 1<<16)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, utf8BOM) {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, errRowTooLong) {
		return nil, fmt.Errorf("%s:1: header: %s", file, rowTooLong)
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s:1: the file is empty; a header row is required", file)
		}
		return nil, fmt.Errorf("%s: %s", file, csvReason(err))
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.ToLower(h))] = i
	}
	if len(header) == 1 && strings.Count(header[0], ";") >= len(subjectColumns)-1 {
		return nil, fmt.Errorf("%s:1: header: the columns are separated by ';' (as Excel does in some locales); save the file as \"CSV UTF-8 (comma delimited)\"", file)
	}
	limit.next()
	sr := &SubjectReader{file: file, csv: cr, limit: limit, line: 1, systems: systems, sets: map[string]systemSet{}}
	var missing []string
	for i, c := range subjectColumns {
		pos, ok := col[c]
		if !ok {
			missing = append(missing, c)
		}
		sr.col[i] = pos
	}
	for i, c := range Contacts {
		for _, name := range c.Columns {
			pos, ok := col[name]
			if !ok {
				pos = -1
				if !c.Optional && !slices.Contains(missing, name) {
					missing = append(missing, name)
				}
			}
			sr.contactCol[i] = append(sr.contactCol[i], pos)
		}
	}
	sr.consentCol = -1
	if pos, ok := col[consentColumn]; ok {
		sr.consentCol = pos
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s:1: header: missing column(s) %s", file, strings.Join(missing, ", "))
	}
	cr.FieldsPerRecord = len(header)
	return sr, nil
}

// HasContact says whether the file has any of the columns of the contact
// kind at index i of Contacts: without them, everyone's is empty.
func (sr *SubjectReader) HasContact(i int) bool {
	return slices.ContainsFunc(sr.contactCol[i], func(pos int) bool { return pos >= 0 })
}

// Next returns the next subject, or the errors of a bad row (a []RowError wrapped
// in *Errors), or io.EOF at the end. A broken CSV structure is reported and the
// reader moves on to the next row.
func (sr *SubjectReader) Next() (Subject, error) {
	rec, err := sr.csv.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return Subject{}, io.EOF
		}
		if errors.Is(err, errRowTooLong) {
			// Not a row error to move on from: the rest of the file is
			// one unterminated field, and reading on would hold it all.
			return Subject{}, fmt.Errorf("%s:%d: %s", sr.file, sr.line+1, rowTooLong)
		}
		sr.limit.next()
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return Subject{}, &Errors{List: []RowError{{sr.file, pe.StartLine, "", csvReason(err)}}}
		}
		return Subject{}, fmt.Errorf("%s: %w", sr.file, err)
	}
	sr.limit.next()
	line, _ := sr.csv.FieldPos(0)
	sr.line, _ = sr.csv.FieldPos(len(rec) - 1)
	var errs []RowError
	bad := func(field, reason string) { errs = append(errs, RowError{sr.file, line, field, reason}) }
	cell := func(pos int, name string) string {
		if pos < 0 {
			return ""
		}
		v := strings.TrimSpace(rec[pos])
		if !utf8.ValidString(v) {
			bad(name, "invalid UTF-8: save the file as UTF-8")
			return ""
		}
		return v
	}
	get := func(c int) string { return cell(sr.col[c], subjectColumns[c]) }
	s := Subject{ID: get(colID), Name: get(colName), Locale: get(colLocale), Region: strings.ToUpper(get(colRegion)), Line: line}
	if s.ID == "" {
		bad("subject_id", "required")
	}
	for i, c := range Contacts {
		sr.cells = sr.cells[:0]
		for j, pos := range sr.contactCol[i] {
			sr.cells = append(sr.cells, cell(pos, c.Columns[j]))
		}
		s.Contacts[i] = c.check(sr.cells, bad)
	}
	switch v := strings.ToLower(cell(sr.consentCol, consentColumn)); v {
	case "", ConsentYes, ConsentNo:
		s.Consent = v
	default:
		bad(consentColumn, fmt.Sprintf("%q: yes, no, or empty (not asked)", v))
	}
	if s.Locale != "" && !ValidLocale(s.Locale) {
		bad("locale", fmt.Sprintf("%q is not a BCP 47 language tag", s.Locale))
	}
	if s.Region == "" {
		bad("region", "required")
	} else if !ValidRegion(s.Region) {
		bad("region", fmt.Sprintf("%q is not an ISO 3166-1 or 3166-2 region code", s.Region))
	}
	if by := get(colBirthYear); by != "" {
		y, err := strconv.Atoi(by)
		if err != nil || y < 1880 || y > 2100 {
			bad("birth_year", fmt.Sprintf("%q is not a four-digit year", by))
		}
		s.BirthYear = y
	}
	systems := get(colSystems)
	if set, ok := sr.sets[systems]; ok {
		s.Systems, s.SystemsKey = set.list, set.key
	} else {
		var list []string
		known := true
		for _, id := range strings.Split(systems, ";") {
			id = strings.TrimSpace(id)
			if id == "" {
				continue
			}
			if !sr.systems[id] {
				bad("systems", fmt.Sprintf("unknown system %q (not in systems.yaml)", id))
				known = false
			}
			list = append(list, id)
		}
		if len(list) == 0 {
			bad("systems", "at least one system ID is required")
		} else if known {
			slices.Sort(list)
			list = slices.Compact(list)
			set := systemSet{list: list, key: strings.Join(list, ";")}
			if len(sr.sets) < maxCachedSets {
				sr.sets[systems] = set
			}
			s.Systems, s.SystemsKey = set.list, set.key
		}
	}
	if len(errs) > 0 {
		return Subject{}, &Errors{List: errs}
	}
	return s, nil
}

func csvReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		switch {
		case errors.Is(pe.Err, csv.ErrFieldCount):
			return "wrong number of columns"
		case errors.Is(pe.Err, csv.ErrQuote), errors.Is(pe.Err, csv.ErrBareQuote):
			return "broken quotes: a quoted field must end with a quote, and quotes inside it are doubled"
		}
		return pe.Err.Error()
	}
	return err.Error()
}

// HasContact reports whether any channel could reach the subject.
func (s Subject) HasContact() bool { return s.Reach() != 0 }

// ValidE164 reports whether p is +, a non-zero digit, then 1 to 14 digits.
func ValidE164(p string) bool {
	if len(p) < 3 || len(p) > 16 || p[0] != '+' || p[1] < '1' || p[1] > '9' {
		return false
	}
	for i := 2; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}

// ValidLocale reports whether l looks like a BCP 47 tag: a 2-3 letter
// language, then subtags of 2-8 letters or digits.
func ValidLocale(l string) bool {
	for i, sub := range strings.Split(l, "-") {
		if i == 0 && (len(sub) < 2 || len(sub) > 3) || i > 0 && (len(sub) < 2 || len(sub) > 8) {
			return false
		}
		for _, c := range []byte(sub) {
			letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
			if !letter && (i == 0 || c < '0' || c > '9') {
				return false
			}
		}
	}
	return true
}

// ValidEmail accepts a bare address whose domain has a dot. The common shape
// (dot-atom local part, hostname labels) is checked by hand, because this
// runs once per row of a ten-million-row import; anything else goes to
// net/mail, which decides as before.
func ValidEmail(e string) bool {
	at := strings.LastIndexByte(e, '@')
	if at <= 0 || !strings.Contains(e[at+1:], ".") {
		return false
	}
	if simpleLocal(e[:at]) && simpleDomain(e[at+1:]) {
		return true
	}
	a, err := mail.ParseAddress(e)
	return err == nil && a.Address == e
}

func simpleLocal(s string) bool {
	prevDot := true
	for _, c := range []byte(s) {
		switch {
		case c == '.':
			if prevDot {
				return false
			}
			prevDot = true
			continue
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0:
		default:
			return false
		}
		prevDot = false
	}
	return !prevDot
}

func simpleDomain(s string) bool {
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// MaxRowBytes bounds one row of subjects.csv. A real row is a few hundred
// bytes; a quote that is never closed makes the rest of the file one
// field, which encoding/csv would hold in memory whole before finding it.
const MaxRowBytes = 1 << 20

const rowTooLong = "this row runs past 1 MiB without ending: a quote (\") opened in it is probably never closed"

var errRowTooLong = errors.New("row too long")

// rowLimit fails a read once one row has taken MaxRowBytes from the file.
// It counts what the buffer under the CSV reader takes from the file, up
// to 64 KiB ahead of the row, which a limit of a MiB does not notice.
type rowLimit struct {
	r        io.Reader
	n, limit int
}

func (l *rowLimit) Read(p []byte) (int, error) {
	if l.n >= l.limit {
		return 0, errRowTooLong
	}
	if len(p) > l.limit-l.n {
		p = p[:l.limit-l.n]
	}
	n, err := l.r.Read(p)
	l.n += n
	return n, err
}

// next starts the count for the next row.
func (l *rowLimit) next() { l.n = 0 }
