package store_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tocsin/tocsin/internal/inventory/synth"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/store/storetest"
)

// BenchmarkImportAndScope imports a synthetic inventory and scopes 30% of it on
// each backend. TOCSIN_BENCH_SUBJECTS sets the size (default 100000); the
// 1M and 10M figures in the README come from 'tocsin bench inventory', which
// also runs the databases' own tools.
func BenchmarkImportAndScope(b *testing.B) {
	n := 100_000
	if v := os.Getenv("TOCSIN_BENCH_SUBJECTS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	var csv bytes.Buffer
	if err := synth.WriteSubjects(&csv, synth.Options{Subjects: n, ScopeShare: 0.3, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	for _, backend := range storetest.Backends(b) {
		b.Run(backend, func(b *testing.B) {
			ctx := context.Background()
			var importTime, scopeTime time.Duration
			for i := 0; i < b.N; i++ {
				s := storetest.Open(b, backend)
				start := time.Now()
				res, err := s.ImportInventory(ctx, store.ImportInput{SystemsFile: "systems.yaml", Systems: strings.NewReader(synth.Systems),
					SubjectsFile: "subjects.csv", Subjects: bytes.NewReader(csv.Bytes())})
				if err != nil {
					b.Fatal(err)
				}
				importTime += time.Since(start)
				inc := store.Incident{ID: fmt.Sprint("INC-", i), Title: "b", OpenedBy: "b", OpenedAt: time.Now(), Snapshot: res.Snapshot}
				if err := s.CreateIncident(ctx, inc, nil); err != nil {
					b.Fatal(err)
				}
				start = time.Now()
				if _, err := s.Scope(ctx, store.ScopeInput{IncidentID: inc.ID, Snapshot: res.Snapshot, Systems: []string{synth.LeakedSystem}, Year: 2026}); err != nil {
					b.Fatal(err)
				}
				scopeTime += time.Since(start)
			}
			b.ReportMetric(float64(n)*float64(b.N)/importTime.Seconds(), "import-rows/s")
			b.ReportMetric(scopeTime.Seconds()/float64(b.N), "scope-s")
		})
	}
}
