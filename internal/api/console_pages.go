package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/templates"
	"github.com/tocsin/tocsin/workflows"
)

// The console is server-rendered HTML: every page reads without JavaScript;
// a few lines of script only tick the deadline countdowns and refresh the
// page while nobody is typing. Each page is a file of console/, as the
// notices are of templates/.
//
//go:embed console/*.html
var consoleFiles embed.FS

var consoleTemplates = template.Must(template.New("layout").Funcs(template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"left": func(t time.Time) string {
		d := time.Until(t)
		if d < 0 {
			return "overdue by " + (-d).Round(time.Minute).String()
		}
		return "in " + d.Round(time.Minute).String()
	},
	"pct": func(n, of int) int {
		if of == 0 {
			return 0
		}
		return n * 100 / of
	},
	"title": func(s string) string { return strings.ReplaceAll(s, "_", " ") },
	// timeline draws an incident's due times against its campaign's
	// projected finish (an inline SVG).
	"timeline": func(v View) template.HTML { return timelineSVG(v, time.Now().UTC()) },
}).ParseFS(consoleFiles, "console/*.html"))

// page is what every console page has.
type page struct {
	Title   string
	Me      Principal
	CSRF    string
	DevMode bool
	Flash   string
	Error   string
	Refresh int
	OIDC    string
}

// CanAudit says whether the header links the breach register.
func (p page) CanAudit() bool { return slices.Contains(auditors, p.Me.Role) }

// CanSupport says whether the person answers people's questions.
func (p page) CanSupport() bool { return slices.Contains(supporters, p.Me.Role) }

// RefreshMS is the reload interval for the page's script.
func (p page) RefreshMS() int { return p.Refresh * 1000 }

func (s *Server) consoleRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.consolePage(s.consoleList))
	mux.HandleFunc("POST /incidents", s.consoleForm(s.consoleOpen))
	mux.HandleFunc("GET /incidents/{id}", s.consolePage(s.consoleIncident))
	mux.HandleFunc("GET /incidents/{id}/drafts/{file}", s.consolePage(s.consoleDraftHTML))
	mux.HandleFunc("POST /incidents/{id}/decide", s.incidentForm(s.consoleDecide))
	mux.HandleFunc("POST /incidents/{id}/revise", s.incidentForm(s.consoleRevise))
	mux.HandleFunc("POST /incidents/{id}/facts", s.incidentForm(s.consoleFacts))
	mux.HandleFunc("POST /incidents/{id}/file", s.incidentForm(s.consoleFile))
	mux.HandleFunc("POST /incidents/{id}/waive", s.incidentForm(s.consoleWaive))
	mux.HandleFunc("POST /incidents/{id}/release-calls", s.incidentForm(s.consoleReleaseCalls))
	mux.HandleFunc("POST /incidents/{id}/pause", s.incidentForm(s.consolePause))
	mux.HandleFunc("POST /incidents/{id}/resume", s.incidentForm(s.consoleResume))
	mux.HandleFunc("POST /incidents/{id}/hold", s.incidentForm(s.consoleHold))
	mux.HandleFunc("POST /incidents/{id}/waves", s.incidentForm(s.consoleAddWave))
	mux.HandleFunc("POST /incidents/{id}/correct", s.incidentForm(s.consoleCorrect))
	mux.HandleFunc("GET /outbox", s.consolePage(s.consoleOutbox))
	mux.HandleFunc("GET /drills", s.consolePage(s.consoleDrills))
	mux.HandleFunc("GET /register", s.consolePage(s.consoleRegister))
	mux.HandleFunc("GET /register.csv", s.consolePage(s.consoleRegister))
	mux.HandleFunc("GET /drills/{id}", s.consolePage(s.consoleDrill))
	mux.HandleFunc("GET /inquiries", s.consolePage(s.consoleInquiries))
	mux.HandleFunc("POST /inquiries/{id}/answer", s.consoleForm(s.consoleInquiryAction))
	mux.HandleFunc("POST /inquiries/{id}/close", s.consoleForm(s.consoleInquiryAction))
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.consoleForm(s.logout))
	s.oidcRoutes(mux)
}

