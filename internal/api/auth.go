package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"

	"github.com/tocsin/tocsin/internal/store"
)

// Roles a token can carry.
const (
	RoleResponder = "responder"
	RoleLegal     = "legal"
	RoleAdmin     = "admin"
	RoleViewer    = "viewer"
	RoleDrill     = "drill"
	// RolePlatform is the platform's notification service: it reads on-site
	// inboxes and nothing else.
	RolePlatform = "platform"
)

// HashToken is how tokens are kept at rest: only their SHA-256.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewToken makes a random API token.
func NewToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return "tcn_" + hex.EncodeToString(b)
}

type ctxKey struct{}

// Principal is the authenticated caller.
type Principal struct {
	Identity string
	Role     string
	// Via is where the call came from: api, console or slack (for the audit log).
	Via string
}

func principal(ctx context.Context) Principal {
	p, _ := ctx.Value(ctxKey{}).(Principal)
	return p
}

func (s *Server) authenticate(r *http.Request) (Principal, bool) {
	token := ""
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		token = strings.TrimPrefix(h, "Bearer ")
	} else if c, err := r.Cookie("tocsin_token"); err == nil {
		token = c.Value
	}
	if token == "" {
		return Principal{}, false
	}
	t, err := s.Store.LookupToken(r.Context(), HashToken(token))
	if err != nil {
		return Principal{}, false
	}
	via := "api"
	if r.Header.Get("Authorization") == "" {
		via = "console"
	}
	return Principal{Identity: t.Identity, Role: t.Role, Via: via}, true
}

// require wraps a handler with authentication and a role check.
func (s *Server) require(roles []string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.authenticate(r)
		if !ok {
			writeError(w, http.StatusUnauthorized, "missing or unknown API token: set TOCSIN_TOKEN")
			return
		}
		id := r.PathValue("id")
		onIncident := strings.Contains(r.Pattern, "/incidents/{id}")
		if len(roles) > 0 && !slices.Contains(roles, p.Role) {
			// An attempt on an incident goes in its chain; on an ID that names no
			// incident, in the general chain, so a token cannot make chains at will.
			chain := ""
			if _, err := s.Store.GetIncident(r.Context(), id); onIncident && err == nil {
				chain = id
			}
			s.audit(r.Context(), p, chain, r.Pattern, store.AuditRefused, map[string]string{"reason": "role " + p.Role + " not allowed"})
			writeError(w, http.StatusForbidden, p.Identity+" ("+p.Role+") may not do this; it needs one of: "+strings.Join(roles, ", "))
			return
		}
		if onIncident {
			// A restricted incident does not exist for anyone it is not shared with.
			if _, ok := s.visible(r.Context(), p, id); !ok {
				writeError(w, http.StatusNotFound, "no incident "+id)
				return
			}
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, p)))
	}
}

// visible loads an incident if p may see it: everyone with a role may see an
// ordinary incident; a restricted one only the people it names and its opener.
func (s *Server) visible(ctx context.Context, p Principal, id string) (store.Incident, bool) {
	inc, err := s.Store.GetIncident(ctx, id)
	if err != nil {
		return inc, false
	}
	return inc, mayView(p, inc)
}

func mayView(p Principal, inc store.Incident) bool {
	if len(inc.Spec.RestrictedTo) == 0 {
		return true
	}
	return p.Identity == inc.OpenedBy || slices.Contains(inc.Spec.RestrictedTo, p.Identity)
}

var (
	anyone      = []string{RoleResponder, RoleLegal, RoleAdmin, RoleViewer, RoleDrill}
	responders  = []string{RoleResponder, RoleAdmin, RoleDrill}
	legalOnly   = []string{RoleLegal}
	caseWorkers = []string{RoleResponder, RoleLegal, RoleAdmin, RoleDrill}
	auditors    = []string{RoleResponder, RoleLegal, RoleAdmin}
	platform    = []string{RolePlatform}
)

// Seed stores the tokens for identities, by hash.
func Seed(ctx context.Context, st *store.Store, tokens map[string]store.Token) error {
	for tok, owner := range tokens {
		if err := st.PutToken(ctx, HashToken(tok), owner); err != nil {
			return err
		}
	}
	return nil
}
