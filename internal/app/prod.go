package app

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twilio/twilio-go"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"golang.org/x/net/http2"
	"gopkg.in/yaml.v3"

	"github.com/tocsin/tocsin/activities"
	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/bounces"
	"github.com/tocsin/tocsin/internal/channel"
	"github.com/tocsin/tocsin/internal/codec"
	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/letters"
	"github.com/tocsin/tocsin/internal/metrics"
	"github.com/tocsin/tocsin/internal/secret"
	"github.com/tocsin/tocsin/internal/senders"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/verify"
	"github.com/tocsin/tocsin/playbooks"
)

// Config is the production configuration file. Secrets never live in it:
// they come from the environment (see Secrets) and are never logged.
type Config struct {
	Listen      string `yaml:"listen"`
	PublicURL   string `yaml:"public_url"`
	Database    string `yaml:"database"`
	PlaybookDir string `yaml:"playbook_dir"`
	Temporal    struct {
		Address    string `yaml:"address"`
		Namespace  string `yaml:"namespace"`
		TLSCert    string `yaml:"tls_cert"`
		TLSKey     string `yaml:"tls_key"`
		TLSCA      string `yaml:"tls_ca"`
		ServerName string `yaml:"tls_server_name"`
		// CodecKeyFile holds the keys Temporal payloads are encrypted with
		// (`tocsin codec key --key-file F` makes and rotates them); the
		// TOCSIN_CODEC_KEYS environment variable may hold them instead.
		CodecKeyFile string `yaml:"codec_key_file"`
		// UIOrigins may call /codec/{namespace}/decode from the browser: the
		// Temporal UI's origin (https://temporal-ui.example.com).
		UIOrigins []string `yaml:"ui_origins"`
	} `yaml:"temporal"`
	Twilio struct {
		AccountSID          string `yaml:"account_sid"`
		From                string `yaml:"from"`
		MessagingServiceSID string `yaml:"messaging_service_sid"`
		// ValidityPeriod is how long Twilio may keep trying an SMS, in seconds.
		ValidityPeriod int `yaml:"validity_period"`
		// APIURL replaces https://api.twilio.com: a staging peer or an
		// egress proxy.
		APIURL string `yaml:"api_url"`
	} `yaml:"twilio"`
	// Rates are each channel's messages (calls) per second for the whole
	// deployment: sms, voice, email, onsite. Every worker takes from the
	// same windows in the store, so the provider's limit holds however many
	// workers run. A 429 from a provider is honoured on top (Retry-After).
	Rates senders.Rates `yaml:"rates"`
	// RateCeilings are the providers' own limits for the account (Twilio's
	// messages per second, the relay's): an admin may set a paced channel's
	// rate at run time up to its ceiling (tocsin channel rate), when a
	// campaign is projected to finish after a duty's due time.
	RateCeilings senders.Rates `yaml:"rate_ceilings"`
	SMTP         struct {
		Addr        string `yaml:"addr"`
		Username    string `yaml:"username"`
		From        string `yaml:"from"`
		Connections int    `yaml:"connections"`
		// TLS is required (the default for a relay that is not on this
		// machine) or opportunistic.
		TLS string `yaml:"tls"`
		// BounceAddress is the mailbox notices' bounces go to (each notice's
		// envelope sender is made from it); mail for it must reach
		// bounces.listen, e.g. by an MX or a transport rule on the relay.
		BounceAddress string `yaml:"bounce_address"`
		// ReplyTo is where people's replies to notices go (their
		// Reply-To); mail for it must reach bounces.listen too, which
		// makes each reply a question for support.
		ReplyTo string `yaml:"reply_to"`
	} `yaml:"smtp"`
	// Bounces is the bounce mailbox `tocsin serve` runs: an SMTP listener
	// that reads delivery status notifications and fails what bounced.
	Bounces struct {
		Listen string `yaml:"listen"`
		// Allow are the relays that may deliver bounces, as addresses or
		// CIDR ranges: whoever can deliver one can fail a delivery.
		Allow []string `yaml:"allow"`
	} `yaml:"bounces"`
	Onsite struct {
		WebhookURL string `yaml:"webhook_url"`
	} `yaml:"onsite"`
	Announce struct {
		WebhookURL string `yaml:"webhook_url"`
	} `yaml:"announce"`
	// Push sends alerts through FCM (credentials: TOCSIN_FCM_CREDENTIALS,
	// the service account's JSON key) and APNs (TOCSIN_APNS_KEY, the .p8
	// key). A service left out holds the push channel for its devices.
	Push struct {
		FCMProjectID string `yaml:"fcm_project_id"`
		// FCMEndpoint replaces https://fcm.googleapis.com/v1.
		FCMEndpoint string `yaml:"fcm_endpoint"`
		APNsKeyID   string `yaml:"apns_key_id"`
		APNsTeamID  string `yaml:"apns_team_id"`
		APNsTopic   string `yaml:"apns_topic"`
		// APNsHost replaces https://api.push.apple.com (the sandbox:
		// https://api.sandbox.push.apple.com).
		APNsHost string `yaml:"apns_host"`
		// APNsCA is a PEM file of the authority apns_host's certificate
		// chains to, where that is not a public one (a staging peer).
		APNsCA string `yaml:"apns_ca"`
		// Link is where an alert opens the full notice ({incident}: its ID).
		Link string `yaml:"link"`
	} `yaml:"push"`
	// Letters are printed by Tocsin and mailed by a print vendor, whose
	// webhook takes each letter (signed with TOCSIN_PRINT_SECRET).
	Letters struct {
		VendorURL string `yaml:"vendor_url"`
		// Sender is the return address printed above the window.
		Sender string `yaml:"sender"`
		// Font is a TrueType font with glyf outlines for every script
		// (unset: Debian's fonts-droid-fallback).
		Font string `yaml:"font"`
	} `yaml:"letters"`
	// Slack maps Slack user IDs to Tocsin identities and roles for the war
	// room's buttons and /tocsin; anyone not listed can do nothing there.
	Slack struct {
		Users map[string]SlackUser `yaml:"users"`
		// APIURL replaces https://slack.com/api/ (staging, egress proxies).
		APIURL string `yaml:"api_url"`
	} `yaml:"slack"`
	// OIDC signs people in to the console (the client secret comes from
	// OIDC_CLIENT_SECRET); without it, API tokens sign in.
	OIDC *api.OIDCConfig `yaml:"oidc"`
	// Metrics is where a process serves /metrics, /healthz and /readyz
	// (`--metrics-listen` overrides it per process).
	Metrics struct {
		Listen string `yaml:"listen"`
	} `yaml:"metrics"`
	// Campaign sizes new incidents' campaigns (unset: the defaults, 250 people
	// a batch, 16 batches of each of 4 partitions of 20,000 at once). Up to
	// partition_window x batch_window batches run at once, across all
	// workers: keep it at least the workers' activity slots together, or
	// more workers send no faster.
	Campaign struct {
		BatchSize       int `yaml:"batch_size"`
		BatchWindow     int `yaml:"batch_window"`
		PartitionSize   int `yaml:"partition_size"`
		PartitionWindow int `yaml:"partition_window"`
	} `yaml:"campaign"`
	// Worker bounds what one `tocsin worker` runs at once (0: the SDK's
	// default), so that a campaign spreads over the workers instead of
	// filling the first.
	Worker struct {
		MaxConcurrentActivities int `yaml:"max_concurrent_activities"`
		// SendLanes is how many sends of one batch are in flight at once
		// (0: 32): a provider call that hangs holds up one lane, not the batch.
		SendLanes int `yaml:"send_lanes"`
	} `yaml:"worker"`
	// Uploads bounds what inventory and subject-list uploads spool to disk
	// before the import reads them: dir (default: the system's temporary
	// directory), max_bytes a file (default 16 GiB), keep_free_bytes left
	// free on that disk (default 1 GiB).
	Uploads struct {
		Dir           string `yaml:"dir"`
		MaxBytes      int64  `yaml:"max_bytes"`
		KeepFreeBytes int64  `yaml:"keep_free_bytes"`
	} `yaml:"uploads"`
	Secrets    Secrets `yaml:"-"`
	secretErrs []error
	// CodecKeys encrypt everything Tocsin hands Temporal.
	CodecKeys codec.Keys `yaml:"-"`
	codecErr  error
	// bounceRelays is bounces.allow, parsed.
	bounceRelays    []netip.Prefix
	bounceRelaysErr error
	// Staged lists the settings the environment aimed at `tocsin peers`
	// (from peers.env), so the processes can say so at start.
	Staged []string `yaml:"-"`
}

