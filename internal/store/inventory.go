package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tocsin/tocsin/internal/inventory"
)

// ImportResult summarises an accepted import.
type ImportResult struct {
	Snapshot int64 `json:"snapshot"`
	Systems  int   `json:"systems"`
	Subjects int   `json:"subjects"`
}

// ImportInput names the two files and who imports them.
type ImportInput struct {
	SystemsFile  string
	Systems      io.Reader
	SubjectsFile string
	Subjects     io.Reader
	ImportedBy   string
	// MaxErrors stops the check after this many bad rows; 0 means 100.
	MaxErrors int
}

// ImportInventory loads a new inventory snapshot in one transaction: every bad
// row is reported and, if there is any, nothing is kept and the current
// snapshot stays in force.
func (s *Store) ImportInventory(ctx context.Context, in ImportInput) (ImportResult, error) {
	if in.MaxErrors <= 0 {
		in.MaxErrors = 100
	}
	systems, err := inventory.ParseSystems(in.SystemsFile, in.Systems)
	if err != nil {
		return ImportResult{}, err
	}
	known := map[string]bool{}
	for _, sys := range systems {
		known[sys.ID] = true
	}
	rows, err := inventory.NewSubjectReader(in.SubjectsFile, in.Subjects, known)
	if err != nil {
		return ImportResult{}, err
	}

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return ImportResult{}, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO snapshots (imported_at, imported_by, systems_file, subjects_file, systems, subjects) VALUES (?,?,?,?,0,0)`,
		now(), in.ImportedBy, in.SystemsFile, in.SubjectsFile)
	if err != nil {
		return ImportResult{}, err
	}
	snap, _ := res.LastInsertId()
	for _, sys := range systems {
		if _, err := tx.ExecContext(ctx, `INSERT INTO systems VALUES (?,?,?,?,?)`, snap, sys.ID, sys.Name, sys.Location, strings.Join(sys.Categories, ";")); err != nil {
			return ImportResult{}, err
		}
	}
	insSubject, err := tx.PrepareContext(ctx, `INSERT INTO subjects VALUES (?,?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		return ImportResult{}, err
	}
	insLink, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO subject_systems VALUES (?,?,?)`)
	if err != nil {
		return ImportResult{}, err
	}
	var bad inventory.Errors
	count := 0
	for {
		sub, err := rows.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var rowErrs *inventory.Errors
		if errors.As(err, &rowErrs) {
			for _, e := range rowErrs.List {
				if len(bad.List) >= in.MaxErrors {
					bad.Truncated = true
					return ImportResult{}, &bad
				}
				bad.List = append(bad.List, e)
			}
			continue
		}
		if err != nil {
			return ImportResult{}, err
		}
		if len(bad.List) > 0 {
			continue // keep checking, but nothing more will be written
		}
		if _, err := insSubject.ExecContext(ctx, snap, sub.ID, sub.Name, sub.Email, sub.Phone, sub.OnsiteID, sub.Locale, sub.Region, sub.BirthYear, strings.Join(sub.Systems, ";")); err != nil {
			return ImportResult{}, err
		}
		for _, sys := range sub.Systems {
			if _, err := insLink.ExecContext(ctx, snap, sys, sub.ID); err != nil {
				return ImportResult{}, err
			}
		}
		count++
	}
	if len(bad.List) > 0 {
		return ImportResult{}, &bad
	}
	if count == 0 {
		return ImportResult{}, fmt.Errorf("%s: no subjects: the file has a header but no rows", in.SubjectsFile)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE snapshots SET systems=?, subjects=? WHERE id=?`, len(systems), count, snap); err != nil {
		return ImportResult{}, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO meta VALUES ('current_snapshot', ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value`, strconv.FormatInt(snap, 10)); err != nil {
		return ImportResult{}, err
	}
	if err := tx.Commit(); err != nil {
		return ImportResult{}, err
	}
	return ImportResult{Snapshot: snap, Systems: len(systems), Subjects: count}, nil
}

// CurrentSnapshot is the inventory snapshot new incidents scope against.
func (s *Store) CurrentSnapshot(ctx context.Context) (int64, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key='current_snapshot'`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("no inventory imported yet: run 'tocsin inventory import' first: %w", ErrNotFound)
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(v, 10, 64)
}

// SystemIDs lists the systems of a snapshot.
func (s *Store) SystemIDs(ctx context.Context, snapshot int64) (map[string][]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, categories FROM systems WHERE snapshot_id=?`, snapshot)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var id, cats string
		if err := rows.Scan(&id, &cats); err != nil {
			return nil, err
		}
		out[id] = strings.Split(cats, ";")
	}
	return out, rows.Err()
}
