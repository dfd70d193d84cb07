package main

import (
	"context"
	"encoding/json"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tocsin/tocsin/internal/app"
	"github.com/tocsin/tocsin/internal/devtools/devpeers"
)

// runRoot executes the whole CLI with args and returns what it printed;
// each run has global flags of its own.
func runRoot(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return runCommand(t, rootCmd(), args...)
}

// `tocsin outbox --peers` lists what a standalone `tocsin peers` received,
// in the JSON the dev outbox gives, and only with the token from peers.env.
func TestOutboxListsWhatStandalonePeersReceived(t *testing.T) {
	p, err := app.StartPeers(context.Background(), app.PeersConfig{DataDir: t.TempDir(), Listen: "127.0.0.1:0", SMTPListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	for _, e := range []devpeers.Entry{{IncidentID: "INC-1", SubjectID: "s1", Channel: "sms", To: "+15005550006", Body: "notice", Status: "delivered", Ref: "SM1"},
		{IncidentID: "INC-2", SubjectID: "s2", Channel: "email", To: "b@example.com", Body: "other", Status: "accepted"}} {
		if err := p.Outbox.Add(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("TOCSIN_PEERS_TOKEN", p.Env["TOCSIN_PEERS_TOKEN"])
	out, err := runRoot(t, "outbox", "--peers", p.URL, "--incident", "INC-1", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var entries []devpeers.Entry
	if err := json.Unmarshal([]byte(out), &entries); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(entries) != 1 || entries[0].SubjectID != "s1" || entries[0].Channel != "sms" || entries[0].Status != "delivered" {
		t.Fatalf("want INC-1's one SMS, got %+v", entries)
	}
	table, err := runRoot(t, "outbox", "--peers", p.URL)
	if err != nil || !strings.Contains(table, "INC-2") || !strings.Contains(table, "b@example.com") {
		t.Fatalf("the table lists every incident: %q %v", table, err)
	}
	t.Setenv("TOCSIN_PEERS_TOKEN", "tcn_wrong")
	if _, err := runRoot(t, "outbox", "--peers", p.URL); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("a wrong token is refused: %v", err)
	}
	t.Setenv("TOCSIN_PEERS_TOKEN", "")
	if _, err := runRoot(t, "outbox", "--peers", p.URL); err == nil || !strings.Contains(err.Error(), "TOCSIN_PEERS_TOKEN") {
		t.Fatalf("no token says which variable to set: %v", err)
	}
}

// A log format nobody can read is refused before anything starts.
func TestAnUnknownLogFormatIsRefused(t *testing.T) {
	_, err := runRoot(t, "--log-format", "yaml", "peers", "--data", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), `--log-format "yaml": use text or json`) {
		t.Fatalf("want the flag named: %v", err)
	}
}

// --env-file reads a peers.env where no shell can source it (a distroless
// container), and names the line it cannot read.
func TestAnEnvFileIsReadAsSourcingWouldAndABadLineNamed(t *testing.T) {
	p, err := app.StartPeers(context.Background(), app.PeersConfig{DataDir: t.TempDir(), Listen: "127.0.0.1:0", SMTPListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	t.Setenv("TOCSIN_PEERS_TOKEN", "")
	dir := t.TempDir()
	good := dir + "/peers.env"
	if err := os.WriteFile(good, []byte("# from tocsin peers\nTOCSIN_PEERS_TOKEN="+p.Env["TOCSIN_PEERS_TOKEN"]+"\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runRoot(t, "--env-file", good, "outbox", "--peers", p.URL); err != nil {
		t.Fatalf("the token came from the file: %v", err)
	}
	bad := dir + "/bad.env"
	os.WriteFile(bad, []byte("A=1\nexport B\n"), 0o600)
	if _, err := runRoot(t, "--env-file", bad, "outbox", "--peers", p.URL); err == nil || !strings.Contains(err.Error(), "bad.env:2: want NAME=value") {
		t.Fatalf("want the line named: %v", err)
	}
}

// The CLI speaks the API's contract, never the workflow's types: a change
// inside the workflow must not change what a script reads.
func TestTheCLIDoesNotImportTheWorkflows(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			if path := strings.Trim(imp.Path.Value, `"`); path == "github.com/tocsin/tocsin/workflows" || path == "github.com/tocsin/tocsin/activities" {
				t.Errorf("%s imports %s", f, path)
			}
		}
	}
}
