package api

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/verify"
	"github.com/tocsin/tocsin/templates"
)

// VerifyRequest asks whether a notice's code is genuine.
type VerifyRequest struct {
	Code string `json:"code"`
}

// VerifyResponse answers a notice's reader: genuine or not and, if it is,
// their own notice, in their language, and their own data involved. A
// code that matches nothing gets the same answer however it is wrong.
type VerifyResponse struct {
	Genuine bool   `json:"genuine"`
	Message string `json:"message"`
	// Drill marks a notice a drill made (it never reached a real person).
	Drill      bool     `json:"drill,omitempty"`
	IncidentID string   `json:"incident_id,omitempty"`
	Locale     string   `json:"locale,omitempty"`
	Title      string   `json:"title,omitempty"`
	Notice     string   `json:"notice,omitempty"`
	YourData   []string `json:"your_data,omitempty"`
	// YourDataHeading heads YourData in the reader's language.
	YourDataHeading string `json:"your_data_heading,omitempty"`
	// EnrolmentCode is their code for the remedy offered, to be used by
	// EnrolBy (tocsin incident codes import).
	EnrolmentCode string `json:"enrolment_code,omitempty"`
	EnrolBy       string `json:"enrol_by,omitempty"`
	// Inquiries are the questions this person asked here, with answers.
	Inquiries []PublicInquiry `json:"inquiries,omitempty"`
}

// PublicInquiry is a question a person asked, as they see it.
type PublicInquiry struct {
	Question   string    `json:"question"`
	AskedAt    time.Time `json:"asked_at"`
	Answer     string    `json:"answer,omitempty"`
	AnsweredAt time.Time `json:"answered_at,omitzero"`
}

// AskRequest is a question about a notice, from its reader (the code
// says whose).
type AskRequest struct {
	Code     string `json:"code"`
	Question string `json:"question"`
}

// MaxQuestionBytes bounds a person's question.
const MaxQuestionBytes = 2000

// notGenuine is the one answer to a code no notice carries.
const notGenuine = "No notice of ours carries this code. If a message that claims to be from us gave it to you, do not follow its links, call its numbers or give it any information; forward it to us instead."

// DefaultVerifyPerMinute is how many codes one client may check a minute.
const DefaultVerifyPerMinute = 10

// clientLimits rate-limits code checks per client, so codes cannot be
// guessed by trying them; the table forgets clients once it is large.
type clientLimits struct {
	mu      sync.Mutex
	clients map[string]*rate.Limiter
}

const maxLimitedClients = 100_000

func (s *Server) allowVerify(r *http.Request) bool {
	s.verifyOnce.Do(func() { s.verifyLimits = &clientLimits{clients: map[string]*rate.Limiter{}} })
	per := s.VerifyPerMinute
	if per <= 0 {
		per = DefaultVerifyPerMinute
	}
	l := s.verifyLimits
	l.mu.Lock()
	defer l.mu.Unlock()
	key := s.clientOf(r)
	lim, ok := l.clients[key]
	if !ok {
		if len(l.clients) >= maxLimitedClients {
			l.clients = map[string]*rate.Limiter{}
		}
		lim = rate.NewLimiter(rate.Every(time.Minute/time.Duration(per)), per)
		l.clients[key] = lim
	}
	return lim.Allow()
}

