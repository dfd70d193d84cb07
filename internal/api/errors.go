package api

import (
	"context"
	"errors"
	"net/http"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/workflows"
)

// statusOf is the one place an error becomes an HTTP status, by its type
// (as goalert's errutil does): never by its text.
func statusOf(err error) int {
	var (
		imported *store.ImportError
		gone     *serviceerror.NotFound
		invalid  *serviceerror.InvalidArgument
		refused  *temporal.ApplicationError
	)
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, store.ErrNotFound), errors.As(err, &gone):
		return http.StatusNotFound
	case errors.Is(err, store.ErrBadCursor), errors.As(err, &invalid):
		return http.StatusBadRequest
	case errors.As(err, &imported):
		return http.StatusUnprocessableEntity
	case errors.As(err, &refused) && refused.Type() == workflows.ErrTypeForbidden:
		return http.StatusForbidden
	case errors.As(err, &refused):
		// A validator's refusal: the request conflicts with where the plan stands.
		return http.StatusConflict
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}
