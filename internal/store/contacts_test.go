package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/inventory"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/store/storetest"
)

const fullHeader = "subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems,push_tokens,address_line1,address_line2,address_city,address_state,address_postal_code,address_country,consent_electronic\n"

// devices: people reachable only by push or by post beside the usual.
var devices = fullHeader +
	"d1,Pat,,,,en,US-NY,1970,media,,1 Main St,,Albany,NY,12207,US,no\n" +
	"d2,Kim,kim@example.com,,,en,US-NY,1980,media,,2 Elm St,,Albany,NY,12207,US,yes\n" +
	"d3,Lu,,,,zh-CN,CN,1990,media,fcm:ZmNtLXRva2VuLWZvci1sdQ,,,,,,,\n" +
	"d4,Mo,,,,en,SG,1991,media,apns:" + strings.Repeat("0f", 32) + ",,,,,,,\n" +
	"d5,No,,,,en,SG,1992,crm,,,,,,,,\n"

// A scope counts people per kind of contact, push and postal address
// among them, and keeps per region and consent who has which, from the
// snapshot's counts or, for named people, from the affected set.
func TestScopeCountsPushAndPostalContacts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		importPeople(t, s, devices)
		for _, named := range []string{"", "d1\nd2\nd3\nd4\n"} {
			id := map[string]string{"": "INC-ALL", "d1\nd2\nd3\nd4\n": "INC-NAMED"}[named]
			inc := openIncident(t, s, id, named)
			sum, err := s.Scope(ctx, store.ScopeInput{IncidentID: inc.ID, Snapshot: inc.Snapshot, Systems: []string{"media"}, NamedOnly: named != "", Year: 2026})
			require.NoError(t, err)
			require.Equal(t, 4, sum.Subjects, id)
			require.Equal(t, map[string]int{"onsite": 0, "email": 1, "phone": 0, "push": 2, "address": 2}, withZeros(sum.Reachable), id)
			require.Zero(t, sum.NoContact, id)
			require.Equal(t, 1, sum.WithEmail, "the field earlier views read")

			groups, err := s.ReachGroups(ctx, inc.ID)
			require.NoError(t, err)
			require.Equal(t, map[store.ReachGroup]int{
				{Region: "US-NY", Consent: "no", Reach: 1 << 4}:       1,
				{Region: "US-NY", Consent: "yes", Reach: 1<<1 | 1<<4}: 1,
				{Region: "CN", Consent: "", Reach: 1 << 3}:            1,
				{Region: "SG", Consent: "", Reach: 1 << 3}:            1,
			}, groups, id)

			rcp, err := s.UnreachedRecipients(ctx, inc.ID, store.Range{}, nil, 10)
			require.NoError(t, err)
			require.Equal(t, "fcm:ZmNtLXRva2VuLWZvci1sdQ", rcp[2].Contact("push"))
			require.Equal(t, "1 Main St\n\nAlbany\nNY\n12207\nUS", rcp[0].Contact("address"))
			require.Equal(t, "no", rcp[0].Consent)
		}
	})
}

func withZeros(m map[string]int) map[string]int {
	out := map[string]int{"onsite": 0, "email": 0, "phone": 0, "push": 0, "address": 0}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// A snapshot imported before push tokens, addresses and consent were read
// gains their columns, empty, when a newer Tocsin opens the store, and an
// incident scoped then keeps what it counted.
func TestASnapshotFromBeforeNewContactsStillScopes(t *testing.T) {
	for _, backend := range storetest.Backends(t) {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			dsn := storetest.DSN(t, backend)
			s, err := store.Open(dsn)
			require.NoError(t, err)
			importPeople(t, s, people)
			inc := openIncident(t, s, "INC-OLD", "")
			_, err = s.Scope(ctx, store.ScopeInput{IncidentID: inc.ID, Snapshot: inc.Snapshot, Systems: []string{"media"}, Year: 2026})
			require.NoError(t, err)
			require.NoError(t, s.Close())
			affected := "affected_inc_old"
			asEarlierTocsinLeftIt(t, backend, dsn,
				`ALTER TABLE subjects_1 DROP COLUMN push_tokens`, `ALTER TABLE subjects_1 DROP COLUMN address`, `ALTER TABLE subjects_1 DROP COLUMN consent`,
				`ALTER TABLE `+affected+` DROP COLUMN reach`, `ALTER TABLE `+affected+` DROP COLUMN consent`,
				`ALTER TABLE `+affected+` ADD COLUMN can_onsite INTEGER NOT NULL DEFAULT 0`,
				`ALTER TABLE `+affected+` ADD COLUMN can_email INTEGER NOT NULL DEFAULT 0`,
				`ALTER TABLE `+affected+` ADD COLUMN can_phone INTEGER NOT NULL DEFAULT 0`,
				`UPDATE `+affected+` SET can_email = 1 WHERE subject_id IN ('u3', 'u6')`,
				`UPDATE `+affected+` SET can_phone = 1 WHERE subject_id = 'u2'`)

			s, err = store.Open(dsn)
			require.NoError(t, err)
			defer s.Close()
			page, err := s.AffectedPage(ctx, "INC-OLD", "", 10)
			require.NoError(t, err)
			require.Equal(t, []string{"sms", "voice"}, page[0].Channels, "u2's phone, from the old table's columns")
			require.Equal(t, []string{"email"}, page[1].Channels)
			rcp, err := s.UnreachedRecipients(ctx, "INC-OLD", store.Range{}, nil, 10)
			require.NoError(t, err)
			require.Len(t, rcp, 4)
			require.Empty(t, rcp[0].Contact("push"))

			inc = openIncident(t, s, "INC-NEW", "")
			sum, err := s.Scope(ctx, store.ScopeInput{IncidentID: inc.ID, Snapshot: inc.Snapshot, Systems: []string{"media"}, Year: 2026})
			require.NoError(t, err)
			require.Equal(t, 2, sum.Reachable["email"])
			require.Zero(t, sum.Reachable["push"])
		})
	}
}

