package main

import (
	"fmt"
	"os"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tocsin/tocsin/internal/api"
)

// channelCmd shows and resumes channels held because their provider
// refuses Tocsin's own configuration (credentials, sender, account).
func (cl *cli) channelCmd() *cobra.Command {
	c := &cobra.Command{Use: "channel", Short: "Channels held because a provider refuses Tocsin's configuration, and channels' rates"}
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
	rates := &cobra.Command{Use: "rates", Short: "List paced channels: configured rate, rate now, the provider's ceiling", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		var rs []api.RateView
		if err := cl.conn().Do(cmd.Context(), "GET", "/api/v1/channels/rates", nil, &rs); err != nil {
			return err
		}
		if cl.output == "json" {
			return printJSON(rs)
		}
		if len(rs) == 0 {
			fmt.Println("no channel is paced (rates: in the config)")
			return nil
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CHANNEL\tCONFIGURED/S\tNOW/S\tCEILING/S\tSET BY")
		for _, r := range rs {
			ceiling, by := "-", "-"
			if r.Ceiling > 0 {
				ceiling = strconv.FormatFloat(r.Ceiling, 'g', -1, 64)
			}
			if r.SetAt != nil {
				by = r.SetBy + " at " + r.SetAt.UTC().Format("2006-01-02 15:04 UTC")
			}
			fmt.Fprintf(tw, "%s\t%g\t%g\t%s\t%s\n", r.Channel, r.Configured, r.PerSecond, ceiling, by)
		}
		return tw.Flush()
	}}
	rate := &cobra.Command{Use: "rate CHANNEL PER_SECOND", Short: "Set a paced channel's rate for every worker, up to the provider's ceiling in the config (admins)", Args: cobra.ExactArgs(2), RunE: func(cmd *cobra.Command, args []string) error {
		perSecond, err := strconv.ParseFloat(args[1], 64)
		if err != nil {
			return fmt.Errorf("PER_SECOND %q: want a number of messages a second, such as 55 or 0.5", args[1])
		}
		var out api.RateView
		if err := cl.conn().Do(cmd.Context(), "PUT", "/api/v1/channels/"+args[0]+"/rate", api.SetRateRequest{PerSecond: perSecond}, &out); err != nil {
			return err
		}
		if cl.output == "json" {
			return printJSON(out)
		}
		fmt.Printf("%s: %g/s for every worker within 5 s (configured %g/s, ceiling %g/s)\n", out.Channel, out.PerSecond, out.Configured, out.Ceiling)
		return nil
	}}
	c.AddCommand(holds, resume, rates, rate)
	return c
}
