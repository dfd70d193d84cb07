// Package api is Tocsin's HTTP surface: the JSON API under /api/v1 (every call
// authenticated, roles checked), provider webhooks (signatures verified), the
// console and the public announcement pages.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/letters"
	"github.com/tocsin/tocsin/internal/redact"
	"github.com/tocsin/tocsin/internal/service"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/templates"
	"github.com/tocsin/tocsin/workflows"
)

// Server serves the API.
type Server struct {
	Store    *store.Store
	Temporal client.Client
	// Outbox is set in dev mode, where the local peers keep what they receive.
	Outbox Outbox
	// TwilioAuthToken verifies X-Twilio-Signature on status callbacks.
	TwilioAuthToken string
	// PublicURL is the base URL Twilio and browsers use to reach Tocsin.
	PublicURL string
	Log       *slog.Logger
	// BatchSize (subjects per notification activity), BatchWindow,
	// PartitionSize and PartitionWindow size new incidents' campaigns (0:
	// the workflow's default). PartitionWindow x BatchWindow batches run at
	// once: what more workers can share.
	BatchSize, BatchWindow, PartitionSize, PartitionWindow int
	ReceiptPoll                                            time.Duration
	// PlaybookDir overrides the built-in playbooks (drills check the name).
	PlaybookDir string
	// Rates are the channels' configured messages per second, all workers
	// together: what the view projects a campaign's finish with.
	Rates map[string]float64
	// RateCeilings are the providers' ceilings (rate_ceilings:): an admin
	// may set a paced channel's rate at run time up to its ceiling.
	RateCeilings map[string]float64
	ladders      ladders
	// Replies texts support's answers to questions asked by text (nil:
	// such answers are saved and the console says they were not sent).
	Replies Replier
	// Slack is the war room's buttons and slash command; nil turns them off.
	Slack *SlackApp
	// OIDC signs people in to the console; nil leaves API-token sign-in only.
	OIDC *OIDCConfig
	// ActorKey signs each update's actor (TOCSIN_ACTOR_KEY); the workers
	// hold the same key and refuse what it did not sign.
	ActorKey []byte
	// Uploads bounds what inventory and subject-list uploads spool to disk.
	Uploads Uploads
	// Codec serves /codec/{namespace}/decode for operators; nil: none.
	Codec *CodecEndpoint
	// DataConverter is the Temporal client's (it decodes schedule memos);
	// nil: Temporal's default.
	DataConverter converter.DataConverter

	// Letters prints letters again for export (nil: the default font).
	Letters *letters.Printer

	// VerifyPerMinute is how many notice codes one client may check a
	// minute (0: DefaultVerifyPerMinute); TrustForwardedFor takes the
	// client from X-Forwarded-For, set by a proxy in front of Tocsin.
	VerifyPerMinute   int
	TrustForwardedFor bool
	verifyOnce        sync.Once
	verifyLimits      *clientLimits

	// campaigns caches each incident's ledger counts for a second: a room
	// of people running `incident watch` must not slow the campaign.
	campaigns sync.Map // incident ID -> cachedCampaign
	// waiting caches the people each campaign has still to send to
	// (pacing); sends its sends over time (the console's chart).
	waiting, sends sync.Map
}

// route is one authenticated API route and the roles allowed on it. The
// table is the one place access is decided; the authorisation test walks it.
type route struct {
	pattern string
	roles   []string
	handler func(*Server) http.HandlerFunc
}

