package explain

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const scenario = "../../examples/basic"

// The basic scenario's residents of CN, SG, HK, the EU and California each
// trigger their duties, with due times counted from detected_at
// (2026-11-20 08:00 UTC) or, for Singapore, from the assessment.
func TestExplainBasicScenario(t *testing.T) {
	assessed := time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)
	res, err := Run(context.Background(), Input{IncidentFile: scenario + "/incident.yaml", AssessedAt: assessed})
	require.NoError(t, err)
	require.Equal(t, 54, res.Scope.Subjects)
	detected := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	got := map[string]time.Time{}
	for _, o := range res.Obligations {
		got[o.Name] = o.DueAt
	}
	require.Equal(t, map[string]time.Time{
		"cn-pipl-regulator":               detected,
		"cn-pipl-individuals":             detected,
		"sg-pdpc":                         time.Date(2026, 11, 23, 15, 59, 59, 0, time.UTC), // 23:59:59 in Singapore
		"sg-individuals":                  {},
		"hk-pcpd":                         {},
		"hk-individuals":                  {},
		"eu-gdpr-authority/initial":       detected.Add(72 * time.Hour),
		"eu-gdpr-authority/supplementary": {},
		"eu-gdpr-individuals":             {},
		"us-ca-individuals":               detected.AddDate(0, 0, 30),
	}, got)

	var out bytes.Buffer
	res.Print(&out)
	for _, want := range []string{
		"CN: 26 people",
		"DUE cn-pipl-regulator                  regulator    2026-11-20 16:00 CST Asia/Shanghai (2026-11-20 08:00 UTC) (immediately from awareness)",
		"DUE sg-pdpc                            regulator    2026-11-23 23:59 +08 Asia/Singapore (2026-11-23 15:59 UTC) (3 calendar days after the day from assessed-notifiable)",
		"DUE eu-gdpr-authority/initial          regulator    2026-11-23 09:00 CET Europe/Brussels (2026-11-23 08:00 UTC) (72h from awareness)",
		"DUE us-ca-individuals                  individuals  2026-12-20 00:00 PST America/Los_Angeles (2026-12-20 08:00 UTC) (30 calendar days from discovery)",
		"DUE hk-pcpd                            regulator    as soon as practicable",
		"no  us-ca-attorney-general",
	} {
		require.Contains(t, out.String(), want)
	}
}

func TestExplainNamesAMissingInventory(t *testing.T) {
	_, err := Run(context.Background(), Input{IncidentFile: scenario + "/incident.yaml", SubjectsFile: "nope.csv"})
	require.ErrorContains(t, err, "nope.csv")
}
