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
	return Principal{Identity: t.Identity, Role: t.Role}, true
}

// require wraps a handler with authentication and a role check.
func (s *Server) require(roles []string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.authenticate(r)
		if !ok {
			writeError(w, http.StatusUnauthorized, "missing or unknown API token: set TOCSIN_TOKEN")
			return
		}
		if len(roles) > 0 && !slices.Contains(roles, p.Role) {
			writeError(w, http.StatusForbidden, p.Identity+" ("+p.Role+") may not do this; it needs one of: "+strings.Join(roles, ", "))
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, p)))
	}
}

var (
	anyone      = []string{RoleResponder, RoleLegal, RoleAdmin, RoleViewer, RoleDrill}
	responders  = []string{RoleResponder, RoleAdmin, RoleDrill}
	legalOnly   = []string{RoleLegal}
	caseWorkers = []string{RoleResponder, RoleLegal, RoleAdmin, RoleDrill}
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
