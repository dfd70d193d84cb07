package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// registerCmd prints the breach register (GDPR art. 33(5)): every real
// incident with its facts and what became of each duty.
func (cl *cli) registerCmd() *cobra.Command {
	var from, to string
	cmd := &cobra.Command{Use: "register", Short: "Print the breach register: every incident but drills, its facts and each duty's outcome (filed, notified, waived)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cl.output != "text" && cl.output != "json" && cl.output != "csv" {
				return fmt.Errorf("-o %s: register prints text, json or csv", cl.output)
			}
			if cl.output == "csv" {
				raw, err := cl.apiCalls().RegisterCSV(cmd.Context(), from, to)
				if err != nil {
					return err
				}
				_, err = os.Stdout.WriteString(raw)
				return err
			}
			entries, err := cl.apiCalls().Register(cmd.Context(), from, to)
			if err != nil {
				return err
			}
			if cl.output == "json" {
				return printJSON(entries)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "INCIDENT\tOPENED\tSTATUS\tAFFECTED\tDUTIES")
			for _, e := range entries {
				var duties []string
				for _, d := range e.Duties {
					duties = append(duties, d.Name+": "+d.Outcome)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", e.ID, e.OpenedAt.UTC().Format("2006-01-02"), e.Status, e.Subjects, strings.Join(duties, ", "))
			}
			return tw.Flush()
		}}
	cmd.Flags().StringVar(&from, "from", "", "incidents opened at or after this date or time (2026-01-01, or RFC 3339)")
	cmd.Flags().StringVar(&to, "to", "", "incidents opened before the end of this date, or before this time")
	return cmd
}
