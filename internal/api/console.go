package api

import (
	"errors"
	"html/template"
	"net/http"
	"time"

	"github.com/tocsin/tocsin/internal/store"
)

var announcementPage = template.Must(template.New("a").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title><style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:50rem;white-space:pre-wrap}</style></head>
<body><h1>{{.Title}}</h1><p><small>Published {{.Published}}</small></p>{{.Body}}</body></html>`))

// announcementPage serves a published announcement to anyone.
func (s *Server) announcementPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if inc, err := s.Store.GetIncident(r.Context(), id); err != nil || inc.Drill {
		http.NotFound(w, r) // a drill's announcement stays in its sink
		return
	}
	a, err := s.Store.GetAnnouncement(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, "unavailable", http.StatusInternalServerError)
		return
	}
	d, err := s.Store.GetDraft(r.Context(), id, "announcement", a.Revision)
	if err != nil {
		http.Error(w, "unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	announcementPage.Execute(w, map[string]string{"Title": d.Title, "Body": d.Body, "Published": a.PublishedAt.Format(time.RFC1123)})
}
