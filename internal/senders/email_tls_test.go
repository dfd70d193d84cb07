package senders_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/devtools/devpeers"
	"github.com/tocsin/tocsin/internal/senders"
)

func smtpPeer(t *testing.T, withTLS bool) (*devpeers.SMTPPeer, *x509.CertPool) {
	ob, err := devpeers.OpenOutbox(filepath.Join(t.TempDir(), "peers.db"))
	require.NoError(t, err)
	t.Cleanup(func() { ob.Close() })
	p := &devpeers.SMTPPeer{Outbox: ob}
	roots := x509.NewCertPool()
	if withTLS {
		// httptest's certificate is valid for 127.0.0.1.
		ts := httptest.NewUnstartedServer(nil)
		ts.StartTLS()
		t.Cleanup(ts.Close)
		p.TLS = ts.TLS.Clone()
		roots.AddCert(ts.Certificate())
	}
	require.NoError(t, p.Start("127.0.0.1:0"))
	t.Cleanup(func() { p.Close() })
	return p, roots
}

func notice() senders.Message {
	return senders.Message{IncidentID: "INC-1", SubjectID: "s1", To: "ann@example.com", Title: "Notice", Body: "Your data leaked.", HTML: "<p>Your data leaked.</p>", Locale: "en"}
}

// With smtp.tls required, a relay that offers no STARTTLS (or one stripped
// on the way) gets nothing: the notice is not sent in clear.
func TestRequiredTLSSendsNothingWithoutSTARTTLS(t *testing.T) {
	peer, _ := smtpPeer(t, false)
	s := senders.NewEmailSender(senders.SMTPConfig{Addr: peer.Addr(), From: "Security <sec@example.com>", TLS: "required"})
	defer s.Close()
	_, err := s.Send(context.Background(), notice())
	require.ErrorIs(t, err, senders.ErrNoSTARTTLS)
	require.False(t, senders.IsPermanent(err), "the person is not at fault: the batch retries until the relay is fixed")
	got, _, err := peer.Outbox.Tally(context.Background(), "INC-1")
	require.NoError(t, err)
	require.Empty(t, got, "nothing reached the relay")

	// Opportunistic, as on a loopback relay by default, sends in clear.
	open := senders.NewEmailSender(senders.SMTPConfig{Addr: peer.Addr(), From: "sec@example.com"})
	defer open.Close()
	_, err = open.Send(context.Background(), notice())
	require.NoError(t, err)
}

// A relay with STARTTLS and a certificate the sender trusts gets the notice,
// over a reused connection; one whose certificate does not verify gets nothing.
func TestRequiredTLSSendsOverAVerifiedConnection(t *testing.T) {
	peer, roots := smtpPeer(t, true)
	s := senders.NewEmailSender(senders.SMTPConfig{Addr: peer.Addr(), From: "Security <sec@example.com>", TLS: "required", RootCAs: roots, Connections: 1})
	defer s.Close()
	for i := 0; i < 2; i++ {
		res, err := s.Send(context.Background(), notice())
		require.NoError(t, err)
		require.True(t, res.Final)
	}
	untrusted := senders.NewEmailSender(senders.SMTPConfig{Addr: peer.Addr(), From: "sec@example.com", TLS: "required"})
	defer untrusted.Close()
	_, err := untrusted.Send(context.Background(), notice())
	var unknown x509.UnknownAuthorityError
	require.True(t, errors.As(err, &unknown), "%v", err)
}

// A pooled connection the relay has closed since (an idle session timed
// out, the relay restarted) is dialled again: the notice goes out on the
// first try, rather than failing its batch as if the relay refused it.
func TestAConnectionTheRelayClosedIsDialledAgain(t *testing.T) {
	peer, _ := smtpPeer(t, false)
	s := senders.NewEmailSender(senders.SMTPConfig{Addr: peer.Addr(), From: "sec@example.com", Connections: 1})
	defer s.Close()
	_, err := s.Send(context.Background(), notice())
	require.NoError(t, err)
	peer.DropConnections()
	second := notice()
	second.SubjectID = "s2"
	_, err = s.Send(context.Background(), second)
	require.NoError(t, err, "a dead pooled connection is the pool's, not the person's")
	got, _, err := peer.Outbox.Tally(context.Background(), "INC-1")
	require.NoError(t, err)
	require.Equal(t, map[[2]string]int{{"s1", "email"}: 1, {"s2", "email"}: 1}, got)
}

// A relay that hangs at the end of DATA holds a send for the sender's
// whole timeout; a call asked to wait less (the resend of an e-mail in
// doubt) gives up then, in doubt again: the relay may have taken it.
func TestACallTimeoutBoundsTheWaitForTheRelaysAnswer(t *testing.T) {
	peer, _ := smtpPeer(t, false)
	faults, err := devpeers.ParseFaults("smtp.latency=20s@1", 1)
	require.NoError(t, err)
	t.Cleanup(faults.Stop)
	peer.Faults = faults
	s := senders.NewEmailSender(senders.SMTPConfig{Addr: peer.Addr(), From: "sec@example.com"})
	defer s.Close()
	started := time.Now()
	_, err = s.Send(senders.WithCallTimeout(context.Background(), 300*time.Millisecond), notice())
	require.Error(t, err)
	require.False(t, senders.NotSent(err), "the message went out before the relay hung: in doubt")
	require.Less(t, time.Since(started), 10*time.Second, "gave up at the call's timeout, not the sender's 30 s")
}
