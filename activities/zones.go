package activities

import (
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // quiet hours must not depend on the host's zoneinfo

	"github.com/tocsin/tocsin/internal/inventory"
)

// zones are the IANA zones used for quiet hours: one per country, or per US
// state and Australian state where a country spans several. For a country
// spanning several zones the most populous is used; a region not listed is
// taken to be on UTC, and the quiet span is wide enough that an hour's error
// does not wake anyone at 3 a.m.
var zones = map[string]string{
	"CN": "Asia/Shanghai", "HK": "Asia/Hong_Kong", "MO": "Asia/Macau", "TW": "Asia/Taipei", "SG": "Asia/Singapore",
	"JP": "Asia/Tokyo", "KR": "Asia/Seoul", "IN": "Asia/Kolkata", "ID": "Asia/Jakarta", "MY": "Asia/Kuala_Lumpur",
	"TH": "Asia/Bangkok", "VN": "Asia/Ho_Chi_Minh", "PH": "Asia/Manila", "AE": "Asia/Dubai", "IL": "Asia/Jerusalem",
	"GB": "Europe/London", "IE": "Europe/Dublin", "PT": "Europe/Lisbon", "IS": "Atlantic/Reykjavik",
	"DE": "Europe/Berlin", "FR": "Europe/Paris", "ES": "Europe/Madrid", "IT": "Europe/Rome", "NL": "Europe/Amsterdam",
	"BE": "Europe/Brussels", "LU": "Europe/Luxembourg", "AT": "Europe/Vienna", "CH": "Europe/Zurich", "DK": "Europe/Copenhagen",
	"SE": "Europe/Stockholm", "NO": "Europe/Oslo", "PL": "Europe/Warsaw", "CZ": "Europe/Prague", "SK": "Europe/Bratislava",
	"HU": "Europe/Budapest", "SI": "Europe/Ljubljana", "HR": "Europe/Zagreb", "MT": "Europe/Malta", "LI": "Europe/Vaduz",
	"FI": "Europe/Helsinki", "EE": "Europe/Tallinn", "LV": "Europe/Riga", "LT": "Europe/Vilnius", "RO": "Europe/Bucharest",
	"BG": "Europe/Sofia", "GR": "Europe/Athens", "CY": "Asia/Nicosia", "TR": "Europe/Istanbul", "UA": "Europe/Kyiv",
	"AU": "Australia/Sydney", "AU-WA": "Australia/Perth", "AU-SA": "Australia/Adelaide", "AU-NT": "Australia/Darwin", "AU-QLD": "Australia/Brisbane",
	"NZ": "Pacific/Auckland", "BR": "America/Sao_Paulo", "MX": "America/Mexico_City", "AR": "America/Argentina/Buenos_Aires",
	"CA": "America/Toronto", "ZA": "Africa/Johannesburg", "NG": "Africa/Lagos", "EG": "Africa/Cairo", "KE": "Africa/Nairobi",
	"US": "America/New_York",
}

// usZones groups the states by zone; states split between zones get the
// zone most of their people live in.
var usZones = map[string]string{
	"America/Los_Angeles": "CA WA OR NV",
	"America/Denver":      "CO MT NM UT WY ID",
	"America/Phoenix":     "AZ",
	"America/Chicago":     "TX IL MN WI IA MO AR LA MS AL OK KS NE SD ND TN",
	"America/Anchorage":   "AK",
	"Pacific/Honolulu":    "HI",
	"America/Puerto_Rico": "PR VI",
}

var (
	zoneMu    sync.Mutex
	zoneCache = map[string]*time.Location{}
)

// ZoneOf is the time zone quiet hours use for a region of residence.
func ZoneOf(region string) *time.Location {
	zoneMu.Lock()
	defer zoneMu.Unlock()
	if loc, ok := zoneCache[region]; ok {
		return loc
	}
	name := zones[region]
	if name == "" && inventory.Country(region) == "US" {
		state := strings.TrimPrefix(region, "US-")
		for z, states := range usZones {
			if strings.Contains(" "+states+" ", " "+state+" ") {
				name = z
			}
		}
	}
	if name == "" {
		name = zones[inventory.Country(region)]
	}
	loc := time.UTC
	if l, err := time.LoadLocation(name); err == nil && name != "" {
		loc = l
	}
	zoneCache[region] = loc
	return loc
}
