package app

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTheExampleConfigLoadsAndNamesEveryMissingSecret(t *testing.T) {
	for _, k := range []string{"TWILIO_AUTH_TOKEN", "SMTP_PASSWORD", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "TOCSIN_ONSITE_SECRET", "TOCSIN_PRESS_SECRET", "TOCSIN_WEBHOOK_SECRET", "OIDC_CLIENT_SECRET", "TOCSIN_DATABASE_URL", "TOCSIN_CODEC_KEYS", "TOCSIN_ACTOR_KEY"} {
		t.Setenv(k, "")
	}
	_, err := LoadConfig("../../deploy/tocsin.example.yaml")
	require.Error(t, err)
	for _, v := range []string{"TWILIO_AUTH_TOKEN", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "TOCSIN_ONSITE_SECRET", "TOCSIN_PRESS_SECRET", "OIDC_CLIENT_SECRET", "TOCSIN_CODEC_KEYS", "TOCSIN_ACTOR_KEY"} {
		require.ErrorContains(t, err, v)
	}
	t.Setenv("TOCSIN_CODEC_KEYS", testCodecKeys)
	t.Setenv("TOCSIN_ACTOR_KEY", testActorKey)
	for _, k := range []string{"TWILIO_AUTH_TOKEN", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "TOCSIN_ONSITE_SECRET", "TOCSIN_PRESS_SECRET", "OIDC_CLIENT_SECRET"} {
		t.Setenv(k, "s3cret-"+k)
	}
	c, err := LoadConfig("../../deploy/tocsin.example.yaml")
	require.NoError(t, err)
	require.Equal(t, "counsel@example.com", c.Slack.Users["U034COUNSEL"].Identity)
	require.Equal(t, "s3cret-OIDC_CLIENT_SECRET", c.OIDC.ClientSecret)
	require.NotContains(t, c.Secrets.String(), "s3cret")

	bad := filepath.Join(t.TempDir(), "tocsin.yaml")
	data, _ := os.ReadFile("../../deploy/tocsin.example.yaml")
	require.NoError(t, os.WriteFile(bad, []byte(strings.Replace(string(data), "role: legal}", "role: judge}", 1)), 0o600))
	_, err = LoadConfig(bad)
	require.ErrorContains(t, err, "slack.users.U034COUNSEL to give an identity and a role")
}

// On-site notices and press announcements are signed with different
// secrets: the press webhook's owner cannot forge an in-app notice.
func TestOnsiteAndPressSecretsAreSeparate(t *testing.T) {
	for _, k := range []string{"TWILIO_AUTH_TOKEN", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "OIDC_CLIENT_SECRET"} {
		t.Setenv(k, "s3cret-"+k)
	}
	t.Setenv("TOCSIN_DATABASE_URL", "")
	t.Setenv("TOCSIN_CODEC_KEYS", testCodecKeys)
	t.Setenv("TOCSIN_ACTOR_KEY", testActorKey)
	t.Setenv("TOCSIN_WEBHOOK_SECRET", "old-shared")
	t.Setenv("TOCSIN_ONSITE_SECRET", "")
	t.Setenv("TOCSIN_PRESS_SECRET", "")
	_, err := LoadConfig("../../deploy/tocsin.example.yaml")
	require.ErrorContains(t, err, "TOCSIN_WEBHOOK_SECRET signed both", "the old single secret is named, with what replaces it")

	t.Setenv("TOCSIN_ONSITE_SECRET", "same")
	t.Setenv("TOCSIN_PRESS_SECRET", "same")
	_, err = LoadConfig("../../deploy/tocsin.example.yaml")
	require.ErrorContains(t, err, "TOCSIN_ONSITE_SECRET and TOCSIN_PRESS_SECRET to differ")

	t.Setenv("TOCSIN_PRESS_SECRET", "press")
	c, err := LoadConfig("../../deploy/tocsin.example.yaml")
	require.NoError(t, err)
	require.Equal(t, "same", c.Secrets.OnsiteSecret.Reveal())
	require.Equal(t, "press", c.Secrets.PressSecret.Reveal())
}

