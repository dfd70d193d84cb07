package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/store/storetest"
)

func scopedAll(t *testing.T, s *store.Store, id string) {
	t.Helper()
	importPeople(t, s, people)
	inc := openIncident(t, s, id, "")
	_, err := s.Scope(context.Background(), store.ScopeInput{IncidentID: id, Snapshot: inc.Snapshot, Systems: []string{"crm", "media"}, Year: 2026})
	require.NoError(t, err)
}

func TestSplitRangeCutsTheAffectedSetIntoRangesOfAtMostSize(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		scopedAll(t, s, "INC-S")
		ranges, n, err := s.SplitRange(ctx, "INC-S", store.Range{}, nil, 4, false)
		require.NoError(t, err)
		require.Equal(t, 6, n)
		require.Equal(t, []store.Range{{After: "", Upto: "u4"}, {After: "u4", Upto: ""}}, ranges, "the last range stays open-ended")

		ranges, n, err = s.SplitRange(ctx, "INC-S", store.Range{After: "u1", Upto: "u5"}, nil, 2, false)
		require.NoError(t, err)
		require.Equal(t, 4, n)
		require.Equal(t, []store.Range{{After: "u1", Upto: "u3"}, {After: "u3", Upto: "u5"}}, ranges)

		// Reached subjects drop out of a split that asks for the unreached.
		ok, _ := s.ClaimDeliveries(ctx, []store.Delivery{{IncidentID: "INC-S", SubjectID: "u1", Channel: "email", Rung: 1}, {IncidentID: "INC-S", SubjectID: "u2", Channel: "sms", Rung: 1}}, lease("a1"))
		require.Empty(t, ok)
		require.NoError(t, s.FinishDeliveries(ctx, []store.Delivery{{IncidentID: "INC-S", SubjectID: "u1", Channel: "email", Status: store.StatusAccepted, ProviderRef: "<m1>"},
			{IncidentID: "INC-S", SubjectID: "u2", Channel: "sms", Status: store.StatusFailed}}))
		marked, err := s.ResolveRange(ctx, "INC-S", 1, store.Range{}, []string{"onsite", "email"}, false)
		require.NoError(t, err)
		require.Equal(t, 1, marked, "only the accepted email reached someone")
		ranges, n, err = s.SplitRange(ctx, "INC-S", store.Range{}, nil, 10, true)
		require.NoError(t, err)
		require.Equal(t, 5, n)
		require.Equal(t, []store.Range{{}}, ranges)

		rcps, err := s.UnreachedRecipients(ctx, "INC-S", store.Range{After: "u1", Upto: "u3"}, nil, 100)
		require.NoError(t, err)
		require.Len(t, rcps, 2)
		require.Equal(t, "u2", rcps[0].SubjectID)
		require.Equal(t, "u3", rcps[1].SubjectID)

		// The residents of some regions only: the earliest-due first.
		ranges, n, err = s.SplitRange(ctx, "INC-S", store.Range{}, []string{"US-CA", "HK", "SG"}, 1, true)
		require.NoError(t, err)
		require.Equal(t, 2, n, "u1 (SG) was reached")
		require.Equal(t, []store.Range{{After: "", Upto: "u3"}, {After: "u3", Upto: ""}}, ranges)
		rcps, err = s.UnreachedRecipients(ctx, "INC-S", store.Range{}, []string{"US-CA", "HK", "SG"}, 100)
		require.NoError(t, err)
		require.Equal(t, []string{"u3", "u6"}, []string{rcps[0].SubjectID, rcps[1].SubjectID})
		require.Len(t, rcps, 2)
		waiting, err := s.WaitingByContact(ctx, "INC-S", []string{"US-CA", "HK", "SG"})
		require.NoError(t, err)
		require.Equal(t, map[string]int{"email": 2}, waiting, "u3 and u6; u1 (SG) was reached")
		waiting, err = s.WaitingByContact(ctx, "INC-S", nil)
		require.NoError(t, err)
		require.Equal(t, 3, waiting["email"], "and u5 (DE) among everyone")
	})
}

