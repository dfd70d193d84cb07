package main

import (
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tocsin/tocsin/internal/api"
)

// channelCmd shows and resumes channels held because their provider
// refuses Tocsin's own configuration (credentials, sender, account).
func (cl *cli) channelCmd() *cobra.Command {
	c := &cobra.Command{Use: "channel", Short: "Channels held because a provider refuses Tocsin's configuration"}
	holds := &cobra.Command{Use: "holds", Short: "List held channels: since when, why, and the next probe", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		var hs []api.HeldChannelView
		if err := cl.conn().Do(cmd.Context(), "GET", "/api/v1/channels/holds", nil, &hs); err != nil {
			return err
		}
		if cl.output == "json" {
			return printJSON(hs)
		}
		if len(hs) == 0 {
			fmt.Println("no channel is held")
			return nil
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CHANNEL\tSINCE\tNEXT PROBE\tWHY")
		for _, h := range hs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", h.Channel, h.Since.UTC().Format("2006-01-02 15:04 UTC"), h.ProbeAt.UTC().Format("15:04:05 UTC"), h.Reason)
		}
		return tw.Flush()
	}}
	resume := &cobra.Command{Use: "resume CHANNEL", Short: "Probe a held channel now, once its configuration is fixed (responders, admins)", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
		var out map[string]string
		if err := cl.conn().Do(cmd.Context(), "POST", "/api/v1/channels/"+args[0]+"/resume", nil, &out); err != nil {
			return err
		}
		fmt.Printf("%s: %s\n", args[0], out["status"])
		return nil
	}}
	c.AddCommand(holds, resume)
	return c
}
