package activities

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/templates"
)

// CorrectionInput sends one page of a correction: revision Revision of
// the notice Draft, approved by legal, to every copy of it that went out
// in an earlier revision, after the (subject, channel) cursor After.
type CorrectionInput struct {
	IncidentID string
	// Correction numbers it among the incident's corrections (1-based):
	// its ledger rows and providers' keys are its own.
	Correction int
	Draft      string
	Revision   int
	After      [2]string
	Limit      int
}

// CorrectionResult counts a page's copies; Next is the cursor of the
// next page, zero after the last.
type CorrectionResult struct {
	Next    [2]string
	Copies  int
	Sent    int
	Failed  int
	Skipped int
}

// SendCorrections sends a page of a correction. Each copy goes by the
// channel the wrong revision went by, to the same contact, in the
// reader's own rendering (zone) of the new revision, marked as a
// correction in their language; it is claimed and recorded in the ledger
// under the correction's own key (store.CorrectionLedger), with the
// notices' claims, leases and doubt, so a retried page sends no copy
// twice. A paused campaign pauses corrections too.
func (a *Activities) SendCorrections(ctx context.Context, in CorrectionInput) (CorrectionResult, error) {
	defer keepAlive(ctx)() // alive while it reads the page, as SendBatch
	limit := cmp.Or(in.Limit, 500)
	copies, next, err := a.Store.WrongRevisions(ctx, in.IncidentID, in.Draft, in.Revision, in.After[0], in.After[1], limit)
	if err != nil {
		return CorrectionResult{}, err
	}
	drill, err := a.isDrill(ctx, in.IncidentID)
	if err != nil {
		return CorrectionResult{}, err
	}
	pause := &pauseWatch{a: a, incidentID: in.IncidentID}
	if paused, err := pause.paused(ctx); err != nil || paused {
		return CorrectionResult{}, cmp.Or(err, pause.err())
	}
	out := CorrectionResult{Next: next, Copies: len(copies)}
	drafts := map[string]store.Draft{}
	var plan []planned
	for _, c := range copies {
		d, err := a.correctedDraft(ctx, in, c.Draft, drafts)
		if err != nil {
			return out, err
		}
		to, guardian := contactFor(c.Recipient, c.Channel)
		if to == "" {
			out.Skipped++
			continue
		}
		msg := message(in.IncidentID, c.Recipient, c.Channel, to, d.Locale, d)
		msg.Correction = in.Correction
		plan = append(plan, planned{
			key: store.Delivery{IncidentID: store.CorrectionLedger(in.IncidentID, in.Correction), SubjectID: c.Recipient.SubjectID, Channel: c.Channel, Rung: c.Rung,
				Draft: fmt.Sprintf("%s@%d", d.Name, d.Revision)},
			msg: msg, guardian: guardian,
		})
	}
	if err := a.personalize(ctx, in.IncidentID, plan); err != nil {
		return out, err
	}
	var res BatchResult
	err = a.sendPlan(ctx, drill, in.IncidentID, plan, &res, pause, false)
	out.Sent, out.Failed = res.Attempts-res.Failed, res.Failed
	return out, err
}

// correctedDraft is the approved revision's rendering for the zone the
// wrong copy was rendered for ("notice-en@America/New_York@2"), or the
// notice's own where the revision has none, marked as a correction.
func (a *Activities) correctedDraft(ctx context.Context, in CorrectionInput, sent string, cache map[string]store.Draft) (store.Draft, error) {
	name := sent[:strings.LastIndex(sent, "@")]
	if d, ok := cache[name]; ok {
		return d, nil
	}
	d, err := a.Store.GetDraft(ctx, in.IncidentID, name, in.Revision)
	if errors.Is(err, store.ErrNotFound) {
		d, err = a.Store.GetDraft(ctx, in.IncidentID, in.Draft, in.Revision)
	}
	if err != nil {
		return d, err
	}
	c := templates.Corrected(d.Locale, templates.Copy{Title: d.Title, Body: d.Body, HTML: d.HTML, SMS: d.SMS, Voice: d.Voice})
	d.Title, d.Body, d.HTML, d.SMS, d.Voice = c.Title, c.Body, c.HTML, c.SMS, c.Voice
	cache[name] = d
	return d, nil
}
