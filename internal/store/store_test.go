package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/store/storetest"
)

const systemsYAML = `systems:
  - id: crm
    name: CRM
    location: SG
    categories: [contact.email, contact.phone, account.profile]
  - id: media
    name: Persona media
    location: CN
    categories: [biometric.face, content.generated]
`

const header = "subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems\n"

// people: u1..u6 with a spread of regions, systems, ages and contacts.
const people = header +
	"u1,Ann,ann@example.com,+6591234567,acct-1,en,SG,1980,crm\n" +
	"u2,Bo,,+8613800000002,,zh-CN,CN,2012,media\n" +
	"u3,Cy,cy@example.com,,,en,US-CA,1990,crm;media\n" +
	"u4,Di,,,,en,US-NY,1975,media\n" +
	"u5,Ed,ed@example.com,,acct-5,de,DE,2001,crm\n" +
	"u6,Fa,fa@example.com,,,zh-HK,HK,1999,media;crm\n"

func importPeople(t *testing.T, s *store.Store, csv string) store.ImportResult {
	t.Helper()
	res, err := s.ImportInventory(context.Background(), store.ImportInput{SystemsFile: "systems.yaml", Systems: strings.NewReader(systemsYAML),
		SubjectsFile: "subjects.csv", Subjects: strings.NewReader(csv), ImportedBy: "responder@example.com"})
	require.NoError(t, err)
	return res
}

func openIncident(t *testing.T, s *store.Store, id string, named string) store.Incident {
	t.Helper()
	ctx := context.Background()
	snap, err := s.CurrentSnapshot(ctx)
	require.NoError(t, err)
	inc := store.Incident{ID: id, Title: "t", Spec: incident.Spec{Title: "t"}, OpenedBy: "responder@example.com", OpenedAt: time.Now(), Snapshot: snap}
	var ns *store.NamedSubjects
	if named != "" {
		ns = &store.NamedSubjects{File: "ids.txt", Reader: strings.NewReader(named)}
	}
	require.NoError(t, s.CreateIncident(ctx, inc, ns))
	got, err := s.GetIncident(ctx, id)
	require.NoError(t, err)
	return got
}

func TestScopeCountsWhatLeakedAndWhoCanBeReached(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		importPeople(t, s, people)
		inc := openIncident(t, s, "INC-1", "")
		sum, err := s.Scope(ctx, store.ScopeInput{IncidentID: inc.ID, Snapshot: inc.Snapshot, Systems: []string{"media"}, Year: 2026})
		require.NoError(t, err)
		require.Equal(t, 4, sum.Subjects) // u2 u3 u4 u6
		require.Equal(t, map[string]int{"CN": 1, "US-CA": 1, "US-NY": 1, "HK": 1}, sum.ByRegion())
		require.Equal(t, 4, sum.Sensitive) // biometric.face
		require.Equal(t, 1, sum.Minors)    // u2, born 2012
		require.Equal(t, store.RegionFacts{Subjects: 1, Sensitive: 1, Minors: 1, Locales: map[string]int{"zh-CN": 1}}, sum.Regions["CN"])
		require.Equal(t, 1, sum.NoContact) // u4
		require.Equal(t, 2, sum.WithEmail)
		require.Equal(t, 1, sum.WithPhone)
		require.Equal(t, []string{"biometric.face", "content.generated"}, sum.Categories)
		require.Equal(t, map[string]int{"zh-CN": 1, "en": 2, "zh-HK": 1}, sum.Locales)

		page, err := s.AffectedPage(ctx, inc.ID, "", 10)
		require.NoError(t, err)
		require.Len(t, page, 4)
		require.Equal(t, "u2", page[0].SubjectID)
		require.True(t, page[0].Minor)
		require.Equal(t, []string{"sms", "voice"}, page[0].Channels)
		require.Equal(t, []string{"biometric.face", "content.generated"}, page[0].Categories)
		require.Equal(t, []string{}, page[2].Channels) // u4 has no contact

		// A retry of the same scope changes nothing.
		again, err := s.Scope(ctx, store.ScopeInput{IncidentID: inc.ID, Snapshot: inc.Snapshot, Systems: []string{"media"}, Year: 2026})
		require.NoError(t, err)
		require.Equal(t, sum, again)
	})
}

