// Package apiclient is Tocsin's HTTP API as typed calls: one method per
// route the CLI uses, each with the API's own request and answer types, so
// a path or a type changes in one place. The transport (token, errors,
// uploads, streams) is internal/client's.
package apiclient

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/client"
	"github.com/tocsin/tocsin/internal/store"
)

// Client calls the API as one identity.
type Client struct{ *client.Client }

// New wraps a transport.
func New(c *client.Client) *Client { return &Client{c} }

func incident(id string) string { return "/api/v1/incidents/" + url.PathEscape(id) }

// Snapshots lists the imported inventory snapshots, newest first.
func (c *Client) Snapshots(ctx context.Context) ([]store.Snapshot, error) {
	var out []store.Snapshot
	return out, c.Do(ctx, "GET", "/api/v1/inventory", nil, &out)
}

// PruneSnapshots drops the snapshots no incident scoped against.
func (c *Client) PruneSnapshots(ctx context.Context) (dropped []int64, err error) {
	var out map[string][]int64
	err = c.Do(ctx, "POST", "/api/v1/inventory/prune", nil, &out)
	return out["dropped"], err
}

// Opened is the answer to opening an incident.
type Opened map[string]string

// OpenIncident opens an incident from its file's text.
func (c *Client) OpenIncident(ctx context.Context, req api.OpenRequest) (Opened, error) {
	var out Opened
	return out, c.Do(ctx, "POST", "/api/v1/incidents", req, &out)
}

// OpenIncidentNamed opens an incident limited to the subject IDs in a file,
// uploading both files as they are read.
func (c *Client) OpenIncidentNamed(ctx context.Context, incidentFile, subjectsFile string) (Opened, error) {
	var out Opened
	return out, c.UploadFiles(ctx, "/api/v1/incidents", []client.Upload{{Field: "incident", Path: incidentFile}, {Field: "subjects", Path: subjectsFile}}, nil, &out)
}

// AddWave adds people found after the first notice to an incident: the
// systems named, and with a subjects file only the people it lists.
func (c *Client) AddWave(ctx context.Context, id string, systems []string, subjectsFile string) (api.WaveView, error) {
	var out api.WaveView
	if subjectsFile == "" {
		return out, c.Do(ctx, "POST", incident(id)+"/waves", api.AddRequest{Systems: systems}, &out)
	}
	path := incident(id) + "/waves"
	if len(systems) > 0 {
		path += "?" + url.Values{"systems": {strings.Join(systems, ",")}}.Encode()
	}
	return out, c.UploadFiles(ctx, path, []client.Upload{{Field: "subjects", Path: subjectsFile}}, nil, &out)
}

// ListIncidents reads one page of incidents (filters as the API's query
// parameters) and the cursor of the next page, "" on the last.
func (c *Client) ListIncidents(ctx context.Context, q url.Values) ([]api.ListItem, string, error) {
	var out []api.ListItem
	next, err := c.GetPage(ctx, "/api/v1/incidents?"+q.Encode(), &out)
	return out, next, err
}

// Incident is `incident show`.
func (c *Client) Incident(ctx context.Context, id string) (api.View, error) {
	var v api.View
	return v, c.Do(ctx, "GET", incident(id), nil, &v)
}

// Decide approves, rejects or asks to revise a draft (action is approve,
// reject or revise).
func (c *Client) Decide(ctx context.Context, id, action string, req api.DecisionRequest) (api.DraftView, error) {
	var out api.DraftView
	return out, c.Do(ctx, "POST", incident(id)+"/"+action, req, &out)
}

// Submit records a filing.
func (c *Client) Submit(ctx context.Context, id string, req api.SubmitRequest) (api.FilingView, error) {
	var out api.FilingView
	return out, c.Do(ctx, "POST", incident(id)+"/submit", req, &out)
}

// Waive records that a duty does not apply, and why (legal).
func (c *Client) Waive(ctx context.Context, id string, req api.WaiveRequest) (api.FilingView, error) {
	var out api.FilingView
	return out, c.Do(ctx, "POST", incident(id)+"/waive", req, &out)
}

// SetFacts supplies or corrects facts the drafts state.
func (c *Client) SetFacts(ctx context.Context, id string, req api.FactsRequest) (api.FactsResponse, error) {
	var out api.FactsResponse
	return out, c.Do(ctx, "POST", incident(id)+"/facts", req, &out)
}

