package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTheExampleConfigLoadsAndNamesEveryMissingSecret(t *testing.T) {
	for _, k := range []string{"TWILIO_AUTH_TOKEN", "SMTP_PASSWORD", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "TOCSIN_WEBHOOK_SECRET", "OIDC_CLIENT_SECRET", "TOCSIN_DATABASE_URL"} {
		t.Setenv(k, "")
	}
	_, err := LoadConfig("../../deploy/tocsin.example.yaml")
	require.Error(t, err)
	for _, v := range []string{"TWILIO_AUTH_TOKEN", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "TOCSIN_WEBHOOK_SECRET", "OIDC_CLIENT_SECRET"} {
		require.ErrorContains(t, err, v)
	}
	for _, k := range []string{"TWILIO_AUTH_TOKEN", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "TOCSIN_WEBHOOK_SECRET", "OIDC_CLIENT_SECRET"} {
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
