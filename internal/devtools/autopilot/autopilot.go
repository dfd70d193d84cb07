// Package autopilot plays the people around an incident through the HTTP
// API, for the crash test and the campaign benchmark: a responder supplies
// the facts the law asks for, legal approves each pending draft, and every
// duty the plan waits on is filed. Drills have their own, inside the
// workflow; this one drives a real incident from outside, as people would.
package autopilot

import (
	"context"
	"fmt"
	"time"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/client"
)

// Facts are the report facts a synthetic incident file leaves out.
var Facts = map[string]string{"cause": "A bucket policy was changed.", "organisation": "Example Platform Ltd", "reporter": "Jane Doe", "dpo_contact": "dpo@example.com",
	"inquiry_phone": "+1 800 555 0100", "inquiry_url": "https://help.example.com"}

// Incident is the incident file of a synthetic breach of synth.LeakedSystem,
// detected now, with every fact a notice states except those in Facts.
func Incident(system string, now time.Time) string {
	now = now.UTC()
	return fmt.Sprintf("title: Media bucket exposed\nkind: unauthorized-access\ndetected_at: %s\noccurred_from: %s\noccurred_to: %s\nsystems: [%s]\n"+
		"description: A storage bucket was public.\nimpact: Faces could be misused.\nmeasures: Closed.\nadvice: Be careful.\nremedies: Help line.\ncontact: privacy@example.com\nplaybook: default\n",
		now.Format(time.RFC3339), now.Add(-48*time.Hour).Format(time.RFC3339), now.Add(-time.Hour).Format(time.RFC3339), system)
}

// Pilot steers one incident.
type Pilot struct {
	Responder, Legal *client.Client
	// Leave, when set, names drafts the pilot does not approve: a test
	// decides on them itself.
	Leave    func(api.DraftView) bool
	factsSet bool
}

// Step looks at the incident once and does what it waits for.
func (p *Pilot) Step(ctx context.Context, v api.View) error {
	if v.LastKnown != nil {
		return nil // a recorded state, perhaps behind: act on the live one
	}
	path := "/api/v1/incidents/" + v.ID
	for _, d := range v.Drafts {
		if d.Status == api.DraftPending && len(d.Missing) > 0 {
			if p.factsSet {
				return fmt.Errorf("draft %s still lacks %v", d.Name, d.Missing)
			}
			if err := p.Responder.Do(ctx, "POST", path+"/facts", api.FactsRequest{Set: Facts}, nil); err != nil {
				return err // unanswered: the next look tries again
			}
			p.factsSet = true
			return nil
		}
	}
	if v.Status == api.StageAwaitApproval || v.Status == api.StageAnnouncing {
		for _, d := range v.Drafts {
			if d.Status == api.DraftPending && (p.Leave == nil || !p.Leave(d)) {
				if err := p.Legal.Do(ctx, "POST", path+"/approve", api.DecisionRequest{Draft: d.Name, Revision: d.Revision, Comment: "autopilot"}, nil); err != nil {
					return fmt.Errorf("approve %s: %w", d.Name, err)
				}
			}
		}
	}
	if v.Status == api.StageAwaitFiling || v.Status == api.StageFiling {
		filed := map[string]bool{}
		for _, o := range v.Obligations {
			filed[o.Name] = o.Status == api.FilingSubmitted
		}
		for _, o := range v.Obligations {
			if o.Voluntary || o.Audience == "individuals" || filed[o.Name] || (o.After != "" && !filed[o.After]) {
				continue // not ours, done, or its turn has not come
			}
			req := api.SubmitRequest{Obligation: o.Name, Reference: "REF-" + o.Name}
			if o.DueAt != nil && time.Now().After(*o.DueAt) {
				req.LateReason = "filed by the autopilot of a test or benchmark"
			}
			if err := p.Responder.Do(ctx, "POST", path+"/submit", req, nil); err != nil {
				return fmt.Errorf("file %s: %w", o.Name, err)
			}
		}
	}
	return nil
}

// View reads the incident.
func (p *Pilot) View(ctx context.Context, id string) (api.View, error) {
	var v api.View
	err := p.Responder.Do(ctx, "GET", "/api/v1/incidents/"+id, nil, &v)
	return v, err
}
