package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/tocsin/tocsin/activities"
	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/bounces"
	"github.com/tocsin/tocsin/internal/codec"
	"github.com/tocsin/tocsin/internal/devtools/devpeers"
	"github.com/tocsin/tocsin/internal/embedtemporal"
	"github.com/tocsin/tocsin/internal/envfile"
	"github.com/tocsin/tocsin/internal/letters"
	"github.com/tocsin/tocsin/internal/metrics"
	"github.com/tocsin/tocsin/internal/senders"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/verify"
	"github.com/tocsin/tocsin/playbooks"
)

// DevConfig configures `tocsin dev`.
type DevConfig struct {
	DataDir string
	// Database is the store's DSN: empty for DATA/tocsin.db (SQLite), or a
	// postgres:// URL. Temporal's own state stays in DATA either way.
	Database     string
	Listen       string // HTTP API, console, webhooks, dev peers
	TemporalPort int    // 0 picks a free port
	SMTPListen   string
	PlaybookDir  string
	Log          *slog.Logger
	// PeerFaults is a game-day profile for the local peers (nil: none).
	PeerFaults *devpeers.Faults
	// ProviderTimeout, a test knob, makes the senders give up on a silent
	// provider this soon (and hold what that leaves in doubt as long), so a
	// fault profile's latencies can be scaled down with them. 0 keeps the
	// providers' own timeouts.
	ProviderTimeout time.Duration
	// Test knobs: faster receipts and smaller batches; the benchmark's
	// batches at once per partition and sends at once per batch (0: the
	// defaults).
	BatchSize   int
	ReceiptPoll time.Duration
	BatchWindow int
	// PartitionWindow: partitions of a campaign at once (0: the default).
	PartitionWindow int
	SendLanes       int
	// SMTPConnections replaces the e-mail sender's pool size to the dev
	// relay (0: devSMTPConnections).
	SMTPConnections int
	// ExternalWorker leaves the workflows and activities to other processes
	// (`tocsin worker --dev DATA`), which can then be killed and restarted.
	ExternalWorker bool
	// Rates paces each channel (messages per second, all workers together);
	// RateCeilings bound what an admin may set them to at run time.
	Rates, RateCeilings senders.Rates
}

// Dev is a running all-in-one Tocsin.
type Dev struct {
	URL          string
	TemporalAddr string
	SMTPAddr     string
	// MailboxAddr is the dev mailbox of bounces and replies to notices.
	MailboxAddr string
	SlackURL    string
	TwilioURL   string
	// SlackPeer is the Slack workspace stand-in; SlackSigningSecret signs
	// what "Slack" sends to the webhooks.
	SlackPeer          *devpeers.SlackPeer
	SlackSigningSecret string
	// The provider stand-ins, for tests that misconfigure them.
	SMTPPeer   *devpeers.SMTPPeer
	TwilioPeer *devpeers.TwilioPeer
	OnsitePeer *devpeers.OnsitePeer
	PushPeer   *devpeers.PushPeer
	PrintPeer  *devpeers.PrintPeer
	Tokens     map[string]string // env name -> token
	Store      *store.Store
	Outbox     *devpeers.Outbox
	Temporal   client.Client

	peers   devPeers
	closers []func()
}

// Senders are the channel senders a dev worker uses (the real SDKs, aimed at
// the peers), for a benchmark's baseline loop; close them after.
func (d *Dev) Senders() (senders.Registry, func()) {
	acts, closeActs := d.peers.activities(d.Store, "", nil, nil)
	return acts.Senders, closeActs
}

// DevIdentities are the dev-mode users and their roles (DESIGN section 8).
// Slack is each one's user ID in the Slack peer's workspace.
var DevIdentities = []struct{ Env, Identity, Role, Slack string }{
	{"TOCSIN_TOKEN_RESPONDER", "responder@example.com", api.RoleResponder, "UDEVRESPONDER"},
	{"TOCSIN_TOKEN_LEGAL", "legal@example.com", api.RoleLegal, "UDEVLEGAL"},
	{"TOCSIN_TOKEN_LEGAL2", "legal2@example.com", api.RoleLegal, "UDEVLEGAL2"},
	{"TOCSIN_TOKEN_ADMIN", "admin@example.com", api.RoleAdmin, "UDEVADMIN"},
	{"TOCSIN_TOKEN_VIEWER", "viewer@example.com", api.RoleViewer, "UDEVVIEWER"},
	{"TOCSIN_TOKEN_PLATFORM", "notifications@platform.example.com", api.RolePlatform, ""},
	{"TOCSIN_TOKEN_SUPPORT", "support@example.com", api.RoleSupport, ""},
}

