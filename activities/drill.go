package activities

import (
	"github.com/tocsin/tocsin/internal/plandata"

	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tocsin/tocsin/internal/redact"

	"github.com/google/uuid"

	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/senders"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/playbooks"
)

// drillChannelPrefix marks a drill's war room: its posts go to the drill sink.
const drillChannelPrefix = "drill:"

// drillSink is the only sender a drill incident ever gets, whatever senders
// are configured: it keeps the message in the store and reports it
// delivered, so the whole plan runs and nobody is reached.
type drillSink struct {
	store   *store.Store
	channel string
}

func (d drillSink) Send(ctx context.Context, m senders.Message) (senders.Result, error) {
	err := d.store.RecordDrillMessage(ctx, m.NoticeKey()+"/"+d.channel, store.DrillMessage{IncidentID: m.IncidentID, SubjectID: m.SubjectID,
		Channel: d.channel, To: redact.Contact(m.To), Title: m.Title, Body: m.Body})
	return senders.Result{Ref: "drill-" + m.IncidentID + "-" + m.NoticeKey() + "-" + d.channel, Final: true, Delivered: true}, err
}

// senderFor picks the sender of one notice. A drill incident (as recorded
// when it was opened, not as a caller says) only ever gets the drill sink.
func (a *Activities) senderFor(drill bool, channel string) (senders.Sender, bool) {
	if drill {
		return drillSink{a.Store, channel}, true
	}
	s, ok := a.Senders[channel]
	return s, ok
}

func (a *Activities) isDrill(ctx context.Context, incidentID string) (bool, error) {
	inc, err := a.Store.GetIncident(ctx, incidentID)
	if err != nil {
		return false, err
	}
	return inc.Drill, nil
}

// DrillInput asks for a drill's synthetic breach.
type DrillInput struct {
	DrillID     string
	Playbook    string
	RequestedBy string
	Attended    bool
	// Subjects is the size of the synthetic inventory.
	Subjects int
	// StartedAt is when the drill began: its detected_at.
	StartedAt time.Time
}

// DrillSetup is the incident a drill runs.
type DrillSetup struct {
	IncidentID string
	Spec       incident.Spec
	// Charter is handed to the drill's incident run (see ClaimCharter).
	Charter string `json:",omitempty"`
}

// drillRegions spread synthetic people over jurisdictions with different
// duties (CN, SG, HK, EU, UK, US-CA, JP), with their languages.
var drillRegions = []struct{ region, locale string }{
	{"CN", "zh-CN"}, {"CN", "zh-CN"}, {"SG", "en"}, {"HK", "zh-HK"}, {"DE", "en"}, {"GB", "en"}, {"US-CA", "en"}, {"JP", "en"},
}

const drillSystems = `systems:
  - id: drill-accounts
    name: Synthetic account store (drill)
    location: CN
    categories: [account.name, contact.email, contact.phone, credential.password_hash]
  - id: drill-media
    name: Synthetic persona media (drill)
    location: CN
    categories: [biometric.face]
`

// drillSubjects writes a synthetic inventory: reserved .invalid mail
// domains (RFC 2606), fictional 555-01xx numbers, a few minors, and some
// people with only a phone or no contact at all, so every rung and the
// public announcement are exercised.
func drillSubjects(n int) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		w := func(s string) bool { _, err := io.WriteString(pw, s); return err == nil }
		w("subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems\n")
		for i := 1; i <= n; i++ {
			r := drillRegions[i%len(drillRegions)]
			email := fmt.Sprintf("drill-%06d@drill.tocsin.invalid", i)
			phone := fmt.Sprintf("+1%03d55501%02d", 201+i%700, i%100)
			onsite := fmt.Sprintf("drill-acct-%d", i)
			switch i % 10 {
			case 3: // phone only
				email, onsite = "", ""
			case 7: // nobody can reach them individually
				email, phone, onsite = "", "", ""
			}
			year := 1960 + i%45
			if i%9 == 0 {
				year = 2014
			}
			systems := "drill-accounts"
			if i%2 == 0 {
				systems = "drill-accounts;drill-media"
			}
			if !w(fmt.Sprintf("d%06d,Drill Person %d,%s,%s,%s,%s,%s,%d,%s\n", i, i, email, phone, onsite, r.locale, r.region, year, systems)) {
				return
			}
		}
		pw.Close()
	}()
	return pr
}

// drillSpec is the synthetic breach: every fact the default laws ask for is
// supplied, so drafts are complete and the drill measures the plan, not
// the paperwork.
func drillSpec(playbook string, at time.Time) incident.Spec {
	return incident.Spec{
		Title: "DRILL: unauthorized access to the synthetic account store", Kind: "unauthorized-access",
		DetectedAt: at, OccurredFrom: at.Add(-26 * time.Hour), OccurredTo: at.Add(-time.Hour),
		Systems:     []string{"drill-accounts", "drill-media"},
		Description: "DRILL. A leaked access key was used to read the synthetic account store. No real person is affected.",
		Measures:    "DRILL. The key was revoked and sessions were reset.",
		Advice:      "DRILL. Change your password.",
		Remedies:    "DRILL. Identity protection for 12 months.",
		Contact:     "drill@tocsin.invalid",
		Playbook:    playbook,
		Drill:       true,
		Facts: map[string]string{"cause": "DRILL. An access key committed to a public repository.", "organisation": "Tocsin drill",
			"reporter": "Tocsin drill identity", "dpo_contact": "dpo@tocsin.invalid",
			"inquiry_phone": "+1 800 555 0199", "inquiry_hours": "DRILL", "inquiry_url": "https://drill.tocsin.invalid/help"},
	}
}