// SlackUser is who a Slack account is in Tocsin.
type SlackUser struct {
	Identity string `yaml:"identity"`
	Role     string `yaml:"role"`
}

// slackAccounts is slack.users the other way round: identity to Slack user.
func (c Config) slackAccounts() map[string]string {
	accounts := map[string]string{}
	for user, who := range c.Slack.Users {
		accounts[incident.NormalizeIdentity(who.Identity)] = user
	}
	return accounts
}

// Secrets come from the environment only: each NAME, or the file NAME_FILE
// names. They never print (secret.Secret).
type Secrets struct {
	TwilioAuthToken    secret.Secret
	SMTPPassword       secret.Secret
	SlackBotToken      secret.Secret
	SlackSigningSecret secret.Secret
	// OnsiteSecret signs in-app notices and PressSecret press announcements:
	// whoever holds the press webhook must not be able to forge notices.
	OnsiteSecret     secret.Secret
	PressSecret      secret.Secret
	legacyWebhook    bool
	OIDCClientSecret secret.Secret
	// FCMCredentials is the FCM service account's JSON key; APNsKey the
	// APNs .p8 signing key (PEM).
	FCMCredentials, APNsKey secret.Secret
	// PrintSecret signs letters to the print vendor.
	PrintSecret secret.Secret
	// TemporalAPIKey authenticates to Temporal Cloud instead of mTLS.
	TemporalAPIKey secret.Secret
	// ActorKey signs (serve) and verifies (workers) who asks for each
	// update; ActorKeyPrevious still verifies while a new key rolls out.
	ActorKey, ActorKeyPrevious secret.Secret
}

