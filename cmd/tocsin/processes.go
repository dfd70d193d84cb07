package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tocsin/tocsin/internal/app"
	"github.com/tocsin/tocsin/internal/codec"
	"github.com/tocsin/tocsin/internal/devtools/devpeers"
)

func (cl *cli) devCmd() *cobra.Command {
	cfg := app.DevConfig{}
	var faultSpec string
	var faultSeed int64
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run everything in one process: embedded Temporal, worker, API, console and local message peers",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Log = cl.newLogger()
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

func (cl *cli) peersCmd() *cobra.Command {
	cfg := app.PeersConfig{}
	var faultSpec string
	var faultSeed int64
	cmd := &cobra.Command{
		Use:   "peers",
		Short: "Run the local peers alone (Twilio, SMTP, Slack, on-site, press, print, FCM, APNs, OIDC) for staging and cluster tests",
		Long: `Runs the stand-ins for Twilio, the mail relay, Slack, the on-site notice service, the press
webhook and an identity provider, and writes DATA/peers.env: where each one is and the
credentials it accepts and signs with. Source peers.env before ` + "`tocsin serve`" + ` and
` + "`tocsin worker`" + ` and their production config is aimed at the peers.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Log = cl.newLogger()
			faults, err := devpeers.ParseFaults(faultSpec, faultSeed)
			if err != nil {
				return fmt.Errorf("--peer-faults: %w", err)
			}
			cfg.Faults = faults
			p, err := app.StartPeers(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			fmt.Printf("Tocsin's local peers are running.\n  HTTP (Twilio, Slack, on-site, press, OIDC)  %s\n  SMTP                                        %s\n  APNs                                        %s\n  environment                                 %s/peers.env\n",
				p.URL, p.SMTPAddr, p.APNsURL, cfg.DataDir)
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
	cmd.Flags().StringVar(&cfg.APNsListen, "apns-listen", "127.0.0.1:8443", "address of the APNs peer (TLS, HTTP/2; FCM is on --listen)")
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

func (cl *cli) namespaceCmd() *cobra.Command {
	var path string
	var retention time.Duration
	ensure := &cobra.Command{Use: "ensure", Short: "Register the config's Temporal namespace unless it exists, and show its retention", RunE: func(cmd *cobra.Command, _ []string) error {
		c, err := app.LoadConfig(path)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
		defer cancel()
		kept, created, err := app.EnsureNamespace(ctx, c, retention, cl.newLogger())
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

func (cl *cli) codecCmd() *cobra.Command {
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

func (cl *cli) serveCmd() *cobra.Command {
	var path, metricsListen string
	cmd := &cobra.Command{Use: "serve", Short: "Run the HTTP API against an external Temporal cluster", RunE: func(cmd *cobra.Command, _ []string) error {
		c, err := app.LoadConfig(path)
		if err != nil {
			return err
		}
		if metricsListen != "" {
			c.Metrics.Listen = metricsListen
		}
		return app.RunServe(cmd.Context(), c, cl.newLogger())
	}}
	cmd.Flags().StringVar(&path, "config", "tocsin.yaml", "configuration file (secrets come from the environment)")
	cmd.Flags().StringVar(&metricsListen, "metrics-listen", "", "address of /metrics, /healthz and /readyz (overrides metrics.listen)")
	return cmd
}

func (cl *cli) workerCmd() *cobra.Command {
	var path, devDir, devDB, metricsListen string
	cmd := &cobra.Command{Use: "worker", Short: "Run workflows and activities with the real providers (or, with --dev DIR, for a running `tocsin dev`)", RunE: func(cmd *cobra.Command, _ []string) error {
		if devDir != "" {
			return app.RunDevWorker(cmd.Context(), app.DevWorkerConfig{DataDir: devDir, Database: devDB, Log: cl.newLogger()})
		}
		c, err := app.LoadConfig(path)
		if err != nil {
			return err
		}
		if metricsListen != "" {
			c.Metrics.Listen = metricsListen
		}
		return app.RunWorker(cmd.Context(), c, cl.newLogger())
	}}
	cmd.Flags().StringVar(&path, "config", "tocsin.yaml", "configuration file (secrets come from the environment)")
	cmd.Flags().StringVar(&metricsListen, "metrics-listen", "", "address of /metrics, /healthz and /readyz (overrides metrics.listen)")
	cmd.Flags().StringVar(&devDir, "dev", "", "the --data directory of a running `tocsin dev`: add a worker to it")
	cmd.Flags().StringVar(&devDB, "database", "", "with --dev: the dev server's store, if not DIR/tocsin.db")
	return cmd
}