// Draft reads one revision of a draft (0: the newest).
func (c *Client) Draft(ctx context.Context, id, name string, revision int) (store.Draft, error) {
	var d store.Draft
	return d, c.Do(ctx, "GET", fmt.Sprintf("%s/drafts/%s?revision=%d", incident(id), url.PathEscape(name), revision), nil, &d)
}

// DraftHTML reads one revision of a draft as the HTML people received.
func (c *Client) DraftHTML(ctx context.Context, id, name string, revision int) (string, error) {
	var html string
	return html, c.Do(ctx, "GET", fmt.Sprintf("%s/drafts/%s?revision=%d&format=html", incident(id), url.PathEscape(name), revision), nil, &html)
}

// Audit reads an incident's audit entries, oldest first.
func (c *Client) Audit(ctx context.Context, id string) ([]store.AuditEntry, error) {
	var out []store.AuditEntry
	return out, c.Do(ctx, "GET", incident(id)+"/audit", nil, &out)
}

// Deliveries streams an incident's delivery ledger as CSV to w.
func (c *Client) Deliveries(ctx context.Context, id string, w io.Writer) error {
	return c.Stream(ctx, incident(id)+"/deliveries", w)
}

// NoticeByDuty streams, per duty to individuals, how each person it
// covers was told, as CSV to w.
func (c *Client) NoticeByDuty(ctx context.Context, id string, w io.Writer) error {
	return c.Stream(ctx, incident(id)+"/notice-by-duty", w)
}

// Subjects reads one page of an incident's affected people.
func (c *Client) Subjects(ctx context.Context, id, after string, limit int) (api.SubjectsPage, error) {
	var page api.SubjectsPage
	return page, c.Do(ctx, "GET", incident(id)+"/subjects?limit="+strconv.Itoa(limit)+"&after="+url.QueryEscape(after), nil, &page)
}

// Outbox lists what the dev-mode peers received (incident "" for all).
func (c *Client) Outbox(ctx context.Context, incidentID string) ([]api.OutboxEntry, error) {
	var out []api.OutboxEntry
	return out, c.Do(ctx, "GET", "/api/v1/outbox?incident="+url.QueryEscape(incidentID), nil, &out)
}

func registerQuery(from, to string) url.Values {
	q := url.Values{}
	if from != "" {
		q.Set("from", from)
	}
	if to != "" {
		q.Set("to", to)
	}
	return q
}

// Register is the breach register for incidents opened in [from, to].
func (c *Client) Register(ctx context.Context, from, to string) ([]api.RegisterEntry, error) {
	var out []api.RegisterEntry
	return out, c.Do(ctx, "GET", "/api/v1/register?"+registerQuery(from, to).Encode(), nil, &out)
}

// RegisterCSV is the register as the server writes its CSV.
func (c *Client) RegisterCSV(ctx context.Context, from, to string) (string, error) {
	q := registerQuery(from, to)
	q.Set("format", "csv")
	var raw string
	return raw, c.Do(ctx, "GET", "/api/v1/register?"+q.Encode(), nil, &raw)
}

// RunDrill starts a drill and returns its ID.
func (c *Client) RunDrill(ctx context.Context, req api.DrillRequest) (string, error) {
	var out map[string]string
	err := c.Do(ctx, "POST", "/api/v1/drills", req, &out)
	return out["id"], err
}

// Drills lists the drills run.
func (c *Client) Drills(ctx context.Context) ([]store.Drill, error) {
	var out []store.Drill
	return out, c.Do(ctx, "GET", "/api/v1/drills", nil, &out)
}

// Drill reads one drill and its report.
func (c *Client) Drill(ctx context.Context, id string) (api.DrillView, error) {
	var v api.DrillView
	return v, c.Do(ctx, "GET", "/api/v1/drills/"+url.PathEscape(id), nil, &v)
}

// DrillSchedules lists the scheduled drills.
func (c *Client) DrillSchedules(ctx context.Context) ([]api.DrillSchedule, error) {
	var out []api.DrillSchedule
	return out, c.Do(ctx, "GET", "/api/v1/drill-schedules", nil, &out)
}

// ScheduleDrill schedules a drill.
func (c *Client) ScheduleDrill(ctx context.Context, req api.DrillRequest) (api.DrillSchedule, error) {
	var out api.DrillSchedule
	return out, c.Do(ctx, "POST", "/api/v1/drill-schedules", req, &out)
}
