package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/apiclient"
	"github.com/tocsin/tocsin/internal/channel"
	"github.com/tocsin/tocsin/internal/csvout"
	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/inventory"
	"github.com/tocsin/tocsin/internal/pacing"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/templates"
)

func (cl *cli) incidentCmd() *cobra.Command {
	inc := &cobra.Command{Use: "incident", Short: "Open, follow and decide on incidents"}
	var file, subjectsFile string
	open := &cobra.Command{Use: "open", Short: "Open an incident from a YAML file; prints its ID on the last line", RunE: func(cmd *cobra.Command, _ []string) error {
		var res apiclient.Opened
		if subjectsFile != "" {
			var err error
			if res, err = cl.apiCalls().OpenIncidentNamed(cmd.Context(), file, subjectsFile); err != nil {
				return err
			}
		} else {
			data, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			if res, err = cl.apiCalls().OpenIncident(cmd.Context(), api.OpenRequest{File: file, YAML: string(data)}); err != nil {
				return err
			}
		}
		if cl.output == "json" {
			return printJSON(res)
		}
		fmt.Println("opened incident; legal will be asked to approve the drafts")
		fmt.Println(res["id"])
		return nil
	}}
	open.Flags().StringVarP(&file, "file", "f", "incident.yaml", "incident file")
	open.Flags().StringVar(&subjectsFile, "subjects-file", "", "limit the scope to these subject IDs (one per line, or a CSV with a subject_id column), as forensics named them")

	var lf struct {
		status, drill, from, to, jurisdiction, after string
		limit                                        int
		all                                          bool
	}
	list := &cobra.Command{Use: "list", Short: "List incidents, newest first, a page at a time (filters: --status, --drill, --from/--to, --jurisdiction)", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		q := url.Values{}
		for k, v := range map[string]string{"status": lf.status, "drill": lf.drill, "from": lf.from, "to": lf.to, "jurisdiction": lf.jurisdiction, "after": lf.after} {
			if v != "" {
				q.Set(k, v)
			}
		}
		if lf.limit > 0 {
			q.Set("limit", strconv.Itoa(lf.limit))
		}
		var all []api.ListItem
		for {
			page, next, err := cl.apiCalls().ListIncidents(cmd.Context(), q)
			if err != nil {
				return err
			}
			all = append(all, page...)
			if next == "" {
				break
			}
			if !lf.all {
				fmt.Fprintf(os.Stderr, "more incidents: add --after %s (or --all)\n", next)
				break
			}
			q.Set("after", next)
		}
		if cl.output == "json" {
			if all == nil {
				all = []api.ListItem{}
			}
			return printJSON(all)
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTATUS\tAFFECTED\tREACHED\tOPENED\tTITLE")
		for _, v := range all {
			id := v.ID
			if v.Drill {
				id += " (drill)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", id, v.Status, v.Scope.Subjects, v.Notifications.Reached, v.OpenedAt.UTC().Format("2006-01-02 15:04"), v.Title)
		}
		return tw.Flush()
	}}
	list.Flags().StringVar(&lf.status, "status", "", "only incidents at these stages (comma-separated: open, notifying, filing, closed, ...)")
	list.Flags().StringVar(&lf.drill, "drill", "", "true: only drills; false: no drills")
	list.Flags().StringVar(&lf.from, "from", "", "opened at or after this date or time (2026-03-01, or RFC 3339)")
	list.Flags().StringVar(&lf.to, "to", "", "opened before the end of this date, or before this time")
	list.Flags().StringVar(&lf.jurisdiction, "jurisdiction", "", "only incidents with a duty in this jurisdiction (EU, UK, US-CA, ...)")
	list.Flags().IntVar(&lf.limit, "limit", 0, "incidents per page (default 100, at most 1000)")
	list.Flags().StringVar(&lf.after, "after", "", "the page after this cursor (printed when there are more)")
	list.Flags().BoolVar(&lf.all, "all", false, "read every page")

	show := &cobra.Command{Use: "show ID", Short: "Show an incident's stage, scope, duties, drafts and notifications", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
		v, err := cl.apiCalls().Incident(cmd.Context(), args[0])
		if err != nil {
			return err
		}
		if cl.output == "json" {
			return printJSON(v)
		}
		printView(os.Stdout, v)
		return nil
	}}

	var draft, comment, reason string
	var decided int
	var sets []string
	decision := func(use, short, action string) *cobra.Command {
		c := &cobra.Command{Use: use + " ID", Short: short, Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			req := api.DecisionRequest{Draft: draft, Comment: comment, Reason: reason, Revision: decided}
			if (action == "approve" || action == "reject") && decided == 0 {
				// The decision holds for the revision shown now; say which,
				// so a reviewer who read another one notices.
				rev, err := cl.currentRevision(cmd.Context(), args[0], draft)
				if err != nil {
					return err
				}
				req.Revision = rev
				fmt.Fprintf(os.Stderr, "%s revision %d (as incident show lists it now; --revision N names the one you read)\n", draft, rev)
			}
			if action == "revise" {
				req.Changes = map[string]string{}
				for _, s := range sets {
					k, v, ok := strings.Cut(s, "=")
					if !ok {
						return fmt.Errorf("--set %q: want field=value", s)
					}
					req.Changes[k] = v
				}
			}
			out, err := cl.apiCalls().Decide(cmd.Context(), args[0], action, req)
			if err != nil {
				return err
			}
			if cl.output == "json" {
				return printJSON(out)
			}
			fmt.Println(decisionLine(action, draft, out))
			return nil
		}}
		c.Flags().StringVar(&draft, "draft", "", "draft name (see incident show)")
		c.MarkFlagRequired("draft")
		return c
	}
	approve := decision("approve", "Approve a draft (legal only; not your own incident or draft)", "approve")
	approve.Flags().IntVar(&decided, "revision", 0, "the revision you reviewed (default: the one incident show lists now); refused if it changed since")
	approve.Flags().StringVar(&comment, "comment", "", "comment kept with the approval")
	reject := decision("reject", "Reject a draft with a reason (legal only)", "reject")
	reject.Flags().StringVar(&reason, "reason", "", "why, so it can be revised")
	reject.MarkFlagRequired("reason")
	reject.Flags().IntVar(&decided, "revision", 0, "the revision you reviewed (default: the one incident show lists now); refused if it changed since")
	revise := decision("revise", "Revise a rejected draft's facts (responders)", "revise")
	revise.Flags().StringArrayVar(&sets, "set", nil, "key=value; keys: "+strings.Join(api.Settable, ", "))

	var pageSize int
	var after string
	var onePage bool
	subjects := &cobra.Command{Use: "subjects ID", Short: "Page through the affected people: what leaked, how they can be reached, how they were told (CSV, or -o json)",
		Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			return cl.pageSubjects(cmd.Context(), args[0], after, pageSize, onePage)
		}}
	subjects.Flags().IntVar(&pageSize, "page-size", 1000, "subjects per request")
	subjects.Flags().StringVar(&after, "after", "", "start after this subject ID (the cursor a previous page ended on)")
	subjects.Flags().BoolVar(&onePage, "one-page", false, "print one page only, then the cursor for the next on stderr")
	var sub api.SubmitRequest
	submit := &cobra.Command{Use: "submit ID", Short: "Record that an obligation was filed: who, when, the regulator's reference (a late filing needs the reasons)",
		Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			out, err := cl.apiCalls().Submit(cmd.Context(), args[0], sub)
			if err != nil {
				return err
			}
			if cl.output == "json" {
				return printJSON(out)
			}
			fmt.Printf("%s filed by %s at %s, reference %s\n", sub.Obligation, out.By, out.At.UTC().Format(time.RFC3339), out.Reference)
			return nil
		}}
	submit.Flags().StringVar(&sub.Obligation, "obligation", "", "obligation name (see incident show)")
	submit.Flags().StringVar(&sub.Reference, "reference", "", "the regulator's reference or receipt")
	submit.Flags().StringVar(&sub.LateReason, "late-reason", "", "why the filing is late (required after the due time)")
	submit.MarkFlagRequired("obligation")
	submit.MarkFlagRequired("reference")
	var waiver api.WaiveRequest
	waive := &cobra.Command{Use: "waive ID", Short: "Record that a duty does not apply, and why (legal; the breach register keeps it). A duty to tell people, waived before notice begins, withholds notice from the residents it covers",
		Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			out, err := cl.apiCalls().Waive(cmd.Context(), args[0], waiver)
			if err != nil {
				return err
			}
			if cl.output == "json" {
				return printJSON(out)
			}
			fmt.Printf("%s waived by %s at %s: %s\n", waiver.Obligation, out.By, out.At.UTC().Format(time.RFC3339), out.WaivedBecause)
			return nil
		}}
	waive.Flags().StringVar(&waiver.Obligation, "obligation", "", "obligation name (see incident show)")
	waive.Flags().StringVar(&waiver.Reason, "reason", "", "why the duty does not apply (kept in the register)")
	waive.MarkFlagRequired("obligation")
	waive.MarkFlagRequired("reason")
	var factSets []string
	var factsLocale string
	facts := &cobra.Command{Use: "facts ID [--locale LOCALE]", Short: "Supply or correct facts the drafts state (cause, organisation, reporter, dpo_contact, ...), or with --locale translate them; drafts waiting for legal are drafted again",
		Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			req := api.FactsRequest{Set: map[string]string{}, Locale: factsLocale}
			for _, s := range factSets {
				k, v, ok := strings.Cut(s, "=")
				if !ok || strings.TrimSpace(k) == "" {
					return fmt.Errorf("--set %q: want key=value", s)
				}
				req.Set[strings.TrimSpace(k)] = v
			}
			out, err := cl.apiCalls().SetFacts(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			if cl.output == "json" {
				return printJSON(out)
			}
			for _, d := range out.Drafts {
				fmt.Printf("%s revision %d: %s\n", d.Name, d.Revision, draftStatus(d))
			}
			return nil
		}}
	facts.Flags().StringArrayVar(&factSets, "set", nil, "key=value; keys: "+strings.Join(api.Settable, ", ")+"; with --locale: "+strings.Join(incident.TranslatableKeys, ", "))
	facts.Flags().StringVar(&factsLocale, "locale", "", "translate the texts into this notice language ("+strings.Join(templates.NoticeLocales[1:], ", ")+")")
	facts.MarkFlagRequired("set")

	var revision int
	var format string
	draftCmd := &cobra.Command{Use: "draft ID NAME", Short: "Print a draft as plain text for filing, or as HTML (--format html)",
		Args: cobra.ExactArgs(2), RunE: func(cmd *cobra.Command, args []string) error {
			d, err := cl.apiCalls().Draft(cmd.Context(), args[0], args[1], revision)
			if err != nil {
				return err
			}
			switch {
			case cl.output == "json":
				return printJSON(d)
			case format == "html":
				fmt.Print(templates.Document(d.Title, d.HTML, d.Locale))
			case format == "text" || format == "":
				fmt.Printf("%s\n\n%s\n", d.Title, d.Body)
			default:
				return fmt.Errorf("--format %q: want text or html", format)
			}
			return nil
		}}
	draftCmd.Flags().IntVar(&revision, "revision", 0, "revision (default: the latest)")
	draftCmd.Flags().StringVar(&format, "format", "text", "text or html")
	var releaseReason string
	releaseCalls := &cobra.Command{Use: "release-calls ID", Short: "Place calls held for quiet hours now, and later ones at any hour: the harm is urgent (legal, admins; audited)",
		Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			var out store.QuietRelease
			if err := cl.conn().Do(cmd.Context(), "POST", "/api/v1/incidents/"+args[0]+"/release-calls", api.ReleaseCallsRequest{Reason: releaseReason}, &out); err != nil {
				return err
			}
			if cl.output == "json" {
				return printJSON(out)
			}
			fmt.Printf("%s: calls released from quiet hours by %s at %s: %s\n", args[0], out.By, out.At.UTC().Format("2006-01-02 15:04 UTC"), out.Reason)
			return nil
		}}
	releaseCalls.Flags().StringVar(&releaseReason, "reason", "", "why the harm cannot wait for the morning (kept in the audit log)")
	releaseCalls.MarkFlagRequired("reason")
	inc.AddCommand(open, list, show, cl.watchCmd(), cl.exportCmd(), approve, reject, revise, subjects, submit, waive, facts, draftCmd, releaseCalls, cl.lettersCmd(), cl.returnedCmd())
	inc.AddCommand(cl.pauseCmds()...)
	inc.AddCommand(cl.codesCmd())
	inc.AddCommand(cl.addCmd())
	inc.AddCommand(cl.correctCmd())
	return inc
}

