package senders

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/errorutils"
	"firebase.google.com/go/v4/messaging"
	"github.com/sideshow/apns2"
	"github.com/sideshow/apns2/payload"
	"github.com/sideshow/apns2/token"
	"golang.org/x/oauth2"
	"google.golang.org/api/option"

	"github.com/tocsin/tocsin/internal/inventory"
	"github.com/tocsin/tocsin/templates"
)

// Push is the push-notification channel's name.
const Push = "push"

// PushConfig configures the push services. Either may be left out; a
// device of a service that is not configured holds the channel (our
// configuration, no fact about the person).
type PushConfig struct {
	// FCM: Firebase Cloud Messaging HTTP v1, authenticated by a service
	// account's OAuth token.
	FCMProjectID string
	// FCMCredentials is the service account's JSON key file.
	FCMCredentials []byte `json:"-"`
	// FCMEndpoint replaces https://fcm.googleapis.com/v1 (a local peer).
	FCMEndpoint string
	// APNs: token-based (a .p8 key signs a JWT), over HTTP/2.
	APNsKey    []byte `json:"-"`
	APNsKeyID  string
	APNsTeamID string
	// APNsTopic is the app's bundle ID.
	APNsTopic string
	// APNsHost replaces Apple's production host (a sandbox, a local peer).
	APNsHost string
	// APNsHTTP replaces the HTTP/2 client (a peer's own certificate).
	APNsHTTP *http.Client
	// Link is where the alert opens the full notice: the app's deep link
	// to its notices, or a signed-in page of the site; {incident} is
	// replaced by the incident's ID. Empty: the app opens its notices by
	// the incident_id in the alert's data.
	Link    string
	Timeout time.Duration
}

// PushSender sends a short alert to each of a person's devices: the
// notice's title, a line saying where to read it, and a link. Never the
// notice itself: a lock screen is public.
type PushSender struct {
	cfg     PushConfig
	once    sync.Once
	fcm     *messaging.Client
	fcmErr  error
	apns    *apns2.Client
	apnsErr error
}

var _ Sender = (*PushSender)(nil)

// NewPushSender makes the clients on first use (the FCM client reads its
// credentials then).
func NewPushSender(cfg PushConfig) *PushSender {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	return &PushSender{cfg: cfg}
}

func (s *PushSender) clients(ctx context.Context) {
	s.once.Do(func() {
		s.fcmErr, s.apnsErr = errors.New("FCM is not configured"), errors.New("APNs is not configured")
		if s.cfg.FCMProjectID != "" && len(s.cfg.FCMCredentials) > 0 {
			opts := []option.ClientOption{option.WithAuthCredentialsJSON(option.ServiceAccount, s.cfg.FCMCredentials)}
			if s.cfg.FCMEndpoint != "" {
				opts = append(opts, option.WithEndpoint(s.cfg.FCMEndpoint))
			}
			app, err := firebase.NewApp(context.WithoutCancel(ctx), &firebase.Config{ProjectID: s.cfg.FCMProjectID}, opts...)
			if err == nil {
				s.fcm, err = app.Messaging(context.WithoutCancel(ctx))
			}
			s.fcmErr = err
		}
		if len(s.cfg.APNsKey) > 0 {
			key, err := token.AuthKeyFromBytes(s.cfg.APNsKey)
			if err == nil {
				s.apns = apns2.NewTokenClient(&token.Token{AuthKey: key, KeyID: s.cfg.APNsKeyID, TeamID: s.cfg.APNsTeamID}).Production()
				if s.cfg.APNsHost != "" {
					s.apns.Host = s.cfg.APNsHost
				}
				if s.cfg.APNsHTTP != nil {
					s.apns.HTTPClient = s.cfg.APNsHTTP
				}
			}
			s.apnsErr = err
		}
	})
}

// PushText is what a push notification shows.
type PushText struct {
	Title, Body, Link string
}

// pushKey is the same for every send of one notice to one person, so a
// device shows a resend in place of the first (APNs collapse ID, FCM tag):
// at most 64 bytes, and no personal data.
func pushKey(m Message) string {
	sum := sha256.Sum256([]byte(m.IncidentID + "\x00" + m.NoticeKey()))
	return "tocsin-" + hex.EncodeToString(sum[:16])
}

// Send alerts every device the person has. One device refused as
// unregistered or invalid is that device's permanent failure only; the
// person is reached when any device takes the alert.
func (s *PushSender) Send(ctx context.Context, m Message) (Result, error) {
	s.clients(ctx)
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	// The notice's text stays here: an alert shows on a lock screen.
	text := PushText{Title: m.Title, Body: templates.Alert(m.Locale), Link: strings.NewReplacer("{incident}", m.IncidentID, "{code}", m.Code).Replace(s.cfg.Link)}
	var refs, gone []string
	for _, t := range inventory.PushTokens(m.To) {
		ref, err := s.sendOne(ctx, m, t, text)
		switch {
		case err == nil:
			refs = append(refs, t.Service+":"+ref)
		case IsPermanent(err):
			gone = append(gone, err.Error())
		case len(refs) > 0:
			// A device has the alert: the person is reached, and a retry
			// would alert that device again.
			return Result{Ref: strings.Join(refs, " "), Final: true}, nil
		default:
			return Result{}, err
		}
	}
	if len(refs) == 0 {
		if len(gone) == 0 {
			return Result{}, &PermanentError{Code: "no_device", Reason: "no push token"}
		}
		return Result{}, &PermanentError{Code: "unregistered", Reason: strings.Join(gone, "; ")}
	}
	return Result{Ref: strings.Join(refs, " "), Final: true}, nil
}

