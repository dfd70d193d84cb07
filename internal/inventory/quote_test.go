package inventory

import (
	"encoding/csv"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// brokenQuote is a subjects file whose third row opens a quote it never
// closes, followed by size bytes of ordinary rows, made as it is read.
func brokenQuote(size int64) (io.Reader, *int64) {
	head := header + "s1,Ann,a@example.com,,,,DE,,crm\n" + "s2,\"Bo,b@example.com,,,,DE,,crm\n"
	row := "s3,Cy,c@example.com,,,,DE,,crm\n"
	var read int64
	body := io.LimitReader(&repeat{s: row}, size)
	return &counted{r: io.MultiReader(strings.NewReader(head), body), n: &read}, &read
}

type repeat struct {
	s string
	i int
}

func (r *repeat) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.s[r.i:])
		n += c
		r.i = (r.i + c) % len(r.s)
	}
	return n, nil
}

type counted struct {
	r io.Reader
	n *int64
}

func (c *counted) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += int64(n)
	return n, err
}

// A quote never closed stops the import at the row that opened it, with its
// line, after reading about a MiB of the file, not the whole file.
func TestAnUnclosedQuoteStopsTheReadWithItsLine(t *testing.T) {
	r, read := brokenQuote(200 << 20)
	sr, err := NewSubjectReader("subjects.csv", r, map[string]bool{"crm": true})
	require.NoError(t, err)
	_, err = sr.Next()
	require.NoError(t, err, "the first row is fine")
	_, err = sr.Next()
	require.EqualError(t, err, `subjects.csv:3: this row runs past 1 MiB without ending: a quote (") opened in it is probably never closed`)
	var rowErrs *Errors
	require.False(t, errors.As(err, &rowErrs), "not a row error the import moves past")
	require.Less(t, *read, int64(MaxRowBytes+256<<10), "the reader stopped at the limit")

	// A header that never ends is refused too.
	_, err = NewSubjectReader("subjects.csv", io.MultiReader(strings.NewReader(`"subject_id`), io.LimitReader(&repeat{s: "x,"}, 4<<20)), nil)
	require.ErrorContains(t, err, "subjects.csv:1: header: this row runs past 1 MiB")
}

// Rows just under the limit still import: the limit is per row, not per file.
func TestLongRowsUnderTheLimitImport(t *testing.T) {
	name := strings.Repeat("n", MaxRowBytes-200)
	csv := header + "s1," + name + ",a@example.com,,,,DE,,crm\n" + "s2," + name + ",b@example.com,,,,DE,,crm\n"
	subs, errs := readAll(t, "subjects.csv", csv, map[string]bool{"crm": true})
	require.Empty(t, errs)
	require.Len(t, subs, 2)
}

// BenchmarkUnclosedQuote reads files of growing size whose quote never
// closes: the peak heap stays the same (the reader stops after a MiB).
// The baseline, in the same run, is encoding/csv reading the same files
// alone, as the reader did before: its heap grows with the file.
func BenchmarkUnclosedQuote(b *testing.B) {
	sizes := []struct {
		name string
		n    int64
	}{{"16MiB", 16 << 20}, {"128MiB", 128 << 20}}
	for _, size := range sizes {
		b.Run("baseline-encoding-csv/"+size.name, func(b *testing.B) {
			var peak uint64
			for i := 0; i < b.N; i++ {
				r, _ := brokenQuote(size.n)
				cr := csv.NewReader(r)
				for {
					if _, err := cr.Read(); err != nil {
						break
					}
				}
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapInuse)
			}
			b.ReportMetric(float64(peak)/(1<<20), "MiB-heap")
		})
	}
	for _, size := range sizes {
		b.Run(size.name, func(b *testing.B) {
			var peak uint64
			for i := 0; i < b.N; i++ {
				r, _ := brokenQuote(size.n)
				sr, err := NewSubjectReader("subjects.csv", r, map[string]bool{"crm": true})
				if err != nil {
					b.Fatal(err)
				}
				for {
					if _, err := sr.Next(); err != nil {
						if !strings.Contains(err.Error(), "never closed") {
							b.Fatal(err)
						}
						break
					}
				}
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapInuse)
			}
			b.ReportMetric(float64(peak)/(1<<20), "MiB-heap")
		})
	}
}
