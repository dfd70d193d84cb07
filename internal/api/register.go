package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin/tocsin/internal/csvout"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/workflows"
)

// RegisterEntry is one breach in the register GDPR art. 33(5) asks for:
// every real incident, notified or not, with its facts, effects, measures
// and what became of each duty.
type RegisterEntry struct {
	ID           string         `json:"id"`
	Title        string         `json:"title"`
	Status       string         `json:"status"`
	OpenedAt     time.Time      `json:"opened_at"`
	Kind         string         `json:"kind"`
	DetectedAt   time.Time      `json:"detected_at"`
	OccurredFrom *time.Time     `json:"occurred_from,omitempty"`
	OccurredTo   *time.Time     `json:"occurred_to,omitempty"`
	Cause        string         `json:"cause,omitempty"`
	Description  string         `json:"description"`
	Effects      string         `json:"effects"`
	Measures     string         `json:"measures"`
	Remedies     string         `json:"remedies,omitempty"`
	Categories   []string       `json:"categories"`
	Subjects     int            `json:"subjects"`
	ByRegion     map[string]int `json:"by_region"`
	Sensitive    int            `json:"sensitive"`
	Minors       int            `json:"minors"`
	Reached      int            `json:"reached"`
	// Withheld were not told because legal waived every duty to tell them.
	Withheld int `json:"withheld"`
	// Inquiries counts the questions affected people asked about their
	// notices, how many were answered, the median wait for an answer, and
	// how many people replied STOP to the incident's texts.
	Inquiries           int            `json:"inquiries"`
	InquiriesAnswered   int            `json:"inquiries_answered"`
	MedianAnswerSeconds int            `json:"median_answer_seconds"`
	OptedOut            int            `json:"opted_out"`
	Duties              []RegisterDuty `json:"duties"`
}

// Duty outcomes in the register.
const (
	OutcomeFiled    = "filed"
	OutcomeNotified = "notified" // met by the campaign (or announcement)
	OutcomeWaived   = "waived"
	OutcomePending  = "pending"
	OutcomeOverdue  = "overdue"
)

// RegisterDuty is one duty of a breach and its outcome: filed (reference
// and time), notified (met by the campaign), waived (and why), or still
// pending or overdue.
type RegisterDuty struct {
	Name         string     `json:"name"`
	Jurisdiction string     `json:"jurisdiction"`
	Audience     string     `json:"audience"`
	Regulator    string     `json:"regulator,omitempty"`
	Voluntary    bool       `json:"voluntary,omitempty"`
	DueAt        *time.Time `json:"due_at,omitempty"`
	Outcome      string     `json:"outcome"`
	By           string     `json:"by,omitempty"`
	At           *time.Time `json:"at,omitempty"`
	Reference    string     `json:"reference,omitempty"`
	LateReason   string     `json:"late_reason,omitempty"`
	Reason       string     `json:"reason,omitempty"`
}

// register lists the breaches p may see opened in [from, to), drills
// excluded, oldest first as a register is read.
func (s *Server) register(ctx context.Context, p Principal, from, to time.Time) ([]RegisterEntry, error) {
	no := false
	q := store.IncidentQuery{Drill: &no, OpenedFrom: from, OpenedTo: to, Viewer: p.Identity, DrillsOnly: p.Role == RoleDrill, Limit: store.MaxPage}
	out := []RegisterEntry{}
	for {
		page, err := s.Store.ListIncidents(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, in := range page.Incidents {
			e, err := s.registerEntry(ctx, in.ID)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", in.ID, err)
			}
			out = append(out, e)
		}
		if q.After = page.Next; q.After == "" {
			break
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].OpenedAt.Before(out[j].OpenedAt) })
	return out, nil
}

