package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tocsin/tocsin/internal/bench"
)

func benchCmd() *cobra.Command {
	b := &cobra.Command{Use: "bench", Short: "Measure Tocsin on this machine"}
	var c bench.Config
	var backends string
	inv := &cobra.Command{Use: "inventory", Short: "Import a synthetic inventory and scope 30% of it on each backend, beside sqlite3 .import and psql \\copy",
		RunE: func(cmd *cobra.Command, _ []string) error {
			c.Backends = strings.Split(backends, ",")
			c.Log = os.Stderr
			res, err := bench.Inventory(cmd.Context(), c)
			if err != nil {
				return err
			}
			if output == "json" {
				return printJSON(res)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "backend\tsubjects\tRSS at rest MB\timport s\trows/s\tpeak RSS MB\tscoped\tscope s\tscope RSS MB\ttool import s\ttool rows/s\ttool scope s\t")
			for _, r := range res {
				fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.1f\t%.0f\t%.0f\t%d\t%.2f\t%.0f\t%.1f\t%.0f\t%.2f\t\n", r.Backend, r.Subjects, r.RestMB, r.ImportSeconds, r.ImportRowsPerS, r.ImportPeakMB,
					r.Scoped, r.ScopeSeconds, r.ScopePeakMB, r.ToolImportSeconds, r.ToolImportRowsPerS, r.ToolScopeSeconds)
			}
			return tw.Flush()
		}}
	inv.Flags().StringVar(&c.Dir, "dir", "./bench-data", "where the generated files and databases go")
	inv.Flags().IntVar(&c.Subjects, "subjects", 1_000_000, "subjects to generate")
	inv.Flags().StringVar(&backends, "backends", "sqlite", "comma-separated: sqlite,postgres")
	inv.Flags().StringVar(&c.PostgresDSN, "postgres", os.Getenv("TOCSIN_BENCH_POSTGRES"), "PostgreSQL URL for the postgres backend")
	inv.Flags().BoolVar(&c.Baselines, "baselines", true, "also time sqlite3 .import / psql \\copy and CREATE TABLE AS SELECT")
	b.AddCommand(inv)
	return b
}
