// Package synth writes synthetic inventories for benchmarks: a
// systems.yaml and a subjects.csv of any size, deterministic for a seed, with
// the mix of regions, locales, contacts and ages a consumer platform has.
package synth

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
)

// LeakedSystem is held by exactly ScopeShare of the subjects, so scoping an
// incident on it selects a known fraction of the inventory.
const LeakedSystem = "media-bucket"

// Systems is the systems.yaml every synthetic inventory uses.
const Systems = `systems:
  - id: account-db
    name: Account database
    location: SG
    categories: [account.profile, contact.email, contact.phone, credential.password_hash]
  - id: ` + LeakedSystem + `
    name: Persona media bucket
    location: CN
    categories: [biometric.face, content.generated]
  - id: orders
    name: Orders
    location: SG
    categories: [financial.card_last4, location.address]
  - id: analytics
    name: Analytics events
    location: US
    categories: [device.id, log.access]
`

var regions = []struct {
	code, locale, phone string
	weight              int
}{
	{"CN", "zh-CN", "+86138", 40}, {"SG", "en", "+659", 10}, {"HK", "zh-HK", "+8529", 8}, {"US-CA", "en", "+1415", 8},
	{"US-NY", "en", "+1212", 5}, {"US-TX", "en", "+1512", 4}, {"DE", "de", "+4915", 5}, {"FR", "fr", "+336", 4},
	{"GB", "en", "+447", 4}, {"JP", "ja", "+8190", 4}, {"KR", "ko", "+8210", 3}, {"AU", "en", "+614", 3}, {"BR", "pt-BR", "+55119", 2},
}

// Options shape the generated subjects.
type Options struct {
	Subjects int
	// ScopeShare is the fraction of subjects whose data sits in LeakedSystem.
	ScopeShare float64
	Seed       uint64
	// BounceShare is the fraction of e-mail addresses in a .bounce.test
	// domain, which the dev SMTP peer takes and then bounces (0: none).
	BounceShare float64
	// Shuffled gives out the IDs in a random order, as most exports list
	// people; otherwise in ascending order, which flatters every index
	// built over the IDs. The mix of people is the same; who has which ID
	// is not.
	Shuffled bool
}

// WriteSubjects writes subjects.csv, streaming: in subject_id order, or
// shuffled (which holds the order, 8 bytes a person).
func WriteSubjects(w io.Writer, o Options) error {
	if o.ScopeShare == 0 {
		o.ScopeShare = 0.3
	}
	total := 0
	for _, r := range regions {
		total += r.weight
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x70c5))
	bw := bufio.NewWriterSize(w, 1<<20)
	// US residents agreed to electronic notice when they signed up (the
	// app's terms ask, as E-SIGN requires): without it their states accept
	// only letters, and synthetic people have no postal address.
	bw.WriteString("subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems,consent_electronic\n")
	buf := make([]byte, 0, 256)
	var order []int // a random permutation of the people, from its own seed
	if o.Shuffled {
		order = rand.New(rand.NewPCG(o.Seed, 0x5ff1e)).Perm(o.Subjects)
	}
	for row := range o.Subjects {
		i := row
		if order != nil {
			i = order[row]
		}
		pick := rng.IntN(total)
		r := regions[0]
		for _, c := range regions {
			if pick < c.weight {
				r = c
				break
			}
			pick -= c.weight
		}
		id := fmt.Sprintf("s%010d", i)
		buf = append(buf[:0], id...)
		buf = append(buf, ",Person "...)
		buf = strconv.AppendInt(buf, int64(i), 10)
		buf = append(buf, ',')
		if rng.IntN(100) < 85 {
			buf = append(buf, "p"...)
			buf = strconv.AppendInt(buf, int64(i), 10)
			if o.BounceShare > 0 && rng.Float64() < o.BounceShare {
				buf = append(buf, "@mail.bounce.test"...)
			} else {
				buf = append(buf, "@example.com"...)
			}
		}
		buf = append(buf, ',')
		if rng.IntN(100) < 75 {
			buf = append(buf, r.phone...)
			buf = fmt.Appendf(buf, "%07d", i%10_000_000)
		}
		buf = append(buf, ',')
		if rng.IntN(100) < 60 {
			buf = append(buf, "acct-"...)
			buf = strconv.AppendInt(buf, int64(i), 10)
		}
		buf = append(buf, ',')
		buf = append(buf, r.locale...)
		buf = append(buf, ',')
		buf = append(buf, r.code...)
		buf = append(buf, ',')
		if rng.IntN(100) < 90 {
			buf = strconv.AppendInt(buf, int64(1940+rng.IntN(72)), 10)
		}
		buf = append(buf, ",account-db"...)
		if rng.Float64() < o.ScopeShare {
			buf = append(buf, ";"+LeakedSystem...)
		}
		if rng.IntN(100) < 50 {
			buf = append(buf, ";orders"...)
		}
		if rng.IntN(100) < 30 {
			buf = append(buf, ";analytics"...)
		}
		if strings.HasPrefix(r.code, "US-") {
			buf = append(buf, ",yes"...)
		} else {
			buf = append(buf, ',')
		}
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}
