package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/tocsin/tocsin/internal/api"
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
