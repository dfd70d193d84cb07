package devpeers

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/net/http2"
)

// FCM's and APNs' send endpoints know the same faults.
func init() { FaultKinds["push"] = []string{"latency", "status_503", "reset"} }

// PushKeys are the dev push services' credentials: the FCM service
// account's RSA key, the APNs .p8 signing key, and the certificate the
// local APNs endpoint serves TLS with (HTTP/2 needs TLS).
type PushKeys struct {
	ServiceAccountKey string `json:"service_account_key"` // PKCS#8 PEM
	APNsKey           string `json:"apns_key"`            // PKCS#8 PEM, as Apple's .p8
	TLSCert           string `json:"tls_cert"`
	TLSKey            string `json:"tls_key"`
}

// Dev identities of the push accounts.
const (
	DevFCMProject = "tocsin-dev"
	DevFCMAccount = "tocsin-push@tocsin-dev.iam.gserviceaccount.com"
	DevAPNsKeyID  = "DEVKEY1234"
	DevAPNsTeamID = "DEVTEAM123"
	DevAPNsTopic  = "local.tocsin.app"
)

// LoadOrCreatePushKeys reads the keys from path, making them on first use,
// or anew when the APNs endpoint's certificate does not name every host
// (a staging peer advertised under a service name).
func LoadOrCreatePushKeys(path string, hosts ...string) (PushKeys, error) {
	var k PushKeys
	if data, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(data, &k); err != nil {
			return k, fmt.Errorf("%s: %w", path, err)
		}
		if k.names(hosts) {
			return k, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return k, err
	}
	k, err := NewPushKeys(hosts...)
	if err != nil {
		return k, err
	}
	data, _ := json.Marshal(k)
	return k, os.WriteFile(path, data, 0o600)
}

// names says whether the TLS certificate is valid for every host.
func (k PushKeys) names(hosts []string) bool {
	block, _ := pem.Decode([]byte(k.TLSCert))
	if block == nil {
		return false
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return false
	}
	for _, h := range hosts {
		if cert.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

// NewPushKeys makes a fresh set of keys, the APNs endpoint's certificate
// naming localhost, 127.0.0.1 and hosts.
func NewPushKeys(hosts ...string) (PushKeys, error) {
	var k PushKeys
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return k, err
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return k, err
	}
	tlsKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return k, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tocsin dev apns"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().AddDate(10, 0, 0), DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &tlsKey.PublicKey, tlsKey)
	if err != nil {
		return k, err
	}
	pkcs8 := func(key any) string {
		b, _ := x509.MarshalPKCS8PrivateKey(key)
		return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: b}))
	}
	return PushKeys{ServiceAccountKey: pkcs8(rsaKey), APNsKey: pkcs8(ecKey), TLSKey: pkcs8(tlsKey),
		TLSCert: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}, nil
}

// ServiceAccountJSON is the FCM service account's key file, as the Google
// console gives it, with its token endpoint at tokenURL.
func (k PushKeys) ServiceAccountJSON(tokenURL string) []byte {
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": DevFCMProject, "private_key_id": "dev", "private_key": k.ServiceAccountKey,
		"client_email": DevFCMAccount, "client_id": "1", "token_uri": tokenURL,
	})
	return b
}

// APNsClient is an HTTP/2 client that trusts the local APNs endpoint.
func (k PushKeys) APNsClient(timeout time.Duration) (*http.Client, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(k.TLSCert)) {
		return nil, errors.New("dev push keys: unreadable TLS certificate")
	}
	return &http.Client{Timeout: timeout, Transport: &http2.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}, nil
}

func publicKey(pemText string) (any, error) {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return nil, errors.New("no PEM key")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return &k.PublicKey, nil
	case *ecdsa.PrivateKey:
		return &k.PublicKey, nil
	}
	return nil, errors.New("unexpected key type")
}

// PushPeer stands in for Firebase Cloud Messaging (HTTP v1 with its OAuth
// token endpoint) and APNs (HTTP/2, provider JWTs). It checks what they
// check: the service account's signed assertion before it grants a token,
// that token on every send, and the APNs JWT's key, team and signature.
// Alerts go to the outbox as channel "push", to "fcm:TOKEN" or "apns:TOKEN".
type PushPeer struct {
	Outbox  *Outbox
	revoked bool
	// Faults, when set, makes the services slow or failing as a profile says.
	Faults *Faults

	saKey   *rsa.PublicKey
	apnsKey *ecdsa.PublicKey
	tlsCert tls.Certificate

	mu           sync.Mutex
	tokens       map[string]time.Time // access tokens granted, to their expiry
	unregistered map[string]bool      // "fcm:TOKEN" / "apns:TOKEN"
	apnsServer   *http.Server
	apnsAddr     string
}