const sessionCookie = "tocsin_token"

// csrfFor binds a form to the session: a page from another site cannot know it.
func csrfFor(r *http.Request) string {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256([]byte("tocsin-csrf|" + c.Value))
	return hex.EncodeToString(sum[:16])
}

// flashSig binds a message in a redirect's query to the session that caused
// it: a link from anyone else cannot make the console display its text.
func flashSig(r *http.Request, key, msg string) string {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	m := hmac.New(sha256.New, []byte("tocsin-flash|"+c.Value))
	m.Write([]byte(key + "|" + msg))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// flash is the query's message under key, if this session signed it.
func flash(r *http.Request, key string) string {
	q := r.URL.Query()
	msg, sig := q.Get(key), q.Get(key+"_sig")
	if msg == "" || sig == "" || !hmac.Equal([]byte(sig), []byte(flashSig(r, key, msg))) {
		return ""
	}
	return msg
}

func (s *Server) base(r *http.Request, p Principal, title string) page {
	return page{Title: title, Me: p, CSRF: csrfFor(r), DevMode: s.Outbox != nil, Flash: flash(r, "flash"), Error: flash(r, "error"), OIDC: s.oidcName()}
}

func (s *Server) render(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.WriteHeader(status)
	if err := consoleTemplates.ExecuteTemplate(w, name, data); err != nil {
		s.log().Error("console page", "page", name, "error", err)
	}
}

// loginCookie holds the sign-in form's CSRF token until the form comes back:
// a page elsewhere cannot read it, so it cannot sign a browser in as someone
// else (login CSRF).
const loginCookie = "tocsin_login"

// signInPage shows the sign-in form, with why the last attempt failed.
func (s *Server) signInPage(w http.ResponseWriter, r *http.Request, status int, why string) {
	p := s.base(r, Principal{}, "Sign in")
	if why != "" {
		p.Error = why
	}
	p.CSRF = NewToken()
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: p.CSRF, Path: "/login", HttpOnly: true, Secure: strings.HasPrefix(s.PublicURL, "https://"),
		SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	s.render(w, status, "signin", p)
}

// consolePage signs the reader in (or shows the sign-in form) before a page.
func (s *Server) consolePage(h func(http.ResponseWriter, *http.Request, Principal)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.session(r)
		if !ok || p.Role == RolePlatform {
			s.signInPage(w, r, http.StatusUnauthorized, "")
			return
		}
		h(w, r, p)
	}
}

// consoleForm is consolePage for a form post: the CSRF field must match.
func (s *Server) consoleForm(h func(http.ResponseWriter, *http.Request, Principal)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.session(r)
		if !ok || p.Role == RolePlatform {
			http.Error(w, "sign in first", http.StatusUnauthorized)
			return
		}
		if err := readForm(w, r, maxConsoleForm); err != nil {
			http.Error(w, "this form could not be read: "+err.Error(), http.StatusBadRequest)
			return
		}
		if want := csrfFor(r); want == "" || r.PostFormValue("csrf") != want {
			http.Error(w, "this form is stale or came from another site; reload the page", http.StatusForbidden)
			return
		}
		h(w, r, p)
	}
}

// incidentForm is consoleForm for a form on an incident's page: the incident
// must be one p may see, and the handler answers back to that page.
func (s *Server) incidentForm(h func(w http.ResponseWriter, r *http.Request, p Principal, id, page string)) http.HandlerFunc {
	return s.consoleForm(func(w http.ResponseWriter, r *http.Request, p Principal) {
		id := r.PathValue("id")
		if _, ok := s.visible(r.Context(), p, id); !ok {
			http.NotFound(w, r)
			return
		}
		h(w, r, p, id, "/incidents/"+id)
	})
}

func back(w http.ResponseWriter, r *http.Request, path, key, msg string) {
	http.Redirect(w, r, path+"?"+url.Values{key: {msg}, key + "_sig": {flashSig(r, key, msg)}}.Encode(), http.StatusSeeOther)
}

