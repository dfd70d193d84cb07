package devpeers

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// OIDCPeer is a small OpenID Connect provider for dev mode and tests: the
// authorization-code flow with discovery, a JWKS and RS256-signed ID tokens,
// so the console's real OIDC client (go-oidc) signs people in through it.
// Its sign-in page lets you pick who you are from Identities.
type OIDCPeer struct {
	// Issuer is the peer's public base URL (where it is mounted).
	Issuer       string
	ClientID     string
	ClientSecret string
	Identities   []string

	once  sync.Once
	key   *rsa.PrivateKey
	mu    sync.Mutex
	codes map[string]oidcGrant
}

type oidcGrant struct {
	email, nonce, clientID string
	at                     time.Time
}

var oidcLoginPage = template.Must(template.New("login").Parse(`<!doctype html><html><head><meta charset="utf-8"><title>Dev identity provider</title></head>
<body style="font-family:system-ui,sans-serif;margin:2rem"><h1>Dev identity provider</h1><p>Sign in to Tocsin as:</p>
<form method="post">{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
{{range .Identities}}<p><button name="login" value="{{.}}">{{.}}</button></p>{{end}}</form></body></html>`))

func (p *OIDCPeer) init() {
	p.once.Do(func() {
		p.key, _ = rsa.GenerateKey(rand.Reader, 2048)
		p.codes = map[string]oidcGrant{}
	})
}

func (p *OIDCPeer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.init()
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		writeJSON(w, map[string]any{"issuer": p.Issuer, "authorization_endpoint": p.Issuer + "/authorize", "token_endpoint": p.Issuer + "/token",
			"jwks_uri": p.Issuer + "/jwks", "response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"}})
	case "/jwks":
		writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: "dev", Algorithm: "RS256", Use: "sig"}}})
	case "/authorize":
		p.authorize(w, r)
	case "/token":
		p.token(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (p *OIDCPeer) authorize(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	if r.Form.Get("client_id") != p.ClientID || r.Form.Get("response_type") != "code" {
		http.Error(w, "unknown client or response type", http.StatusBadRequest)
		return
	}
	if r.Method == http.MethodGet {
		hidden := map[string]string{}
		for _, k := range []string{"client_id", "redirect_uri", "state", "nonce", "response_type", "scope"} {
			hidden[k] = r.Form.Get(k)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		oidcLoginPage.Execute(w, map[string]any{"Hidden": hidden, "Identities": p.Identities})
		return
	}
	b := make([]byte, 16)
	rand.Read(b)
	code := hex.EncodeToString(b)
	p.mu.Lock()
	p.codes[code] = oidcGrant{email: r.PostForm.Get("login"), nonce: r.PostForm.Get("nonce"), clientID: p.ClientID, at: time.Now()}
	p.mu.Unlock()
	back, err := url.Parse(r.PostForm.Get("redirect_uri"))
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	q := back.Query()
	q.Set("code", code)
	q.Set("state", r.PostForm.Get("state"))
	back.RawQuery = q.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (p *OIDCPeer) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.ClientID || secret != p.ClientSecret {
		w.WriteHeader(http.StatusUnauthorized)
		writeJSON(w, map[string]string{"error": "invalid_client"})
		return
	}
	p.mu.Lock()
	g, found := p.codes[r.PostForm.Get("code")]
	delete(p.codes, r.PostForm.Get("code")) // a code is used once
	p.mu.Unlock()
	if !found || time.Since(g.at) > time.Minute {
		w.WriteHeader(http.StatusBadRequest)
		writeJSON(w, map[string]string{"error": "invalid_grant"})
		return
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: p.key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "dev"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	now := time.Now()
	claims := map[string]any{"iss": p.Issuer, "sub": g.email, "aud": g.clientID, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"nonce": g.nonce, "email": g.email, "email_verified": true}
	if strings.Contains(g.email, "+unverified@") {
		// As a provider that never checked the address: no claim at all.
		delete(claims, "email_verified")
	}
	raw, _ := json.Marshal(claims)
	jws, err := signer.Sign(raw)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	idToken, _ := jws.CompactSerialize()
	writeJSON(w, map[string]any{"access_token": hex.EncodeToString(raw[:8]), "token_type": "Bearer", "expires_in": 300, "id_token": idToken})
}
