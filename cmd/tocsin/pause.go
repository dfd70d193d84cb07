package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tocsin/tocsin/internal/api"
)

// pauseCmds stop and restart an incident's campaign (legal, admins).
func (cl *cli) pauseCmds() []*cobra.Command {
	var reason string
	pause := &cobra.Command{Use: "pause ID", Short: "Stop an incident's campaign: no new notice goes out until it is resumed; nothing is lost or sent twice (legal, admins; audited)",
		Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			var out api.PauseView
			if err := cl.conn().Do(cmd.Context(), "POST", "/api/v1/incidents/"+args[0]+"/pause", api.PauseRequest{Reason: reason}, &out); err != nil {
				return err
			}
			if cl.output == "json" {
				return printJSON(out)
			}
			fmt.Printf("%s: campaign paused by %s at %s: %s\n", args[0], out.By, out.At.UTC().Format("2006-01-02 15:04 UTC"), out.Reason)
			return nil
		}}
	pause.Flags().StringVar(&reason, "reason", "", "why the campaign stops (kept in the audit log, told to the war room)")
	pause.MarkFlagRequired("reason")
	resume := &cobra.Command{Use: "resume ID", Short: "Let a paused campaign send again (legal, admins; audited)",
		Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			var out api.PauseView
			if err := cl.conn().Do(cmd.Context(), "POST", "/api/v1/incidents/"+args[0]+"/resume", nil, &out); err != nil {
				return err
			}
			if cl.output == "json" {
				return printJSON(out)
			}
			fmt.Printf("%s: campaign resumed (paused by %s at %s)\n", args[0], out.By, out.At.UTC().Format("2006-01-02 15:04 UTC"))
			return nil
		}}
	return []*cobra.Command{pause, resume}
}