// devSlackUsers maps each dev identity to its account in the Slack peer.
func devSlackUsers() map[string]string {
	users := map[string]string{}
	for _, id := range DevIdentities {
		if id.Slack != "" {
			users[id.Identity] = id.Slack
		}
	}
	return users
}

// devOIDCClient is the console's client ID at the dev identity provider.
const devOIDCClient = "tocsin-dev"

// DevCodecKeyFile, in the data directory, holds the keys dev encrypts
// Temporal payloads with (0600; `tocsin codec key --key-file` rotates).
const DevCodecKeyFile = "codec.keys"

// StartDev starts the embedded Temporal server, the local peers, the worker
// and the HTTP API, all keeping state under cfg.DataDir.
func StartDev(ctx context.Context, cfg DevConfig) (_ *Dev, err error) {
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:8080"
	}
	if err := playbooks.Check(cfg.PlaybookDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	d := &Dev{}
	defer func() {
		if err != nil {
			d.Stop()
		}
	}()
	listener, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w (is another tocsin running? pass --listen)", cfg.Listen, err)
	}
	d.URL = "http://" + listener.Addr().String()

	ts, err := embedtemporal.Start(embedtemporal.Config{DatabaseFile: filepath.Join(cfg.DataDir, "temporal.db"), FrontendPort: cfg.TemporalPort})
	if err != nil {
		listener.Close()
		return nil, err
	}
	d.TemporalAddr = ts.HostPort()
	d.closers = append(d.closers, func() { ts.Stop() })

	if cfg.Database == "" {
		cfg.Database = filepath.Join(cfg.DataDir, "tocsin.db")
	}
	if d.Store, err = store.Open(cfg.Database); err != nil {
		listener.Close()
		return nil, err
	}
	d.closers = append(d.closers, func() { d.Store.Close() })
	if d.Outbox, err = devpeers.OpenOutbox(filepath.Join(cfg.DataDir, "peers.db")); err != nil {
		listener.Close()
		return nil, err
	}
	d.closers = append(d.closers, func() { d.Outbox.Close() })

	// The bounce mailbox, where the SMTP peer returns what it bounces.
	mailbox := &bounces.Listener{Ledger: d.Store, Base: devBounceAddress, Log: log, ReplyAddress: devReplyAddress, Questions: api.EmailQuestions{Store: d.Store}}
	if err := mailbox.Start("127.0.0.1:0"); err != nil {
		listener.Close()
		return nil, fmt.Errorf("bounce mailbox: %w", err)
	}
	d.closers = append(d.closers, func() { mailbox.Close() })
	d.MailboxAddr = mailbox.Addr()

	// Local peers.
	smtpPeer := &devpeers.SMTPPeer{Outbox: d.Outbox, Log: log, Faults: cfg.PeerFaults, BounceRelay: mailbox.Addr()}
	smtpAddr := cfg.SMTPListen
	if smtpAddr == "" {
		smtpAddr = "127.0.0.1:0"
	}
	if err := smtpPeer.Start(smtpAddr); err != nil {
		listener.Close()
		return nil, fmt.Errorf("smtp peer on %s: %w", smtpAddr, err)
	}
	d.SMTPAddr, d.SMTPPeer = smtpPeer.Addr(), smtpPeer
	d.closers = append(d.closers, func() { smtpPeer.Close() })
	slackPeer := &devpeers.SlackPeer{Outbox: d.Outbox}
	slackPeer.Start()
	d.SlackPeer = slackPeer
	d.SlackURL = slackPeer.APIURL()
	d.closers = append(d.closers, slackPeer.Close)

	secrets, err := devSecrets(cfg.DataDir)
	if err != nil {
		listener.Close()
		return nil, err
	}
	twilioPeer := &devpeers.TwilioPeer{AccountSID: secrets["TWILIO_ACCOUNT_SID"], AuthToken: secrets["TWILIO_AUTH_TOKEN"], Outbox: d.Outbox, CallbackDelay: 50 * time.Millisecond, Log: log, Faults: cfg.PeerFaults,
		InboundURL: d.URL + "/webhooks/twilio/sms", Number: DevTwilioNumber}
	d.closers = append(d.closers, twilioPeer.Close)
	d.TwilioPeer = twilioPeer
	d.TwilioURL = d.URL + "/dev/twilio"

	// Payloads are encrypted in dev as in production: temporal.db holds
	// no incident fact, and the key beside it can be rotated the same way.
	keys, err := codec.EnsureKeyFile(filepath.Join(cfg.DataDir, DevCodecKeyFile))
	if err != nil {
		listener.Close()
		return nil, fmt.Errorf("payload keys: %w", err)
	}
	dc, fc := codec.Converters(keys)
	set := metrics.New()
	tc, err := client.DialContext(ctx, client.Options{HostPort: d.TemporalAddr, Namespace: "default", Logger: sdklog.NewStructuredLogger(quiet(log)), MetricsHandler: set.Temporal(),
		DataConverter: dc, FailureConverter: fc})
	if err != nil {
		listener.Close()
		return nil, fmt.Errorf("connect to embedded temporal: %w", err)
	}
	d.closers = append(d.closers, tc.Close)
	d.Temporal = tc

	apiServer := &api.Server{Store: d.Store, Temporal: tc, Outbox: outboxView{d.Outbox}, TwilioAuthToken: twilioPeer.AuthToken, PublicURL: d.URL, Log: log, BatchSize: cfg.BatchSize, BatchWindow: cfg.BatchWindow, PartitionWindow: cfg.PartitionWindow, ReceiptPoll: cfg.ReceiptPoll, PlaybookDir: cfg.PlaybookDir, Rates: cfg.Rates, RateCeilings: cfg.RateCeilings,
		DataConverter: dc, Codec: &api.CodecEndpoint{Codec: codec.Codec{Keys: keys}, Namespace: "default"}, ActorKey: []byte(secrets["ACTOR_KEY"]),
		Letters: &letters.Printer{Sender: devLetterSender}}
	d.SlackSigningSecret = secrets["SLACK_SIGNING_SECRET"]
	apiServer.Slack = &api.SlackApp{SigningSecret: d.SlackSigningSecret, Users: map[string]api.Principal{},
		WarRoom: senders.NewWarRoom(senders.SlackConfig{BotToken: "xoxb-dev", APIURL: d.SlackURL})}
	oidcPeer := &devpeers.OIDCPeer{Issuer: d.URL + "/dev/oidc", ClientID: devOIDCClient, ClientSecret: secrets["OIDC_CLIENT_SECRET"]}
	apiServer.OIDC = &api.OIDCConfig{Name: "the dev identity provider", Issuer: oidcPeer.Issuer, ClientID: devOIDCClient, ClientSecret: secrets["OIDC_CLIENT_SECRET"], Roles: map[string]string{}}
	for _, id := range DevIdentities {
		if id.Slack != "" {
			apiServer.Slack.Users[id.Slack] = api.Principal{Identity: id.Identity, Role: id.Role}
		}
		if id.Role != api.RolePlatform {
			apiServer.OIDC.Roles[id.Identity] = id.Role
			oidcPeer.Identities = append(oidcPeer.Identities, id.Identity)
		}
	}
	// /metrics, /healthz and /readyz as serve and worker have them, on
	// the dev server's own (loopback) port.
	if err := set.Register(apiServer.Gauges()); err != nil {
		listener.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", set.Handler())
	mux.HandleFunc("GET /readyz", ready(d.Store, tc).readyz)
	mux.Handle("/dev/oidc/", http.StripPrefix("/dev/oidc", oidcPeer))
	mux.Handle("/", apiServer.Handler())
	mux.Handle("/dev/twilio/", http.StripPrefix("/dev/twilio", twilioPeer))
	d.OnsitePeer = &devpeers.OnsitePeer{Secret: secrets["ONSITE_SECRET"], Outbox: d.Outbox, Faults: cfg.PeerFaults}
	mux.Handle("/dev/onsite/", d.OnsitePeer)
	pushKeys, err := devpeers.LoadOrCreatePushKeys(filepath.Join(cfg.DataDir, devPushKeysFile))
	if err != nil {
		listener.Close()
		return nil, err
	}
	if d.PushPeer, err = devpeers.NewPushPeer(pushKeys, d.Outbox); err != nil {
		listener.Close()
		return nil, err
	}
	d.PushPeer.Faults = cfg.PeerFaults
	mux.Handle("/dev/fcm/", http.StripPrefix("/dev/fcm", d.PushPeer.FCM()))
	d.PrintPeer = &devpeers.PrintPeer{Secret: secrets["PRINT_SECRET"], Outbox: d.Outbox, Dir: filepath.Join(cfg.DataDir, "letters"), Faults: cfg.PeerFaults}
	mux.Handle("/dev/print/", d.PrintPeer)
	apnsURL, err := d.PushPeer.StartAPNs("127.0.0.1:0")
	if err != nil {
		listener.Close()
		return nil, fmt.Errorf("apns peer: %w", err)
	}
	d.closers = append(d.closers, d.PushPeer.Close)
	mux.Handle("/dev/press", &devpeers.PressPeer{Secret: secrets["PRESS_SECRET"], Outbox: d.Outbox})
	httpServer := api.NewHTTPServer(mux, 10*time.Second)
	go httpServer.Serve(listener)
	d.closers = append(d.closers, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		httpServer.Shutdown(sctx)
		apiServer.FlushAudit()
	})

	d.peers = devPeers{Temporal: d.TemporalAddr, URL: d.URL, SMTP: d.SMTPAddr, Slack: d.SlackURL, Twilio: d.TwilioURL, APNs: apnsURL, PushKeys: pushKeys, Secrets: secrets, Timeout: cfg.ProviderTimeout, Metrics: set, SMTPConnections: cfg.SMTPConnections}
	answers := newAnswerer(d.peers.twilio(), d.peers.smtp())
	apiServer.Replies = answers
	d.closers = append(d.closers, answers.mail.Close)
	if !cfg.ExternalWorker {
		acts, closeActs := d.peers.activities(d.Store, cfg.PlaybookDir, cfg.Rates, log)
		acts.SendLanes = cfg.SendLanes
		d.closers = append(d.closers, closeActs)
		w := NewWorker(tc, acts, []byte(secrets["ACTOR_KEY"]))
		if err := w.Start(); err != nil {
			return nil, fmt.Errorf("start worker: %w", err)
		}
		d.closers = append(d.closers, w.Stop)
	}
	if err := twilioPeer.Resume(ctx, d.URL+"/webhooks/twilio/status"); err != nil {
		log.Warn("twilio peer: could not resume pending callbacks", "error", err)
	}

	tokenEnv, err := loadOrCreateEnv(filepath.Join(cfg.DataDir, "dev-tokens.env"), envNames())
	if err != nil {
		return nil, err
	}
	d.Tokens = tokenEnv
	seed := map[string]store.Token{}
	for _, id := range DevIdentities {
		seed[tokenEnv[id.Env]] = store.Token{Identity: id.Identity, Role: id.Role}
	}
	if err := api.Seed(ctx, d.Store, seed); err != nil {
		return nil, err
	}
	env := map[string]string{"TOCSIN_DEV_SMTP": d.SMTPAddr, "TOCSIN_DEV_TWILIO": d.TwilioURL, "TOCSIN_DEV_SLACK": d.SlackURL, "TOCSIN_SERVER": d.URL, "TOCSIN_DEV_TEMPORAL": d.TemporalAddr, "TOCSIN_DEV_APNS": apnsURL}
	if err := envfile.Write(filepath.Join(cfg.DataDir, "dev-peers.env"), env); err != nil {
		return nil, err
	}
	return d, nil
}