var apiRoutes = []route{
	{"POST /api/v1/inventory", responders, func(s *Server) http.HandlerFunc { return s.importInventory }},
	{"GET /api/v1/inventory", caseWorkers, func(s *Server) http.HandlerFunc { return s.listSnapshots }},
	{"POST /api/v1/inventory/prune", responders, func(s *Server) http.HandlerFunc { return s.pruneSnapshots }},
	{"POST /api/v1/incidents", responders, func(s *Server) http.HandlerFunc { return s.openIncident }},
	{"GET /api/v1/incidents", anyone, func(s *Server) http.HandlerFunc { return s.listIncidents }},
	{"GET /api/v1/incidents/{id}", anyone, func(s *Server) http.HandlerFunc { return s.showIncident }},
	{"GET /api/v1/incidents/{id}/drafts/{name}", caseWorkers, func(s *Server) http.HandlerFunc { return s.showDraft }},
	{"GET /api/v1/incidents/{id}/subjects", caseWorkers, func(s *Server) http.HandlerFunc { return s.listSubjects }},
	{"GET /api/v1/incidents/{id}/audit", auditors, func(s *Server) http.HandlerFunc { return s.auditLog }},
	{"GET /api/v1/incidents/{id}/deliveries", auditors, func(s *Server) http.HandlerFunc { return s.deliveryLedger }},
	{"GET /api/v1/incidents/{id}/notice-by-duty", auditors, func(s *Server) http.HandlerFunc { return s.noticeByDuty }},
	{"POST /api/v1/incidents/{id}/returned", caseWorkers, func(s *Server) http.HandlerFunc { return s.returnedMail }},
	{"GET /api/v1/incidents/{id}/letters", letterReaders, func(s *Server) http.HandlerFunc { return s.mailedLetters }},
	{"POST /api/v1/incidents/{id}/approve", legalOnly, func(s *Server) http.HandlerFunc { return s.approve }},
	{"POST /api/v1/incidents/{id}/reject", legalOnly, func(s *Server) http.HandlerFunc { return s.reject }},
	{"POST /api/v1/incidents/{id}/revise", responders, func(s *Server) http.HandlerFunc { return s.revise }},
	{"POST /api/v1/incidents/{id}/submit", caseWorkers, func(s *Server) http.HandlerFunc { return s.submit }},
	{"POST /api/v1/incidents/{id}/waive", waivers, func(s *Server) http.HandlerFunc { return s.waive }},
	{"POST /api/v1/incidents/{id}/release-calls", releasers, func(s *Server) http.HandlerFunc { return s.releaseCalls }},
	{"POST /api/v1/incidents/{id}/enrolment-codes", responders, func(s *Server) http.HandlerFunc { return s.importEnrolmentCodes }},
	{"POST /api/v1/incidents/{id}/correct", releasers, func(s *Server) http.HandlerFunc { return s.correctNotice }},
	{"POST /api/v1/incidents/{id}/waves", releasers, func(s *Server) http.HandlerFunc { return s.addWave }},
	{"POST /api/v1/incidents/{id}/hold", releasers, func(s *Server) http.HandlerFunc { return s.holdCampaign }},
	{"POST /api/v1/incidents/{id}/pause", releasers, func(s *Server) http.HandlerFunc { return s.pauseCampaign }},
	{"POST /api/v1/incidents/{id}/resume", releasers, func(s *Server) http.HandlerFunc { return s.resumeCampaign }},
	{"POST /api/v1/incidents/{id}/facts", responders, func(s *Server) http.HandlerFunc { return s.setFacts }},
	{"GET /api/v1/inquiries", supporters, func(s *Server) http.HandlerFunc { return s.listInquiries }},
	{"POST /api/v1/inquiries/{id}/answer", supporters, func(s *Server) http.HandlerFunc { return s.answerInquiry }},
	{"POST /api/v1/inquiries/{id}/close", supporters, func(s *Server) http.HandlerFunc { return s.closeInquiry }},
	{"GET /api/v1/register", auditors, func(s *Server) http.HandlerFunc { return s.registerHandler }},
	{"POST /api/v1/drills", drillers, func(s *Server) http.HandlerFunc { return s.runDrill }},
	{"GET /api/v1/drills", anyone, func(s *Server) http.HandlerFunc { return s.listDrills }},
	{"GET /api/v1/drills/{id}", anyone, func(s *Server) http.HandlerFunc { return s.showDrill }},
	{"POST /api/v1/drill-schedules", drillers, func(s *Server) http.HandlerFunc { return s.scheduleDrill }},
	{"DELETE /api/v1/drill-schedules/{id}", drillers, func(s *Server) http.HandlerFunc { return s.deleteDrillSchedule }},
	{"GET /api/v1/drill-schedules", anyone, func(s *Server) http.HandlerFunc { return s.listDrillSchedules }},
	{"GET /api/v1/channels/holds", caseWorkers, func(s *Server) http.HandlerFunc { return s.listHolds }},
	{"POST /api/v1/channels/{channel}/resume", responders, func(s *Server) http.HandlerFunc { return s.resumeChannel }},
	{"GET /api/v1/channels/rates", caseWorkers, func(s *Server) http.HandlerFunc { return s.listRates }},
	{"PUT /api/v1/channels/{channel}/rate", admins, func(s *Server) http.HandlerFunc { return s.setRate }},
	{"GET /api/v1/outbox", caseWorkers, func(s *Server) http.HandlerFunc { return s.outbox }},
	{"GET /api/v1/onsite/inbox/{account}", platform, func(s *Server) http.HandlerFunc { return s.onsiteInbox }},
}

