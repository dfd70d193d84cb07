package codec_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/tocsin/tocsin/internal/codec"
)

type fact struct {
	Reporter string
	Phone    string
}

func keyFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "codec.keys")
	_, err := codec.AppendKey(path, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	return path
}

// What Temporal is handed holds no plaintext, and comes back whole.
func TestPayloadsAreEncryptedAndComeBackWhole(t *testing.T) {
	keys, err := codec.LoadKeyFile(keyFile(t))
	require.NoError(t, err)
	dc, _ := codec.Converters(keys)
	in := fact{Reporter: "Mei Chan", Phone: "+85291234567"}
	p, err := dc.ToPayload(in)
	require.NoError(t, err)
	require.NotContains(t, string(p.Data), "Mei Chan")
	require.NotContains(t, string(p.Data), "+85291234567")
	require.Equal(t, codec.Encoding, string(p.Metadata[converter.MetadataEncoding]))
	require.Equal(t, keys.Current(), string(p.Metadata[codec.MetadataKeyID]))
	var out fact
	require.NoError(t, dc.FromPayload(p, &out))
	require.Equal(t, in, out)

	// A history from before encryption still reads.
	plain, err := converter.GetDefaultDataConverter().ToPayload(in)
	require.NoError(t, err)
	out = fact{}
	require.NoError(t, dc.FromPayload(plain, &out))
	require.Equal(t, in, out)
}

// A new key encrypts; the old ones still decrypt what they encrypted.
func TestRotatedKeysStillDecryptOldPayloads(t *testing.T) {
	path := keyFile(t)
	old, err := codec.LoadKeyFile(path)
	require.NoError(t, err)
	oldDC, _ := codec.Converters(old)
	p, err := oldDC.ToPayload(fact{Reporter: "before rotation"})
	require.NoError(t, err)

	id, err := codec.AppendKey(path, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	rotated, err := codec.LoadKeyFile(path)
	require.NoError(t, err)
	require.Equal(t, id, rotated.Current())
	require.Len(t, rotated.IDs(), 2)
	dc, _ := codec.Converters(rotated)
	var out fact
	require.NoError(t, dc.FromPayload(p, &out))
	require.Equal(t, "before rotation", out.Reporter)
	fresh, err := dc.ToPayload(fact{Reporter: "after"})
	require.NoError(t, err)
	require.Equal(t, id, string(fresh.Metadata[codec.MetadataKeyID]))

	// Without the new key, the new payload cannot be read, and says why.
	err = oldDC.FromPayload(fresh, &out)
	require.ErrorIs(t, err, codec.ErrUnknownKey)
	require.ErrorContains(t, err, id)
}

// A payload relabelled with another key's ID, or altered, does not decrypt.
func TestTamperedPayloadsAreRefused(t *testing.T) {
	path := keyFile(t)
	_, err := codec.AppendKey(path, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	keys, err := codec.LoadKeyFile(path)
	require.NoError(t, err)
	dc, _ := codec.Converters(keys)
	p, err := dc.ToPayload(fact{Reporter: "x"})
	require.NoError(t, err)
	var out fact
	relabelled := &commonpb.Payload{Data: p.Data, Metadata: map[string][]byte{converter.MetadataEncoding: []byte(codec.Encoding), codec.MetadataKeyID: []byte(keys.IDs()[0])}}
	require.ErrorContains(t, dc.FromPayload(relabelled, &out), "does not decrypt")
	flipped := &commonpb.Payload{Data: append([]byte(nil), p.Data...), Metadata: p.Metadata}
	flipped.Data[len(flipped.Data)-1] ^= 1
	require.ErrorContains(t, dc.FromPayload(flipped, &out), "does not decrypt")
}

// A failure's message is encrypted with the payloads.
func TestFailureMessagesAreEncrypted(t *testing.T) {
	keys, err := codec.LoadKeyFile(keyFile(t))
	require.NoError(t, err)
	_, fc := codec.Converters(keys)
	f := fc.ErrorToFailure(temporal.NewApplicationError("reporter Mei Chan unreachable", "Test"))
	require.NotContains(t, f.GetMessage(), "Mei Chan")
	require.NotNil(t, f.GetEncodedAttributes())
	require.NotContains(t, string(f.GetEncodedAttributes().GetData()), "Mei Chan")
	back := fc.FailureToError(f)
	require.ErrorContains(t, back, "reporter Mei Chan unreachable")
	var app *temporal.ApplicationError
	require.True(t, errors.As(back, &app))
	require.Equal(t, "Test", app.Type())
}

// Bad key material is named by file and line, or by position.
func TestBadKeysAreNamedWhereTheyAre(t *testing.T) {
	path := filepath.Join(t.TempDir(), "codec.keys")
	require.NoError(t, os.WriteFile(path, []byte("# keys\nk1 c2hvcnQ=\n"), 0o600))
	_, err := codec.LoadKeyFile(path)
	require.ErrorContains(t, err, path+":2: key k1: 5 bytes, want 32")
	require.NoError(t, os.WriteFile(path, []byte("# nothing yet\n"), 0o600))
	_, err = codec.LoadKeyFile(path)
	require.ErrorContains(t, err, "no key")
	good := strings.Fields(must(codec.NewKeyLine(time.Now())))[1]
	_, err = codec.ParseKeys("k1:" + good + ",k2")
	require.ErrorContains(t, err, "key 2: want ID:BASE64")
	_, err = codec.ParseKeys("k1:" + good + ",k1:" + good)
	require.ErrorContains(t, err, "key k1 is listed twice")
	k, err := codec.ParseKeys("k1:" + good + ",k2:" + good)
	require.NoError(t, err)
	require.Equal(t, "k2", k.Current())
}

func must(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}
