// Package csvout writes CSV that is safe to open in a spreadsheet. Names,
// subject IDs, comments and provider errors come from end users and
// outsiders; a cell that starts with = + - @, a tab or a carriage return is
// run as a formula by Excel, LibreOffice and Google Sheets (CSV injection),
// so such a cell is written with a leading apostrophe, which spreadsheets
// show as text. JSON outputs keep the raw values.
package csvout

import (
	"encoding/csv"
	"io"
)

// Writer is encoding/csv's writer with every cell escaped.
type Writer struct {
	w   *csv.Writer
	buf []string
}

// NewWriter writes to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: csv.NewWriter(w)} }

// Cell escapes one value.
func Cell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// Write writes one record.
func (w *Writer) Write(record []string) error {
	w.buf = w.buf[:0]
	for _, c := range record {
		w.buf = append(w.buf, Cell(c))
	}
	return w.w.Write(w.buf)
}

// WriteAll writes the records and flushes.
func (w *Writer) WriteAll(records [][]string) error {
	for _, r := range records {
		if err := w.Write(r); err != nil {
			return err
		}
	}
	w.w.Flush()
	return w.w.Error()
}

// Flush writes what is buffered.
func (w *Writer) Flush() { w.w.Flush() }

// Error is the first error of a Write or Flush.
func (w *Writer) Error() error { return w.w.Error() }
