package playbooks

import (
	"strings"
	"testing"
)

// FuzzLawFile: a law file a user drops under playbooks/law either lints
// clean or every problem names the file and a line; nothing panics.
func FuzzLawFile(f *testing.F) {
	for _, name := range []string{"law/sg.yaml", "law/br.yaml", "law/us-hipaa.yaml"} {
		data, err := Embedded(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("jurisdiction: XX\nzone: Mars/Olympus\nholidays: [2026-13-01]\nobligations: [{name: a, due: 3bd-after-year}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var errs lintErrors
		parseLaw("law/xx.yaml", data, &errs)
		for _, e := range errs.list {
			if e.file != "law/xx.yaml" {
				t.Fatalf("a problem must name the file: %+v", e)
			}
		}
		if err := errs.err(); err != nil && !strings.HasPrefix(err.Error(), "law/xx.yaml") {
			t.Fatalf("lint output must start with the file: %v", err)
		}
	})
}

// FuzzPlaybookFile: the same for the playbook itself.
func FuzzPlaybookFile(f *testing.F) {
	data, err := Embedded("default.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte("name: x\nladder: [[email, fax]]\nquiet_hours: \"25:00-08:00\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var errs lintErrors
		parsePlaybook("mine.yaml", data, &errs)
		for _, e := range errs.list {
			if e.file != "mine.yaml" {
				t.Fatalf("a problem must name the file: %+v", e)
			}
		}
	})
}