// String never shows a secret, whatever prints a Config.
func (Secrets) String() string { return "[secrets redacted]" }

// secretVars are the environment variables each secret is read from.
var secretVars = map[string]func(*Secrets) *secret.Secret{
	"TWILIO_AUTH_TOKEN":         func(s *Secrets) *secret.Secret { return &s.TwilioAuthToken },
	"SMTP_PASSWORD":             func(s *Secrets) *secret.Secret { return &s.SMTPPassword },
	"SLACK_BOT_TOKEN":           func(s *Secrets) *secret.Secret { return &s.SlackBotToken },
	"SLACK_SIGNING_SECRET":      func(s *Secrets) *secret.Secret { return &s.SlackSigningSecret },
	"TOCSIN_ONSITE_SECRET":      func(s *Secrets) *secret.Secret { return &s.OnsiteSecret },
	"TOCSIN_PRESS_SECRET":       func(s *Secrets) *secret.Secret { return &s.PressSecret },
	"OIDC_CLIENT_SECRET":        func(s *Secrets) *secret.Secret { return &s.OIDCClientSecret },
	"TEMPORAL_API_KEY":          func(s *Secrets) *secret.Secret { return &s.TemporalAPIKey },
	"TOCSIN_FCM_CREDENTIALS":    func(s *Secrets) *secret.Secret { return &s.FCMCredentials },
	"TOCSIN_APNS_KEY":           func(s *Secrets) *secret.Secret { return &s.APNsKey },
	"TOCSIN_PRINT_SECRET":       func(s *Secrets) *secret.Secret { return &s.PrintSecret },
	"TOCSIN_ACTOR_KEY":          func(s *Secrets) *secret.Secret { return &s.ActorKey },
	"TOCSIN_ACTOR_KEY_PREVIOUS": func(s *Secrets) *secret.Secret { return &s.ActorKeyPrevious },
}

