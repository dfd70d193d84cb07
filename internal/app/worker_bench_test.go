package app_test

import (
	"testing"

	"github.com/tocsin/tocsin/internal/devtools/bench"
)

// BenchmarkOneWorkerAgainstTheLoop runs one fault-free campaign on `tocsin
// dev` with SQLite (one worker) and, in the same run, the plain loop of
// the same SDK calls to the same peers (issue 29, item 2). It reports the
// campaign's rate over the loop's, approval to closed and to the last new
// send, and both CPU costs a message, and fails when the campaign falls
// under the target of 0.8 of the loop. TOCSIN_LOOP_BENCH_SUBJECTS sets the
// size (default 20,000, the issue's).
//
//	go test -run '^$' -bench OneWorkerAgainstTheLoop -benchtime 1x ./internal/app/
func BenchmarkOneWorkerAgainstTheLoop(b *testing.B) {
	res := notifyOnDev(b, "TOCSIN_LOOP_BENCH_SUBJECTS", 20_000, bench.NotifyConfig{})
	r := res[0]
	b.ReportMetric(r.PerS, "campaign-msg/s")
	b.ReportMetric(r.BaselinePerS, "loop-msg/s")
	b.ReportMetric(r.Ratio, "ratio")
	b.ReportMetric(r.SendRatio, "send-ratio")
	b.ReportMetric(r.CPUMsPerMessage, "cpu-ms/msg")
	b.ReportMetric(r.BaselineCPUMsPerMessage, "loop-cpu-ms/msg")
	if r.Duplicates > 0 {
		b.Errorf("duplicates: %d", r.Duplicates)
	}
	if r.Ratio < 0.8 {
		b.Errorf("one worker sent %.0f msg/s from approval to closed, %.2f of the plain loop's %.0f (%.2f to its last new send): under the target 0.8",
			r.PerS, r.Ratio, r.BaselinePerS, r.SendRatio)
	}
}