func (s *Server) consoleList(w http.ResponseWriter, r *http.Request, p Principal) {
	data := struct {
		page
		Incidents []ListItem
		Filter    url.Values
		Statuses  []string
		Filtered  bool
		Next      string
		Problem   string
		CanOpen   bool
	}{page: s.base(r, p, "Incidents"), Filter: r.URL.Query(), Statuses: statuses, CanOpen: slices.Contains(responders, p.Role)}
	for _, k := range []string{"status", "drill", "from", "to", "jurisdiction"} {
		data.Filtered = data.Filtered || data.Filter.Get(k) != ""
	}
	data.Refresh = 15
	q, err := listQuery(r.URL.Query(), p)
	if err != nil {
		data.Problem = err.Error()
		s.render(w, http.StatusBadRequest, "list", data)
		return
	}
	var next string
	data.Incidents, next, err = s.listPage(r.Context(), q)
	if errors.Is(err, store.ErrBadCursor) {
		data.Problem = "That page link is not from this list: start again from the first page."
		s.render(w, http.StatusBadRequest, "list", data)
		return
	}
	if err != nil {
		http.Error(w, "incidents unavailable", http.StatusInternalServerError)
		return
	}
	if next != "" {
		more := r.URL.Query()
		more.Set("after", next)
		data.Next = "/?" + more.Encode()
	}
	s.render(w, http.StatusOK, "list", data)
}

func (s *Server) consoleOpen(w http.ResponseWriter, r *http.Request, p Principal) {
	id, err := s.Open(r.Context(), p, OpenRequest{File: "incident.yaml", YAML: r.FormValue("yaml")}, nil)
	if incident.RefusedAs(err) == incident.Forbidden {
		back(w, r, "/", "error", err.Error())
		return
	}
	if err != nil {
		back(w, r, "/", "error", "The incident was not opened: "+err.Error())
		return
	}
	back(w, r, "/incidents/"+id, "flash", "Incident "+id+" opened.")
}

// draftPanel is one draft on the incident page.
type draftPanel struct {
	State DraftView
	Text  store.Draft
	Diff  []DiffLine
	// DiffTooLarge says the revisions are too far apart to compare here.
	DiffTooLarge bool
	Previous     int
	CanDecide    bool
	CanRevise    bool
	// CanCorrect: an approved notice that went out, and a caller who may
	// ask for its correction.
	CanCorrect bool
}

