package main

import (
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tocsin/tocsin/internal/store"
)

func (cl *cli) inventoryCmd() *cobra.Command {
	inv := &cobra.Command{Use: "inventory", Short: "Manage the data inventory"}
	var systems, subjects string
	var maxErrors int
	imp := &cobra.Command{Use: "import", Short: "Import systems.yaml and subjects.csv as a new snapshot (all or nothing)", RunE: func(cmd *cobra.Command, _ []string) error {
		var res store.ImportResult
		bar := newProgressBar("uploading " + filepath.Base(subjects))
		uploaded := false
		err := cl.conn().ImportInventory(cmd.Context(), systems, subjects, maxErrors, func(sent, total, lines int64) {
			bar.update(sent, total, lines)
			if sent == total && !uploaded {
				uploaded = true
				bar.done("uploaded; the server is checking duplicates and indexing...")
			}
		}, &res)
		if !uploaded {
			bar.done("")
		}
		if err != nil {
			return err
		}
		if cl.output == "json" {
			return printJSON(res)
		}
		prev := "first inventory"
		if res.Previous > 0 {
			prev = fmt.Sprintf("replaces snapshot %d; incidents opened before keep theirs", res.Previous)
		}
		fmt.Printf("imported snapshot %d: %d systems, %d subjects in %.1fs (%s)\n", res.Snapshot, res.Systems, res.Subjects, res.Seconds, prev)
		return nil
	}}
	imp.Flags().StringVar(&systems, "systems", "systems.yaml", "systems file")
	imp.Flags().StringVar(&subjects, "subjects", "subjects.csv", "subjects file")
	imp.Flags().IntVar(&maxErrors, "max-errors", 100, "stop checking after this many bad rows")
	list := &cobra.Command{Use: "list", Short: "List the imported inventory snapshots, newest first", RunE: func(cmd *cobra.Command, _ []string) error {
		snaps, err := cl.apiCalls().Snapshots(cmd.Context())
		if err != nil {
			return err
		}
		if cl.output == "json" {
			return printJSON(snaps)
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SNAPSHOT\tSUBJECTS\tSYSTEMS\tIMPORTED\tBY\tFILE\t")
		for _, s := range snaps {
			cur := ""
			if s.Current {
				cur = " (current)"
			}
			fmt.Fprintf(tw, "%d%s\t%d\t%d\t%s\t%s\t%s\t\n", s.ID, cur, s.Subjects, s.Systems, s.ImportedAt.Format(time.RFC3339), s.ImportedBy, s.SubjectsFile)
		}
		return tw.Flush()
	}}
	prune := &cobra.Command{Use: "prune", Short: "Drop old snapshots that no incident scoped against (the current one is kept)", RunE: func(cmd *cobra.Command, _ []string) error {
		dropped, err := cl.apiCalls().PruneSnapshots(cmd.Context())
		if err != nil {
			return err
		}
		if cl.output == "json" {
			return printJSON(map[string][]int64{"dropped": dropped})
		}
		fmt.Printf("dropped %d snapshot(s) %v\n", len(dropped), dropped)
		return nil
	}}
	inv.AddCommand(imp, list, prune)
	return inv
}
