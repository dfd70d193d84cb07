package workflows

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tocsin/tocsin/internal/incident"
)

// Actor is who asks for an update (internal/incident's).
type Actor = incident.Actor

// SignedWindow is how far a signed update's time may be from the
// workflow's: older ones are refused as replayed or held back, and the
// nonces the workflow remembers are the ones inside it.
const SignedWindow = 5 * time.Minute

// SignedInput is an update's input that carries its actor.
type SignedInput interface{ Signer() *Actor }

// SignUpdate signs in for the named update of one run of an incident: the
// signature covers every field of the input (which draft, which revision,
// what facts, when, the nonce) and the run, so it cannot be moved to
// another decision, incident or run. run is the run that claimed the
// incident's charter ("" for incidents opened before charters).
func SignUpdate(key []byte, incidentID, run, update string, in SignedInput) {
	in.Signer().Sig = signature(key, incidentID, run, update, in)
}

type signedBody struct {
	Incident string
	Run      string `json:",omitempty"`
	Update   string
	Input    any
}

func signature(key []byte, incidentID, run, update string, in SignedInput) string {
	a := in.Signer()
	sig := a.Sig
	a.Sig = ""
	defer func() { a.Sig = sig }()
	// encoding/json's output is a pure function of the value (struct fields
	// in order, map keys sorted); workflowcheck flags its reflection cache.
	body, err := json.Marshal(signedBody{incidentID, run, update, in}) //workflowcheck:ignore
	if err != nil {
		return ""
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// verifySigned refuses an update whose actor the API did not sign. Update
// validators do not run on replay, so a rotated key never fails a history.
func (s *plan) verifySigned(ctx workflow.Context, update string, in SignedInput) error {
	a := in.Signer()
	if s.unchartered {
		return errors.New("this incident's run is still being checked against Tocsin's record; try again in a moment")
	}
	if err := TooLong(in); err != nil {
		return err
	}
	if len(s.keys) == 0 {
		return forbidden("this worker holds no actor key (TOCSIN_ACTOR_KEY), so it cannot tell who asks; %s by %s refused", update, a.Identity)
	}
	if a.Sig == "" {
		return forbidden("%s by %s is not signed: updates come through Tocsin's API, which signs who asks", update, a.Identity)
	}
	exec := workflow.GetInfo(ctx).WorkflowExecution
	run := ""
	if s.chartered {
		run = exec.RunID
	}
	signed := false
	for _, k := range s.keys {
		if hmac.Equal([]byte(signature(k, exec.ID, run, update, in)), []byte(a.Sig)) {
			signed = true
			break
		}
	}
	if !signed {
		return forbidden("%s by %s (%s) carries a signature no key of this worker made, or made for another run: refused as forged", update, a.Identity, a.Role)
	}
	now := workflow.Now(ctx)
	if a.At.IsZero() || a.Nonce == "" {
		return forbidden("%s by %s carries no time or nonce: refused (the API stamps both)", update, a.Identity)
	}
	if d := now.Sub(a.At); d > SignedWindow || d < -SignedWindow {
		return forbidden("%s by %s was signed at %s, more than %s from now (%s): refused as replayed or held back; send it again", update, a.Identity,
			a.At.UTC().Format(time.RFC3339), SignedWindow, now.UTC().Format(time.RFC3339))
	}
	if _, seen := s.nonces[a.Nonce]; seen {
		return forbidden("%s by %s was already taken once: refused as replayed", update, a.Identity)
	}
	return nil
}

// remember keeps an accepted update's nonce for as long as its time is
// inside the window (after that the time check refuses it anyway), so the
// memory stays bounded by what the window can hold.
func (s *plan) remember(ctx workflow.Context, in SignedInput) {
	a := in.Signer()
	if a.Nonce == "" {
		return // updates from before nonces, replayed
	}
	if s.nonces == nil {
		s.nonces = map[string]time.Time{}
	}
	now := workflow.Now(ctx)
	// Deleting what is past the window leaves the same map in any order.
	//workflowcheck:ignore
	for n, at := range s.nonces {
		if now.Sub(at) > 2*SignedWindow {
			delete(s.nonces, n)
		}
	}
	s.nonces[a.Nonce] = a.At
}
