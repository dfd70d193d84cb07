package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/store"
)

func (cl *cli) lettersCmd() *cobra.Command {
	var out string
	var size int
	cmd := &cobra.Command{Use: "letters ID --out DIR", Short: "Write the letters mailed for an incident, as the print vendor got them: batches of one PDF and a manifest CSV (legal, admin)",
		Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			return cl.writeLetters(cmd.Context(), args[0], out, size)
		}}
	cmd.Flags().StringVar(&out, "out", "", "directory to write batch-NNN.pdf and batch-NNN.csv into (made if missing)")
	cmd.Flags().IntVar(&size, "batch-size", 100, fmt.Sprintf("letters per batch (at most %d)", api.MaxLettersBatch))
	cmd.MarkFlagRequired("out")
	return cmd
}

// writeLetters fetches the mailed letters a batch at a time and writes
// each batch's PDF and manifest; the files hold names and addresses, so
// only their owner may read them.
func (cl *cli) writeLetters(ctx context.Context, id, dir string, size int) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	c := cl.conn()
	after, n, total := "", 0, 0
	for {
		var b api.LettersBatch
		q := url.Values{"size": {strconv.Itoa(size)}, "after": {after}}
		if err := c.Do(ctx, "GET", "/api/v1/incidents/"+url.PathEscape(id)+"/letters?"+q.Encode(), nil, &b); err != nil {
			return err
		}
		if b.Letters > 0 {
			n++
			base := filepath.Join(dir, fmt.Sprintf("batch-%03d", n))
			if err := os.WriteFile(base+".pdf", b.PDF, 0o600); err != nil {
				return err
			}
			if err := os.WriteFile(base+".csv", []byte(b.Manifest), 0o600); err != nil {
				return err
			}
			total += b.Letters
		}
		if b.Next == "" {
			break
		}
		after = b.Next
	}
	fmt.Printf("%d letters in %d batches in %s\n", total, n, dir)
	return nil
}

func (cl *cli) returnedCmd() *cobra.Command {
	var file string
	cmd := &cobra.Command{Use: "returned ID --subjects-file F", Short: "Record letters the post office returned: those people, if nothing else reached them, count as unreached (substitute notice)",
		Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			ids, err := readSubjectIDs(file)
			if err != nil {
				return err
			}
			var total store.ReturnedMail
			for lo := 0; lo < len(ids); lo += api.MaxReturned {
				var res store.ReturnedMail
				part := ids[lo:min(lo+api.MaxReturned, len(ids))]
				if err := cl.conn().Do(cmd.Context(), "POST", "/api/v1/incidents/"+url.PathEscape(args[0])+"/returned", api.ReturnedRequest{Subjects: part}, &res); err != nil {
					return err
				}
				total.Returned += res.Returned
				total.Already += res.Already
				total.Unreached += res.Unreached
				total.NotMailed = append(total.NotMailed, res.NotMailed...)
			}
			if cl.output == "json" {
				return printJSON(total)
			}
			fmt.Printf("%d letters recorded as returned (%d already were); %d people no longer reached, now covered by substitute notice\n", total.Returned, total.Already, total.Unreached)
			if len(total.NotMailed) > 0 {
				fmt.Printf("no letter was mailed to %d of them: %s\n", len(total.NotMailed), strings.Join(total.NotMailed[:min(10, len(total.NotMailed))], ", "))
			}
			return nil
		}}
	cmd.Flags().StringVar(&file, "subjects-file", "", "the returned letters' subject IDs: one per line, or a CSV with a subject_id column (as the vendor's return report)")
	cmd.MarkFlagRequired("subjects-file")
	return cmd
}

// readSubjectIDs reads subject IDs a line each, or the subject_id column
// of a CSV, naming the file and line of what it cannot read.
func readSubjectIDs(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	col := 0
	var ids []string
	for line := 1; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if line == 1 {
			if i := slices.Index(rec, "subject_id"); i >= 0 {
				col = i
				continue
			}
		}
		if col >= len(rec) || strings.TrimSpace(rec[col]) == "" {
			return nil, fmt.Errorf("%s:%d: no subject ID", path, line)
		}
		ids = append(ids, strings.TrimSpace(rec[col]))
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%s: no subject IDs", path)
	}
	return ids, nil
}
