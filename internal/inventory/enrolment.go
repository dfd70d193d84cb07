package inventory

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// EnrolmentCode is one person's code for a remedy the incident offers
// (credit monitoring, identity protection), and the day it must be used by.
type EnrolmentCode struct {
	SubjectID string `json:"subject_id"`
	Code      string `json:"code"`
	// EnrolBy is the last day to enrol (YYYY-MM-DD), or empty.
	EnrolBy string `json:"enrol_by,omitempty"`
}

// MaxEnrolmentCodeLen bounds a code: vendors' codes are short, and each
// lands in a notice.
const MaxEnrolmentCodeLen = 64

// Check says what is wrong with a code, naming the field ("" when fine).
func (c EnrolmentCode) Check() string {
	switch {
	case strings.TrimSpace(c.SubjectID) == "":
		return "subject_id: empty"
	case c.Code == "":
		return "code: empty"
	case len(c.Code) > MaxEnrolmentCodeLen:
		return fmt.Sprintf("code: %d bytes; at most %d", len(c.Code), MaxEnrolmentCodeLen)
	case !utf8.ValidString(c.Code) || strings.IndexFunc(c.Code, func(r rune) bool { return !unicode.IsPrint(r) || r == '[' || r == ']' }) >= 0:
		return "code: letters, digits and punctuation only (no control characters or brackets)"
	}
	if c.EnrolBy != "" {
		if _, err := time.Parse(time.DateOnly, c.EnrolBy); err != nil {
			return fmt.Sprintf("enrol_by: %q is not a date as YYYY-MM-DD", c.EnrolBy)
		}
	}
	return ""
}

// ReadEnrolmentCodes reads a vendor's file of codes: a CSV with a header
// naming subject_id, code and (optionally) enrol_by. Every bad row is
// named with its line and field; nothing is returned unless all are good.
func ReadEnrolmentCodes(file string, r io.Reader) ([]EnrolmentCode, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s:1: want a header naming subject_id, code and enrol_by: %v", file, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, need := range []string{"subject_id", "code"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("%s:1: the header has no %s column (want subject_id, code, enrol_by)", file, need)
		}
	}
	field := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var out []EnrolmentCode
	var errs []error
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", file, err)
		}
		c := EnrolmentCode{SubjectID: field(rec, "subject_id"), Code: field(rec, "code"), EnrolBy: field(rec, "enrol_by")}
		if why := c.Check(); why != "" {
			errs = append(errs, fmt.Errorf("%s:%d: %s", file, line, why))
		} else if prev, dup := seen[c.SubjectID]; dup {
			errs = append(errs, fmt.Errorf("%s:%d: subject_id: %s already has a code at line %d", file, line, c.SubjectID, prev))
		} else {
			seen[c.SubjectID] = line
			out = append(out, c)
		}
		if len(errs) >= 20 {
			errs = append(errs, errors.New("(stopped after 20 errors)"))
			break
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}
