package inventory

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Quiet hours are kept in each person's own time: no country a person can
// live in may fall back to UTC and be phoned at night.
func TestEveryCountryHasAZone(t *testing.T) {
	names, err := parseZones(zonesTable)
	require.NoError(t, err)
	for c := range iso3166 {
		_, ok := names[c]
		assert.True(t, ok, "%s has no zone in zones.tsv", c)
	}
	for s := range usStates {
		_, ok := ZoneName("US-" + s)
		assert.True(t, ok, "US-%s", s)
	}
}

func TestZoneOfARegion(t *testing.T) {
	for region, want := range map[string]string{
		"NZ": "Pacific/Auckland", "US-CA": "America/Los_Angeles", "US-NY": "America/New_York", "AU-WA": "Australia/Perth",
		"AU-NSW": "Australia/Sydney", "FR-75": "Europe/Paris", "RU": "Europe/Moscow", "CA-BC": "America/Vancouver",
	} {
		assert.Equal(t, want, ZoneOf(region).String(), region)
	}
	_, ok := ZoneName("XX")
	assert.False(t, ok)
}

func TestABadZonesLineIsNamed(t *testing.T) {
	_, err := parseZones("# c\nNZ\tPacific/Nowhere\n")
	require.ErrorContains(t, err, "zones.tsv:2: NZ")
	_, err = parseZones("ZZ\tEurope/Paris\n")
	require.ErrorContains(t, err, "zones.tsv:1")
}