// devBounceAddress is where dev-mode notices say their bounces go.
const devBounceAddress = "bounces@tocsin.local"

// devPeers is where a dev worker finds everything: the embedded Temporal
// server, Tocsin's public URL and the local peers, with their secrets.
type devPeers struct {
	Temporal, URL, SMTP, Slack, Twilio, APNs string
	PushKeys                                 devpeers.PushKeys
	Secrets                                  map[string]string
	// Timeout replaces the senders' provider timeouts (0: their own).
	Timeout time.Duration
	// Metrics, when set, counts the worker's sends.
	Metrics *metrics.Set
	// SMTPConnections is the e-mail pool's size (0: devSMTPConnections).
	SMTPConnections int
}

// devSMTPConnections is the dev e-mail pool's size. A session the relay
// hangs holds its connection for the whole 30 s timeout, so the pool must
// outnumber the sessions hung at once: one worker here sends some 900
// e-mails a second, and on the benchmark's bad day (2% of sessions hang)
// about 540 are hung at any moment. With 256 the bad day was bound by the
// pool (256 / (2% x 30 s), some 430 e-mails a second, as measured), not by
// Tocsin. The local relay takes them all; a real one's limit is
// smtp.connections.
const devSMTPConnections = 1024

// activities wires the senders through the real SDKs, aimed at the peers.
func (p devPeers) activities(st *store.Store, playbookDir string, rates senders.Rates, log *slog.Logger) (*activities.Activities, func()) {
	twCfg := p.twilio()
	onsiteHTTP := senders.PooledHTTP()
	if p.Timeout > 0 {
		onsiteHTTP.Timeout = p.Timeout
	}
	reg, tw, closeSenders := senders.Build(senders.Providers{Twilio: twCfg,
		SMTP:   p.smtp(),
		Onsite: senders.OnsiteConfig{WebhookURL: p.URL + "/dev/onsite/notices", Secret: p.Secrets["ONSITE_SECRET"]}, OnsiteHTTP: onsiteHTTP,
		Push:   p.push(),
		Letter: senders.LetterConfig{Sender: devLetterSender, VendorURL: p.URL + "/dev/print/letters", Secret: p.Secrets["PRINT_SECRET"], Timeout: p.Timeout}})
	return &activities.Activities{
		Store:       st,
		Senders:     sharedPace(senders.Measure(reg, p.record()), rates, st),
		Receipts:    senders.TwilioStatus{Client: tw},
		Chat:        senders.NewWarRoom(senders.SlackConfig{BotToken: "xoxb-dev", APIURL: p.Slack}),
		Announcer:   &senders.WebhookAnnouncer{URL: p.URL + "/dev/press", Secret: p.Secrets["PRESS_SECRET"]},
		PlaybookDir: playbookDir,
		PublicURL:   p.URL,
		VerifyKey:   verify.KeyFrom([]byte(p.Secrets["ACTOR_KEY"])),
		Rates:       rates,
		SlackUsers:  devSlackUsers(),
		Log:         log,
		DoubtHold:   p.Timeout,
	}, closeSenders
}

