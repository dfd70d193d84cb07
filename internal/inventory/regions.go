package inventory

import "strings"

// iso3166 holds every officially assigned ISO 3166-1 alpha-2 code.
var iso3166 = func() map[string]bool {
	codes := `AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP
KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT
MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG
UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW`
	m := map[string]bool{}
	for _, c := range strings.Fields(codes) {
		m[c] = true
	}
	return m
}()

// usStates are the ISO 3166-2:US subdivisions; US law is per state, so they are checked exactly.
var usStates = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range strings.Fields(`AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ
NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC AS GU MP PR UM VI`) {
		m[c] = true
	}
	return m
}()

// euEEA are the states whose residents GDPR protects.
var euEEA = map[string]bool{
	"AT": true, "BE": true, "BG": true, "HR": true, "CY": true, "CZ": true, "DK": true, "EE": true, "FI": true,
	"FR": true, "DE": true, "GR": true, "HU": true, "IE": true, "IT": true, "LV": true, "LT": true, "LU": true,
	"MT": true, "NL": true, "PL": true, "PT": true, "RO": true, "SK": true, "SI": true, "ES": true, "SE": true,
	"IS": true, "LI": true, "NO": true,
}

// ValidCountry reports whether code is an ISO 3166-1 alpha-2 code.
func ValidCountry(code string) bool { return iso3166[code] }

// ValidRegion accepts an ISO 3166-1 alpha-2 code or an ISO 3166-2 subdivision
// (country code, hyphen, one to three letters or digits). US states are checked exactly.
func ValidRegion(code string) bool {
	country, sub, hasSub := strings.Cut(code, "-")
	if !iso3166[country] {
		return false
	}
	if !hasSub {
		return true
	}
	if country == "US" {
		return usStates[sub]
	}
	if len(sub) < 1 || len(sub) > 3 {
		return false
	}
	for _, r := range sub {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// Country is the ISO 3166-1 part of a region code.
func Country(region string) string {
	c, _, _ := strings.Cut(region, "-")
	return c
}

// InEEA reports whether a region lies in the EU or EEA.
func InEEA(region string) bool { return euEEA[Country(region)] }