func TestScopeFiltersByCategoryRegionAndNamedSubjects(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		importPeople(t, s, people)

		inc := openIncident(t, s, "INC-CAT", "")
		sum, err := s.Scope(ctx, store.ScopeInput{IncidentID: inc.ID, Snapshot: inc.Snapshot, Systems: []string{"crm", "media"}, Categories: []string{"contact.email"}, Year: 2026})
		require.NoError(t, err)
		require.Equal(t, 4, sum.Subjects, "only the crm people had contact.email leak") // u1 u3 u5 u6
		require.Zero(t, sum.Sensitive)
		require.Equal(t, []string{"contact.email"}, sum.Categories)

		inc = openIncident(t, s, "INC-REG", "")
		sum, err = s.Scope(ctx, store.ScopeInput{IncidentID: inc.ID, Snapshot: inc.Snapshot, Systems: []string{"crm", "media"}, Regions: []string{"US", "hk"}, Year: 2026})
		require.NoError(t, err)
		require.Equal(t, map[string]int{"US-CA": 1, "US-NY": 1, "HK": 1}, sum.ByRegion(), "a country matches its subdivisions")

		inc = openIncident(t, s, "INC-IDS", "# rows forensics saw read\nu5\n\nu2\nu2\n")
		require.EqualValues(t, 2, inc.NamedSubjects)
		require.Equal(t, "ids.txt", inc.SubjectsFile)
		sum, err = s.Scope(ctx, store.ScopeInput{IncidentID: inc.ID, Snapshot: inc.Snapshot, Systems: []string{"crm", "media"}, NamedOnly: true, Year: 2026})
		require.NoError(t, err)
		require.Equal(t, map[string]int{"CN": 1, "DE": 1}, sum.ByRegion())

		// A CSV with a subject_id column works too.
		inc = openIncident(t, s, "INC-CSV", "row,subject_id\n1,u1\n2,u3\n")
		require.EqualValues(t, 2, inc.NamedSubjects)

		_, err = s.Scope(ctx, store.ScopeInput{IncidentID: inc.ID, Snapshot: inc.Snapshot, Systems: []string{"nosuch"}, Year: 2026})
		require.ErrorContains(t, err, `incident names system "nosuch", which is not in inventory snapshot`)
	})
}

func TestNamedSubjectNotInInventoryRefusesTheIncident(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		res := importPeople(t, s, people)
		inc := store.Incident{ID: "INC-X", Title: "t", OpenedBy: "r", OpenedAt: time.Now(), Snapshot: res.Snapshot}
		err := s.CreateIncident(ctx, inc, &store.NamedSubjects{File: "ids.txt", Reader: strings.NewReader("u1\nu99\nu3\nzz\n")})
		var bad *store.ImportError
		require.ErrorAs(t, err, &bad)
		require.Equal(t, []string{
			fmt.Sprintf(`ids.txt:2: subject_id: "u99" is not in inventory snapshot %d`, res.Snapshot),
			fmt.Sprintf(`ids.txt:4: subject_id: "zz" is not in inventory snapshot %d`, res.Snapshot),
		}, errorLines(bad))
		_, err = s.GetIncident(ctx, "INC-X")
		require.ErrorIs(t, err, store.ErrNotFound, "nothing of a refused incident is kept")
	})
}

func errorLines(e *store.ImportError) []string {
	var out []string
	for _, r := range e.Errors {
		out = append(out, r.Error())
	}
	return out
}