// registerEntry reads one breach from the store: the incident and its
// record, so a breach closed years ago is in the register as it was left.
func (s *Server) registerEntry(ctx context.Context, id string) (RegisterEntry, error) {
	inc, err := s.Store.GetIncident(ctx, id)
	if err != nil {
		return RegisterEntry{}, err
	}
	var p workflows.Progress
	rec, err := s.Store.GetRecord(ctx, id)
	switch {
	case err == nil:
		err = json.Unmarshal(rec.Record, &p)
	case errors.Is(err, store.ErrNotFound):
		// No record yet (just opened, or a worker from before records).
		p, err = s.progress(ctx, id)
		if err != nil {
			p, err = workflows.Progress{Status: "unknown"}, nil
		}
	}
	if err != nil {
		return RegisterEntry{}, err
	}
	facts := p.Facts
	if facts == nil {
		// Recorded before the record carried facts: the facts it opened with.
		facts = workflows.FactsOf(inc.Spec)
	}
	e := RegisterEntry{ID: inc.ID, Title: inc.Title, Status: string(p.Status), OpenedAt: inc.OpenedAt, Kind: facts.Kind, DetectedAt: facts.DetectedAt,
		Cause: facts.Cause, Description: facts.Description, Effects: facts.Impact, Measures: facts.Measures, Remedies: facts.Remedies,
		Categories: facts.Categories, ByRegion: map[string]int{}, Duties: []RegisterDuty{}}
	if !facts.OccurredFrom.IsZero() {
		e.OccurredFrom = &facts.OccurredFrom
	}
	if !facts.OccurredTo.IsZero() {
		e.OccurredTo = &facts.OccurredTo
	}
	if sc := p.Scope; sc != nil {
		e.Subjects, e.ByRegion, e.Sensitive, e.Minors = sc.Subjects, sc.ByRegion(), sc.Sensitive, sc.Minors
		if len(sc.Categories) > 0 {
			e.Categories = sc.Categories
		}
	}
	if e.Categories == nil {
		e.Categories = []string{}
	}
	if p.Reach != nil {
		e.Reached, e.Withheld = p.Reach.Reached, p.Reach.Withheld
	}
	asked, err := s.Store.InquiryStatsOf(ctx, id)
	if err != nil {
		return RegisterEntry{}, err
	}
	e.Inquiries, e.InquiriesAnswered, e.MedianAnswerSeconds, e.OptedOut = asked.Asked, asked.Answered, asked.MedianAnswerSeconds, asked.OptedOut
	now := time.Now()
	for _, o := range p.Obligations {
		d := RegisterDuty{Name: o.Name, Jurisdiction: o.Jurisdiction, Audience: o.Audience, Regulator: o.Regulator, Voluntary: o.Voluntary, Outcome: OutcomePending}
		if !o.DueAt.IsZero() {
			due := o.DueAt
			d.DueAt = &due
			if now.After(due) {
				d.Outcome = OutcomeOverdue
			}
		}
		if f := p.Filings[o.Name]; f.Met() {
			at := f.At
			d.By, d.At, d.Reference, d.LateReason, d.Reason = f.By, &at, f.Reference, f.LateReason, f.WaivedBecause
			switch {
			case f.Status == workflows.FilingWaived:
				d.Outcome = OutcomeWaived
			case o.Audience == "individuals":
				d.Outcome = OutcomeNotified
			default:
				d.Outcome = OutcomeFiled
			}
		}
		e.Duties = append(e.Duties, d)
	}
	return e, nil
}

func (s *Server) registerHandler(w http.ResponseWriter, r *http.Request) {
	from, to, err := registerPeriod(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	entries, err := s.register(r.Context(), principal(r.Context()), from, to)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	if r.URL.Query().Get("format") == "csv" {
		serveRegisterCSV(w, entries)
		return
	}
	writeJSON(w, http.StatusOK, entries)
}

// registerPeriod reads the from and to bounds of a register request, as
// the API and the console page take them.
func registerPeriod(r *http.Request) (from, to time.Time, err error) {
	if from, err = listTime("from", r.URL.Query().Get("from"), false); err != nil {
		return from, to, err
	}
	to, err = listTime("to", r.URL.Query().Get("to"), true)
	return from, to, err
}

// serveRegisterCSV answers with the register as a CSV download.
func serveRegisterCSV(w http.ResponseWriter, entries []RegisterEntry) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="breach-register.csv"`)
	WriteRegisterCSV(w, entries)
}

// RegisterColumns head the register's CSV: one row per duty, the breach's
// facts repeated on each, so a spreadsheet filters by either.
var RegisterColumns = []string{"incident", "title", "status", "opened_at", "kind", "detected_at", "occurred_from", "occurred_to", "cause", "description", "effects", "measures", "remedies",
	"categories", "subjects", "by_region", "sensitive", "minors", "reached", "withheld", "inquiries", "inquiries_answered", "median_answer_seconds", "opted_out", "duty", "jurisdiction", "audience", "regulator", "voluntary", "due_at", "outcome", "by", "at", "reference", "late_reason", "reason"}

// WriteRegisterCSV writes the register as CSV, every cell safe to open in
// a spreadsheet; a breach without duties is one row with the duty empty.
func WriteRegisterCSV(w io.Writer, entries []RegisterEntry) error {
	cw := csvout.NewWriter(w)
	if err := cw.Write(RegisterColumns); err != nil {
		return err
	}
	stamp := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, e := range entries {
		var regions []string
		for r, n := range e.ByRegion {
			regions = append(regions, r+"="+strconv.Itoa(n))
		}
		sort.Strings(regions)
		head := []string{e.ID, e.Title, e.Status, stamp(&e.OpenedAt), e.Kind, stamp(&e.DetectedAt), stamp(e.OccurredFrom), stamp(e.OccurredTo), e.Cause, e.Description, e.Effects, e.Measures, e.Remedies,
			strings.Join(e.Categories, ";"), strconv.Itoa(e.Subjects), strings.Join(regions, ";"), strconv.Itoa(e.Sensitive), strconv.Itoa(e.Minors), strconv.Itoa(e.Reached), strconv.Itoa(e.Withheld),
			strconv.Itoa(e.Inquiries), strconv.Itoa(e.InquiriesAnswered), strconv.Itoa(e.MedianAnswerSeconds), strconv.Itoa(e.OptedOut)}
		duties := e.Duties
		if len(duties) == 0 {
			duties = []RegisterDuty{{}}
		}
		for _, d := range duties {
			row := append(append([]string{}, head...), d.Name, d.Jurisdiction, d.Audience, d.Regulator, boolText(d.Voluntary), stamp(d.DueAt), d.Outcome, d.By, stamp(d.At), d.Reference, d.LateReason, d.Reason)
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func boolText(b bool) string {
	if b {
		return "yes"
	}
	return ""
}
