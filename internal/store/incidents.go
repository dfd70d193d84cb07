package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/inventory"
)

// Incident is an incident's fixed record; its live state is the workflow's.
type Incident struct {
	ID       string        `json:"id"`
	Title    string        `json:"title"`
	Spec     incident.Spec `json:"spec"`
	OpenedBy string        `json:"opened_by"`
	OpenedAt time.Time     `json:"opened_at"`
	Drill    bool          `json:"drill"`
	Snapshot int64         `json:"snapshot"`
}

// CreateIncident records a new incident against the current inventory snapshot.
func (s *Store) CreateIncident(ctx context.Context, inc Incident) error {
	spec, err := json.Marshal(inc.Spec)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO incidents VALUES (?,?,?,?,?,?,?)`,
		inc.ID, inc.Title, string(spec), inc.OpenedBy, inc.OpenedAt.UTC().Format(time.RFC3339Nano), boolInt(inc.Drill), inc.Snapshot)
	return err
}

// GetIncident reads one incident.
func (s *Store) GetIncident(ctx context.Context, id string) (Incident, error) {
	row := s.db.QueryRowContext(ctx, `SELECT id, title, spec, opened_by, opened_at, drill, snapshot_id FROM incidents WHERE id=?`, id)
	inc, err := scanIncident(row.Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return Incident{}, fmt.Errorf("incident %s: %w", id, ErrNotFound)
	}
	return inc, err
}

// ListIncidents lists incidents, newest first.
func (s *Store) ListIncidents(ctx context.Context) ([]Incident, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, title, spec, opened_by, opened_at, drill, snapshot_id FROM incidents ORDER BY opened_at DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Incident
	for rows.Next() {
		inc, err := scanIncident(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, inc)
	}
	return out, rows.Err()
}

func scanIncident(scan func(...any) error) (Incident, error) {
	var inc Incident
	var spec, at string
	var drill int
	if err := scan(&inc.ID, &inc.Title, &spec, &inc.OpenedBy, &at, &drill, &inc.Snapshot); err != nil {
		return Incident{}, err
	}
	inc.OpenedAt = parseTime(at)
	inc.Drill = drill == 1
	return inc, json.Unmarshal([]byte(spec), &inc.Spec)
}

// RegionFacts are the counts a jurisdiction's rules look at.
type RegionFacts struct {
	Subjects  int `json:"subjects"`
	Sensitive int `json:"sensitive"`
	Minors    int `json:"minors"`
}

// ScopeSummary is what scoping returns to the workflow: aggregates only.
type ScopeSummary struct {
	Snapshot    int64                  `json:"snapshot"`
	Subjects    int                    `json:"subjects"`
	Regions     map[string]RegionFacts `json:"regions"`
	Sensitive   int                    `json:"sensitive"`
	Minors      int                    `json:"minors"`
	NoContact   int                    `json:"no_contact"`
	Locales     map[string]int         `json:"locales"`
	Categories  []string               `json:"categories"`
	WithEmail   int                    `json:"with_email"`
	WithPhone   int                    `json:"with_phone"`
	WithOnsite  int                    `json:"with_onsite"`
	Credentials bool                   `json:"credentials"`
}

// ByRegion is the number of affected subjects per region of residence.
func (s ScopeSummary) ByRegion() map[string]int {
	out := map[string]int{}
	for r, f := range s.Regions {
		out[r] = f.Subjects
	}
	return out
}

// ScopeInput says which data leaked.
type ScopeInput struct {
	IncidentID string
	Snapshot   int64
	Systems    []string
	Categories []string // empty: every category the systems hold
	Year       int      // for the minors rule
}

// Scope writes the incident's affected set and returns its aggregates. It
// replaces any earlier affected set of the incident, so a retry is harmless.
func (s *Store) Scope(ctx context.Context, in ScopeInput) (ScopeSummary, error) {
	systems, err := s.SystemIDs(ctx, in.Snapshot)
	if err != nil {
		return ScopeSummary{}, err
	}
	for _, id := range in.Systems {
		if _, ok := systems[id]; !ok {
			return ScopeSummary{}, fmt.Errorf("incident names system %q, which is not in inventory snapshot %d", id, in.Snapshot)
		}
	}
	// exposed[system] is what leaked from that system.
	exposed := map[string][]string{}
	for _, id := range in.Systems {
		for _, c := range systems[id] {
			if len(in.Categories) == 0 || slices.Contains(in.Categories, c) {
				exposed[id] = append(exposed[id], c)
			}
		}
	}

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return ScopeSummary{}, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM affected WHERE incident_id=? AND reached_rung=0`, in.IncidentID); err != nil {
		return ScopeSummary{}, err
	}
	placeholders := strings.TrimSuffix(strings.Repeat("?,", len(in.Systems)), ",")
	args := []any{in.Snapshot, in.Snapshot}
	for _, id := range in.Systems {
		args = append(args, id)
	}
	rows, err := tx.QueryContext(ctx, `SELECT s.subject_id, s.email, s.phone, s.onsite_id, s.locale, s.region, s.birth_year, s.systems
		FROM subjects s WHERE s.snapshot_id=? AND s.subject_id IN
		(SELECT subject_id FROM subject_systems WHERE snapshot_id=? AND system_id IN (`+placeholders+`))
		ORDER BY s.subject_id`, args...)
	if err != nil {
		return ScopeSummary{}, err
	}
	type row struct {
		id, region, locale, cats string
		sensitive, minor, reach  bool
	}
	sum := ScopeSummary{Snapshot: in.Snapshot, Regions: map[string]RegionFacts{}, Locales: map[string]int{}}
	allCats := map[string]bool{}
	var batch []row
	for rows.Next() {
		var id, email, phone, onsite, locale, region, subSystems string
		var birth int
		if err := rows.Scan(&id, &email, &phone, &onsite, &locale, &region, &birth, &subSystems); err != nil {
			rows.Close()
			return ScopeSummary{}, err
		}
		cats := map[string]bool{}
		for _, sys := range strings.Split(subSystems, ";") {
			for _, c := range exposed[sys] {
				cats[c] = true
			}
		}
		if len(cats) == 0 {
			continue // the categories filter excluded everything this person has there
		}
		r := row{id: id, region: region, locale: locale, minor: inventory.IsMinor(birth, in.Year)}
		list := make([]string, 0, len(cats))
		for c := range cats {
			list = append(list, c)
			allCats[c] = true
			if inventory.SensitiveCategory(c) {
				r.sensitive = true
			}
		}
		slices.Sort(list)
		r.cats = strings.Join(list, ";")
		r.sensitive = r.sensitive || r.minor
		r.reach = email != "" || phone != "" || onsite != ""
		batch = append(batch, r)

		sum.Subjects++
		f := sum.Regions[region]
		f.Subjects++
		if r.sensitive {
			f.Sensitive++
			sum.Sensitive++
		}
		if r.minor {
			f.Minors++
			sum.Minors++
		}
		sum.Regions[region] = f
		sum.Locales[locale]++
		if !r.reach {
			sum.NoContact++
		}
		if email != "" {
			sum.WithEmail++
		}
		if phone != "" {
			sum.WithPhone++
		}
		if onsite != "" {
			sum.WithOnsite++
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return ScopeSummary{}, err
	}
	ins, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO affected (incident_id, subject_id, region, locale, categories, sensitive, minor, reachable) VALUES (?,?,?,?,?,?,?,?)`)
	if err != nil {
		return ScopeSummary{}, err
	}
	for _, r := range batch {
		if _, err := ins.ExecContext(ctx, in.IncidentID, r.id, r.region, r.locale, r.cats, boolInt(r.sensitive), boolInt(r.minor), boolInt(r.reach)); err != nil {
			return ScopeSummary{}, err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE incidents SET snapshot_id=? WHERE id=?`, in.Snapshot, in.IncidentID); err != nil {
		return ScopeSummary{}, err
	}
	for c := range allCats {
		sum.Categories = append(sum.Categories, c)
		if inventory.Family(c) == "credential" {
			sum.Credentials = true
		}
	}
	slices.Sort(sum.Categories)
	return sum, tx.Commit()
}

