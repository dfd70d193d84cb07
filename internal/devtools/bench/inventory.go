// Package bench measures Tocsin's inventory import and scoping on each store
// backend beside the database's own bulk tools, in the same run on the same
// files: sqlite3's .import and CREATE TABLE ... AS SELECT, psql's \copy.
package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/inventory/synth"
	"github.com/tocsin/tocsin/internal/store"
)

// Config says what to measure.
type Config struct {
	Dir         string   // where the generated files and SQLite databases go
	Subjects    int      // rows of subjects.csv
	Backends    []string // "sqlite", "postgres"
	PostgresDSN string   // needed for "postgres"
	Baselines   bool     // also run the database tools
	Shuffled    bool     // people in no order of their IDs (synth.Options.Shuffled)
	Log         io.Writer
}

// Result is one backend's figures.
type Result struct {
	Backend        string  `json:"backend"`
	Subjects       int     `json:"subjects"`
	ImportSeconds  float64 `json:"import_seconds"`
	ImportRowsPerS float64 `json:"import_rows_per_s"`
	ImportPeakMB   float64 `json:"import_peak_rss_mb"`
	// ImportLongestWait is the longest a small read of the store, made
	// every 10 ms during the import, waited: what a running campaign, the
	// console or a provider's receipt waits while an inventory loads.
	ImportLongestWait float64 `json:"import_longest_wait_s"`
	// RestMB is the process's resident set before the import: the binary
	// (with the Temporal server linked in) and its start-up heap.
	RestMB       float64 `json:"rss_at_rest_mb"`
	Scoped       int     `json:"scoped"`
	ScopeSeconds float64 `json:"scope_seconds"`
	ScopePeakMB  float64 `json:"scope_peak_rss_mb"`
	// The database's own tools on the same file.
	ToolImportSeconds  float64 `json:"tool_import_seconds,omitempty"`
	ToolImportRowsPerS float64 `json:"tool_import_rows_per_s,omitempty"`
	ToolScopeSeconds   float64 `json:"tool_scope_seconds,omitempty"`
	// ToolIndexSeconds is the tool building, on its loaded table, the two
	// indexes an import builds (subject IDs, unique; on-site accounts),
	// with the store's settings: the loader doing the import's whole job.
	ToolIndexSeconds float64 `json:"tool_index_seconds,omitempty"`
	ToolScoped       int     `json:"tool_scoped,omitempty"`
}

// ImportRatio is the import's speed as a share of the database's own
// loader on the same file (the tool's time over ours); 0 without a
// baseline.
func (r Result) ImportRatio() float64 {
	if r.ToolImportSeconds == 0 || r.ImportSeconds == 0 {
		return 0
	}
	return r.ToolImportSeconds / r.ImportSeconds
}

// IndexedRatio is ImportRatio against the tool's load and its building
// of the same indexes; 0 without a baseline.
func (r Result) IndexedRatio() float64 {
	if r.ToolIndexSeconds == 0 || r.ImportSeconds == 0 {
		return 0
	}
	return (r.ToolImportSeconds + r.ToolIndexSeconds) / r.ImportSeconds
}

// Inventory generates (or reuses) a synthetic inventory and measures each backend.
func Inventory(ctx context.Context, c Config) ([]Result, error) {
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, err
	}
	systems := filepath.Join(c.Dir, "systems.yaml")
	if err := os.WriteFile(systems, []byte(synth.Systems), 0o644); err != nil {
		return nil, err
	}
	subjects, err := synthFile(c.Dir, "subjects", synth.Options{Subjects: c.Subjects, ScopeShare: 0.3, Seed: 1, Shuffled: c.Shuffled}, c.logf)
	if err != nil {
		return nil, err
	}
	return eachBackend(c.Backends, func(b string) (Result, error) { return c.measure(ctx, b, systems, subjects) })
}

func (c Config) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format+"\n", args...)
	}
}

