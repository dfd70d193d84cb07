package service

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/workflows"
)

// CorrectNotice asks the plan for a correction of the notice draft, as c
// (legal or an admin): the facts in changes are set, the notice is drafted
// again for legal, and once legal approves the new revision it goes to
// exactly the people who received an earlier one. Audited.
func (s *Service) CorrectNotice(ctx context.Context, c Caller, id, draft string, changes map[string]string) (incident.CorrectionState, error) {
	if !slices.Contains(releasers, c.Role) {
		err := fmt.Errorf("%s (%s) may not correct a notice that went out; legal and admins may", c.Identity, c.Role)
		s.Audit(ctx, c, id, workflows.UpdateCorrect, store.AuditRefused, map[string]string{"reason": err.Error()})
		return incident.CorrectionState{}, incident.Refuse(incident.Forbidden, err)
	}
	if _, ok := s.Visible(ctx, c, id); !ok {
		return incident.CorrectionState{}, incident.Refuse(incident.NotFound, errors.New("no incident "+id))
	}
	if strings.TrimSpace(draft) == "" {
		return incident.CorrectionState{}, incident.Refuse(incident.Invalid, errors.New("name the notice to correct (--draft, as incident show lists it)"))
	}
	var out incident.CorrectionState
	detail := map[string]string{"draft": draft}
	if len(changes) > 0 {
		detail["facts"] = strings.Join(slices.Sorted(maps.Keys(changes)), ",")
	}
	err := s.runUpdate(ctx, c, id, workflows.UpdateCorrect, &incident.CorrectInput{Actor: actorOf(c), Draft: draft, Changes: changes}, &out, detail)
	if err == nil {
		s.log().Info("correction asked for", "incident", id, "draft", draft, "by", c.Identity)
	}
	return out, err
}
