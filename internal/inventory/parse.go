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
	ID        string
	Name      string
	Email     string
	Phone     string
	OnsiteID  string
	Locale    string
	Region    string
	BirthYear int
	Systems   []string
	Line      int
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
	e164Pattern     = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	localePattern   = regexp.MustCompile(`^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$`)
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

// SubjectReader streams subjects.csv row by row, so an import of any size
// runs in constant memory. It checks each row on its own; duplicate IDs across
// rows are the store's to find (a map of ten million IDs would not fit).
type SubjectReader struct {
	file    string
	csv     *csv.Reader
	col     map[string]int
	systems map[string]bool
}

// NewSubjectReader checks the header and prepares to read rows. systems holds
// the IDs a row may name.
func NewSubjectReader(file string, r io.Reader, systems map[string]bool) (*SubjectReader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, utf8BOM) {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	header, err := cr.Read()
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
	var missing []string
	for _, c := range subjectColumns {
		if _, ok := col[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s:1: header: missing column(s) %s", file, strings.Join(missing, ", "))
	}
	cr.FieldsPerRecord = len(header)
	return &SubjectReader{file: file, csv: cr, col: col, systems: systems}, nil
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
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return Subject{}, &Errors{List: []RowError{{sr.file, pe.StartLine, "", csvReason(err)}}}
		}
		return Subject{}, fmt.Errorf("%s: %w", sr.file, err)
	}
	line, _ := sr.csv.FieldPos(0)
	var errs []RowError
	bad := func(field, reason string) { errs = append(errs, RowError{sr.file, line, field, reason}) }
	get := func(name string) string {
		v := strings.TrimSpace(rec[sr.col[name]])
		if !utf8.ValidString(v) {
			bad(name, "invalid UTF-8: save the file as UTF-8")
			return ""
		}
		return v
	}
	s := Subject{
		ID: get("subject_id"), Name: get("name"), Email: get("email"), Phone: get("phone"),
		OnsiteID: get("onsite_id"), Locale: get("locale"), Region: strings.ToUpper(get("region")), Line: line,
	}
	if s.ID == "" {
		bad("subject_id", "required")
	}
	if s.Email != "" {
		if a, err := mail.ParseAddress(s.Email); err != nil || a.Address != s.Email || !strings.Contains(s.Email[strings.LastIndex(s.Email, "@")+1:], ".") {
			bad("email", fmt.Sprintf("%q is not a valid email address", s.Email))
		}
	}
	if s.Phone != "" && !e164Pattern.MatchString(s.Phone) {
		bad("phone", fmt.Sprintf("%q is not an E.164 number (+ then country code and number, no spaces)", s.Phone))
	}
	if s.Locale != "" && !localePattern.MatchString(s.Locale) {
		bad("locale", fmt.Sprintf("%q is not a BCP 47 language tag", s.Locale))
	}
	if s.Region == "" {
		bad("region", "required")
	} else if !ValidRegion(s.Region) {
		bad("region", fmt.Sprintf("%q is not an ISO 3166-1 or 3166-2 region code", s.Region))
	}
	if by := get("birth_year"); by != "" {
		y, err := strconv.Atoi(by)
		if err != nil || y < 1880 || y > 2100 {
			bad("birth_year", fmt.Sprintf("%q is not a four-digit year", by))
		}
		s.BirthYear = y
	}
	for _, id := range strings.Split(get("systems"), ";") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if !sr.systems[id] {
			bad("systems", fmt.Sprintf("unknown system %q (not in systems.yaml)", id))
		}
		s.Systems = append(s.Systems, id)
	}
	if len(s.Systems) == 0 {
		bad("systems", "at least one system ID is required")
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

// HasContact reports which channels a subject could be reached on.
func (s Subject) HasContact() bool { return s.Email != "" || s.Phone != "" || s.OnsiteID != "" }
