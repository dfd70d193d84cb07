package envfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAnEnvFileIsNameValueLinesAndAMistakeIsNamedByLine(t *testing.T) {
	got, err := Parse("prod.env", "# secrets\n\nTOCSIN_DATABASE=postgres://u:p@db/tocsin?sslmode=require\n  SLACK_TOKEN=xoxb-1=2  \n")
	require.NoError(t, err)
	require.Equal(t, map[string]string{"TOCSIN_DATABASE": "postgres://u:p@db/tocsin?sslmode=require", "SLACK_TOKEN": "xoxb-1=2"}, got)

	for data, want := range map[string]string{
		"A=1\nexport B\n": "prod.env:2: want NAME=value",
		"=value\n":        "prod.env:1: want NAME=value",
		"MY NAME=x\n":     "prod.env:1: want NAME=value",
	} {
		_, err := Parse("prod.env", data)
		require.EqualError(t, err, want, data)
	}

	_, err = Read(filepath.Join(t.TempDir(), "none.env"))
	require.True(t, errors.Is(err, os.ErrNotExist), "%v", err)
}

func TestWhatWriteWritesReadReadsBackOwnerOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "peers.env")
	env := map[string]string{"TOCSIN_PEERS_TOKEN": "t=1", "TOCSIN_DEV_SMTP": "127.0.0.1:2525"}
	require.NoError(t, Write(path, env))
	got, err := Read(path)
	require.NoError(t, err)
	require.Equal(t, env, got)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "TOCSIN_DEV_SMTP=127.0.0.1:2525\nTOCSIN_PEERS_TOKEN=t=1\n", string(data), "sorted, one a line")
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}
