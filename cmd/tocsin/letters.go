package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/inventory"
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
	var settled bool
	cmd := &cobra.Command{Use: "returned ID (--subjects-file F | --settled)", Short: "Record letters the post office returned (their people, if nothing else reached them, get substitute notice), or end the wait for them",
		Long: `Record letters the post office returned: a person whom only the letter had
reached is unreached again, and while the incident awaits returned mail its
plan drafts a public announcement (substitute notice) for legal. With
--settled, legal or an admin end the wait: the incident then closes once its
filings are done.`,
		Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			path := "/api/v1/incidents/" + url.PathEscape(args[0]) + "/returned"
			if settled == (file != "") {
				return errors.New("give either --subjects-file or --settled")
			}
			if settled {
				var res api.ReturnedResponse
				if err := cl.conn().Do(cmd.Context(), "POST", path, api.ReturnedRequest{Settled: true}, &res); err != nil {
					return err
				}
				if cl.output == "json" {
					return printJSON(res)
				}
				fmt.Println(res.SubstituteNotice)
				return nil
			}
			ids, err := readSubjectIDs(file)
			if err != nil {
				return err
			}
			var total api.ReturnedResponse
			for lo := 0; lo < len(ids); lo += api.MaxReturned {
				var res api.ReturnedResponse
				part := ids[lo:min(lo+api.MaxReturned, len(ids))]
				if err := cl.conn().Do(cmd.Context(), "POST", path, api.ReturnedRequest{Subjects: part}, &res); err != nil {
					return err
				}
				total.Returned += res.Returned
				total.Already += res.Already
				total.Unreached += res.Unreached
				total.NotMailed = append(total.NotMailed, res.NotMailed...)
				if res.SubstituteNotice != "" {
					total.SubstituteNotice = res.SubstituteNotice
				}
			}
			if cl.output == "json" {
				return printJSON(total)
			}
			fmt.Printf("%d letters recorded as returned (%d already were); %d people no longer reached by anything else\n", total.Returned, total.Already, total.Unreached)
			if total.SubstituteNotice != "" {
				fmt.Println("substitute notice: " + total.SubstituteNotice)
			}
			if len(total.NotMailed) > 0 {
				fmt.Printf("no letter was mailed to %d of them: %s\n", len(total.NotMailed), strings.Join(total.NotMailed[:min(10, len(total.NotMailed))], ", "))
			}
			return nil
		}}
	cmd.Flags().StringVar(&file, "subjects-file", "", "the returned letters' subject IDs: one per line, or a CSV with a subject_id column (as the vendor's return report)")
	cmd.Flags().BoolVar(&settled, "settled", false, "end the wait for returned mail (legal or an admin)")
	return cmd
}

// readSubjectIDs reads subject IDs as an incident's named subjects are
// read (inventory.IDList), naming the file and line of what it cannot read.
func readSubjectIDs(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	list := inventory.NewIDList(f)
	var ids []string
	for {
		id, line, reason, ok := list.Next()
		if !ok {
			break
		}
		if reason != "" {
			return nil, inventory.RowError{File: path, Line: line, Field: "subject_id", Reason: reason}
		}
		ids = append(ids, id)
	}
	if err := list.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%s: no subject IDs", path)
	}
	return ids, nil
}
