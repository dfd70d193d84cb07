package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/inventory"
)

// pauseCmds stop and restart an incident's campaign (legal, admins).
func (cl *cli) pauseCmds() []*cobra.Command {
	var reason string
	pause := &cobra.Command{Use: "pause ID", Short: "Stop an incident's campaign: no new notice goes out until it is resumed; nothing is lost or sent twice (legal, admins; audited)",
		Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			var out api.PauseView
			if err := cl.conn().Do(cmd.Context(), "POST", "/api/v1/incidents/"+args[0]+"/pause", api.PauseRequest{Reason: reason}, &out); err != nil {
				return err
			}
			if cl.output == "json" {
				return printJSON(out)
			}
			fmt.Printf("%s: campaign paused by %s at %s: %s\n", args[0], out.By, out.At.UTC().Format("2006-01-02 15:04 UTC"), out.Reason)
			return nil
		}}
	pause.Flags().StringVar(&reason, "reason", "", "why the campaign stops (kept in the audit log, told to the war room)")
	pause.MarkFlagRequired("reason")
	resume := &cobra.Command{Use: "resume ID", Short: "Let a paused campaign send again (legal, admins; audited)",
		Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			var out api.PauseView
			if err := cl.conn().Do(cmd.Context(), "POST", "/api/v1/incidents/"+args[0]+"/resume", nil, &out); err != nil {
				return err
			}
			if cl.output == "json" {
				return printJSON(out)
			}
			fmt.Printf("%s: campaign resumed (paused by %s at %s)\n", args[0], out.By, out.At.UTC().Format("2006-01-02 15:04 UTC"))
			return nil
		}}
	var until, requestedBy, holdReason string
	hold := &cobra.Command{Use: "hold ID", Short: "Delay notice at law enforcement's request until a time, where the law of every duty to tell people allows it (legal, admins; audited; lifts on its own, or early with resume)",
		Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			at, err := time.Parse(time.RFC3339, until)
			if err != nil {
				return fmt.Errorf("--until: want a time like 2026-12-06T18:00:00Z (RFC 3339, with its zone): %v", err)
			}
			var out api.PauseView
			if err := cl.conn().Do(cmd.Context(), "POST", "/api/v1/incidents/"+args[0]+"/hold", api.HoldRequest{Until: at, Reason: holdReason, RequestedBy: requestedBy}, &out); err != nil {
				return err
			}
			if cl.output == "json" {
				return printJSON(out)
			}
			fmt.Printf("%s: notice held until %s at the request of %s (recorded by %s): %s\n  duties it moves: %s\n", args[0], out.Until.UTC().Format("2006-01-02 15:04 UTC"), out.RequestedBy, out.By, out.Reason, strings.Join(out.Duties, ", "))
			return nil
		}}
	hold.Flags().StringVar(&until, "until", "", "when notice may go out (RFC 3339, e.g. 2026-12-06T18:00:00Z)")
	hold.Flags().StringVar(&holdReason, "reason", "", "why notice must wait (kept in the audit log, told to the war room)")
	hold.Flags().StringVar(&requestedBy, "requested-by", "", "the agency and officer who asked (the law asks for it on record)")
	for _, f := range []string{"until", "reason", "requested-by"} {
		hold.MarkFlagRequired(f)
	}
	return []*cobra.Command{pause, resume, hold}
}

// codesCmd imports people's enrolment codes for the remedy offered.
func (cl *cli) codesCmd() *cobra.Command {
	codes := &cobra.Command{Use: "codes", Short: "People's enrolment codes for the remedy an incident offers (credit monitoring)"}
	codes.AddCommand(&cobra.Command{Use: "import ID FILE", Short: "Import a vendor's codes (CSV: subject_id, code, enrol_by): each goes into its person's notice and verify page (responders, admins; audited)",
		Args: cobra.ExactArgs(2), RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[1])
			if err != nil {
				return err
			}
			defer f.Close()
			list, err := inventory.ReadEnrolmentCodes(args[1], f)
			if err != nil {
				return err
			}
			total := 0
			for lo := 0; lo < len(list); lo += api.MaxEnrolmentCodes {
				var out api.EnrolmentCodesResponse
				part := list[lo:min(lo+api.MaxEnrolmentCodes, len(list))]
				if err := cl.conn().Do(cmd.Context(), "POST", "/api/v1/incidents/"+args[0]+"/enrolment-codes", api.EnrolmentCodesRequest{Codes: part}, &out); err != nil {
					return fmt.Errorf("%s (after %d codes imported): %w", args[1], total, err)
				}
				total += out.Imported
			}
			fmt.Printf("%s: %d enrolment codes imported; each goes into its person's notice and verify page\n", args[0], total)
			return nil
		}})
	return codes
}
