// Package evidence writes and checks an incident's evidence bundle: a folder
// of JSON, CSV and rendered drafts with a manifest of SHA-256 hashes, so a
// regulator (or our own lawyers, years later) can tell whether any byte of
// it changed since it was exported.
package evidence

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tocsin/tocsin/internal/store"
)

// Manifest names every file of a bundle with its hash.
type Manifest struct {
	Incident   string    `json:"incident"`
	ExportedAt time.Time `json:"exported_at"`
	ExportedBy string    `json:"exported_by,omitempty"`
	Server     string    `json:"server,omitempty"`
	// AuditHead is the hash of the incident's last audit entry at export:
	// compare it with the live log to show nothing was dropped from the end.
	AuditHead string `json:"audit_head"`
	Files     []File `json:"files"`
}

// File is one file of the bundle.
type File struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}

// The bundle's fixed names.
const (
	ManifestFile = "manifest.json"
	// ManifestHashFile holds the manifest's own hash, so the manifest cannot
	// be edited to match a changed file without that showing too.
	ManifestHashFile = "manifest.sha256"
	AuditFile        = "audit.jsonl"
)

// Writer writes a bundle into an empty directory, hashing as it writes.
type Writer struct {
	dir      string
	manifest Manifest
}

// Create starts a bundle in dir, which must not exist or be empty: an export
// never mixes with an older one.
func Create(dir string, m Manifest) (*Writer, error) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%s is not empty: export into a new directory", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	m.Files = nil
	return &Writer{dir: dir, manifest: m}, nil
}

// Write adds one file, written by fill.
func (w *Writer) Write(path string, fill func(io.Writer) error) error {
	path = filepath.ToSlash(filepath.Clean(path))
	if path == ManifestFile || path == ManifestHashFile || strings.HasPrefix(path, "../") {
		return fmt.Errorf("bundle file name %q is not allowed", path)
	}
	full := filepath.Join(w.dir, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(full, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	h := sha256.New()
	cw := &counter{w: io.MultiWriter(f, h)}
	buf := bufio.NewWriterSize(cw, 1<<16)
	err = fill(buf)
	if err == nil {
		err = buf.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	w.manifest.Files = append(w.manifest.Files, File{Path: path, SHA256: hex.EncodeToString(h.Sum(nil)), Bytes: cw.n})
	return nil
}

// WriteJSON adds a JSON file.
func (w *Writer) WriteJSON(path string, v any) error {
	return w.Write(path, func(out io.Writer) error {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
}

// Close writes the manifest and its hash.
func (w *Writer) Close(auditHead string) error {
	w.manifest.AuditHead = auditHead
	slices.SortFunc(w.manifest.Files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	data, err := json.MarshalIndent(w.manifest, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if err := os.WriteFile(filepath.Join(w.dir, ManifestFile), data, 0o600); err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	return os.WriteFile(filepath.Join(w.dir, ManifestHashFile), []byte(hex.EncodeToString(sum[:])+"  "+ManifestFile+"\n"), 0o600)
}

type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Report is what Verify checked.
type Report struct {
	Manifest Manifest
	Files    int
	Audit    int
}

// Verify checks a bundle: the manifest against its hash, every file against
// the manifest, no file missing or added, and the audit log's hash chain
// from its first entry to the head the manifest recorded. The error names
// the first file that fails.
func Verify(dir string) (Report, error) {
	var rep Report
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return rep, fmt.Errorf("%s: %w", ManifestFile, err)
	}
	want, err := os.ReadFile(filepath.Join(dir, ManifestHashFile))
	if err != nil {
		return rep, fmt.Errorf("%s: %w", ManifestHashFile, err)
	}
	sum := sha256.Sum256(data)
	if fields := strings.Fields(string(want)); len(fields) == 0 || fields[0] != hex.EncodeToString(sum[:]) {
		return rep, fmt.Errorf("%s: changed since export (its hash is not the one in %s)", ManifestFile, ManifestHashFile)
	}
	if err := json.Unmarshal(data, &rep.Manifest); err != nil {
		return rep, fmt.Errorf("%s: %w", ManifestFile, err)
	}
	listed := map[string]bool{ManifestFile: true, ManifestHashFile: true}
	for _, f := range rep.Manifest.Files {
		listed[f.Path] = true
		got, n, err := hashFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			return rep, fmt.Errorf("%s: listed in the manifest but %w", f.Path, err)
		}
		if got != f.SHA256 || n != f.Bytes {
			return rep, fmt.Errorf("%s: changed since export (sha256 %s, %d bytes; the manifest says %s, %d bytes)", f.Path, got[:12], n, f.SHA256[:12], f.Bytes)
		}
		rep.Files++
	}
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if !listed[filepath.ToSlash(rel)] {
			return fmt.Errorf("%s: not in the manifest (added after export)", filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	if listed[AuditFile] {
		entries, err := readAudit(filepath.Join(dir, AuditFile))
		if err != nil {
			return rep, err
		}
		if err := store.VerifyAuditChain(entries); err != nil {
			return rep, fmt.Errorf("%s: %w", AuditFile, err)
		}
		head := ""
		if len(entries) > 0 {
			head = entries[len(entries)-1].Hash
		}
		if head != rep.Manifest.AuditHead {
			return rep, fmt.Errorf("%s: ends at %.12s but the manifest recorded %.12s", AuditFile, head, rep.Manifest.AuditHead)
		}
		rep.Audit = len(entries)
	}
	return rep, nil
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", 0, errors.New("is missing")
		}
		return "", 0, err
	}
	defer f.Close()
	var h hash.Hash = sha256.New()
	n, err := io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

func readAudit(path string) ([]store.AuditEntry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []store.AuditEntry
	for i, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var e store.AuditEntry
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", AuditFile, i+1, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// WriteAudit writes audit entries as JSON lines.
func WriteAudit(out io.Writer, entries []store.AuditEntry) error {
	enc := json.NewEncoder(out)
	for _, e := range entries {
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	return nil
}
