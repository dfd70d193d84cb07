package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/metrics"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/playbooks"
)

// readiness is what a process needs before it can do its job: each check
// names one dependency, and /readyz says which are not ready and why.
type readiness map[string]func(ctx context.Context) error

// ready checks what every Tocsin process needs: the store and Temporal.
func ready(st *store.Store, tc client.Client) readiness {
	return readiness{
		"store": st.Ping,
		"temporal": func(ctx context.Context) error {
			_, err := tc.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		},
	}
}

// readyz answers 200 when every check passes, else 503; both with each
// check's state, so a probe's log says what is wrong.
func (r readiness) readyz(w http.ResponseWriter, req *http.Request) {
	ctx, cancel := context.WithTimeout(req.Context(), 5*time.Second)
	defer cancel()
	names := make([]string, 0, len(r))
	for n := range r {
		names = append(names, n)
	}
	sort.Strings(names)
	out := struct {
		Ready  bool              `json:"ready"`
		Checks map[string]string `json:"checks"`
	}{Ready: true, Checks: map[string]string{}}
	for _, n := range names {
		if err := r[n](ctx); err != nil {
			out.Ready = false
			out.Checks[n] = "not ready: " + err.Error()
		} else {
			out.Checks[n] = "ok"
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if !out.Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	json.NewEncoder(w).Encode(out)
}

func healthz(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") }

// serveOps runs /metrics, /healthz and /readyz on their own address, for
// Prometheus and the orchestrator's probes: not on the public API.
func serveOps(ctx context.Context, addr string, set *metrics.Set, checks readiness, log *slog.Logger) (func(), error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", set.Handler())
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /readyz", checks.readyz)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics.listen %s: %w", addr, err)
	}
	srv := api.NewHTTPServer(mux, 10*time.Second)
	go srv.Serve(l)
	log.Info("metrics and probes listening", "addr", l.Addr().String())
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}, nil
}

// checkRetention warns when the namespace forgets a closed incident's
// workflow before the playbook's longest duty is due: until the store holds
// the whole record, its timeline and filings are read from the workflow.
func checkRetention(ctx context.Context, tc client.Client, c Config, log *slog.Logger) {
	desc, err := tc.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: c.Temporal.Namespace})
	if err != nil {
		log.Warn("could not check the namespace's retention", "namespace", c.Temporal.Namespace, "error", err)
		return
	}
	retention := desc.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration()
	longest, duty := time.Duration(0), ""
	names, err := playbooks.Names(c.PlaybookDir)
	if err != nil {
		log.Warn("could not read the playbooks for the retention check", "error", err)
		return
	}
	for _, name := range names {
		p, err := playbooks.Load(c.PlaybookDir, name)
		if err != nil {
			continue // lint reports it; the check is about the rest
		}
		if d, n := p.LongestDuty(time.Now()); d > longest {
			longest, duty = d, name+": "+n
		}
	}
	if retention > 0 && retention < longest {
		log.Warn("the namespace keeps a closed incident's workflow for less time than the longest duty runs: its timeline and filings are read from the workflow, so keep the evidence bundle of every closed incident",
			"namespace", c.Temporal.Namespace, "retention", retention.String(), "longest_duty", duty, "duty_runs", longest.Round(time.Hour).String())
	}
}

// EnsureNamespace registers the config's namespace with the retention
// given, or reports the one it has: the set-up step before the first
// `tocsin serve` on a self-hosted cluster (Temporal Cloud namespaces are
// made in its console). It returns the retention in force.
func EnsureNamespace(ctx context.Context, c Config, retention time.Duration, log *slog.Logger) (time.Duration, bool, error) {
	opts, err := c.clientOptions(log)
	if err != nil {
		return 0, false, err
	}
	nc, err := client.NewNamespaceClient(opts)
	if err != nil {
		return 0, false, fmt.Errorf("connect to temporal at %s: %w", c.Temporal.Address, err)
	}
	defer nc.Close()
	err = nc.Register(ctx, &workflowservice.RegisterNamespaceRequest{Namespace: c.Temporal.Namespace, WorkflowExecutionRetentionPeriod: durationpb.New(retention)})
	var exists *serviceerror.NamespaceAlreadyExists
	created := err == nil
	if err != nil && !errors.As(err, &exists) {
		return 0, false, fmt.Errorf("register namespace %s: %w", c.Temporal.Namespace, err)
	}
	// A new namespace reaches every service's cache within seconds; until
	// then Describe may say it is not found.
	for {
		desc, err := nc.Describe(ctx, c.Temporal.Namespace)
		if err == nil {
			return desc.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration(), created, nil
		}
		select {
		case <-ctx.Done():
			return 0, created, fmt.Errorf("namespace %s: %w", c.Temporal.Namespace, err)
		case <-time.After(time.Second):
		}
	}
}