func (c Config) measure(ctx context.Context, backend, systems, subjects string) (Result, error) {
	r := Result{Backend: backend, Subjects: c.Subjects}
	var dsn string
	var cleanup func()
	switch backend {
	case "sqlite":
		dsn = filepath.Join(c.Dir, "tocsin-bench.db")
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(dsn + suffix)
		}
		cleanup = func() {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(dsn + suffix)
			}
		}
	case "postgres":
		if c.PostgresDSN == "" {
			return r, fmt.Errorf("--postgres postgres://... is required")
		}
		schema := fmt.Sprintf("bench_%d", time.Now().UnixNano())
		if err := psql(c.PostgresDSN, "CREATE SCHEMA "+schema); err != nil {
			return r, err
		}
		cleanup = func() { psql(c.PostgresDSN, "DROP SCHEMA "+schema+" CASCADE") }
		var err error
		if dsn, err = store.InSchema(c.PostgresDSN, schema); err != nil {
			return r, err
		}
	default:
		return r, fmt.Errorf("unknown backend %q (sqlite, postgres)", backend)
	}
	defer cleanup()
	st, err := store.Open(dsn)
	if err != nil {
		return r, err
	}
	defer st.Close()

	sys, err := os.Open(systems)
	if err != nil {
		return r, err
	}
	defer sys.Close()
	sub, err := os.Open(subjects)
	if err != nil {
		return r, err
	}
	defer sub.Close()
	c.logf("%s: importing %d subjects", backend, c.Subjects)
	resetPeakRSS()
	r.RestMB = peakRSSMB()
	started := time.Now()
	longest := make(chan time.Duration)
	imported := make(chan struct{})
	go func() { longest <- longestWait(ctx, st, imported) }()
	res, err := st.ImportInventory(ctx, store.ImportInput{SystemsFile: "systems.yaml", Systems: sys, SubjectsFile: filepath.Base(subjects), Subjects: sub,
		ImportedBy: "bench", Progress: func(rows int64) {
			if rows%1_000_000 == 0 {
				c.logf("%s: %d rows, %.0f rows/s", backend, rows, float64(rows)/time.Since(started).Seconds())
			}
		}})
	close(imported)
	r.ImportLongestWait = (<-longest).Seconds()
	if err != nil {
		return r, err
	}
	r.ImportSeconds = time.Since(started).Seconds()
	r.ImportRowsPerS = float64(res.Subjects) / r.ImportSeconds
	r.ImportPeakMB = peakRSSMB()

	inc := store.Incident{ID: "INC-BENCH", Title: "bench", Spec: incident.Spec{Title: "bench"}, OpenedBy: "bench", OpenedAt: time.Now(), Snapshot: res.Snapshot}
	if err := st.CreateIncident(ctx, inc, nil); err != nil {
		return r, err
	}
	c.logf("%s: scoping incident on %s", backend, synth.LeakedSystem)
	resetPeakRSS()
	started = time.Now()
	sum, err := st.Scope(ctx, store.ScopeInput{IncidentID: inc.ID, Snapshot: res.Snapshot, Systems: []string{synth.LeakedSystem}, Year: 2026})
	if err != nil {
		return r, err
	}
	r.ScopeSeconds = time.Since(started).Seconds()
	r.Scoped = sum.Subjects
	r.ScopePeakMB = peakRSSMB()

	if c.Baselines {
		c.logf("%s: the database's own tools on the same file", backend)
		if err := c.baseline(backend, subjects, &r); err != nil {
			return r, fmt.Errorf("baseline: %w", err)
		}
	}
	return r, nil
}

// longestWait reads the store every 10 ms until done is closed, and says
// how long the slowest read took.
func longestWait(ctx context.Context, st *store.Store, done <-chan struct{}) time.Duration {
	var worst time.Duration
	for {
		select {
		case <-done:
			return worst
		case <-time.After(10 * time.Millisecond):
		}
		at := time.Now()
		if _, _, err := st.CampaignPaused(ctx, "INC-BENCH"); err == nil {
			worst = max(worst, time.Since(at))
		}
	}
}

// scopeSQL is the raw SQL equivalent of Tocsin's scope: the affected rows with
// their region, locale, minor flag and reachable channels, into a new table,
// then the counts per region that scoping reports.
const scopeSQL = `CREATE TABLE affected_raw AS SELECT subject_id, region, locale,
  CASE WHEN birth_year <> '' AND CAST(birth_year AS INTEGER) >= 2008 THEN 1 ELSE 0 END AS minor,
  CASE WHEN onsite_id <> '' THEN 1 ELSE 0 END AS can_onsite,
  CASE WHEN email <> '' THEN 1 ELSE 0 END AS can_email,
  CASE WHEN phone <> '' THEN 1 ELSE 0 END AS can_phone
  FROM raw WHERE systems LIKE '%` + synth.LeakedSystem + `%';
SELECT region, count(*), sum(minor), sum(CASE WHEN can_onsite + can_email + can_phone = 0 THEN 1 ELSE 0 END) FROM affected_raw GROUP BY region`

