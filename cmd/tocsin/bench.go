package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tocsin/tocsin/internal/devtools/bench"
)

func (cl *cli) benchCmd() *cobra.Command {
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
			if cl.output == "json" {
				return printJSON(res)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "backend\tsubjects\tRSS at rest MB\timport s\trows/s\tpeak RSS MB\tlongest wait s\tscoped\tscope s\tscope RSS MB\ttool import s\ttool rows/s\tratio\ttool indexes s\tratio with indexes\ttool scope s\t")
			for _, r := range res {
				fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.1f\t%.0f\t%.0f\t%.2f\t%d\t%.2f\t%.0f\t%.1f\t%.0f\t%.2f\t%.1f\t%.2f\t%.2f\t\n", r.Backend, r.Subjects, r.RestMB, r.ImportSeconds, r.ImportRowsPerS, r.ImportPeakMB,
					r.ImportLongestWait, r.Scoped, r.ScopeSeconds, r.ScopePeakMB, r.ToolImportSeconds, r.ToolImportRowsPerS, r.ImportRatio(), r.ToolIndexSeconds, r.IndexedRatio(), r.ToolScopeSeconds)
			}
			return tw.Flush()
		}}
	inv.Flags().StringVar(&c.Dir, "dir", "./bench-data", "where the generated files and databases go")
	inv.Flags().IntVar(&c.Subjects, "subjects", 1_000_000, "subjects to generate")
	inv.Flags().StringVar(&backends, "backends", "sqlite", "comma-separated: sqlite,postgres")
	inv.Flags().StringVar(&c.PostgresDSN, "postgres", os.Getenv("TOCSIN_BENCH_POSTGRES"), "PostgreSQL URL for the postgres backend")
	inv.Flags().BoolVar(&c.Shuffled, "shuffled", false, "write the people in no order of their IDs, as most exports are (default: ascending IDs)")
	inv.Flags().BoolVar(&c.Baselines, "baselines", true, "also time sqlite3 .import / psql \\copy and CREATE TABLE AS SELECT")
	var nc bench.NotifyConfig
	var nBackends string
	notify := &cobra.Command{Use: "notify", Short: "Run a whole campaign (everyone affected) through the embedded server and the local peers on each backend, beside the same SDK calls in a plain loop",
		RunE: func(cmd *cobra.Command, _ []string) error {
			nc.Backends = strings.Split(nBackends, ",")
			nc.Log = os.Stderr
			res, err := bench.Notify(cmd.Context(), nc)
			if err != nil {
				return err
			}
			if cl.output == "json" {
				return printJSON(res)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
			if nc.UntilDrafts {
				fmt.Fprintln(tw, "backend\tsubjects\timport s\topen to drafts s\t")
				for _, r := range res {
					fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t\n", r.Backend, r.Subjects, r.ImportSeconds, r.DraftsSeconds)
				}
				return tw.Flush()
			}
			fmt.Fprintln(tw, "backend	faults	subjects	messages	seconds	msg/s	send s	send msg/s	vs fault-free	in doubt	settled s after last send	duplicates	email repeats/possibly twice	onsite/s	email/s	sms/s	voice/s	peak RSS MB	RSS MB at 25/50/75/100%	loop msg/s	loop onsite/s	loop email/s	loop sms/s	ratio	send ratio	CPU ms/msg	loop CPU ms/msg	")
			for _, r := range res {
				var at []string
				for _, m := range r.RSSMBAt {
					at = append(at, fmt.Sprintf("%.0f", m))
				}
				faults := "none"
				if r.Faults != "" {
					faults = "profile"
				}
				fmt.Fprintf(tw, "%s	%s	%d	%d	%.1f	%.0f	%.1f	%.0f	%.2f	%d	%.1f	%d	%d/%d	%.0f	%.0f	%.0f	%.0f	%.0f	%s	%.0f	%.0f	%.0f	%.0f	%.2f	%.2f	%.2f	%.2f	\n", r.Backend, faults, r.Subjects, r.Messages, r.Seconds, r.PerS,
					r.SendSeconds, r.SendPerS, r.FaultRatio, r.InDoubt, r.SettleSeconds, r.Duplicates, r.EmailRepeats, r.PossiblyTwice,
					r.Channels["onsite"], r.Channels["email"], r.Channels["sms"], r.Channels["voice"], r.PeakMB, strings.Join(at, "/"),
					r.BaselinePerS, r.BaselineChannels["onsite"], r.BaselineChannels["email"], r.BaselineChannels["sms"], r.Ratio, r.SendRatio, r.CPUMsPerMessage, r.BaselineCPUMsPerMessage)
			}
			return tw.Flush()
		}}
	notify.Flags().StringVar(&nc.Dir, "dir", "./bench-data", "where the generated files and databases go")
	notify.Flags().IntVar(&nc.Subjects, "subjects", 1_000_000, "people affected (all of a synthetic inventory)")
	notify.Flags().IntVar(&nc.BaselineSubjects, "baseline-subjects", 50_000, "people the plain loop notifies (its rate is compared)")
	notify.Flags().IntVar(&nc.BatchSize, "batch", bench.DefaultBatchSize, "subjects per SendBatch activity")
	notify.Flags().StringVar(&nBackends, "backends", "sqlite", "comma-separated: sqlite,postgres")
	notify.Flags().StringVar(&nc.PostgresDSN, "postgres", os.Getenv("TOCSIN_BENCH_POSTGRES"), "PostgreSQL URL for the postgres backend")
	notify.Flags().StringVar(&nc.PeerFaults, "peer-faults", "", "also run the campaign with the local peers slow and failing as this profile says (as tocsin dev --peer-faults), beside the fault-free run")
	notify.Flags().Int64Var(&nc.FaultSeed, "peer-faults-seed", 1, "seed of the fault profile")
	notify.Flags().IntVar(&nc.BatchWindow, "batch-window", 0, "batches at once per partition (0: the campaign's default)")
	notify.Flags().IntVar(&nc.PartitionWindow, "partition-window", 0, "partitions of the campaign at once (0: the campaign's default)")
	notify.Flags().IntVar(&nc.SendLanes, "send-lanes", 0, "sends at once per batch (0: the worker's default)")
	notify.Flags().IntVar(&nc.SMTPConnections, "smtp-connections", 0, "the e-mail pool's connections to the local relay (0: tocsin dev's 1024); a hung session holds one for 30 s")
	notify.Flags().BoolVar(&nc.Shuffled, "shuffled", false, "write the people in no order of their IDs, as most exports are (default: ascending IDs)")
	notify.Flags().BoolVar(&nc.UntilDrafts, "until-drafts", false, "stop once the drafts wait for legal: time the import and the incident's open to its drafts, no campaign")
	notify.Flags().StringVar(&nc.CPUProfile, "cpu-profile", "", "write the fault-free campaign's CPU profile here, and the one under --peer-faults here with .faults added (go tool pprof reads them)")
	var ic bench.IncidentsConfig
	var iBackends string
	incidents := &cobra.Command{Use: "incidents", Short: "Open many incidents at once on one dev server, steer each to its close with an autopilot, and check nobody was told twice",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ic.Backends = strings.Split(iBackends, ",")
			ic.Log = os.Stderr
			res, err := bench.Incidents(cmd.Context(), ic)
			if err != nil {
				return err
			}
			if cl.output == "json" {
				return printJSON(res)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "backend\tincidents\tpeople each\tclosed\topen all s\tlast closed s\tclosed/min\tmedian incident s\tslowest s\tmessages\tduplicates\temail repeats\tcalls timed out\tpeak RSS MB\t")
			for _, r := range res {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%d\t%d\t%d\t%d\t%.0f\t\n", r.Backend, r.Incidents, r.Subjects, r.Closed, r.OpenSeconds, r.Seconds,
					r.PerMinute, r.MedianSeconds, r.SlowestSeconds, r.Messages, r.Duplicates, r.EmailRepeats, r.TimedOut, r.PeakMB)
			}
			return tw.Flush()
		}}
	incidents.Flags().StringVar(&ic.Dir, "dir", "./bench-data", "where the generated files and databases go")
	incidents.Flags().IntVar(&ic.Incidents, "incidents", 200, "incidents open at once")
	incidents.Flags().IntVar(&ic.Subjects, "subjects", 100, "people in the inventory, each affected by every incident")
	incidents.Flags().StringVar(&iBackends, "backends", "sqlite", "comma-separated: sqlite,postgres")
	incidents.Flags().StringVar(&ic.PostgresDSN, "postgres", os.Getenv("TOCSIN_BENCH_POSTGRES"), "PostgreSQL URL for the postgres backend")
	incidents.Flags().DurationVar(&ic.Poll, "poll", 2*time.Second, "how often each incident's autopilot looks at it")
	incidents.Flags().StringVar(&ic.CPUProfile, "cpu-profile", "", "write the dev process's CPU profile from the first open to the last close here")
	incidents.Flags().DurationVar(&ic.Timeout, "timeout", 30*time.Minute, "give up when not every incident is closed by then")
	b.AddCommand(inv, notify, incidents)
	return b
}