// twilio aims the Twilio client at the Twilio peer, with dev's number.
func (p devPeers) twilio() senders.TwilioConfig {
	return senders.TwilioConfig{AccountSID: p.Secrets["TWILIO_ACCOUNT_SID"], AuthToken: p.Secrets["TWILIO_AUTH_TOKEN"], From: DevTwilioNumber, BaseURL: p.Twilio,
		StatusCallback: p.URL + "/webhooks/twilio/status", AckCallback: p.URL + "/webhooks/twilio/ack", Timeout: p.Timeout}
}

// smtp aims the e-mail sender at the SMTP peer; bounces and replies come
// back to the dev server's mailbox.
func (p devPeers) smtp() senders.SMTPConfig {
	return senders.SMTPConfig{Addr: p.SMTP, From: "Security Team <security@tocsin.local>", Connections: cmp.Or(p.SMTPConnections, devSMTPConnections), Timeout: p.Timeout, BounceAddress: devBounceAddress, ReplyTo: devReplyAddress}
}

// devReplyAddress is where people's replies to dev notices go: the dev
// server's mailbox makes each a question for support.
const devReplyAddress = "replies@tocsin.local"

// DevTwilioNumber is the number dev texts from, and people reply to.
const DevTwilioNumber = "+15005550006"

// devLetterSender is the return address on dev letters.
const devLetterSender = "Security Team, Tocsin Dev Ltd, 1 Local Way, Localhost"