// A public_url written with a trailing slash still makes /webhooks/... URLs.
func TestPublicURLLosesItsTrailingSlash(t *testing.T) {
	data := exampleConfig(t)
	path := filepath.Join(t.TempDir(), "tocsin.yaml")
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(data), "public_url: https://tocsin.example.com", "public_url: https://tocsin.example.com/", 1)), 0o600))
	c, err := LoadConfig(path)
	require.NoError(t, err)
	require.Equal(t, "https://tocsin.example.com", c.PublicURL)
}

// Campaign sizing is read, and a nonsense value is named by its key.
func TestCampaignSizingIsReadAndChecked(t *testing.T) {
	data := exampleConfig(t)
	c, err := LoadConfig("../../deploy/tocsin.example.yaml")
	require.NoError(t, err)
	require.Equal(t, 20000, c.Campaign.PartitionSize)
	require.Equal(t, 16, c.Worker.MaxConcurrentActivities)
	path := filepath.Join(t.TempDir(), "tocsin.yaml")
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(data), "batch_window: 16", "batch_window: -1", 1)), 0o600))
	_, err = LoadConfig(path)
	require.ErrorContains(t, err, "campaign.batch_window to be a positive number")
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(data), "partition_size: 20000", "partition_size: 100", 1)), 0o600))
	_, err = LoadConfig(path)
	require.ErrorContains(t, err, "campaign.partition_size to be at least campaign.batch_size")
}

// A provider's ceiling bounds a paced channel's rate from above: one below
// the configured rate, or for a channel that is not paced, is refused.
func TestRateCeilingsAreCheckedAgainstTheRates(t *testing.T) {
	data := exampleConfig(t)
	c, err := LoadConfig("../../deploy/tocsin.example.yaml")
	require.NoError(t, err)
	require.Equal(t, 100.0, c.RateCeilings["sms"])
	path := filepath.Join(t.TempDir(), "tocsin.yaml")
	for _, bad := range []string{"rate_ceilings:\n  sms: 10\n", "rate_ceilings:\n  sms: 100\n  push: 5\n"} {
		require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(data), "rate_ceilings:\n  sms: 100\n", bad, 1)), 0o600))
		_, err = LoadConfig(path)
		require.ErrorContains(t, err, "to name a channel that has a rate under rates:, and to be no lower than it", bad)
	}
}

func TestSMTPTLSModeIsChecked(t *testing.T) {
	data := exampleConfig(t)
	c, err := LoadConfig("../../deploy/tocsin.example.yaml")
	require.NoError(t, err)
	require.Equal(t, "required", c.SMTP.TLS)
	path := filepath.Join(t.TempDir(), "tocsin.yaml")
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(data), "tls: required", "tls: maybe", 1)), 0o600))
	_, err = LoadConfig(path)
	require.ErrorContains(t, err, "smtp.tls to be required or opportunistic")
}

// The bounce mailbox needs the relays it takes bounces from, each an
// address or a CIDR range; a wrong one is named by its place in the list.
func TestBounceRelaysAreRequiredAndChecked(t *testing.T) {
	data := string(exampleConfig(t))
	c, err := LoadConfig("../../deploy/tocsin.example.yaml")
	require.NoError(t, err)
	allow, err := relayPrefixes(c.Bounces.Allow)
	require.NoError(t, err)
	require.Equal(t, []netip.Prefix{netip.MustParsePrefix("192.0.2.25/32"), netip.MustParsePrefix("192.0.2.26/32")}, allow)
	load := func(from, to string) error {
		path := filepath.Join(t.TempDir(), "tocsin.yaml")
		require.NoError(t, os.WriteFile(path, []byte(strings.Replace(data, from, to, 1)), 0o600))
		_, err := LoadConfig(path)
		return err
	}
	require.ErrorContains(t, load("allow: [192.0.2.25, 192.0.2.26]", ""), "bounces.allow, the mail relays' addresses")
	require.ErrorContains(t, load("allow: [192.0.2.25, 192.0.2.26]", "allow: [192.0.2.25, relay.example.com]"), `bounces.allow[1] "relay.example.com": want an address`)
	require.Equal(t, "replies@example.com", c.smtp().ReplyTo, "the notices' Reply-To")
	require.ErrorContains(t, load("reply_to: replies@example.com", "reply_to: replies"), "smtp.reply_to to be an address")
	require.ErrorContains(t, load("listen: 0.0.0.0:2526", "listen: \"\""), "bounces.listen with smtp.reply_to")
}

