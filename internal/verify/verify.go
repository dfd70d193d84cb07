// Package verify makes the short code each notice carries, by which its
// reader checks the notice is genuine: a keyed MAC of the incident and the
// person, so a code cannot be guessed from another, written in letters
// and digits that read aloud and cannot be mistaken for each other.
package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"math/big"
	"strconv"
	"strings"
)

// Alphabet has no 0/O, 1/I/L or U/V pair to confuse, read or heard.
const Alphabet = "23456789ABCDEFGHJKMNPQRSTWXYZ"

// Length is a code's characters: 29^10 is about 2^48.6 codes, against a
// lookup limited per client.
const Length = 10

// Mark stands for the reader's code in an approved text, and SpokenMark
// for the code spelled out for a voice; each person's copy replaces them.
const (
	Mark       = "[[code]]"
	SpokenMark = "[[code:spoken]]"
)

// Code is the code of one person's notice of one incident. attempt is 0,
// or the number of codes tried before that another person already held.
func Code(key []byte, incidentID, subjectID string, attempt int) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(incidentID))
	m.Write([]byte{0})
	m.Write([]byte(subjectID))
	if attempt > 0 {
		m.Write([]byte{0})
		m.Write([]byte(strconv.Itoa(attempt)))
	}
	// 128 bits reduced to 29^10: the bias is below 2^-79.
	v := new(big.Int).SetBytes(m.Sum(nil)[:16])
	base, digit := big.NewInt(int64(len(Alphabet))), new(big.Int)
	var b strings.Builder
	for range Length {
		v.DivMod(v, base, digit)
		b.WriteByte(Alphabet[digit.Int64()])
	}
	return b.String()
}

// Normalize reads a code as a person types or reads it: any case, with
// spaces or hyphens; ok is false for anything that cannot be a code.
func Normalize(s string) (code string, ok bool) {
	if len(s) > 4*Length {
		return "", false
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == ' ' || r == '-' || r == '\t':
		case strings.ContainsRune(Alphabet, r):
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	if b.Len() != Length {
		return "", false
	}
	return b.String(), true
}

// Format writes a code as people read it: two groups of five.
func Format(code string) string {
	if len(code) != Length {
		return code
	}
	return code[:5] + "-" + code[5:]
}

// Spoken spells a code for a voice, a pause between its halves.
func Spoken(code string) string {
	parts := make([]string, 0, len(code)+1)
	for i, r := range code {
		if i == 5 {
			parts[len(parts)-1] += ","
		}
		parts = append(parts, string(r))
	}
	return strings.Join(parts, " ")
}

// Personalize puts a person's code into an approved text.
func Personalize(text, code string) string {
	if !strings.Contains(text, "[[code") {
		return text
	}
	return strings.NewReplacer(SpokenMark, Spoken(code), Mark, code).Replace(text)
}

// KeyFrom derives the key codes are made with from the deployment's actor
// key, so no other secret need be shared between workers. A rotated actor
// key changes only the codes of people not yet given one: a code, once
// given, is stored and kept.
func KeyFrom(actorKey []byte) []byte {
	m := hmac.New(sha256.New, actorKey)
	m.Write([]byte("tocsin notice codes v1"))
	return m.Sum(nil)
}
