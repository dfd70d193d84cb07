package api

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"go.temporal.io/sdk/converter"

	"github.com/tocsin/tocsin/internal/store"
)

// CodecEndpoint lets operators read encrypted histories in the Temporal UI
// or CLI (`temporal workflow show --codec-endpoint URL/codec/NAMESPACE
// --codec-auth "Bearer TOKEN"`): POST /codec/{namespace}/decode (and
// /encode, which the UI uses to start or signal from its pages). A decoded
// history holds every fact of every incident, restricted ones included, so
// only admins may call it, and every call is audited: the first of a
// reader's calls at once, the calls that follow within AuditWindow counted
// in one entry when it ends (a Temporal UI page makes a call per event, and
// an entry for each would bury the chain).
type CodecEndpoint struct {
	Codec     converter.PayloadCodec
	Namespace string
	// UIOrigins are the Temporal UI origins whose pages may call the
	// endpoint from the browser (CORS, with the console's session cookie).
	UIOrigins []string
	// AuditWindow is how long a reader's calls are counted together
	// (DefaultCodecAuditWindow when zero).
	AuditWindow time.Duration

	mu    sync.Mutex
	reads map[string]*codecReads
}

// DefaultCodecAuditWindow is CodecEndpoint's default AuditWindow.
const DefaultCodecAuditWindow = 10 * time.Minute

// codecReads counts one reader's calls of one operation in a window.
type codecReads struct {
	p     Principal
	op    string
	since time.Time
	calls int
	timer *time.Timer
}

// codecAudited records a permitted call: a reader's first in a window is
// written at once; those after it in the window are written together, with
// their count, when the window closes.
func (s *Server) codecAudited(ctx context.Context, p Principal, op string) {
	e := s.Codec
	key := p.Identity + "|" + p.Via + "|" + op
	e.mu.Lock()
	defer e.mu.Unlock()
	if r := e.reads[key]; r != nil {
		r.calls++
		return
	}
	if e.reads == nil {
		e.reads = map[string]*codecReads{}
	}
	r := &codecReads{p: p, op: op, since: time.Now()}
	e.reads[key] = r
	window := e.AuditWindow
	if window <= 0 {
		window = DefaultCodecAuditWindow
	}
	s.audit(ctx, p, "", "codec "+op, store.AuditDone, map[string]string{"namespace": e.Namespace})
	r.timer = time.AfterFunc(window, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.reads[key] == r {
			delete(e.reads, key)
			s.auditCodecCount(r)
		}
	})
}

// auditCodecCount writes the calls a window counted, if any.
func (s *Server) auditCodecCount(r *codecReads) {
	if r.calls > 0 {
		s.audit(context.Background(), r.p, "", "codec "+r.op, store.AuditDone, map[string]string{"namespace": s.Codec.Namespace,
			"calls": strconv.Itoa(r.calls), "since": r.since.UTC().Format(time.RFC3339)})
	}
}

// FlushAudit writes the codec calls counted so far without waiting for
// their windows to close: call it when the server stops, before the store
// closes, so no read goes unaudited.
func (s *Server) FlushAudit() {
	if s.Codec == nil {
		return
	}
	e := s.Codec
	e.mu.Lock()
	defer e.mu.Unlock()
	for key, r := range e.reads {
		r.timer.Stop()
		delete(e.reads, key)
		s.auditCodecCount(r)
	}
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
		s.codecAudited(r.Context(), p, op)
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