// Handler routes every request.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	for _, rt := range apiRoutes {
		mux.HandleFunc(rt.pattern, s.require(rt.roles, rt.handler(s)))
	}
	mux.HandleFunc("POST /webhooks/twilio/status", s.twilioStatus)
	mux.HandleFunc("POST /webhooks/twilio/ack", s.twilioAck)
	mux.HandleFunc("POST /webhooks/twilio/sms", s.twilioIncoming)
	mux.HandleFunc("POST /webhooks/slack/interactivity", s.slackInteractivity)
	mux.HandleFunc("POST /webhooks/slack/commands", s.slackCommand)
	mux.HandleFunc("GET /announcements/{id}", s.announcementPage)
	// A notice's reader checks it is genuine: no sign-in, rate-limited.
	mux.HandleFunc("GET /verify", s.verifyPage)
	mux.HandleFunc("POST /verify", s.verifyPage)
	mux.HandleFunc("GET /n/{code}", s.verifyPage)
	mux.HandleFunc("POST /api/v1/public/verify", s.verifyAPI)
	mux.HandleFunc("POST /api/v1/public/inquiries", s.askAPI)
	s.consoleRoutes(mux)
	s.codecRoutes(mux)
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func decode(r *http.Request, v any) error {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		return fmt.Errorf("request body: send it as Content-Type: application/json")
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("request body: %w", err)
	}
	return nil
}

func (s *Server) importInventory(w http.ResponseWriter, r *http.Request) {
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, http.StatusBadRequest, "send systems and subjects as multipart form files")
		return
	}
	// systems.yaml is small and comes first; subjects.csv is streamed straight into the import.
	var systemsName string
	var systems []byte
	for {
		part, err := mr.NextPart()
		if err != nil {
			writeError(w, http.StatusBadRequest, "the form must hold a 'systems' file followed by a 'subjects' file")
			return
		}
		switch part.FormName() {
		case "systems":
			systemsName = part.FileName()
			systems, err = io.ReadAll(io.LimitReader(part, 16<<20))
			if err != nil {
				writeError(w, http.StatusBadRequest, "reading systems: "+err.Error())
				return
			}
		case "subjects":
			if systems == nil {
				writeError(w, http.StatusBadRequest, "send the 'systems' file before the 'subjects' file")
				return
			}
			maxErrors := 0
			fmt.Sscanf(r.URL.Query().Get("max_errors"), "%d", &maxErrors)
			who := principal(r.Context()).Identity
			subjects, err := s.spool(w, part)
			if err != nil {
				writeError(w, spoolStatus(err), "reading subjects: "+err.Error())
				return
			}
			defer subjects.Close()
			started := time.Now()
			res, err := s.Store.ImportInventory(r.Context(), store.ImportInput{SystemsFile: systemsName, Systems: bytes.NewReader(systems),
				SubjectsFile: part.FileName(), Subjects: subjects, ImportedBy: who, MaxErrors: maxErrors,
				Progress: func(rows int64) {
					s.log().Info("inventory import", "file", part.FileName(), "rows", rows, "rows_per_s", int(float64(rows)/time.Since(started).Seconds()))
				}})
			var refused *store.ImportError
			isRefused := errors.As(err, &refused)
			if err != nil {
				detail := map[string]string{"file": part.FileName(), "reason": redact.Text(firstLine(err.Error()))}
				if isRefused {
					detail["rejected"], detail["reason"] = strconv.FormatInt(refused.Rejected, 10), refused.Summary()
				}
				s.audit(r.Context(), principal(r.Context()), "", "inventory import", store.AuditRefused, detail)
			}
			if isRefused {
				s.log().Warn("inventory import refused", "file", part.FileName(), "rejected", refused.Rejected, "by", who)
				writeJSON(w, http.StatusUnprocessableEntity, struct {
					Error string `json:"error"`
					*store.ImportError
				}{err.Error(), refused})
				return
			}
			if err != nil {
				writeError(w, http.StatusUnprocessableEntity, err.Error())
				return
			}
			s.audit(r.Context(), principal(r.Context()), "", "inventory import", store.AuditDone, map[string]string{"snapshot": strconv.FormatInt(res.Snapshot, 10),
				"subjects": strconv.FormatInt(res.Subjects, 10), "file": part.FileName()})
			s.log().Info("inventory imported", "snapshot", res.Snapshot, "subjects", res.Subjects, "seconds", res.Seconds, "by", who)
			writeJSON(w, http.StatusOK, res)
			return
		}
	}
}

