package api

import (
	"net/http"
	"slices"

	"go.temporal.io/sdk/converter"

	"github.com/tocsin/tocsin/internal/store"
)

// CodecEndpoint lets operators read encrypted histories in the Temporal UI
// or CLI (`temporal workflow show --codec-endpoint URL/codec/NAMESPACE
// --codec-auth "Bearer TOKEN"`): POST /codec/{namespace}/decode (and
// /encode, which the UI uses to start or signal from its pages). A decoded
// history holds every fact of every incident, restricted ones included, so
// only admins may call it; each call is audited.
type CodecEndpoint struct {
	Codec     converter.PayloadCodec
	Namespace string
	// UIOrigins are the Temporal UI origins whose pages may call the
	// endpoint from the browser (CORS, with the console's session cookie).
	UIOrigins []string
}

func (s *Server) codecRoutes(mux *http.ServeMux) {
	if s.Codec == nil {
		return
	}
	inner := converter.NewPayloadCodecHTTPHandler(s.Codec.Codec)
	serve := func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		allowed := origin != "" && slices.Contains(s.Codec.UIOrigins, origin)
		if allowed {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Namespace")
			h.Set("Vary", "Origin")
		}
		if r.Method == http.MethodOptions {
			if !allowed {
				writeError(w, http.StatusForbidden, "origin "+origin+" is not among the codec's temporal.ui_origins")
				return
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if r.PathValue("namespace") != s.Codec.Namespace {
			writeError(w, http.StatusNotFound, "this codec serves namespace "+s.Codec.Namespace)
			return
		}
		p, ok := s.authenticate(r)
		if !ok && allowed {
			// The Temporal UI sends the console's cookie, not a token.
			p, ok = s.session(r)
		}
		if !ok {
			writeError(w, http.StatusUnauthorized, "missing or unknown API token: send Authorization: Bearer TOKEN")
			return
		}
		op := r.PathValue("op")
		if p.Role != RoleAdmin {
			s.audit(r.Context(), p, "", "codec "+op, store.AuditRefused, map[string]string{"reason": "role " + p.Role + " not allowed"})
			writeError(w, http.StatusForbidden, p.Identity+" ("+p.Role+") may not read Temporal payloads; it needs admin")
			return
		}
		s.audit(r.Context(), p, "", "codec "+op, store.AuditDone, map[string]string{"namespace": s.Codec.Namespace})
		r.Body = http.MaxBytesReader(w, r.Body, 64<<20)
		r.URL.Path = "/" + op // decode or encode, as the routes below allow
		inner.ServeHTTP(w, r)
	}
	mux.HandleFunc("POST /codec/{namespace}/{op}", func(w http.ResponseWriter, r *http.Request) {
		if op := r.PathValue("op"); op != "decode" && op != "encode" {
			http.NotFound(w, r)
			return
		}
		serve(w, r)
	})
	mux.HandleFunc("OPTIONS /codec/{namespace}/{op}", serve)
}

func (s *Server) dataConverter() converter.DataConverter {
	if s.DataConverter != nil {
		return s.DataConverter
	}
	return converter.GetDefaultDataConverter()
}