// Returned mail fails the letter in the ledger and makes the person whom
// only the letter reached unreached again; recording it twice changes
// nothing more, and a person sent no letter is named.
func TestReturnedMailUnreachesThoseOnlyALetterReached(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		importPeople(t, s, devices)
		inc := openIncident(t, s, "INC-RET", "")
		_, err := s.Scope(ctx, store.ScopeInput{IncidentID: inc.ID, Snapshot: inc.Snapshot, Systems: []string{"media"}, Year: 2026})
		require.NoError(t, err)
		mail := func(subject string, rung int, ladder []string) {
			d := store.Delivery{IncidentID: inc.ID, SubjectID: subject, Channel: "letter", Rung: rung, Status: store.StatusAccepted, ProviderRef: "L-" + subject}
			_, _, err := s.BeginDelivery(ctx, store.Delivery{IncidentID: inc.ID, SubjectID: subject, Channel: "letter", Rung: rung, Status: store.StatusSending})
			require.NoError(t, err)
			require.NoError(t, s.FinishDelivery(ctx, d))
			_, err = s.ResolveRange(ctx, inc.ID, rung, store.Range{}, ladder, false)
			require.NoError(t, err)
		}
		mail("d1", 1, []string{"letter"})
		mail("d2", 1, []string{"letter"})

		got, err := s.RecordReturnedMail(ctx, inc.ID, []string{"d1", "d3"})
		require.NoError(t, err)
		require.Equal(t, store.ReturnedMail{Returned: 1, Unreached: 1, NotMailed: []string{"d3"}}, got)
		d, err := s.GetDelivery(ctx, inc.ID, "d1", "letter")
		require.NoError(t, err)
		require.Equal(t, store.StatusFailed, d.Status)
		require.Equal(t, store.ReturnedMailReason, d.Error)
		page, err := s.AffectedPage(ctx, inc.ID, "", 10)
		require.NoError(t, err)
		require.Empty(t, page[0].ReachedBy, "d1 is not reached any more")
		require.Equal(t, "letter", page[1].ReachedBy, "d2's letter was not returned")

		again, err := s.RecordReturnedMail(ctx, inc.ID, []string{"d1"})
		require.NoError(t, err)
		require.Equal(t, store.ReturnedMail{Already: 1}, again)
		returned, unreached, err := s.ReturnedLetters(ctx, inc.ID)
		require.NoError(t, err)
		require.Equal(t, [2]int{1, 1}, [2]int{returned, unreached}, "one letter returned, its person unreached")
	})
}

// A file with some optional kinds of contact and not others: each kind it
// has lands in its own column, and the kinds it lacks are empty for all.
func TestAFileWithSomeOptionalContactsKeepsEachInItsColumn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		importPeople(t, s, "subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems,guardian_email,guardian_phone\n"+
			"g1,Tia,,,,en,SG,2015,media,mum@example.com,+6591234567\n"+
			"g2,Uma,uma@example.com,,,en,SG,1990,media,,\n")
		inc := openIncident(t, s, "INC-G", "")
		sum, err := s.Scope(ctx, store.ScopeInput{IncidentID: inc.ID, Snapshot: inc.Snapshot, Systems: []string{"media"}, Year: 2026})
		require.NoError(t, err)
		require.Equal(t, 2, sum.Subjects)
		rcp, err := s.UnreachedRecipients(ctx, inc.ID, store.Range{}, nil, 10)
		require.NoError(t, err)
		require.Len(t, rcp, 2)
		require.Equal(t, "mum@example.com", rcp[0].Contact(inventory.GuardianEmail))
		require.Equal(t, "+6591234567", rcp[0].Contact(inventory.GuardianPhone))
		require.Empty(t, rcp[0].Contact("push"))
		require.Empty(t, rcp[0].Contact("address"))
		require.Equal(t, "uma@example.com", rcp[1].Contact("email"))
		require.Empty(t, rcp[1].Contact(inventory.GuardianEmail))
	})
}
