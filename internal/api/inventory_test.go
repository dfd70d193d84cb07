package api

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/client"
	"github.com/tocsin/tocsin/internal/store"
)

func writeFiles(t *testing.T, files map[string]string) string {
	dir := t.TempDir()
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
	return dir
}

const testSystems = "systems:\n  - id: crm\n    name: CRM\n    location: SG\n    categories: [contact.email]\n"

// The upload path a responder uses: a dirty file is refused over HTTP with
// every bad row and a summary, a clean one becomes the current snapshot, and
// an incident naming someone outside it is refused before anything starts.
func TestImportOverHTTPReportsRowsAndOpenChecksNamedSubjects(t *testing.T) {
	srv, hs := newServer(t)
	c := &client.Client{Server: hs.URL, Token: "resp"}
	ctx := context.Background()
	dir := writeFiles(t, map[string]string{
		"systems.yaml":  testSystems,
		"dirty.csv":     "subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems\nu1,A,a@example.com,,,en,SG,,crm\nu2,B,b@example,,,en,SG,,crm\n",
		"clean.csv":     "subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems\nu1,A,a@example.com,,,en,SG,,crm\nu2,B,b@example.com,,,en,SG,,crm\n",
		"ids.txt":       "u1\nu404\n",
		"incident.yaml": "title: t\ndetected_at: 2026-11-20T08:00:00Z\nsystems: [crm]\ndescription: d\nmeasures: m\nadvice: a\ncontact: c\n",
	})

	var seen []int64
	err := c.ImportInventory(ctx, filepath.Join(dir, "systems.yaml"), filepath.Join(dir, "dirty.csv"), 10, func(sent, total, lines int64) { seen = append(seen, sent) }, nil)
	var apiErr *client.APIError
	require.True(t, errors.As(err, &apiErr), "%v", err)
	require.Equal(t, 422, apiErr.Status)
	require.Contains(t, apiErr.Message, `dirty.csv:3: email: "b@example" is not a valid email address`)
	require.Contains(t, apiErr.Message, "dirty.csv: import refused, nothing kept: 1 rows rejected, 1 accepted (2 rows checked); no inventory was imported before")
	require.NotEmpty(t, seen, "the upload reports progress")
	log, err := srv.Store.AuditLog(ctx, "")
	require.NoError(t, err)
	require.NotEmpty(t, log, "a refused import is audited")
	last := log[len(log)-1]
	require.Equal(t, "inventory import", last.Action)
	require.Equal(t, store.AuditRefused, last.Outcome)
	require.Equal(t, "1", last.Detail["rejected"])
	require.NotContains(t, last.Detail["reason"], "b@example", "the audit keeps the summary, not the rows")

	var res store.ImportResult
	require.NoError(t, c.ImportInventory(ctx, filepath.Join(dir, "systems.yaml"), filepath.Join(dir, "clean.csv"), 0, nil, &res))
	require.EqualValues(t, 2, res.Subjects)
	var snaps []store.Snapshot
	require.NoError(t, c.Do(ctx, "GET", "/api/v1/inventory", nil, &snaps))
	require.Len(t, snaps, 1)
	require.True(t, snaps[0].Current)

	err = c.UploadFiles(ctx, "/api/v1/incidents", []client.Upload{{Field: "incident", Path: filepath.Join(dir, "incident.yaml")}, {Field: "subjects", Path: filepath.Join(dir, "ids.txt")}}, nil, nil)
	require.True(t, errors.As(err, &apiErr), "%v", err)
	require.Equal(t, 422, apiErr.Status)
	require.Contains(t, apiErr.Message, `ids.txt:2: subject_id: "u404" is not in inventory snapshot 1`)
	var incs []View
	require.NoError(t, c.Do(ctx, "GET", "/api/v1/incidents", nil, &incs))
	require.Empty(t, incs, "a refused incident leaves nothing behind")
}
