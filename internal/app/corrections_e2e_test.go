package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/api"
)

// correctionSubjects: two Britons who read English and a German who reads
// German, all told by e-mail; the ICO's and the German authority's reports
// keep the incident open after notice.
const correctionSubjects = "subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems,consent_electronic\n" +
	"gb1,Eve Hart,gb1@example.com,,,en,GB,1975,account-db,yes\n" +
	"gb2,Finn Roe,gb2@example.com,,,en,GB,1982,account-db,yes\n" +
	"de1,Dana Vogel,de1@example.com,,,de,DE,1985,account-db,yes\n"

// TestACorrectionReachesExactlyThePeopleWhoGotTheWrongRevision: the
// English notice went out naming the wrong measures. Legal asks for a
// correction with the right ones; the notice is drafted again, another
// lawyer approves it, and it goes to the two people who read the English
// notice, titled and opened as a correction, and to nobody else: the
// German reader, whose notice was right, hears nothing more. With
// TOCSIN_RECORD_HISTORY_CORRECTION set, the run's history is written
// there for the workflows replay test.
func TestACorrectionReachesExactlyThePeopleWhoGotTheWrongRevision(t *testing.T) {
	ctx := context.Background()
	r := runSample(t, sampleOptions{subjects: correctionSubjects, done: func(v api.View) bool { return v.Status == api.StageFiling }})
	legal2 := as(r.dev, "TOCSIN_TOKEN_LEGAL2")
	sent := func() map[string][]string {
		entries, err := r.dev.Outbox.List(ctx, r.id)
		require.NoError(t, err)
		out := map[string][]string{}
		for _, e := range entries {
			if e.SubjectID != "" { // the incident's own posts, not a person's
				out[e.SubjectID] = append(out[e.SubjectID], e.Subject)
			}
		}
		return out
	}
	before := sent()
	require.Len(t, before, 3)
	for id, titles := range before {
		require.Len(t, titles, 1, "%s told once", id)
	}
	var wrong int
	for _, d := range r.view.Drafts {
		if d.Name == "notice-en" {
			wrong = d.Revision
		}
	}
	require.NotZero(t, wrong)

	path := "/api/v1/incidents/" + r.id + "/correct"
	const measures = "We revoked the leaked access key on 20 November and reset every affected password."
	err := r.responder.Do(ctx, "POST", path, api.CorrectRequest{Draft: "notice-en", Changes: map[string]string{"measures": measures}}, nil)
	require.ErrorContains(t, err, "it needs one of: legal, admin")
	err = r.legal.Do(ctx, "POST", path, api.CorrectRequest{Draft: "report-uk-ico"}, nil)
	require.ErrorContains(t, err, "only a notice to people is corrected")
	var c api.CorrectionView
	require.NoError(t, r.legal.Do(ctx, "POST", path, api.CorrectRequest{Draft: "notice-en", Changes: map[string]string{"measures": measures}}, &c))
	require.Equal(t, 1, c.Correction)
	require.Equal(t, wrong, c.From)
	err = r.legal.Do(ctx, "POST", path, api.CorrectRequest{Draft: "notice-en"}, nil)
	require.ErrorContains(t, err, "one correction of a notice at a time")

	var v api.View
	require.Eventually(t, func() bool {
		var err error
		v, err = r.pilot.View(ctx, r.id)
		require.NoError(t, err)
		require.Empty(t, v.Error)
		return len(v.Corrections) == 1 && v.Corrections[0].Status == "awaiting_approval"
	}, time.Minute, 100*time.Millisecond, "the correction is drafted for legal")
	rev := v.Corrections[0].Revision
	require.Equal(t, wrong+1, rev)
	require.Never(t, func() bool { return len(sent()["gb1"]) > 1 }, time.Second, 100*time.Millisecond, "nothing goes out before legal approves")

	// Who asked for it wrote it: another lawyer approves.
	err = r.legal.Do(ctx, "POST", "/api/v1/incidents/"+r.id+"/approve", api.DecisionRequest{Draft: "notice-en", Revision: rev}, nil)
	require.ErrorContains(t, err, "cannot approve it")
	require.NoError(t, legal2.Do(ctx, "POST", "/api/v1/incidents/"+r.id+"/approve", api.DecisionRequest{Draft: "notice-en", Revision: rev}, nil))
	require.Eventually(t, func() bool {
		var err error
		v, err = r.pilot.View(ctx, r.id)
		require.NoError(t, err)
		return v.Corrections[0].Status == "done"
	}, time.Minute, 100*time.Millisecond, "the correction goes out")
	require.Equal(t, 2, v.Corrections[0].Copies, "the two English copies")

	after := sent()
	require.Len(t, after["de1"], 1, "the German notice was right: its reader hears nothing more")
	for _, id := range []string{"gb1", "gb2"} {
		require.Len(t, after[id], 2, "%s gets the correction once", id)
		require.True(t, strings.HasPrefix(after[id][1], "Correction: "), "%s: %q", id, after[id][1])
	}
	entries, err := r.dev.Outbox.List(ctx, r.id)
	require.NoError(t, err)
	for _, e := range entries {
		if strings.HasPrefix(e.Subject, "Correction: ") {
			require.Contains(t, e.Body, "This message corrects the notice we sent you earlier")
			require.Contains(t, e.Body, measures)
		}
	}
	_, repeats, err := r.dev.Outbox.Tally(ctx, r.id)
	require.NoError(t, err)
	require.Zero(t, repeats, "no provider got the same message twice")
	require.Contains(t, timelineText(v), "correction 1 done: notice-en revision")

	r.until(t, func(v api.View) bool { return v.Status == api.StageClosed })
	require.Equal(t, after, sent(), "closing sends nothing more")
	if path := os.Getenv("TOCSIN_RECORD_HISTORY_CORRECTION"); path != "" {
		recordHistory(t, r.dev, r.id, path)
		recordKeys(t, filepath.Join(r.dir, DevCodecKeyFile), filepath.Join(filepath.Dir(path), "codec.keys"))
	}
}
