package api

import (
	"context"
	"slices"
	"time"

	"github.com/tocsin/tocsin/internal/metrics"
	"github.com/tocsin/tocsin/internal/store"
)

// Gauges are the API's view of what is open, read at each scrape: each open
// duty's time left to its due time (negative once late), and each running
// campaign's progress, ETA and receipts still awaited. One workflow query
// per open incident, as `incident list` does.
func (s *Server) Gauges() *metrics.Gauges {
	return &metrics.Gauges{
		Descs: map[string]*metrics.Desc{
			"duty":      metrics.NewGauge("tocsin_duty_seconds_left", "Seconds left to an open duty's due time (negative: late).", "incident", "obligation", "jurisdiction", "drill"),
			"subjects":  metrics.NewGauge("tocsin_campaign_subjects", "People a running campaign must reach.", "incident"),
			"contacted": metrics.NewGauge("tocsin_campaign_contacted", "People a running campaign has contacted so far.", "incident"),
			"eta":       metrics.NewGauge("tocsin_campaign_eta_seconds", "Estimated seconds until a running campaign is done.", "incident"),
			"pending":   metrics.NewGauge("tocsin_receipts_pending", "Sends accepted by the provider and still awaiting a receipt.", "incident", "channel"),
			"held":      metrics.NewGauge("tocsin_channel_held_seconds", "Seconds a channel has been held because its provider refuses Tocsin's configuration (credentials, sender, account).", "channel"),
		},
		Read: s.readGauges,
	}
}

func (s *Server) readGauges(emit func(name string, value float64, labels ...string)) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if holds, err := s.Store.ChannelHolds(ctx); err == nil {
		for _, h := range holds {
			emit("held", time.Since(h.Since).Seconds(), h.Channel)
		}
	}
	// Open incidents only, and those not yet recorded (status ""); a
	// closed incident has no clock left to watch.
	q := store.IncidentQuery{Status: append([]string{""}, slices.DeleteFunc(slices.Clone(statuses), func(st string) bool { return st == StageClosed })...), Limit: store.MaxPage}
	var incs []store.Incident
	for {
		page, err := s.Store.ListIncidents(ctx, q)
		if err != nil {
			return
		}
		for _, in := range page.Incidents {
			if inc, err := s.Store.GetIncident(ctx, in.ID); err == nil {
				incs = append(incs, inc)
			}
		}
		if q.After = page.Next; q.After == "" {
			break
		}
	}
	var open []openIncident
	for _, inc := range incs {
		open = append(open, openIncident{inc, s.view(ctx, inc)})
	}
	emitOpen(open, time.Now(), emit)
}

type openIncident struct {
	inc store.Incident
	v   View
}

// emitOpen emits the gauges of the open incidents. A restricted incident is
// known only to the people it names, and /metrics is read by whoever runs
// Prometheus: its duties show only as the soonest due of all restricted
// incidents, under no ID, duty or jurisdiction, and its campaign not at all.
func emitOpen(open []openIncident, now time.Time, emit func(name string, value float64, labels ...string)) {
	restrictedDue, anyRestricted := 0.0, false
	for _, oi := range open {
		inc, v := oi.inc, oi.v
		if v.Status == StageClosed || v.Status == "unknown" || v.Status == "" {
			continue
		}
		drill := "false"
		if inc.Drill {
			drill = "true"
		}
		restricted := len(inc.Spec.RestrictedTo) > 0
		for _, o := range v.Obligations {
			if o.DueAt != nil && o.Status != FilingSubmitted && o.Status != FilingWaived {
				left := o.DueAt.Sub(now).Seconds()
				if restricted {
					if !anyRestricted || left < restrictedDue {
						restrictedDue = left
					}
					anyRestricted = true
					continue
				}
				emit("duty", left, inc.ID, o.Name, o.Jurisdiction, drill)
			}
		}
		if restricted {
			continue
		}
		if c := v.Campaign; c != nil && !c.Done {
			emit("subjects", float64(c.Subjects), inc.ID)
			emit("contacted", float64(c.Contacted), inc.ID)
			if eta, err := time.ParseDuration(c.ETA); err == nil {
				emit("eta", eta.Seconds(), inc.ID)
			}
			for ch, n := range c.Channels {
				emit("pending", float64(n.Sent), inc.ID, ch)
			}
		}
	}
	if anyRestricted {
		emit("duty", restrictedDue, "restricted", "restricted", "restricted", "false")
	}
}
