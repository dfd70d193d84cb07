package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tocsin/tocsin/internal/api"
)

// correctCmd asks for a correction of a notice that went out.
func (cl *cli) correctCmd() *cobra.Command {
	var draft string
	var sets []string
	cmd := &cobra.Command{Use: "correct ID --draft NAME [--set field=value]...", Short: "Correct a notice that went out: a new revision for legal, then sent to exactly the people who got an earlier one (legal, admins; audited)",
		Long: `Correct a notice that went out wrong. The facts given with --set are set
first; the notice is drafted again as a new revision, which legal approves
(or rejects and a responder revises) as any draft. Once approved it goes
to exactly the people who received an earlier revision, by the channel it
reached them by, titled and opened as a correction in their language.
Nobody who got no copy is told; the ledger keeps which copy went to whom.`,
		Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			req := api.CorrectRequest{Draft: draft, Changes: map[string]string{}}
			for _, s := range sets {
				k, v, ok := strings.Cut(s, "=")
				if !ok {
					return fmt.Errorf("--set %q: want field=value", s)
				}
				req.Changes[k] = v
			}
			var out api.CorrectionView
			if err := cl.conn().Do(cmd.Context(), "POST", "/api/v1/incidents/"+args[0]+"/correct", req, &out); err != nil {
				return err
			}
			if cl.output == "json" {
				return printJSON(out)
			}
			fmt.Printf("%s: correction %d of %s (revision %d) asked for by %s; legal approves the new revision, then it goes to everyone who got an earlier one\n",
				args[0], out.Correction, out.Draft, out.From, out.RequestedBy)
			return nil
		}}
	cmd.Flags().StringVar(&draft, "draft", "", "the notice to correct (see incident show)")
	cmd.MarkFlagRequired("draft")
	cmd.Flags().StringArrayVar(&sets, "set", nil, "field=value to set before it is drafted again; fields: "+strings.Join(api.Settable, ", "))
	return cmd
}

// correctionStatus says where a correction stands, as `incident show` prints it.
func correctionStatus(c api.CorrectionView) string {
	switch c.Status {
	case "awaiting_approval":
		return fmt.Sprintf("revision %d waits for legal", c.Revision)
	case "sending":
		return fmt.Sprintf("revision %d going out: %d copies of an earlier revision so far", c.Revision, c.Copies)
	case "done":
		s := fmt.Sprintf("revision %d sent in place of %d copies of an earlier revision", c.Revision, c.Copies)
		if c.Failed > 0 {
			s += fmt.Sprintf(" (%d failed)", c.Failed)
		}
		return s
	}
	return c.Status
}
