package devpeers

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestAFaultProfileNamesTheItemItCannotRead(t *testing.T) {
	for spec, want := range map[string]string{
		"twilio.status_500":        `"twilio.status_500": want peer.fault=probability`,
		"carrier.reset=0.1":        `unknown peer "carrier"`,
		"smtp.status_500=0.1":      `smtp has no fault "status_500" (it has latency, tempfail, accept_then_drop)`,
		"smtp.tempfail=1.5":        `probability "1.5" is not a number from 0 to 1`,
		"twilio.latency=0.05":      `latency is DURATION@probability`,
		"onsite.latency=fast@0.1":  `latency is DURATION@probability`,
		"twilio.reset=0.1,smtp.x=": `smtp has no fault "x"`,
	} {
		_, err := ParseFaults(spec, 1)
		require.ErrorContains(t, err, want, spec)
	}
	f, err := ParseFaults(" twilio.latency=20s@0.05, smtp.tempfail=0.05 ,onsite.reset=0.02", 1)
	require.NoError(t, err)
	require.Equal(t, "twilio.latency=20s@0.05,smtp.tempfail=0.05,onsite.reset=0.02", f.String())
	none, err := ParseFaults("", 1)
	require.NoError(t, err)
	require.Equal(t, Hit{}, none.Roll("twilio", "x"))
	require.Equal(t, Hit{}, (*Faults)(nil).Roll("twilio", "x"), "no profile, no faults")
}

// The same seed gives the same messages the same faults, whatever order
// they arrive in; the rates are the profile's; a retried message rolls anew.
func TestAFaultProfileIsReproducibleAndKeepsItsRates(t *testing.T) {
	spec := "smtp.latency=40s@0.02,smtp.tempfail=0.05,smtp.accept_then_drop=0.01"
	a, _ := ParseFaults(spec, 42)
	b, _ := ParseFaults(spec, 42)
	other, _ := ParseFaults(spec, 43)
	const n = 20000
	fwd := make([]Hit, n)
	for i := 0; i < n; i++ {
		fwd[i] = a.Roll("smtp", fmt.Sprintf("<m%d>", i))
	}
	counts := map[string]int{}
	slow, differ := 0, 0
	for i := n - 1; i >= 0; i-- {
		h := b.Roll("smtp", fmt.Sprintf("<m%d>", i))
		require.Equal(t, fwd[i], h, "message %d", i)
		counts[h.Fail]++
		if h.Delay == 40*time.Second {
			slow++
		}
		if other.Roll("smtp", fmt.Sprintf("<m%d>", i)) != h {
			differ++
		}
	}
	require.InDelta(t, 0.05*n, counts["tempfail"], 0.01*n)
	require.InDelta(t, 0.01*0.95*n, counts["accept_then_drop"], 0.005*n)
	require.InDelta(t, 0.02*n, slow, 0.005*n)
	require.Positive(t, differ, "another seed, other faults")

	c, _ := ParseFaults("twilio.status_500=0.5", 1)
	seen := map[string]bool{}
	for i := 0; i < 20; i++ {
		seen[c.Roll("twilio", "same message").Fail] = true
	}
	require.True(t, seen[""] && seen["status_500"], "each retry of one message rolls again")
}
