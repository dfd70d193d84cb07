package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/apiclient"
	"github.com/tocsin/tocsin/internal/app"
	"github.com/tocsin/tocsin/internal/client"
	"github.com/tocsin/tocsin/internal/codec"
	"github.com/tocsin/tocsin/internal/csvout"
	"github.com/tocsin/tocsin/internal/devtools/devpeers"
	"github.com/tocsin/tocsin/internal/envfile"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/templates"
	"github.com/tocsin/tocsin/workflows"
)

var (
	server    string
	output    string
	logFormat string
	envFile   string
)

func rootCmd() *cobra.Command {
	root := &cobra.Command{Use: "tocsin", Short: "Security-incident notification and breach-response orchestrator", SilenceUsage: true, SilenceErrors: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			if err := checkLogFormat(); err != nil {
				return err
			}
			return loadEnvFile(envFile)
		}}
	root.PersistentFlags().StringVar(&server, "server", "", "Tocsin API URL (default $TOCSIN_SERVER or http://127.0.0.1:8080)")
	root.PersistentFlags().StringVarP(&output, "output", "o", "text", "output format: text or json (register: csv too)")
	root.PersistentFlags().StringVar(&envFile, "env-file", "", "read NAME=value lines into the environment first, as sourcing it would (a peers.env where there is no shell)")
	root.PersistentFlags().StringVar(&logFormat, "log-format", "text", "log format of the long-running commands (dev, peers, serve, worker): text or json (one object a line, for a log pipeline)")
	root.AddCommand(devCmd(), peersCmd(), namespaceCmd(), codecCmd(), serveCmd(), workerCmd(), inventoryCmd(), incidentCmd(), outboxCmd(), tokenCmd(), benchCmd(), playbookCmd(), drillCmd(), evidenceCmd(), registerCmd(), channelCmd())
	return root
}

func newLogger() *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if logFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// loadEnvFile sets each NAME=value line of path in the environment; blank
// lines and # comments are skipped, and a line of another shape is named.
func loadEnvFile(path string) error {
	if path == "" {
		return nil
	}
	vals, err := envfile.Read(path)
	if err != nil {
		return fmt.Errorf("--env-file: %w", err)
	}
	for k, v := range vals {
		os.Setenv(k, v)
	}
	return nil
}

// checkLogFormat refuses a --log-format nobody can read.
func checkLogFormat() error {
	if logFormat != "text" && logFormat != "json" {
		return fmt.Errorf("--log-format %q: use text or json", logFormat)
	}
	return nil
}

func devCmd() *cobra.Command {
	cfg := app.DevConfig{}
	var faultSpec string
	var faultSeed int64
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run everything in one process: embedded Temporal, worker, API, console and local message peers",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Log = newLogger()
			faults, err := devpeers.ParseFaults(faultSpec, faultSeed)
			if err != nil {
				return fmt.Errorf("--peer-faults: %w", err)
			}
			cfg.PeerFaults = faults
			d, err := app.StartDev(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			fmt.Printf("Tocsin dev mode is running.\n  console and API  %s\n  Temporal         %s\n  SMTP peer        %s\n  Twilio peer      %s\n  Slack peer       %s\n  tokens           %s/dev-tokens.env\n  peers            %s/dev-peers.env\n",
				d.URL, d.TemporalAddr, d.SMTPAddr, d.TwilioURL, d.SlackURL, cfg.DataDir, cfg.DataDir)
			if spec := faults.String(); spec != "" {
				fmt.Printf("  peer faults      %s (seed %d)\n", spec, faultSeed)
			}
			fmt.Printf("Press Ctrl-C to stop; state stays in %s.\n", cfg.DataDir)
			<-cmd.Context().Done()
			fmt.Println("stopping...")
			d.Stop()
			return nil
		},
	}
	cmd.Flags().StringVar(&cfg.DataDir, "data", "./data", "directory for all state (Temporal, inventory, ledger, outbox)")
	cmd.Flags().StringVar(&cfg.Database, "database", "", "Tocsin's store: empty for DATA/tocsin.db (SQLite), or postgres://user:pass@host/db")
	cmd.Flags().StringVar(&cfg.Listen, "listen", "127.0.0.1:8080", "address of the API, console and webhooks")
	cmd.Flags().IntVar(&cfg.TemporalPort, "temporal-port", 7233, "port of the embedded Temporal frontend (0 picks one)")
	cmd.Flags().StringVar(&cfg.SMTPListen, "smtp-listen", "127.0.0.1:2525", "address of the local SMTP peer")
	cmd.Flags().StringVar(&cfg.PlaybookDir, "playbooks", "", "directory of playbooks that override the built-in ones")
	cmd.Flags().BoolVar(&cfg.ExternalWorker, "no-worker", false, "run no worker here: start them with `tocsin worker --dev DATA` (a crash test kills them)")
	peerFaultFlags(cmd, &faultSpec, &faultSeed)
	return cmd
}