// clientOf is who asks: the connection's address, or, behind a proxy
// Tocsin trusts, the address that proxy saw (the last of X-Forwarded-For).
func (s *Server) clientOf(r *http.Request) string {
	if s.TrustForwardedFor {
		if f := r.Header.Values("X-Forwarded-For"); len(f) > 0 {
			parts := strings.Split(f[len(f)-1], ",")
			if ip := strings.TrimSpace(parts[len(parts)-1]); ip != "" {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// verifyCode looks a code up and builds its answer.
func (s *Server) verifyCode(ctx context.Context, typed string) (VerifyResponse, error) {
	no := VerifyResponse{Message: notGenuine}
	code, ok := verify.Normalize(typed)
	if !ok {
		return no, nil
	}
	who, err := s.Store.LookupCode(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return no, nil
	}
	if err != nil {
		return VerifyResponse{}, err
	}
	inc, err := s.Store.GetIncident(ctx, who.IncidentID)
	if err != nil {
		return VerifyResponse{}, err
	}
	out := VerifyResponse{Genuine: true, Drill: inc.Drill, IncidentID: who.IncidentID}
	enrolment, err := s.Store.EnrolmentCodesOf(ctx, who.IncidentID, []string{who.SubjectID})
	if err != nil {
		return VerifyResponse{}, err
	}
	e := enrolment[who.SubjectID]
	out.EnrolmentCode, out.EnrolBy = e.Code, e.EnrolBy
	var yours []string
	if a, err := s.Store.AffectedOne(ctx, who.IncidentID, who.SubjectID); err == nil {
		yours = a.Categories
	} else if !errors.Is(err, store.ErrNotFound) {
		return VerifyResponse{}, err
	}
	name, revision, err := s.Store.NoticeSent(ctx, who.IncidentID, who.SubjectID)
	if err == nil {
		d, err := s.Store.GetDraft(ctx, who.IncidentID, name, revision)
		if err != nil {
			return VerifyResponse{}, err
		}
		per := templates.Personal{Code: code, EnrolmentCode: e.Code, EnrolBy: e.EnrolBy, Categories: yours}
		out.Locale, out.Title, out.Notice = d.Locale, templates.Personalize(d.Title, d.Locale, per, false), templates.Personalize(d.Body, d.Locale, per, false)
	} else if !errors.Is(err, store.ErrNotFound) {
		return VerifyResponse{}, err
	}
	out.Message, out.YourDataHeading = templates.Verified(out.Locale)
	asked, err := s.Store.InquiriesOf(ctx, who.IncidentID, who.SubjectID)
	if err != nil {
		return VerifyResponse{}, err
	}
	for _, q := range asked {
		out.Inquiries = append(out.Inquiries, PublicInquiry{Question: q.Question, AskedAt: q.AskedAt, Answer: q.Answer, AnsweredAt: q.AnsweredAt})
	}
	if yours != nil {
		out.YourData = templates.Labels(yours, out.Locale)
	}
	return out, nil
}

// verifyAPI is POST /api/v1/public/verify: anyone may ask, a few times a
// minute.
func (s *Server) verifyAPI(w http.ResponseWriter, r *http.Request) {
	if !s.allowVerify(r) {
		w.Header().Set("Retry-After", "60")
		writeError(w, http.StatusTooManyRequests, "too many codes checked from here: wait a minute")
		return
	}
	var req VerifyRequest
	if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	out, err := s.verifyCode(r.Context(), req.Code)
	if err != nil {
		s.log().Error("verify", "error", err)
		writeError(w, http.StatusInternalServerError, "the check is unavailable; try again later")
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// ask records a question from a notice's reader; ok is false for a code
// no notice carries (the caller answers as for any wrong code).
func (s *Server) ask(ctx context.Context, typed, question string) (ok bool, err error) {
	question = strings.TrimSpace(question)
	if question == "" || len(question) > MaxQuestionBytes || !utf8.ValidString(question) {
		return false, fmt.Errorf("question: from 1 to %d bytes of text", MaxQuestionBytes)
	}
	code, valid := verify.Normalize(typed)
	if !valid {
		return false, nil
	}
	who, err := s.Store.FindCode(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	_, err = s.Store.AddInquiry(ctx, store.Inquiry{IncidentID: who.IncidentID, SubjectID: who.SubjectID, Channel: "web", Question: question, AskedAt: time.Now().UTC()})
	return err == nil, err
}

// askAPI is POST /api/v1/public/inquiries: a notice's reader asks a
// question; the answer appears where they check their notice.
func (s *Server) askAPI(w http.ResponseWriter, r *http.Request) {
	if !s.allowVerify(r) {
		w.Header().Set("Retry-After", "60")
		writeError(w, http.StatusTooManyRequests, "too many requests from here: wait a minute")
		return
	}
	var req AskRequest
	if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ok, err := s.ask(r.Context(), req.Code, req.Question)
	if err != nil && !ok {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if !ok {
		writeJSON(w, http.StatusOK, VerifyResponse{Message: notGenuine})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": "Your question was received. The answer will appear where you checked your notice."})
}

// verifyPage is the page a notice links to (/n/CODE) and the form at
// /verify where a code is typed: plain HTML, no script.
func (s *Server) verifyPage(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	question := ""
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		code, question = r.PostFormValue("code"), r.PostFormValue("question")
	}
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.Header().Set("Referrer-Policy", "no-referrer") // the code is in the address
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	data := verifyData{Asked: code != "", Code: code}
	status := http.StatusOK
	switch {
	case code == "":
	case !s.allowVerify(r):
		status, data.Limited = http.StatusTooManyRequests, true
		w.Header().Set("Retry-After", "60")
	default:
		if question != "" {
			asked, err := s.ask(r.Context(), code, question)
			data.Asked2 = asked
			if err != nil && !asked {
				data.AskError = err.Error()
			}
		}
		out, err := s.verifyCode(r.Context(), code)
		if err != nil {
			s.log().Error("verify", "error", err)
			status, data.Unavailable = http.StatusInternalServerError, true
			break
		}
		data.VerifyResponse = out
	}
	w.WriteHeader(status)
	if err := verifyTemplate.Execute(w, data); err != nil {
		s.log().Error("verify page", "error", err)
	}
}

type verifyData struct {
	VerifyResponse
	Asked, Limited, Unavailable bool
	// Asked2 says a question was just taken; AskError why one was not.
	Asked2   bool
	AskError string
	Code     string
}

var verifyTemplate = template.Must(template.New("verify").Parse(`<!doctype html>
<html lang="{{with .Locale}}{{.}}{{else}}en{{end}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Check a notice</title>
<style>body{font:12pt/1.5 system-ui,sans-serif;max-width:44em;margin:2em auto;padding:0 1em}.notice{white-space:pre-wrap;border-left:4px solid #2a6;padding-left:1em}.genuine{color:#164;font-weight:bold}.fake{color:#a00;font-weight:bold}</style>
</head><body>
<h1>Check a notice</h1>
{{if .Limited}}<p class="fake" role="alert">Too many codes were checked from here. Wait a minute and try again.</p>
{{else if .Unavailable}}<p class="fake" role="alert">The check is unavailable just now. Try again later; do not act on the message until it is checked.</p>
{{else if .Genuine}}<p class="genuine" role="status">{{.Message}}</p>
{{if .Drill}}<p>(This notice belongs to a drill: it reached no real person.)</p>{{end}}
{{if .YourData}}<h2>{{.YourDataHeading}}</h2><ul>{{range .YourData}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Notice}}<h2>{{.Title}}</h2><div class="notice">{{.Notice}}</div>{{end}}
<h2>Questions about this notice</h2>
{{range .Inquiries}}<div class="qa"><p><strong>You asked</strong> ({{.AskedAt.Format "2006-01-02 15:04 UTC"}}): {{.Question}}</p>{{if .Answer}}<p role="note"><strong>Our answer</strong> ({{.AnsweredAt.Format "2006-01-02 15:04 UTC"}}): {{.Answer}}</p>{{else}}<p>Not answered yet; the answer will appear here.</p>{{end}}</div>{{end}}
{{if .Asked2}}<p role="status">Your question was received. The answer will appear on this page.</p>{{end}}{{with .AskError}}<p class="fake">{{.}}</p>{{end}}
<form method="post" action="/verify"><input type="hidden" name="code" value="{{$.Code}}"><p><label for="question">Ask us a question</label><br>
<textarea id="question" name="question" rows="4" cols="60" maxlength="2000"></textarea><br><button>Send the question</button></p></form>
{{else if .Asked}}<p class="fake" role="alert">{{.Message}}</p>
{{end}}
<form method="post" action="/verify"><p><label for="code">The code in your notice</label><br>
<input id="code" name="code" autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="40" size="14"> <button>Check</button></p></form>
<p><small>We never ask for your password, a verification code or payment details in a notice.</small></p>
</body></html>`))