func TestTheNextRungGoesAheadOnlyToPeopleTheSettlingRungCannotReach(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		scopedAll(t, s, "INC-A")
		d := func(subject, ch string, rung int) store.Delivery {
			return store.Delivery{IncidentID: "INC-A", SubjectID: subject, Channel: ch, Rung: rung}
		}
		claims := []store.Delivery{d("u1", "email", 1), d("u2", "email", 1), d("u3", "email", 1), d("u4", "sms", 1), d("u5", "email", 1), d("u5", "onsite", 1), d("u6", "sms", 2)}
		_, err := s.ClaimDeliveries(ctx, claims, lease("a1"))
		require.NoError(t, err)
		done := func(ds ...store.Delivery) { require.NoError(t, s.FinishDeliveries(ctx, ds)) }
		with := func(x store.Delivery, status string) store.Delivery { x.Status = status; return x }
		// u1's e-mail was accepted (it may still bounce), u4's text waits
		// for its receipt and u3's e-mail is still under way; u2's and both
		// of u5's failed; u6 had nothing on rung 1 (a rung-2 send is not
		// rung 1's).
		done(with(claims[0], store.StatusAccepted), with(claims[1], store.StatusFailed), with(claims[3], store.StatusSent),
			with(claims[4], store.StatusFailed), with(claims[5], store.StatusUndelivered), with(claims[6], store.StatusSent))
		ids := func() []string {
			rcps, err := s.MovedOnRecipients(ctx, "INC-A", store.Range{}, nil, 1, 100)
			require.NoError(t, err)
			var out []string
			for _, r := range rcps {
				out = append(out, r.SubjectID)
			}
			return out
		}
		require.Equal(t, []string{"u2", "u5", "u6"}, ids())
		ranges, n, err := s.SplitMovedOn(ctx, "INC-A", store.Range{}, nil, 2, 1)
		require.NoError(t, err)
		require.Equal(t, 3, n)
		require.Equal(t, []store.Range{{After: "", Upto: "u5"}, {After: "u5", Upto: ""}}, ranges)
		done(with(claims[2], store.StatusFailed))
		require.Equal(t, []string{"u2", "u3", "u5", "u6"}, ids(), "u3's e-mail failed when it settled")
		rcps, err := s.MovedOnRecipients(ctx, "INC-A", store.Range{After: "u2", Upto: "u5"}, []string{"US-CA", "HK", "SG", "DE"}, 1, 1)
		require.NoError(t, err)
		require.Len(t, rcps, 1, "a page of one, within the range")
		require.Equal(t, "u3", rcps[0].SubjectID)
	})
}

