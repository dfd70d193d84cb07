// Package loop is the baseline of Tocsin's campaign benchmarks: the same
// notices, through the same senders to the same peers, in one plain loop.
package loop

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/tocsin/tocsin/internal/senders"
	"github.com/tocsin/tocsin/internal/store"
)

// Result is what the plain loop sent, and how fast.
type Result struct {
	Subjects, Messages int
	PerS               float64
	Channels           map[string]float64 // messages per second by channel
}

// Run sends an incident's notices to up to n of its people with the given
// senders (the real SDKs, the same peers) in one plain loop: no Temporal, no
// ledger, no recovery: the baseline a campaign's throughput is compared
// with. Like the campaign's first rung, on-site and email go to whoever has
// them, SMS to whoever has neither.
func Run(ctx context.Context, reg senders.Registry, st *store.Store, incidentID string, n int) (Result, error) {
	res := Result{Channels: map[string]float64{}}
	draft, err := st.GetDraft(ctx, incidentID, "notice-en", 0)
	if err != nil {
		return res, err
	}
	perChannel := map[string]int{}
	start := time.Now()
	after := ""
	done := 0
	baseID := "BASELINE-" + strconv.FormatInt(time.Now().Unix(), 10)
	for done < n {
		page, err := st.UnreachedRecipients(ctx, incidentID, store.Range{After: after}, nil, 1000)
		if err != nil {
			return res, err
		}
		if len(page) == 0 {
			break
		}
		for _, p := range page {
			after = p.SubjectID
			if done >= n {
				break
			}
			done++
			m := senders.Message{IncidentID: baseID, SubjectID: p.SubjectID, Locale: "en", Title: draft.Title, Body: draft.Body, HTML: draft.HTML}
			sent := false
			for _, ch := range []string{senders.Onsite, senders.Email} {
				to := p.Contact(map[string]string{senders.Onsite: "onsite", senders.Email: "email"}[ch])
				if to == "" {
					continue
				}
				m.To = to
				if _, err := reg[ch].Send(ctx, m); err != nil && !senders.IsPermanent(err) {
					return res, fmt.Errorf("baseline %s: %w", ch, err)
				}
				perChannel[ch]++
				sent = true
			}
			if !sent && p.Contact("phone") != "" {
				m.To, m.Body = p.Contact("phone"), draft.SMS
				if _, err := reg[senders.SMS].Send(ctx, m); err != nil && !senders.IsPermanent(err) {
					return res, fmt.Errorf("baseline sms: %w", err)
				}
				perChannel[senders.SMS]++
			}
		}
	}
	secs := time.Since(start).Seconds()
	res.Subjects = done
	for ch, k := range perChannel {
		res.Messages += k
		res.Channels[ch] = float64(k) / secs
	}
	res.PerS = float64(res.Messages) / secs
	return res, nil
}
