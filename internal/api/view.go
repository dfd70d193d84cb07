package api

import (
	"context"
	"time"

	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/workflows"
)

// View is `incident show -o json` (DESIGN section 8).
type View struct {
	ID            string                 `json:"id"`
	Title         string                 `json:"title"`
	Status        string                 `json:"status"`
	Drill         bool                   `json:"drill"`
	OpenedBy      string                 `json:"opened_by"`
	OpenedAt      time.Time              `json:"opened_at"`
	Scope         ScopeView              `json:"scope"`
	Obligations   []ObligationView       `json:"obligations"`
	Drafts        []workflows.DraftState `json:"drafts"`
	Notifications NotificationsView      `json:"notifications"`
	Announcement  AnnouncementView       `json:"announcement"`
	Timeline      []workflows.Event      `json:"timeline"`
	Error         string                 `json:"error,omitempty"`
}

// ScopeView is the scope's aggregates.
type ScopeView struct {
	Subjects    int            `json:"subjects"`
	ByRegion    map[string]int `json:"by_region"`
	Sensitive   int            `json:"sensitive"`
	Minors      int            `json:"minors"`
	Unreachable int            `json:"unreachable"`
	Snapshot    int64          `json:"snapshot"`
	Categories  []string       `json:"categories"`
	// Reachable counts people with an address for each kind of channel.
	Reachable map[string]int `json:"reachable"`
	// NamedSubjects is the size of the ID list forensics gave, if any.
	NamedSubjects int64  `json:"named_subjects,omitempty"`
	SubjectsFile  string `json:"subjects_file,omitempty"`
}

// ObligationView is one duty with its clock.
type ObligationView struct {
	Name         string            `json:"name"`
	Jurisdiction string            `json:"jurisdiction"`
	Audience     string            `json:"audience"`
	Regulator    string            `json:"regulator,omitempty"`
	Anchor       string            `json:"anchor"`
	AnchorAt     time.Time         `json:"anchor_at"`
	DueAt        *time.Time        `json:"due_at"`
	Due          string            `json:"due"`
	Status       string            `json:"status"`
	Owner        string            `json:"owner,omitempty"`
	Voluntary    bool              `json:"voluntary,omitempty"`
	After        string            `json:"after,omitempty"`
	Content      []string          `json:"content,omitempty"`
	Methods      []string          `json:"methods,omitempty"`
	Unverified   string            `json:"unverified,omitempty"`
	Filing       *workflows.Filing `json:"filing,omitempty"`
	Sources      []string          `json:"sources"`
}

// NotificationsView counts who was told.
type NotificationsView struct {
	Reached   int            `json:"reached"`
	ByChannel map[string]int `json:"by_channel"`
	Failed    int            `json:"failed"`
}

// AnnouncementView is the public notice's state.
type AnnouncementView struct {
	Published bool   `json:"published"`
	URL       string `json:"url,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

func (s *Server) view(ctx context.Context, inc store.Incident) View {
	v := View{ID: inc.ID, Title: inc.Title, Drill: inc.Drill, OpenedBy: inc.OpenedBy, OpenedAt: inc.OpenedAt,
		Obligations: []ObligationView{}, Drafts: []workflows.DraftState{}, Timeline: []workflows.Event{},
		Scope: ScopeView{ByRegion: map[string]int{}, Categories: []string{}, Reachable: map[string]int{}, Snapshot: inc.Snapshot, NamedSubjects: inc.NamedSubjects, SubjectsFile: inc.SubjectsFile}, Notifications: NotificationsView{ByChannel: map[string]int{}}}
	p, err := s.progress(ctx, inc.ID)
	if err != nil {
		v.Status = "unknown"
		v.Error = "progress unavailable: " + err.Error()
		return v
	}
	v.Status, v.Drafts, v.Timeline, v.Error = p.Status, p.Drafts, p.Timeline, p.Error
	if p.Scope != nil {
		v.Scope.Subjects, v.Scope.ByRegion, v.Scope.Sensitive, v.Scope.Minors = p.Scope.Subjects, p.Scope.ByRegion(), p.Scope.Sensitive, p.Scope.Minors
		v.Scope.Unreachable, v.Scope.Snapshot = p.Unreachable, p.Scope.Snapshot
		if p.Scope.Categories != nil {
			v.Scope.Categories = p.Scope.Categories
		}
		v.Scope.Reachable = map[string]int{"onsite": p.Scope.WithOnsite, "email": p.Scope.WithEmail, "phone": p.Scope.WithPhone}
	}
	now := time.Now()
	for _, o := range p.Obligations {
		ov := ObligationView{Name: o.Name, Jurisdiction: o.Jurisdiction, Audience: o.Audience, Regulator: o.Regulator, Anchor: o.Anchor, AnchorAt: o.AnchorAt,
			Due: o.Due, Status: workflows.FilingPending, Owner: o.Owner, Voluntary: o.Voluntary, After: o.After, Content: o.Content, Methods: o.Methods,
			Unverified: o.Unverified, Sources: o.Sources}
		if !o.DueAt.IsZero() {
			due := o.DueAt
			ov.DueAt = &due
			if now.After(due) {
				ov.Status = workflows.FilingOverdue
			}
		}
		if f := p.Filings[o.Name]; f != nil {
			ov.Filing = f
			if f.Status == workflows.FilingSubmitted {
				ov.Status = workflows.FilingSubmitted
			}
		}
		v.Obligations = append(v.Obligations, ov)
	}
	if p.Reach != nil {
		v.Notifications = NotificationsView{Reached: p.Reach.Reached, ByChannel: p.Reach.ByChannel, Failed: p.Reach.Unreached}
	}
	if p.Announcement != nil {
		v.Announcement = AnnouncementView{Published: p.Announcement.Published, URL: p.Announcement.URL, Reason: p.Announcement.Reason}
	}
	return v
}
