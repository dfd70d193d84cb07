package activities

import (
	"context"

	"github.com/tocsin/tocsin/internal/pacing"
)

// PaceInput asks whether a campaign about to send would miss a duty to
// tell people: Channels are the ladder's first rung, Duties the unmet
// duties to individuals with a due time.
type PaceInput struct {
	IncidentID string
	Channels   []string
	Duties     []pacing.Duty
	// AheadRegions' residents are sent first, owed AheadDuties (the
	// earliest due): those duties are measured by their finish alone.
	AheadRegions []string `json:",omitempty"`
	AheadDuties  []string `json:",omitempty"`
	// Measured asks about a running campaign at the rates it has kept
	// lately, where slower than the configured ones: only the misses the
	// measured rates cause are answered.
	Measured bool `json:",omitempty"`
}

// PaceResult says, for each duty the campaign would miss at the
// configured rates, by how much and the rate that meets it.
type PaceResult struct {
	Late []string `json:",omitempty"`
	// Duties names the duty of each of Late.
	Duties []string `json:",omitempty"`
}

// ProjectPace projects the campaign's finish at the channels' rates (as
// the incident's view does) against the duties' due times.
func (a *Activities) ProjectPace(ctx context.Context, in PaceInput) (PaceResult, error) {
	if len(in.Duties) == 0 || (len(a.Rates) == 0 && !in.Measured) {
		return PaceResult{}, nil
	}
	var measured map[string]float64
	if in.Measured {
		// A paused campaign's last minutes are the pause's pace, not its
		// providers', and so are those before a resume.
		window, err := a.Store.MeasureWindow(ctx, in.IncidentID, a.now())
		if err != nil || window == 0 {
			return PaceResult{}, err
		}
		sent, err := a.Store.SendProgress(ctx, in.IncidentID, 0)
		if err != nil {
			return PaceResult{}, err
		}
		if measured = pacing.Measured(a.now(), sent, window); len(measured) == 0 {
			return PaceResult{}, nil
		}
	}
	waiting, err := a.Store.WaitingByContact(ctx, in.IncidentID, nil)
	if err != nil {
		return PaceResult{}, err
	}
	rates, err := a.Store.RatesNow(ctx, a.Rates) // with any an admin raised
	if err != nil {
		return PaceResult{}, err
	}
	var ahead pacing.Ahead
	if len(in.AheadRegions) > 0 {
		first, err := a.Store.WaitingByContact(ctx, in.IncidentID, in.AheadRegions)
		if err != nil {
			return PaceResult{}, err
		}
		ahead = pacing.AheadOf(in.AheadDuties, in.Channels, first, waiting, rates, measured)
	}
	var out PaceResult
	for _, m := range pacing.Project(a.now(), in.Duties, pacing.Loads(in.Channels, waiting, rates, measured), ahead).Misses {
		if in.Measured && !m.Measured {
			continue // late at the configured rate too: the war room was told as the campaign started
		}
		out.Late = append(out.Late, m.Say())
		out.Duties = append(out.Duties, m.Duty)
	}
	return out, nil
}
