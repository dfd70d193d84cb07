package app

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/devtools/devpeers"
	"github.com/tocsin/tocsin/internal/envfile"
)

// PeersConfig configures `tocsin peers`: the local peers as a process of
// their own, for staging and cluster tests, where `tocsin serve` and `tocsin
// worker` run with a production config.
type PeersConfig struct {
	DataDir string
	// Listen serves Twilio, Slack, the on-site and press receivers, the
	// identity provider and the outbox on one HTTP port.
	Listen     string
	SMTPListen string
	// APNsListen serves APNs' provider API (TLS, HTTP/2); FCM is on Listen.
	APNsListen string
	// Advertise is the host:port the peers.env URLs name, when the peers are
	// reached by another name than Listen (a container's service name).
	Advertise string
	// BounceRelay is the bounce mailbox (`tocsin serve`'s bounces.listen)
	// the SMTP peer returns its bounces to; empty, nothing bounces.
	BounceRelay string
	Faults      *devpeers.Faults
	Log         *slog.Logger
}

// Peers is a running set of standalone peers.
type Peers struct {
	URL      string
	SMTPAddr string
	// APNsURL is the APNs endpoint, as peers.env names it.
	APNsURL string
	// Push is the FCM and APNs peer (tests mark devices unregistered).
	Push *devpeers.PushPeer
	// Env is what DATA/peers.env holds: where each peer is and the
	// credentials it accepts and signs with.
	Env     map[string]string
	Outbox  *devpeers.Outbox
	closers []func()
}

