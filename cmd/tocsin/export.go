package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/evidence"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/workflows"
)

func exportCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{Use: "export ID --out DIR", Short: "Write the incident's evidence bundle (timeline, approvals, filings, drafts, delivery ledger, audit log, manifest of hashes)",
		Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return fmt.Errorf("--out DIR is required (a new or empty directory)")
			}
			m, err := exportBundle(cmd, args[0], out)
			if err != nil {
				return err
			}
			fmt.Printf("Evidence bundle of %s written to %s: %d files, audit head %.16s. Check it with `tocsin evidence verify %s`.\n", args[0], out, len(m.Files), m.AuditHead, out)
			return nil
		}}
	cmd.Flags().StringVar(&out, "out", "", "directory to write the bundle into (must be new or empty)")
	return cmd
}

func exportBundle(cmd *cobra.Command, id, dir string) (evidence.Manifest, error) {
	ctx := cmd.Context()
	c := api0()
	var v api.View
	if err := c.Do(ctx, "GET", "/api/v1/incidents/"+url.PathEscape(id), nil, &v); err != nil {
		return evidence.Manifest{}, err
	}
	var audit []store.AuditEntry
	if err := c.Do(ctx, "GET", "/api/v1/incidents/"+url.PathEscape(id)+"/audit", nil, &audit); err != nil {
		return evidence.Manifest{}, err
	}
	head := ""
	if len(audit) > 0 {
		head = audit[len(audit)-1].Hash
	}
	w, err := evidence.Create(dir, evidence.Manifest{Incident: v.ID, ExportedAt: time.Now().UTC(), Server: c.Server})
	if err != nil {
		return evidence.Manifest{}, err
	}
	writeCSV := func(path string, header []string, rows [][]string) error {
		return w.Write(path, func(out io.Writer) error {
			cw := csv.NewWriter(out)
			cw.Write(header)
			cw.WriteAll(rows)
			return cw.Error()
		})
	}
	if err := w.WriteJSON("incident.json", v); err != nil {
		return evidence.Manifest{}, err
	}
	var timeline [][]string
	for _, e := range v.Timeline {
		timeline = append(timeline, []string{e.At.UTC().Format(time.RFC3339Nano), e.Stage, e.Text})
	}
	if err := writeCSV("timeline.csv", []string{"at", "stage", "event"}, timeline); err != nil {
		return evidence.Manifest{}, err
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
		return evidence.Manifest{}, err
	}
	var filings [][]string
	for _, o := range v.Obligations {
		due := ""
		if o.DueAt != nil {
			due = o.DueAt.UTC().Format(time.RFC3339)
		}
		row := []string{o.Name, o.Jurisdiction, o.Audience, o.Regulator, o.AnchorAt.UTC().Format(time.RFC3339), due, o.Status, "", "", "", ""}
		if f := o.Filing; f != nil {
			row[7], row[8], row[9], row[10] = f.By, f.At.UTC().Format(time.RFC3339), f.Reference, f.LateReason
		}
		filings = append(filings, row)
	}
	if err := writeCSV("filings.csv", []string{"obligation", "jurisdiction", "audience", "regulator", "anchor_at", "due_at", "status", "filed_by", "filed_at", "reference", "late_reason"}, filings); err != nil {
		return evidence.Manifest{}, err
	}
	// Every revision of every draft, as text and as the HTML people received.
	for _, d := range v.Drafts {
		for rev := 1; rev <= d.Revision; rev++ {
			base := fmt.Sprintf("drafts/%s-r%d", d.Name, rev)
			path := fmt.Sprintf("/api/v1/incidents/%s/drafts/%s?revision=%d", url.PathEscape(id), url.PathEscape(d.Name), rev)
			var draft store.Draft
			if err := c.Do(ctx, "GET", path, nil, &draft); err != nil {
				return evidence.Manifest{}, fmt.Errorf("draft %s revision %d: %w", d.Name, rev, err)
			}
			if err := w.WriteJSON(base+".json", draft); err != nil {
				return evidence.Manifest{}, err
			}
			if err := w.Write(base+".txt", func(out io.Writer) error {
				_, err := fmt.Fprintf(out, "%s\n\n%s\n", draft.Title, draft.Body)
				return err
			}); err != nil {
				return evidence.Manifest{}, err
			}
			var html string
			if err := c.Do(ctx, "GET", path+"&format=html", nil, &html); err != nil {
				return evidence.Manifest{}, err
			}
			if err := w.Write(base+".html", func(out io.Writer) error { _, err := io.WriteString(out, html); return err }); err != nil {
				return evidence.Manifest{}, err
			}
		}
	}
	if err := w.Write("deliveries.csv", func(out io.Writer) error {
		return c.Stream(ctx, "/api/v1/incidents/"+url.PathEscape(id)+"/deliveries", out)
	}); err != nil {
		return evidence.Manifest{}, err
	}
	if err := w.Write(evidence.AuditFile, func(out io.Writer) error { return evidence.WriteAudit(out, audit) }); err != nil {
		return evidence.Manifest{}, err
	}
	if err := w.Close(head); err != nil {
		return evidence.Manifest{}, err
	}
	rep, err := evidence.Verify(dir)
	return rep.Manifest, err
}

func evidenceCmd() *cobra.Command {
	ev := &cobra.Command{Use: "evidence", Short: "Check evidence bundles"}
	verify := &cobra.Command{Use: "verify DIR", Short: "Check every file of an exported bundle against its manifest and the audit log's hash chain; exits non-zero on any change",
		Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := evidence.Verify(args[0])
			if err != nil {
				return fmt.Errorf("evidence bundle %s does not verify: %w", args[0], err)
			}
			if output == "json" {
				return printJSON(rep)
			}
			fmt.Fprintf(os.Stdout, "Evidence bundle of %s verifies: %d files unchanged since %s, audit chain of %d entries intact (head %.16s).\n",
				rep.Manifest.Incident, rep.Files, rep.Manifest.ExportedAt.Format(time.RFC3339), rep.Audit, rep.Manifest.AuditHead)
			return nil
		}}
	ev.AddCommand(verify)
	return ev
}
