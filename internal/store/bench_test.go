package store_test

import (
	"bytes"
	"context"
	"database/sql"
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
	n, csv := benchInventory(b)
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

// BenchmarkOnsiteInbox is the in-app inbox the platform reads each time a
// person opens the app: ten real incidents scoped from one inventory of
// TOCSIN_BENCH_SUBJECTS (default 100000) people, 2,000 on-site notices each.
// "baseline" runs, in the same process, the query the inbox ran before the
// on-site index: per incident, the ledger joined to the whole inventory
// (no draft reads, so it understates the old cost).
func BenchmarkOnsiteInbox(b *testing.B) {
	_, csv := benchInventory(b)
	for _, backend := range storetest.Backends(b) {
		b.Run(backend, func(b *testing.B) {
			ctx := context.Background()
			dsn := storetest.DSN(b, backend)
			s, err := store.Open(dsn)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			res, err := s.ImportInventory(ctx, store.ImportInput{SystemsFile: "systems.yaml", Systems: strings.NewReader(synth.Systems),
				SubjectsFile: "subjects.csv", Subjects: bytes.NewReader(csv.Bytes())})
			if err != nil {
				b.Fatal(err)
			}
			var incidents []string
			for i := range 10 {
				id := fmt.Sprint("INC-", i)
				incidents = append(incidents, id)
				if err := s.CreateIncident(ctx, store.Incident{ID: id, Title: "b", OpenedBy: "b", OpenedAt: time.Now(), Snapshot: res.Snapshot}, nil); err != nil {
					b.Fatal(err)
				}
				if _, err := s.Scope(ctx, store.ScopeInput{IncidentID: id, Snapshot: res.Snapshot, Systems: []string{"account-db"}, Year: 2026}); err != nil {
					b.Fatal(err)
				}
				if err := s.SaveDraft(ctx, store.Draft{IncidentID: id, Name: "notice-en", Revision: 1, Kind: "subject_notice", Locale: "en", Title: "t", Body: "b", CreatedBy: "system"}); err != nil {
					b.Fatal(err)
				}
				var ds []store.Delivery
				for j := range 2000 {
					// Every fifth synthetic person from s0000000000 on; most have an account.
					ds = append(ds, store.Delivery{IncidentID: id, SubjectID: fmt.Sprintf("s%010d", j*5), Channel: "onsite", Rung: 1, Draft: "notice-en@1", Status: store.StatusAccepted})
				}
				for k := 0; k < len(ds); k += 500 {
					if _, err := s.ClaimDeliveries(ctx, ds[k:k+500], store.Lease{Owner: "bench", Until: time.Now().Add(time.Hour)}); err != nil {
						b.Fatal(err)
					}
					if err := s.FinishDeliveries(ctx, ds[k:k+500]); err != nil {
						b.Fatal(err)
					}
				}
			}
			// A person reached by all ten: the first subject with an account.
			account := ""
			for line := range strings.SplitSeq(csv.String(), "\n") {
				f := strings.Split(line, ",")
				if len(f) > 4 && strings.HasPrefix(f[4], "acct-") {
					if id, _ := strconv.Atoi(strings.TrimPrefix(f[0], "s")); id%5 == 0 {
						account = f[4]
						break
					}
				}
			}
			b.Run("inbox", func(b *testing.B) {
				for b.Loop() {
					inbox, err := s.OnsiteInbox(ctx, account)
					if err != nil || len(inbox) != len(incidents) {
						b.Fatalf("inbox of %s: %d notices, %v", account, len(inbox), err)
					}
				}
			})
			b.Run("baseline", func(b *testing.B) {
				db, err := sql.Open(map[string]string{"sqlite": "sqlite", "postgres": "pgx"}[backend], dsn)
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				q := `SELECT d.subject_id, d.draft, d.updated_at FROM deliveries d JOIN subjects_` + strconv.FormatInt(res.Snapshot, 10) + ` p ON p.subject_id = d.subject_id
					WHERE d.incident_id=$1 AND d.channel='onsite' AND d.status IN ($2,$3) AND p.onsite_id=$4 ORDER BY d.updated_at`
				for b.Loop() {
					found := 0
					for _, id := range incidents {
						rows, err := db.QueryContext(ctx, q, id, store.StatusAccepted, store.StatusDelivered, account)
						if err != nil {
							b.Fatal(err)
						}
						for rows.Next() {
							found++
						}
						rows.Close()
					}
					if found != len(incidents) {
						b.Fatalf("baseline found %d notices", found)
					}
				}
			})
		})
	}
}

// benchInventory is the synthetic subjects file the benchmarks import:
// TOCSIN_BENCH_SUBJECTS people (default 100000), 30% of them in scope.
func benchInventory(b *testing.B) (int, *bytes.Buffer) {
	n := 100_000
	if v := os.Getenv("TOCSIN_BENCH_SUBJECTS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	var csv bytes.Buffer
	if err := synth.WriteSubjects(&csv, synth.Options{Subjects: n, ScopeShare: 0.3, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	return n, &csv
}
