package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/store"
)

// OIDCConfig signs people in to the console with the company's identity
// provider (authorization-code flow). Roles are Tocsin's own: an identity
// the provider vouches for gets the role configured for its e-mail address
// or for one of its groups, and nothing if neither is configured.
type OIDCConfig struct {
	// Name is shown on the sign-in button ("Okta", "Google").
	Name         string            `yaml:"name"`
	Issuer       string            `yaml:"issuer"`
	ClientID     string            `yaml:"client_id"`
	ClientSecret string            `yaml:"-"`
	Roles        map[string]string `yaml:"roles"`
	GroupRoles   map[string]string `yaml:"group_roles"`

	mu       sync.Mutex // guards provider, discovered on first use
	provider *oidc.Provider
}

// SessionLength is how long a console sign-in lasts.
const SessionLength = 12 * time.Hour

func (s *Server) oidcName() string {
	if s.OIDC == nil {
		return ""
	}
	if s.OIDC.Name != "" {
		return s.OIDC.Name
	}
	return s.OIDC.Issuer
}

func (s *Server) oidcRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /login/oidc", s.oidcStart)
	mux.HandleFunc("GET /auth/callback", s.oidcCallback)
}

// oauth discovers the provider on first use, so Tocsin starts even while the
// identity provider is down (API tokens still work).
func (s *Server) oauth(ctx context.Context) (*oauth2.Config, *oidc.Provider, error) {
	c := s.OIDC
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider == nil {
		p, err := oidc.NewProvider(ctx, c.Issuer)
		if err != nil {
			return nil, nil, fmt.Errorf("identity provider %s: %w", c.Issuer, err)
		}
		c.provider = p
	}
	return &oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, Endpoint: c.provider.Endpoint(),
		RedirectURL: strings.TrimSuffix(s.PublicURL, "/") + "/auth/callback", Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}, c.provider, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Server) oidcStart(w http.ResponseWriter, r *http.Request) {
	if s.OIDC == nil {
		http.NotFound(w, r)
		return
	}
	cfg, _, err := s.oauth(r.Context())
	if err != nil {
		s.log().Error("oidc sign-in unavailable", "error", err)
		http.Error(w, "sign-in with the identity provider is unavailable; use an API token", http.StatusBadGateway)
		return
	}
	state, nonce := randomHex(16), randomHex(16)
	secure := strings.HasPrefix(s.PublicURL, "https://")
	for name, v := range map[string]string{"tocsin_oidc_state": state, "tocsin_oidc_nonce": nonce} {
		http.SetCookie(w, &http.Cookie{Name: name, Value: v, Path: "/auth/callback", MaxAge: 600, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	}
	http.Redirect(w, r, cfg.AuthCodeURL(state, oidc.Nonce(nonce)), http.StatusFound)
}

func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	if s.OIDC == nil {
		http.NotFound(w, r)
		return
	}
	refuse := func(status int, why string) {
		s.log().Warn("oidc sign-in refused", "reason", why)
		s.signInPage(w, r, status, why)
	}
	state, err := r.Cookie("tocsin_oidc_state")
	if err != nil || r.URL.Query().Get("state") != state.Value {
		refuse(http.StatusBadRequest, "The sign-in expired or did not start here; try again.")
		return
	}
	cfg, provider, err := s.oauth(r.Context())
	if err != nil {
		refuse(http.StatusBadGateway, "The identity provider is unavailable.")
		return
	}
	tok, err := cfg.Exchange(r.Context(), r.URL.Query().Get("code"))
	if err != nil {
		refuse(http.StatusUnauthorized, "The identity provider did not confirm the sign-in.")
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: s.OIDC.ClientID}).Verify(r.Context(), raw)
	nonce, nerr := r.Cookie("tocsin_oidc_nonce")
	if err != nil || nerr != nil || idt.Nonce != nonce.Value {
		refuse(http.StatusUnauthorized, "The identity token is not valid for this sign-in.")
		return
	}
	var claims struct {
		Email    string   `json:"email"`
		Verified *bool    `json:"email_verified"`
		Groups   []string `json:"groups"`
	}
	// Only an address the provider says it verified names a person: a
	// missing email_verified claim is not a yes.
	if err := idt.Claims(&claims); err != nil || claims.Email == "" || claims.Verified == nil || !*claims.Verified {
		refuse(http.StatusUnauthorized, "The identity provider gave no verified e-mail address.")
		return
	}
	claims.Email = incident.NormalizeIdentity(claims.Email)
	role := s.OIDC.Roles[claims.Email] // keys are normalised when the configuration is read
	for _, g := range claims.Groups {
		if role == "" {
			role = s.OIDC.GroupRoles[g]
		}
	}
	if role == "" {
		s.audit(r.Context(), Principal{Identity: claims.Email, Via: "console"}, "", "sign in", store.AuditRefused, map[string]string{"method": "oidc", "reason": "no role"})
		refuse(http.StatusForbidden, claims.Email+" has no Tocsin role; an admin grants one (oidc.roles or oidc.group_roles).")
		return
	}
	s.newSession(w, r, Principal{Identity: claims.Email, Role: role, Via: "console"}, "oidc", time.Time{})
}
