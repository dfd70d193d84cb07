package inventory

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // quiet hours must not depend on the host's zoneinfo
)

//go:embed zones.tsv
var zonesTable string

// zoneNames maps a region code to its IANA zone name, read once from
// zones.tsv: the one table of where people live and what time it is there.
var zoneNames = sync.OnceValue(func() map[string]string {
	m, err := parseZones(zonesTable)
	if err != nil {
		panic(err) // the table is embedded; its test reads it
	}
	return m
})

func parseZones(table string) (map[string]string, error) {
	m := map[string]string{}
	for i, line := range strings.Split(table, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 2 || !ValidRegion(f[0]) {
			return nil, fmt.Errorf("zones.tsv:%d: want a region code, a tab and an IANA zone", i+1)
		}
		if _, err := time.LoadLocation(f[1]); err != nil {
			return nil, fmt.Errorf("zones.tsv:%d: %s: %w", i+1, f[0], err)
		}
		m[f[0]] = f[1]
	}
	return m, nil
}

var (
	zoneMu    sync.Mutex
	zoneCache = map[string]*time.Location{}
)

// ZoneName is the IANA zone a resident of region lives in: the
// subdivision's own when the table has it, else its country's. Every
// region the inventory accepts has one; ok is false only for a code that
// is not a region.
func ZoneName(region string) (string, bool) {
	names := zoneNames()
	if z, ok := names[region]; ok {
		return z, true
	}
	z, ok := names[Country(region)]
	return z, ok
}

// ZoneOf is the time zone quiet hours use for a region of residence. A
// code that is not a region (never one the inventory accepted) is on UTC.
func ZoneOf(region string) *time.Location {
	zoneMu.Lock()
	defer zoneMu.Unlock()
	if loc, ok := zoneCache[region]; ok {
		return loc
	}
	loc := time.UTC
	if name, ok := ZoneName(region); ok {
		if l, err := time.LoadLocation(name); err == nil {
			loc = l
		}
	}
	zoneCache[region] = loc
	return loc
}
