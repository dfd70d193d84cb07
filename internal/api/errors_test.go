package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/workflows"
)

// Errors become statuses by their type, wrapped or not; a message that
// merely mentions a kind of failure changes nothing.
func TestErrorsMapToStatusesByType(t *testing.T) {
	for err, want := range map[error]int{
		fmt.Errorf("incident X: %w", store.ErrNotFound):                                  http.StatusNotFound,
		serviceerror.NewNotFound("workflow gone"):                                        http.StatusNotFound,
		fmt.Errorf("page: %w", store.ErrBadCursor):                                       http.StatusBadRequest,
		&store.ImportError{File: "ids.txt"}:                                              http.StatusUnprocessableEntity,
		temporal.NewApplicationError("forbidden: not legal", workflows.ErrTypeForbidden): http.StatusForbidden,
		temporal.NewApplicationError("already filed", ""):                                http.StatusConflict,
		fmt.Errorf("slow: %w", context.DeadlineExceeded):                                 http.StatusGatewayTimeout,
		errors.New("forbidden: not found in inventory"):                                  http.StatusInternalServerError,
	} {
		require.Equal(t, want, statusOf(err), "%v", err)
	}
}