// TransferTimeout is how long a long transfer may take: an inventory or
// subject-list upload to arrive, or the delivery ledger to stream out. Every
// other request lives within the server's own timeouts (see NewHTTPServer).
const TransferTimeout = time.Hour

// MaxUpload bounds one uploaded file by default (a 10-million-row inventory
// is about 1 GB).
const MaxUpload = 16 << 30

// KeepFree is the disk space an upload leaves free by default in the spool
// directory: the store, logs and other uploads share the disk.
const KeepFree = 1 << 30

// Uploads bounds what uploads may spool to disk (the zero value: the
// system's temporary directory, MaxUpload, KeepFree).
type Uploads struct {
	Dir      string
	MaxBytes int64
	KeepFree int64
}

// errNoSpace is an upload refused for the disk space it would take.
type errNoSpace struct{ msg string }

func (e errNoSpace) Error() string { return e.msg }

// spoolStatus is the HTTP status for a spool error.
func spoolStatus(err error) int {
	var ns errNoSpace
	if errors.As(err, &ns) {
		return http.StatusInsufficientStorage
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

// spooledFile is an upload copied to a temporary file, removed on Close.
type spooledFile struct{ *os.File }

func (f spooledFile) Close() error {
	f.File.Close()
	return os.Remove(f.Name())
}

// spool copies an upload to a temporary file before the store sees it. On
// SQLite the store has one connection: a transaction that read its rows
// straight from a slow client would hold it, and with it every token check,
// console page and webhook, for as long as the client took to send them.
// The copy stops at the upload limit, and before it would leave less than
// KeepFree on the spool directory's disk.
func (s *Server) spool(w http.ResponseWriter, part io.Reader) (spooledFile, error) {
	u := s.Uploads
	if u.Dir == "" {
		u.Dir = os.TempDir()
	}
	if u.MaxBytes <= 0 {
		u.MaxBytes = MaxUpload
	}
	if u.KeepFree <= 0 {
		u.KeepFree = KeepFree
	}
	if free, err := freeBytes(u.Dir); err == nil && free <= u.KeepFree {
		return spooledFile{}, errNoSpace{fmt.Sprintf("the server's upload directory has %d MiB free, and keeps %d MiB free: no room for an upload", free>>20, u.KeepFree>>20)}
	}
	// The server's write timeout runs from the request's start: an upload
	// that takes minutes to arrive must still get its answer.
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Now().Add(TransferTimeout))
	rc.SetWriteDeadline(time.Now().Add(TransferTimeout + time.Hour))
	f, err := os.CreateTemp(u.Dir, "tocsin-upload-*")
	if err != nil {
		return spooledFile{}, err
	}
	sf := spooledFile{f}
	n, err := io.Copy(&diskGuard{w: f, dir: u.Dir, keep: u.KeepFree}, io.LimitReader(part, u.MaxBytes+1))
	if err == nil && n > u.MaxBytes {
		err = &http.MaxBytesError{Limit: u.MaxBytes}
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		sf.Close()
		return spooledFile{}, err
	}
	return sf, nil
}

// diskGuard writes an upload to disk, looking at the free space every
// 64 MiB: it stops before the disk is left with less than keep.
type diskGuard struct {
	w         io.Writer
	dir       string
	keep      int64
	sinceLook int64
}

const diskLookEvery = 64 << 20

func (g *diskGuard) Write(p []byte) (int, error) {
	if g.sinceLook+int64(len(p)) >= diskLookEvery {
		g.sinceLook = 0
		if free, err := freeBytes(g.dir); err == nil && free-diskLookEvery <= g.keep {
			return 0, errNoSpace{fmt.Sprintf("the upload stopped: the server's upload directory is down to %d MiB free, and keeps %d MiB free", free>>20, g.keep>>20)}
		}
	}
	g.sinceLook += int64(len(p))
	return g.w.Write(p)
}

// freeBytes is the space an unprivileged writer may use on dir's disk.
func freeBytes(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// NewHTTPServer is the API's server with timeouts: a client that sends its
// headers or body a byte at a time (slow loris) is dropped instead of
// holding a connection for ever. Uploads extend their own read deadline.
func NewHTTPServer(h http.Handler, headerTimeout time.Duration) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: headerTimeout, ReadTimeout: 2 * time.Minute,
		WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute}
}

