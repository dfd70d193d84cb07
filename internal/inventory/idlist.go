package inventory

import (
	"bufio"
	"io"
	"strings"
	"unicode/utf8"
)

// IDList reads a list of subject IDs, as forensics and print vendors hand
// them over: one per line, or a CSV whose header has a subject_id column.
// Blank lines and # comments are skipped, and a byte-order mark dropped.
type IDList struct {
	sc     *bufio.Scanner
	line   int
	column int
}

// NewIDList reads IDs from r; a line may be up to 1 MiB.
func NewIDList(r io.Reader) *IDList {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	return &IDList{sc: sc}
}

// Next is the next line's ID and its line number, or, for a line that
// holds none it can read, why not (and an empty ID). ok is false at the
// end; Err then says whether the file could not be read.
func (l *IDList) Next() (id string, line int, reason string, ok bool) {
	for l.sc.Scan() {
		l.line++
		text := strings.TrimSpace(strings.TrimPrefix(l.sc.Text(), "\ufeff"))
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if l.line == 1 && strings.Contains(strings.ToLower(text), "subject_id") {
			for i, h := range strings.Split(text, ",") {
				if strings.TrimSpace(strings.ToLower(h)) == "subject_id" {
					l.column = i
				}
			}
			continue
		}
		fields := strings.Split(text, ",")
		if l.column >= len(fields) {
			return "", l.line, "no subject_id column on this line", true
		}
		id := strings.Trim(strings.TrimSpace(fields[l.column]), `"`)
		switch {
		case !utf8.ValidString(id):
			return "", l.line, "invalid UTF-8: save the file as UTF-8", true
		case id == "":
			return "", l.line, "no subject ID", true
		}
		return id, l.line, "", true
	}
	return "", l.line, "", false
}

// Err is why reading stopped early, if it did.
func (l *IDList) Err() error { return l.sc.Err() }
