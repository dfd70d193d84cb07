package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/tocsin/tocsin/internal/app"
	"github.com/tocsin/tocsin/internal/client"
	"github.com/tocsin/tocsin/internal/devtools/autopilot"
	"github.com/tocsin/tocsin/internal/inventory/synth"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/playbooks"
)

// benchDev is a tocsin dev of a benchmark's own (embedded Temporal, worker,
// API, peers) with the responder's and legal's clients.
type benchDev struct {
	*app.Dev
	dir              string
	responder, legal *client.Client
}

// startDev starts tocsin dev in dir on dsn (SQLite in dir when empty), with
// the playbooks calling at any hour, so figures do not depend on the hour
// the benchmark runs. dc's store, listeners, playbooks and log are set here.
func startDev(ctx context.Context, dir, dsn string, dc app.DevConfig) (*benchDev, error) {
	pb := filepath.Join(dir, "playbooks")
	if err := os.MkdirAll(pb, 0o755); err != nil {
		return nil, err
	}
	if err := playbooks.WriteAnyHourDefault(pb); err != nil {
		return nil, err
	}
	dc.DataDir, dc.Database, dc.PlaybookDir = dir, dsn, pb
	dc.Listen, dc.TemporalPort, dc.SMTPListen = "127.0.0.1:0", 0, "127.0.0.1:0"
	dc.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	d, err := app.StartDev(ctx, dc)
	if err != nil {
		return nil, err
	}
	return &benchDev{Dev: d, dir: dir,
		responder: &client.Client{Server: d.URL, Token: d.Tokens["TOCSIN_TOKEN_RESPONDER"]},
		legal:     &client.Client{Server: d.URL, Token: d.Tokens["TOCSIN_TOKEN_LEGAL"]}}, nil
}

func (d *benchDev) stop() {
	d.Stop()
	os.RemoveAll(d.dir)
}

// devDatabase is the store a benchmark's tocsin dev runs on: "" (SQLite in
// its data directory) for sqlite, the URL for postgres.
func devDatabase(backend, postgresDSN string) (string, error) {
	switch backend {
	case "sqlite":
		return "", nil
	case "postgres":
		if postgresDSN == "" {
			return "", fmt.Errorf("the postgres backend needs --postgres or TOCSIN_BENCH_POSTGRES")
		}
		return postgresDSN, nil
	}
	return "", fmt.Errorf("unknown backend %q (sqlite, postgres)", backend)
}

// eachBackend measures each backend in turn, keeping the results of those
// measured before one fails.
func eachBackend[R any](backends []string, measure func(backend string) (R, error)) ([]R, error) {
	var out []R
	for _, b := range backends {
		r, err := measure(b)
		if err != nil {
			return out, fmt.Errorf("%s: %w", b, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// pilot plays responder and legal for one incident.
func (d *benchDev) pilot() *autopilot.Pilot {
	return &autopilot.Pilot{Responder: d.responder, Legal: d.legal}
}

// importSubjects imports subjects (a synthetic file) with synth's systems,
// written beside it in dataDir.
func (d *benchDev) importSubjects(ctx context.Context, dataDir, subjects string) error {
	systems := filepath.Join(dataDir, "systems.yaml")
	if err := os.WriteFile(systems, []byte(synth.Systems), 0o644); err != nil {
		return err
	}
	return d.responder.ImportInventory(ctx, systems, subjects, 0, nil, nil)
}

// duplicates counts the people of an incident the peers received a second
// notice for on one channel: any second text, call, on-site or push notice,
// and a second e-mail unless its ledger row says it was sent again (a relay
// that timed out may never have taken the first). emailRepeats counts every
// second e-mail, owned up to or not.
func (d *benchDev) duplicates(ctx context.Context, incidentID string) (dups, emailRepeats int, err error) {
	repeated, err := d.Outbox.Repeated(ctx, incidentID)
	if err != nil {
		return 0, 0, err
	}
	for k := range repeated {
		if k[1] != "email" {
			dups++
			continue
		}
		emailRepeats++
		if row, err := d.Store.GetDelivery(ctx, incidentID, k[0], k[1]); err != nil || row.Doubt != store.DoubtResent {
			dups++
		}
	}
	return dups, emailRepeats, nil
}