func TestClaimsAreWrittenBeforeSendsAndACallbackThatCameFirstWins(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		scopedAll(t, s, "INC-C")
		sms := store.Delivery{IncidentID: "INC-C", SubjectID: "u2", Channel: "sms", Rung: 2, Draft: "notice-zh-CN@1"}
		mail := store.Delivery{IncidentID: "INC-C", SubjectID: "u3", Channel: "email", Rung: 1, Draft: "notice-en@1"}
		existing, err := s.ClaimDeliveries(ctx, []store.Delivery{sms, mail}, lease("a1"))
		require.NoError(t, err)
		require.Empty(t, existing)
		existing, err = s.ClaimDeliveries(ctx, []store.Delivery{sms, mail}, lease("a2"))
		require.NoError(t, err)
		require.Len(t, existing, 2, "a second claim sees the first")
		require.Equal(t, store.StatusSending, existing[[2]string{"u2", "sms"}].Status)
		require.NotEmpty(t, existing[[2]string{"u2", "sms"}].ClaimedAt)

		// The receipt lands (by ledger key) before the batch records the send.
		got, err := s.GetDelivery(ctx, "INC-C", "u2", "sms")
		require.NoError(t, err)
		got.ProviderRef, got.Status = "SM1", store.StatusSent
		require.NoError(t, s.FinishDelivery(ctx, got))
		_, err = s.UpdateDeliveryByRef(ctx, "SM1", store.StatusDelivered, "")
		require.NoError(t, err)
		sms.Status, sms.ProviderRef, sms.Segments = store.StatusSent, "SM1", 2
		mail.Status, mail.ProviderRef = store.StatusAccepted, "<m>"
		require.NoError(t, s.FinishDeliveries(ctx, []store.Delivery{sms, mail}))
		got, err = s.GetDelivery(ctx, "INC-C", "u2", "sms")
		require.NoError(t, err)
		require.Equal(t, store.StatusDelivered, got.Status, "the batch's late record must not undo the receipt")
		require.Equal(t, "notice-zh-CN@1", got.Draft, "the ledger names the revision the person read")
		require.Equal(t, 2, got.Segments)

		// A claim given back (the provider said "later") can be claimed again.
		retry := store.Delivery{IncidentID: "INC-C", SubjectID: "u5", Channel: "email", Rung: 1}
		_, err = s.ClaimDeliveries(ctx, []store.Delivery{retry}, lease("a1"))
		require.NoError(t, err)
		require.NoError(t, s.ReleaseDeliveries(ctx, []store.Delivery{retry}, "a2"), "only the claim's owner gives it back")
		existing, err = s.ClaimDeliveries(ctx, []store.Delivery{retry}, lease("a2"))
		require.NoError(t, err)
		require.Len(t, existing, 1)
		require.NoError(t, s.ReleaseDeliveries(ctx, []store.Delivery{retry}, "a1"))
		existing, err = s.ClaimDeliveries(ctx, []store.Delivery{retry}, lease("a1"))
		require.NoError(t, err)
		require.Empty(t, existing)

		counts, first, last, err := s.CampaignCounts(ctx, "INC-C")
		require.NoError(t, err)
		require.Equal(t, store.ChannelCounts{Delivered: 1, Segments: 2}, counts["sms"])
		require.Equal(t, store.ChannelCounts{Queued: 1, Delivered: 1}, counts["email"])
		require.NotEmpty(t, first)
		require.GreaterOrEqual(t, last, first)
		n, err := s.ContactedSubjects(ctx, "INC-C")
		require.NoError(t, err)
		require.Equal(t, 3, n)
	})
}

func lease(owner string) store.Lease {
	return store.Lease{Owner: owner, Until: time.Now().Add(time.Minute)}
}

