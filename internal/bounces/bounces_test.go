package bounces_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/bounces"
	"github.com/tocsin/tocsin/internal/devtools/devpeers"
	"github.com/tocsin/tocsin/internal/senders"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/store/storetest"
)

func TestAnEnvelopeSenderNamesItsDelivery(t *testing.T) {
	for _, k := range []bounces.Key{{"INC-1A2B", "s0000314"}, {"INC-1", "user.name+tag@x"}, {"INC-1", "=3D"}} {
		addr := bounces.Address("bounces@tocsin.example", k)
		require.NotEmpty(t, addr)
		require.True(t, strings.HasSuffix(addr, "@tocsin.example"), addr)
		require.Equal(t, 1, strings.Count(addr, "@"), "an ID's @ is escaped: %s", addr)
		got, ok := bounces.Parse("<" + addr + ">")
		require.True(t, ok, addr)
		require.Equal(t, k, got)
	}
	require.Empty(t, bounces.Address("bounces@tocsin.example", bounces.Key{"INC-1", strings.Repeat("x", 60)}), "too long for a local part: matched by Message-ID instead")
	for _, bad := range []string{"bounces@tocsin.example", "bounces+INC-1@tocsin.example", "bounces+INC-1.s=4@x", "bounces+.s1@x"} {
		_, ok := bounces.Parse(bad)
		require.False(t, ok, bad)
	}
	k, ok := bounces.FromMessageID("<INC-7.s0000001@tocsin.local>")
	require.True(t, ok)
	require.Equal(t, bounces.Key{"INC-7", "s0000001"}, k)
}

// A notification as Postfix writes it: several recipients, one delayed.
const postfixDSN = "From: MAILER-DAEMON@mx.example (Mail Delivery System)\r\n" +
	"Subject: Undelivered Mail Returned to Sender\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"B1\"\r\n\r\n" +
	"--B1\r\nContent-Description: Notification\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nI'm sorry to have to inform you...\r\n\r\n" +
	"--B1\r\nContent-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n" +
	"Reporting-MTA: dns; mx.example\r\nX-Postfix-Queue-ID: 4F1\r\nArrival-Date: Tue, 1 Dec 2026 10:00:00 +0000\r\n\r\n" +
	"Final-Recipient: rfc822; gone@example.org\r\nOriginal-Recipient: rfc822;gone@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n" +
	"Remote-MTA: dns; mx.example.org\r\nDiagnostic-Code: smtp; 550 5.1.1 <gone@example.org>: Recipient address rejected\r\n\r\n" +
	"Final-Recipient: rfc822; slow@example.org\r\nAction: delayed\r\nStatus: 4.4.1\r\n\r\n" +
	"--B1\r\nContent-Description: Undelivered Message Headers\r\nContent-Type: text/rfc822-headers\r\n\r\n" +
	"Message-ID: <INC-9.s42@tocsin.example>\r\nSubject: Security notice\r\n\r\n--B1--\r\n"

func TestADeliveryStatusNotificationIsRead(t *testing.T) {
	got, err := bounces.ReadDSN(strings.NewReader(postfixDSN))
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.True(t, got[0].Failed())
	require.True(t, got[0].Hard())
	require.Equal(t, "5.1.1", got[0].Status)
	require.Equal(t, "gone@example.org", got[0].Recipient)
	require.Contains(t, got[0].Diagnostic, "Recipient address rejected")
	require.Equal(t, "<INC-9.s42@tocsin.example>", got[0].MessageID)
	require.False(t, got[1].Failed(), "delayed: the relay is still trying")

	_, err = bounces.ReadDSN(strings.NewReader("Subject: hello\r\n\r\nnot a report\r\n"))
	require.ErrorIs(t, err, bounces.ErrNotADSN)
}

