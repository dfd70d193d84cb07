package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin/tocsin/internal/client"
	"github.com/tocsin/tocsin/internal/store"
)

// ListItem is one line of `incident list -o json`. Its keys are View's for
// the fields it carries, so a script reading id, status, scope.subjects or
// notifications.reached of a list reads them as from `incident show`.
type ListItem struct {
	ID            string    `json:"id"`
	Title         string    `json:"title"`
	Status        string    `json:"status"`
	Drill         bool      `json:"drill"`
	Restricted    bool      `json:"restricted,omitempty"`
	OpenedBy      string    `json:"opened_by"`
	OpenedAt      time.Time `json:"opened_at"`
	Jurisdictions []string  `json:"jurisdictions"`
	Scope         ListScope `json:"scope"`
	Notifications ListReach `json:"notifications"`
}

// ListScope is how many people an incident affects.
type ListScope struct {
	Subjects int `json:"subjects"`
}

// ListReach is how many of them were told individually.
type ListReach struct {
	Reached int `json:"reached"`
}

// statuses are the values the status filter takes: the plan's stages.
var statuses = []string{StageOpen, StageScoping, StageAssessing, StageDrafting, StageAwaitApproval, StageAwaitFiling, StageNotifying, StageAnnouncing, StageFiling, StageClosed}

var jurisdictionCode = regexp.MustCompile(`^[A-Z]{2}(-[A-Z]{2,6})?$`)

// listQuery reads a list's filters from the query string: status (one or
// more, comma-separated), drill (true or false), from and to (the opened
// time, RFC 3339 or a date; to is inclusive of its day), jurisdiction,
// limit and after (the cursor from the previous page's X-Next-Page).
func listQuery(v url.Values, p Principal) (store.IncidentQuery, error) {
	q := store.IncidentQuery{Viewer: p.Identity, DrillsOnly: p.Role == RoleDrill, After: v.Get("after")}
	if st := v.Get("status"); st != "" {
		for _, one := range strings.Split(st, ",") {
			one = strings.TrimSpace(one)
			if !slices.Contains(statuses, one) {
				return q, fmt.Errorf("status %q: one of %s", one, strings.Join(statuses, ", "))
			}
			q.Status = append(q.Status, one)
		}
	}
	if d := v.Get("drill"); d != "" {
		b, err := strconv.ParseBool(d)
		if err != nil {
			return q, fmt.Errorf("drill %q: true or false", d)
		}
		q.Drill = &b
	}
	var err error
	if q.OpenedFrom, err = listTime("from", v.Get("from"), false); err != nil {
		return q, err
	}
	if q.OpenedTo, err = listTime("to", v.Get("to"), true); err != nil {
		return q, err
	}
	if j := v.Get("jurisdiction"); j != "" {
		if !jurisdictionCode.MatchString(j) {
			return q, fmt.Errorf("jurisdiction %q: a code such as EU, UK or US-CA", j)
		}
		q.Jurisdiction = j
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > store.MaxPage {
			return q, fmt.Errorf("limit %q: a number from 1 to %d", l, store.MaxPage)
		}
		q.Limit = n
	}
	return q, nil
}

// listTime reads a time bound; a bare date as the upper bound means the end
// of that day, so --to 2026-03-31 includes the 31st.
func listTime(name, s string, upper bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q: a date (2026-03-31) or a time (2026-03-31T12:00:00Z)", name, s)
	}
	if upper {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}

// listPage is one page of the incidents p may see, from the store alone.
// Only an incident without a record yet (opened a moment ago, or running
// on a worker from before records) is asked of its workflow.
func (s *Server) listPage(ctx context.Context, q store.IncidentQuery) ([]ListItem, string, error) {
	page, err := s.Store.ListIncidents(ctx, q)
	if err != nil {
		return nil, "", err
	}
	out := make([]ListItem, 0, len(page.Incidents))
	for _, in := range page.Incidents {
		it := ListItem{ID: in.ID, Title: in.Title, Status: in.Status, Drill: in.Drill, Restricted: in.Restricted, OpenedBy: in.OpenedBy, OpenedAt: in.OpenedAt,
			Jurisdictions: in.Jurisdictions, Scope: ListScope{Subjects: in.Subjects}, Notifications: ListReach{Reached: in.Reached}}
		if it.Jurisdictions == nil {
			it.Jurisdictions = []string{}
		}
		if it.Status == "" {
			it.Status = "unknown"
			if p, err := s.progress(ctx, in.ID); err == nil {
				sum := p.Summary()
				it.Status, it.Scope.Subjects, it.Notifications.Reached = sum.Status, sum.Subjects, sum.Reached
				if sum.Jurisdictions != nil {
					it.Jurisdictions = sum.Jurisdictions
				}
			}
		}
		out = append(out, it)
	}
	return out, page.Next, nil
}

func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request) {
	q, err := listQuery(r.URL.Query(), principal(r.Context()))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	items, next, err := s.listPage(r.Context(), q)
	if err != nil {
		msg := err.Error()
		if errors.Is(err, store.ErrBadCursor) {
			msg = "after: " + msg
		}
		writeError(w, statusOf(err), msg)
		return
	}
	if next != "" {
		w.Header().Set(client.NextPageHeader, next)
	}
	writeJSON(w, http.StatusOK, items)
}