func TestALiveClaimIsNotTakenOverAndALapsedOneOnlyOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		scopedAll(t, s, "INC-L")
		d := store.Delivery{IncidentID: "INC-L", SubjectID: "u1", Channel: "email", Rung: 1}
		short := store.Lease{Owner: "attempt-1", Until: time.Now().Add(300 * time.Millisecond)}
		_, err := s.ClaimDeliveries(ctx, []store.Delivery{d}, short)
		require.NoError(t, err)

		existing, err := s.ClaimDeliveries(ctx, []store.Delivery{d}, lease("attempt-2"))
		require.NoError(t, err)
		held := existing[[2]string{"u1", "email"}]
		require.True(t, held.Live(time.Now()), "attempt 1 is still sending")
		taken, err := s.TakeOver(ctx, held, lease("attempt-2"))
		require.NoError(t, err)
		require.False(t, taken, "a live lease is not taken")

		// Attempt 1 renews: its claim stays live past the first lease.
		require.NoError(t, s.RenewLeases(ctx, []store.Delivery{d}, store.Lease{Owner: "attempt-1", Until: time.Now().Add(600 * time.Millisecond)}))
		held, err = s.GetDelivery(ctx, "INC-L", "u1", "email")
		require.NoError(t, err)
		require.True(t, held.Live(short.Until.Add(100*time.Millisecond)), "renewed past the first lease")

		require.Eventually(t, func() bool { return !held.Live(time.Now()) }, 2*time.Second, 20*time.Millisecond)
		taken, err = s.TakeOver(ctx, held, lease("attempt-2"))
		require.NoError(t, err)
		require.True(t, taken, "a lapsed claim is taken over")
		taken, err = s.TakeOver(ctx, held, lease("attempt-3"))
		require.NoError(t, err)
		require.False(t, taken, "and only by one attempt")
		require.NoError(t, s.RenewLeases(ctx, []store.Delivery{d}, store.Lease{Owner: "attempt-1", Until: time.Now().Add(time.Hour)}))
		got, err := s.GetDelivery(ctx, "INC-L", "u1", "email")
		require.NoError(t, err)
		require.Equal(t, "attempt-2", got.Owner, "the old owner cannot renew what it lost")

		require.NoError(t, s.LeaveInDoubt(ctx, []store.Delivery{d}, "attempt-2", time.Now()))
		got, err = s.GetDelivery(ctx, "INC-L", "u1", "email")
		require.NoError(t, err)
		require.Equal(t, store.DoubtInterrupted, got.Doubt)
		require.Equal(t, store.StatusSending, got.Status, "still claimed: it may have been sent")
		require.False(t, got.Live(time.Now()), "its hold has run out")
		got.Status, got.ProviderRef, got.Doubt = store.StatusAccepted, "<m>", store.DoubtResent
		require.NoError(t, s.FinishDeliveries(ctx, []store.Delivery{got}))
		got, err = s.GetDelivery(ctx, "INC-L", "u1", "email")
		require.NoError(t, err)
		require.Equal(t, store.DoubtResent, got.Doubt)

		counts, _, _, err := s.CampaignCounts(ctx, "INC-L")
		require.NoError(t, err)
		require.Equal(t, store.ChannelCounts{Delivered: 1, PossiblyTwice: 1}, counts["email"], "an e-mail sent again is possibly there twice")
		inDoubt := store.Delivery{IncidentID: "INC-L", SubjectID: "u2", Channel: "sms", Rung: 1}
		_, err = s.ClaimDeliveries(ctx, []store.Delivery{inDoubt}, lease("attempt-4"))
		require.NoError(t, err)
		require.NoError(t, s.LeaveInDoubt(ctx, []store.Delivery{inDoubt}, "attempt-4", time.Now().Add(time.Minute)))
		counts, _, _, err = s.CampaignCounts(ctx, "INC-L")
		require.NoError(t, err)
		require.Equal(t, store.ChannelCounts{Queued: 1, Unknown: 1}, counts["sms"])
	})
}

// A call an answering machine took counts as reaching the person only when
// the playbook lets voicemail count.
func TestVoicemailReachesSomeoneOnlyIfThePlaybookSaysSo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		scopedAll(t, s, "INC-V")
		call := store.Delivery{IncidentID: "INC-V", SubjectID: "u2", Channel: "voice", Rung: 3}
		_, err := s.ClaimDeliveries(ctx, []store.Delivery{call}, lease("a1"))
		require.NoError(t, err)
		call.Status, call.ProviderRef = store.StatusSent, "CA1"
		require.NoError(t, s.FinishDeliveries(ctx, []store.Delivery{call}))
		_, err = s.UpdateDeliveryByRef(ctx, "CA1", store.StatusDelivered, "")
		require.NoError(t, err)
		require.NoError(t, s.AnnotateDelivery(ctx, "CA1", store.AnsweredByMachine))

		marked, err := s.ResolveRange(ctx, "INC-V", 3, store.Range{}, []string{"voice"}, true)
		require.NoError(t, err)
		require.Zero(t, marked, "the machine took it, and the playbook does not count voicemail")
		marked, err = s.ResolveRange(ctx, "INC-V", 3, store.Range{}, []string{"voice"}, false)
		require.NoError(t, err)
		require.Equal(t, 1, marked)
	})
}

// sendOnsite records an on-site notice the platform accepted (or, with
// status, got as far as status) for one person.
func sendOnsite(t *testing.T, s *store.Store, incidentID, subject, draft, status string) {
	t.Helper()
	ctx := context.Background()
	d := store.Delivery{IncidentID: incidentID, SubjectID: subject, Channel: "onsite", Rung: 1, Draft: draft}
	_, err := s.ClaimDeliveries(ctx, []store.Delivery{d}, lease("w1"))
	require.NoError(t, err)
	d.Status = status
	require.NoError(t, s.FinishDeliveries(ctx, []store.Delivery{d}))
}