// The whole path through real SMTP: an e-mail to a .bounce.test address is
// accepted by the relay (the dev peer), which bounces it a moment later to
// the notice's own envelope sender; the bounce mailbox fails the delivery
// in the ledger, so the person moves on to the next rung.
func TestABouncedNoticeFailsItsDelivery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		mailbox := &bounces.Listener{Ledger: s, Base: "bounces@tocsin.local"}
		require.NoError(t, mailbox.Start("127.0.0.1:0"))
		defer mailbox.Close()
		ob, err := devpeers.OpenOutbox(t.TempDir() + "/peers.db")
		require.NoError(t, err)
		defer ob.Close()
		relay := &devpeers.SMTPPeer{Outbox: ob, BounceRelay: mailbox.Addr(), BounceDelay: 50 * time.Millisecond}
		require.NoError(t, relay.Start("127.0.0.1:0"))
		defer relay.Close()
		mail := senders.NewEmailSender(senders.SMTPConfig{Addr: relay.Addr(), From: "Security <security@tocsin.local>", BounceAddress: "bounces@tocsin.local"})
		defer mail.Close()

		for _, who := range []struct{ subject, to string }{{"s1", "ann@mail.bounce.test"}, {"s2", "bo@example.com"}} {
			d := store.Delivery{IncidentID: "INC-B", SubjectID: who.subject, Channel: "email", Rung: 1}
			_, err := s.ClaimDeliveries(ctx, []store.Delivery{d}, store.Lease{Owner: "a", Until: time.Now().Add(time.Minute)})
			require.NoError(t, err)
			res, err := mail.Send(ctx, senders.Message{IncidentID: "INC-B", SubjectID: who.subject, To: who.to, Title: "Notice", Body: "b"})
			require.NoError(t, err, "the relay takes the mail: the bounce comes later")
			d.Status, d.ProviderRef = store.StatusAccepted, res.Ref
			require.NoError(t, s.FinishDeliveries(ctx, []store.Delivery{d}))
		}
		require.Eventually(t, func() bool {
			d, err := s.GetDelivery(ctx, "INC-B", "s1", "email")
			return err == nil && d.Status == store.StatusFailed
		}, 10*time.Second, 20*time.Millisecond)
		d, err := s.GetDelivery(ctx, "INC-B", "s1", "email")
		require.NoError(t, err)
		require.Contains(t, d.Error, "hard bounce 5.1.1")
		other, err := s.GetDelivery(ctx, "INC-B", "s2", "email")
		require.NoError(t, err)
		require.Equal(t, store.StatusAccepted, other.Status, "a bounce fails only its own delivery")
	})
}

// The bounce mailbox is no relay: mail for anyone but its own address is refused.
func TestTheBounceMailboxRefusesOtherRecipients(t *testing.T) {
	mailbox := &bounces.Listener{Ledger: storetest.Open(t, "sqlite"), Base: "bounces@tocsin.local"}
	require.NoError(t, mailbox.Start("127.0.0.1:0"))
	defer mailbox.Close()
	err := devpeers.SendPlain(mailbox.Addr(), "someone@example.com", "Subject: hi\r\n\r\nhello\r\n")
	require.ErrorContains(t, err, "550")
	require.NoError(t, devpeers.SendPlain(mailbox.Addr(), "bounces+INC-1.s1@tocsin.local", postfixDSN))
}

// A bounce for a send held in doubt settles the doubt: the relay had it.
func TestABounceSettlesASendHeldInDoubt(t *testing.T) {
	s := storetest.Open(t, "sqlite")
	ctx := context.Background()
	d := store.Delivery{IncidentID: "INC-D", SubjectID: "s1", Channel: "email", Rung: 1}
	_, err := s.ClaimDeliveries(ctx, []store.Delivery{d}, store.Lease{Owner: "a", Until: time.Now().Add(time.Minute)})
	require.NoError(t, err)
	require.NoError(t, s.LeaveInDoubt(ctx, []store.Delivery{d}, "a", time.Now().Add(time.Minute)))
	found, err := s.RecordBounce(ctx, "INC-D", "s1", "<INC-D.s1@tocsin.local>", "hard bounce 5.1.1: no such user")
	require.NoError(t, err)
	require.True(t, found)
	got, err := s.GetDelivery(ctx, "INC-D", "s1", "email")
	require.NoError(t, err)
	require.Equal(t, store.StatusFailed, got.Status)
	require.Equal(t, store.DoubtFound, got.Doubt, "not left unknown")
	counts, _, _, err := s.CampaignCounts(ctx, "INC-D")
	require.NoError(t, err)
	require.Zero(t, counts["email"].Unknown)
}

