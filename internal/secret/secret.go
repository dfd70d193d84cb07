// Package secret keeps credentials from being printed: a Secret formats,
// logs and marshals as "[redacted]", and only Reveal gives its value, at
// the one place a provider client is built. Each comes from an
// environment variable, or from the file its NAME_FILE variable names
// (Kubernetes and Docker mount secrets as files).
package secret

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
)

// Secret is a credential.
type Secret struct{ v string }

// New wraps a value (tests, and values read elsewhere).
func New(v string) Secret { return Secret{v} }

// Reveal is the value, for the client that sends it.
func (s Secret) Reveal() string { return s.v }

// Set says whether there is a value.
func (s Secret) Set() bool { return s.v != "" }

const redacted = "[redacted]"

func (s Secret) String() string   { return s.mask() }
func (s Secret) GoString() string { return s.mask() }

// LogValue keeps a secret out of structured logs.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.mask()) }

// MarshalText keeps it out of JSON and YAML.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.mask()), nil }

// Format covers every verb, %x and %q included.
func (s Secret) Format(f fmt.State, _ rune) { fmt.Fprint(f, s.mask()) }

func (s Secret) mask() string {
	if s.v == "" {
		return ""
	}
	return redacted
}

// maxFile bounds a secret file: a key, a token or a URL, never megabytes.
const maxFile = 64 << 10

// FromEnv reads name from the environment, or the file name_FILE names
// (one trailing newline dropped, as editors and `kubectl create secret`
// leave one). Both set is an error: which one wins would be a guess.
func FromEnv(name string) (Secret, error) {
	v := os.Getenv(name)
	path := os.Getenv(name + "_FILE")
	if path == "" {
		return Secret{v}, nil
	}
	if v != "" {
		return Secret{}, fmt.Errorf("%s and %s_FILE are both set: keep the secret in one place", name, name)
	}
	info, err := os.Stat(path)
	if err == nil && info.Size() > maxFile {
		err = fmt.Errorf("%d bytes is more than a secret (at most %d)", info.Size(), maxFile)
	}
	var data []byte
	if err == nil {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = fs.ErrNotExist
		}
		return Secret{}, fmt.Errorf("%s_FILE %s: %w", name, path, err)
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
	if s == "" {
		return Secret{}, fmt.Errorf("%s_FILE %s is empty", name, path)
	}
	return Secret{s}, nil
}