func (s *Server) consoleIncident(w http.ResponseWriter, r *http.Request, p Principal) {
	inc, ok := s.visible(r.Context(), p, r.PathValue("id"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	v := s.view(r.Context(), inc)
	data := struct {
		page
		V        View
		Drafts   []draftPanel
		CanFile  bool
		CanWaive bool
		// NoticeBegun: a duty to tell people can no longer be waived.
		NoticeBegun bool
		CanRespond  bool
		CanRelease  bool
		// Languages are those the facts form translates into.
		Languages []string
		// Progress draws the campaign's sends over time per channel.
		Progress template.HTML
	}{page: s.base(r, p, inc.ID), V: v, Languages: templates.NoticeLocales[1:], CanFile: slices.Contains(caseWorkers, p.Role), CanWaive: p.Role == RoleLegal || (p.Role == RoleDrill && inc.Drill),
		NoticeBegun: NoticeBegun(v.Status) || v.Status == "unknown", CanRespond: slices.Contains(responders, p.Role) && v.Status != StageClosed,
		CanRelease: slices.Contains(releasers, p.Role)}
	if v.Status != StageClosed {
		data.Refresh = 10
	}
	if v.Campaign != nil {
		data.Progress = progressSVG(s.sendProgress(r.Context(), inc.ID, v.Status == StageClosed))
	}
	for _, d := range v.Drafts {
		dp := draftPanel{State: d, CanDecide: p.Role == RoleLegal && d.Status == DraftPending,
			CanRevise:  slices.Contains(responders, p.Role) && d.Status == DraftRejected,
			CanCorrect: slices.Contains(releasers, p.Role) && d.Kind == "notice" && d.Status == DraftApproved && NoticeBegun(v.Status) && v.Status != StageClosed}
		if !slices.Contains(caseWorkers, p.Role) {
			// Viewers see where each draft stands, not its text (as in the API).
			data.Drafts = append(data.Drafts, dp)
			continue
		}
		if text, err := s.Store.GetDraft(r.Context(), inc.ID, d.Name, d.Revision); err == nil {
			dp.Text = text
		}
		if d.Revision > 1 {
			if prev, err := s.Store.GetDraft(r.Context(), inc.ID, d.Name, d.Revision-1); err == nil {
				var ok bool
				dp.Diff, ok = lineDiff(prev.Title+"\n\n"+prev.Body, dp.Text.Title+"\n\n"+dp.Text.Body)
				dp.Previous, dp.DiffTooLarge = d.Revision-1, !ok
			}
		}
		data.Drafts = append(data.Drafts, dp)
	}
	s.render(w, http.StatusOK, "incident", data)
}

// consoleDraftHTML shows a draft's e-mail as the person will see it.
func (s *Server) consoleDraftHTML(w http.ResponseWriter, r *http.Request, p Principal) {
	_, ok := s.visible(r.Context(), p, r.PathValue("id"))
	name, isHTML := strings.CutSuffix(r.PathValue("file"), ".html")
	if !ok || !isHTML || !slices.Contains(caseWorkers, p.Role) {
		http.NotFound(w, r)
		return
	}
	// The API's draft handler serves it (latest revision, 404 when none).
	r2 := r.Clone(r.Context())
	r2.URL.RawQuery = url.Values{"format": {"html"}, "zone": {r.URL.Query().Get("zone")}}.Encode()
	r2.SetPathValue("name", name)
	s.showDraft(w, r2)
}

func (s *Server) consoleDecide(w http.ResponseWriter, r *http.Request, p Principal, id, page string) {
	draft, note := r.FormValue("draft"), strings.TrimSpace(r.FormValue("note"))
	rev, _ := strconv.Atoi(r.FormValue("revision"))
	req := DecisionRequest{Draft: draft, Revision: rev}
	update := workflows.UpdateApprove
	switch r.FormValue("decision") {
	case "approve":
		req.Comment = note
	case "reject":
		if note == "" {
			back(w, r, page, "error", "Say why "+draft+" is rejected (in the comment field).")
			return
		}
		update, req.Reason = workflows.UpdateReject, note
	default:
		back(w, r, page, "error", "Choose approve or reject.")
		return
	}
	d, err := s.Decide(r.Context(), p, id, update, req)
	if err != nil {
		back(w, r, page, "error", fmt.Sprintf("%s was not %sd: %s", draft, r.FormValue("decision"), err))
		return
	}
	back(w, r, page, "flash", fmt.Sprintf("%s revision %d %s by %s.", d.Name, d.Revision, d.Status, p.Identity))
}

func (s *Server) consoleRevise(w http.ResponseWriter, r *http.Request, p Principal, id, page string) {
	draft := r.FormValue("draft")
	changes, err := parseFields(r.FormValue("changes"))
	if err != nil {
		back(w, r, page, "error", "Revise "+draft+": "+err.Error())
		return
	}
	d, err := s.Decide(r.Context(), p, id, workflows.UpdateRevise, DecisionRequest{Draft: draft, Changes: changes})
	if err != nil {
		back(w, r, page, "error", draft+" was not revised: "+err.Error())
		return
	}
	back(w, r, page, "flash", fmt.Sprintf("%s is being drafted again (after revision %d).", d.Name, d.Revision))
}

func (s *Server) consoleCorrect(w http.ResponseWriter, r *http.Request, p Principal, id, page string) {
	draft := r.FormValue("draft")
	changes, err := parseFields(r.FormValue("changes"))
	if err != nil {
		back(w, r, page, "error", "Correct "+draft+": "+err.Error())
		return
	}
	c, err := s.service().CorrectNotice(r.Context(), caller(p), id, draft, changes)
	if err != nil {
		back(w, r, page, "error", draft+" is not being corrected: "+err.Error())
		return
	}
	back(w, r, page, "flash", fmt.Sprintf("Correction %d of %s asked for: legal approves the new revision, then it goes to everyone who got an earlier one.", c.Number, c.Draft))
}

func (s *Server) consoleFacts(w http.ResponseWriter, r *http.Request, p Principal, id, page string) {
	set, err := parseFields(r.FormValue("facts"))
	if err != nil {
		back(w, r, page, "error", "Facts: "+err.Error())
		return
	}
	if _, err := s.SetFacts(r.Context(), p, id, set, r.PostFormValue("locale")); err != nil {
		back(w, r, page, "error", "Facts not set: "+err.Error())
		return
	}
	back(w, r, page, "flash", "Facts set; drafts that state them are drafted again.")
}

func (s *Server) consoleFile(w http.ResponseWriter, r *http.Request, p Principal, id, page string) {
	req := SubmitRequest{Obligation: r.FormValue("obligation"), Reference: strings.TrimSpace(r.FormValue("reference")), LateReason: strings.TrimSpace(r.FormValue("late_reason"))}
	f, err := s.Submit(r.Context(), p, id, req)
	if err != nil {
		back(w, r, page, "error", req.Obligation+" was not recorded: "+err.Error())
		return
	}
	back(w, r, page, "flash", fmt.Sprintf("%s recorded as %s, reference %s.", req.Obligation, f.Status, f.Reference))
}

func (s *Server) consoleReleaseCalls(w http.ResponseWriter, r *http.Request, p Principal, id, page string) {
	rel, err := s.ReleaseCalls(r.Context(), p, id, r.PostFormValue("reason"))
	if err != nil {
		back(w, r, page, "error", "Calls not released: "+err.Error())
		return
	}
	back(w, r, page, "flash", fmt.Sprintf("Calls released from quiet hours by %s: %s. Held calls are placed now.", rel.By, rel.Reason))
}

func (s *Server) consolePause(w http.ResponseWriter, r *http.Request, p Principal, id, page string) {
	pv, err := s.PauseCampaign(r.Context(), p, id, r.PostFormValue("reason"))
	if err != nil {
		back(w, r, page, "error", "Campaign not paused: "+err.Error())
		return
	}
	back(w, r, page, "flash", fmt.Sprintf("Campaign paused by %s: %s. No notice goes out until it is resumed.", pv.By, pv.Reason))
}

func (s *Server) consoleHold(w http.ResponseWriter, r *http.Request, p Principal, id, page string) {
	until, err := time.Parse(time.RFC3339, strings.TrimSpace(r.PostFormValue("until")))
	if err != nil {
		back(w, r, page, "error", "Notice not held: until: want a time like 2026-12-06T18:00:00Z")
		return
	}
	pv, err := s.HoldCampaign(r.Context(), p, id, HoldRequest{Until: until, RequestedBy: r.PostFormValue("requested_by"), Reason: r.PostFormValue("reason")})
	if err != nil {
		back(w, r, page, "error", "Notice not held: "+err.Error())
		return
	}
	back(w, r, page, "flash", fmt.Sprintf("Notice held until %s at the request of %s; it moves %s.", pv.Until.UTC().Format("2006-01-02 15:04 UTC"), pv.RequestedBy, strings.Join(pv.Duties, ", ")))
}

func (s *Server) consoleAddWave(w http.ResponseWriter, r *http.Request, p Principal, id, page string) {
	systems := strings.Split(r.PostFormValue("systems"), ",") // the service trims and drops empties
	wave, err := s.service().AddWave(r.Context(), caller(p), id, systems, nil)
	if err != nil {
		back(w, r, page, "error", "Nobody was added: "+err.Error())
		return
	}
	back(w, r, page, "flash", fmt.Sprintf("Wave %d asked for: the plan scopes %s, drafts what it newly needs for legal, then tells only its new people.", wave.Number, strings.Join(wave.Systems, ", ")))
}

func (s *Server) consoleResume(w http.ResponseWriter, r *http.Request, p Principal, id, page string) {
	pv, err := s.ResumeCampaign(r.Context(), p, id)
	if err != nil {
		back(w, r, page, "error", "Campaign not resumed: "+err.Error())
		return
	}
	back(w, r, page, "flash", fmt.Sprintf("Campaign resumed (paused by %s since %s).", pv.By, pv.At.UTC().Format("15:04 UTC")))
}

func (s *Server) consoleWaive(w http.ResponseWriter, r *http.Request, p Principal, id, page string) {
	req := WaiveRequest{Obligation: r.FormValue("obligation"), Reason: strings.TrimSpace(r.FormValue("reason"))}
	f, err := s.Waive(r.Context(), p, id, req)
	if err != nil {
		back(w, r, page, "error", req.Obligation+" was not waived: "+err.Error())
		return
	}
	back(w, r, page, "flash", fmt.Sprintf("%s waived: %s.", req.Obligation, f.WaivedBecause))
}

func (s *Server) consoleOutbox(w http.ResponseWriter, r *http.Request, p Principal) {
	if s.Outbox == nil || !slices.Contains(caseWorkers, p.Role) {
		http.NotFound(w, r)
		return
	}
	const limit = 500
	entries, err := s.Outbox.Recent(r.Context(), r.URL.Query().Get("incident"), limit)
	if err != nil {
		http.Error(w, "outbox unavailable", http.StatusInternalServerError)
		return
	}
	s.render(w, http.StatusOK, "outbox", struct {
		page
		Entries []OutboxEntry
		Limit   int
	}{s.base(r, p, "Outbox"), entries, limit})
}

// consoleRegister is the breach register page, or its CSV download.
func (s *Server) consoleInquiries(w http.ResponseWriter, r *http.Request, p Principal) {
	if !slices.Contains(supporters, p.Role) {
		http.Error(w, "questions are for support, responders, legal and admins", http.StatusForbidden)
		return
	}
	status := r.URL.Query().Get("status")
	if !r.URL.Query().Has("status") {
		status = store.InquiryOpen
	}
	data := struct {
		page
		Status    string
		Inquiries []store.Inquiry
	}{page: s.base(r, p, "Questions"), Status: status}
	qs, err := s.Store.Inquiries(r.Context(), "", status, 500)
	if err != nil {
		data.Error = "The questions could not be read: " + err.Error()
	}
	for _, q := range qs {
		if _, ok := s.visible(r.Context(), p, q.IncidentID); ok {
			data.Inquiries = append(data.Inquiries, q)
		}
	}
	s.render(w, http.StatusOK, "inquiries", data)
}

// consoleInquiryAction answers or closes a question through the API's
// handlers, and returns to the list saying what happened.
func (s *Server) consoleInquiryAction(w http.ResponseWriter, r *http.Request, p Principal) {
	if !slices.Contains(supporters, p.Role) {
		http.Error(w, "questions are for support, responders, legal and admins", http.StatusForbidden)
		return
	}
	id := r.PathValue("id")
	q, err := s.Store.GetInquiry(r.Context(), id)
	if _, ok := s.visible(r.Context(), p, q.IncidentID); err != nil || !ok {
		http.NotFound(w, r)
		return
	}
	if strings.HasSuffix(r.URL.Path, "/close") {
		if _, err := s.closeQuestion(r.Context(), p, q); err != nil {
			back(w, r, "/inquiries", "error", id+" was not closed: "+err.Error())
			return
		}
		back(w, r, "/inquiries", "flash", id+" closed.")
		return
	}
	answer := strings.TrimSpace(r.PostFormValue("answer"))
	if answer == "" || len(answer) > MaxAnswerBytes {
		back(w, r, "/inquiries", "error", fmt.Sprintf("%s: write an answer of at most %d bytes.", id, MaxAnswerBytes))
		return
	}
	q, err = s.answer(r.Context(), p, q, answer)
	if err != nil {
		back(w, r, "/inquiries", "error", id+" was not answered: "+err.Error())
		return
	}
	if q.AnswerRef != "" {
		back(w, r, "/inquiries", "flash", id+" answered by "+map[string]string{ChannelSMS: "text message", ChannelEmail: "e-mail"}[q.Channel]+", as it was asked.")
		return
	}
	back(w, r, "/inquiries", "flash", id+" answered; the person reads it on their notice's page.")
}

func (s *Server) consoleRegister(w http.ResponseWriter, r *http.Request, p Principal) {
	if !slices.Contains(auditors, p.Role) {
		http.Error(w, "the register is for responders, legal and admins", http.StatusForbidden)
		return
	}
	data := struct {
		page
		From, To, Problem string
		Entries           []RegisterEntry
	}{page: s.base(r, p, "Breach register"), From: r.URL.Query().Get("from"), To: r.URL.Query().Get("to")}
	from, to, err := registerPeriod(r)
	if err != nil {
		data.Problem = err.Error()
		s.render(w, http.StatusBadRequest, "register", data)
		return
	}
	if data.Entries, err = s.register(r.Context(), p, from, to); err != nil {
		http.Error(w, "the register is unavailable", http.StatusInternalServerError)
		return
	}
	if strings.HasSuffix(r.URL.Path, ".csv") {
		serveRegisterCSV(w, data.Entries)
		return
	}
	s.render(w, http.StatusOK, "register", data)
}

func (s *Server) consoleDrills(w http.ResponseWriter, r *http.Request, p Principal) {
	ds, err := s.Store.ListDrills(r.Context())
	if err != nil {
		http.Error(w, "drills unavailable", http.StatusInternalServerError)
		return
	}
	s.render(w, http.StatusOK, "drills", struct {
		page
		Drills []store.Drill
	}{s.base(r, p, "Drills"), ds})
}

func (s *Server) consoleDrill(w http.ResponseWriter, r *http.Request, p Principal) {
	d, err := s.Store.GetDrill(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, "drill unavailable", http.StatusInternalServerError)
		return
	}
	data := struct {
		page
		Drill store.Drill
	}{page: s.base(r, p, "Drill "+d.ID), Drill: d}
	if d.Report == nil {
		data.Refresh = 5
	}
	s.render(w, http.StatusOK, "drill", data)
}

// maxLoginForm bounds the sign-in form: a CSRF value and a token.
const maxLoginForm = 4 << 10

// maxConsoleForm bounds a console form (the largest is an incident file).
const maxConsoleForm = 2 << 20

// readForm parses a console form post, and only that: a URL-encoded body of
// at most limit bytes. A multipart body (which net/http would spool to disk
// before any check) is refused unread.
func readForm(w http.ResponseWriter, r *http.Request, limit int64) error {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		return fmt.Errorf("send the form as application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	return r.ParseForm()
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if err := readForm(w, r, maxLoginForm); err != nil {
		s.signInPage(w, r, http.StatusBadRequest, "This sign-in form could not be read; sign in again.")
		return
	}
	if c, err := r.Cookie(loginCookie); err != nil || c.Value == "" || !hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(c.Value)) {
		s.signInPage(w, r, http.StatusForbidden, "This sign-in form is stale or came from another site; sign in again.")
		return
	}
	token := r.PostFormValue("token")
	t, err := s.Store.LookupToken(r.Context(), HashToken(token))
	if err != nil || t.Session || t.Role == RolePlatform {
		s.signInPage(w, r, http.StatusUnauthorized, "Unknown token.")
		return
	}
	// The API token stays with its owner; the browser gets a session of its
	// own, which ends no later than the token does.
	s.newSession(w, r, Principal{Identity: t.Identity, Role: t.Role, Via: "console"}, "token", t.Expires)
}

// newSession mints a console session token (hashed at rest, 12 hours), sets
// it as an HttpOnly cookie and records the sign-in.
func (s *Server) newSession(w http.ResponseWriter, r *http.Request, p Principal, how string, notAfter time.Time) {
	token := NewToken()
	expires := time.Now().Add(SessionLength)
	if !notAfter.IsZero() && notAfter.Before(expires) {
		expires = notAfter
	}
	if err := s.Store.PutToken(r.Context(), HashToken(token), store.Token{Identity: p.Identity, Role: p.Role, Session: true, Expires: expires}); err != nil {
		http.Error(w, "could not start a session", http.StatusInternalServerError)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: strings.HasPrefix(s.PublicURL, "https://"),
		SameSite: http.SameSiteLaxMode, Expires: expires})
	s.audit(r.Context(), p, "", "sign in", store.AuditDone, map[string]string{"method": how})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, p Principal) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.Store.DeleteToken(r.Context(), HashToken(c.Value))
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
