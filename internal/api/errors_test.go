package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/workflows"
)

// Errors become statuses by their type, wrapped or not; a message that
// merely mentions a kind of failure changes nothing.
func TestErrorsMapToStatusesByType(t *testing.T) {
	for err, want := range map[error]int{
		fmt.Errorf("incident X: %w", store.ErrNotFound):                                   http.StatusNotFound,
		serviceerror.NewNotFound("workflow gone"):                                         http.StatusNotFound,
		fmt.Errorf("page: %w", store.ErrBadCursor):                                        http.StatusBadRequest,
		&store.ImportError{File: "ids.txt"}:                                               http.StatusUnprocessableEntity,
		temporal.NewApplicationError("forbidden: not legal", workflows.ErrTypeForbidden):  http.StatusForbidden,
		temporal.NewApplicationError("already filed", ""):                                 http.StatusConflict,
		fmt.Errorf("slow: %w", context.DeadlineExceeded):                                  http.StatusGatewayTimeout,
		errors.New("forbidden: not found in inventory"):                                   http.StatusInternalServerError,
		incident.Refuse(incident.Invalid, errors.New("no reason")):                        http.StatusBadRequest,
		incident.Refuse(incident.Unreadable, errors.New("incident.yaml:3")):               http.StatusUnprocessableEntity,
		fmt.Errorf("x: %w", incident.Refuse(incident.Forbidden, errors.New("not legal"))): http.StatusForbidden,
		incident.Refuse(incident.NotFound, errors.New("no incident")):                     http.StatusNotFound,
		incident.Refuse(incident.Conflict, errors.New("already filed")):                   http.StatusConflict,
		incident.Refuse(incident.Unavailable, errors.New("temporal down")):                http.StatusBadGateway,
	} {
		require.Equal(t, want, statusOf(err), "%v", err)
	}
}

// An error of Tocsin's own (a database fault) is logged, and the caller is
// told there was one, with a reference to find it by: never its text,
// which may name tables, hosts or files.
func TestAnInternalErrorIsLoggedNotShown(t *testing.T) {
	var logged strings.Builder
	s := &Server{Log: slog.New(slog.NewTextHandler(&logged, nil))}
	w := httptest.NewRecorder()
	s.writeErr(w, errors.New("pq: relation incidents_secret does not exist at 10.0.0.5"))
	require.Equal(t, http.StatusInternalServerError, w.Code)
	require.NotContains(t, w.Body.String(), "incidents_secret")
	require.Contains(t, w.Body.String(), "internal error")
	ref := regexp.MustCompile(`ref ([0-9a-f]{12})`).FindStringSubmatch(w.Body.String())
	require.NotNil(t, ref, w.Body.String())
	require.Contains(t, logged.String(), ref[1])
	require.Contains(t, logged.String(), "incidents_secret")

	w = httptest.NewRecorder()
	s.writeErr(w, incident.Refuse(incident.Conflict, errors.New("already filed")))
	require.Equal(t, http.StatusConflict, w.Code)
	require.Contains(t, w.Body.String(), "already filed", "a refusal is the caller's to read")
}