// devPushKeysFile holds the dev push services' keys, made on first start.
const devPushKeysFile = "dev-push-keys.json"

// push aims the FCM and APNs clients at the push peer, with its keys.
func (p devPeers) push() senders.PushConfig {
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	apnsHTTP, err := p.PushKeys.APNsClient(timeout)
	if err != nil {
		apnsHTTP = nil // the sender's own client: sends fail on TLS, and hold the channel
	}
	return senders.PushConfig{FCMProjectID: devpeers.DevFCMProject, FCMCredentials: p.PushKeys.ServiceAccountJSON(p.URL + "/dev/fcm/token"), FCMEndpoint: p.URL + "/dev/fcm/v1",
		APNsKey: []byte(p.PushKeys.APNsKey), APNsKeyID: devpeers.DevAPNsKeyID, APNsTeamID: devpeers.DevAPNsTeamID, APNsTopic: devpeers.DevAPNsTopic,
		APNsHost: p.APNs, APNsHTTP: apnsHTTP, Link: "tocsin-dev://notices/{incident}", Timeout: timeout}
}

// record is the metrics' send recorder, or nil without metrics.
func (p devPeers) record() func(channel, outcome string, took time.Duration) {
	if p.Metrics == nil {
		return nil
	}
	return p.Metrics.Send
}

