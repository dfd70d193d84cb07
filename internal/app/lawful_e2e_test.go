package app

import (
	"bytes"
	"context"
	"encoding/csv"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/apiclient"
	"github.com/tocsin/tocsin/internal/client"
	"github.com/tocsin/tocsin/internal/devtools/autopilot"
	"github.com/tocsin/tocsin/internal/senders"
)

// lawfulPeople are US residents of a breach of health data, where HIPAA
// accepts a letter, or an e-mail from people who agreed to electronic
// notice; a New Yorker under New York's law as well; and a Singaporean,
// whom any reasonable manner reaches.
const lawfulPeople = "subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems,address_line1,address_line2,address_city,address_state,address_postal_code,address_country,consent_electronic\n" +
	"h1,Hal Patient,hal@example.com,+14155550101,,en,US-FL,1970,account-db,1 Bay Rd,,Miami,FL,33101,US,\n" +
	"h2,Ida Patient,ida@example.com,,,en,US-FL,1971,account-db,2 Bay Rd,,Miami,FL,33101,US,yes\n" +
	"n1,Ned Yorker,ned@example.com,+12125550102,acct-n1,en,US-NY,1972,account-db,3 Park Ave,,New York,NY,10016,US,no\n" +
	"n2,Nia Yorker,nia@example.com,,,en,US-NY,1973,account-db,,,,,,,yes\n" +
	"x1,Xin Nowhere,,+14155550103,,en,US-FL,1974,account-db,,,,,,,\n" +
	"s1,Sam Tan,sam@example.com,,,en,SG,1974,account-db,,,,,,,\n"

// TestEachPersonIsToldOnlyByLawfulChannels: the ladder keeps, for each
// person, only the channels every duty to them accepts. A HIPAA patient
// or a New Yorker without consent gets a letter though they have an
// e-mail address (and a phone); with consent, an e-mail and no letter; a
// person no lawful channel reaches is unreached, and so counts towards
// substitute notice; elsewhere any channel will do. incident show counts
// what each channel may lawfully reach.
func TestEachPersonIsToldOnlyByLawfulChannels(t *testing.T) {
	ctx := context.Background()
	r := runSampleIncidentWith(t, lawfulPeople, "health_data: true", nil)
	d, responder, id, v := r.dev, r.responder, r.id, r.view

	entries, err := d.Outbox.List(ctx, id)
	require.NoError(t, err)
	told := map[string][]string{}
	for _, e := range entries {
		if e.SubjectID != "" {
			told[e.SubjectID] = append(told[e.SubjectID], e.Channel)
		}
	}
	require.Equal(t, []string{"letter"}, told["h1"], "HIPAA, no consent: first-class mail, not the e-mail, SMS or call")
	require.Equal(t, []string{"email"}, told["h2"], "HIPAA with consent: e-mail, and no letter after it")
	require.Equal(t, []string{"letter"}, told["n1"], "New York (and HIPAA), consent refused: a letter")
	require.Equal(t, []string{"email"}, told["n2"])
	require.Empty(t, told["x1"], "a phone only: no lawful channel")
	require.Equal(t, []string{"email"}, told["s1"])
	require.Equal(t, 1, v.Notifications.Failed, "x1 is unreached, towards substitute notice")

	// E-mail may reach h2, n2 and s1; a letter h1, h2 and n1 (the ladder
	// reaches h2 by e-mail first). No call or SMS may reach a US resident
	// here, though three have phones.
	require.Equal(t, map[string]int{"onsite": 0, "email": 3, "sms": 0, "voice": 0, "push": 0, "letter": 3}, v.Scope.Lawful)
	require.Equal(t, 3, v.Scope.Reachable["phone"])

	// The evidence states, per duty, how each person it covers was told.
	var byDuty bytes.Buffer
	require.NoError(t, apiclient.New(responder).NoticeByDuty(ctx, id, &byDuty))
	rows, err := csv.NewReader(&byDuty).ReadAll()
	require.NoError(t, err)
	require.Equal(t, api.NoticeByDutyHeader, rows[0])
	for _, want := range [][]string{
		{"us-hipaa-individuals", "US-HIPAA", "h1", "US-FL", "letter", "letter", ""},
		{"us-hipaa-individuals", "US-HIPAA", "h2", "US-FL", "letter+email", "email", ""},
		{"us-ny-individuals", "US-NY", "n1", "US-NY", "letter+voice", "letter", ""},
		{"us-hipaa-individuals", "US-HIPAA", "n1", "US-NY", "letter", "letter", ""},
		{"us-hipaa-individuals", "US-HIPAA", "x1", "US-FL", "letter", "", ""},
		{"sg-individuals", "SG", "s1", "SG", "onsite+email+sms+voice+push+letter", "email", ""},
	} {
		require.Contains(t, rows, want)
	}
}

