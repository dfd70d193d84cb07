package activities

import "context"

// RecordInput is the incident's record as the workflow holds it, already
// JSON (the workflow's own type, which this package cannot name), and the
// number of changes it includes.
type RecordInput struct {
	IncidentID string
	Seq        int
	Record     []byte
}

// RecordIncident writes the record to the store, the system of record for
// what people see: the workflow's history is kept only for the namespace's
// retention. Idempotent: a retry, or an older write arriving late, leaves
// the newest record.
func (a *Activities) RecordIncident(ctx context.Context, in RecordInput) error {
	return a.Store.SaveRecord(ctx, in.IncidentID, in.Seq, in.Record)
}