func (c Config) baseline(backend, subjects string, r *Result) error {
	rawTable, err := rawTableFor(subjects)
	if err != nil {
		return err
	}
	switch backend {
	case "sqlite":
		db := filepath.Join(c.Dir, "tool-bench.db")
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(db + suffix)
		}
		defer os.Remove(db)
		defer os.Remove(db + "-wal")
		// Same durability settings as Tocsin's store.
		pre := "PRAGMA journal_mode=WAL;\nPRAGMA synchronous=FULL;\n"
		if err := run("sqlite3", []string{db}, pre+rawTable+";\n"); err != nil {
			return err
		}
		t, err := timed("sqlite3", []string{db}, pre+".mode csv\n.import --skip 1 "+subjects+" raw\n")
		if err != nil {
			return err
		}
		r.ToolImportSeconds = t
		if r.ToolScopeSeconds, err = timed("sqlite3", []string{db}, pre+scopeSQL+";\n"); err != nil {
			return err
		}
		if r.ToolIndexSeconds, err = timed("sqlite3", []string{db}, pre+"PRAGMA cache_size=-16000;\nPRAGMA threads=2;\n"+toolIndexes(`subject_id`)); err != nil {
			return err
		}
		n, err := output("sqlite3", []string{db}, "SELECT count(*) FROM affected_raw;\n")
		if err != nil {
			return err
		}
		r.ToolScoped, _ = strconv.Atoi(strings.TrimSpace(n))
	case "postgres":
		schema := fmt.Sprintf("bench_tool_%d", time.Now().UnixNano())
		dsn := c.PostgresDSN
		setPath := "SET search_path=" + schema + ";\n"
		if err := psql(dsn, "CREATE SCHEMA "+schema); err != nil {
			return err
		}
		defer psql(dsn, "DROP SCHEMA "+schema+" CASCADE")
		if err := psql(dsn, setPath+rawTable); err != nil {
			return err
		}
		t, err := timed("psql", []string{dsn, "-q", "-v", "ON_ERROR_STOP=1"}, setPath+`\copy raw FROM '`+subjects+`' WITH (FORMAT csv, HEADER true)`+"\n")
		if err != nil {
			return err
		}
		r.ToolImportSeconds = t
		if r.ToolScopeSeconds, err = timed("psql", []string{dsn, "-q", "-v", "ON_ERROR_STOP=1"}, setPath+scopeSQL+";\n"); err != nil {
			return err
		}
		if r.ToolIndexSeconds, err = timed("psql", []string{dsn, "-q", "-v", "ON_ERROR_STOP=1"}, setPath+"SET maintenance_work_mem = '256MB';\n"+toolIndexes(`subject_id COLLATE "C"`)); err != nil {
			return err
		}
		n, err := output("psql", []string{dsn, "-tA"}, setPath+"SELECT count(*) FROM affected_raw;\n")
		if err != nil {
			return err
		}
		r.ToolScoped, _ = strconv.Atoi(strings.TrimSpace(n))
	}
	r.ToolImportRowsPerS = float64(r.Subjects) / r.ToolImportSeconds
	return nil
}

// toolIndexes are the indexes an import builds, on the tools' table; key
// is the subject ID column as the store declares it.
func toolIndexes(key string) string {
	return "CREATE UNIQUE INDEX raw_id ON raw (" + key + ");\nCREATE INDEX raw_onsite ON raw (onsite_id) WHERE onsite_id <> '';\n"
}

// rawTableFor declares a text column for each column of the file's header,
// so the tools load the same file whatever columns the generator writes.
func rawTableFor(subjects string) (string, error) {
	f, err := os.Open(subjects)
	if err != nil {
		return "", err
	}
	defer f.Close()
	header, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("%s: reading the header: %w", subjects, err)
	}
	var cols []string
	for _, name := range strings.Split(strings.TrimSpace(header), ",") {
		cols = append(cols, name+" TEXT")
	}
	return "CREATE TABLE raw (" + strings.Join(cols, ", ") + ")", nil
}

func psql(dsn, sql string) error {
	return run("psql", []string{dsn, "-q", "-v", "ON_ERROR_STOP=1"}, sql+";\n")
}

func run(name string, args []string, stdin string) error {
	_, err := output(name, args, stdin)
	return err
}

func timed(name string, args []string, stdin string) (float64, error) {
	started := time.Now()
	err := run(name, args, stdin)
	return time.Since(started).Seconds(), err
}

func output(name string, args []string, stdin string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(errOut.String()))
	}
	return out.String(), nil
}

// synthFile is the synthetic subjects file for o in dir, named by prefix,
// size and order, written unless an earlier run left it there.
func synthFile(dir, prefix string, o synth.Options, logf func(string, ...any)) (string, error) {
	order := ""
	if o.Shuffled {
		order = "-shuffled"
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%d%s.csv", prefix, o.Subjects, order))
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	logf("generating %d subjects into %s", o.Subjects, path)
	return path, writeFile(path, func(w io.Writer) error { return synth.WriteSubjects(w, o) })
}

func writeFile(path string, f func(io.Writer) error) error {
	tmp := path + ".tmp"
	file, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := f(file); err != nil {
		file.Close()
		return err
	}
	if err := file.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// resetPeakRSS returns freed memory to the OS and restarts the kernel's
// high-water mark, so each phase's peak is its own.
func resetPeakRSS() {
	debug.FreeOSMemory()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSSMB reads the resident-set high-water mark (VmHWM) in megabytes.
func peakRSSMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
