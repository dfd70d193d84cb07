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
		requireNamesFile(t, &errs, "law/xx.yaml")
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
		requireNamesFile(t, &errs, "mine.yaml")
	})
}

// requireNamesFile fails unless every problem found names file.
func requireNamesFile(t *testing.T, errs *lintErrors, file string) {
	t.Helper()
	for _, e := range errs.list {
		if e.file != file {
			t.Fatalf("a problem must name the file: %+v", e)
		}
	}
}
