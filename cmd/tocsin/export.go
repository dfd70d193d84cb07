package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/tocsin/tocsin/internal/evidence"
)

func (cl *cli) exportCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{Use: "export ID --out DIR", Short: "Write the incident's evidence bundle (timeline, approvals, filings, drafts, delivery ledger, audit log, manifest of hashes)",
		Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return fmt.Errorf("--out DIR is required (a new or empty directory)")
			}
			m, err := evidence.Export(cmd.Context(), cl.conn(), args[0], out)
			if err != nil {
				return err
			}
			fmt.Printf("Evidence bundle of %s written to %s: %d files, audit head %.16s. Check it with `tocsin evidence verify %s`.\n", args[0], out, len(m.Files), m.AuditHead, out)
			return nil
		}}
	cmd.Flags().StringVar(&out, "out", "", "directory to write the bundle into (must be new or empty)")
	return cmd
}

func (cl *cli) evidenceCmd() *cobra.Command {
	ev := &cobra.Command{Use: "evidence", Short: "Check evidence bundles"}
	verify := &cobra.Command{Use: "verify DIR", Short: "Check every file of an exported bundle against its manifest and the audit log's hash chain; exits non-zero on any change",
		Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := evidence.Verify(args[0])
			if err != nil {
				return fmt.Errorf("evidence bundle %s does not verify: %w", args[0], err)
			}
			if cl.output == "json" {
				return printJSON(rep)
			}
			fmt.Fprintf(os.Stdout, "Evidence bundle of %s verifies: %d files unchanged since %s, audit chain of %d entries intact (head %.16s).\n",
				rep.Manifest.Incident, rep.Files, rep.Manifest.ExportedAt.Format(time.RFC3339), rep.Audit, rep.Manifest.AuditHead)
			return nil
		}}
	ev.AddCommand(verify)
	return ev
}