// testCodecKeys is a key ring for configurations under test.
var testCodecKeys = "test:" + base64.StdEncoding.EncodeToString(make([]byte, 32))

// testActorKey signs updates in configurations under test.
const testActorKey = "a test actor key of thirty-two or more characters"

// exampleConfig sets every secret the example configuration needs and
// returns the file, for tests that change one line of it.
func exampleConfig(t *testing.T) []byte {
	t.Helper()
	for _, k := range []string{"TWILIO_AUTH_TOKEN", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "OIDC_CLIENT_SECRET", "TOCSIN_ONSITE_SECRET"} {
		t.Setenv(k, "s3cret-"+k)
	}
	t.Setenv("TOCSIN_PRESS_SECRET", "press")
	t.Setenv("TOCSIN_WEBHOOK_SECRET", "")
	t.Setenv("TOCSIN_DATABASE_URL", "")
	t.Setenv("TOCSIN_CODEC_KEYS", testCodecKeys)
	t.Setenv("TOCSIN_ACTOR_KEY", testActorKey)
	for _, k := range []string{"TOCSIN_DEV_TWILIO", "TWILIO_ACCOUNT_SID", "TOCSIN_DEV_SLACK", "TOCSIN_DEV_SMTP", "TOCSIN_DEV_ONSITE", "TOCSIN_DEV_ANNOUNCE", "TOCSIN_DEV_OIDC", "TOCSIN_DEV_PRINT", "TOCSIN_DEV_FCM", "TOCSIN_DEV_FCM_PROJECT", "TOCSIN_DEV_APNS", "TOCSIN_DEV_APNS_CA", "TOCSIN_DEV_APNS_KEY_ID", "TOCSIN_DEV_APNS_TEAM_ID", "TOCSIN_DEV_APNS_TOPIC"} {
		t.Setenv(k, "") // a sourced peers.env must not change what the example says
	}
	data, err := os.ReadFile("../../deploy/tocsin.example.yaml")
	require.NoError(t, err)
	return data
}

// oidc.roles may spell an address in any case: sign-in looks the person up
// by the lower-case address the provider's e-mail claim becomes.
func TestOIDCRolesAreKeyedByTheNormalisedAddress(t *testing.T) {
	data := exampleConfig(t)
	path := filepath.Join(t.TempDir(), "tocsin.yaml")
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(data), "    counsel@example.com: legal", "    Counsel@Example.COM: legal", 1)), 0o600))
	c, err := LoadConfig(path)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"counsel@example.com": "legal"}, c.OIDC.Roles)
}

