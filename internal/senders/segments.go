package senders

import "unicode/utf8"

// gsm7 is the GSM 03.38 default alphabet; gsm7Ext costs two septets (escape + char).
const (
	gsm7    = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7Ext = "^{}\\[~]|€\f"
)

var gsm7Set, gsm7ExtSet = runeSet(gsm7), runeSet(gsm7Ext)

func runeSet(s string) map[rune]bool {
	m := map[rune]bool{}
	for _, r := range s {
		m[r] = true
	}
	return m
}

// Encoding names an SMS body's encoding.
const (
	GSM7 = "GSM-7"
	UCS2 = "UCS-2"
)

// Segments says how a carrier will encode an SMS body and into how many
// parts it is split: GSM-7 fits 160 septets in one part and 153 in each part of
// a longer message; anything outside GSM-7 (Chinese, say) forces UCS-2 for the
// whole message, 70 UTF-16 units alone or 67 per part.
func Segments(body string) (encoding string, parts int) {
	septets, gsm := 0, true
	for _, r := range body {
		switch {
		case gsm7Set[r]:
			septets++
		case gsm7ExtSet[r]:
			septets += 2
		default:
			gsm = false
		}
	}
	if gsm {
		return GSM7, split(septets, 160, 153)
	}
	units := 0
	for _, r := range body {
		units += utf8.RuneLen(r) / 4 // astral runes take a surrogate pair
		units++
	}
	return UCS2, split(units, 70, 67)
}

func split(n, single, multi int) int {
	if n <= single {
		return 1
	}
	return (n + multi - 1) / multi
}
