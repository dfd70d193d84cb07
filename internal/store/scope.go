package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tocsin/tocsin/internal/channel"
	"github.com/tocsin/tocsin/internal/inventory"
	"github.com/tocsin/tocsin/internal/plandata"
)

// RegionFacts and ScopeSummary are the plan's: what scoping returns to
// the workflow, aggregates only.
type (
	RegionFacts  = plandata.RegionFacts
	ScopeSummary = plandata.ScopeSummary
)

// ScopeInput says which data leaked, and whose.
type ScopeInput struct {
	IncidentID string
	Snapshot   int64
	Systems    []string
	Categories []string // empty: every category the systems hold
	// Regions limits the scope to residents of these regions; a country code
	// also matches its subdivisions (US matches US-CA).
	Regions []string
	// NamedOnly limits the scope to the subject IDs stored with the incident.
	NamedOnly bool
	Year      int // for the minors rule
}

// scopeSet is what one combination of systems exposes.
type scopeSet struct {
	id         int32
	categories string
	sensitive  bool
}

// Scope writes the incident's affected set with one INSERT ... SELECT and
// returns its aggregates, so no per-person data passes through Go or the
// workflow. A retry before anyone was notified rebuilds the set; after, it is
// refused, because the set is evidence.
func (s *Store) Scope(ctx context.Context, in ScopeInput) (ScopeSummary, error) {
	systems, err := s.systemCategories(ctx, in.Snapshot)
	if err != nil {
		return ScopeSummary{}, err
	}
	for _, id := range in.Systems {
		if _, ok := systems[id]; !ok {
			return ScopeSummary{}, fmt.Errorf("incident names system %q, which is not in inventory snapshot %d: %w", id, in.Snapshot, ErrBadScope)
		}
	}
	for _, r := range in.Regions {
		if !inventory.ValidRegion(strings.ToUpper(r)) {
			return ScopeSummary{}, fmt.Errorf("incident regions: %q is not an ISO 3166-1 or 3166-2 region code: %w", r, ErrBadScope)
		}
	}
	sets, err := s.exposedSets(ctx, in, systems)
	if err != nil {
		return ScopeSummary{}, err
	}

	t, err := s.begin(ctx)
	if err != nil {
		return ScopeSummary{}, err
	}
	defer t.Rollback()
	if _, err := t.exec(ctx, `DELETE FROM scope_sets WHERE incident_id=?`, in.IncidentID); err != nil {
		return ScopeSummary{}, err
	}
	for _, set := range sets {
		if _, err := t.exec(ctx, `INSERT INTO scope_sets VALUES (?,?,?,?)`, in.IncidentID, set.id, set.categories, boolInt(set.sensitive)); err != nil {
			return ScopeSummary{}, err
		}
	}
	// Scoping runs before anyone is told; once notices went out, the
	// affected set is evidence and a new scope must not rewrite it.
	table := affectedTable(in.IncidentID)
	var scoped int
	if err := t.queryRow(ctx, `SELECT scoped FROM incidents WHERE id=?`, in.IncidentID).Scan(&scoped); err != nil {
		return ScopeSummary{}, fmt.Errorf("incident %s: %w", in.IncidentID, err)
	}
	if scoped == 1 {
		var reached int
		if err := t.queryRow(ctx, `SELECT count(*) FROM `+table+` WHERE reached_rung > 0`).Scan(&reached); err != nil {
			return ScopeSummary{}, err
		}
		if reached > 0 {
			return ScopeSummary{}, fmt.Errorf("incident %s has already notified %d people: its affected set is kept as evidence and is not scoped again", in.IncidentID, reached)
		}
	}
	if _, err := t.exec(ctx, `DROP TABLE IF EXISTS `+table); err != nil {
		return ScopeSummary{}, err
	}
	var named []string
	var namedArgs []any
	if in.NamedOnly {
		named, namedArgs = []string{"s.subject_id IN (SELECT subject_id FROM incident_subjects WHERE incident_id=?)"}, []any{in.IncidentID}
	}
	selectAffected, from, args := affectedSelect(in, sets, named, namedArgs)
	if clustered := t.d.clustered(); clustered != "" {
		// SQLite: a table clustered on the subject ID, filled in ID order so
		// that the B-tree grows at its end. An inventory listed in that order
		// is read as it lies; any other is sorted first (with the unary +,
		// not through the ID index, which would visit the rows at random):
		// 13-18 s to scope ten million shuffled people, where inserting them
		// in file order took 45-48 s.
		var ascending int
		if err := t.queryRow(ctx, `SELECT ids_ascending FROM snapshots WHERE id=?`, in.Snapshot).Scan(&ascending); err != nil {
			return ScopeSummary{}, fmt.Errorf("snapshot %d: %w", in.Snapshot, err)
		}
		order := ` ORDER BY +s.subject_id`
		if ascending == 1 {
			order = ""
		}
		if _, err := t.exec(ctx, `CREATE TABLE `+table+` (subject_id `+t.d.keyText()+` NOT NULL PRIMARY KEY, region TEXT NOT NULL, locale TEXT NOT NULL,
			set_id INTEGER NOT NULL, sensitive INTEGER NOT NULL, minor INTEGER NOT NULL,
			reach INTEGER NOT NULL, consent TEXT NOT NULL,
			reached_rung INTEGER NOT NULL DEFAULT 0, reached_via TEXT NOT NULL DEFAULT '')`+clustered); err != nil {
			return ScopeSummary{}, err
		}
		if _, err := t.exec(ctx, `INSERT INTO `+table+` (subject_id, region, locale, set_id, sensitive, minor, reach, consent) `+selectAffected+from+order, args...); err != nil {
			return ScopeSummary{}, err
		}
	} else {
		// PostgreSQL: CREATE TABLE AS scans in parallel where INSERT ... SELECT
		// cannot; the index is built once, after.
		if _, err := t.exec(ctx, `CREATE TABLE `+table+` AS `+selectAffected+`, 0 AS reached_rung, ''::text AS reached_via`+from, args...); err != nil {
			return ScopeSummary{}, err
		}
		if _, err := t.exec(ctx, `ALTER TABLE `+table+` ALTER COLUMN reached_rung SET DEFAULT 0, ALTER COLUMN reached_via SET DEFAULT ''`); err != nil {
			return ScopeSummary{}, err
		}
		// The default 64 MB makes PostgreSQL sort a few million keys on disk.
		if _, err := t.exec(ctx, `SET LOCAL maintenance_work_mem = '256MB'`); err != nil {
			return ScopeSummary{}, err
		}
		if _, err := t.exec(ctx, `CREATE UNIQUE INDEX `+table+`_id ON `+table+` (subject_id)`); err != nil {
			return ScopeSummary{}, err
		}
	}
	if _, err := t.exec(ctx, `UPDATE incidents SET snapshot_id=?, scoped=1 WHERE id=?`, in.Snapshot, in.IncidentID); err != nil {
		return ScopeSummary{}, err
	}
	sum, groups, err := t.summarise(ctx, in, sets)
	if err != nil {
		return ScopeSummary{}, err
	}
	if err := t.keepReachGroups(ctx, in.IncidentID, groups); err != nil {
		return ScopeSummary{}, err
	}
	sum.Snapshot = in.Snapshot
	return sum, t.Commit()
}