func TestReimportIsANewSnapshotAndOldIncidentsKeepTheirs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		first := importPeople(t, s, people)
		old := openIncident(t, s, "INC-OLD", "")

		second := importPeople(t, s, header+"v1,Vi,vi@example.com,,,en,SG,1980,media\n")
		require.Greater(t, second.Snapshot, first.Snapshot)
		require.Equal(t, first.Snapshot, second.Previous)
		cur, err := s.CurrentSnapshot(ctx)
		require.NoError(t, err)
		require.Equal(t, second.Snapshot, cur)

		sum, err := s.Scope(ctx, store.ScopeInput{IncidentID: old.ID, Snapshot: old.Snapshot, Systems: []string{"media"}, Year: 2026})
		require.NoError(t, err)
		require.Equal(t, 4, sum.Subjects, "the old incident scopes the inventory it was opened on")
		require.Equal(t, first.Snapshot, sum.Snapshot)

		snaps, err := s.Snapshots(ctx)
		require.NoError(t, err)
		require.Len(t, snaps, 2)
		require.True(t, snaps[0].Current)
		require.EqualValues(t, 1, snaps[0].Subjects)
	})
}

// A spreadsheet saved by Excel: BOM, CRLF, Windows-1252 text, numbers turned
// into scientific notation, a stray quote, a short row and a repeated ID.
func TestDirtyExcelExportIsRefusedExactlyAndKeepsThePreviousInventory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		before := importPeople(t, s, people)
		dirty := "\ufeff" + strings.ReplaceAll(header, "\n", "\r\n") +
			"u1,Ann,ann@example.com,+6591234567,,en,SG,1980,crm\r\n" +
			"u2,Jos\xe9,jose@example.com,8.61381E+12,,es,ES,1990,crm\r\n" +
			"u3,Cy,cy@example,,,en,XX,1990,crm\r\n" +
			"u4,Di,,,,en,US-NY,1975\r\n" +
			"u5,\"Ed,ed@example.com,,,en,DE,2001,crm\r\n"
		_, err := s.ImportInventory(ctx, store.ImportInput{SystemsFile: "systems.yaml", Systems: strings.NewReader(systemsYAML),
			SubjectsFile: "export.csv", Subjects: strings.NewReader(dirty)})
		var bad *store.ImportError
		require.ErrorAs(t, err, &bad)
		require.Equal(t, []string{
			`export.csv:3: name: invalid UTF-8: save the file as UTF-8`,
			`export.csv:3: phone: "8.61381E+12" is not an E.164 number (+ then country code and number, no spaces)`,
			`export.csv:4: email: "cy@example" is not a valid email address`,
			`export.csv:4: region: "XX" is not an ISO 3166-1 or 3166-2 region code`,
			`export.csv:5: wrong number of columns`,
			`export.csv:6: broken quotes: a quoted field must end with a quote, and quotes inside it are doubled`,
		}, errorLines(bad))
		require.EqualValues(t, 5, bad.Rows)
		require.EqualValues(t, 4, bad.Rejected)
		require.EqualValues(t, 1, bad.Accepted)
		require.Contains(t, bad.Summary(), fmt.Sprintf("snapshot %d stays current", before.Snapshot))

		cur, err := s.CurrentSnapshot(ctx)
		require.NoError(t, err)
		require.Equal(t, before.Snapshot, cur)
		snaps, err := s.Snapshots(ctx)
		require.NoError(t, err)
		require.Len(t, snaps, 1, "a refused import leaves no snapshot behind")
		inc := openIncident(t, s, "INC-AFTER", "")
		sum, err := s.Scope(ctx, store.ScopeInput{IncidentID: inc.ID, Snapshot: inc.Snapshot, Systems: []string{"crm"}, Year: 2026})
		require.NoError(t, err)
		require.Equal(t, 4, sum.Subjects)
	})
}

func TestDuplicateIDsAreReportedWithTheFirstLine(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		_, err := s.ImportInventory(context.Background(), store.ImportInput{SystemsFile: "systems.yaml", Systems: strings.NewReader(systemsYAML),
			SubjectsFile: "subjects.csv", Subjects: strings.NewReader(header +
				"a,,,,x,en,SG,,crm\nb,,,,x,en,SG,,crm\na,,,,x,en,SG,,crm\nc,,,,x,en,SG,,crm\nb,,,,x,en,SG,,crm\n")})
		var bad *store.ImportError
		require.ErrorAs(t, err, &bad)
		require.Equal(t, []string{
			`subjects.csv:4: subject_id: duplicate subject "a" (first on line 2)`,
			`subjects.csv:6: subject_id: duplicate subject "b" (first on line 3)`,
		}, errorLines(bad))
		_, err = s.CurrentSnapshot(context.Background())
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}

