package api

import (
	"errors"
	"html/template"
	"net/http"
	"time"

	"github.com/tocsin/tocsin/internal/store"
)

var consolePage = template.Must(template.New("console").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tocsin</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left}.closed{color:#276749}.awaiting_approval{color:#b7791f}</style></head>
<body><h1>Tocsin incidents</h1>
{{if .SignIn}}<form method="post" action="/login"><label>API token <input name="token" type="password" autocomplete="off"></label> <button>Sign in</button></form>
{{else}}<p>Signed in as {{.Who}}</p>
<table><tr><th>ID</th><th>Title</th><th>Stage</th><th>Affected</th><th>Reached</th><th>Opened</th></tr>
{{range .Incidents}}<tr><td>{{.ID}}</td><td>{{.Title}}</td><td class="{{.Status}}">{{.Status}}</td><td>{{.Scope.Subjects}}</td><td>{{.Notifications.Reached}}</td><td>{{.OpenedAt.Format "2006-01-02 15:04"}}</td></tr>
{{else}}<tr><td colspan="6">No incidents yet.</td></tr>{{end}}</table>{{end}}
</body></html>`))

// console lists incidents and their stage. It reads without JavaScript; the
// token is kept in an HttpOnly cookie after sign-in.
func (s *Server) console(w http.ResponseWriter, r *http.Request) {
	p, ok := s.authenticate(r)
	data := struct {
		SignIn    bool
		Who       string
		Incidents []View
	}{SignIn: !ok, Who: p.Identity + " (" + p.Role + ")"}
	if ok {
		incs, err := s.Store.ListIncidents(r.Context())
		if err != nil {
			http.Error(w, "incidents unavailable", http.StatusInternalServerError)
			return
		}
		for _, inc := range incs {
			data.Incidents = append(data.Incidents, s.view(r.Context(), inc))
		}
	} else {
		w.WriteHeader(http.StatusUnauthorized)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	consolePage.Execute(w, data)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	token := r.FormValue("token")
	if _, err := s.Store.LookupToken(r.Context(), HashToken(token)); err != nil {
		http.Error(w, "unknown token", http.StatusUnauthorized)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: "tocsin_token", Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Expires: time.Now().Add(12 * time.Hour)})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

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
