package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"

	"github.com/tocsin/tocsin/internal/codec"
	"github.com/tocsin/tocsin/internal/store"
)

func codecServer(t *testing.T) (*httptest.Server, codec.Codec) {
	hs, c, _ := codecServerWindow(t, 0)
	return hs, c
}

func codecServerWindow(t *testing.T, window time.Duration) (*httptest.Server, codec.Codec, *store.Store) {
	st, err := store.Open(filepath.Join(t.TempDir(), "t.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	require.NoError(t, Seed(context.Background(), st, map[string]store.Token{"admin": {Identity: "ops@example.com", Role: RoleAdmin}, "resp": {Identity: "r@example.com", Role: RoleResponder}}))
	path := filepath.Join(t.TempDir(), "codec.keys")
	_, err = codec.AppendKey(path, time.Now())
	require.NoError(t, err)
	keys, err := codec.LoadKeyFile(path)
	require.NoError(t, err)
	c := codec.Codec{Keys: keys}
	s := &Server{Store: st, PublicURL: "http://tocsin.test", Codec: &CodecEndpoint{Codec: c, Namespace: "tocsin", UIOrigins: []string{"https://temporal-ui.example.com"}, AuditWindow: window}}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return hs, c, st
}

// A Temporal UI page decodes once per event: the reader's first call is
// audited at once, the rest of the window's calls in one entry with their
// count, so the audit chain says who read and how much without an entry
// per event. A refusal is always its own entry.
func TestCodecReadsAreAuditedOncePerWindowWithTheirCount(t *testing.T) {
	hs, local, st := codecServerWindow(t, 2*time.Second)
	encrypted, err := converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), local).ToPayload("a fact")
	require.NoError(t, err)
	as := func(token string) converter.DataConverter {
		return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
			Endpoint:      hs.URL + "/codec/tocsin",
			ModifyRequest: func(r *http.Request) error { r.Header.Set("Authorization", "Bearer "+token); return nil },
		}))
	}
	var got string
	for range 4 {
		require.NoError(t, as("admin").FromPayload(encrypted, &got))
	}
	require.Error(t, as("resp").FromPayload(encrypted, &got))
	codecEntries := func() []store.AuditEntry {
		log, err := st.AuditLog(context.Background(), "")
		require.NoError(t, err)
		var out []store.AuditEntry
		for _, e := range log {
			if e.Action == "codec decode" {
				out = append(out, e)
			}
		}
		return out
	}
	first := codecEntries()
	require.Len(t, first, 2, "the admin's first read and the responder's refusal, at once")
	require.Equal(t, store.AuditDone, first[0].Outcome)
	require.Empty(t, first[0].Detail["calls"])
	require.Equal(t, store.AuditRefused, first[1].Outcome)
	require.Eventually(t, func() bool { return len(codecEntries()) == 3 }, 10*time.Second, 50*time.Millisecond)
	last := codecEntries()[2]
	require.Equal(t, "ops@example.com", last.Actor)
	require.Equal(t, "3", last.Detail["calls"], "the three reads after the first")
	require.NoError(t, as("admin").FromPayload(encrypted, &got))
	require.Len(t, codecEntries(), 4, "a read after the window is audited at once again")
}

// An operator's Temporal CLI (the SDK's remote codec) reads an encrypted
// payload through the endpoint with an admin token; nobody else does.
func TestTheCodecEndpointDecodesForAdminsOnly(t *testing.T) {
	hs, local := codecServer(t)
	encrypted, err := converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), local).ToPayload(map[string]string{"reporter": "Mei Chan"})
	require.NoError(t, err)
	require.NotContains(t, string(encrypted.Data), "Mei Chan")

	remote := func(token, namespace string) converter.DataConverter {
		return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
			Endpoint: hs.URL + "/codec/" + namespace,
			ModifyRequest: func(r *http.Request) error {
				if token != "" {
					r.Header.Set("Authorization", "Bearer "+token)
				}
				return nil
			},
		}))
	}
	var got map[string]string
	require.NoError(t, remote("admin", "tocsin").FromPayload(encrypted, &got))
	require.Equal(t, "Mei Chan", got["reporter"])

	for _, c := range []struct{ token, namespace, want string }{
		{"", "tocsin", "Unauthorized"}, {"nope", "tocsin", "Unauthorized"}, {"resp", "tocsin", "it needs admin"}, {"admin", "other", "this codec serves namespace tocsin"},
	} {
		err := remote(c.token, c.namespace).FromPayload(encrypted, &got)
		require.ErrorContains(t, err, c.want, "token %q namespace %q", c.token, c.namespace)
	}
}

// The Temporal UI's origin may call the endpoint from the browser; other
// origins get no CORS grant.
func TestTheCodecEndpointAllowsOnlyTheTemporalUIOrigin(t *testing.T) {
	hs, _ := codecServer(t)
	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, hs.URL+"/codec/tocsin/decode", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	ok := preflight("https://temporal-ui.example.com")
	require.Equal(t, http.StatusNoContent, ok.StatusCode)
	require.Equal(t, "https://temporal-ui.example.com", ok.Header.Get("Access-Control-Allow-Origin"))
	require.Equal(t, "true", ok.Header.Get("Access-Control-Allow-Credentials"))
	require.Contains(t, ok.Header.Get("Access-Control-Allow-Headers"), "Authorization")

	evil := preflight("https://evil.example.com")
	require.Equal(t, http.StatusForbidden, evil.StatusCode)
	require.Empty(t, evil.Header.Get("Access-Control-Allow-Origin"))

	req, _ := http.NewRequest(http.MethodPost, hs.URL+"/codec/tocsin/decode", strings.NewReader(`{"payloads":[]}`))
	req.Header.Set("Origin", "https://evil.example.com")
	req.Header.Set("Authorization", "Bearer admin")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"), "a page elsewhere cannot read the answer")
}

// Reads counted when the server stops are written then, not lost with it.
func TestCodecReadsCountedAtShutdownAreWritten(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "t.db"))
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, Seed(context.Background(), st, map[string]store.Token{"admin": {Identity: "ops@example.com", Role: RoleAdmin}}))
	s := &Server{Store: st, Codec: &CodecEndpoint{Codec: codec.Codec{}, Namespace: "tocsin"}} // the default ten-minute window
	hs := httptest.NewServer(s.Handler())
	for range 3 {
		req, _ := http.NewRequest(http.MethodPost, hs.URL+"/codec/tocsin/decode", strings.NewReader(`{"payloads":[]}`))
		req.Header.Set("Authorization", "Bearer admin")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	hs.Close()
	s.FlushAudit()
	log, err := st.AuditLog(context.Background(), "")
	require.NoError(t, err)
	var calls []string
	for _, e := range log {
		if e.Action == "codec decode" {
			calls = append(calls, e.Detail["calls"])
		}
	}
	require.Equal(t, []string{"", "2"}, calls, "the first read, then the two after it")
}
