package service

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/roles"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/store/storetest"
)

// The service refuses in the domain's terms, the same whichever surface
// asks, and audits each refusal; it never answers with a transport status.
func TestRefusalsAreTypedAndAudited(t *testing.T) {
	ctx := context.Background()
	s := &Service{Store: storetest.Open(t, "sqlite")}
	viewer := Caller{Identity: "v@example.com", Role: roles.Viewer, Via: "slack"}
	responder := Caller{Identity: "r@example.com", Role: roles.Responder, Via: "console"}
	legal := Caller{Identity: "l@example.com", Role: roles.Legal, Via: "api"}

	_, err := s.Open(ctx, viewer, "incident.yaml", "title: x", nil)
	require.Equal(t, incident.Forbidden, incident.RefusedAs(err), "%v", err)
	_, err = s.Open(ctx, responder, "incident.yaml", "title: [unclosed", nil)
	require.Equal(t, incident.Unreadable, incident.RefusedAs(err), "%v", err)
	require.ErrorContains(t, err, "incident.yaml")

	require.NoError(t, s.Store.CreateIncident(ctx, store.Incident{ID: "INC-S", Title: "t", OpenedBy: "r@example.com", OpenedAt: time.Now()}, nil))
	_, err = s.ReleaseCalls(ctx, responder, "INC-S", "urgent")
	require.Equal(t, incident.Forbidden, incident.RefusedAs(err))
	_, err = s.ReleaseCalls(ctx, legal, "INC-NONE", "urgent")
	require.Equal(t, incident.NotFound, incident.RefusedAs(err))
	_, err = s.ReleaseCalls(ctx, legal, "INC-S", " ")
	require.Equal(t, incident.Invalid, incident.RefusedAs(err))

	general, err := s.Store.AuditLog(ctx, "")
	require.NoError(t, err)
	require.NotEmpty(t, general)
	require.Equal(t, "open", general[0].Action)
	require.Equal(t, store.AuditRefused, general[0].Outcome)
	require.Equal(t, "slack", general[0].Via)
	onIncident, err := s.Store.AuditLog(ctx, "INC-S")
	require.NoError(t, err)
	require.Len(t, onIncident, 2, "both refusals on INC-S are in its chain")
}

func TestARestrictedIncidentIsSeenOnlyByThoseItNames(t *testing.T) {
	inc := store.Incident{OpenedBy: "r@example.com", Spec: incident.Spec{RestrictedTo: []string{"Counsel@example.com"}}}
	require.True(t, MayView(Caller{Identity: "counsel@example.com", Role: roles.Legal}, inc))
	require.True(t, MayView(Caller{Identity: "r@example.com", Role: roles.Responder}, inc))
	require.False(t, MayView(Caller{Identity: "other@example.com", Role: roles.Admin}, inc))
	require.False(t, MayView(Caller{Identity: "drill@example.com", Role: roles.Drill}, store.Incident{}), "the drill identity sees drills only")
	require.True(t, MayView(Caller{Identity: "drill@example.com", Role: roles.Drill}, store.Incident{Drill: true}))
}