// twilio.api_url and slack.api_url aim the SDKs elsewhere (staging, an
// egress proxy); a value that is not an http(s) URL is named, not dialled.
func TestProviderAPIURLsAreChecked(t *testing.T) {
	data := exampleConfig(t)
	c, err := LoadConfig("../../deploy/tocsin.example.yaml")
	require.NoError(t, err)
	require.Empty(t, c.Twilio.APIURL, "unset: the real Twilio")
	require.Empty(t, c.Staged)
	path := filepath.Join(t.TempDir(), "tocsin.yaml")
	bad := strings.Replace(string(data), "  validity_period: 14400", "  validity_period: 14400\n  api_url: api.twilio.example", 1)
	bad = strings.Replace(bad, "slack:\n", "slack:\n  api_url: ftp://slack.example/\n", 1)
	require.NoError(t, os.WriteFile(path, []byte(bad), 0o600))
	_, err = LoadConfig(path)
	require.ErrorContains(t, err, "twilio.api_url to be an http(s) URL")
	require.ErrorContains(t, err, "slack.api_url to be an http(s) URL")

	// TWILIO_ACCOUNT_SID alone is not a staging environment.
	t.Setenv("TWILIO_ACCOUNT_SID", "ACfromtheenvironment")
	c, err = LoadConfig("../../deploy/tocsin.example.yaml")
	require.NoError(t, err)
	require.Equal(t, "ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", c.Twilio.AccountSID)
	require.Empty(t, c.Staged)

	// A sourced peers.env replaces the endpoints, and says so.
	t.Setenv("TOCSIN_DEV_OIDC", "http://peers.staging:8090/oidc")
	t.Setenv("TOCSIN_DEV_SMTP", "peers.staging:2525")
	c, err = LoadConfig("../../deploy/tocsin.example.yaml")
	require.NoError(t, err)
	require.Equal(t, "http://peers.staging:8090/oidc", c.OIDC.Issuer)
	require.Equal(t, "tocsin-dev", c.OIDC.ClientID, "the peers' identity provider knows one client")
	require.Equal(t, "peers.staging:2525", c.SMTP.Addr)
	require.Equal(t, "opportunistic", c.SMTP.TLS, "the SMTP peer offers no STARTTLS")
	require.Contains(t, c.Staged, "oidc.issuer from TOCSIN_DEV_OIDC")
}

// Every secret may come from a mounted file (NAME_FILE), as Kubernetes and
// Docker give them; a secret set both ways, or a file that cannot be read,
// is named, and a printed config shows none of them.
func TestSecretsComeFromMountedFiles(t *testing.T) {
	exampleConfig(t)
	dir := t.TempDir()
	mount := func(name, value string) {
		t.Setenv(name, "")
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(value+"\n"), 0o600))
		t.Setenv(name+"_FILE", p)
	}
	for _, name := range []string{"TWILIO_AUTH_TOKEN", "SMTP_PASSWORD", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "TOCSIN_ONSITE_SECRET", "TOCSIN_PRESS_SECRET", "OIDC_CLIENT_SECRET", "TEMPORAL_API_KEY", "TOCSIN_ACTOR_KEY"} {
		mount(name, "mounted-"+name+"-0123456789abcdef0123456789")
	}
	mount("TOCSIN_DATABASE_URL", "postgres://tocsin:pw@db/tocsin")
	c, err := LoadConfig("../../deploy/tocsin.example.yaml")
	require.NoError(t, err)
	require.Equal(t, "mounted-TWILIO_AUTH_TOKEN-0123456789abcdef0123456789", c.Secrets.TwilioAuthToken.Reveal(), "without the file's newline")
	require.Equal(t, "mounted-SMTP_PASSWORD-0123456789abcdef0123456789", c.Secrets.SMTPPassword.Reveal())
	require.Equal(t, "mounted-TOCSIN_ACTOR_KEY-0123456789abcdef0123456789", c.Secrets.ActorKey.Reveal())
	require.Equal(t, "mounted-OIDC_CLIENT_SECRET-0123456789abcdef0123456789", c.OIDC.ClientSecret)
	require.Equal(t, "postgres://tocsin:pw@db/tocsin", c.Database)
	require.NotContains(t, fmt.Sprintf("%+v", c.Secrets), "mounted-")
	require.NotContains(t, fmt.Sprintf("%+v %v", c.Secrets.TwilioAuthToken, c.Secrets.PressSecret), "mounted-")

	t.Setenv("SLACK_BOT_TOKEN", "xoxb-also-in-env")
	t.Setenv("TOCSIN_PRESS_SECRET_FILE", filepath.Join(dir, "nowhere"))
	_, err = LoadConfig("../../deploy/tocsin.example.yaml")
	require.ErrorContains(t, err, "SLACK_BOT_TOKEN and SLACK_BOT_TOKEN_FILE are both set")
	require.ErrorContains(t, err, "TOCSIN_PRESS_SECRET_FILE "+filepath.Join(dir, "nowhere")+": file does not exist")
}