// NewPushPeer makes the peer for keys.
func NewPushPeer(keys PushKeys, outbox *Outbox) (*PushPeer, error) {
	sa, err := publicKey(keys.ServiceAccountKey)
	if err != nil {
		return nil, fmt.Errorf("dev push keys: service account: %w", err)
	}
	ap, err := publicKey(keys.APNsKey)
	if err != nil {
		return nil, fmt.Errorf("dev push keys: apns: %w", err)
	}
	cert, err := tls.X509KeyPair([]byte(keys.TLSCert), []byte(keys.TLSKey))
	if err != nil {
		return nil, fmt.Errorf("dev push keys: tls: %w", err)
	}
	return &PushPeer{Outbox: outbox, saKey: sa.(*rsa.PublicKey), apnsKey: ap.(*ecdsa.PublicKey), tlsCert: cert,
		tokens: map[string]time.Time{}, unregistered: map[string]bool{}}, nil
}

// RevokeServiceAccount disables the FCM service account, as an admin
// does in the console: its tokens stop working and no new one is granted.
func (p *PushPeer) RevokeServiceAccount() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.revoked = true
	clear(p.tokens)
}

// Unregister makes the services report a device token ("fcm:..." or
// "apns:...") unregistered, as after the app was removed.
func (p *PushPeer) Unregister(tokens ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range tokens {
		p.unregistered[t] = true
	}
}

func (p *PushPeer) isUnregistered(t string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.unregistered[t]
}

// FCM serves the token endpoint (POST /token) and the send endpoint
// (POST /v1/projects/{project}/messages:send), and POST /unregister
// (a token per line) for scripts and demos.
func (p *PushPeer) FCM() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", p.grant)
	mux.HandleFunc("POST /v1/projects/{project}/messages:send", p.fcmSend)
	mux.HandleFunc("POST /unregister", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		p.Unregister(strings.Fields(string(body))...)
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// grant is Google's OAuth 2.0 token endpoint for service accounts: a JWT
// assertion signed with the account's key, for its client_email.
func (p *PushPeer) grant(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		oauthError(w, "unsupported_grant_type", "want a JWT bearer assertion")
		return
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(r.PostForm.Get("assertion"), claims, func(t *jwt.Token) (any, error) { return p.saKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuedAt(), jwt.WithExpirationRequired())
	if err != nil {
		oauthError(w, "invalid_grant", "Invalid JWT Signature.")
		return
	}
	p.mu.Lock()
	revoked := p.revoked
	p.mu.Unlock()
	if iss, _ := claims["iss"].(string); iss != DevFCMAccount || revoked {
		oauthError(w, "invalid_grant", "Invalid grant: account not found")
		return
	}
	if scope, _ := claims["scope"].(string); !strings.Contains(scope, "firebase.messaging") && !strings.Contains(scope, "cloud-platform") {
		oauthError(w, "invalid_scope", "the account may not send messages")
		return
	}
	b := make([]byte, 24)
	rand.Read(b)
	tok := "ya29.dev-" + hex.EncodeToString(b)
	p.mu.Lock()
	p.tokens[tok] = time.Now().Add(time.Hour)
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "expires_in": 3600, "token_type": "Bearer"})
}

func oauthError(w http.ResponseWriter, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

type fcmRequest struct {
	Message struct {
		Token        string                        `json:"token"`
		Notification *struct{ Title, Body string } `json:"notification"`
		Data         map[string]string             `json:"data"`
		Android      *struct {
			CollapseKey  string `json:"collapse_key"`
			Notification *struct {
				Tag string `json:"tag"`
			} `json:"notification"`
		} `json:"android"`
	} `json:"message"`
}

func (p *PushPeer) fcmSend(w http.ResponseWriter, r *http.Request) {
	bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	exp, granted := p.tokens[bearer]
	p.mu.Unlock()
	if !ok || !granted || time.Now().After(exp) {
		fcmError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "", "Request had invalid authentication credentials.")
		return
	}
	if r.PathValue("project") != DevFCMProject {
		fcmError(w, http.StatusForbidden, "PERMISSION_DENIED", "SENDER_ID_MISMATCH", "Permission denied on project.")
		return
	}
	if p.fault(w, r, func() {
		fcmError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "UNAVAILABLE", "The service is currently unavailable.")
	}) {
		return
	}
	var req fcmRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096+1024)).Decode(&req); err != nil || req.Message.Token == "" {
		fcmError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "The message is not valid.")
		return
	}
	m := req.Message
	if p.isUnregistered("fcm:" + m.Token) {
		fcmError(w, http.StatusNotFound, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found.")
		return
	}
	var title, body, tag string
	if m.Notification != nil {
		title, body = m.Notification.Title, m.Notification.Body
	}
	if m.Android != nil && m.Android.Notification != nil {
		tag = m.Android.Notification.Tag
	}
	b := make([]byte, 8)
	rand.Read(b)
	name := "projects/" + DevFCMProject + "/messages/0:" + hex.EncodeToString(b)
	// A device shows one notification per tag: a resend replaces it.
	if _, err := p.Outbox.AddOnce(r.Context(), p.entry("fcm:"+m.Token, tag, title, body, m.Data)); err != nil {
		fcmError(w, http.StatusInternalServerError, "INTERNAL", "INTERNAL", "could not store")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"name": name})
}