// firstLine is an error's first line: a refused import lists every bad row
// after it, and the audit log keeps the summary, not the people's data.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func (s *Server) listSnapshots(w http.ResponseWriter, r *http.Request) {
	snaps, err := s.Store.Snapshots(r.Context())
	if err != nil {
		s.writeErr(w, err)
		return
	}
	if snaps == nil {
		snaps = []store.Snapshot{}
	}
	writeJSON(w, http.StatusOK, snaps)
}

func (s *Server) pruneSnapshots(w http.ResponseWriter, r *http.Request) {
	dropped, err := s.Store.PruneSnapshots(r.Context())
	if err != nil {
		s.writeErr(w, err)
		return
	}
	s.audit(r.Context(), principal(r.Context()), "", "inventory prune", store.AuditDone, map[string]string{"dropped": fmt.Sprint(dropped)})
	s.log().Info("inventory snapshots pruned", "dropped", dropped, "by", principal(r.Context()).Identity)
	if dropped == nil {
		dropped = []int64{}
	}
	writeJSON(w, http.StatusOK, map[string][]int64{"dropped": dropped})
}

// OpenRequest carries the incident file as written.
type OpenRequest struct {
	File string `json:"file"`
	YAML string `json:"yaml"`
}

func (s *Server) openIncident(w http.ResponseWriter, r *http.Request) {
	// JSON carries the incident file alone; multipart adds a list of subject
	// IDs ("subjects" part after the "incident" part), streamed into the store.
	var req OpenRequest
	var named *store.NamedSubjects
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		mr, err := r.MultipartReader()
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		part, err := mr.NextPart()
		if err != nil || part.FormName() != "incident" {
			writeError(w, http.StatusBadRequest, "the form must hold an 'incident' file, then optionally a 'subjects' file")
			return
		}
		data, err := io.ReadAll(io.LimitReader(part, 1<<20))
		if err != nil {
			writeError(w, http.StatusBadRequest, "reading incident: "+err.Error())
			return
		}
		req = OpenRequest{File: part.FileName(), YAML: string(data)}
		if part, err = mr.NextPart(); err == nil && part.FormName() == "subjects" {
			maxErrors := 0
			fmt.Sscanf(r.URL.Query().Get("max_errors"), "%d", &maxErrors)
			ids, err := s.spool(w, part)
			if err != nil {
				writeError(w, spoolStatus(err), "reading subjects: "+err.Error())
				return
			}
			defer ids.Close()
			named = &store.NamedSubjects{File: part.FileName(), Reader: ids, MaxErrors: maxErrors}
		}
	} else if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	id, err := s.Open(r.Context(), principal(r.Context()), req, named)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id": id})
}

// Open records an incident and starts its plan as p (service.Open).
func (s *Server) Open(ctx context.Context, p Principal, req OpenRequest, named *store.NamedSubjects) (string, error) {
	return s.service().Open(ctx, caller(p), req.File, req.YAML, named)
}

func (s *Server) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// progress is where the incident's plan stands (service.Record).
func (s *Server) progress(ctx context.Context, id string) (workflows.Progress, error) {
	return s.service().Record(ctx, id)
}

