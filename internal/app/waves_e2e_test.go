package app

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/activities"
	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/apiclient"
)

// waveSubjects: two Texans and a Briton whose account data the incident's
// systems hold (the ICO's report keeps the incident open after notice),
// and three people forensics finds later in the media SaaS tenant (not
// one of the incident's systems): a German, whom no duty covered yet, a
// Texan and a Briton (the ICO, already reported to, gets a supplementary
// report).
const waveSubjects = "subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems,consent_electronic\n" +
	"tx1,Ann Lee,tx1@example.com,,,en,US-TX,1980,account-db,yes\n" +
	"tx2,Bo Tan,tx2@example.com,,,en,US-TX,1990,account-db,yes\n" +
	"gb1,Eve Hart,gb1@example.com,,,en,GB,1975,account-db,yes\n" +
	"de1,Dana Vogel,de1@example.com,,,de,DE,1985,sg-saas,yes\n" +
	"tx3,Cy Ortiz,tx3@example.com,,,en,US-TX,1970,sg-saas,yes\n" +
	"gb2,Finn Roe,gb2@example.com,,,en,GB,1982,sg-saas,yes\n"

// TestAFollowUpWaveTellsOnlyItsNewPeopleAndAddsItsDuty: once the first
// notice is out and the incident waits for its filings, legal adds the
// SaaS tenant forensics found was reached too. The plan adds its three
// people, finds the duty the German brings, drafts only what is new for
// legal (and the ICO's report again, with the new totals), and once legal
// approves tells exactly the three new people; nobody told before is told
// again. With TOCSIN_RECORD_HISTORY_WAVE set, the
// run's history is written there for the workflows replay test.
func TestAFollowUpWaveTellsOnlyItsNewPeopleAndAddsItsDuty(t *testing.T) {
	ctx := context.Background()
	r := runSample(t, sampleOptions{subjects: waveSubjects, done: func(v api.View) bool { return v.Status == api.StageFiling }})
	before := r.view
	require.Equal(t, 3, before.Scope.Subjects)
	var duties []string
	for _, o := range before.Obligations {
		duties = append(duties, o.Name)
	}
	drafted := map[string]int{}
	for _, d := range before.Drafts {
		drafted[d.Name] = d.Revision
	}
	told := func() map[string]int {
		tally, repeats, err := r.dev.Outbox.Tally(ctx, r.id)
		require.NoError(t, err)
		require.Zero(t, repeats, "no provider got the same message twice")
		out := map[string]int{}
		for k, n := range tally {
			out[k[0]] += n
		}
		return out
	}
	require.Equal(t, map[string]int{"tx1": 1, "tx2": 1, "gb1": 1}, told())

	// A responder may not add people; legal may. A system the snapshot
	// lacks is refused by name and nothing is kept.
	err := r.responder.Do(ctx, "POST", "/api/v1/incidents/"+r.id+"/waves", api.AddRequest{Systems: []string{"sg-saas"}}, nil)
	require.ErrorContains(t, err, "it needs one of: legal, admin")
	err = r.legal.Do(ctx, "POST", "/api/v1/incidents/"+r.id+"/waves", api.AddRequest{Systems: []string{"sg-sass"}}, nil)
	require.ErrorContains(t, err, `system "sg-sass" is not in inventory snapshot`)

	// The same from Slack.
	require.Contains(t, slackUser{t, r.dev, "UDEVRESPONDER"}.command("add "+r.id+" sg-saas"), "may not add people to an incident; legal and admins may")
	require.Contains(t, slackUser{t, r.dev, "UDEVLEGAL"}.command("add "+r.id+" sg-sass"), `Nobody was added: system "sg-sass" is not in inventory snapshot`)

	var w api.WaveView
	require.NoError(t, r.legal.Do(ctx, "POST", "/api/v1/incidents/"+r.id+"/waves", api.AddRequest{Systems: []string{"sg-saas"}}, &w))
	require.Equal(t, 2, w.Wave, "the incident's own scope is wave 1")
	require.Equal(t, "legal@example.com", w.RequestedBy)

	var v api.View
	require.Eventually(t, func() bool {
		var err error
		v, err = r.pilot.View(ctx, r.id)
		require.NoError(t, err)
		require.Empty(t, v.Error)
		return len(v.Waves) == 1 && v.Waves[0].Status == "awaiting_approval"
	}, 2*time.Minute, 100*time.Millisecond, "the wave is scoped, assessed and drafted")
	wave := v.Waves[0]
	require.Equal(t, 3, wave.Added)
	require.Equal(t, 6, v.Scope.Subjects)
	require.NotEmpty(t, wave.Duties, "the German brings a duty of German law")
	for _, name := range wave.Duties {
		require.NotContains(t, duties, name, "only duties that were not there before")
		o := obligationNamed(t, v, name)
		require.Equal(t, "EU", o.Jurisdiction)
	}
	require.Contains(t, wave.Duties, "eu-gdpr-authority/initial")
	require.Contains(t, wave.Drafts, activities.ReportDraftName("eu-gdpr-authority/initial"), "the new report is drafted for legal")
	for _, d := range v.Drafts {
		if d.Name == "report-uk-ico" {
			require.Equal(t, api.DraftPending, d.Status, "the ICO's report is drafted again with the new totals")
			require.Equal(t, drafted[d.Name]+1, d.Revision)
			continue
		}
		if rev, ok := drafted[d.Name]; ok {
			require.Equal(t, api.DraftApproved, d.Status, "%s was approved and is not drafted again", d.Name)
			require.Equal(t, rev, d.Revision)
			continue
		}
		require.Contains(t, wave.Drafts, d.Name)
		require.Equal(t, api.DraftPending, d.Status)
	}
	require.Contains(t, wave.Drafts, "notice-de", "the German reads a notice in German")
	require.Equal(t, []string{"report-uk-ico"}, wave.Supplementary)
	require.Never(t, func() bool { return len(told()) > 3 }, time.Second, 100*time.Millisecond, "nobody new is told before legal approves")

	for _, d := range v.Drafts {
		if d.Status == api.DraftPending {
			require.NoError(t, r.legal.Do(ctx, "POST", "/api/v1/incidents/"+r.id+"/approve", api.DecisionRequest{Draft: d.Name, Revision: d.Revision, Comment: "English may go: the German text follows"}, nil))
		}
	}
	require.Eventually(t, func() bool {
		var err error
		v, err = r.pilot.View(ctx, r.id)
		require.NoError(t, err)
		return v.Waves[0].Status == "done"
	}, 2*time.Minute, 100*time.Millisecond, "the wave tells its people")
	require.Equal(t, map[string]int{"tx1": 1, "tx2": 1, "gb1": 1, "de1": 1, "tx3": 1, "gb2": 1}, told(), "exactly the new people are told, once")
	require.Equal(t, 6, v.Notifications.Reached)
	for _, name := range wave.Duties {
		if o := obligationNamed(t, v, name); o.Audience == "individuals" {
			require.Equal(t, api.FilingSubmitted, o.Status, "%s is met by the wave's notice", name)
		}
	}
	require.Contains(t, timelineText(v), "wave 2: 3 more people affected, 6 in all")

	// A list of people, as the CLI uploads it: an ID the snapshot lacks is
	// refused by file and line; people already affected add nobody.
	calls := apiclient.New(r.legal)
	list := filepath.Join(t.TempDir(), "more.csv")
	require.NoError(t, os.WriteFile(list, []byte("subject_id\ntx1\nzz9\n"), 0o600))
	_, err = calls.AddWave(ctx, r.id, nil, list)
	require.ErrorContains(t, err, "more.csv:3")
	require.ErrorContains(t, err, `"zz9" is not in inventory snapshot`)
	require.NoError(t, os.WriteFile(list, []byte("subject_id\ntx1\nde1\n"), 0o600))
	w, err = calls.AddWave(ctx, r.id, nil, list)
	require.NoError(t, err)
	require.Equal(t, 3, w.Wave)
	require.EqualValues(t, 2, w.Named)
	require.Eventually(t, func() bool {
		var err error
		v, err = r.pilot.View(ctx, r.id)
		require.NoError(t, err)
		return len(v.Waves) == 2 && v.Waves[1].Status == "done"
	}, time.Minute, 100*time.Millisecond)
	require.Zero(t, v.Waves[1].Added, "everyone it names was affected already")
	require.Equal(t, "more.csv", v.Waves[1].SubjectsFile)

	// The incident closes once the wave's new report is filed with the rest.
	r.until(t, func(v api.View) bool { return v.Status == api.StageClosed })
	require.Equal(t, map[string]int{"tx1": 1, "tx2": 1, "gb1": 1, "de1": 1, "tx3": 1, "gb2": 1}, told())
	err = r.legal.Do(ctx, "POST", "/api/v1/incidents/"+r.id+"/waves", api.AddRequest{Systems: []string{"device-logs"}}, nil)
	require.ErrorContains(t, err, "is closed: open a follow-up incident")
	if path := os.Getenv("TOCSIN_RECORD_HISTORY_WAVE"); path != "" {
		recordHistory(t, r.dev, r.id, path)
		recordKeys(t, filepath.Join(r.dir, DevCodecKeyFile), filepath.Join(filepath.Dir(path), "codec.keys"))
	}
}

func obligationNamed(t *testing.T, v api.View, name string) api.ObligationView {
	t.Helper()
	for _, o := range v.Obligations {
		if o.Name == name {
			return o
		}
	}
	t.Fatalf("no obligation %s in %+v", name, v.Obligations)
	return api.ObligationView{}
}