// Recipient is an affected subject with the contacts a notice can use.
type Recipient struct {
	SubjectID string
	Name      string
	Email     string
	Phone     string
	OnsiteID  string
	Locale    string
	Region    string
}

// UnreachedRecipients pages through affected subjects not yet reached, in
// subject order after the cursor.
func (s *Store) UnreachedRecipients(ctx context.Context, incidentID string, after string, limit int) ([]Recipient, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT a.subject_id, s.name, s.email, s.phone, s.onsite_id, a.locale, a.region
		FROM affected a JOIN incidents i ON i.id=a.incident_id
		JOIN subjects s ON s.snapshot_id=i.snapshot_id AND s.subject_id=a.subject_id
		WHERE a.incident_id=? AND a.reached_rung=0 AND a.subject_id>? ORDER BY a.subject_id LIMIT ?`, incidentID, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Recipient
	for rows.Next() {
		var r Recipient
		if err := rows.Scan(&r.SubjectID, &r.Name, &r.Email, &r.Phone, &r.OnsiteID, &r.Locale, &r.Region); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// MarkReached records, once, the first rung and channels that reached a subject.
func (s *Store) MarkReached(ctx context.Context, incidentID, subjectID string, rung int, via string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE affected SET reached_rung=?, reached_via=? WHERE incident_id=? AND subject_id=? AND reached_rung=0`, rung, via, incidentID, subjectID)
	return err
}

// Reach summarises who was told and how.
type Reach struct {
	Reached   int            `json:"reached"`
	Unreached int            `json:"unreached"`
	ByChannel map[string]int `json:"by_channel"`
}

// ReachSummary counts reached subjects by the rung channels that reached them.
func (s *Store) ReachSummary(ctx context.Context, incidentID string) (Reach, error) {
	r := Reach{ByChannel: map[string]int{}}
	rows, err := s.db.QueryContext(ctx, `SELECT reached_via, count(*) FROM affected WHERE incident_id=? GROUP BY reached_via`, incidentID)
	if err != nil {
		return r, err
	}
	defer rows.Close()
	for rows.Next() {
		var via string
		var n int
		if err := rows.Scan(&via, &n); err != nil {
			return r, err
		}
		if via == "" {
			r.Unreached += n
			continue
		}
		r.Reached += n
		for _, ch := range strings.Split(via, "+") {
			r.ByChannel[ch] += n
		}
	}
	return r, rows.Err()
}

// SubjectOutcome is one affected subject's result, for evidence and tests.
type SubjectOutcome struct {
	SubjectID string `json:"subject_id"`
	Region    string `json:"region"`
	Locale    string `json:"locale"`
	ReachedBy string `json:"reached_by"`
}

// Outcomes lists every affected subject and how they were reached.
func (s *Store) Outcomes(ctx context.Context, incidentID string) ([]SubjectOutcome, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT subject_id, region, locale, reached_via FROM affected WHERE incident_id=? ORDER BY subject_id`, incidentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SubjectOutcome
	for rows.Next() {
		var o SubjectOutcome
		if err := rows.Scan(&o.SubjectID, &o.Region, &o.Locale, &o.ReachedBy); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}