// peersSecrets are the credentials the standalone peers accept and sign
// with, kept in DATA/peers-secrets.env so a restart keeps them.
var peersSecrets = []string{"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "TOCSIN_ONSITE_SECRET", "TOCSIN_PRESS_SECRET", "OIDC_CLIENT_SECRET", "TOCSIN_PEERS_TOKEN", "TOCSIN_PRINT_SECRET"}

// StartPeers runs the peers and writes DATA/peers.env.
func StartPeers(ctx context.Context, cfg PeersConfig) (_ *Peers, err error) {
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	// peers.env names files in it, read from wherever serve and the
	// workers start.
	if abs, err := filepath.Abs(cfg.DataDir); err == nil {
		cfg.DataDir = abs
	}
	p := &Peers{}
	defer func() {
		if err != nil {
			p.Stop()
		}
	}()
	secrets, err := loadOrCreateEnv(filepath.Join(cfg.DataDir, "peers-secrets.env"), peersSecrets)
	if err != nil {
		return nil, err
	}
	twilioShaped(secrets)
	// Slack bot tokens start with xoxb-.
	secrets["SLACK_BOT_TOKEN"] = "xoxb-" + strings.TrimPrefix(secrets["SLACK_BOT_TOKEN"], "tcn_")

	listener, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("--listen %s: %w", cfg.Listen, err)
	}
	p.closers = append(p.closers, func() { listener.Close() })
	host := listener.Addr().String()
	if cfg.Advertise != "" {
		host = cfg.Advertise
	}
	p.URL = "http://" + host

	if p.Outbox, err = devpeers.OpenOutbox(filepath.Join(cfg.DataDir, "peers.db")); err != nil {
		return nil, err
	}
	p.closers = append(p.closers, func() { p.Outbox.Close() })

	smtpPeer := &devpeers.SMTPPeer{Outbox: p.Outbox, Log: log, Faults: cfg.Faults, BounceRelay: cfg.BounceRelay}
	if cfg.SMTPListen == "" {
		cfg.SMTPListen = "127.0.0.1:0"
	}
	if err := smtpPeer.Start(cfg.SMTPListen); err != nil {
		return nil, fmt.Errorf("--smtp-listen %s: %w", cfg.SMTPListen, err)
	}
	p.closers = append(p.closers, func() { smtpPeer.Close() })
	p.SMTPAddr = smtpPeer.Addr()
	// advertised is a listener's address as peers.env names it: the
	// advertised host, the listener's own port.
	advertised := func(addr string) string {
		if cfg.Advertise == "" {
			return addr
		}
		_, port, _ := net.SplitHostPort(addr)
		h, _, _ := net.SplitHostPort(cfg.Advertise)
		return net.JoinHostPort(h, port)
	}

	slackPeer := &devpeers.SlackPeer{Outbox: p.Outbox}
	slackPeer.Start()
	p.closers = append(p.closers, slackPeer.Close)
	slackURL, err := url.Parse(slackPeer.APIURL())
	if err != nil {
		return nil, err
	}

	twilioPeer := &devpeers.TwilioPeer{AccountSID: secrets["TWILIO_ACCOUNT_SID"], AuthToken: secrets["TWILIO_AUTH_TOKEN"], Outbox: p.Outbox, CallbackDelay: 50 * time.Millisecond, Log: log, Faults: cfg.Faults}
	p.closers = append(p.closers, twilioPeer.Close)
	oidcPeer := &devpeers.OIDCPeer{Issuer: p.URL + "/oidc", ClientID: devOIDCClient, ClientSecret: secrets["OIDC_CLIENT_SECRET"]}
	for _, id := range DevIdentities {
		if id.Role != api.RolePlatform {
			oidcPeer.Identities = append(oidcPeer.Identities, id.Identity)
		}
	}

	var hosts []string
	if h, _, err := net.SplitHostPort(cfg.Advertise); err == nil {
		hosts = append(hosts, h)
	}
	pushKeys, err := devpeers.LoadOrCreatePushKeys(filepath.Join(cfg.DataDir, devPushKeysFile), hosts...)
	if err != nil {
		return nil, err
	}
	pushPeer, err := devpeers.NewPushPeer(pushKeys, p.Outbox)
	if err != nil {
		return nil, err
	}
	pushPeer.Faults = cfg.Faults
	if cfg.APNsListen == "" {
		cfg.APNsListen = "127.0.0.1:0"
	}
	apnsURL, err := pushPeer.StartAPNs(cfg.APNsListen)
	if err != nil {
		return nil, fmt.Errorf("--apns-listen %s: %w", cfg.APNsListen, err)
	}
	p.closers = append(p.closers, pushPeer.Close)
	p.Push = pushPeer
	p.APNsURL = "https://" + advertised(strings.TrimPrefix(apnsURL, "https://"))
	pushFiles := map[string][]byte{"fcm-service-account.json": pushKeys.ServiceAccountJSON(p.URL + "/fcm/token"), "apns-key.p8": []byte(pushKeys.APNsKey), "apns-ca.pem": []byte(pushKeys.TLSCert)}
	for name, data := range pushFiles {
		if err := os.WriteFile(filepath.Join(cfg.DataDir, name), data, 0o600); err != nil {
			return nil, err
		}
	}

	mux := http.NewServeMux()
	mux.Handle("/fcm/", http.StripPrefix("/fcm", pushPeer.FCM()))
	mux.Handle("/twilio/", http.StripPrefix("/twilio", twilioPeer))
	mux.Handle("/slack/", slackTokenOnly(secrets["SLACK_BOT_TOKEN"], http.StripPrefix("/slack", httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: slackURL.Host}))))
	mux.Handle("/onsite/", &devpeers.OnsitePeer{Secret: secrets["TOCSIN_ONSITE_SECRET"], Outbox: p.Outbox, Faults: cfg.Faults})
	mux.Handle("/press", &devpeers.PressPeer{Secret: secrets["TOCSIN_PRESS_SECRET"], Outbox: p.Outbox})
	mux.Handle("/print/", &devpeers.PrintPeer{Secret: secrets["TOCSIN_PRINT_SECRET"], Outbox: p.Outbox, Dir: filepath.Join(cfg.DataDir, "letters"), Faults: cfg.Faults})
	mux.Handle("/oidc/", http.StripPrefix("/oidc", oidcPeer))
	mux.Handle("GET /outbox", bearerOnly(secrets["TOCSIN_PEERS_TOKEN"], peersUnauthorized, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entries, err := p.Outbox.List(r.Context(), r.URL.Query().Get("incident"))
		if err != nil {
			http.Error(w, "outbox unavailable", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(entries)
	})))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	srv := api.NewHTTPServer(mux, 10*time.Second)
	go srv.Serve(listener)
	p.closers = append(p.closers, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	})
	if err := twilioPeer.Resume(ctx, ""); err != nil {
		log.Warn("twilio peer: could not resume pending callbacks", "error", err)
	}

	p.Env = map[string]string{
		"TOCSIN_DEV_TWILIO":   p.URL + "/twilio",
		"TOCSIN_DEV_SLACK":    p.URL + "/slack/",
		"TOCSIN_DEV_SMTP":     advertised(p.SMTPAddr),
		"TOCSIN_DEV_ONSITE":   p.URL + "/onsite/notices",
		"TOCSIN_DEV_ANNOUNCE": p.URL + "/press",
		"TOCSIN_DEV_PRINT":    p.URL + "/print/letters",
		"TOCSIN_DEV_OIDC":     oidcPeer.Issuer,
		"TOCSIN_PEERS":        p.URL,
		// Push: FCM on the HTTP port, APNs on its own TLS port; the
		// credentials are files beside peers.env (PEM and JSON are many
		// lines).
		"TOCSIN_DEV_FCM":              p.URL + "/fcm/v1",
		"TOCSIN_DEV_FCM_PROJECT":      devpeers.DevFCMProject,
		"TOCSIN_FCM_CREDENTIALS_FILE": filepath.Join(cfg.DataDir, "fcm-service-account.json"),
		"TOCSIN_DEV_APNS":             p.APNsURL,
		"TOCSIN_DEV_APNS_CA":          filepath.Join(cfg.DataDir, "apns-ca.pem"),
		"TOCSIN_APNS_KEY_FILE":        filepath.Join(cfg.DataDir, "apns-key.p8"),
		"TOCSIN_DEV_APNS_KEY_ID":      devpeers.DevAPNsKeyID,
		"TOCSIN_DEV_APNS_TEAM_ID":     devpeers.DevAPNsTeamID,
		"TOCSIN_DEV_APNS_TOPIC":       devpeers.DevAPNsTopic,
	}
	for _, name := range peersSecrets {
		p.Env[name] = secrets[name]
	}
	if err := envfile.Write(filepath.Join(cfg.DataDir, "peers.env"), p.Env); err != nil {
		return nil, err
	}
	return p, nil
}

// Stop shuts the peers down, newest part first.
func (p *Peers) Stop() {
	for i := len(p.closers) - 1; i >= 0; i-- {
		p.closers[i]()
	}
	p.closers = nil
}

// bearerOnly lets through only requests that carry the token, as the real
// services do: a staging peer must not take notices from just anyone.
func bearerOnly(token string, refuse http.HandlerFunc, next http.Handler) http.Handler {
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			refuse(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// slackTokenOnly serves only calls that carry the bot token, as a header or
// as the form's token field (slack-go sends both ways), and answers others
// as Slack does: HTTP 200, invalid_auth.
func slackTokenOnly(token string, next http.Handler) http.Handler {
	want := []byte(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if got == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err != nil {
				http.Error(w, "unreadable body", http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			form, _ := url.ParseQuery(string(body))
			got = form.Get("token")
		}
		if subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"ok":false,"error":"invalid_auth"}`)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func peersUnauthorized(w http.ResponseWriter, _ *http.Request) {
	http.Error(w, "the outbox needs Authorization: Bearer $TOCSIN_PEERS_TOKEN (from peers.env)", http.StatusUnauthorized)
}
