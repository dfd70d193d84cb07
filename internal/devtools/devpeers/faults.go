package devpeers

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Faults is a game-day fault profile for the local peers: how often each
// peer is slow, fails, or takes a request and then never answers. It is
// parsed from a spec such as
//
//	twilio.latency=20s@0.05,twilio.accept_then_timeout=0.02,smtp.tempfail=0.05
//
// A request's fate is a hash of the seed, the peer, the fault, the
// request's own key (the message it carries) and how many times that key
// was seen: the same seed gives the same faults to the same messages
// whatever the order and concurrency they arrive in, and a message retried
// rolls again.
type Faults struct {
	seed  int64
	rules map[string]Fault // "twilio.status_500"
	mu    sync.Mutex
	seen  map[string]int
	// stopped ends the game day: the peers behave again, while requests
	// already in flight may still read the profile.
	stopped atomic.Bool
}

// Stop makes every later roll a clean request: the provider has recovered.
func (f *Faults) Stop() {
	if f != nil {
		f.stopped.Store(true)
	}
}

// Fault is one line of a profile.
type Fault struct {
	P     float64       // per request, 0 to 1
	Delay time.Duration // latency faults only
}

// FaultKinds are the faults each peer knows, in the order they are rolled.
var FaultKinds = map[string][]string{
	// accept_then_timeout creates the message and its receipt, then never
	// answers the request; reset closes the connection before creating.
	"twilio": {"latency", "accept_then_timeout", "status_500", "reset"},
	// tempfail answers the end of DATA 451; accept_then_drop keeps the mail
	// and drops the connection instead of answering 250.
	"smtp": {"latency", "tempfail", "accept_then_drop"},
	// status_503 refuses before storing; reset closes the connection before storing.
	"onsite": {"latency", "status_503", "reset"},
}

// ParseFaults reads a profile; "" is no faults. Errors name the item.
func ParseFaults(spec string, seed int64) (*Faults, error) {
	f := &Faults{seed: seed, rules: map[string]Fault{}, seen: map[string]int{}}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, value, ok := strings.Cut(item, "=")
		peer, kind, dotted := strings.Cut(name, ".")
		if !ok || !dotted {
			return nil, fmt.Errorf("peer fault %q: want peer.fault=probability (latency: peer.latency=DURATION@probability)", item)
		}
		kinds, known := FaultKinds[peer]
		if !known {
			return nil, fmt.Errorf("peer fault %q: unknown peer %q (twilio, smtp, onsite)", item, peer)
		}
		if !slices.Contains(kinds, kind) {
			return nil, fmt.Errorf("peer fault %q: %s has no fault %q (it has %s)", item, peer, kind, strings.Join(kinds, ", "))
		}
		var rule Fault
		p := value
		if kind == "latency" {
			d, prob, ok := strings.Cut(value, "@")
			delay, err := time.ParseDuration(d)
			if !ok || err != nil || delay <= 0 {
				return nil, fmt.Errorf("peer fault %q: latency is DURATION@probability, such as 20s@0.05", item)
			}
			rule.Delay, p = delay, prob
		}
		prob, err := strconv.ParseFloat(p, 64)
		if err != nil || prob < 0 || prob > 1 {
			return nil, fmt.Errorf("peer fault %q: probability %q is not a number from 0 to 1", item, p)
		}
		rule.P = prob
		f.rules[name] = rule
	}
	return f, nil
}

// String is the profile in its spec form, in a stable order.
func (f *Faults) String() string {
	if f == nil {
		return ""
	}
	var out []string
	for _, peer := range []string{"twilio", "smtp", "onsite"} {
		for _, kind := range FaultKinds[peer] {
			r, ok := f.rules[peer+"."+kind]
			switch {
			case !ok:
			case kind == "latency":
				out = append(out, fmt.Sprintf("%s.%s=%s@%g", peer, kind, r.Delay, r.P))
			default:
				out = append(out, fmt.Sprintf("%s.%s=%g", peer, kind, r.P))
			}
		}
	}
	return strings.Join(out, ",")
}

// Hit is what a request suffers: a delay first, then at most one failure.
type Hit struct {
	Delay time.Duration
	Fail  string // "" or a fault kind
}

// Roll decides the fate of one request to peer carrying key. A nil
// profile never fails.
func (f *Faults) Roll(peer, key string) Hit {
	if f == nil || len(f.rules) == 0 || f.stopped.Load() {
		return Hit{}
	}
	f.mu.Lock()
	n := f.seen[peer+"\x00"+key]
	f.seen[peer+"\x00"+key] = n + 1
	f.mu.Unlock()
	var h Hit
	for _, kind := range FaultKinds[peer] {
		r, ok := f.rules[peer+"."+kind]
		if !ok || f.uniform(peer, kind, key, n) >= r.P {
			continue
		}
		if kind == "latency" {
			h.Delay = r.Delay
			continue
		}
		h.Fail = kind
		break
	}
	return h
}

func (f *Faults) uniform(peer, kind, key string, n int) float64 {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%d\x00%s\x00%s\x00%s\x00%d", f.seed, peer, kind, key, n)))
	return float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53)
}

// resetConnection closes a request's connection without an answer, as a
// dropped link does; the client sees a reset or EOF.
func resetConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
