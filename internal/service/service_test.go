package service

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

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

// unanswering is a Temporal client whose workflows do not answer queries
// in time, as when one worker is busy with hundreds of incidents at once.
type unanswering struct{ client.Client }

func (unanswering) QueryWorkflow(ctx context.Context, workflowID, runID, queryType string, args ...any) (converter.EncodedValue, error) {
	return nil, context.DeadlineExceeded
}

// When the plan does not answer, people are shown the state it last kept,
// with when it was kept, rather than "unknown"; decisions, which read
// Record, still refuse to act on it.
func TestAPlanThatDoesNotAnswerIsShownAsLastRecorded(t *testing.T) {
	ctx := context.Background()
	s := &Service{Store: storetest.Open(t, "sqlite"), Temporal: unanswering{}}
	require.NoError(t, s.Store.CreateIncident(ctx, store.Incident{ID: "INC-Q", Title: "t", OpenedBy: "r@example.com", OpenedAt: time.Now()}, nil))

	rec, last, err := s.RecordToShow(ctx, "INC-Q")
	require.NoError(t, err)
	require.Equal(t, incident.StageOpen, rec.Status, "nothing recorded yet: the incident is open")
	require.NotNil(t, last)
	_, _, err = s.RecordToShow(ctx, "INC-NONE")
	require.ErrorIs(t, err, context.DeadlineExceeded, "no such incident: nothing to show")

	require.NoError(t, s.Store.SaveRecord(ctx, "INC-Q", 4, []byte(`{"status":"notifying"}`), store.RecordSummary{Status: "notifying"}))
	rec, last, err = s.RecordToShow(ctx, "INC-Q")
	require.NoError(t, err)
	require.Equal(t, incident.StageNotifying, rec.Status)
	require.NotNil(t, last, "the record shown says it is the kept one")
	require.ErrorIs(t, last.Why, context.DeadlineExceeded)
	require.WithinDuration(t, time.Now(), last.WrittenAt, time.Minute)

	_, err = s.Record(ctx, "INC-Q")
	require.ErrorIs(t, err, context.DeadlineExceeded, "a decision never reads a state that may be behind")
}
