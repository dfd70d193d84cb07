package api

import (
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/tocsin/tocsin/internal/store"
)

// RateView is a paced channel's rate: as configured, as it is now (an
// admin may have set it at run time), and the provider's ceiling.
type RateView struct {
	Channel    string     `json:"channel"`
	Configured float64    `json:"configured"`
	PerSecond  float64    `json:"per_second"`
	Ceiling    float64    `json:"ceiling,omitempty"`
	SetBy      string     `json:"set_by,omitempty"`
	SetAt      *time.Time `json:"set_at,omitempty"`
}

// SetRateRequest sets a channel's rate at run time.
type SetRateRequest struct {
	PerSecond float64 `json:"per_second"`
}

func (s *Server) listRates(w http.ResponseWriter, r *http.Request) {
	set, err := s.Store.ChannelRates(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, "could not read the rates: "+err.Error())
		return
	}
	out := []RateView{}
	for _, ch := range slices.Sorted(maps.Keys(s.Rates)) {
		out = append(out, s.rateView(ch, set))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) rateView(ch string, set map[string]store.ChannelRate) RateView {
	v := RateView{Channel: ch, Configured: s.Rates[ch], PerSecond: s.Rates[ch], Ceiling: s.RateCeilings[ch]}
	if now, ok := set[ch]; ok {
		at := now.SetAt
		v.PerSecond, v.SetBy, v.SetAt = now.PerSecond, now.SetBy, &at
	}
	return v
}

// setRate raises (or lowers) a paced channel's rate for every worker, up
// to the provider's ceiling the config names: the operator's answer to a
// campaign projected to finish after a duty's due time.
func (s *Server) setRate(w http.ResponseWriter, r *http.Request) {
	p := principal(r.Context())
	ch := r.PathValue("channel")
	var req SetRateRequest
	if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	refuse := func(msg string) {
		s.audit(r.Context(), p, "", "set channel rate", store.AuditRefused, map[string]string{"channel": ch, "per_second": strconv.FormatFloat(req.PerSecond, 'g', -1, 64), "reason": msg})
		writeError(w, http.StatusBadRequest, msg)
	}
	configured, paced := s.Rates[ch]
	ceiling, capped := s.RateCeilings[ch]
	switch {
	case !paced:
		refuse(fmt.Sprintf("%s is not paced: give it a rate under rates: in the config", ch))
	case !capped:
		refuse(fmt.Sprintf("%s has no ceiling: name the provider's under rate_ceilings: in the config (its configured rate is %g/s)", ch, configured))
	case math.IsNaN(req.PerSecond) || req.PerSecond <= 0:
		refuse("per_second must be a positive number of messages a second")
	case req.PerSecond > ceiling:
		refuse(fmt.Sprintf("%g/s is over %s's ceiling of %g/s (rate_ceilings: in the config)", req.PerSecond, ch, ceiling))
	default:
		now := store.ChannelRate{Channel: ch, PerSecond: req.PerSecond, SetBy: p.Identity, SetAt: time.Now().UTC()}
		if err := s.Store.SetChannelRate(r.Context(), now); err != nil {
			writeError(w, http.StatusInternalServerError, "could not set the rate: "+err.Error())
			return
		}
		s.audit(r.Context(), p, "", "set channel rate", store.AuditDone, map[string]string{"channel": ch, "per_second": strconv.FormatFloat(req.PerSecond, 'g', -1, 64)})
		s.log().Info("channel rate set", "channel", ch, "per_second", req.PerSecond, "by", p.Identity)
		writeJSON(w, http.StatusOK, s.rateView(ch, map[string]store.ChannelRate{ch: now}))
	}
}
