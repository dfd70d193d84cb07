package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestASecretNeverPrints(t *testing.T) {
	s := New("hunter2-token")
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "token", s, "struct", struct{ T Secret }{s})
	js, err := json.Marshal(struct{ T Secret }{s})
	require.NoError(t, err)
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q %x", s, s, s, s, s, s), fmt.Sprintf("%+v", struct{ T Secret }{s}), string(js), logged.String()} {
		require.NotContains(t, out, "hunter2")
		require.Contains(t, out, "[redacted]")
	}
	require.Equal(t, "hunter2-token", s.Reveal())
}

func TestASecretComesFromItsVariableOrItsFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(file, []byte("from-the-file\n"), 0o600))

	t.Setenv("TOCSIN_T", "from-the-env")
	s, err := FromEnv("TOCSIN_T")
	require.NoError(t, err)
	require.Equal(t, "from-the-env", s.Reveal())

	t.Setenv("TOCSIN_T_FILE", file)
	_, err = FromEnv("TOCSIN_T")
	require.EqualError(t, err, "TOCSIN_T and TOCSIN_T_FILE are both set: keep the secret in one place")

	t.Setenv("TOCSIN_T", "")
	s, err = FromEnv("TOCSIN_T")
	require.NoError(t, err)
	require.Equal(t, "from-the-file", s.Reveal(), "the file's trailing newline is not part of it")

	t.Setenv("TOCSIN_T_FILE", filepath.Join(dir, "missing"))
	_, err = FromEnv("TOCSIN_T")
	require.ErrorContains(t, err, "TOCSIN_T_FILE "+filepath.Join(dir, "missing")+": file does not exist")

	require.NoError(t, os.WriteFile(file, []byte("\n"), 0o600))
	t.Setenv("TOCSIN_T_FILE", file)
	_, err = FromEnv("TOCSIN_T")
	require.ErrorContains(t, err, "is empty")
}
