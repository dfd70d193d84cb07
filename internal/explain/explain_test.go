package explain

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
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

// Explain says in which language each jurisdiction's residents read their
// notice and why: their own, else the official language of where they
// live, else the playbook's default.
func TestExplainSaysWhichLanguageEachPersonReads(t *testing.T) {
	dir := t.TempDir()
	subjects := "subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems\n" +
		"j1,A,a@example.com,,,ja,JP,1990,account-db\n" +
		"j2,B,b@example.com,,,ja-JP,JP,1990,account-db\n" +
		"d1,C,c@example.com,,,it,DE,1990,account-db\n" +
		"b1,D,d@example.com,,,pt,BR,1990,account-db\n" +
		"n1,E,e@example.com,,,nl,NL,1990,account-db\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "subjects.csv"), []byte(subjects), 0o600))
	res, err := Run(context.Background(), Input{IncidentFile: scenario + "/incident.yaml", SystemsFile: scenario + "/systems.yaml", SubjectsFile: filepath.Join(dir, "subjects.csv")})
	require.NoError(t, err)
	var out bytes.Buffer
	res.Print(&out)
	for _, want := range []string{
		"notices read: ja 1 (closest to their language ja-JP); ja 1 (their language)",
		"notices read: de 1 (the official language of DE (no notice in it)); en 1 (the playbook's default (no notice in nl, none for NL))",
		"notices read: pt-BR 1 (closest to their language pt)",
	} {
		require.Contains(t, out.String(), want)
	}
}