func (s *Server) showIncident(w http.ResponseWriter, r *http.Request) {
	inc, err := s.Store.GetIncident(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusNotFound, "no incident "+r.PathValue("id"))
		return
	}
	writeJSON(w, http.StatusOK, s.view(r.Context(), inc))
}

func (s *Server) showDraft(w http.ResponseWriter, r *http.Request) {
	rev := 0
	fmt.Sscanf(r.URL.Query().Get("revision"), "%d", &rev)
	name := r.PathValue("name")
	if zone := r.URL.Query().Get("zone"); zone != "" && zone != "UTC" {
		// A notice read in several zones, as its readers in zone get it.
		name = incident.ZoneVariant(name, zone)
	}
	d, err := s.Store.GetDraft(r.Context(), r.PathValue("id"), name, rev)
	if err != nil {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	switch r.URL.Query().Get("format") {
	case "html":
		body := d.HTML
		if body == "" {
			body = templates.HTML(d.Body)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(templates.Document(d.Title, body, d.Locale)))
	case "text":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "%s\n\n%s\n", d.Title, d.Body)
	case "", "json":
		writeJSON(w, http.StatusOK, d)
	default:
		writeError(w, http.StatusBadRequest, "format: json, text or html")
	}
}

// queryLimit reads a list's ?limit= (1 to 10,000; 1,000 when absent).
func queryLimit(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 1000, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 10000 {
		return 0, errors.New("limit: a number from 1 to 10000")
	}
	return n, nil
}

// SubjectsPage is one page of an incident's affected set.
type SubjectsPage struct {
	Subjects []store.AffectedSubject `json:"subjects"`
	// Next is the cursor for the following page ("after"); empty on the last.
	Next string `json:"next,omitempty"`
}