func (s *PushSender) sendOne(ctx context.Context, m Message, t inventory.PushToken, text PushText) (string, error) {
	switch t.Service {
	case "fcm":
		if s.fcm == nil {
			return "", &ConfigError{Provider: "fcm", Code: "not_configured", Reason: s.fcmErr.Error()}
		}
		return s.sendFCM(ctx, m, t.Token, text)
	case "apns":
		if s.apns == nil {
			return "", &ConfigError{Provider: "apns", Code: "not_configured", Reason: s.apnsErr.Error()}
		}
		return s.sendAPNs(ctx, m, t.Token, text)
	}
	return "", &PermanentError{Code: "unknown_service", Reason: t.Service}
}

func (s *PushSender) sendFCM(ctx context.Context, m Message, tok string, text PushText) (string, error) {
	key := pushKey(m)
	id, err := s.fcm.Send(ctx, &messaging.Message{
		Token:        tok,
		Notification: &messaging.Notification{Title: text.Title, Body: text.Body},
		Data:         map[string]string{"incident_id": m.IncidentID, "link": text.Link},
		Android:      &messaging.AndroidConfig{CollapseKey: key, Priority: "high", Notification: &messaging.AndroidNotification{Tag: key}},
		APNS:         &messaging.APNSConfig{Headers: map[string]string{"apns-collapse-id": key}},
	})
	if err == nil {
		return id, nil
	}
	return "", classifyFCM(err)
}

// classifyFCM sorts FCM's typed errors: a token that is gone or never
// was is the device's; refused credentials or a wrong project are ours.
func classifyFCM(err error) error {
	var re *oauth2.RetrieveError
	switch {
	case messaging.IsUnregistered(err), messaging.IsInvalidArgument(err), messaging.IsSenderIDMismatch(err):
		return &PermanentError{Code: "fcm_token", Reason: shortReason(err)}
	case errors.As(err, &re):
		// The token endpoint refused the service account.
		return &ConfigError{Provider: "fcm", Code: "oauth", Reason: shortReason(err)}
	case errorutils.IsUnauthenticated(err), errorutils.IsPermissionDenied(err), messaging.IsThirdPartyAuthError(err), errorutils.IsNotFound(err):
		return &ConfigError{Provider: "fcm", Code: "auth", Reason: shortReason(err)}
	case messaging.IsQuotaExceeded(err):
		return &RetryAfterError{Provider: "fcm", After: retryAfterOf(errorutils.HTTPResponse(err))}
	}
	if resp := errorutils.HTTPResponse(err); resp != nil {
		// The service answered (5xx): it did not take the message.
		return notSent(fmt.Errorf("fcm: %s", shortReason(err)))
	}
	if neverConnected(err) {
		return notSent(fmt.Errorf("fcm: %w", err))
	}
	return fmt.Errorf("fcm: %w", err)
}

func (s *PushSender) sendAPNs(ctx context.Context, m Message, tok string, text PushText) (string, error) {
	p := payload.NewPayload().AlertTitle(text.Title).AlertBody(text.Body).Custom("incident_id", m.IncidentID).Custom("link", text.Link)
	res, err := s.apns.PushWithContext(ctx, &apns2.Notification{DeviceToken: tok, Topic: s.cfg.APNsTopic, CollapseID: pushKey(m), Payload: p, Priority: apns2.PriorityHigh})
	if err != nil {
		if neverConnected(err) {
			return "", notSent(fmt.Errorf("apns: %w", err))
		}
		return "", fmt.Errorf("apns: %w", err)
	}
	switch {
	case res.Sent():
		return res.ApnsID, nil
	case res.Reason == apns2.ReasonBadDeviceToken, res.Reason == apns2.ReasonUnregistered, res.Reason == apns2.ReasonDeviceTokenNotForTopic, res.Reason == apns2.ReasonExpiredToken:
		return "", &PermanentError{Code: "apns_" + res.Reason, Reason: fmt.Sprintf("APNs %d %s", res.StatusCode, res.Reason)}
	case res.StatusCode == http.StatusForbidden, res.Reason == apns2.ReasonBadTopic, res.Reason == apns2.ReasonTopicDisallowed,
		res.Reason == apns2.ReasonMissingTopic, res.Reason == apns2.ReasonBadCertificateEnvironment:
		return "", &ConfigError{Provider: "apns", Code: res.Reason, Reason: fmt.Sprintf("APNs %d %s", res.StatusCode, res.Reason)}
	case res.StatusCode == http.StatusTooManyRequests:
		return "", &RetryAfterError{Provider: "apns", After: time.Second}
	}
	return "", notSent(fmt.Errorf("apns: %d %s", res.StatusCode, res.Reason))
}

func retryAfterOf(resp *http.Response) time.Duration {
	if resp == nil {
		return time.Second
	}
	return parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
}

// shortReason keeps the first line of a provider's error.
func shortReason(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}