// devSecrets are the dev peers' credentials, kept in DATA/dev-secrets.env so
// a restarted server and its extra workers agree on them.
func devSecrets(dataDir string) (map[string]string, error) {
	secrets, err := loadOrCreateEnv(filepath.Join(dataDir, "dev-secrets.env"), []string{"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "ONSITE_SECRET", "PRESS_SECRET", "SLACK_SIGNING_SECRET", "OIDC_CLIENT_SECRET", "ACTOR_KEY", "PRINT_SECRET"})
	if err != nil {
		return nil, err
	}
	twilioShaped(secrets)
	return secrets, nil
}

// twilioShaped makes generated Twilio credentials look like Twilio's: an
// AC-prefixed account SID of 34 characters, and (as twilio-go accepts only
// alphanumeric credentials) no token prefix.
func twilioShaped(secrets map[string]string) {
	secrets["TWILIO_ACCOUNT_SID"] = "AC" + strings.TrimPrefix(secrets["TWILIO_ACCOUNT_SID"], "tcn_")[:32]
	secrets["TWILIO_AUTH_TOKEN"] = strings.TrimPrefix(secrets["TWILIO_AUTH_TOKEN"], "tcn_")
}

// DevWorkerConfig runs a worker against a running `tocsin dev`.
type DevWorkerConfig struct {
	DataDir     string
	Database    string // as the dev server's; empty for DATA/tocsin.db
	PlaybookDir string
	Rates       senders.Rates
	Log         *slog.Logger
	// ProviderTimeout is DevConfig's test knob, for this worker's senders.
	ProviderTimeout time.Duration
}

// RunDevWorker runs the workflows and activities in this process for the
// `tocsin dev` whose data directory is cfg.DataDir, until ctx ends: extra
// workers for a big campaign, or one to kill in a crash test.
func RunDevWorker(ctx context.Context, cfg DevWorkerConfig) error {
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	env, err := loadOrCreateEnv(filepath.Join(cfg.DataDir, "dev-peers.env"), nil)
	if err != nil {
		return err
	}
	if env["TOCSIN_DEV_TEMPORAL"] == "" {
		return fmt.Errorf("%s: no TOCSIN_DEV_TEMPORAL: is `tocsin dev --data %s` running?", filepath.Join(cfg.DataDir, "dev-peers.env"), cfg.DataDir)
	}
	secrets, err := devSecrets(cfg.DataDir)
	if err != nil {
		return err
	}
	if err := playbooks.Check(cfg.PlaybookDir); err != nil {
		return err
	}
	if cfg.Database == "" {
		cfg.Database = filepath.Join(cfg.DataDir, "tocsin.db")
	}
	st, err := store.Open(cfg.Database)
	if err != nil {
		return err
	}
	defer st.Close()
	keys, err := codec.LoadKeyFile(filepath.Join(cfg.DataDir, DevCodecKeyFile))
	if err != nil {
		return fmt.Errorf("payload keys: %w", err)
	}
	dc, fc := codec.Converters(keys)
	tc, err := client.DialContext(ctx, client.Options{HostPort: env["TOCSIN_DEV_TEMPORAL"], Namespace: "default", Logger: sdklog.NewStructuredLogger(quiet(log)), DataConverter: dc, FailureConverter: fc})
	if err != nil {
		return fmt.Errorf("connect to the dev server's temporal at %s: %w", env["TOCSIN_DEV_TEMPORAL"], err)
	}
	defer tc.Close()
	pushKeys, err := devpeers.LoadOrCreatePushKeys(filepath.Join(cfg.DataDir, devPushKeysFile))
	if err != nil {
		return err
	}
	peers := devPeers{Temporal: env["TOCSIN_DEV_TEMPORAL"], URL: env["TOCSIN_SERVER"], SMTP: env["TOCSIN_DEV_SMTP"], Slack: env["TOCSIN_DEV_SLACK"], Twilio: env["TOCSIN_DEV_TWILIO"],
		APNs: env["TOCSIN_DEV_APNS"], PushKeys: pushKeys, Secrets: secrets, Timeout: cfg.ProviderTimeout}
	acts, closeActs := peers.activities(st, cfg.PlaybookDir, cfg.Rates, log)
	defer closeActs()
	w := NewWorker(tc, acts, []byte(secrets["ACTOR_KEY"]))
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	log.Info("tocsin dev worker running", "temporal", env["TOCSIN_DEV_TEMPORAL"])
	<-ctx.Done()
	w.Stop()
	return nil
}

func envNames() []string {
	var out []string
	for _, id := range DevIdentities {
		out = append(out, id.Env)
	}
	return out
}

// Stop shuts everything down, newest part first.
func (d *Dev) Stop() {
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
	d.closers = nil
}

// loadOrCreateEnv keeps secrets stable across restarts: it reads NAME=value
// lines and adds a fresh random value for any name missing.
func loadOrCreateEnv(path string, names []string) (map[string]string, error) {
	vals, err := envfile.Read(path)
	if errors.Is(err, os.ErrNotExist) {
		vals, err = map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	changed := false
	for _, n := range names {
		if vals[n] == "" {
			vals[n] = api.NewToken()
			changed = true
		}
	}
	if changed {
		if err := envfile.Write(path, vals); err != nil {
			return nil, err
		}
	}
	return vals, nil
}

// quiet keeps the SDK's routine chatter out of the dev console.
func quiet(l *slog.Logger) *slog.Logger {
	return slog.New(pausedAttempts{levelFilter{l.Handler(), slog.LevelWarn}})
}

type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.Handler.Enabled(ctx, l)
}

// outboxView shows the peers' outbox to the API in the API's own terms.
type outboxView struct{ o *devpeers.Outbox }

func (v outboxView) List(ctx context.Context, incidentID string) ([]api.OutboxEntry, error) {
	entries, err := v.o.List(ctx, incidentID)
	return outboxEntries(entries), err
}

func (v outboxView) Recent(ctx context.Context, incidentID string, limit int) ([]api.OutboxEntry, error) {
	entries, err := v.o.Recent(ctx, incidentID, limit)
	return outboxEntries(entries), err
}

func outboxEntries(in []devpeers.Entry) []api.OutboxEntry {
	out := make([]api.OutboxEntry, len(in))
	for i, e := range in {
		out[i] = api.OutboxEntry{IncidentID: e.IncidentID, SubjectID: e.SubjectID, Channel: e.Channel, To: e.To, Subject: e.Subject, Body: e.Body, At: e.At, Status: e.Status, Ref: e.Ref}
	}
	return out
}
