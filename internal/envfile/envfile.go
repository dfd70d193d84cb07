// Package envfile reads NAME=value files: the operator's --env-file and the
// secrets `tocsin dev` keeps in its data directory. One reader, so both
// accept the same lines and refuse the same mistakes.
package envfile

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
)

// Read parses the file at path: one NAME=value a line, blank lines and
// # comments skipped, the value taken as written (no quotes removed). A
// line of another shape is refused with the file and line. A missing file
// is an error that errors.Is(err, os.ErrNotExist) recognises.
func Read(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, string(data))
}

// Parse reads the lines of data, naming file in its errors.
func Parse(file, data string) (map[string]string, error) {
	out := map[string]string{}
	for i, line := range strings.Split(data, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("%s:%d: want NAME=value", file, i+1)
		}
		out[k] = v
	}
	return out, nil
}

// Write writes env as NAME=value lines, sorted by name, readable only by
// their owner (they carry credentials).
func Write(path string, env map[string]string) error {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(env)) {
		fmt.Fprintf(&b, "%s=%s\n", k, env[k])
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}
