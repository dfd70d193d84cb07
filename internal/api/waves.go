package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/store"
)

// AddRequest names the systems a follow-up wave adds (JSON). A wave of
// named people is a multipart form instead, with a "subjects" file and
// any systems in the query (?systems=a,b).
type AddRequest struct {
	Systems []string `json:"systems"`
}

// WaveView is a follow-up wave: what it named, how many people it added,
// the duties it brought and where it stands.
type WaveView struct {
	Wave         int       `json:"wave"`
	Status       string    `json:"status"`
	RequestedBy  string    `json:"requested_by"`
	RequestedAt  time.Time `json:"requested_at"`
	Systems      []string  `json:"systems,omitempty"`
	SubjectsFile string    `json:"subjects_file,omitempty"`
	Named        int64     `json:"named,omitempty"`
	Added        int       `json:"added"`
	Duties       []string  `json:"duties,omitempty"`
	Drafts       []string  `json:"drafts,omitempty"`
	// Supplementary are reports drafted again with the wave's totals.
	Supplementary []string `json:"supplementary,omitempty"`
	Reached       int      `json:"reached,omitempty"`
	Error         string   `json:"error,omitempty"`
}

func waveView(w incident.WaveState) WaveView {
	return WaveView{Wave: w.Number, Status: w.Status, RequestedBy: w.RequestedBy, RequestedAt: w.RequestedAt, Systems: w.Systems, SubjectsFile: w.SubjectsFile,
		Named: w.Named, Added: w.Added, Duties: w.Duties, Drafts: w.Drafts, Supplementary: w.Supplementary, Reached: w.Reached, Error: w.Error}
}

// addWave adds people found after the first notice to a running incident
// (legal or an admin): more systems, a list of subject IDs, or both.
func (s *Server) addWave(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req AddRequest
	var named *store.NamedSubjects
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		mr, err := r.MultipartReader()
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		part, err := mr.NextPart()
		if err != nil || part.FormName() != "subjects" {
			writeError(w, http.StatusBadRequest, "the form must hold a 'subjects' file (systems go in the query: ?systems=a,b)")
			return
		}
		ids, err := s.spool(w, part)
		if err != nil {
			writeError(w, spoolStatus(err), "reading subjects: "+err.Error())
			return
		}
		defer ids.Close()
		named = &store.NamedSubjects{File: part.FileName(), Reader: ids}
		req.Systems = strings.Split(r.URL.Query().Get("systems"), ",") // the service trims and drops empties
	} else if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	wave, err := s.service().AddWave(r.Context(), caller(principal(r.Context())), id, req.Systems, named)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, waveView(wave))
}
