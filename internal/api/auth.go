package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"

	"github.com/tocsin/tocsin/internal/roles"
	"github.com/tocsin/tocsin/internal/store"
)

// Roles a token can carry (package roles, shared with the workflows).
const (
	RoleResponder = roles.Responder
	RoleLegal     = roles.Legal
	RoleAdmin     = roles.Admin
	RoleViewer    = roles.Viewer
	RoleDrill     = roles.Drill
	RolePlatform  = roles.Platform
	RoleSupport   = roles.Support
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

// authenticate reads the API's bearer token. The console's session cookie is
// not accepted here: a browser sends cookies along with any page's request,
// so a same-site page could otherwise call the API as whoever is signed in.
func (s *Server) authenticate(r *http.Request) (Principal, bool) {
	h := r.Header.Get("Authorization")
	if !strings.HasPrefix(h, "Bearer ") {
		return Principal{}, false
	}
	return s.lookup(r.Context(), strings.TrimPrefix(h, "Bearer "), false)
}

// session reads the console's session cookie; forms also check its CSRF token.
func (s *Server) session(r *http.Request) (Principal, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return Principal{}, false
	}
	return s.lookup(r.Context(), c.Value, true)
}

// lookup finds a token's owner: an API token for the API, a session for the
// console, never the other way round.
func (s *Server) lookup(ctx context.Context, token string, session bool) (Principal, bool) {
	if token == "" {
		return Principal{}, false
	}
	t, err := s.Store.LookupToken(ctx, HashToken(token))
	if err != nil || t.Session != session {
		return Principal{}, false
	}
	via := "api"
	if session {
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

// visible loads an incident if p may see it (service.MayView).
func (s *Server) visible(ctx context.Context, p Principal, id string) (store.Incident, bool) {
	return s.service().Visible(ctx, caller(p), id)
}

var (
	anyone     = []string{RoleResponder, RoleLegal, RoleAdmin, RoleViewer, RoleDrill}
	responders = []string{RoleResponder, RoleAdmin}
	// drillers start drills: the drill role does that and, on drill
	// incidents only (see service.MayView), reads and files; it never touches the
	// real inventory or opens a real incident.
	drillers  = []string{RoleResponder, RoleAdmin, RoleDrill}
	legalOnly = []string{RoleLegal}
	// waivers may waive a duty: legal, and the drill identity on drills
	// (the workflow checks which incident it is).
	waivers = []string{RoleLegal, RoleDrill}
	// releasers may let an incident's calls out of quiet hours.
	releasers = []string{RoleLegal, RoleAdmin}
	// letterReaders may export the letters mailed: names and addresses.
	letterReaders = []string{RoleLegal, RoleAdmin}
	caseWorkers   = []string{RoleResponder, RoleLegal, RoleAdmin, RoleDrill}
	// admins set a channel's rate at run time, within its ceiling.
	admins   = []string{RoleAdmin}
	auditors = []string{RoleResponder, RoleLegal, RoleAdmin}
	platform = []string{RolePlatform}
	// supporters answer people's inquiries.
	supporters = []string{RoleSupport, RoleResponder, RoleLegal, RoleAdmin}
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
