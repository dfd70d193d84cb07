package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// runToken executes the token command with args and returns what it printed.
func runToken(t *testing.T, args ...string) (string, error) {
	return runCommand(t, (&cli{}).tokenCmd(), args...)
}

// runCommand executes cmd with args and returns what it printed.
func runCommand(t *testing.T, cmd *cobra.Command, args ...string) (string, error) {
	t.Helper()
	r, w, _ := os.Pipe()
	stdout := os.Stdout
	os.Stdout = w
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err := cmd.Execute()
	w.Close()
	os.Stdout = stdout
	var out bytes.Buffer
	io.Copy(&out, r)
	return out.String(), err
}

// An admin creates a token that expires, lists tokens without seeing them,
// and revokes one by the ID the list shows.
func TestTokenCreateListRevoke(t *testing.T) {
	db := filepath.Join(t.TempDir(), "tocsin.db")
	tok, err := runToken(t, "--database", db, "--identity", "Counsel@Example.com", "--role", "legal", "--expires", "720h")
	if err != nil || !strings.HasPrefix(tok, "tcn_") {
		t.Fatalf("create: %q %v", tok, err)
	}
	list, err := runToken(t, "list", "--database", db)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(list, strings.TrimSpace(tok)) || !strings.Contains(list, "counsel@example.com") || !strings.Contains(list, "legal") || strings.Contains(list, "never") {
		t.Fatalf("the list shows owner, role and expiry, never the token:\n%s", list)
	}
	id := strings.Fields(strings.Split(list, "\n")[1])[0]
	out, err := runToken(t, "revoke", id, "--database", db)
	if err != nil || !strings.Contains(out, "revoked token "+id+" of counsel@example.com") {
		t.Fatalf("revoke: %q %v", out, err)
	}
	if list, _ = runToken(t, "list", "--database", db); strings.Contains(list, "counsel@") {
		t.Fatalf("a revoked token is gone:\n%s", list)
	}
	if _, err = runToken(t, "--database", db, "--identity", "x@example.com", "--role", "judge"); err == nil || !strings.Contains(err.Error(), `--role "judge"`) {
		t.Fatalf("a bad role must be named: %v", err)
	}
}
