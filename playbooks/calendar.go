package playbooks

import (
	"fmt"
	"time"
	_ "time/tzdata" // due times must not depend on the host's zoneinfo
)

// Calendar is a jurisdiction's own clock: the zone its law counts days in
// (a "day" ends at midnight in Singapore, not in UTC) and the public
// holidays its business days skip. A law file sets both (zone:, holidays:);
// without a zone, days are UTC days.
type Calendar struct {
	Zone     *time.Location
	holidays map[string]bool // "2026-11-20" in Zone
}

// NewCalendar loads a zone by IANA name and reads holidays as YYYY-MM-DD.
func NewCalendar(zone string, holidays []string) (Calendar, error) {
	c := Calendar{Zone: time.UTC, holidays: map[string]bool{}}
	if zone != "" {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			return c, fmt.Errorf("zone %q: not an IANA time zone (Asia/Singapore, America/Sao_Paulo)", zone)
		}
		c.Zone = loc
	}
	for _, h := range holidays {
		d, err := time.Parse(time.DateOnly, h)
		if err != nil {
			return c, fmt.Errorf("holiday %q: want a date as YYYY-MM-DD", h)
		}
		c.holidays[d.Format(time.DateOnly)] = true
	}
	return c, nil
}

func (c Calendar) zone() *time.Location {
	if c.Zone == nil {
		return time.UTC
	}
	return c.Zone
}

// businessDay says whether t's date, in the zone, is a weekday that is not
// a public holiday.
func (c Calendar) businessDay(t time.Time) bool {
	t = t.In(c.zone())
	wd := t.Weekday()
	return wd != time.Saturday && wd != time.Sunday && !c.holidays[t.Format(time.DateOnly)]
}

// endOfDay is the last second of the day d (a date in the zone) plus n days.
func (c Calendar) endOfDay(t time.Time, n int) time.Time {
	t = t.In(c.zone())
	return time.Date(t.Year(), t.Month(), t.Day()+n+1, 0, 0, 0, 0, c.zone()).Add(-time.Second)
}

// addBusinessDays moves n business days forward, keeping the time of day in
// the zone; an anchor outside business days counts from the start of the
// next business day.
func (c Calendar) addBusinessDays(t time.Time, n int) time.Time {
	t = t.In(c.zone())
	for !c.businessDay(t) {
		t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, c.zone())
	}
	for n > 0 {
		t = t.AddDate(0, 0, 1)
		if c.businessDay(t) {
			n--
		}
	}
	return t
}

// Local formats a due time in the jurisdiction's zone beside UTC:
// "2026-12-04 23:59 +08 (2026-12-04 15:59 UTC)".
func Local(t time.Time, zone string) string {
	utc := t.UTC().Format("2006-01-02 15:04 UTC")
	if zone == "" || zone == "UTC" {
		return utc
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return utc
	}
	return t.In(loc).Format("2006-01-02 15:04 MST") + " " + zone + " (" + utc + ")"
}