// readSecrets reads every secret, naming each variable it could not read.
func readSecrets() (Secrets, []error) {
	var s Secrets
	var errs []error
	names := make([]string, 0, len(secretVars))
	for name := range secretVars {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		v, err := secret.FromEnv(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		*secretVars[name](&s) = v
	}
	s.legacyWebhook = os.Getenv("TOCSIN_WEBHOOK_SECRET") != ""
	return s, errs
}

// LoadConfig reads the file and the secret environment variables.
func LoadConfig(path string) (Config, error) {
	var c Config
	data, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	c.Secrets, c.secretErrs = readSecrets()
	// A trailing slash would make //webhooks/... callback URLs.
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.OIDC != nil {
		c.OIDC.ClientSecret = c.Secrets.OIDCClientSecret.Reveal()
		// Sign-in looks a person up by their normalised address.
		roles := make(map[string]string, len(c.OIDC.Roles))
		for who, role := range c.OIDC.Roles {
			roles[incident.NormalizeIdentity(who)] = role
		}
		c.OIDC.Roles = roles
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	// A PostgreSQL URL carries a password, so it may come from the
	// environment instead of the file.
	if v, err := secret.FromEnv("TOCSIN_DATABASE_URL"); err != nil {
		c.secretErrs = append(c.secretErrs, err)
	} else if v.Set() {
		c.Database = v.Reveal()
	}
	if c.Temporal.Namespace == "" {
		c.Temporal.Namespace = "default"
	}
	c.stageFromEnv()
	c.CodecKeys, c.codecErr = loadCodecKeys(c.Temporal.CodecKeyFile, os.Getenv("TOCSIN_CODEC_KEYS"))
	c.bounceRelays, c.bounceRelaysErr = relayPrefixes(c.Bounces.Allow)
	return c, c.Validate(path)
}

// loadCodecKeys reads the payload keys from the key file or the environment.
func loadCodecKeys(file, env string) (codec.Keys, error) {
	switch {
	case file != "" && env != "":
		return codec.Keys{}, errors.New("temporal.codec_key_file and TOCSIN_CODEC_KEYS are both set: keep the keys in one place")
	case file != "":
		k, err := codec.LoadKeyFile(file)
		if err != nil {
			return k, fmt.Errorf("temporal.codec_key_file: %w", err)
		}
		return k, nil
	case env != "":
		k, err := codec.ParseKeys(env)
		if err != nil {
			return k, fmt.Errorf("TOCSIN_CODEC_KEYS: %w", err)
		}
		return k, nil
	}
	return codec.Keys{}, errors.New("temporal.codec_key_file (or the TOCSIN_CODEC_KEYS environment variable) is required: Temporal must not hold incident facts in plain text; make a key with `tocsin codec key --key-file /etc/tocsin/codec.keys`")
}

// stageFromEnv lets a sourced peers.env (`tocsin peers`) aim every provider
// at the staging peers: each variable set replaces its setting, as
// TOCSIN_DATABASE_URL does, and is listed in Staged.
func (c *Config) stageFromEnv() {
	set := func(env string, setting *string, name string) {
		if v := os.Getenv(env); v != "" {
			*setting = v
			c.Staged = append(c.Staged, name+" from "+env)
		}
	}
	set("TOCSIN_DEV_TWILIO", &c.Twilio.APIURL, "twilio.api_url")
	if os.Getenv("TOCSIN_DEV_TWILIO") != "" {
		// The peer's account, only beside the peer: a production
		// environment's TWILIO_ACCOUNT_SID does not override the file.
		set("TWILIO_ACCOUNT_SID", &c.Twilio.AccountSID, "twilio.account_sid")
	}
	set("TOCSIN_DEV_SLACK", &c.Slack.APIURL, "slack.api_url")
	set("TOCSIN_DEV_SMTP", &c.SMTP.Addr, "smtp.addr")
	set("TOCSIN_DEV_ONSITE", &c.Onsite.WebhookURL, "onsite.webhook_url")
	set("TOCSIN_DEV_ANNOUNCE", &c.Announce.WebhookURL, "announce.webhook_url")
	set("TOCSIN_DEV_PRINT", &c.Letters.VendorURL, "letters.vendor_url")
	set("TOCSIN_DEV_FCM", &c.Push.FCMEndpoint, "push.fcm_endpoint")
	set("TOCSIN_DEV_FCM_PROJECT", &c.Push.FCMProjectID, "push.fcm_project_id")
	set("TOCSIN_DEV_APNS", &c.Push.APNsHost, "push.apns_host")
	set("TOCSIN_DEV_APNS_CA", &c.Push.APNsCA, "push.apns_ca")
	set("TOCSIN_DEV_APNS_KEY_ID", &c.Push.APNsKeyID, "push.apns_key_id")
	set("TOCSIN_DEV_APNS_TEAM_ID", &c.Push.APNsTeamID, "push.apns_team_id")
	set("TOCSIN_DEV_APNS_TOPIC", &c.Push.APNsTopic, "push.apns_topic")
	if os.Getenv("TOCSIN_DEV_SMTP") != "" {
		// The peer's SMTP server offers no STARTTLS.
		c.SMTP.TLS = "opportunistic"
		c.Staged = append(c.Staged, "smtp.tls opportunistic (the peer has no STARTTLS)")
	}
	if c.OIDC != nil {
		set("TOCSIN_DEV_OIDC", &c.OIDC.Issuer, "oidc.issuer")
		if os.Getenv("TOCSIN_DEV_OIDC") != "" {
			c.OIDC.ClientID = devOIDCClient
		}
	}
}

// Validate names every missing setting.
func (c Config) Validate(path string) error {
	var errs []error
	need := func(ok bool, what string) {
		if !ok {
			errs = append(errs, fmt.Errorf("%s: %s is required", path, what))
		}
	}
	errs = append(errs, c.secretErrs...)
	need(c.Temporal.Address != "", "temporal.address")
	if c.codecErr != nil {
		errs = append(errs, fmt.Errorf("%s: %w", path, c.codecErr))
	}
	for _, o := range c.Temporal.UIOrigins {
		u, err := url.Parse(o)
		need(err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && (u.Path == "" || u.Path == "/"), "temporal.ui_origins to be origins (https://temporal-ui.example.com)")
	}
	need(c.Database != "", "database (a SQLite path, or postgres://... here or in TOCSIN_DATABASE_URL)")
	need(c.PublicURL != "", "public_url (Twilio callbacks and announcement links use it)")
	need(c.Twilio.AccountSID != "", "twilio.account_sid")
	need(c.Twilio.From != "" || c.Twilio.MessagingServiceSID != "", "twilio.from or twilio.messaging_service_sid")
	need(c.Secrets.TwilioAuthToken.Set(), "the TWILIO_AUTH_TOKEN environment variable (or TWILIO_AUTH_TOKEN_FILE)")
	need(c.SMTP.Addr != "" && c.SMTP.From != "", "smtp.addr and smtp.from")
	need((c.SMTP.BounceAddress == "") == (c.Bounces.Listen == ""), "smtp.bounce_address and bounces.listen together (bounces go to the address, and the listener reads them)")
	need(c.SMTP.BounceAddress == "" || strings.Count(c.SMTP.BounceAddress, "@") == 1, "smtp.bounce_address to be an address (bounces@example.com)")
	need(c.SMTP.ReplyTo == "" || c.Bounces.Listen != "", "bounces.listen with smtp.reply_to (replies to notices reach the listener, which makes them questions)")
	need(c.SMTP.ReplyTo == "" || strings.Count(c.SMTP.ReplyTo, "@") == 1, "smtp.reply_to to be an address (replies@example.com)")
	need(c.Bounces.Listen == "" || len(c.Bounces.Allow) > 0, "bounces.allow, the mail relays' addresses or CIDR ranges (10.0.0.0/8), with bounces.listen: whoever can deliver a bounce can fail a delivery")
	if c.bounceRelaysErr != nil {
		errs = append(errs, fmt.Errorf("%s: %w", path, c.bounceRelaysErr))
	}
	need(c.SMTP.TLS == "" || slices.Contains(senders.TLSModes, c.SMTP.TLS), "smtp.tls to be required or opportunistic (unset: required unless the relay is on this machine)")
	need(c.Secrets.SlackBotToken.Set(), "the SLACK_BOT_TOKEN environment variable (or SLACK_BOT_TOKEN_FILE)")
	need(c.Onsite.WebhookURL != "", "onsite.webhook_url")
	need(c.Letters.VendorURL == "" || c.Secrets.PrintSecret.Set(), "the TOCSIN_PRINT_SECRET environment variable (or TOCSIN_PRINT_SECRET_FILE) (it signs letters to letters.vendor_url)")
	need(c.Push.FCMProjectID == "" || c.Secrets.FCMCredentials.Set(), "the TOCSIN_FCM_CREDENTIALS environment variable (or TOCSIN_FCM_CREDENTIALS_FILE), the service account's JSON key (push.fcm_project_id is set)")
	need(!c.Secrets.APNsKey.Set() || (c.Push.APNsKeyID != "" && c.Push.APNsTeamID != "" && c.Push.APNsTopic != ""), "push.apns_key_id, push.apns_team_id and push.apns_topic (TOCSIN_APNS_KEY is set)")
	if c.Push.APNsCA != "" {
		if _, err := apnsClient(c.Push.APNsCA); err != nil {
			errs = append(errs, fmt.Errorf("%s: push.apns_ca: %w", path, err))
		}
	}
	for name, u := range map[string]string{"twilio.api_url": c.Twilio.APIURL, "slack.api_url": c.Slack.APIURL} {
		parsed, err := url.Parse(u)
		need(u == "" || (err == nil && (parsed.Scheme == "https" || parsed.Scheme == "http") && parsed.Host != ""), name+" to be an http(s) URL, or unset for the real service")
	}
	for name, v := range map[string]int{"campaign.batch_size": c.Campaign.BatchSize, "campaign.batch_window": c.Campaign.BatchWindow,
		"campaign.partition_size": c.Campaign.PartitionSize, "campaign.partition_window": c.Campaign.PartitionWindow,
		"worker.max_concurrent_activities": c.Worker.MaxConcurrentActivities, "worker.send_lanes": c.Worker.SendLanes} {
		need(v >= 0, name+" to be a positive number (or unset for the default)")
	}
	need(c.Campaign.PartitionSize == 0 || c.Campaign.BatchSize == 0 || c.Campaign.PartitionSize >= c.Campaign.BatchSize, "campaign.partition_size to be at least campaign.batch_size")
	need(c.Twilio.ValidityPeriod >= 0 && c.Twilio.ValidityPeriod <= 36000, "twilio.validity_period between 1 and 36000 seconds (or unset for 4 hours)")
	for ch, r := range c.Rates {
		_, known := channel.Lookup(ch)
		need(known && r > 0, fmt.Sprintf("rates.%s to name a channel (%s) with a positive rate", ch, strings.Join(channel.Names(), ", ")))
	}
	for ch, ceiling := range c.RateCeilings {
		r, paced := c.Rates[ch]
		need(paced && ceiling >= r, fmt.Sprintf("rate_ceilings.%s to name a channel that has a rate under rates:, and to be no lower than it", ch))
	}
	if c.Secrets.legacyWebhook && (!c.Secrets.OnsiteSecret.Set() || !c.Secrets.PressSecret.Set()) {
		errs = append(errs, fmt.Errorf("TOCSIN_WEBHOOK_SECRET signed both on-site notices and press announcements and is no longer read: set TOCSIN_ONSITE_SECRET (shared with the on-site notification service) and TOCSIN_PRESS_SECRET (shared with the press webhook), two different values"))
	}
	need(c.Secrets.OnsiteSecret.Set(), "the TOCSIN_ONSITE_SECRET environment variable (or TOCSIN_ONSITE_SECRET_FILE) (it signs on-site notices)")
	need(c.Secrets.PressSecret.Set(), "the TOCSIN_PRESS_SECRET environment variable (or TOCSIN_PRESS_SECRET_FILE) (it signs press announcements)")
	need(!c.Secrets.OnsiteSecret.Set() || c.Secrets.OnsiteSecret.Reveal() != c.Secrets.PressSecret.Reveal(), "TOCSIN_ONSITE_SECRET and TOCSIN_PRESS_SECRET to differ (the press must not be able to sign on-site notices)")
	need(len(c.Secrets.ActorKey.Reveal()) >= 32, "the TOCSIN_ACTOR_KEY environment variable (or TOCSIN_ACTOR_KEY_FILE), 32 characters or more, the same for serve and every worker (it signs who asks for each decision; openssl rand -hex 32)")
	need(c.Secrets.SlackSigningSecret.Set(), "the SLACK_SIGNING_SECRET environment variable (or SLACK_SIGNING_SECRET_FILE) (it verifies the war room's buttons and /tocsin)")
	roles := []string{api.RoleResponder, api.RoleLegal, api.RoleAdmin, api.RoleViewer}
	for id, u := range c.Slack.Users {
		need(u.Identity != "" && slices.Contains(roles, u.Role), fmt.Sprintf("slack.users.%s to give an identity and a role (responder, legal, admin or viewer)", id))
	}
	if o := c.OIDC; o != nil {
		need(o.Issuer != "" && o.ClientID != "", "oidc.issuer and oidc.client_id")
		need(c.Secrets.OIDCClientSecret.Set(), "the OIDC_CLIENT_SECRET environment variable (or OIDC_CLIENT_SECRET_FILE) (oidc is configured)")
		for who, role := range o.Roles {
			need(slices.Contains(roles, role), fmt.Sprintf("oidc.roles.%s to be responder, legal, admin or viewer", who))
		}
		for g, role := range o.GroupRoles {
			need(slices.Contains(roles, role), fmt.Sprintf("oidc.group_roles.%s to be responder, legal, admin or viewer", g))
		}
	}
	return errors.Join(errs...)
}

// clientOptions connects to Temporal: mTLS with tls_cert/tls_key (a
// self-hosted cluster or Temporal Cloud), or an API key from
// TEMPORAL_API_KEY (Temporal Cloud; TLS with the system's roots).
func (c Config) clientOptions(log *slog.Logger) (client.Options, error) {
	opts := client.Options{HostPort: c.Temporal.Address, Namespace: c.Temporal.Namespace, Logger: sdklog.NewStructuredLogger(quiet(log))}
	opts.DataConverter, opts.FailureConverter = codec.Converters(c.CodecKeys)
	if c.Secrets.TemporalAPIKey.Set() {
		opts.Credentials = client.NewAPIKeyStaticCredentials(c.Secrets.TemporalAPIKey.Reveal())
		opts.ConnectionOptions.TLS = &tls.Config{ServerName: c.Temporal.ServerName, MinVersion: tls.VersionTLS12}
	}
	if c.Temporal.TLSCert != "" || c.Temporal.TLSCA != "" {
		tc := &tls.Config{ServerName: c.Temporal.ServerName, MinVersion: tls.VersionTLS12}
		if c.Temporal.TLSCert != "" {
			cert, err := tls.LoadX509KeyPair(c.Temporal.TLSCert, c.Temporal.TLSKey)
			if err != nil {
				return opts, fmt.Errorf("temporal tls: %w", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		if c.Temporal.TLSCA != "" {
			pem, err := os.ReadFile(c.Temporal.TLSCA)
			if err != nil {
				return opts, fmt.Errorf("temporal tls ca: %w", err)
			}
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(pem)
			tc.RootCAs = pool
		}
		opts.ConnectionOptions.TLS = tc
	}
	return opts, nil
}

func (c Config) dial(ctx context.Context, log *slog.Logger, set *metrics.Set) (client.Client, error) {
	opts, err := c.clientOptions(log)
	if err != nil {
		return nil, err
	}
	opts.MetricsHandler = set.Temporal()
	cl, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to temporal at %s: %w", c.Temporal.Address, err)
	}
	return cl, nil
}

// open connects to the two things both processes need, the store and
// Temporal, and starts their metrics and probes when metrics.listen is set.
func (c Config) open(ctx context.Context, log *slog.Logger, set *metrics.Set) (*store.Store, client.Client, func(), error) {
	if len(c.Staged) > 0 {
		log.Warn("staging: providers replaced by the environment (peers.env)", "settings", strings.Join(c.Staged, ", "))
	}
	if err := playbooks.Check(c.PlaybookDir); err != nil {
		return nil, nil, nil, err
	}
	st, err := store.Open(c.Database)
	if err != nil {
		return nil, nil, nil, err
	}
	tc, err := c.dial(ctx, log, set)
	if err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	checkRetention(ctx, tc, c, log)
	stopOps := func() {}
	if c.Metrics.Listen != "" {
		if stopOps, err = serveOps(ctx, c.Metrics.Listen, set, ready(st, tc), log); err != nil {
			tc.Close()
			st.Close()
			return nil, nil, nil, err
		}
	}
	return st, tc, func() { stopOps(); tc.Close(); st.Close() }, nil
}

// RunServe runs the HTTP API against an external Temporal cluster.
func RunServe(ctx context.Context, c Config, log *slog.Logger) error {
	set := metrics.New()
	st, tc, closeAll, err := c.open(ctx, log, set)
	if err != nil {
		return err
	}
	defer closeAll()
	server := &api.Server{Store: st, Temporal: tc, TwilioAuthToken: c.Secrets.TwilioAuthToken.Reveal(), PublicURL: c.PublicURL, Log: log, PlaybookDir: c.PlaybookDir, Rates: c.Rates, RateCeilings: c.RateCeilings, OIDC: c.OIDC,
		ActorKey:  []byte(c.Secrets.ActorKey.Reveal()),
		Letters:   &letters.Printer{Sender: c.Letters.Sender, Font: c.Letters.Font},
		Codec:     &api.CodecEndpoint{Codec: codec.Codec{Keys: c.CodecKeys}, Namespace: c.Temporal.Namespace, UIOrigins: c.Temporal.UIOrigins},
		BatchSize: c.Campaign.BatchSize, BatchWindow: c.Campaign.BatchWindow, PartitionSize: c.Campaign.PartitionSize, PartitionWindow: c.Campaign.PartitionWindow,
		Slack: &api.SlackApp{SigningSecret: c.Secrets.SlackSigningSecret.Reveal(), WarRoom: senders.NewWarRoom(senders.SlackConfig{BotToken: c.Secrets.SlackBotToken.Reveal(), APIURL: c.Slack.APIURL}), Users: map[string]api.Principal{}}}
	twCfg := c.twilio()
	server.Replies = newAnswerer(twCfg, c.smtp())
	server.Uploads = api.Uploads{Dir: c.Uploads.Dir, MaxBytes: c.Uploads.MaxBytes, KeepFree: c.Uploads.KeepFreeBytes}
	server.DataConverter, _ = codec.Converters(c.CodecKeys)
	for id, u := range c.Slack.Users {
		server.Slack.Users[id] = api.Principal{Identity: incident.NormalizeIdentity(u.Identity), Role: u.Role}
	}
	if err := set.Register(server.Gauges()); err != nil {
		return err
	}
	if c.Bounces.Listen != "" {
		mailbox := &bounces.Listener{Ledger: st, Base: c.SMTP.BounceAddress, Allow: c.bounceRelays, Log: log, ReplyAddress: c.SMTP.ReplyTo, Questions: api.EmailQuestions{Store: st}}
		if err := mailbox.Start(c.Bounces.Listen); err != nil {
			return fmt.Errorf("bounces.listen %s: %w", c.Bounces.Listen, err)
		}
		defer mailbox.Close()
		log.Info("bounce mailbox listening", "addr", mailbox.Addr(), "address", c.SMTP.BounceAddress)
	}
	// The API's own port answers the probes too, for orchestrators that
	// probe the port they route to.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", ready(st, tc).readyz)
	mux.Handle("/", server.Handler())
	srv := api.NewHTTPServer(mux, 10*time.Second)
	srv.Addr = c.Listen
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	log.Info("tocsin API listening", "addr", c.Listen, "temporal", c.Temporal.Address)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	// Shutdown lets the requests under way finish; then the codec reads
	// they counted are written, before closeAll closes the store.
	<-drained
	server.FlushAudit()
	return nil
}

// RunWorker runs the workflows and activities with the real providers.
func RunWorker(ctx context.Context, c Config, log *slog.Logger) error {
	set := metrics.New()
	st, tc, closeAll, err := c.open(ctx, log, set)
	if err != nil {
		return err
	}
	defer closeAll()
	reg, tw, closeSenders := c.Senders()
	defer closeSenders()
	acts := &activities.Activities{
		Store:       st,
		Senders:     sharedPace(senders.Measure(reg, set.Send), c.Rates, st),
		Receipts:    senders.TwilioStatus{Client: tw},
		Chat:        senders.NewWarRoom(senders.SlackConfig{BotToken: c.Secrets.SlackBotToken.Reveal(), APIURL: c.Slack.APIURL}),
		Announcer:   &senders.WebhookAnnouncer{URL: c.Announce.WebhookURL, Secret: c.Secrets.PressSecret.Reveal()},
		PlaybookDir: c.PlaybookDir, PublicURL: c.PublicURL, SlackUsers: c.slackAccounts(), Log: log,
		VerifyKey: verify.KeyFrom([]byte(c.Secrets.ActorKey.Reveal())), Rates: c.Rates, SendLanes: c.Worker.SendLanes,
	}
	w := newWorkerWith(tc, acts, c.actorKeys(), worker.Options{WorkerStopTimeout: stopGrace, MaxConcurrentActivityExecutionSize: c.Worker.MaxConcurrentActivities})
	if err := w.Start(); err != nil {
		return err
	}
	log.Info("tocsin worker running", "temporal", c.Temporal.Address, "namespace", c.Temporal.Namespace)
	<-ctx.Done()
	w.Stop()
	return nil
}

// actorKeys are the keys the workers accept signed updates under.
func (c Config) actorKeys() [][]byte {
	keys := [][]byte{[]byte(c.Secrets.ActorKey.Reveal())}
	if c.Secrets.ActorKeyPrevious.Set() {
		keys = append(keys, []byte(c.Secrets.ActorKeyPrevious.Reveal()))
	}
	return keys
}

// Senders are the production senders, unpaced (for a worker, and for a
// benchmark's plain loop), with the Twilio client that reads receipts;
// close them after.
func (c Config) Senders() (senders.Registry, *twilio.RestClient, func()) {
	var apnsHTTP *http.Client
	if c.Push.APNsCA != "" {
		apnsHTTP, _ = apnsClient(c.Push.APNsCA) // Validate read it
	}
	twCfg := c.twilio()
	return senders.Build(senders.Providers{Twilio: twCfg,
		SMTP:   c.smtp(),
		Onsite: senders.OnsiteConfig{WebhookURL: c.Onsite.WebhookURL, Secret: c.Secrets.OnsiteSecret.Reveal()},
		Push: senders.PushConfig{FCMProjectID: c.Push.FCMProjectID, FCMCredentials: []byte(c.Secrets.FCMCredentials.Reveal()), FCMEndpoint: c.Push.FCMEndpoint,
			APNsKey: []byte(c.Secrets.APNsKey.Reveal()), APNsKeyID: c.Push.APNsKeyID, APNsTeamID: c.Push.APNsTeamID, APNsTopic: c.Push.APNsTopic, APNsHost: c.Push.APNsHost, APNsHTTP: apnsHTTP, Link: c.Push.Link},
		Letter: senders.LetterConfig{Sender: c.Letters.Sender, Font: c.Letters.Font, VendorURL: c.Letters.VendorURL, Secret: c.Secrets.PrintSecret.Reveal()}})
}

// twilio is the Twilio account's settings, for notices and for answers.
func (c Config) twilio() senders.TwilioConfig {
	return senders.TwilioConfig{AccountSID: c.Twilio.AccountSID, AuthToken: c.Secrets.TwilioAuthToken.Reveal(), From: c.Twilio.From, MessagingServiceSID: c.Twilio.MessagingServiceSID,
		StatusCallback: c.PublicURL + "/webhooks/twilio/status", AckCallback: c.PublicURL + "/webhooks/twilio/ack", ValidityPeriod: c.Twilio.ValidityPeriod, BaseURL: c.Twilio.APIURL}
}

// smtp is the SMTP relay's settings, for notices and for answers.
func (c Config) smtp() senders.SMTPConfig {
	return senders.SMTPConfig{Addr: c.SMTP.Addr, Username: c.SMTP.Username, Password: c.Secrets.SMTPPassword.Reveal(), From: c.SMTP.From, Connections: c.SMTP.Connections, TLS: c.SMTP.TLS,
		BounceAddress: c.SMTP.BounceAddress, ReplyTo: c.SMTP.ReplyTo}
}

// apnsClient is an HTTP/2 client that trusts the authority in caFile.
func apnsClient(caFile string) (*http.Client, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificate", caFile)
	}
	return &http.Client{Transport: &http2.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}, nil
}

// sharedPace paces each channel at its rate for all workers together: the
// windows live in the store every worker shares.
func sharedPace(reg senders.Registry, rates senders.Rates, st *store.Store) senders.Registry {
	live := &liveRates{store: st}
	return senders.PaceWith(reg, rates, func(channel string, perSecond float64) senders.Limiter {
		return senders.SharedRate{Bucket: st, Name: channel, Rate: perSecond, Live: live}
	})
}

// liveRateFreshness is how soon every worker paces by a rate an admin set.
const liveRateFreshness = 5 * time.Second

// liveRates reads the rates set at run time (tocsin channel rate) from the
// store, at most once per liveRateFreshness per worker.
type liveRates struct {
	store *store.Store
	mu    sync.Mutex
	at    time.Time
	rates map[string]store.ChannelRate
}

func (l *liveRates) RateNow(ctx context.Context, channel string) (float64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if time.Since(l.at) > liveRateFreshness {
		if rates, err := l.store.ChannelRates(ctx); err == nil {
			l.rates, l.at = rates, time.Now()
		}
	}
	r, ok := l.rates[channel]
	return r.PerSecond, ok
}

// relayPrefixes reads bounces.allow: each entry an address (one host) or a
// CIDR range.
func relayPrefixes(allow []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, a := range allow {
		a = strings.TrimSpace(a)
		if p, err := netip.ParsePrefix(a); err == nil {
			out = append(out, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(a)
		if err != nil {
			return nil, fmt.Errorf("bounces.allow[%d] %q: want an address (192.0.2.25) or a CIDR range (10.0.0.0/8)", i, a)
		}
		out = append(out, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
	}
	return out, nil
}