// Whoever can deliver a bounce can fail a delivery: the mailbox takes mail
// only from the relays bounces.allow names (this machine by default), and
// a bounce from anywhere else changes nothing.
func TestTheBounceMailboxTakesMailOnlyFromItsRelays(t *testing.T) {
	s := storetest.Open(t, "sqlite")
	ctx := context.Background()
	d := store.Delivery{IncidentID: "INC-1", SubjectID: "s1", Channel: "email", Rung: 1, Status: store.StatusAccepted}
	_, err := s.ClaimDeliveries(ctx, []store.Delivery{d}, store.Lease{Owner: "a", Until: time.Now().Add(time.Minute)})
	require.NoError(t, err)
	require.NoError(t, s.FinishDeliveries(ctx, []store.Delivery{d}))

	elsewhere := &bounces.Listener{Ledger: s, Base: "bounces@tocsin.local", Allow: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}
	require.NoError(t, elsewhere.Start("127.0.0.1:0"))
	defer elsewhere.Close()
	err = devpeers.SendPlain(elsewhere.Addr(), "bounces+INC-1.s1@tocsin.local", postfixDSN)
	require.ErrorContains(t, err, "554")
	got, err := s.GetDelivery(ctx, "INC-1", "s1", "email")
	require.NoError(t, err)
	require.Equal(t, store.StatusAccepted, got.Status, "a bounce from outside the relays fails nothing")

	relays := &bounces.Listener{Ledger: s, Base: "bounces@tocsin.local"} // loopback by default
	require.NoError(t, relays.Start("127.0.0.1:0"))
	defer relays.Close()
	require.NoError(t, devpeers.SendPlain(relays.Addr(), "bounces+INC-1.s1@tocsin.local", devpeers.DSN("ann@example.com", "<INC-1.s1@tocsin.local>", "Security notice", "5.1.1", "550 5.1.1 no such user")))
	got, err = s.GetDelivery(ctx, "INC-1", "s1", "email")
	require.NoError(t, err)
	require.Equal(t, store.StatusFailed, got.Status)
}

// A bounce is matched against the message it claims to return: one whose
// returned Message-ID is not the delivery's, or whose envelope names
// another notice than its message, or that returns no headers, fails
// nothing; the one that returns the notice sent fails it.
func TestABounceFailsOnlyTheMessageItReturns(t *testing.T) {
	s := storetest.Open(t, "sqlite")
	ctx := context.Background()
	sent := "<INC-1.s1@tocsin.local>"
	d := store.Delivery{IncidentID: "INC-1", SubjectID: "s1", Channel: "email", Rung: 1, Status: store.StatusAccepted, ProviderRef: sent}
	_, err := s.ClaimDeliveries(ctx, []store.Delivery{d}, store.Lease{Owner: "a", Until: time.Now().Add(time.Minute)})
	require.NoError(t, err)
	require.NoError(t, s.FinishDeliveries(ctx, []store.Delivery{d}))
	mailbox := &bounces.Listener{Ledger: s, Base: "bounces@tocsin.local"}
	require.NoError(t, mailbox.Start("127.0.0.1:0"))
	defer mailbox.Close()
	status := func() string {
		got, err := s.GetDelivery(ctx, "INC-1", "s1", "email")
		require.NoError(t, err)
		return got.Status
	}
	forged := devpeers.DSN("ann@example.com", "<INC-1.s1@attacker.example>", "Security notice", "5.1.1", "550 no such user")
	require.NoError(t, devpeers.SendPlain(mailbox.Addr(), "bounces+INC-1.s1@tocsin.local", forged))
	require.Equal(t, store.StatusAccepted, status(), "a Message-ID Tocsin never sent")
	other := devpeers.DSN("ann@example.com", "<INC-2.s9@tocsin.local>", "Security notice", "5.1.1", "550 no such user")
	require.NoError(t, devpeers.SendPlain(mailbox.Addr(), "bounces+INC-1.s1@tocsin.local", other))
	require.Equal(t, store.StatusAccepted, status(), "the envelope and the message disagree")
	headless := strings.Replace(devpeers.DSN("ann@example.com", sent, "Security notice", "5.1.1", "550 no such user"), "Message-ID: "+sent+"\r\n", "", 1)
	require.NoError(t, devpeers.SendPlain(mailbox.Addr(), "bounces+INC-1.s1@tocsin.local", headless))
	require.Equal(t, store.StatusAccepted, status(), "a bounce that names no message")
	require.NoError(t, devpeers.SendPlain(mailbox.Addr(), "bounces+INC-1.s1@tocsin.local", devpeers.DSN("ann@example.com", sent, "Security notice", "5.1.1", "550 no such user")))
	require.Equal(t, store.StatusFailed, status(), "the notice it returns")
}
