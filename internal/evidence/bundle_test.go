package evidence_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/evidence"
	"github.com/tocsin/tocsin/internal/store"
)

// bundle writes a small bundle with a real audit chain from the store.
func bundle(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(filepath.Join(t.TempDir(), "t.db"))
	require.NoError(t, err)
	defer st.Close()
	for _, a := range []string{"open", "approve", "submit"} {
		_, err := st.AppendAudit(ctx, store.AuditEntry{Chain: "INC-1", Actor: "legal@example.com", Role: "legal", Via: "api", Action: a, Outcome: store.AuditDone,
			Detail: map[string]string{"draft": "notice-en", "revision": "1"}})
		require.NoError(t, err)
	}
	log, err := st.AuditLog(ctx, "INC-1")
	require.NoError(t, err)

	dir := filepath.Join(t.TempDir(), "bundle")
	w, err := evidence.Create(dir, evidence.Manifest{Incident: "INC-1"})
	require.NoError(t, err)
	require.NoError(t, w.WriteJSON("incident.json", map[string]string{"id": "INC-1", "status": "closed"}))
	require.NoError(t, w.Write("deliveries.csv", func(out io.Writer) error {
		_, err := io.WriteString(out, "subject_id,channel,status\nu1,email,accepted\nu2,sms,delivered\n")
		return err
	}))
	require.NoError(t, w.Write("drafts/notice-en-r1.txt", func(out io.Writer) error {
		_, err := io.WriteString(out, "Dear customer,\nWe are writing to tell you...\n")
		return err
	}))
	require.NoError(t, w.Write(evidence.AuditFile, func(out io.Writer) error { return evidence.WriteAudit(out, log) }))
	require.NoError(t, w.Close(log[len(log)-1].Hash))
	return dir
}

func TestAnExportedBundleVerifies(t *testing.T) {
	rep, err := evidence.Verify(bundle(t))
	require.NoError(t, err)
	require.Equal(t, 4, rep.Files)
	require.Equal(t, 3, rep.Audit)
	require.Equal(t, "INC-1", rep.Manifest.Incident)
}

func TestAOneByteChangeAnywhereFailsVerification(t *testing.T) {
	for _, file := range []string{"incident.json", "deliveries.csv", "drafts/notice-en-r1.txt", evidence.AuditFile, evidence.ManifestFile, evidence.ManifestHashFile} {
		t.Run(file, func(t *testing.T) {
			dir := bundle(t)
			path := filepath.Join(dir, filepath.FromSlash(file))
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			i := len(data) / 2
			data[i] ^= 0x01 // one bit of one byte
			require.NoError(t, os.WriteFile(path, data, 0o600))
			_, err = evidence.Verify(dir)
			require.Error(t, err)
			require.True(t, strings.HasPrefix(err.Error(), file) || strings.HasPrefix(err.Error(), evidence.ManifestFile), "the error names the file: %v", err)
		})
	}
}

func TestAFileAddedOrRemovedFailsVerification(t *testing.T) {
	dir := bundle(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "drafts", "extra.txt"), []byte("x"), 0o600))
	_, err := evidence.Verify(dir)
	require.ErrorContains(t, err, "drafts/extra.txt: not in the manifest")

	dir = bundle(t)
	require.NoError(t, os.Remove(filepath.Join(dir, "deliveries.csv")))
	_, err = evidence.Verify(dir)
	require.ErrorContains(t, err, "deliveries.csv: listed in the manifest but is missing")
}

func TestExportRefusesANonEmptyDirectory(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "old"), nil, 0o600))
	_, err := evidence.Create(dir, evidence.Manifest{})
	require.ErrorContains(t, err, "not empty")
}
