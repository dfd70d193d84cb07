package activities

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/pacing"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/store/storetest"
)

// A running campaign that has sent 6 e-mails in its first minute keeps
// 0.1 a second, well below the configured 10: asked about its measured
// pace, the projection names the duty that pace misses; asked as the
// campaign starts, at the configured rate, it is on time; so it is while
// paused, and once resumed until it has sent again.
func TestProjectPaceAtTheMeasuredRateNamesTheDutyItMisses(t *testing.T) {
	s := storetest.Open(t, "sqlite")
	ctx := context.Background()
	c := newCampaignOf(t, s, emailOnly(60), nil, 0)
	sent := make([]store.Delivery, 6)
	for i := range sent {
		sent[i] = store.Delivery{IncidentID: "INC-N", SubjectID: fmt.Sprintf("u%d", i+1), Channel: "email", Rung: 1, Draft: "notice-en@1"}
	}
	_, err := s.ClaimDeliveries(ctx, sent, store.Lease{Owner: "w#1/0", Until: time.Now().Add(time.Minute)})
	require.NoError(t, err)
	for i := range sent {
		sent[i].Status = store.StatusSent
	}
	require.NoError(t, s.FinishDeliveries(ctx, sent))
	later := time.Now().Add(time.Minute)
	c.acts.Clock = func() time.Time { return later }
	c.acts.Rates = map[string]float64{"email": 10}
	in := PaceInput{IncidentID: "INC-N", Channels: []string{"email"}, Duties: []pacing.Duty{{Name: "sg-individuals", Jurisdiction: "SG", DueAt: later.Add(5 * time.Minute)}}}

	res, err := c.acts.ProjectPace(ctx, in)
	require.NoError(t, err)
	require.Empty(t, res.Late, "60 e-mails at 10 a second are on time")

	in.Measured = true
	res, err = c.acts.ProjectPace(ctx, in)
	require.NoError(t, err)
	require.Equal(t, []string{"sg-individuals"}, res.Duties)
	require.Len(t, res.Late, 1)
	// 6 in the minute and a fraction since the second of the first send.
	require.Regexp(t, `^at the 0\.(1|09\d) email/s measured lately the people still waiting are told`, res.Late[0])
	require.Contains(t, res.Late[0], "0.2 email/s meets it", "60 people in 5 minutes")

	// Paused by legal, it sends nothing: that is not its providers' pace.
	_, _, err = s.PauseCampaign(ctx, "INC-N", store.Pause{By: "legal@example.com", Reason: "wording", At: time.Now()})
	require.NoError(t, err)
	res, err = c.acts.ProjectPace(ctx, in)
	require.NoError(t, err)
	require.Empty(t, res.Late)

	// Resumed, it has sent nothing since: the 6 e-mails before the pause
	// are not its pace now, and the configured rate stands until it has
	// sent for a while again.
	_, err = s.ResumeCampaign(ctx, "INC-N")
	require.NoError(t, err)
	res, err = c.acts.ProjectPace(ctx, in)
	require.NoError(t, err)
	require.Empty(t, res.Late)
}