// sampleRun is an incident of the sample breach run to closed over people
// of a test's own.
type sampleRun struct {
	dev              *Dev
	responder, legal *client.Client
	pilot            *autopilot.Pilot
	id               string
	view             api.View
	// dir is the dev server's data directory.
	dir string
}

// runSampleIncidentWith starts tocsin dev (any hour), imports the sample's
// systems with subjects, opens the sample incident with extra lines in its
// file, lets before change the dev server first, and lets the autopilot
// approve and file until the incident closes.
func runSampleIncidentWith(t *testing.T, subjects, extra string, before func(*Dev)) sampleRun {
	t.Helper()
	return runSampleIncidentUntil(t, subjects, extra, before, func(v api.View) bool { return v.Status == api.StageClosed })
}

// runSampleIncidentUntil is runSampleIncidentWith, run until the view is
// as done says.
func runSampleIncidentUntil(t *testing.T, subjects, extra string, before func(*Dev), done func(api.View) bool) sampleRun {
	t.Helper()
	return runSample(t, sampleOptions{subjects: subjects, extra: extra, before: before, done: done})
}

// sampleOptions vary the sample incident: its people, lines added to its
// incident file, the playbook directory, drafts the pilot leaves to the
// test, and when to stop.
type sampleOptions struct {
	subjects, extra string
	before          func(*Dev)
	incident        func(yaml string) string
	playbook        func(dir string)
	leave           func(api.DraftView) bool
	done            func(api.View) bool
	// rates pace the dev server's channels (none: unpaced); ceilings
	// bound what an admin may raise them to.
	rates, ceilings senders.Rates
	// faults slow the local peers (tocsin dev --peer-faults); narrow
	// sends one message at a time, for a campaign the peers' pace bounds.
	faults string
	narrow bool
}

func runSample(t *testing.T, o sampleOptions) sampleRun {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	pb := anyHourPlaybooks(t)
	if o.playbook != nil {
		o.playbook(pb)
	}
	cfg := DevConfig{DataDir: dir, Listen: "127.0.0.1:0", BatchSize: 8, ReceiptPoll: 50 * time.Millisecond, Rates: o.rates, RateCeilings: o.ceilings,
		PlaybookDir: pb, Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))}
	if o.faults != "" {
		cfg.PeerFaults = mustFaults(t, o.faults)
	}
	if o.narrow {
		cfg.PartitionWindow, cfg.BatchWindow, cfg.SendLanes = 1, 1, 1
	}
	d, err := StartDev(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(d.Stop)
	if o.before != nil {
		o.before(d)
	}
	file := filepath.Join(t.TempDir(), "subjects.csv")
	require.NoError(t, os.WriteFile(file, []byte(o.subjects), 0o600))
	r := sampleRun{dev: d, dir: dir, responder: as(d, "TOCSIN_TOKEN_RESPONDER"), legal: as(d, "TOCSIN_TOKEN_LEGAL")}
	require.NoError(t, r.responder.ImportInventory(ctx, filepath.Join(scenario, "systems.yaml"), file, 0, nil, nil))
	incYAML, err := os.ReadFile(filepath.Join(scenario, "incident.yaml"))
	require.NoError(t, err)
	text := strings.Replace(string(incYAML), "drill: false", "drill: false\n"+o.extra, 1)
	if o.incident != nil {
		text = o.incident(text)
	}
	r.id = openIncident(t, r.responder, text)
	r.pilot = &autopilot.Pilot{Responder: r.responder, Legal: r.legal, Leave: o.leave}
	r.until(t, o.done)
	return r
}

// until steers the incident until the view is as done says.
func (r *sampleRun) until(t *testing.T, done func(api.View) bool) {
	t.Helper()
	ctx := context.Background()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var err error
		r.view, err = r.pilot.View(ctx, r.id)
		require.NoError(c, err)
		if done(r.view) {
			return
		}
		require.NoError(c, r.pilot.Step(ctx, r.view))
		c.Errorf("status %s, timeline: %+v", r.view.Status, r.view.Timeline)
	}, 3*time.Minute, 100*time.Millisecond)
}