func printView(w io.Writer, v api.View) {
	fmt.Fprintf(w, "%s  %s\nstatus: %s   opened by %s at %s\n", v.ID, v.Title, v.Status, v.OpenedBy, v.OpenedAt.Format(time.RFC3339))
	if v.Error != "" {
		fmt.Fprintf(w, "error: %s\n", v.Error)
	}
	if v.LastKnown != nil {
		fmt.Fprintf(w, "shown as recorded at %s (%s); the incident runs on\n", v.LastKnown.RecordedAt.Format(time.RFC3339), v.LastKnown.Reason)
	}
	var regions []string
	for r, n := range v.Scope.ByRegion {
		regions = append(regions, fmt.Sprintf("%s %d", r, n))
	}
	sort.Strings(regions)
	fmt.Fprintf(w, "\nscope: %d people (%s); %d sensitive, %d minors, %d unreachable\n", v.Scope.Subjects, strings.Join(regions, ", "), v.Scope.Sensitive, v.Scope.Minors, v.Scope.Unreachable)
	var reach []string
	for _, c := range inventory.Contacts {
		reach = append(reach, fmt.Sprintf("%s %d", c.Name, v.Scope.Reachable[c.Name]))
	}
	fmt.Fprintf(w, "  inventory snapshot %d; leaked: %s\n  contacts: %s\n", v.Scope.Snapshot, strings.Join(v.Scope.Categories, ", "), strings.Join(reach, ", "))
	if len(v.Scope.Lawful) > 0 {
		var lawful []string
		for _, ch := range channel.Names() {
			if n, ok := v.Scope.Lawful[ch]; ok {
				lawful = append(lawful, fmt.Sprintf("%s %d", ch, n))
			}
		}
		fmt.Fprintf(w, "  may lawfully be told by: %s\n", strings.Join(lawful, ", "))
	}
	if v.Scope.NamedSubjects > 0 {
		fmt.Fprintf(w, "  limited to the %d subject IDs in %s\n", v.Scope.NamedSubjects, v.Scope.SubjectsFile)
	}
	fmt.Fprintln(w, "\nobligations:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, o := range v.Obligations {
		due := o.Due
		if o.DueAt != nil {
			due = o.DueLocal + " (" + o.Due + ")"
		}
		status := o.Status
		if f := o.Filing; f != nil && f.Status == api.FilingSubmitted {
			status += " by " + f.By + " (" + f.Reference + ")"
		} else if f != nil && f.Status == api.FilingWaived {
			status += " by " + f.By + ": " + f.WaivedBecause
		}
		if o.Voluntary {
			status += ", voluntary"
		}
		if f := o.Filing; f != nil && !f.DelayedUntil.IsZero() {
			status += ", held for law enforcement until " + f.DelayedUntil.UTC().Format("2006-01-02 15:04 UTC") + " (" + f.DelayRequestedBy + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", o.Jurisdiction, o.Audience, o.Name, due, status)
	}
	tw.Flush()
	fmt.Fprintln(w, "\ndrafts:")
	var incomplete []string
	for _, d := range v.Drafts {
		by := ""
		if d.ApprovedBy != "" {
			by = " by " + d.ApprovedBy
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\trev %d\t%s%s\n", d.Name, d.Kind, d.Locale, d.Revision, draftStatus(d), by)
		if len(d.Missing) > 0 {
			incomplete = append(incomplete, d.Missing...)
		}
	}
	tw.Flush()
	if len(incomplete) > 0 {
		slices.Sort(incomplete)
		fmt.Fprintf(w, "  the law requires facts nobody has supplied yet: %s\n", api.FactsHint(v.ID, slices.Compact(incomplete)))
	}
	if v.Campaign != nil {
		fmt.Fprintln(w, "\ncampaign:")
		for _, l := range campaignLines(v.Campaign, false)[1:] {
			fmt.Fprintln(w, l)
		}
		fmt.Fprintln(w, " ", campaignLines(v.Campaign, true)[0])
	}
	if pc := v.Pacing; pc != nil {
		for _, m := range pc.Misses {
			fmt.Fprintf(w, "\nLATE: %s\n", m.Text)
		}
		var fin []string
		measured := false
		for _, f := range pc.Finishes {
			if f.Rate > 0 {
				pace := pacing.Rate(f.Rate) + "/s"
				if f.Measured {
					pace, measured = pace+" measured", true
				}
				fin = append(fin, fmt.Sprintf("%s %d left at %s, done %s", f.Channel, f.Remaining, pace, f.At.UTC().Format("2006-01-02 15:04 UTC")))
			}
		}
		if len(fin) > 0 {
			how := "at the configured rates"
			if measured {
				how = "at the configured rates, or the slower ones measured lately"
			}
			fmt.Fprintf(w, "%s: %s\n", how, strings.Join(fin, "; "))
		}
	}
	fmt.Fprintln(w, "\n"+notificationsLine(v))
	if p := v.Paused; p != nil && p.Until.IsZero() {
		fmt.Fprintf(w, "PAUSED by %s at %s: %s (no notice goes out; `tocsin incident resume %s`)\n", p.By, p.At.UTC().Format("2006-01-02 15:04 UTC"), p.Reason, v.ID)
	} else if p != nil {
		fmt.Fprintf(w, "HELD until %s at the request of %s (recorded by %s): %s; moves %s (lifts on its own; `tocsin incident resume %s` lifts it early)\n",
			p.Until.UTC().Format("2006-01-02 15:04 UTC"), p.RequestedBy, p.By, p.Reason, strings.Join(p.Duties, ", "), v.ID)
	}
	for _, h := range v.HeldChannels {
		fmt.Fprintf(w, "%s held since %s: %s (next probe %s; notices by %s wait, nobody is written off; `tocsin channel resume %s` once fixed)\n",
			h.Channel, h.Since.UTC().Format("15:04 UTC"), h.Reason, h.ProbeAt.UTC().Format("15:04:05 UTC"), h.Channel, h.Channel)
	}
	if len(v.RefusedRuns) > 0 {
		fmt.Fprintln(w, "\nrefused runs (started outside Tocsin's API; they sent and approved nothing):")
		for _, r := range v.RefusedRuns {
			fmt.Fprintf(w, "  %s  run %s: %s\n", r.At.UTC().Format("2006-01-02 15:04:05 UTC"), r.RunID, r.Reason)
		}
	}
	if v.Announcement.Published {
		fmt.Fprintf(w, "announcement: %s\n", v.Announcement.URL)
	}
	for _, c := range v.Corrections {
		fmt.Fprintf(w, "correction %d of %s revision %d (asked for by %s at %s): %s\n", c.Correction, c.Draft, c.From, c.RequestedBy, c.RequestedAt.UTC().Format("2006-01-02 15:04 UTC"), correctionStatus(c))
	}
	for _, wv := range v.Waves {
		fmt.Fprintf(w, "wave %d (%s, asked for by %s at %s): %s\n", wv.Wave, waveNamed(wv), wv.RequestedBy, wv.RequestedAt.UTC().Format("2006-01-02 15:04 UTC"), waveStatus(wv))
	}
	if r := v.Returns; r != nil {
		if r.Ended == "" {
			fmt.Fprintf(w, "returned mail: awaited until %s for the %d people sent letters (tocsin incident returned %s --subjects-file F; legal ends the wait with --settled)\n", r.Until.UTC().Format("2006-01-02 15:04 UTC"), r.Letters, v.ID)
		} else {
			by := ""
			if r.SettledBy != "" {
				by = " by " + r.SettledBy
			}
			fmt.Fprintf(w, "returned mail: no longer awaited (%s%s)\n", r.Ended, by)
		}
	}
}

// currentRevision is a draft's revision as incident show lists it now.
func (cl *cli) currentRevision(ctx context.Context, id, draft string) (int, error) {
	v, err := cl.apiCalls().Incident(ctx, id)
	if err != nil {
		return 0, err
	}
	var names []string
	for _, d := range v.Drafts {
		if d.Name == draft {
			return d.Revision, nil
		}
		names = append(names, d.Name)
	}
	return 0, fmt.Errorf("%s has no draft %q (it has: %s)", id, draft, strings.Join(names, ", "))
}

// decisionLine says what a decision on a draft did. A revision answers
// before the new revision is drafted: it says what comes next rather than
// the rejected revision's status.
func decisionLine(action, draft string, d api.DraftView) string {
	if action == "revise" {
		return fmt.Sprintf("%s: revision %d asked for; once drafted it waits for legal's approval (incident show lists it)", draft, d.Revision+1)
	}
	return fmt.Sprintf("%s revision %d is now %s", draft, d.Revision, d.Status)
}

// notificationsLine is the outcome of individual notice, or where it is.
func notificationsLine(v api.View) string {
	n := v.Notifications
	switch {
	case !n.Done && api.NoticeBegun(v.Status):
		return "notifications: under way (the campaign above has the live counts)"
	case !n.Done:
		return "notifications: not begun (notice waits for legal's approval and any filing due first)"
	}
	line := fmt.Sprintf("notifications: %d reached", n.Reached)
	if len(n.ByChannel) > 0 {
		var parts []string
		for _, ch := range slices.Sorted(maps.Keys(n.ByChannel)) {
			parts = append(parts, fmt.Sprintf("%s %d", ch, n.ByChannel[ch]))
		}
		line += " (" + strings.Join(parts, ", ") + ")"
	}
	line += fmt.Sprintf(", %d not reachable", n.Failed)
	if n.Withheld > 0 {
		line += fmt.Sprintf(", %d withheld (every duty to tell them waived)", n.Withheld)
	}
	if n.Returned > 0 {
		line += fmt.Sprintf("; since then %d letters returned, %d of their people reached by nothing else (substitute notice)", n.Returned, n.ReturnedUnreached)
	}
	if n.Verified > 0 {
		line += fmt.Sprintf("; notices checked at /verify %d times", n.Verified)
	}
	if q := n.Inquiries; q != nil {
		line += fmt.Sprintf("; %d questions asked, %d answered (median %s), %d open (tocsin inquiries list)", q.Asked, q.Answered, time.Duration(q.MedianAnswerSeconds)*time.Second, q.Open)
		if q.OptedOut > 0 {
			line += fmt.Sprintf("; %d replied STOP to our texts", q.OptedOut)
		}
	}
	return line
}

// draftStatus is a draft's status as a reviewer reads it.
func draftStatus(d api.DraftView) string {
	if d.Status == api.DraftPending && len(d.Missing) > 0 {
		return "incomplete: lacks " + strings.Join(d.Missing, ", ")
	}
	if d.Status == api.DraftPending && len(d.Untranslated) > 0 {
		return "not translated to " + d.Locale + ": " + strings.Join(d.Untranslated, ", ") + " (legal approves only with a comment)"
	}
	if d.Status == api.DraftPending && d.LanguageNote != "" {
		return "not in an accepted language: " + d.LanguageNote + " (legal approves only with a comment)"
	}
	if d.Status == api.DraftPending && d.SMSTooLong != "" {
		return "cannot be approved: " + d.SMSTooLong
	}
	return d.Status
}

// pageSubjects streams the affected set page by page, so a list of millions
// never sits in memory on either side.
func (cl *cli) pageSubjects(ctx context.Context, id, after string, size int, onePage bool) error {
	c := cl.apiCalls()
	w := bufio.NewWriter(os.Stdout)
	var more string
	var cw *csvout.Writer
	if cl.output == "json" {
		w.WriteString("[")
	} else {
		cw = csvout.NewWriter(w)
		cw.Write([]string{"subject_id", "name", "region", "locale", "categories", "sensitive", "minor", "channels", "reached_by", "withheld"})
	}
	first := true
	for {
		page, err := c.Subjects(ctx, id, after, size)
		if err != nil {
			return err
		}
		for _, sub := range page.Subjects {
			if cw != nil {
				cw.Write([]string{sub.SubjectID, sub.Name, sub.Region, sub.Locale, strings.Join(sub.Categories, ";"), strconv.FormatBool(sub.Sensitive),
					strconv.FormatBool(sub.Minor), strings.Join(sub.Channels, ";"), sub.ReachedBy, strconv.FormatBool(sub.Withheld)})
				continue
			}
			b, err := json.Marshal(sub)
			if err != nil {
				return err
			}
			if !first {
				w.WriteString(",")
			}
			w.WriteString("\n  ")
			w.Write(b)
			first = false
		}
		if cw != nil {
			cw.Flush()
			if err := cw.Error(); err != nil {
				return err
			}
		}
		if page.Next == "" {
			break
		}
		if onePage {
			more = page.Next
			break
		}
		after = page.Next
	}
	if cl.output == "json" {
		w.WriteString("\n]\n")
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if more != "" {
		fmt.Fprintf(os.Stderr, "more: --after %s\n", more)
	}
	return nil
}
