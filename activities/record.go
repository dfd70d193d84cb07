package activities

import (
	"context"

	"github.com/tocsin/tocsin/internal/incident"
)

// RecordInput is the incident's record as the workflow holds it, already
// JSON (the workflow's own type, which this package cannot name), the
// number of changes it includes, and what lists filter by.
type RecordInput struct {
	IncidentID string
	Seq        int
	Record     []byte
	// Summary is empty in histories from before incident lists were read
	// from the store; the record's first write from a newer worker fills it.
	Summary RecordSummary `json:",omitzero"`
}

// RecordSummary is the part of the record that lists and the register
// filter and sort by.
type RecordSummary = incident.Summary

// RecordIncident writes the record to the store, the system of record for
// what people see: the workflow's history is kept only for the namespace's
// retention. Idempotent: a retry, or an older write arriving late, leaves
// the newest record.
func (a *Activities) RecordIncident(ctx context.Context, in RecordInput) error {
	sum := in.Summary
	return a.Store.SaveRecord(ctx, in.IncidentID, in.Seq, in.Record, sum)
}
