package senders_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/senders"
)

// A push reaches every device a person has, through FCM and APNs, as an
// alert with the notice's title, a line and a link: never the notice
// itself. A device reported unregistered is that device's failure only.
func TestPushAlertsEveryDeviceAndSkipsUnregisteredOnes(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, "")
	apnsOK := strings.Repeat("a1", 32)
	gone := strings.Repeat("0d", 32) // the rig's peer reports it unregistered
	m := senders.Message{IncidentID: "INC-P", SubjectID: "s1", To: "fcm:" + fcmToken + ";apns:" + apnsOK + ";apns:" + gone, Locale: "en",
		Title: "Security notice", Body: "An attacker read your password hash."}
	res, err := r.reg[senders.Push].Send(ctx, m)
	require.NoError(t, err)
	require.True(t, res.Final)
	refs := strings.Fields(res.Ref)
	require.Len(t, refs, 2, "one message ID per device that took it: %s", res.Ref)
	require.True(t, strings.HasPrefix(refs[0], "fcm:projects/tocsin-dev/messages/"), refs[0])
	require.Regexp(t, `^apns:[0-9A-F-]{36}$`, refs[1])

	got, err := r.push.Outbox.List(ctx, "INC-P")
	require.NoError(t, err)
	require.Len(t, got, 2)
	for _, e := range got {
		require.Equal(t, "push", e.Channel)
		require.Equal(t, "Security notice", e.Subject)
		require.Equal(t, "We have sent you an important notice about your personal information. Open it to read what happened and what you can do.\nhttps://example.com/notices/INC-P", e.Body,
			"the alert's line, never the notice's text")
	}

	// Sent again after an interrupted attempt: each device shows one alert.
	_, err = r.reg[senders.Push].Send(ctx, m)
	require.NoError(t, err)
	got, err = r.push.Outbox.List(ctx, "INC-P")
	require.NoError(t, err)
	require.Len(t, got, 2, "a resend replaces the alert on the device")

	_, err = r.reg[senders.Push].Send(ctx, senders.Message{IncidentID: "INC-P", SubjectID: "s2", To: "apns:" + gone, Title: "t", Body: "b"})
	require.True(t, senders.IsPermanent(err), "every device gone: the person moves down the ladder (%v)", err)
	require.ErrorContains(t, err, "Unregistered")
}

// APNs checks the provider JWT: a key it does not know is our fault, and
// holds the channel instead of writing the person off.
func TestPushWithAWrongAPNsKeyIsMisconfigured(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, "")
	other, err := otherPushKeys()
	require.NoError(t, err)
	s := senders.NewPushSender(senders.PushConfig{APNsKey: []byte(other.APNsKey), APNsKeyID: "DEVKEY1234", APNsTeamID: "DEVTEAM123", APNsTopic: "local.tocsin.app",
		APNsHost: r.apnsURL, APNsHTTP: r.apnsHTTP})
	_, err = s.Send(ctx, senders.Message{IncidentID: "INC-P", SubjectID: "s1", To: "apns:" + strings.Repeat("a1", 32), Title: "t", Body: "b"})
	require.True(t, senders.Misconfigured(err), "%v", err)
	require.ErrorContains(t, err, "InvalidProviderToken")

	_, err = s.Send(ctx, senders.Message{IncidentID: "INC-P", SubjectID: "s1", To: "fcm:" + fcmToken, Title: "t", Body: "b"})
	require.True(t, senders.Misconfigured(err), "FCM not configured: %v", err)
}