func TestTheInAppInboxShowsOneAccountsRealNoticesAsSent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		importPeople(t, s, people) // u1 has acct-1, u5 acct-5
		notice := func(id, title string) {
			require.NoError(t, s.SaveDraft(ctx, store.Draft{IncidentID: id, Name: "notice-en", Revision: 1, Kind: "subject_notice", Locale: "en", Title: title, Body: title + " body", CreatedBy: "system"}))
		}
		snap, err := s.CurrentSnapshot(ctx)
		require.NoError(t, err)
		for _, id := range []string{"INC-B", "INC-A", "INC-DRILL", "INC-UNSENT"} {
			// Drills never reach real inboxes, even where a row says sent.
			inc := store.Incident{ID: id, Title: "t", OpenedBy: "responder@example.com", OpenedAt: time.Now(), Snapshot: snap, Drill: id == "INC-DRILL"}
			require.NoError(t, s.CreateIncident(ctx, inc, nil))
			_, err := s.Scope(ctx, store.ScopeInput{IncidentID: id, Snapshot: snap, Systems: []string{"crm"}, Year: 2026})
			require.NoError(t, err)
			notice(id, "About "+id)
		}
		sendOnsite(t, s, "INC-B", "u1", "notice-en@1", store.StatusDelivered)
		sendOnsite(t, s, "INC-A", "u1", "notice-en@1", store.StatusAccepted)
		sendOnsite(t, s, "INC-A", "u5", "notice-en@1", store.StatusAccepted)
		sendOnsite(t, s, "INC-DRILL", "u1", "notice-en@1", store.StatusAccepted)
		sendOnsite(t, s, "INC-UNSENT", "u1", "notice-en@1", store.StatusFailed)

		inbox, err := s.OnsiteInbox(ctx, "acct-1")
		require.NoError(t, err)
		var got []string
		for _, n := range inbox {
			got = append(got, n.ID+" "+n.Title)
		}
		require.Equal(t, []string{"INC-B.u1 About INC-B", "INC-A.u1 About INC-A"}, got, "real, accepted notices of acct-1 only, oldest first")

		for _, account := range []string{"", "acct-404"} {
			inbox, err := s.OnsiteInbox(ctx, account)
			require.NoError(t, err)
			require.Empty(t, inbox, "account %q", account)
		}
	})
}

// An inventory imported before the on-site index gets it when the store
// opens, so the inbox of an old data directory is not a scan per call.
func TestInventoriesFromBeforeTheOnsiteIndexAreIndexedOnOpen(t *testing.T) {
	for _, backend := range storetest.Backends(t) {
		t.Run(backend, func(t *testing.T) {
			dsn := storetest.DSN(t, backend)
			s, err := store.Open(dsn)
			require.NoError(t, err)
			snap := importPeople(t, s, people).Snapshot
			s.Close()
			index := fmt.Sprintf("subjects_%d_onsite", snap)
			db, err := sql.Open(map[string]string{"sqlite": "sqlite", "postgres": "pgx"}[backend], dsn)
			require.NoError(t, err)
			defer db.Close()
			indexed := func() bool {
				q := `SELECT count(*) FROM sqlite_master WHERE type='index' AND name=$1`
				if backend == "postgres" {
					q = `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = $1`
				}
				var n int
				require.NoError(t, db.QueryRow(q, index).Scan(&n))
				return n == 1
			}
			require.True(t, indexed(), "a new import is indexed")
			_, err = db.Exec(`DROP INDEX ` + index) // what an older Tocsin left
			require.NoError(t, err)
			require.False(t, indexed())

			s, err = store.Open(dsn)
			require.NoError(t, err)
			defer s.Close()
			require.True(t, indexed(), "opening the store indexes the old inventory")
			inbox, err := s.OnsiteInbox(context.Background(), "acct-1")
			require.NoError(t, err)
			require.Empty(t, inbox)
		})
	}
}