func peersCmd() *cobra.Command {
	cfg := app.PeersConfig{}
	var faultSpec string
	var faultSeed int64
	cmd := &cobra.Command{
		Use:   "peers",
		Short: "Run the local peers alone (Twilio, SMTP, Slack, on-site, press, OIDC) for staging and cluster tests",
		Long: `Runs the stand-ins for Twilio, the mail relay, Slack, the on-site notice service, the press
webhook and an identity provider, and writes DATA/peers.env: where each one is and the
credentials it accepts and signs with. Source peers.env before ` + "`tocsin serve`" + ` and
` + "`tocsin worker`" + ` and their production config is aimed at the peers.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Log = newLogger()
			faults, err := devpeers.ParseFaults(faultSpec, faultSeed)
			if err != nil {
				return fmt.Errorf("--peer-faults: %w", err)
			}
			cfg.Faults = faults
			p, err := app.StartPeers(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			fmt.Printf("Tocsin's local peers are running.\n  HTTP (Twilio, Slack, on-site, press, OIDC)  %s\n  SMTP                                        %s\n  environment                                 %s/peers.env\n",
				p.URL, p.SMTPAddr, cfg.DataDir)
			if spec := faults.String(); spec != "" {
				fmt.Printf("  peer faults                                 %s (seed %d)\n", spec, faultSeed)
			}
			<-cmd.Context().Done()
			p.Stop()
			return nil
		},
	}
	cmd.Flags().StringVar(&cfg.DataDir, "data", "./peers", "directory for the peers' outbox, credentials and peers.env")
	cmd.Flags().StringVar(&cfg.Listen, "listen", "127.0.0.1:8090", "address of the peers' HTTP APIs")
	cmd.Flags().StringVar(&cfg.SMTPListen, "smtp-listen", "127.0.0.1:2525", "address of the SMTP peer")
	cmd.Flags().StringVar(&cfg.Advertise, "advertise", "", "host:port that peers.env names, when Tocsin reaches the peers by another name (a container's service name)")
	cmd.Flags().StringVar(&cfg.BounceRelay, "bounce-relay", "", "Tocsin's bounce mailbox (bounces.listen of `tocsin serve`); the SMTP peer returns bounces there")
	peerFaultFlags(cmd, &faultSpec, &faultSeed)
	return cmd
}

// peerFaultFlags are the game-day flags of the commands that run local peers.
func peerFaultFlags(cmd *cobra.Command, spec *string, seed *int64) {
	cmd.Flags().StringVar(spec, "peer-faults", "", "make the local peers slow, failing or silent, e.g. twilio.latency=20s@0.05,twilio.accept_then_timeout=0.02,smtp.tempfail=0.05 (see docs/campaigns.md)")
	cmd.Flags().Int64Var(seed, "peer-faults-seed", 1, "seed of the fault profile: the same seed gives the same messages the same faults")
}

func namespaceCmd() *cobra.Command {
	var path string
	var retention time.Duration
	ensure := &cobra.Command{Use: "ensure", Short: "Register the config's Temporal namespace unless it exists, and show its retention", RunE: func(cmd *cobra.Command, _ []string) error {
		c, err := app.LoadConfig(path)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
		defer cancel()
		kept, created, err := app.EnsureNamespace(ctx, c, retention, newLogger())
		if err != nil {
			return err
		}
		verb := "exists"
		if created {
			verb = "registered"
		}
		fmt.Printf("namespace %s %s; closed workflows are kept %s\n", c.Temporal.Namespace, verb, kept)
		return nil
	}}
	ensure.Flags().StringVar(&path, "config", "tocsin.yaml", "configuration file (temporal.address, namespace, TLS)")
	ensure.Flags().DurationVar(&retention, "retention", 90*24*time.Hour, "how long Temporal keeps a closed incident's workflow, for a new namespace")
	cmd := &cobra.Command{Use: "namespace", Short: "Set up the Temporal namespace Tocsin runs in"}
	cmd.AddCommand(ensure)
	return cmd
}

func codecCmd() *cobra.Command {
	var path string
	key := &cobra.Command{Use: "key", Short: "Make a new payload key: appended to --key-file (0600 if new), or printed as ID:BASE64 for TOCSIN_CODEC_KEYS", Args: cobra.NoArgs,
		Long: "The newest key encrypts from the next start of serve and the workers; the older keys still decrypt.\nKeep every key while a history encrypted with it may still be read (the namespace's retention).\nWith TOCSIN_CODEC_KEYS, append \",\" and the printed key to the old value.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if path == "" {
				line, err := codec.NewKeyLine(time.Now())
				if err != nil {
					return err
				}
				fmt.Println(strings.Replace(line, " ", ":", 1))
				return nil
			}
			id, err := codec.AppendKey(path, time.Now())
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			keys, err := codec.LoadKeyFile(path)
			if err != nil {
				return err
			}
			fmt.Printf("%s: key %s added and current (%d keys); restart serve and the workers to encrypt with it, and keep the old keys while any history needs them\n", path, id, len(keys.IDs()))
			return nil
		}}
	key.Flags().StringVar(&path, "key-file", "", "the key file to append to (temporal.codec_key_file; DATA/codec.keys for tocsin dev)")
	cmd := &cobra.Command{Use: "codec", Short: "Keys that encrypt what Temporal holds"}
	cmd.AddCommand(key)
	return cmd
}

func serveCmd() *cobra.Command {
	var path, metricsListen string
	cmd := &cobra.Command{Use: "serve", Short: "Run the HTTP API against an external Temporal cluster", RunE: func(cmd *cobra.Command, _ []string) error {
		c, err := app.LoadConfig(path)
		if err != nil {
			return err
		}
		if metricsListen != "" {
			c.Metrics.Listen = metricsListen
		}
		return app.RunServe(cmd.Context(), c, newLogger())
	}}
	cmd.Flags().StringVar(&path, "config", "tocsin.yaml", "configuration file (secrets come from the environment)")
	cmd.Flags().StringVar(&metricsListen, "metrics-listen", "", "address of /metrics, /healthz and /readyz (overrides metrics.listen)")
	return cmd
}

func workerCmd() *cobra.Command {
	var path, devDir, devDB, metricsListen string
	cmd := &cobra.Command{Use: "worker", Short: "Run workflows and activities with the real providers (or, with --dev DIR, for a running `tocsin dev`)", RunE: func(cmd *cobra.Command, _ []string) error {
		if devDir != "" {
			return app.RunDevWorker(cmd.Context(), app.DevWorkerConfig{DataDir: devDir, Database: devDB, Log: newLogger()})
		}
		c, err := app.LoadConfig(path)
		if err != nil {
			return err
		}
		if metricsListen != "" {
			c.Metrics.Listen = metricsListen
		}
		return app.RunWorker(cmd.Context(), c, newLogger())
	}}
	cmd.Flags().StringVar(&path, "config", "tocsin.yaml", "configuration file (secrets come from the environment)")
	cmd.Flags().StringVar(&metricsListen, "metrics-listen", "", "address of /metrics, /healthz and /readyz (overrides metrics.listen)")
	cmd.Flags().StringVar(&devDir, "dev", "", "the --data directory of a running `tocsin dev`: add a worker to it")
	cmd.Flags().StringVar(&devDB, "database", "", "with --dev: the dev server's store, if not DIR/tocsin.db")
	return cmd
}

func tokenCmd() *cobra.Command {
	var db, identity, role string
	var expires time.Duration
	open := func() (*store.Store, error) { return store.Open(db) }
	cmd := &cobra.Command{Use: "token", Short: "Create an API token for an identity and role (production); list and revoke them", RunE: func(cmd *cobra.Command, _ []string) error {
		switch role {
		case api.RoleResponder, api.RoleLegal, api.RoleAdmin, api.RoleViewer, api.RoleDrill, api.RolePlatform:
		default:
			return fmt.Errorf("--role %q: use responder, legal, admin, viewer, drill (runs drills, sees drill incidents only) or platform (reads on-site inboxes only)", role)
		}
		if identity == "" || !strings.Contains(identity, "@") {
			return fmt.Errorf("--identity %q: give the e-mail address the person signs in with", identity)
		}
		if expires < 0 {
			return fmt.Errorf("--expires %s: give a positive duration (720h) or leave it out for a token that does not expire", expires)
		}
		st, err := open()
		if err != nil {
			return err
		}
		defer st.Close()
		tok := api.NewToken()
		t := store.Token{Identity: identity, Role: role}
		if expires > 0 {
			t.Expires = time.Now().Add(expires)
		}
		if err := st.PutToken(cmd.Context(), api.HashToken(tok), t); err != nil {
			return err
		}
		fmt.Println(tok)
		return nil
	}}
	cmd.PersistentFlags().StringVar(&db, "database", "tocsin.db", "Tocsin's database: a SQLite file or postgres://...")
	cmd.Flags().StringVar(&identity, "identity", "", "who the token belongs to (email)")
	cmd.Flags().StringVar(&role, "role", "", "responder, legal, admin, viewer, drill or platform")
	cmd.Flags().DurationVar(&expires, "expires", 0, "how long the token is valid (720h); none: until revoked")

	var output string
	list := &cobra.Command{Use: "list", Short: "List API tokens: ID, identity, role, created, expires (never the tokens themselves)", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		st, err := open()
		if err != nil {
			return err
		}
		defer st.Close()
		toks, err := st.APITokens(cmd.Context())
		if err != nil {
			return err
		}
		if output == "json" {
			type row struct {
				ID       string     `json:"id"`
				Identity string     `json:"identity"`
				Role     string     `json:"role"`
				Created  time.Time  `json:"created_at"`
				Expires  *time.Time `json:"expires_at,omitempty"`
				Expired  bool       `json:"expired,omitempty"`
			}
			rows := []row{}
			for _, t := range toks {
				r := row{ID: t.ID, Identity: t.Identity, Role: t.Role, Created: t.Created}
				if !t.Expires.IsZero() {
					r.Expires, r.Expired = &t.Expires, time.Now().After(t.Expires)
				}
				rows = append(rows, r)
			}
			return printJSON(rows)
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tIDENTITY\tROLE\tCREATED\tEXPIRES")
		for _, t := range toks {
			exp := "never"
			if !t.Expires.IsZero() {
				exp = t.Expires.UTC().Format(time.RFC3339)
				if time.Now().After(t.Expires) {
					exp += " (expired)"
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.Identity, t.Role, t.Created.UTC().Format(time.RFC3339), exp)
		}
		return tw.Flush()
	}}
	list.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	revoke := &cobra.Command{Use: "revoke ID", Short: "Revoke an API token (ID as `token list` shows it): end its identity's console sessions and suspend their Slack mapping until a token is issued to them again", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
		st, err := open()
		if err != nil {
			return err
		}
		defer st.Close()
		t, err := st.RevokeToken(cmd.Context(), args[0])
		if err != nil {
			return err
		}
		fmt.Printf("revoked token %s of %s (%s); their console sessions are ended and their Slack mapping suspended\n", t.ID, t.Identity, t.Role)
		return nil
	}}
	cmd.AddCommand(list, revoke)
	return cmd
}

func api0() *client.Client { return client.FromEnv(server) }

// apiCalls is the API as typed calls, for every command but the streams.
func apiCalls() *apiclient.Client { return apiclient.New(api0()) }

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func inventoryCmd() *cobra.Command {
	inv := &cobra.Command{Use: "inventory", Short: "Manage the data inventory"}
	var systems, subjects string
	var maxErrors int
	imp := &cobra.Command{Use: "import", Short: "Import systems.yaml and subjects.csv as a new snapshot (all or nothing)", RunE: func(cmd *cobra.Command, _ []string) error {
		var res store.ImportResult
		bar := newProgressBar("uploading " + filepath.Base(subjects))
		uploaded := false
		err := api0().ImportInventory(cmd.Context(), systems, subjects, maxErrors, func(sent, total, lines int64) {
			bar.update(sent, total, lines)
			if sent == total && !uploaded {
				uploaded = true
				bar.done("uploaded; the server is checking duplicates and indexing...")
			}
		}, &res)
		if !uploaded {
			bar.done("")
		}
		if err != nil {
			return err
		}
		if output == "json" {
			return printJSON(res)
		}
		prev := "first inventory"
		if res.Previous > 0 {
			prev = fmt.Sprintf("replaces snapshot %d; incidents opened before keep theirs", res.Previous)
		}
		fmt.Printf("imported snapshot %d: %d systems, %d subjects in %.1fs (%s)\n", res.Snapshot, res.Systems, res.Subjects, res.Seconds, prev)
		return nil
	}}
	imp.Flags().StringVar(&systems, "systems", "systems.yaml", "systems file")
	imp.Flags().StringVar(&subjects, "subjects", "subjects.csv", "subjects file")
	imp.Flags().IntVar(&maxErrors, "max-errors", 100, "stop checking after this many bad rows")
	list := &cobra.Command{Use: "list", Short: "List the imported inventory snapshots, newest first", RunE: func(cmd *cobra.Command, _ []string) error {
		snaps, err := apiCalls().Snapshots(cmd.Context())
		if err != nil {
			return err
		}
		if output == "json" {
			return printJSON(snaps)
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SNAPSHOT\tSUBJECTS\tSYSTEMS\tIMPORTED\tBY\tFILE\t")
		for _, s := range snaps {
			cur := ""
			if s.Current {
				cur = " (current)"
			}
			fmt.Fprintf(tw, "%d%s\t%d\t%d\t%s\t%s\t%s\t\n", s.ID, cur, s.Subjects, s.Systems, s.ImportedAt.Format(time.RFC3339), s.ImportedBy, s.SubjectsFile)
		}
		return tw.Flush()
	}}
	prune := &cobra.Command{Use: "prune", Short: "Drop old snapshots that no incident scoped against (the current one is kept)", RunE: func(cmd *cobra.Command, _ []string) error {
		dropped, err := apiCalls().PruneSnapshots(cmd.Context())
		if err != nil {
			return err
		}
		if output == "json" {
			return printJSON(map[string][]int64{"dropped": dropped})
		}
		fmt.Printf("dropped %d snapshot(s) %v\n", len(dropped), dropped)
		return nil
	}}
	inv.AddCommand(imp, list, prune)
	return inv
}

func incidentCmd() *cobra.Command {
	inc := &cobra.Command{Use: "incident", Short: "Open, follow and decide on incidents"}
	var file, subjectsFile string
	open := &cobra.Command{Use: "open", Short: "Open an incident from a YAML file; prints its ID on the last line", RunE: func(cmd *cobra.Command, _ []string) error {
		var res apiclient.Opened
		if subjectsFile != "" {
			var err error
			if res, err = apiCalls().OpenIncidentNamed(cmd.Context(), file, subjectsFile); err != nil {
				return err
			}
		} else {
			data, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			if res, err = apiCalls().OpenIncident(cmd.Context(), api.OpenRequest{File: file, YAML: string(data)}); err != nil {
				return err
			}
		}
		if output == "json" {
			return printJSON(res)
		}
		fmt.Println("opened incident; legal will be asked to approve the drafts")
		fmt.Println(res["id"])
		return nil
	}}
	open.Flags().StringVarP(&file, "file", "f", "incident.yaml", "incident file")
	open.Flags().StringVar(&subjectsFile, "subjects-file", "", "limit the scope to these subject IDs (one per line, or a CSV with a subject_id column), as forensics named them")

	var lf struct {
		status, drill, from, to, jurisdiction, after string
		limit                                        int
		all                                          bool
	}
	list := &cobra.Command{Use: "list", Short: "List incidents, newest first, a page at a time (filters: --status, --drill, --from/--to, --jurisdiction)", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		q := url.Values{}
		for k, v := range map[string]string{"status": lf.status, "drill": lf.drill, "from": lf.from, "to": lf.to, "jurisdiction": lf.jurisdiction, "after": lf.after} {
			if v != "" {
				q.Set(k, v)
			}
		}
		if lf.limit > 0 {
			q.Set("limit", strconv.Itoa(lf.limit))
		}
		var all []api.ListItem
		for {
			page, next, err := apiCalls().ListIncidents(cmd.Context(), q)
			if err != nil {
				return err
			}
			all = append(all, page...)
			if next == "" {
				break
			}
			if !lf.all {
				fmt.Fprintf(os.Stderr, "more incidents: add --after %s (or --all)\n", next)
				break
			}
			q.Set("after", next)
		}
		if output == "json" {
			if all == nil {
				all = []api.ListItem{}
			}
			return printJSON(all)
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTATUS\tAFFECTED\tREACHED\tOPENED\tTITLE")
		for _, v := range all {
			id := v.ID
			if v.Drill {
				id += " (drill)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", id, v.Status, v.Scope.Subjects, v.Notifications.Reached, v.OpenedAt.UTC().Format("2006-01-02 15:04"), v.Title)
		}
		return tw.Flush()
	}}
	list.Flags().StringVar(&lf.status, "status", "", "only incidents at these stages (comma-separated: open, notifying, filing, closed, ...)")
	list.Flags().StringVar(&lf.drill, "drill", "", "true: only drills; false: no drills")
	list.Flags().StringVar(&lf.from, "from", "", "opened at or after this date or time (2026-03-01, or RFC 3339)")
	list.Flags().StringVar(&lf.to, "to", "", "opened before the end of this date, or before this time")
	list.Flags().StringVar(&lf.jurisdiction, "jurisdiction", "", "only incidents with a duty in this jurisdiction (EU, UK, US-CA, ...)")
	list.Flags().IntVar(&lf.limit, "limit", 0, "incidents per page (default 100, at most 1000)")
	list.Flags().StringVar(&lf.after, "after", "", "the page after this cursor (printed when there are more)")
	list.Flags().BoolVar(&lf.all, "all", false, "read every page")

	show := &cobra.Command{Use: "show ID", Short: "Show an incident's stage, scope, duties, drafts and notifications", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
		v, err := apiCalls().Incident(cmd.Context(), args[0])
		if err != nil {
			return err
		}
		if output == "json" {
			return printJSON(v)
		}
		printView(os.Stdout, v)
		return nil
	}}

	var draft, comment, reason string
	var decided int
	var sets []string
	decision := func(use, short, action string) *cobra.Command {
		c := &cobra.Command{Use: use + " ID", Short: short, Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			req := api.DecisionRequest{Draft: draft, Comment: comment, Reason: reason, Revision: decided}
			if (action == "approve" || action == "reject") && decided == 0 {
				// The decision holds for the revision shown now; say which,
				// so a reviewer who read another one notices.
				rev, err := currentRevision(cmd.Context(), args[0], draft)
				if err != nil {
					return err
				}
				req.Revision = rev
				fmt.Fprintf(os.Stderr, "%s revision %d (as incident show lists it now; --revision N names the one you read)\n", draft, rev)
			}
			if action == "revise" {
				req.Changes = map[string]string{}
				for _, s := range sets {
					k, v, ok := strings.Cut(s, "=")
					if !ok {
						return fmt.Errorf("--set %q: want field=value", s)
					}
					req.Changes[k] = v
				}
			}
			out, err := apiCalls().Decide(cmd.Context(), args[0], action, req)
			if err != nil {
				return err
			}
			if output == "json" {
				return printJSON(out)
			}
			fmt.Println(decisionLine(action, draft, out))
			return nil
		}}
		c.Flags().StringVar(&draft, "draft", "", "draft name (see incident show)")
		c.MarkFlagRequired("draft")
		return c
	}
	approve := decision("approve", "Approve a draft (legal only; not your own incident or draft)", "approve")
	approve.Flags().IntVar(&decided, "revision", 0, "the revision you reviewed (default: the one incident show lists now); refused if it changed since")
	approve.Flags().StringVar(&comment, "comment", "", "comment kept with the approval")
	reject := decision("reject", "Reject a draft with a reason (legal only)", "reject")
	reject.Flags().StringVar(&reason, "reason", "", "why, so it can be revised")
	reject.MarkFlagRequired("reason")
	reject.Flags().IntVar(&decided, "revision", 0, "the revision you reviewed (default: the one incident show lists now); refused if it changed since")
	revise := decision("revise", "Revise a rejected draft's facts (responders)", "revise")
	revise.Flags().StringArrayVar(&sets, "set", nil, "key=value; keys: "+strings.Join(workflows.Settable, ", "))

	var pageSize int
	var after string
	var onePage bool
	subjects := &cobra.Command{Use: "subjects ID", Short: "Page through the affected people: what leaked, how they can be reached, how they were told (CSV, or -o json)",
		Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			return pageSubjects(cmd.Context(), args[0], after, pageSize, onePage)
		}}
	subjects.Flags().IntVar(&pageSize, "page-size", 1000, "subjects per request")
	subjects.Flags().StringVar(&after, "after", "", "start after this subject ID (the cursor a previous page ended on)")
	subjects.Flags().BoolVar(&onePage, "one-page", false, "print one page only, then the cursor for the next on stderr")
	var sub api.SubmitRequest
	submit := &cobra.Command{Use: "submit ID", Short: "Record that an obligation was filed: who, when, the regulator's reference (a late filing needs the reasons)",
		Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			out, err := apiCalls().Submit(cmd.Context(), args[0], sub)
			if err != nil {
				return err
			}
			if output == "json" {
				return printJSON(out)
			}
			fmt.Printf("%s filed by %s at %s, reference %s\n", sub.Obligation, out.By, out.At.UTC().Format(time.RFC3339), out.Reference)
			return nil
		}}
	submit.Flags().StringVar(&sub.Obligation, "obligation", "", "obligation name (see incident show)")
	submit.Flags().StringVar(&sub.Reference, "reference", "", "the regulator's reference or receipt")
	submit.Flags().StringVar(&sub.LateReason, "late-reason", "", "why the filing is late (required after the due time)")
	submit.MarkFlagRequired("obligation")
	submit.MarkFlagRequired("reference")
	var waiver api.WaiveRequest
	waive := &cobra.Command{Use: "waive ID", Short: "Record that a duty does not apply, and why (legal; the breach register keeps it). A duty to tell people, waived before notice begins, withholds notice from the residents it covers",
		Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			out, err := apiCalls().Waive(cmd.Context(), args[0], waiver)
			if err != nil {
				return err
			}
			if output == "json" {
				return printJSON(out)
			}
			fmt.Printf("%s waived by %s at %s: %s\n", waiver.Obligation, out.By, out.At.UTC().Format(time.RFC3339), out.WaivedBecause)
			return nil
		}}
	waive.Flags().StringVar(&waiver.Obligation, "obligation", "", "obligation name (see incident show)")
	waive.Flags().StringVar(&waiver.Reason, "reason", "", "why the duty does not apply (kept in the register)")
	waive.MarkFlagRequired("obligation")
	waive.MarkFlagRequired("reason")
	var factSets []string
	facts := &cobra.Command{Use: "facts ID", Short: "Supply or correct facts the drafts state (cause, organisation, reporter, dpo_contact, ...); drafts waiting for legal are drafted again",
		Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			req := api.FactsRequest{Set: map[string]string{}}
			for _, s := range factSets {
				k, v, ok := strings.Cut(s, "=")
				if !ok || strings.TrimSpace(k) == "" {
					return fmt.Errorf("--set %q: want key=value", s)
				}
				req.Set[strings.TrimSpace(k)] = v
			}
			out, err := apiCalls().SetFacts(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			if output == "json" {
				return printJSON(out)
			}
			for _, d := range out.Drafts {
				fmt.Printf("%s revision %d: %s\n", d.Name, d.Revision, draftStatus(d))
			}
			return nil
		}}
	facts.Flags().StringArrayVar(&factSets, "set", nil, "key=value; keys: "+strings.Join(workflows.Settable, ", "))
	facts.MarkFlagRequired("set")

	var revision int
	var format string
	draftCmd := &cobra.Command{Use: "draft ID NAME", Short: "Print a draft as plain text for filing, or as HTML (--format html)",
		Args: cobra.ExactArgs(2), RunE: func(cmd *cobra.Command, args []string) error {
			d, err := apiCalls().Draft(cmd.Context(), args[0], args[1], revision)
			if err != nil {
				return err
			}
			switch {
			case output == "json":
				return printJSON(d)
			case format == "html":
				fmt.Print(templates.Document(d.Title, d.HTML, d.Locale))
			case format == "text" || format == "":
				fmt.Printf("%s\n\n%s\n", d.Title, d.Body)
			default:
				return fmt.Errorf("--format %q: want text or html", format)
			}
			return nil
		}}
	draftCmd.Flags().IntVar(&revision, "revision", 0, "revision (default: the latest)")
	draftCmd.Flags().StringVar(&format, "format", "text", "text or html")
	var releaseReason string
	releaseCalls := &cobra.Command{Use: "release-calls ID", Short: "Place calls held for quiet hours now, and later ones at any hour: the harm is urgent (legal, admins; audited)",
		Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			var out store.QuietRelease
			if err := api0().Do(cmd.Context(), "POST", "/api/v1/incidents/"+args[0]+"/release-calls", api.ReleaseCallsRequest{Reason: releaseReason}, &out); err != nil {
				return err
			}
			if output == "json" {
				return printJSON(out)
			}
			fmt.Printf("%s: calls released from quiet hours by %s at %s: %s\n", args[0], out.By, out.At.UTC().Format("2006-01-02 15:04 UTC"), out.Reason)
			return nil
		}}
	releaseCalls.Flags().StringVar(&releaseReason, "reason", "", "why the harm cannot wait for the morning (kept in the audit log)")
	releaseCalls.MarkFlagRequired("reason")
	inc.AddCommand(open, list, show, watchCmd(), exportCmd(), approve, reject, revise, subjects, submit, waive, facts, draftCmd, releaseCalls)
	return inc
}

func printView(w io.Writer, v api.View) {
	fmt.Fprintf(w, "%s  %s\nstatus: %s   opened by %s at %s\n", v.ID, v.Title, v.Status, v.OpenedBy, v.OpenedAt.Format(time.RFC3339))
	if v.Error != "" {
		fmt.Fprintf(w, "error: %s\n", v.Error)
	}
	var regions []string
	for r, n := range v.Scope.ByRegion {
		regions = append(regions, fmt.Sprintf("%s %d", r, n))
	}
	sort.Strings(regions)
	fmt.Fprintf(w, "\nscope: %d people (%s); %d sensitive, %d minors, %d unreachable\n", v.Scope.Subjects, strings.Join(regions, ", "), v.Scope.Sensitive, v.Scope.Minors, v.Scope.Unreachable)
	fmt.Fprintf(w, "  inventory snapshot %d; leaked: %s; reachable by on-site %d, email %d, phone %d\n", v.Scope.Snapshot, strings.Join(v.Scope.Categories, ", "),
		v.Scope.Reachable["onsite"], v.Scope.Reachable["email"], v.Scope.Reachable["phone"])
	if v.Scope.NamedSubjects > 0 {
		fmt.Fprintf(w, "  limited to the %d subject IDs in %s\n", v.Scope.NamedSubjects, v.Scope.SubjectsFile)
	}
	fmt.Fprintln(w, "\nobligations:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, o := range v.Obligations {
		due := o.Due
		if o.DueAt != nil {
			due = o.DueLocal + " (" + o.Due + ")"
		}
		status := o.Status
		if f := o.Filing; f != nil && f.Status == workflows.FilingSubmitted {
			status += " by " + f.By + " (" + f.Reference + ")"
		} else if f != nil && f.Status == workflows.FilingWaived {
			status += " by " + f.By + ": " + f.WaivedBecause
		}
		if o.Voluntary {
			status += ", voluntary"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", o.Jurisdiction, o.Audience, o.Name, due, status)
	}
	tw.Flush()
	fmt.Fprintln(w, "\ndrafts:")
	var incomplete []string
	for _, d := range v.Drafts {
		by := ""
		if d.ApprovedBy != "" {
			by = " by " + d.ApprovedBy
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\trev %d\t%s%s\n", d.Name, d.Kind, d.Locale, d.Revision, draftStatus(d), by)
		if len(d.Missing) > 0 {
			incomplete = append(incomplete, d.Missing...)
		}
	}
	tw.Flush()
	if len(incomplete) > 0 {
		slices.Sort(incomplete)
		fmt.Fprintf(w, "  the law requires facts nobody has supplied yet: %s\n", workflows.FactsHint(v.ID, slices.Compact(incomplete)))
	}
	if v.Campaign != nil {
		fmt.Fprintln(w, "\ncampaign:")
		for _, l := range campaignLines(v.Campaign, false)[1:] {
			fmt.Fprintln(w, l)
		}
		fmt.Fprintln(w, " ", campaignLines(v.Campaign, true)[0])
	}
	fmt.Fprintln(w, "\n"+notificationsLine(v))
	for _, h := range v.HeldChannels {
		fmt.Fprintf(w, "%s held since %s: %s (next probe %s; notices by %s wait, nobody is written off; `tocsin channel resume %s` once fixed)\n",
			h.Channel, h.Since.UTC().Format("15:04 UTC"), h.Reason, h.ProbeAt.UTC().Format("15:04:05 UTC"), h.Channel, h.Channel)
	}
	if len(v.RefusedRuns) > 0 {
		fmt.Fprintln(w, "\nrefused runs (started outside Tocsin's API; they sent and approved nothing):")
		for _, r := range v.RefusedRuns {
			fmt.Fprintf(w, "  %s  run %s: %s\n", r.At.UTC().Format("2006-01-02 15:04:05 UTC"), r.RunID, r.Reason)
		}
	}
	if v.Announcement.Published {
		fmt.Fprintf(w, "announcement: %s\n", v.Announcement.URL)
	}
}

// currentRevision is a draft's revision as incident show lists it now.
func currentRevision(ctx context.Context, id, draft string) (int, error) {
	v, err := apiCalls().Incident(ctx, id)
	if err != nil {
		return 0, err
	}
	var names []string
	for _, d := range v.Drafts {
		if d.Name == draft {
			return d.Revision, nil
		}
		names = append(names, d.Name)
	}
	return 0, fmt.Errorf("%s has no draft %q (it has: %s)", id, draft, strings.Join(names, ", "))
}

// decisionLine says what a decision on a draft did. A revision answers
// before the new revision is drafted: it says what comes next rather than
// the rejected revision's status.
func decisionLine(action, draft string, d api.DraftView) string {
	if action == "revise" {
		return fmt.Sprintf("%s: revision %d asked for; once drafted it waits for legal's approval (incident show lists it)", draft, d.Revision+1)
	}
	return fmt.Sprintf("%s revision %d is now %s", draft, d.Revision, d.Status)
}

// notificationsLine is the outcome of individual notice, or where it is.
func notificationsLine(v api.View) string {
	n := v.Notifications
	switch {
	case !n.Done && workflows.NoticeBegun(v.Status):
		return "notifications: under way (the campaign above has the live counts)"
	case !n.Done:
		return "notifications: not begun (notice waits for legal's approval and any filing due first)"
	}
	line := fmt.Sprintf("notifications: %d reached", n.Reached)
	if len(n.ByChannel) > 0 {
		var parts []string
		for _, ch := range slices.Sorted(maps.Keys(n.ByChannel)) {
			parts = append(parts, fmt.Sprintf("%s %d", ch, n.ByChannel[ch]))
		}
		line += " (" + strings.Join(parts, ", ") + ")"
	}
	line += fmt.Sprintf(", %d not reachable", n.Failed)
	if n.Withheld > 0 {
		line += fmt.Sprintf(", %d withheld (every duty to tell them waived)", n.Withheld)
	}
	return line
}

// draftStatus is a draft's status as a reviewer reads it.
func draftStatus(d api.DraftView) string {
	if d.Status == workflows.DraftPending && len(d.Missing) > 0 {
		return "incomplete: lacks " + strings.Join(d.Missing, ", ")
	}
	if d.Status == workflows.DraftPending && d.SMSTooLong != "" {
		return "cannot be approved: " + d.SMSTooLong
	}
	return d.Status
}

func outboxCmd() *cobra.Command {
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
			entries, err = apiCalls().Outbox(cmd.Context(), incident)
		}
		if err != nil {
			return err
		}
		if output == "json" {
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

// pageSubjects streams the affected set page by page, so a list of millions
// never sits in memory on either side.
func pageSubjects(ctx context.Context, id, after string, size int, onePage bool) error {
	c := apiCalls()
	w := bufio.NewWriter(os.Stdout)
	var more string
	var cw *csvout.Writer
	if output == "json" {
		w.WriteString("[")
	} else {
		cw = csvout.NewWriter(w)
		cw.Write([]string{"subject_id", "name", "region", "locale", "categories", "sensitive", "minor", "channels", "reached_by", "withheld"})
	}
	first := true
	for {
		page, err := c.Subjects(ctx, id, after, size)
		if err != nil {
			return err
		}
		for _, sub := range page.Subjects {
			if cw != nil {
				cw.Write([]string{sub.SubjectID, sub.Name, sub.Region, sub.Locale, strings.Join(sub.Categories, ";"), strconv.FormatBool(sub.Sensitive),
					strconv.FormatBool(sub.Minor), strings.Join(sub.Channels, ";"), sub.ReachedBy, strconv.FormatBool(sub.Withheld)})
				continue
			}
			b, err := json.Marshal(sub)
			if err != nil {
				return err
			}
			if !first {
				w.WriteString(",")
			}
			w.WriteString("\n  ")
			w.Write(b)
			first = false
		}
		if cw != nil {
			cw.Flush()
			if err := cw.Error(); err != nil {
				return err
			}
		}
		if page.Next == "" {
			break
		}
		if onePage {
			more = page.Next
			break
		}
		after = page.Next
	}
	if output == "json" {
		w.WriteString("\n]\n")
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if more != "" {
		fmt.Fprintf(os.Stderr, "more: --after %s\n", more)
	}
	return nil
}
