package api

import (
	"net/http"
	"time"

	"github.com/tocsin/tocsin/internal/store"
)

func (s *Server) listHolds(w http.ResponseWriter, r *http.Request) {
	holds, err := s.Store.ChannelHolds(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, "channel holds unavailable")
		return
	}
	out := []HeldChannelView{}
	for _, h := range holds {
		out = append(out, HeldChannelView{Channel: h.Channel, Since: h.Since, Reason: h.Reason, ProbeAt: h.ProbeAt})
	}
	writeJSON(w, http.StatusOK, out)
}

// resumeChannel probes a held channel at once: the operator says its
// configuration is fixed. The probe is a real send; if the provider still
// refuses, the channel stays held.
func (s *Server) resumeChannel(w http.ResponseWriter, r *http.Request) {
	p := principal(r.Context())
	channel := r.PathValue("channel")
	found, err := s.Store.ProbeNow(r.Context(), channel, time.Now())
	if err != nil {
		writeError(w, http.StatusInternalServerError, "could not resume: "+err.Error())
		return
	}
	if !found {
		s.audit(r.Context(), p, "", "resume channel", store.AuditRefused, map[string]string{"channel": channel, "reason": "not held"})
		writeError(w, http.StatusNotFound, channel+" is not held")
		return
	}
	s.audit(r.Context(), p, "", "resume channel", store.AuditDone, map[string]string{"channel": channel})
	s.log().Info("channel probe asked for", "channel", channel, "by", p.Identity)
	writeJSON(w, http.StatusOK, map[string]string{"channel": channel, "status": "probing: the next batch sends one notice to see whether the provider accepts"})
}
