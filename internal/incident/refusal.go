package incident

import "errors"

// Refused says why Tocsin refuses a request, in the domain's terms; the
// HTTP, console and Slack adapters each turn it into what their caller
// reads (internal/api chooses an HTTP status in one place).
type Refused int

const (
	// Invalid: the request is malformed or incomplete (a missing reason,
	// a field past its limit).
	Invalid Refused = iota + 1
	// Unreadable: a document the request carries cannot be read (an
	// incident file, a playbook it names).
	Unreadable
	// Forbidden: the caller's role may not do it.
	Forbidden
	// NotFound: no such incident (or none the caller may see).
	NotFound
	// Conflict: where the incident stands does not allow it.
	Conflict
	// Unavailable: what Tocsin depends on (Temporal) did not take it;
	// nothing was done and it may be asked again.
	Unavailable
)

// Refusal is a request refused, and why, in words for the person who asked.
type Refusal struct {
	Kind Refused
	Err  error
}

func (r *Refusal) Error() string { return r.Err.Error() }
func (r *Refusal) Unwrap() error { return r.Err }

// Refuse wraps err as a refusal of the kind.
func Refuse(kind Refused, err error) error {
	if err == nil {
		return nil
	}
	return &Refusal{Kind: kind, Err: err}
}

// RefusedAs is the kind of refusal err is, or 0 when it is not one.
func RefusedAs(err error) Refused {
	var r *Refusal
	if errors.As(err, &r) {
		return r.Kind
	}
	return 0
}