func (s *Server) listSubjects(w http.ResponseWriter, r *http.Request) {
	limit, err := queryLimit(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	page, err := s.Store.AffectedPage(r.Context(), r.PathValue("id"), r.URL.Query().Get("after"), limit)
	if statusOf(err) == http.StatusNotFound {
		writeError(w, http.StatusNotFound, "no incident "+r.PathValue("id"))
		return
	}
	if err != nil {
		s.writeErr(w, err)
		return
	}
	out := SubjectsPage{Subjects: page}
	if out.Subjects == nil {
		out.Subjects = []store.AffectedSubject{}
	}
	if len(page) == limit {
		out.Next = page[len(page)-1].SubjectID
	}
	writeJSON(w, http.StatusOK, out)
}

// DecisionRequest approves, rejects or revises a draft.
type DecisionRequest struct {
	Draft   string            `json:"draft"`
	Comment string            `json:"comment,omitempty"`
	Reason  string            `json:"reason,omitempty"`
	Changes map[string]string `json:"changes,omitempty"`
	// Revision is the revision decided on, when the caller knows it.
	Revision int `json:"revision,omitempty"`
}

func (s *Server) approve(w http.ResponseWriter, r *http.Request) {
	s.decide(w, r, workflows.UpdateApprove)
}

func (s *Server) reject(w http.ResponseWriter, r *http.Request) {
	s.decide(w, r, workflows.UpdateReject)
}

func (s *Server) revise(w http.ResponseWriter, r *http.Request) {
	s.decide(w, r, workflows.UpdateRevise)
}

// SubmitRequest records a filing of one obligation.
type SubmitRequest struct {
	Obligation string `json:"obligation"`
	Reference  string `json:"reference"`
	LateReason string `json:"late_reason,omitempty"`
}

func (s *Server) submit(w http.ResponseWriter, r *http.Request) {
	dutyUpdate(s, w, r, func(req SubmitRequest) string { return req.Obligation }, s.Submit)
}

// dutyUpdate is the HTTP side of an update on one duty (a filing, a
// waiver): the request names the obligation, the answer is its filing.
func dutyUpdate[R any](s *Server, w http.ResponseWriter, r *http.Request, obligation func(R) string, run func(context.Context, Principal, string, R) (FilingView, error)) {
	var req R
	if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if obligation(req) == "" {
		writeError(w, http.StatusBadRequest, "name the obligation (--obligation; see incident show)")
		return
	}
	out, err := run(r.Context(), principal(r.Context()), r.PathValue("id"), req)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// Submit records a filing as p, from any surface.
func (s *Server) Submit(ctx context.Context, p Principal, id string, req SubmitRequest) (FilingView, error) {
	f, err := s.service().Submit(ctx, caller(p), id, req.Obligation, req.Reference, req.LateReason)
	return filingView(f), err
}

// WaiveRequest records that a duty does not apply, and why.
type WaiveRequest struct {
	Obligation string `json:"obligation"`
	Reason     string `json:"reason"`
}

func (s *Server) waive(w http.ResponseWriter, r *http.Request) {
	dutyUpdate(s, w, r, func(req WaiveRequest) string { return req.Obligation }, s.Waive)
}

// Waive records legal's decision that a duty does not apply, as p, from
// any surface; the workflow checks that p is legal.
func (s *Server) Waive(ctx context.Context, p Principal, id string, req WaiveRequest) (FilingView, error) {
	f, err := s.service().Waive(ctx, caller(p), id, req.Obligation, req.Reason)
	return filingView(f), err
}

// FactsRequest supplies or corrects facts the drafts state.
type FactsRequest struct {
	Set map[string]string `json:"set"`
	// Locale, when set, makes Set a translation of the incident's texts
	// into that notice language.
	Locale string `json:"locale,omitempty"`
}

// FactsResponse lists the drafts that were waiting for legal, as they now
// stand: a new revision where the text changed, and what each still lacks.
type FactsResponse struct {
	Drafts []DraftView `json:"drafts"`
}

func (s *Server) setFacts(w http.ResponseWriter, r *http.Request) {
	var req FactsRequest
	if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	out, err := s.SetFacts(r.Context(), principal(r.Context()), r.PathValue("id"), req.Set, req.Locale)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// SetFacts supplies or corrects facts as p, from any surface.
func (s *Server) SetFacts(ctx context.Context, p Principal, id string, set map[string]string, locale string) (FactsResponse, error) {
	drafts, err := s.service().SetFacts(ctx, caller(p), id, set, locale)
	return FactsResponse{Drafts: draftViews(drafts)}, err
}

// Decide approves, rejects or revises a draft as p, from any surface: the
// API, the console or a Slack button (service.Decide); the war room's
// review message then says who decided.
func (s *Server) Decide(ctx context.Context, p Principal, id, update string, req DecisionRequest) (DraftView, error) {
	d, err := s.service().Decide(ctx, caller(p), id, update, service.Decision{Draft: req.Draft, Comment: req.Comment, Reason: req.Reason, Changes: req.Changes, Revision: req.Revision})
	if err == nil {
		s.announceDecision(ctx, p, id, update, draftView(d), req)
	}
	return draftView(d), err
}

func (s *Server) decide(w http.ResponseWriter, r *http.Request, update string) {
	var req DecisionRequest
	if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if req.Draft == "" {
		writeError(w, http.StatusBadRequest, "name the draft (--draft)")
		return
	}
	out, err := s.Decide(r.Context(), principal(r.Context()), r.PathValue("id"), update, req)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) outbox(w http.ResponseWriter, r *http.Request) {
	if s.Outbox == nil {
		writeError(w, http.StatusNotFound, "the outbox exists only in dev mode")
		return
	}
	entries, err := s.Outbox.List(r.Context(), r.URL.Query().Get("incident"))
	if err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, entries)
}

// service is what people do to incidents, with this server's store,
// Temporal client, actor key and campaign sizing.
func (s *Server) service() *service.Service {
	return &service.Service{Store: s.Store, Temporal: s.Temporal, ActorKey: s.ActorKey, PlaybookDir: s.PlaybookDir, Log: s.Log,
		Sizing: service.Sizing{BatchSize: s.BatchSize, BatchWindow: s.BatchWindow, PartitionSize: s.PartitionSize, PartitionWindow: s.PartitionWindow, ReceiptPoll: s.ReceiptPoll}}
}

// caller is p as the service knows a person.
func caller(p Principal) service.Caller {
	return service.Caller{Identity: p.Identity, Role: p.Role, Via: p.Via}
}
