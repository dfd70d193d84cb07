package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tocsin/tocsin/internal/senders"
	"github.com/tocsin/tocsin/internal/service"
	"github.com/tocsin/tocsin/internal/store"
)

// PauseRequest stops an incident's campaign; the reason is audited and
// told to the war room.
type PauseRequest struct {
	Reason string `json:"reason"`
}

// HoldRequest delays notice at law enforcement's request, until a time.
type HoldRequest struct {
	Until       time.Time `json:"until"`
	Reason      string    `json:"reason"`
	RequestedBy string    `json:"requested_by"`
}

// PauseView is a paused campaign: who paused it, why and when; for a
// law-enforcement hold, until when, who asked, and the duties it moves.
type PauseView struct {
	By          string    `json:"by"`
	Reason      string    `json:"reason"`
	At          time.Time `json:"at"`
	Until       time.Time `json:"until,omitzero"`
	RequestedBy string    `json:"requested_by,omitempty"`
	Duties      []string  `json:"duties,omitempty"`
}

func pauseView(p store.Pause) PauseView {
	return PauseView{By: p.By, Reason: p.Reason, At: p.At, Until: p.Until, RequestedBy: p.RequestedBy, Duties: p.Duties}
}

func (s *Server) holdCampaign(w http.ResponseWriter, r *http.Request) {
	var req HoldRequest
	if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	out, err := s.HoldCampaign(r.Context(), principal(r.Context()), r.PathValue("id"), req)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// HoldCampaign delays an incident's notice at law enforcement's request
// as p, from any surface, and tells the war room.
func (s *Server) HoldCampaign(ctx context.Context, p Principal, id string, req HoldRequest) (PauseView, error) {
	got, err := s.service().HoldCampaign(ctx, caller(p), id, service.Hold{Until: req.Until, Reason: req.Reason, RequestedBy: req.RequestedBy})
	if err != nil {
		return PauseView{}, err
	}
	s.warRoomLine(ctx, id, fmt.Sprintf(":police_car: Notice held until %s at the request of %s, recorded by %s (%s, via %s): %s. Duties it moves: %s. It lifts on its own then; `tocsin incident resume %s` lifts it early.",
		got.Until.UTC().Format("2006-01-02 15:04 UTC"), senders.SlackEscape(got.RequestedBy), senders.SlackEscape(p.Identity), p.Role, p.Via, senders.SlackEscape(got.Reason), strings.Join(got.Duties, ", "), id))
	return pauseView(got), nil
}

func (s *Server) pauseCampaign(w http.ResponseWriter, r *http.Request) {
	var req PauseRequest
	if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	out, err := s.PauseCampaign(r.Context(), principal(r.Context()), r.PathValue("id"), req.Reason)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) resumeCampaign(w http.ResponseWriter, r *http.Request) {
	out, err := s.ResumeCampaign(r.Context(), principal(r.Context()), r.PathValue("id"))
	if err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// PauseCampaign stops an incident's campaign as p, from any surface, and
// tells the war room.
func (s *Server) PauseCampaign(ctx context.Context, p Principal, id, reason string) (PauseView, error) {
	got, err := s.service().PauseCampaign(ctx, caller(p), id, reason)
	if err != nil {
		return PauseView{}, err
	}
	s.warRoomLine(ctx, id, fmt.Sprintf(":double_vertical_bar: Campaign paused by %s (%s, via %s): %s. No notice goes out until legal or an admin resumes it (`tocsin incident resume %s`).",
		senders.SlackEscape(p.Identity), p.Role, p.Via, senders.SlackEscape(reason), id))
	return pauseView(got), nil
}

// ResumeCampaign lets an incident's campaign send again as p.
func (s *Server) ResumeCampaign(ctx context.Context, p Principal, id string) (PauseView, error) {
	got, err := s.service().ResumeCampaign(ctx, caller(p), id)
	if err != nil {
		return PauseView{}, err
	}
	s.warRoomLine(ctx, id, fmt.Sprintf(":arrow_forward: Campaign resumed by %s (%s, via %s), paused since %s.", senders.SlackEscape(p.Identity), p.Role, p.Via, got.At.UTC().Format("2006-01-02 15:04 UTC")))
	return pauseView(got), nil
}

// warRoomLine posts a line to an incident's war room, as a courtesy: the
// audit log is the record, and a Slack failure stops nothing.
func (s *Server) warRoomLine(ctx context.Context, id, text string) {
	if s.Slack == nil || s.Slack.WarRoom == nil {
		return
	}
	rec, err := s.service().Record(ctx, id)
	if err != nil || rec.WarRoom == "" {
		return
	}
	go func() {
		ctx := context.WithoutCancel(ctx)
		if err := withSlackRetry(ctx, func() error { return s.Slack.WarRoom.Post(ctx, rec.WarRoom, text) }); err != nil {
			s.log().Warn("war room line not posted", "incident", id, "error", err)
		}
	}()
}
