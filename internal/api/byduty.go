package api

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tocsin/tocsin/internal/csvout"
	"github.com/tocsin/tocsin/playbooks"
)

// NoticeByDutyHeader is the header of notice_by_duty.csv: for each duty
// to individuals, each person it covers, the channels its law accepts for
// them, and how they were told.
var NoticeByDutyHeader = []string{"duty", "jurisdiction", "subject_id", "region", "lawful_channels", "reached_by", "withheld"}

// noticeByDuty streams, per duty to individuals, which channel reached
// each person it covers (reached_by empty: not reached, so covered by
// substitute notice). Subject IDs and channels only, no contact details.
func (s *Server) noticeByDuty(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	rec, err := s.service().Record(r.Context(), id)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	rules := playbooks.LawfulRules(rec.Obligations)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(TransferTimeout))
	cw := csvout.NewWriter(w)
	cw.Write(NoticeByDutyHeader)
	after := ""
	for {
		page, err := s.Store.AffectedPage(r.Context(), id, after, 5000)
		if err != nil {
			return // the header is out: the CSV ends short, and the client's check fails
		}
		for _, p := range page {
			jurisdictions := playbooks.JurisdictionsOf(p.Region)
			for _, rule := range rules {
				if !slices.Contains(jurisdictions, rule.Jurisdiction) {
					continue
				}
				var lawful []string
				for _, ch := range rule.Channels {
					if ok, _ := playbooks.Why([]playbooks.Lawful{rule}, p.Region, p.Consent, ch); ok {
						lawful = append(lawful, ch)
					}
				}
				cw.Write([]string{rule.Duty, rule.Jurisdiction, p.SubjectID, p.Region, strings.Join(lawful, "+"), p.ReachedBy, boolText(p.Withheld)})
			}
		}
		if len(page) < 5000 {
			break
		}
		after = page[len(page)-1].SubjectID
	}
	cw.Flush()
}