// affectedSelect is the SELECT of the affected set's columns, and its FROM
// and WHERE over the snapshot's subjects: the people of the exposed system
// sets in the incident's regions, with more conditions (and their
// arguments) where given.
func affectedSelect(in ScopeInput, sets []scopeSet, more []string, moreArgs []any) (selectAffected, from string, args []any) {
	// The minors rule of inventory.IsMinor, in SQL.
	minorFrom := in.Year - inventory.MinorAgeLimit
	args = []any{minorFrom, minorFrom}
	// The exposed system sets go in as literal lists (they are our own
	// integers): probing scope_sets once per person costs more than the
	// rest of the INSERT.
	var all, sensitive []string
	for _, set := range sets {
		all = append(all, strconv.Itoa(int(set.id)))
		if set.sensitive {
			sensitive = append(sensitive, strconv.Itoa(int(set.id)))
		}
	}
	if len(all) == 0 {
		all = []string{"-1"}
	}
	if len(sensitive) == 0 {
		sensitive = []string{"-1"}
	}
	conds := []string{"s.set_id IN (" + strings.Join(all, ",") + ")"}
	if len(in.Regions) > 0 {
		rf := newRegionFilter(in.Regions)
		cond := "s.region IN (" + placeholders(len(rf.exact)) + ")"
		for _, r := range rf.exact {
			args = append(args, r)
		}
		if len(rf.countries) > 0 {
			cond += " OR substr(s.region, 1, 3) IN (" + placeholders(len(rf.countries)) + ")"
			for _, c := range rf.countries {
				args = append(args, c+"-")
			}
		}
		conds = append(conds, "("+cond+")")
	}
	conds = append(conds, more...)
	args = append(args, moreArgs...)
	where := " WHERE " + strings.Join(conds, " AND ")
	selectAffected = `SELECT s.subject_id, s.region, s.locale, s.set_id,
		  CASE WHEN s.set_id IN (` + strings.Join(sensitive, ",") + `) OR (s.birth_year > 0 AND s.birth_year >= ?) THEN 1 ELSE 0 END AS sensitive,
		  CASE WHEN s.birth_year > 0 AND s.birth_year >= ? THEN 1 ELSE 0 END AS minor,
		  ` + reachSQL("s") + ` AS reach, s.consent`
	from = ` FROM ` + subjectsTable(in.Snapshot) + ` s` + where
	return selectAffected, from, args
}

