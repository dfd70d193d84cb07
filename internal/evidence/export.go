package evidence

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/tocsin/tocsin/internal/apiclient"
	"github.com/tocsin/tocsin/internal/client"
	"github.com/tocsin/tocsin/internal/csvout"
	"github.com/tocsin/tocsin/workflows"
)

// Export writes the evidence bundle of incident id into dir, reading
// everything through the API as c (an auditor's token), and verifies it.
func Export(ctx context.Context, c *client.Client, id, dir string) (Manifest, error) {
	api := apiclient.New(c)
	v, err := api.Incident(ctx, id)
	if err != nil {
		return Manifest{}, err
	}
	audit, err := api.Audit(ctx, id)
	if err != nil {
		return Manifest{}, err
	}
	head := ""
	if len(audit) > 0 {
		head = audit[len(audit)-1].Hash
	}
	w, err := Create(dir, Manifest{Incident: v.ID, ExportedAt: time.Now().UTC(), Server: c.Server})
	if err != nil {
		return Manifest{}, err
	}
	writeCSV := func(path string, header []string, rows [][]string) error {
		return w.Write(path, func(out io.Writer) error {
			cw := csvout.NewWriter(out)
			cw.Write(header)
			return cw.WriteAll(rows)
		})
	}
	if err := w.WriteJSON("incident.json", v); err != nil {
		return Manifest{}, err
	}
	var timeline [][]string
	for _, e := range v.Timeline {
		timeline = append(timeline, []string{e.At.UTC().Format(time.RFC3339Nano), e.Stage, e.Text})
	}
	if err := writeCSV("timeline.csv", []string{"at", "stage", "event"}, timeline); err != nil {
		return Manifest{}, err
	}
	// Approvals are every decision on a draft, from the audit log: who, when,
	// which revision, through which surface, and the refusals too.
	var approvals [][]string
	for _, e := range audit {
		if e.Action == workflows.UpdateApprove || e.Action == workflows.UpdateReject || e.Action == workflows.UpdateRevise {
			note := e.Detail["comment"] + e.Detail["reason"]
			approvals = append(approvals, []string{e.At.UTC().Format(time.RFC3339Nano), e.Actor, e.Role, e.Via, e.Action, e.Outcome, e.Detail["draft"], e.Detail["revision"], note, e.Detail["refusal"], strconv.FormatInt(e.Seq, 10)})
		}
	}
	if err := writeCSV("approvals.csv", []string{"at", "actor", "role", "via", "decision", "outcome", "draft", "revision", "comment_or_reason", "refusal", "audit_seq"}, approvals); err != nil {
		return Manifest{}, err
	}
	var filings [][]string
	for _, o := range v.Obligations {
		due := ""
		if o.DueAt != nil {
			due = o.DueAt.UTC().Format(time.RFC3339)
		}
		row := []string{o.Name, o.Jurisdiction, o.Audience, o.Regulator, o.AnchorAt.UTC().Format(time.RFC3339), due, o.DueLocal, o.Zone, o.Status, "", "", "", "", ""}
		if f := o.Filing; f != nil && !f.At.IsZero() {
			row[9], row[10], row[11], row[12], row[13] = f.By, f.At.UTC().Format(time.RFC3339), f.Reference, f.LateReason, f.WaivedBecause
		}
		filings = append(filings, row)
	}
	if err := writeCSV("filings.csv", []string{"obligation", "jurisdiction", "audience", "regulator", "anchor_at", "due_at", "due_local", "zone", "status", "filed_by", "filed_at", "reference", "late_reason", "waived_because"}, filings); err != nil {
		return Manifest{}, err
	}
	// Every revision of every draft, as text and as the HTML people received.
	for _, d := range v.Drafts {
		for rev := 1; rev <= d.Revision; rev++ {
			base := fmt.Sprintf("drafts/%s-r%d", d.Name, rev)
			draft, err := api.Draft(ctx, id, d.Name, rev)
			if err != nil {
				return Manifest{}, fmt.Errorf("draft %s revision %d: %w", d.Name, rev, err)
			}
			if err := w.WriteJSON(base+".json", draft); err != nil {
				return Manifest{}, err
			}
			if err := w.Write(base+".txt", func(out io.Writer) error {
				_, err := fmt.Fprintf(out, "%s\n\n%s\n", draft.Title, draft.Body)
				return err
			}); err != nil {
				return Manifest{}, err
			}
			html, err := api.DraftHTML(ctx, id, d.Name, rev)
			if err != nil {
				return Manifest{}, err
			}
			if err := w.Write(base+".html", func(out io.Writer) error { _, err := io.WriteString(out, html); return err }); err != nil {
				return Manifest{}, err
			}
		}
	}
	if err := w.Write("deliveries.csv", func(out io.Writer) error {
		return api.Deliveries(ctx, id, out)
	}); err != nil {
		return Manifest{}, err
	}
	// Per duty to individuals, the channel that reached each person it
	// covers, and the channels its law accepted for them.
	if err := w.Write("notice_by_duty.csv", func(out io.Writer) error {
		return api.NoticeByDuty(ctx, id, out)
	}); err != nil {
		return Manifest{}, err
	}
	if err := w.Write(AuditFile, func(out io.Writer) error { return WriteAudit(out, audit) }); err != nil {
		return Manifest{}, err
	}
	if err := w.Close(head); err != nil {
		return Manifest{}, err
	}
	rep, err := Verify(dir)
	return rep.Manifest, err
}
