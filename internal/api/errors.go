package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/tocsin/tocsin/internal/incident"
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
	switch incident.RefusedAs(err) {
	case incident.Invalid:
		return http.StatusBadRequest
	case incident.Unreadable:
		return http.StatusUnprocessableEntity
	case incident.Forbidden:
		return http.StatusForbidden
	case incident.NotFound:
		return http.StatusNotFound
	case incident.Conflict:
		return http.StatusConflict
	case incident.Unavailable:
		return http.StatusBadGateway
	}
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

// writeErr answers a failed request: a refusal or another error whose
// status says what the caller can do is shown as it is; an error of
// Tocsin's own (500) is logged with a reference and only the reference is
// shown, since its text may name tables, hosts or files.
func (s *Server) writeErr(w http.ResponseWriter, err error) {
	status := statusOf(err)
	if status != http.StatusInternalServerError {
		writeError(w, status, err.Error())
		return
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	ref := hex.EncodeToString(b[:])
	s.log().Error("request failed", "ref", ref, "error", err)
	writeError(w, status, "internal error (ref "+ref+"; the server log has the details)")
}
