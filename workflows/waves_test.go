package workflows

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/plandata"
	"github.com/tocsin/tocsin/internal/roles"
)

// The plan itself refuses a wave it cannot run, whoever reaches it (the
// API checks roles first; someone with Temporal access alone does not go
// through the API).
func TestThePlanRefusesAWaveItCannotRun(t *testing.T) {
	legal := Actor{Identity: "legal@example.com", Role: roles.Legal}
	scoped := func() *plan {
		return &plan{p: Progress{Status: StageFiling, Scope: &plandata.ScopeSummary{Subjects: 3}}}
	}
	for _, c := range []struct {
		name string
		plan func() *plan
		in   AddInput
		want string
	}{
		{"a responder", scoped, AddInput{Actor: Actor{Identity: "r@example.com", Role: roles.Responder}, Wave: 2, Systems: []string{"crm"}}, "only legal or an admin"},
		{"nothing named", scoped, AddInput{Actor: legal, Wave: 2}, "names systems, subject IDs or both"},
		{"not scoped", func() *plan { return &plan{p: Progress{Status: StageScoping}} }, AddInput{Actor: legal, Wave: 2, Systems: []string{"crm"}}, "not scoped yet"},
		{"closed", func() *plan { p := scoped(); p.p.Status = StageClosed; return p }, AddInput{Actor: legal, Wave: 2, Systems: []string{"crm"}}, "is closed"},
		{"a plan from before waves", func() *plan { p := scoped(); p.noWaves = true; return p }, AddInput{Actor: legal, Wave: 2, Systems: []string{"crm"}}, "began before follow-up waves"},
		{"an old wave again", func() *plan { p := scoped(); p.p.Waves = []WaveState{{Number: 3}}; return p }, AddInput{Actor: legal, Wave: 3, Systems: []string{"crm"}}, "not newer than wave 3"},
		{"too many systems", scoped, AddInput{Actor: legal, Wave: 2, Systems: make([]string, MaxWaveSystems+1)}, "at most 100"},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.ErrorContains(t, c.plan().checkAdd(c.in), c.want)
		})
	}
	require.NoError(t, scoped().checkAdd(AddInput{Actor: legal, Wave: 2, Systems: []string{"crm"}}))
	require.NoError(t, scoped().checkAdd(AddInput{Actor: Actor{Identity: "a@example.com", Role: roles.Admin}, Wave: 2, Named: 5, SubjectsFile: "more.csv"}))
}
