package store

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// BenchmarkLedgerViewBesideACampaign is what the console's incident page
// costs a running campaign on SQLite: an incident's ledger of
// TOCSIN_BENCH_SUBJECTS rows (default 100000), the page's reads of it
// (counts by channel and outcome, people contacted, sends over time)
// while a writer stands in for the campaign, one small write every 10 ms.
// "one-connection" runs the reads on the store's connection, as before
// the read connections; "read-connections" as the store does now.
// Reported: the page's reads, and the longest a write waited meanwhile.
func BenchmarkLedgerViewBesideACampaign(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("TOCSIN_BENCH_SUBJECTS")); err == nil && v > 0 {
		n = v
	}
	s, err := Open(filepath.Join(b.TempDir(), "t.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := s.db.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < ?)
		INSERT INTO deliveries (incident_id, subject_id, channel, rung, status, created_at, updated_at)
		SELECT 'INC-1', printf('S%08d', i), CASE WHEN i % 3 = 0 THEN 'sms' ELSE 'email' END, 1, 'delivered',
		  '2026-12-06T10:00:00Z', strftime('%Y-%m-%dT%H:%M:%SZ', '2026-12-06T10:00:00', '+' || (i / 500) || ' seconds') FROM n`, n); err != nil {
		b.Fatal(err)
	}
	reads := s.reads
	for _, mode := range []string{"one-connection", "read-connections"} {
		b.Run(mode, func(b *testing.B) {
			s.reads = reads
			if mode == "one-connection" {
				s.reads = nil
			}
			defer func() { s.reads = reads }()
			var view, longest time.Duration
			for i := 0; i < b.N; i++ {
				stop := make(chan struct{})
				var wg sync.WaitGroup
				wg.Add(1)
				go func() {
					defer wg.Done()
					for w := 0; ; w++ {
						select {
						case <-stop:
							return
						case <-time.After(10 * time.Millisecond):
						}
						start := time.Now()
						if _, err := s.exec(ctx, `INSERT INTO seen_requests VALUES ('bench', ?, '') ON CONFLICT DO NOTHING`, strconv.Itoa(w)); err != nil {
							b.Error(err)
							return
						}
						longest = max(longest, time.Since(start))
					}
				}()
				start := time.Now()
				if _, _, _, err := s.CampaignCounts(ctx, "INC-1"); err != nil {
					b.Fatal(err)
				}
				if _, err := s.ContactedSubjects(ctx, "INC-1"); err != nil {
					b.Fatal(err)
				}
				if _, err := s.SendProgress(ctx, "INC-1", 200); err != nil {
					b.Fatal(err)
				}
				view += time.Since(start)
				close(stop)
				wg.Wait()
			}
			b.ReportMetric(view.Seconds()/float64(b.N), "view-s")
			b.ReportMetric(longest.Seconds(), "longest-write-wait-s")
		})
	}
}