// Legal waived every duty to tell the residents of some regions: they stay
// affected, but no rung reads them and they count as withheld, not as
// unreached (no announcement is owed them). Someone already told stays told.
func TestWithheldPeopleAreLeftOutOfTheCampaignButNotOutOfTheRecord(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		scopedAll(t, s, "INC-W") // u1 SG, u2 CN, u3 US-CA, u4 US-NY, u5 DE, u6 HK
		told := store.Delivery{IncidentID: "INC-W", SubjectID: "u1", Channel: "email", Rung: 1, Status: store.StatusAccepted}
		_, err := s.ClaimDeliveries(ctx, []store.Delivery{told}, lease("a1"))
		require.NoError(t, err)
		require.NoError(t, s.FinishDeliveries(ctx, []store.Delivery{told}))
		_, err = s.ResolveRange(ctx, "INC-W", 1, store.Range{}, []string{"email"}, false)
		require.NoError(t, err)

		for range 2 { // an activity retried withholds the same people
			n, err := s.WithholdNotice(ctx, "INC-W", []string{"DE", "HK", "SG"})
			require.NoError(t, err)
			require.Equal(t, 2, n, "u5 and u6; u1 was told already")
		}
		left, err := s.UnreachedRecipients(ctx, "INC-W", store.Range{}, nil, 10)
		require.NoError(t, err)
		var ids []string
		for _, r := range left {
			ids = append(ids, r.SubjectID)
		}
		require.Equal(t, []string{"u2", "u3", "u4"}, ids)
		_, total, err := s.SplitRange(ctx, "INC-W", store.Range{}, nil, 2, false)
		require.NoError(t, err)
		require.Equal(t, 4, total, "the campaign counts the told and the still to tell, not the withheld")

		reach, err := s.ReachSummary(ctx, "INC-W")
		require.NoError(t, err)
		require.Equal(t, store.Reach{Reached: 1, Unreached: 3, Withheld: 2, ByChannel: map[string]int{"email": 1}}, reach)
		byRegion, err := s.ReachByRegion(ctx, "INC-W")
		require.NoError(t, err)
		require.Equal(t, store.RegionReach{Withheld: 1}, byRegion["DE"])
		require.Equal(t, store.RegionReach{Reached: 1}, byRegion["SG"])
		require.Equal(t, store.RegionReach{Unreached: 1}, byRegion["CN"])

		page, err := s.AffectedPage(ctx, "INC-W", "", 10)
		require.NoError(t, err)
		require.Len(t, page, 6, "the withheld are still affected")
		withheld := map[string]bool{}
		for _, a := range page {
			withheld[a.SubjectID] = a.Withheld
		}
		require.Equal(t, map[string]bool{"u1": false, "u2": false, "u3": false, "u4": false, "u5": true, "u6": true}, withheld)
	})
}

// The relay bounces an e-mail while the claim that resends it is still
// being sent (a worker died mid-send; the retry took over and sends it
// again): the bounce fails the delivery first, and the resend's record
// that comes after must still say it was resent, so the ledger owns up to
// the person's second copy.
func TestAResendRecordedAfterABounceStillOwnsUpToTheSecondCopy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		scopedAll(t, s, "INC-B")
		mail := store.Delivery{IncidentID: "INC-B", SubjectID: "u3", Channel: "email", Rung: 1}
		_, err := s.ClaimDeliveries(ctx, []store.Delivery{mail}, lease("a1"))
		require.NoError(t, err)
		ok, err := s.RecordBounce(ctx, "INC-B", "u3", "<m-u3@tocsin>", "550 5.1.1 no such user")
		require.NoError(t, err)
		require.True(t, ok)
		mail.Status, mail.ProviderRef, mail.Doubt = store.StatusAccepted, "<m-u3@tocsin>", store.DoubtResent
		require.NoError(t, s.FinishDeliveries(ctx, []store.Delivery{mail}))
		got, err := s.GetDelivery(ctx, "INC-B", "u3", "email")
		require.NoError(t, err)
		require.Equal(t, store.StatusFailed, got.Status, "the bounce stands: nobody was reached")
		require.Equal(t, store.DoubtResent, got.Doubt, "the second copy is owned up to")
		require.Equal(t, "<m-u3@tocsin>", got.ProviderRef)
		counts, _, _, err := s.CampaignCounts(ctx, "INC-B")
		require.NoError(t, err)
		require.Equal(t, 1, counts["email"].PossiblyTwice)
	})
}