// reachSQL is the bits of the contacts a row of a subjects table has, in
// inventory.Contacts order.
func reachSQL(alias string) string {
	var parts []string
	for i, c := range inventory.Contacts {
		parts = append(parts, fmt.Sprintf("CASE WHEN %s.%s <> '' THEN %d ELSE 0 END", alias, c.Column, 1<<i))
	}
	return "(" + strings.Join(parts, " + ") + ")"
}

// exposedSets decides, per combination of systems a person's data sits in,
// which categories leaked (the incident's systems, narrowed by its
// categories) and whether any of them is sensitive.
func (s *Store) exposedSets(ctx context.Context, in ScopeInput, systems map[string][]string) ([]scopeSet, error) {
	exposed := map[string][]string{}
	for _, id := range in.Systems {
		for _, c := range systems[id] {
			if len(in.Categories) == 0 || slices.Contains(in.Categories, c) {
				exposed[id] = append(exposed[id], c)
			}
		}
	}
	rows, err := s.query(ctx, `SELECT set_id, systems FROM system_sets WHERE snapshot_id=?`, in.Snapshot)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []scopeSet
	for rows.Next() {
		var set scopeSet
		var list string
		if err := rows.Scan(&set.id, &list); err != nil {
			return nil, err
		}
		var cats []string
		for _, sys := range strings.Split(list, ";") {
			cats = append(cats, exposed[sys]...)
		}
		if len(cats) == 0 {
			continue
		}
		slices.Sort(cats)
		cats = slices.Compact(cats)
		set.categories = strings.Join(cats, ";")
		set.sensitive = slices.ContainsFunc(cats, inventory.SensitiveCategory)
		out = append(out, set)
	}
	return out, rows.Err()
}

// summarise computes the scope's aggregates. Without a list of named
// subjects they come from the snapshot's counts, filtered exactly as the
// INSERT above filtered people (system set, region), so no second pass over
// millions of rows is needed; with a list, from one pass over the affected set.
func (t *tx) summarise(ctx context.Context, in ScopeInput, sets []scopeSet) (ScopeSummary, map[ReachGroup]int, error) {
	sum := ScopeSummary{Regions: map[string]RegionFacts{}, Locales: map[string]int{}, Reachable: map[string]int{}}
	usedSets := map[int32]bool{}
	groups := map[ReachGroup]int{}
	fold := func(region, locale string, set int32, n, sensitive, minor, reach int, consent string) {
		usedSets[set] = true
		groups[ReachGroup{Region: region, Consent: consent, Reach: reach}] += n
		none := 0
		if reach == 0 {
			none = n
		}
		sum.Subjects += n
		f := sum.Regions[region]
		f.Subjects += n
		f.Sensitive += sensitive
		f.Minors += minor
		f.NoContact += none
		if f.Locales == nil {
			f.Locales = map[string]int{}
		}
		f.Locales[locale] += n
		sum.Regions[region] = f
		sum.Sensitive += sensitive
		sum.Minors += minor
		sum.Locales[locale] += n
		for i, c := range inventory.Contacts {
			if reach&(1<<i) != 0 {
				sum.Reachable[c.Name] += n
			}
		}
		sum.NoContact += none
	}
	var err error
	if in.NamedOnly {
		err = t.groupAffected(ctx, affectedTable(in.IncidentID), fold)
	} else {
		err = t.groupCounts(ctx, in, sets, fold)
	}
	if err != nil {
		return sum, nil, err
	}
	// The fields of summaries from before contacts were bits, which
	// earlier workers' histories and views read.
	sum.WithOnsite, sum.WithEmail, sum.WithPhone = sum.Reachable["onsite"], sum.Reachable["email"], sum.Reachable["phone"]
	cats := map[string]bool{}
	for _, set := range sets {
		if usedSets[set.id] {
			for _, c := range strings.Split(set.categories, ";") {
				cats[c] = true
			}
		}
	}
	for c := range cats {
		sum.Categories = append(sum.Categories, c)
		if inventory.Family(c) == "credential" {
			sum.Credentials = true
		}
	}
	slices.Sort(sum.Categories)
	return sum, groups, nil
}

