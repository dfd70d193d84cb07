package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/client"
	"github.com/tocsin/tocsin/internal/store"
)

func (cl *cli) drillCmd() *cobra.Command {
	d := &cobra.Command{Use: "drill", Short: "Run the whole plan on a synthetic breach, confined to drill sinks, and grade it against the playbook's targets"}
	var req api.DrillRequest
	var noWait bool
	var timeout time.Duration
	run := &cobra.Command{Use: "run", Short: "Run a drill now and print its report (exit 1 if it failed)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			id, err := cl.apiCalls().RunDrill(cmd.Context(), req)
			if err != nil {
				return err
			}
			if noWait {
				fmt.Println(id)
				return nil
			}
			fmt.Fprintf(os.Stderr, "drill %s started; waiting for its report (Ctrl-C leaves it running; tocsin drill show %s)\n", id, id)
			v, err := cl.waitDrill(cmd.Context(), id, timeout)
			if err != nil {
				return err
			}
			if cl.output == "json" {
				if err := printJSON(v); err != nil {
					return err
				}
			} else {
				printDrill(os.Stdout, v)
			}
			if v.Status != store.DrillPassed {
				return fmt.Errorf("drill %s %s", id, v.Status)
			}
			return nil
		}}
	flags := func(c *cobra.Command, req *api.DrillRequest) {
		c.Flags().StringVar(&req.Playbook, "playbook", "default", "playbook to drill")
		c.Flags().BoolVar(&req.Attended, "attended", false, "people approve and file; otherwise the drill identity does after --approval-delay")
		c.Flags().StringVar(&req.ApprovalDelay, "approval-delay", "30s", "how long the drill identity waits before approving or filing")
		c.Flags().IntVar(&req.Subjects, "subjects", 200, "synthetic people in the drill's inventory")
	}
	flags(run, &req)
	run.Flags().BoolVar(&noWait, "no-wait", false, "print the drill ID and return")
	run.Flags().DurationVar(&timeout, "timeout", time.Hour, "give up waiting after this long")

	list := &cobra.Command{Use: "list", Short: "List drills and whether each passed", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		ds, err := cl.apiCalls().Drills(cmd.Context())
		if err != nil {
			return err
		}
		if cl.output == "json" {
			return printJSON(ds)
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DRILL\tSTARTED\tPLAYBOOK\tBY\tMODE\tSTATUS\tINCIDENT")
		for _, x := range ds {
			mode := "unattended"
			if x.Attended {
				mode = "attended"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.ID, x.StartedAt.Format("2006-01-02 15:04"), x.Playbook, x.RequestedBy, mode, x.Status, x.IncidentID)
		}
		return tw.Flush()
	}}
	show := &cobra.Command{Use: "show ID", Short: "Show a drill's report", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
		v, err := cl.apiCalls().Drill(cmd.Context(), args[0])
		if err != nil {
			return err
		}
		if cl.output == "json" {
			return printJSON(v)
		}
		printDrill(os.Stdout, v)
		return nil
	}}
	var sreq api.DrillRequest
	schedule := &cobra.Command{Use: "schedule", Short: "Schedule drills with a cron expression (a Temporal Schedule); with no --cron, list the schedules", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if sreq.Cron == "" {
				out, err := cl.apiCalls().DrillSchedules(cmd.Context())
				if err != nil {
					return err
				}
				if cl.output == "json" {
					return printJSON(out)
				}
				for _, s := range out {
					fmt.Printf("%s\t%s\t%s\tnext %s\n", s.ID, s.Cron, s.Playbook, s.Next.Format(time.RFC3339))
				}
				return nil
			}
			out, err := cl.apiCalls().ScheduleDrill(cmd.Context(), sreq)
			if err != nil {
				return err
			}
			if cl.output == "json" {
				return printJSON(out)
			}
			fmt.Printf("schedule %s: drills of playbook %s at %q (UTC)\n", out.ID, out.Playbook, out.Cron)
			return nil
		}}
	flags(schedule, &sreq)
	schedule.Flags().StringVar(&sreq.Cron, "cron", "", `cron expression in UTC, e.g. "0 3 * * 1" (Mondays 03:00)`)
	schedule.Flags().StringVar(&sreq.Name, "name", "weekly", "schedule name")
	d.AddCommand(run, list, show, schedule)
	return d
}

func (cl *cli) waitDrill(ctx context.Context, id string, timeout time.Duration) (api.DrillView, error) {
	deadline := time.Now().Add(timeout)
	for {
		v, err := cl.apiCalls().Drill(ctx, id)
		if err == nil && v.Status != store.DrillRunning {
			return v, nil
		}
		// A drill just started may not be in the store yet: 404 is "not yet".
		var apiErr *client.APIError
		if err != nil && !(errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound) {
			return v, err
		}
		if time.Now().After(deadline) {
			return v, fmt.Errorf("drill %s still running after %s (tocsin drill show %s)", id, timeout, id)
		}
		select {
		case <-ctx.Done():
			return v, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func printDrill(w io.Writer, v api.DrillView) {
	fmt.Fprintf(w, "drill %s  playbook %s  by %s  incident %s\nstatus: %s  started %s\n", v.ID, v.Playbook, v.RequestedBy, v.IncidentID, v.Status, v.StartedAt.Format(time.RFC3339))
	if v.Report == nil {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nMILESTONE\tTOOK\tTARGET\tRESULT")
	for _, m := range v.Report.Milestones {
		took, target, result := "not reached", "-", "FAIL"
		if m.Reached {
			took = m.Took.Round(time.Second).String()
		}
		if m.Target > 0 {
			target = m.Target.String()
		}
		if m.Passed {
			result = "pass"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Name, took, target, result)
	}
	tw.Flush()
	var sent []string
	for ch, n := range v.Messages {
		sent = append(sent, fmt.Sprintf("%s %d", ch, n))
	}
	slices.Sort(sent)
	fmt.Fprintf(w, "\ndrill sinks received: %s (nobody real was contacted)\n", strings.Join(sent, ", "))
	for _, n := range v.Report.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}
