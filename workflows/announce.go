// The public announcement, for the people individual notice did not reach.

package workflows

import (
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/tocsin/tocsin/activities"
	"github.com/tocsin/tocsin/internal/channel"
	"github.com/tocsin/tocsin/internal/plandata"
)

// channelSummary counts people by channel, registered channels in
// reading order, then any other the ledger names (none is left out).
func channelSummary(by map[string]int) string {
	names := channel.Names()
	var extra []string
	// Sorted below, so the map's order does not matter.
	//workflowcheck:ignore
	for ch := range by {
		if !slices.Contains(names, ch) {
			extra = append(extra, ch)
		}
	}
	slices.Sort(extra)
	var parts []string
	for _, ch := range append(names, extra...) {
		if by[ch] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", ch, by[ch]))
		}
	}
	return strings.Join(parts, ", ")
}

func (s *plan) announce(ctx workflow.Context, draftIn activities.DraftInput, reach plandata.Reach) (bool, error) {
	if reach.Unreached == 0 {
		return false, nil
	}
	const reason = "some affected people could not be reached individually"
	s.p.Announcement = &AnnouncementState{Required: true, Reason: reason}
	s.stage(ctx, StageAnnouncing, fmt.Sprintf("%d people could not be reached: drafting a public announcement", reach.Unreached))
	in := draftIn
	in.Spec = s.spec
	in.Announcement = true
	var res activities.DraftResult
	if err := workflow.ExecuteActivity(ctx, a.RenderDrafts, in).Get(ctx, &res); err != nil {
		return false, fmt.Errorf("draft announcement: %w", err)
	}
	for _, d := range res.Drafts {
		s.p.Drafts = append(s.p.Drafts, draftState(d))
	}
	s.post(ctx, "The public announcement is ready for legal review.")
	s.review(ctx, res.Drafts)
	if err := s.awaitApproval(ctx, in, func(d DraftState) bool { return d.Kind == activities.KindAnnouncement }); err != nil {
		return false, err
	}
	var pub activities.PublishResult
	rev := s.draft("announcement").Revision
	if err := workflow.ExecuteActivity(ctx, a.PublishAnnouncement, activities.PublishInput{IncidentID: s.in.IncidentID, Revision: rev, Unreached: reach.Unreached, Reason: reason}).Get(ctx, &pub); err != nil {
		return false, fmt.Errorf("publish announcement: %w", err)
	}
	s.p.Announcement.Published, s.p.Announcement.URL = true, pub.URL
	s.event(ctx, "public announcement published at "+pub.URL)
	s.post(ctx, "Public announcement published: "+pub.URL)
	return true, nil
}
