package workflows

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/activities"
	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/playbooks"
	"github.com/tocsin/tocsin/templates"
)

var hintSet = regexp.MustCompile(`--set ([a-z_]+)=("([^"]*)"|(\S+?))(?: |` + "`" + `)`)

// Every hint a responder is given for a missing fact is run as given: its
// --set pairs pass the facts update's validator, and once applied the
// field is no longer missing. (The hint once said --set occurred_at=...,
// which the validator refuses.)
func TestEveryMissingFactsHintWorks(t *testing.T) {
	empty := incident.Spec{Title: "t", DetectedAt: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)}
	cats := []string{"contact.email"}
	tried := 0
	for _, field := range playbooks.ContentFields {
		if len(templates.Missing([]string{field}, activities.FactsOf(empty, "INC-1", cats))) == 0 {
			continue // Tocsin states it itself (counts, regions, detected_at, categories)
		}
		tried++
		hint := FactsHint("INC-1", []string{field})
		require.Contains(t, hint, "`tocsin incident facts INC-1 --set ", field)
		set := map[string]string{}
		for _, m := range hintSet.FindAllStringSubmatch(hint, -1) {
			v := m[3]
			if v == "" {
				v = m[4]
			}
			set[m[1]] = v
		}
		require.NotEmpty(t, set, "%s: %s", field, hint)
		require.NoError(t, checkSettable(set), "%s: %s", field, hint)
		spec := empty
		p := &plan{spec: spec}
		p.setFacts(set)
		require.Empty(t, templates.Missing([]string{field}, activities.FactsOf(p.spec, "INC-1", cats)), "%s is still missing after %s", field, hint)
	}
	require.GreaterOrEqual(t, tried, 10, "the content fields a law can require")
}

func TestAFactLongerThanANoticeCanCarryIsRefused(t *testing.T) {
	require.ErrorContains(t, checkSettable(map[string]string{"cause": strings.Repeat("x", MaxFactBytes+1)}), "cause: 8193 bytes is longer than a notice can carry")
	require.NoError(t, checkSettable(map[string]string{"cause": strings.Repeat("x", MaxFactBytes)}))
	require.ErrorContains(t, checkSettable(map[string]string{"inquiry_url": "call us"}), `inquiry_url "call us": want an address`)
	require.ErrorContains(t, checkSettable(map[string]string{"inquiry_phone": strings.Repeat("1", 201)}), "inquiry_phone: at most 200 bytes")
}

func TestAnUnknownFactIsNamedTheSameWayEveryTime(t *testing.T) {
	for range 20 {
		err := checkSettable(map[string]string{"zeta": "1", "alpha": "2", "cause": "c"})
		require.ErrorContains(t, err, `"alpha" is not a fact a draft states`)
	}
}

// Facts set while a draft is being rendered (with the facts as they were)
// reach it: it is drafted again after, with them.
func TestFactsSetWhileADraftRendersReachIt(t *testing.T) {
	var mu sync.Mutex
	var causes []string
	env := setup(t, 0, overrides{drafts: func(_ context.Context, in activities.DraftInput) (activities.DraftResult, error) {
		mu.Lock()
		causes = append(causes, in.Spec.Facts["cause"])
		mu.Unlock()
		name := "notice-en"
		if len(in.Only) > 0 {
			name = in.Only[0]
		}
		return activities.DraftResult{Drafts: []activities.DraftInfo{{Name: name, Kind: activities.KindNotice, Revision: in.Revision, Author: in.Author}}}, nil
	}, draftsTake: 10 * time.Second})
	responder := Actor{Identity: "r2@example.com", Role: "responder"}
	var second *updateResult
	env.RegisterDelayedCallback(func() {
		update(env, UpdateFacts, FactsInput{Actor: responder, Set: map[string]string{"cause": "first"}})
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		second = update(env, UpdateFacts, FactsInput{Actor: responder, Set: map[string]string{"cause": "second"}})
	}, time.Minute+5*time.Second)
	env.RegisterDelayedCallback(func() { env.CancelWorkflow() }, time.Hour)
	env.ExecuteWorkflow(IncidentWorkflowName, input())
	require.NoError(t, second.rejected)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, "second", causes[len(causes)-1], "the last render carries the last facts: %v", causes)
}
