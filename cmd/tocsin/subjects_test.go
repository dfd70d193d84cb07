package main

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/store"
)

// `tocsin incident subjects` lists each affected person with how they were
// told, and says which were withheld because legal waived their duty.
func TestIncidentSubjectsSaysWhoWasWithheld(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(filepath.Join(t.TempDir(), "t.db"))
	require.NoError(t, err)
	defer st.Close()
	_, err = st.ImportInventory(ctx, store.ImportInput{SystemsFile: "systems.yaml", Systems: strings.NewReader("systems:\n  - id: crm\n    name: CRM\n    location: SG\n    categories: [contact.email]\n"),
		SubjectsFile: "subjects.csv", Subjects: strings.NewReader("subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems\nu1,Ann,ann@example.com,,,en,SG,1980,crm\nu2,Bo,bo@example.com,,,zh-HK,HK,1990,crm\n")})
	require.NoError(t, err)
	snap, err := st.CurrentSnapshot(ctx)
	require.NoError(t, err)
	require.NoError(t, st.CreateIncident(ctx, store.Incident{ID: "INC-W", Title: "t", OpenedBy: "r@example.com", OpenedAt: time.Now(), Snapshot: snap}, nil))
	_, err = st.Scope(ctx, store.ScopeInput{IncidentID: "INC-W", Snapshot: snap, Systems: []string{"crm"}, Year: 2026})
	require.NoError(t, err)
	_, err = st.WithholdNotice(ctx, "INC-W", []string{"HK"})
	require.NoError(t, err)
	require.NoError(t, api.Seed(ctx, st, map[string]store.Token{"tok-legal": {Identity: "legal@example.com", Role: api.RoleLegal}}))
	hs := httptest.NewServer((&api.Server{Store: st}).Handler())
	defer hs.Close()
	t.Setenv("TOCSIN_TOKEN", "tok-legal")

	out, err := runRoot(t, "--server", hs.URL, "incident", "subjects", "INC-W")
	require.NoError(t, err)
	require.Equal(t, "subject_id,name,region,locale,categories,sensitive,minor,channels,reached_by,withheld\n"+
		"u1,Ann,SG,en,contact.email,false,false,email,,false\n"+
		"u2,Bo,HK,zh-HK,contact.email,false,false,email,,true\n", out)
}
