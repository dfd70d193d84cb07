package app_test

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/tocsin/tocsin/internal/devtools/bench"
)

// BenchmarkCampaignUnderFaults runs the same campaign twice in one run, on
// `tocsin dev` with SQLite: with well-behaved peers, then with the peers
// having a carrier's bad day (bench.BadDayProfile). It reports both send
// rates, their ratio, how long after the last new send the last send in
// doubt was settled, and fails when anyone got a duplicate, when the
// faulted rate is under half the fault-free one, or when settling took
// over two minutes. TOCSIN_FAULT_BENCH_SUBJECTS sets the size (default
// 40,000: two partitions and the earliest-due pass, where the send rate is
// the campaign's throughput; at 2,000 a campaign is one partition and its
// fixed waits, a lane's 3 s patience and the settling tails, are most of
// it).
//
//	go test -run '^$' -bench CampaignUnderFaults -benchtime 1x ./internal/app/
func BenchmarkCampaignUnderFaults(b *testing.B) {
	res := notifyOnDev(b, "TOCSIN_FAULT_BENCH_SUBJECTS", 40000, bench.NotifyConfig{PeerFaults: bench.BadDayProfile, FaultSeed: 1})
	clean, faulted := res[0], res[1]
	b.ReportMetric(clean.SendPerS, "fault-free-msg/s")
	b.ReportMetric(faulted.SendPerS, "bad-day-msg/s")
	b.ReportMetric(faulted.FaultRatio, "ratio")
	b.ReportMetric(faulted.SettleSeconds, "settle-s")
	b.ReportMetric(float64(faulted.InDoubt), "in-doubt")
	if faulted.Duplicates > 0 || clean.Duplicates > 0 {
		b.Errorf("duplicates: %d fault-free, %d on the bad day", clean.Duplicates, faulted.Duplicates)
	}
	if faulted.FaultRatio < 0.5 {
		b.Errorf("on the bad day the campaign sent %.0f msg/s, %.2f of the fault-free %.0f: under the target half", faulted.SendPerS, faulted.FaultRatio, clean.SendPerS)
	}
	if faulted.SettleSeconds > 120 {
		b.Errorf("the last send in doubt was settled %.0f s after the last new send: over the target two minutes", faulted.SettleSeconds)
	}
}

// notifyOnDev runs bench.Notify as cfg says, on `tocsin dev` with SQLite,
// for as many people as the environment variable sizeEnv says (size
// unless set), the plain loop over as many.
func notifyOnDev(b *testing.B, sizeEnv string, size int, cfg bench.NotifyConfig) []bench.NotifyResult {
	b.Helper()
	if v := os.Getenv(sizeEnv); v != "" {
		var err error
		if size, err = strconv.Atoi(v); err != nil {
			b.Fatalf("%s: %v", sizeEnv, err)
		}
	}
	cfg.Subjects, cfg.BaselineSubjects, cfg.Backends, cfg.Log = size, size, []string{"sqlite"}, os.Stderr
	var res []bench.NotifyResult
	for b.Loop() {
		var err error
		cfg.Dir = b.TempDir()
		if res, err = bench.Notify(context.Background(), cfg); err != nil {
			b.Fatal(err)
		}
	}
	return res
}
