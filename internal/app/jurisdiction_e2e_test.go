package app

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/client"
	"github.com/tocsin/tocsin/internal/store"
)

// nzLaw is a jurisdiction the built-in playbooks do not have, written the
// way an operator would: one law file, no zone (New Zealand's is known).
const nzLaw = `jurisdiction: NZ
name: New Zealand (Privacy Act 2020)
obligations:
  - name: nz-privacy-commissioner
    audience: regulator
    regulator: Office of the Privacy Commissioner (NotifyUs)
    owner: legal
    applies_when: "sensitive > 0 || credentials"
    anchor: awareness
    # The Act says "as soon as practicable"; the Commissioner expects 72 hours.
    due: 72h
    content: [description, categories, subjects, impact, measures, contact]
    methods: [portal]
    template: report-nz
    sources: ["Privacy Act 2020 s 114"]
  - name: nz-individuals
    audience: individuals
    owner: security
    applies_when: "sensitive > 0 || credentials"
    anchor: awareness
    due: practicable
    content: [description, impact, measures, advice, contact]
    methods: [onsite, email, sms, voice]
    template: notice-nz
    sources: ["Privacy Act 2020 s 115"]
`

// nzForm is the operator's own layout for the Commissioner's NotifyUs form,
// using the blocks the built-in forms share.
const nzForm = `{{define "title"}}NotifyUs privacy breach notification: {{.Title}}{{end}}
{{define "body"}}{{template "header" .}}
NotifyUs question 1, what happened: {{.Field "description"}}
NotifyUs question 2, who is affected: {{.Subjects}} people in New Zealand
{{template "contacts" .}}
{{end}}
`

// nzNotice is the operator's own notice to New Zealand's residents, in
// every rendering a channel carries.
const nzNotice = `{{define "title"}}Privacy breach notice under the Privacy Act 2020: {{.Title}}{{end}}
{{define "body"}}Kia ora. {{.Field "description"}}
What you can do: {{.Field "advice"}}
You may complain to the Privacy Commissioner (privacy.org.nz).
{{end}}
{{define "sms"}}Privacy breach notice ({{.IncidentID}}): see your email or account.{{end}}
{{define "voice"}}This is a privacy breach notice under New Zealand's Privacy Act.{{end}}
`

// operatorPlaybooks is the default playbook, any hour, whose law also
// names nz, with law/nz.yaml holding law and templates/report-nz.tmpl the
// report form it names.
func operatorPlaybooks(t *testing.T, law string) string {
	t.Helper()
	dir := anyHourPlaybooks(t)
	pb := filepath.Join(dir, "default.yaml")
	data, err := os.ReadFile(pb)
	require.NoError(t, err)
	withNZ := strings.Replace(string(data), "law: [cn,", "law: [nz, cn,", 1)
	require.NotEqual(t, string(data), withNZ, "the default playbook's law list moved")
	require.NoError(t, os.WriteFile(pb, []byte(withNZ), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "law"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "law", "nz.yaml"), []byte(law), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "templates"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "templates", "report-nz.tmpl"), []byte(nzForm), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "templates", "notice-nz.tmpl"), []byte(nzNotice), 0o644))
	return dir
}