// PrepareDrill loads a synthetic inventory beside the real one (never made
// current) and records the drill's incident on it. A retry finds both.
func (a *Activities) PrepareDrill(ctx context.Context, in DrillInput) (DrillSetup, error) {
	if in.Subjects <= 0 {
		in.Subjects = 200
	}
	id := "DRILL-" + strings.ToUpper(strings.TrimPrefix(in.DrillID, "DRILL-"))
	id = strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, id)
	spec := drillSpec(in.Playbook, in.StartedAt)
	if charter, err := a.Store.IncidentCharter(ctx, id); err == nil {
		return DrillSetup{IncidentID: id, Spec: spec, Charter: charter}, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return DrillSetup{}, err
	}
	if err := a.Store.SaveDrill(ctx, store.Drill{ID: in.DrillID, Playbook: in.Playbook, RequestedBy: in.RequestedBy, Attended: in.Attended,
		IncidentID: id, Status: store.DrillRunning, StartedAt: in.StartedAt}); err != nil {
		return DrillSetup{}, err
	}
	res, err := a.Store.ImportInventory(ctx, store.ImportInput{SystemsFile: "drill:" + in.DrillID + "/systems.yaml", Systems: strings.NewReader(drillSystems),
		SubjectsFile: "drill:" + in.DrillID + "/subjects.csv", Subjects: drillSubjects(in.Subjects), ImportedBy: in.RequestedBy, Aside: true})
	if err != nil {
		return DrillSetup{}, fmt.Errorf("synthetic inventory: %w", err)
	}
	charter := store.NewCharter()
	err = a.Store.CreateIncident(ctx, store.Incident{ID: id, Title: spec.Title, Spec: spec, OpenedBy: in.RequestedBy, OpenedAt: in.StartedAt, Drill: true, Snapshot: res.Snapshot, Charter: charter}, nil)
	return DrillSetup{IncidentID: id, Spec: spec, Charter: charter}, err
}

// FinishInput is how a drill's incident went.
type FinishInput struct {
	DrillID    string
	Playbook   string
	IncidentID string
	StartedAt  time.Time
	Milestones map[string]time.Time
	// Error is why the incident did not close, if it did not.
	Error string
	// Late are the duties to tell people the campaign was projected to
	// miss at the configured rates: the real campaign would be late.
	Late []string `json:",omitempty"`
}

// FinishDrill grades the drill against the playbook's stage targets and keeps
// the report. Saving again writes the same report.
func (a *Activities) FinishDrill(ctx context.Context, in FinishInput) (plandata.DrillReport, error) {
	pb, err := a.playbook(in.Playbook)
	if err != nil {
		return plandata.DrillReport{}, err
	}
	rep := plandata.DrillReport{Passed: in.Error == "", Sent: map[string]int{}}
	if in.Error != "" {
		rep.Notes = append(rep.Notes, "the incident did not close: "+in.Error)
	}
	for _, late := range in.Late {
		rep.Passed = false
		rep.Notes = append(rep.Notes, "at the configured rates the campaign would be late: "+late)
	}
	for _, name := range playbooks.Milestones {
		m := plandata.MilestoneResult{Name: name}
		at, reached := in.Milestones[name]
		m.Reached = reached
		if reached {
			m.At, m.Took = at, at.Sub(in.StartedAt)
		}
		if target, ok := pb.Targets[name]; ok {
			m.Target, err = playbooks.ParseTarget(target)
			if err != nil {
				return rep, err
			}
		}
		m.Passed = reached && (m.Target == 0 || m.Took <= m.Target)
		if !m.Passed {
			rep.Passed = false
		}
		rep.Milestones = append(rep.Milestones, m)
	}
	msgs, err := a.Store.DrillMessages(ctx, in.IncidentID)
	if err != nil {
		return rep, err
	}
	for _, m := range msgs {
		rep.Sent[m.Channel]++
	}
	if leaked, err := a.Store.RealDeliveries(ctx, in.IncidentID); err != nil {
		return rep, err
	} else if leaked > 0 {
		rep.Passed = false
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d deliveries left through a real provider", leaked))
	}
	d, err := a.Store.GetDrill(ctx, in.DrillID)
	if err != nil {
		return rep, err
	}
	d.Status, d.FinishedAt, d.Report = store.DrillFailed, a.now().UTC(), &rep
	if rep.Passed {
		d.Status = store.DrillPassed
	}
	return rep, a.Store.SaveDrill(ctx, d)
}

// drillPost keeps a drill's war-room line in the sink instead of Slack.
func (a *Activities) drillPost(ctx context.Context, channelID, text string) error {
	return a.Store.RecordDrillMessage(ctx, "slack/"+uuid.NewString(), store.DrillMessage{IncidentID: strings.TrimPrefix(channelID, drillChannelPrefix),
		Channel: "slack", To: "war room", Body: text})
}