func TestMaxErrorsStopsTheCheckEarly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		var b strings.Builder
		b.WriteString(header)
		for i := range 50 {
			fmt.Fprintf(&b, "s%d,,,,x,en,ZZ,,crm\n", i)
		}
		_, err := s.ImportInventory(context.Background(), store.ImportInput{SystemsFile: "systems.yaml", Systems: strings.NewReader(systemsYAML),
			SubjectsFile: "subjects.csv", Subjects: strings.NewReader(b.String()), MaxErrors: 3})
		var bad *store.ImportError
		require.ErrorAs(t, err, &bad)
		require.Len(t, bad.Errors, 3)
		require.True(t, bad.Stopped)
		require.Contains(t, bad.Summary(), "stopped after 3 errors at row 4")
	})
}

func TestDeliveryLedgerClaimsOnceAndNeverMovesBackwards(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		d := store.Delivery{IncidentID: "INC-1", SubjectID: "u1", Channel: "sms", Rung: 2}
		ok, _, err := s.BeginDelivery(ctx, d)
		require.NoError(t, err)
		require.True(t, ok)
		ok, existing, err := s.BeginDelivery(ctx, d)
		require.NoError(t, err)
		require.False(t, ok, "a second claim must not send again")
		require.Equal(t, store.StatusSending, existing.Status)

		d.Status, d.ProviderRef = store.StatusSent, "SM1"
		require.NoError(t, s.FinishDelivery(ctx, d))
		found, err := s.UpdateDeliveryByRef(ctx, "SM1", store.StatusDelivered, "")
		require.NoError(t, err)
		require.True(t, found)
		_, err = s.UpdateDeliveryByRef(ctx, "SM1", store.StatusSent, "") // late, out of order
		require.NoError(t, err)
		got, err := s.GetDelivery(ctx, "INC-1", "u1", "sms")
		require.NoError(t, err)
		require.Equal(t, store.StatusDelivered, got.Status)
		counts, err := s.CountDeliveries(ctx, "INC-1")
		require.NoError(t, err)
		require.Equal(t, map[string]int{store.StatusDelivered: 1}, counts)
	})
}

func TestDraftsKeepTheFirstSaveOfARevision(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		d := store.Draft{IncidentID: "INC-1", Name: "notice-en", Revision: 1, Kind: "subject_notice", Locale: "en", Title: "first", Body: "b", CreatedBy: "system"}
		require.NoError(t, s.SaveDraft(ctx, d))
		d.Title = "retried"
		require.NoError(t, s.SaveDraft(ctx, d))
		d.Revision, d.Title = 2, "second"
		require.NoError(t, s.SaveDraft(ctx, d))
		latest, err := s.GetDraft(ctx, "INC-1", "notice-en", 0)
		require.NoError(t, err)
		require.Equal(t, "second", latest.Title)
		first, err := s.GetDraft(ctx, "INC-1", "notice-en", 1)
		require.NoError(t, err)
		require.Equal(t, "first", first.Title)
		_, err = s.GetDraft(ctx, "INC-1", "nosuch", 0)
		require.True(t, errors.Is(err, store.ErrNotFound))
	})
}

func TestAnEarlierSchemaIsRefusedWithAClearError(t *testing.T) {
	for _, backend := range storetest.Backends(t) {
		t.Run(backend, func(t *testing.T) {
			dsn := storetest.DSN(t, backend)
			driver := map[string]string{"sqlite": "sqlite", "postgres": "pgx"}[backend]
			db, err := sql.Open(driver, dsn)
			require.NoError(t, err)
			_, err = db.Exec(`CREATE TABLE affected (incident_id TEXT)`)
			require.NoError(t, err)
			db.Close()
			_, err = store.Open(dsn)
			require.ErrorContains(t, err, "made by an earlier Tocsin")
		})
	}
}

