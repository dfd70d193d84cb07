package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/store/storetest"
)

func TestWrongRevisionsAreTheCopiesThatReachedPeopleInAnEarlierRevision(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		importPeople(t, s, people)
		inc := openIncident(t, s, "INC-C", "")
		_, err := s.Scope(ctx, store.ScopeInput{IncidentID: inc.ID, Snapshot: inc.Snapshot, Systems: []string{"crm"}, Year: 2026})
		require.NoError(t, err) // u1 u3 u5 u6
		lease := store.Lease{Owner: "attempt-1", Until: time.Now().Add(time.Minute)}
		rows := []store.Delivery{
			{IncidentID: inc.ID, SubjectID: "u1", Channel: "email", Rung: 1, Draft: "notice-en@1", Status: store.StatusAccepted},
			{IncidentID: inc.ID, SubjectID: "u1", Channel: "onsite", Rung: 1, Draft: "notice-en@America/New_York@1", Status: store.StatusAccepted},
			{IncidentID: inc.ID, SubjectID: "u3", Channel: "email", Rung: 1, Draft: "notice-en@2", Status: store.StatusAccepted},
			{IncidentID: inc.ID, SubjectID: "u5", Channel: "email", Rung: 1, Draft: "notice-de@1", Status: store.StatusAccepted},
			{IncidentID: inc.ID, SubjectID: "u6", Channel: "email", Rung: 1, Draft: "notice-en@1", Status: store.StatusFailed},
			// A correction's own row is not a copy of the notice.
			{IncidentID: store.CorrectionLedger(inc.ID, 1), SubjectID: "u1", Channel: "email", Rung: 1, Draft: "notice-en@2", Status: store.StatusAccepted},
		}
		_, err = s.ClaimDeliveries(ctx, rows, lease)
		require.NoError(t, err)
		require.NoError(t, s.FinishDeliveries(ctx, rows))

		who := func(revision int) [][2]string {
			var out [][2]string
			var after [2]string
			for {
				page, next, err := s.WrongRevisions(ctx, inc.ID, "notice-en", revision, after[0], after[1], 1)
				require.NoError(t, err)
				for _, c := range page {
					out = append(out, [2]string{c.Recipient.SubjectID, c.Channel})
				}
				if next == ([2]string{}) {
					return out
				}
				after = next
			}
		}
		require.Equal(t, [][2]string{{"u1", "email"}, {"u1", "onsite"}}, who(2), "revision 1's copies, any zone's; not a failed one")
		require.Equal(t, [][2]string{{"u1", "email"}, {"u1", "onsite"}, {"u3", "email"}}, who(3))
		page, _, err := s.WrongRevisions(ctx, inc.ID, "notice-en", 3, "", "", 10)
		require.NoError(t, err)
		require.Equal(t, "ann@example.com", page[0].Recipient.Contact("email"), "with the contact the copy went to")
		require.Equal(t, "notice-en@America/New_York@1", page[1].Draft)
	})
}

func TestSendProgressCountsEachChannelsSendsOverTime(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		importPeople(t, s, people)
		inc := openIncident(t, s, "INC-P", "")
		_, err := s.Scope(ctx, store.ScopeInput{IncidentID: inc.ID, Snapshot: inc.Snapshot, Systems: []string{"crm"}, Year: 2026})
		require.NoError(t, err)
		lease := store.Lease{Owner: "attempt-1", Until: time.Now().Add(time.Minute)}
		rows := []store.Delivery{
			{IncidentID: inc.ID, SubjectID: "u1", Channel: "email", Rung: 1, Status: store.StatusAccepted},
			{IncidentID: inc.ID, SubjectID: "u3", Channel: "email", Rung: 1, Status: store.StatusAccepted},
			{IncidentID: inc.ID, SubjectID: "u5", Channel: "email", Rung: 1, Status: store.StatusFailed},
			{IncidentID: inc.ID, SubjectID: "u1", Channel: "onsite", Rung: 1, Status: store.StatusAccepted},
		}
		_, err = s.ClaimDeliveries(ctx, rows, lease)
		require.NoError(t, err)
		require.NoError(t, s.FinishDeliveries(ctx, rows))
		got, err := s.SendProgress(ctx, inc.ID, 100)
		require.NoError(t, err)
		require.Equal(t, 2, got["email"][len(got["email"])-1].Sent, "the failed one is not counted")
		require.Equal(t, 1, got["onsite"][len(got["onsite"])-1].Sent)
		require.WithinDuration(t, time.Now(), got["email"][0].At, time.Minute)
	})
}