type foldFunc func(region, locale string, set int32, n, sensitive, minor, reach int, consent string)

// groupAffected passes the affected set to fold, grouped. PostgreSQL
// hash-aggregates; SQLite would sort for a GROUP BY, so it hands over the rows
// in one pass and they are counted one by one.
func (t *tx) groupAffected(ctx context.Context, table string, fold foldFunc) error {
	q := `SELECT region, locale, set_id, count(*), sum(sensitive), sum(minor), reach, consent
		FROM ` + table + ` GROUP BY region, locale, set_id, reach, consent`
	if t.d.Name() == "sqlite" {
		q = `SELECT region, locale, set_id, 1, sensitive, minor, reach, consent FROM ` + table
	}
	rows, err := t.query(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	var region, locale, consent string
	var set int32
	var n, sensitive, minor, reach int
	for rows.Next() {
		if err := rows.Scan(&region, &locale, &set, &n, &sensitive, &minor, &reach, &consent); err != nil {
			return err
		}
		fold(region, locale, set, n, sensitive, minor, reach, consent)
	}
	return rows.Err()
}

// groupCounts passes the snapshot's counts that the scope selects to fold.
func (t *tx) groupCounts(ctx context.Context, in ScopeInput, sets []scopeSet, fold foldFunc) error {
	exposed := map[int32]bool{}
	for _, set := range sets {
		exposed[set.id] = set.sensitive
	}
	rf := newRegionFilter(in.Regions)
	rows, err := t.query(ctx, `SELECT region, locale, set_id, birth_year, reach, consent, n FROM snapshot_counts WHERE snapshot_id=?`, in.Snapshot)
	if err != nil {
		return err
	}
	defer rows.Close()
	var region, locale, consent string
	var set int32
	var birth, reach, n int
	for rows.Next() {
		if err := rows.Scan(&region, &locale, &set, &birth, &reach, &consent, &n); err != nil {
			return err
		}
		setSensitive, ok := exposed[set]
		if !ok {
			continue
		}
		if !rf.matches(region) {
			continue
		}
		minor := boolInt(inventory.IsMinor(birth, in.Year))
		sensitive := boolInt(setSensitive || minor == 1)
		fold(region, locale, set, n, sensitive*n, minor*n, reach, consent)
	}
	return rows.Err()
}

// regionFilter is the incident's regions: a region matches one of them
// exactly, or its country is one of them (US matches US-CA). The scope's SQL
// and its counts both read it, so they select the same people.
type regionFilter struct {
	exact     []string
	countries []string // the entries without a subdivision
}

func newRegionFilter(regions []string) regionFilter {
	var rf regionFilter
	for _, r := range regions {
		r = strings.ToUpper(r)
		rf.exact = append(rf.exact, r)
		if !strings.Contains(r, "-") {
			rf.countries = append(rf.countries, r)
		}
	}
	return rf
}

func (rf regionFilter) matches(region string) bool {
	if len(rf.exact) == 0 {
		return true
	}
	country, _, sub := strings.Cut(region, "-")
	return slices.Contains(rf.exact, region) || sub && slices.Contains(rf.countries, country)
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

// AffectedSubject is one person in an incident's affected set, as legal and
// support page through it: what leaked and how they can be reached, without
// the contact details themselves.
type AffectedSubject struct {
	SubjectID  string   `json:"subject_id"`
	Name       string   `json:"name"`
	Region     string   `json:"region"`
	Locale     string   `json:"locale"`
	Categories []string `json:"categories"`
	Sensitive  bool     `json:"sensitive"`
	Minor      bool     `json:"minor"`
	Channels   []string `json:"channels"`
	ReachedBy  string   `json:"reached_by"`
	// Withheld: not told, because legal waived every duty to tell them.
	Withheld bool `json:"withheld,omitempty"`
	// Consent is their answer on electronic notice (consent_electronic).
	Consent string `json:"consent,omitempty"`
}

// AffectedPage returns up to limit affected subjects after the cursor, in
// subject order; pass the last subject_id of a page to get the next.
func (s *Store) AffectedPage(ctx context.Context, incidentID, after string, limit int) ([]AffectedSubject, error) {
	return s.affected(ctx, incidentID, `a.subject_id > ? ORDER BY a.subject_id LIMIT ?`, after, limit)
}

// AffectedOne reads one affected subject; ErrNotFound if they are not.
func (s *Store) AffectedOne(ctx context.Context, incidentID, subjectID string) (AffectedSubject, error) {
	out, err := s.affected(ctx, incidentID, `a.subject_id = ?`, subjectID)
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("subject %s of incident %s: %w", subjectID, incidentID, ErrNotFound)
	}
	if err != nil {
		return AffectedSubject{}, err
	}
	return out[0], nil
}

// CategoriesOf reads the categories of data involved for each of a batch
// of an incident's people (their own, not the incident's every category).
func (s *Store) CategoriesOf(ctx context.Context, incidentID string, subjectIDs []string) (map[string][]string, error) {
	out := map[string][]string{}
	if _, scoped, err := s.scopeState(ctx, incidentID); err != nil || !scoped {
		return out, err
	}
	err := s.eachIn(ctx, subjectIDs, []any{incidentID}, `SELECT a.subject_id, x.categories FROM `+affectedTable(incidentID)+` a JOIN scope_sets x ON x.incident_id = ? AND x.set_id = a.set_id
		WHERE a.subject_id IN `, func(rows *sql.Rows) error {
		var id, cats string
		if err := rows.Scan(&id, &cats); err != nil {
			return err
		}
		out[id] = strings.Split(cats, ";")
		return nil
	})
	return out, err
}

func (s *Store) affected(ctx context.Context, incidentID, where string, args ...any) ([]AffectedSubject, error) {
	snapshot, scoped, err := s.scopeState(ctx, incidentID)
	if err != nil || !scoped {
		return nil, err
	}
	rows, err := s.query(ctx, `SELECT a.subject_id, s.name, a.region, a.locale, x.categories, a.sensitive, a.minor, a.reach, a.reached_via, a.reached_rung, s.consent
		FROM `+affectedTable(incidentID)+` a JOIN scope_sets x ON x.incident_id = ? AND x.set_id = a.set_id
		JOIN `+subjectsTable(snapshot)+` s ON s.subject_id = a.subject_id
		WHERE `+where, append([]any{incidentID}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AffectedSubject
	for rows.Next() {
		var a AffectedSubject
		var cats string
		var sensitive, minor, reach, rung int
		if err := rows.Scan(&a.SubjectID, &a.Name, &a.Region, &a.Locale, &cats, &sensitive, &minor, &reach, &a.ReachedBy, &rung, &a.Consent); err != nil {
			return nil, err
		}
		a.Withheld = rung == rungWithheld
		a.Categories = strings.Split(cats, ";")
		a.Sensitive, a.Minor = sensitive == 1, minor == 1
		a.Channels = []string{}
		for _, c := range channel.All() {
			if i := inventory.ContactIndex(string(c.Contact)); i >= 0 && reach&(1<<i) != 0 {
				a.Channels = append(a.Channels, c.Name)
			}
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ReachGroup is how many of an incident's people share a region of
// residence, an answer on electronic consent and a set of contacts (a bit
// per inventory.Contacts kind).
type ReachGroup struct {
	Region  string
	Consent string
	Reach   int
}

func (t *tx) keepReachGroups(ctx context.Context, incidentID string, groups map[ReachGroup]int) error {
	if _, err := t.exec(ctx, `DELETE FROM scope_reach WHERE incident_id=?`, incidentID); err != nil {
		return err
	}
	for g, n := range groups {
		if _, err := t.exec(ctx, `INSERT INTO scope_reach (incident_id, region, consent, reach, n) VALUES (?,?,?,?,?)`, incidentID, g.Region, g.Consent, g.Reach, n); err != nil {
			return err
		}
	}
	return nil
}

// ReachGroups are the incident's people grouped by region, consent and
// contacts (none for an incident scoped before they were kept).
func (s *Store) ReachGroups(ctx context.Context, incidentID string) (map[ReachGroup]int, error) {
	rows, err := s.query(ctx, `SELECT region, consent, reach, n FROM scope_reach WHERE incident_id=?`, incidentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[ReachGroup]int{}
	for rows.Next() {
		var g ReachGroup
		var n int
		if err := rows.Scan(&g.Region, &g.Consent, &g.Reach, &n); err != nil {
			return nil, err
		}
		out[g] += n
	}
	return out, rows.Err()
}