// fault plays the profile's fault for this request, if any, and reports
// whether it answered: latency delays and goes on; status_503 refuses
// before storing; reset closes the connection before storing.
func (p *PushPeer) fault(w http.ResponseWriter, r *http.Request, unavailable func()) bool {
	hit := p.Faults.Roll("push", r.URL.Path)
	time.Sleep(hit.Delay)
	switch hit.Fail {
	case "status_503":
		unavailable()
		return true
	case "reset":
		resetConnection(w)
		return true
	}
	return false
}

func (p *PushPeer) entry(to, key, title, body string, data map[string]string) Entry {
	text := body
	if link := data["link"]; link != "" {
		text += "\n" + link
	}
	ref := ""
	if key != "" {
		ref = key + "/" + to
	}
	return Entry{IncidentID: data["incident_id"], Channel: "push", To: to, Subject: title, Body: text, Status: "accepted", Ref: ref}
}

func fcmError(w http.ResponseWriter, status int, code, fcmCode, msg string) {
	e := map[string]any{"code": status, "message": msg, "status": code}
	if fcmCode != "" {
		e["details"] = []map[string]string{{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": fcmCode}}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": e})
}

// StartAPNs serves APNs' provider API over TLS and HTTP/2 on addr
// ("127.0.0.1:0" for any port) and returns its https:// URL.
func (p *PushPeer) StartAPNs(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /3/device/{token}", p.apnsSend)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{p.tlsCert}, NextProtos: []string{"h2"}, MinVersion: tls.VersionTLS12}}
	if err := http2.ConfigureServer(srv, nil); err != nil {
		ln.Close()
		return "", err
	}
	go srv.ServeTLS(ln, "", "")
	p.mu.Lock()
	p.apnsServer, p.apnsAddr = srv, ln.Addr().String()
	p.mu.Unlock()
	return "https://" + ln.Addr().String(), nil
}

// Close stops the APNs endpoint.
func (p *PushPeer) Close() {
	p.mu.Lock()
	srv := p.apnsServer
	p.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

func apnsError(w http.ResponseWriter, status int, reason string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"reason": reason})
}

func (p *PushPeer) apnsSend(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor != 2 {
		apnsError(w, http.StatusBadRequest, "BadPath") // APNs speaks HTTP/2 only
		return
	}
	bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "bearer ")
	if !ok {
		apnsError(w, http.StatusForbidden, "MissingProviderToken")
		return
	}
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(bearer, claims, func(t *jwt.Token) (any, error) { return p.apnsKey, nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuedAt())
	if err != nil || tok.Header["kid"] != DevAPNsKeyID || claims["iss"] != DevAPNsTeamID {
		apnsError(w, http.StatusForbidden, "InvalidProviderToken")
		return
	}
	if iat, err := claims.GetIssuedAt(); err != nil || iat == nil || time.Since(iat.Time) > time.Hour {
		apnsError(w, http.StatusForbidden, "ExpiredProviderToken")
		return
	}
	if r.Header.Get("apns-topic") != DevAPNsTopic {
		apnsError(w, http.StatusBadRequest, "DeviceTokenNotForTopic")
		return
	}
	if p.fault(w, r, func() { apnsError(w, http.StatusServiceUnavailable, "ServiceUnavailable") }) {
		return
	}
	device := r.PathValue("token")
	if p.isUnregistered("apns:" + device) {
		apnsError(w, http.StatusGone, "Unregistered")
		return
	}
	var n struct {
		APS struct {
			Alert struct{ Title, Body string } `json:"alert"`
		} `json:"aps"`
		IncidentID string `json:"incident_id"`
		Link       string `json:"link"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&n); err != nil {
		apnsError(w, http.StatusBadRequest, "PayloadEmpty")
		return
	}
	b := make([]byte, 16)
	rand.Read(b)
	id := strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
	// apns-collapse-id: the device shows the newest in place of the last.
	if _, err := p.Outbox.AddOnce(r.Context(), p.entry("apns:"+device, r.Header.Get("apns-collapse-id"), n.APS.Alert.Title, n.APS.Alert.Body,
		map[string]string{"incident_id": n.IncidentID, "link": n.Link})); err != nil {
		apnsError(w, http.StatusInternalServerError, "InternalServerError")
		return
	}
	w.Header().Set("apns-id", id)
	w.WriteHeader(http.StatusOK)
}
