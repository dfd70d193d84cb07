package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/tocsin/tocsin/internal/apiclient"
	"github.com/tocsin/tocsin/internal/client"
	"github.com/tocsin/tocsin/internal/envfile"
)

// cli holds the global flags every command reads.
type cli struct {
	server    string
	output    string
	logFormat string
	envFile   string
}

func rootCmd() *cobra.Command {
	cl := &cli{}
	root := &cobra.Command{Use: "tocsin", Short: "Security-incident notification and breach-response orchestrator", SilenceUsage: true, SilenceErrors: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			if err := cl.checkLogFormat(); err != nil {
				return err
			}
			return loadEnvFile(cl.envFile)
		}}
	root.PersistentFlags().StringVar(&cl.server, "server", "", "Tocsin API URL (default $TOCSIN_SERVER or http://127.0.0.1:8080)")
	root.PersistentFlags().StringVarP(&cl.output, "output", "o", "text", "output format: text or json (register: csv too)")
	root.PersistentFlags().StringVar(&cl.envFile, "env-file", "", "read NAME=value lines into the environment first, as sourcing it would (a peers.env where there is no shell)")
	root.PersistentFlags().StringVar(&cl.logFormat, "log-format", "text", "log format of the long-running commands (dev, peers, serve, worker): text or json (one object a line, for a log pipeline)")
	root.AddCommand(cl.devCmd(), cl.peersCmd(), cl.namespaceCmd(), cl.codecCmd(), cl.serveCmd(), cl.workerCmd(), cl.inventoryCmd(), cl.incidentCmd(), cl.outboxCmd(), cl.tokenCmd(), cl.benchCmd(), cl.playbookCmd(), cl.drillCmd(), cl.evidenceCmd(), cl.registerCmd(), cl.channelCmd(), cl.inquiriesCmd())
	return root
}

func (cl *cli) newLogger() *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if cl.logFormat == "json" {
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
func (cl *cli) checkLogFormat() error {
	if cl.logFormat != "text" && cl.logFormat != "json" {
		return fmt.Errorf("--log-format %q: use text or json", cl.logFormat)
	}
	return nil
}

// conn is the API connection: --server, else $TOCSIN_SERVER, with $TOCSIN_TOKEN.
func (cl *cli) conn() *client.Client { return client.FromEnv(cl.server) }

// apiCalls is the API as typed calls, for every command but the streams.
func (cl *cli) apiCalls() *apiclient.Client { return apiclient.New(cl.conn()) }

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