func TestPruneKeepsTheCurrentSnapshotAndEveryIncidentsOwn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		first := importPeople(t, s, people)
		openIncident(t, s, "INC-KEEP", "")
		second := importPeople(t, s, people)
		third := importPeople(t, s, people)
		dropped, err := s.PruneSnapshots(ctx)
		require.NoError(t, err)
		require.Equal(t, []int64{second.Snapshot}, dropped)
		snaps, err := s.Snapshots(ctx)
		require.NoError(t, err)
		require.Len(t, snaps, 2)
		require.Equal(t, third.Snapshot, snaps[0].ID)
		require.Equal(t, first.Snapshot, snaps[1].ID)
		sum, err := s.Scope(ctx, store.ScopeInput{IncidentID: "INC-KEEP", Snapshot: first.Snapshot, Systems: []string{"media"}, Year: 2026})
		require.NoError(t, err)
		require.Equal(t, 4, sum.Subjects, "the incident's own snapshot survives")
		dropped, err = s.PruneSnapshots(ctx)
		require.NoError(t, err)
		require.Empty(t, dropped)
	})
}

// Scoping reads its aggregates from the import's counts unless the incident
// names people; both ways must give the same figures for the same people.
func TestCountsAndAffectedSetAgree(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		importPeople(t, s, people)
		for i, c := range []struct {
			systems, regions, categories []string
		}{
			{[]string{"media"}, nil, nil},
			{[]string{"crm", "media"}, []string{"US", "HK"}, nil},
			{[]string{"crm", "media"}, nil, []string{"contact.email"}},
			{[]string{"crm"}, []string{"DE", "SG"}, nil},
		} {
			a := openIncident(t, s, fmt.Sprint("INC-COUNTS-", i), "")
			b := openIncident(t, s, fmt.Sprint("INC-NAMED-", i), "u1\nu2\nu3\nu4\nu5\nu6\n")
			fromCounts, err := s.Scope(ctx, store.ScopeInput{IncidentID: a.ID, Snapshot: a.Snapshot, Systems: c.systems, Regions: c.regions, Categories: c.categories, Year: 2026})
			require.NoError(t, err)
			fromRows, err := s.Scope(ctx, store.ScopeInput{IncidentID: b.ID, Snapshot: b.Snapshot, Systems: c.systems, Regions: c.regions, Categories: c.categories, NamedOnly: true, Year: 2026})
			require.NoError(t, err)
			require.Equal(t, fromRows, fromCounts, "%+v", c)
			require.NotZero(t, fromCounts.Subjects)
			page, err := s.AffectedPage(ctx, a.ID, "", 100)
			require.NoError(t, err)
			require.Len(t, page, fromCounts.Subjects, "the counts describe the rows written")
		}
	})
}

// PostgreSQL loads subjects as COPY text, where backslash, tab and line
// breaks are syntax; a name holding them must come back unchanged.
func TestNamesWithCopySyntaxRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		odd := "O\\Brien\tof \"Line\"\nTwo\r\\N end"
		importPeople(t, s, header+
			"u1,\""+strings.ReplaceAll(odd, `"`, `""`)+"\",a@example.com,,,en,SG,1980,crm\n"+
			"u2,\\N,,,,en,SG,1981,crm\n")
		inc := openIncident(t, s, "INC-ODD", "")
		_, err := s.Scope(ctx, store.ScopeInput{IncidentID: inc.ID, Snapshot: inc.Snapshot, Systems: []string{"crm"}, Year: 2026})
		require.NoError(t, err)
		page, err := s.AffectedPage(ctx, inc.ID, "", 10)
		require.NoError(t, err)
		require.Len(t, page, 2)
		require.Equal(t, odd, page[0].Name)
		require.Equal(t, `\N`, page[1].Name)
	})
}

