package inventory

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzSubjectsCSV reads a subjects file an outsider wrote: whatever the
// bytes, the reader ends (no panic, no endless loop) and every refusal names
// the file and a line.
func FuzzSubjectsCSV(f *testing.F) {
	f.Add([]byte("subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems\nu1,A,a@example.com,+6591234567,acct-1,en,SG,1980,crm\n"))
	f.Add([]byte("subject_id;name;email\nu1;A;a@example.com\n"))
	f.Add([]byte("subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems\nu1,\"A,a@example.com,,,en,SG,,crm\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewSubjectReader("subjects.csv", bytes.NewReader(data), map[string]bool{"crm": true})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "subjects.csv") {
				t.Fatalf("a refused header must name the file: %v", err)
			}
			return
		}
		for rows := 0; rows <= len(data)+1; rows++ {
			sub, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			var rowErrs *Errors
			if errors.As(err, &rowErrs) {
				for _, e := range rowErrs.List {
					if e.File != "subjects.csv" || e.Line < 2 {
						t.Fatalf("a bad row must name the file and its line: %+v", e)
					}
				}
				continue
			}
			if err != nil {
				return // an I/O-level error ends the file
			}
			if sub.ID == "" {
				t.Fatalf("an accepted row without a subject ID: %+v", sub)
			}
		}
		t.Fatal("the reader did not end")
	})
}

// FuzzSystemsYAML: a systems file either parses into systems with IDs or is
// refused with the file's name.
func FuzzSystemsYAML(f *testing.F) {
	f.Add([]byte("systems:\n  - id: crm\n    name: CRM\n    location: SG\n    categories: [contact.email]\n"))
	f.Add([]byte("systems:\n  - id: a\n  - id: a\n"))
	f.Add([]byte("{systems: [{id: x, categories: [y]}]}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		systems, err := ParseSystems("systems.yaml", bytes.NewReader(data))
		if err != nil {
			if !strings.Contains(err.Error(), "systems.yaml") {
				t.Fatalf("a refusal must name the file: %v", err)
			}
			return
		}
		for _, s := range systems {
			if s.ID == "" {
				t.Fatalf("a system without an ID was accepted: %+v", s)
			}
		}
	})
}