// TestAnOperatorAddsAJurisdictionWithALawFile: a law file in the operator's
// --playbooks directory (with, where the law prescribes a layout, its own
// report and notice forms) is all a new jurisdiction takes. A broken one stops
// Tocsin from starting, naming its file and line; a good one has its duties
// assessed for the incident's residents there, on New Zealand's clock.
func TestAnOperatorAddsAJurisdictionWithALawFile(t *testing.T) {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	broken := operatorPlaybooks(t, strings.Replace(nzLaw, "due: 72h", "due: soonish", 1))
	_, err := StartDev(ctx, DevConfig{DataDir: t.TempDir(), Listen: "127.0.0.1:0", PlaybookDir: broken, Log: quiet})
	require.ErrorContains(t, err, filepath.Join(broken, "law", "nz.yaml")+":11: due: \"soonish\"")

	d, err := StartDev(ctx, DevConfig{DataDir: t.TempDir(), Listen: "127.0.0.1:0", BatchSize: 16, ReceiptPoll: 50 * time.Millisecond,
		PlaybookDir: operatorPlaybooks(t, nzLaw), Log: quiet})
	require.NoError(t, err)
	defer d.Stop()

	// The sample inventory, with three of its people living in New Zealand.
	dir := t.TempDir()
	subjects, err := os.ReadFile(filepath.Join(scenario, "subjects.csv"))
	require.NoError(t, err)
	lines := strings.Split(string(subjects), "\n")
	for i, who := range []string{"s00003", "s00005", "s00007"} {
		for j, l := range lines {
			if strings.HasPrefix(l, who+",") {
				f := strings.Split(l, ",")
				f[6] = "NZ"
				lines[j] = strings.Join(f, ",")
				break
			}
			require.Less(t, j, len(lines)-1, "subject %d (%s) not in the sample", i, who)
		}
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "subjects.csv"), []byte(strings.Join(lines, "\n")), 0o600))
	responder := as(d, "TOCSIN_TOKEN_RESPONDER")
	require.NoError(t, responder.ImportInventory(ctx, filepath.Join(scenario, "systems.yaml"), filepath.Join(dir, "subjects.csv"), 0, nil, nil))

	incYAML, err := os.ReadFile(filepath.Join(scenario, "incident.yaml"))
	require.NoError(t, err)
	// An incident whose playbook cannot load is refused with the reason,
	// not left to stop at its first step.
	err = responder.Do(ctx, "POST", "/api/v1/incidents", api.OpenRequest{File: "incident.yaml", YAML: strings.Replace(string(incYAML), "playbook: default", "playbook: nowhere", 1)}, nil)
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusUnprocessableEntity, apiErr.Status)
	require.ErrorContains(t, err, `incident.yaml: playbook: playbook "nowhere": nowhere.yaml not found`)
	list, err := d.Store.ListIncidents(ctx, store.IncidentQuery{})
	require.NoError(t, err)
	require.Empty(t, list.Incidents, "nothing was opened")

	v := waitStatus(t, responder, openIncident(t, responder, string(incYAML)), api.StageAwaitApproval)

	nz := map[string]api.ObligationView{}
	for _, o := range v.Obligations {
		if o.Jurisdiction == "NZ" {
			nz[o.Name] = o
		}
	}
	require.Contains(t, nz, "nz-privacy-commissioner", "obligations: %+v", v.Obligations)
	require.Contains(t, nz, "nz-individuals")
	require.Equal(t, "NZ", v.Obligations[0].Jurisdiction, "the playbook lists nz first")
	reg := nz["nz-privacy-commissioner"]
	require.Equal(t, "Pacific/Auckland", reg.Zone)
	require.NotNil(t, reg.DueAt)
	require.Equal(t, reg.AnchorAt.Add(72*time.Hour), *reg.DueAt)
	require.Contains(t, reg.DueLocal, "Pacific/Auckland")
	require.Equal(t, 3, v.Scope.ByRegion["NZ"])
	names := map[string]bool{}
	for _, dr := range v.Drafts {
		names[dr.Name] = true
	}
	require.True(t, names["report-nz-privacy-commissioner"], "drafts: %v", names)
	var text string
	require.NoError(t, responder.Do(ctx, "GET", "/api/v1/incidents/"+v.ID+"/drafts/report-nz-privacy-commissioner?format=text", nil, &text))
	require.Contains(t, text, "NotifyUs question 2, who is affected: 3 people in New Zealand", "the operator's own form")
	require.True(t, names["notice-nz"], "New Zealand's residents get the operator's notice: %v", names)
	require.NoError(t, responder.Do(ctx, "GET", "/api/v1/incidents/"+v.ID+"/drafts/notice-nz?format=text", nil, &text))
	require.Contains(t, text, "You may complain to the Privacy Commissioner")
}