// A subjects file with three different mistakes gets all three reported in
// one pass, in file order: a person fixing the file should not need three
// imports to find them.
func TestImportReportsEveryBadRowInOnePass(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		csv := header +
			"u1,Ann,ann@example.com,+6591234567,acct-1,en,SG,1980,crm\n" +
			"u2,Bo,,not-a-phone,,zh-CN,CN,2012,media\n" +
			"u1,Ann again,ann2@example.com,,,en,SG,1980,crm\n" +
			"u3,\"Cy,cy@example.com,,,en,US-CA,1990,crm\n" +
			"u4,Di,,,,en,US-NY,1975,media\n"
		_, err := s.ImportInventory(context.Background(), store.ImportInput{SystemsFile: "systems.yaml", Systems: strings.NewReader(systemsYAML),
			SubjectsFile: "subjects.csv", Subjects: strings.NewReader(csv), ImportedBy: "responder@example.com"})
		var refused *store.ImportError
		require.ErrorAs(t, err, &refused)
		var lines []int
		for _, e := range refused.Errors {
			lines = append(lines, e.Line)
		}
		require.Equal(t, []int{3, 4, 5}, lines, err.Error())
		require.Contains(t, err.Error(), `subjects.csv:4: subject_id: duplicate subject "u1" (first on line 2)`)
	})
}

// An API and its workers start at once on a fresh PostgreSQL store: every
// one of them opens it, whoever migrates first.
func TestProcessesStartingTogetherAllOpenAFreshStore(t *testing.T) {
	for _, backend := range storetest.Backends(t) {
		t.Run(backend, func(t *testing.T) {
			dsn := storetest.DSN(t, backend)
			errs := make(chan error, 6)
			for range cap(errs) {
				go func() {
					s, err := store.Open(dsn)
					if err == nil {
						s.Close()
					}
					errs <- err
				}()
			}
			for range cap(errs) {
				require.NoError(t, <-errs)
			}
		})
	}
}

// A rate window grants its limit and no more, however many processes take
// from it at once: two workers hold one provider rate.
func TestARateWindowGrantsItsLimitAcrossProcesses(t *testing.T) {
	for _, backend := range storetest.Backends(t) {
		t.Run(backend, func(t *testing.T) {
			dsn := storetest.DSN(t, backend)
			workers := make([]*store.Store, 2)
			for i := range workers {
				s, err := store.Open(dsn)
				require.NoError(t, err)
				defer s.Close()
				workers[i] = s
			}
			granted := make(chan bool, 60)
			for i := range cap(granted) {
				go func() {
					ok, err := workers[i%2].TakeRate(context.Background(), "sms", 1000, 20)
					require.NoError(t, err)
					granted <- ok
				}()
			}
			n := 0
			for range cap(granted) {
				if <-granted {
					n++
				}
			}
			require.Equal(t, 20, n, "one window, twenty sends, whoever asks")
			ok, err := workers[0].TakeRate(context.Background(), "sms", 1001, 20)
			require.NoError(t, err)
			require.True(t, ok, "the next window starts empty")
			ok, err = workers[1].TakeRate(context.Background(), "voice", 1000, 20)
			require.NoError(t, err)
			require.True(t, ok, "each channel has its own windows")
		})
	}
}

// A scope the inventory cannot answer is ErrBadScope (the incident file
// must change: the workflow does not retry it), and no inventory at all is
// ErrNotFound; anything else the database says stays a plain error, which
// Temporal retries.
func TestScopeErrorsAreTypedByWhatTheyMean(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		_, err := s.CurrentSnapshot(ctx)
		require.ErrorIs(t, err, store.ErrNotFound)
		importPeople(t, s, people)
		inc := openIncident(t, s, "INC-1", "")
		_, err = s.Scope(ctx, store.ScopeInput{IncidentID: inc.ID, Snapshot: inc.Snapshot, Systems: []string{"no-such-system"}, Year: 2026})
		require.ErrorIs(t, err, store.ErrBadScope)
		_, err = s.Scope(ctx, store.ScopeInput{IncidentID: inc.ID, Snapshot: inc.Snapshot, Systems: []string{"media"}, Regions: []string{"XX-NOWHERE"}, Year: 2026})
		require.ErrorIs(t, err, store.ErrBadScope)
		s.Close()
		_, err = s.CurrentSnapshot(ctx)
		require.Error(t, err)
		require.NotErrorIs(t, err, store.ErrNotFound, "a database that is gone is not an empty inventory")
	})
}

