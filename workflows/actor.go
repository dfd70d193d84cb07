package workflows

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	"go.temporal.io/sdk/workflow"
)

// Actor is who asks for an update, as the API authenticated them: identity,
// role, the surface (api, console, slack) and when. The API signs the whole
// update with a key only it and the workers hold, so someone with access to
// Temporal alone cannot approve as legal: the validators refuse an update
// whose actor is unsigned or whose signature does not match.
type Actor struct {
	Identity string
	Role     string
	Via      string    `json:",omitempty"`
	At       time.Time `json:",omitzero"`
	Sig      string    `json:",omitempty"`
}

// SignedInput is an update's input that carries its actor.
type SignedInput interface{ signer() *Actor }

func (in *ApproveInput) signer() *Actor { return &in.Actor }
func (in *RejectInput) signer() *Actor  { return &in.Actor }
func (in *ReviseInput) signer() *Actor  { return &in.Actor }
func (in *FactsInput) signer() *Actor   { return &in.Actor }
func (in *SubmitInput) signer() *Actor  { return &in.Actor }
func (in *WaiveInput) signer() *Actor   { return &in.Actor }

// actorKeys are the keys a worker accepts signatures under: the current
// one first, then any being rotated out. Set once, before workers start.
var actorKeys [][]byte

// TrustActorKeys sets the keys this process's workflows verify updates with.
func TrustActorKeys(keys ...[]byte) { actorKeys = keys }

// SignUpdate signs in for the named update of one incident: the signature
// covers every field of the input (which draft, which revision, what
// facts), so it cannot be moved to another decision or another incident.
func SignUpdate(key []byte, incidentID, update string, in SignedInput) {
	in.signer().Sig = signature(key, incidentID, update, in)
}

type signedBody struct {
	Incident, Update string
	Input            any
}

func signature(key []byte, incidentID, update string, in SignedInput) string {
	a := in.signer()
	sig := a.Sig
	a.Sig = ""
	defer func() { a.Sig = sig }()
	// encoding/json's output is a pure function of the value (struct fields
	// in order, map keys sorted); workflowcheck flags its reflection cache.
	body, err := json.Marshal(signedBody{incidentID, update, in}) //workflowcheck:ignore
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
	a := in.signer()
	if s.unchartered {
		return errors.New("this incident's run is still being checked against Tocsin's record; try again in a moment")
	}
	if len(actorKeys) == 0 {
		return forbidden("this worker holds no actor key (TOCSIN_ACTOR_KEY), so it cannot tell who asks; %s by %s refused", update, a.Identity)
	}
	if a.Sig == "" {
		return forbidden("%s by %s is not signed: updates come through Tocsin's API, which signs who asks", update, a.Identity)
	}
	id := workflow.GetInfo(ctx).WorkflowExecution.ID
	for _, k := range actorKeys {
		if hmac.Equal([]byte(signature(k, id, update, in)), []byte(a.Sig)) {
			return nil
		}
	}
	return forbidden("%s by %s (%s) carries a signature no key of this worker made: refused as forged", update, a.Identity, a.Role)
}
