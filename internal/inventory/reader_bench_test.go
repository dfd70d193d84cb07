package inventory_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/tocsin/tocsin/internal/inventory"
	"github.com/tocsin/tocsin/internal/inventory/synth"
)

func BenchmarkReader(b *testing.B) {
	var csv bytes.Buffer
	synth.WriteSubjects(&csv, synth.Options{Subjects: 300000, Seed: 1})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, _ := inventory.NewSubjectReader("s.csv", bytes.NewReader(csv.Bytes()), map[string]bool{"account-db": true, "media-bucket": true, "orders": true, "analytics": true})
		for {
			_, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(300000*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