// Callbacks arriving at once ("delivered" beside late "sent" and
// "accepted") leave the delivery at its final status, however they
// interleave between reading the row and writing it.
func TestConcurrentCallbacksNeverMoveADeliveryBackwards(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for round := range 20 {
			d := store.Delivery{IncidentID: "INC-1", SubjectID: fmt.Sprintf("u%d", round), Channel: "sms", Rung: 1}
			_, _, err := s.BeginDelivery(ctx, d)
			require.NoError(t, err)
			ref := fmt.Sprintf("SM%d", round)
			d.Status, d.ProviderRef = store.StatusSending, ref
			require.NoError(t, s.FinishDelivery(ctx, d))
			var wg sync.WaitGroup
			for i, st := range []string{store.StatusSent, store.StatusDelivered, store.StatusAccepted, store.StatusSent, store.StatusSent, store.StatusAccepted} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if i%2 == 1 {
						runtime.Gosched()
					}
					_, err := s.UpdateDeliveryByRef(ctx, ref, st, "")
					assert.NoError(t, err)
				}()
			}
			wg.Wait()
			got, err := s.GetDelivery(ctx, "INC-1", d.SubjectID, "sms")
			require.NoError(t, err)
			require.Equal(t, store.StatusDelivered, got.Status, "round %d", round)
		}
	})
}

// A database made before migrations were numbered (no schema_migrations,
// columns added since missing) is adopted on open: the missing columns
// are added, what it had is kept, and the numbered files are recorded.
func TestADatabaseFromBeforeNumberedMigrationsIsAdopted(t *testing.T) {
	for _, backend := range storetest.Backends(t) {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			dsn := storetest.DSN(t, backend)
			s, err := store.Open(dsn)
			require.NoError(t, err)
			require.NoError(t, s.CreateIncident(ctx, store.Incident{ID: "INC-ADOPT", Title: "old", OpenedBy: "r", OpenedAt: time.Now()}, nil))
			require.NoError(t, s.Close())
			asEarlierTocsinLeftIt(t, backend, dsn, `DROP TABLE schema_migrations`, `ALTER TABLE incidents DROP COLUMN charter_run`, `ALTER TABLE incidents DROP COLUMN charter`,
				`ALTER TABLE snapshot_counts DROP COLUMN reach`, `ALTER TABLE snapshot_counts DROP COLUMN consent`, `DROP TABLE scope_reach`)

			s, err = store.Open(dsn)
			require.NoError(t, err)
			defer s.Close()
			inc, err := s.GetIncident(ctx, "INC-ADOPT")
			require.NoError(t, err)
			require.Equal(t, "old", inc.Title)
			charter := store.NewCharter()
			require.NoError(t, s.CreateIncident(ctx, store.Incident{ID: "INC-NEW", Title: "new", OpenedBy: "r", OpenedAt: time.Now(), Charter: charter}, nil))
			got, err := s.IncidentCharter(ctx, "INC-NEW")
			require.NoError(t, err)
			require.Equal(t, charter, got, "the charter column is back")
		})
	}
}

// asEarlierTocsinLeftIt runs statements on a closed store's database, as
// the SQL an earlier version would have left behind.
func asEarlierTocsinLeftIt(t *testing.T, backend, dsn string, statements ...string) {
	t.Helper()
	db, err := sql.Open(map[string]string{"sqlite": "sqlite", "postgres": "pgx"}[backend], dsn)
	require.NoError(t, err)
	defer db.Close()
	for _, q := range statements {
		_, err = db.Exec(q)
		require.NoError(t, err, q)
	}
}
