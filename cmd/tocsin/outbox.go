package main

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/client"
)

func (cl *cli) outboxCmd() *cobra.Command {
	var incident, peers string
	cmd := &cobra.Command{Use: "outbox", Short: "List what the local peers received (of `tocsin dev`, or with --peers of `tocsin peers`)", RunE: func(cmd *cobra.Command, _ []string) error {
		var entries []api.OutboxEntry
		var err error
		if peers != "" {
			// The standalone peers serve their own outbox, not Tocsin's API.
			c := &client.Client{Server: strings.TrimRight(peers, "/"), Token: os.Getenv("TOCSIN_PEERS_TOKEN")}
			if c.Token == "" {
				return fmt.Errorf("--peers: set TOCSIN_PEERS_TOKEN (source the peers' peers.env)")
			}
			err = c.Do(cmd.Context(), "GET", "/outbox?incident="+url.QueryEscape(incident), nil, &entries)
		} else {
			entries, err = cl.apiCalls().Outbox(cmd.Context(), incident)
		}
		if err != nil {
			return err
		}
		if cl.output == "json" {
			return printJSON(entries)
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "AT\tINCIDENT\tSUBJECT\tCHANNEL\tTO\tSTATUS")
		for _, e := range entries {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.At.Format("15:04:05"), e.IncidentID, e.SubjectID, e.Channel, e.To, e.Status)
		}
		return tw.Flush()
	}}
	cmd.Flags().StringVar(&incident, "incident", "", "only this incident")
	cmd.Flags().StringVar(&peers, "peers", "", "URL of a `tocsin peers` (TOCSIN_PEERS in its peers.env), instead of the dev server")
	return cmd
}
