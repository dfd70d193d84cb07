package senders

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSegmentsCountGSM7AndUCS2AsCarriersBill(t *testing.T) {
	cases := []struct {
		body  string
		enc   string
		parts int
	}{
		{strings.Repeat("a", 160), GSM7, 1},
		{strings.Repeat("a", 161), GSM7, 2},                   // 153 per part once split
		{strings.Repeat("a", 306), GSM7, 2},                   // 2 x 153
		{strings.Repeat("a", 307), GSM7, 3},                   //
		{strings.Repeat("€", 80), GSM7, 1},                    // extension table: two septets each
		{strings.Repeat("€", 81), GSM7, 2},                    //
		{strings.Repeat("您", 70), UCS2, 1},                    // Chinese forces UCS-2: 70 alone
		{strings.Repeat("您", 71), UCS2, 2},                    // 67 per part
		{"Hello 您好", UCS2, 1},                                 // one non-GSM character turns the whole text UCS-2
		{strings.Repeat("a", 69) + "😀", UCS2, 2},              // an emoji is a surrogate pair: 71 units
		{"Your data was exposed. Call +1 555 0100.", GSM7, 1}, //
	}
	for _, c := range cases {
		enc, parts := Segments(c.body)
		require.Equal(t, c.enc, enc, "%q", c.body)
		require.Equal(t, c.parts, parts, "%q", c.body)
	}
}

func TestTwiMLAsksForPressOneInTheSubjectsLanguageAndRepeats(t *testing.T) {
	x := TwiML(`Data <leak> & you`, "zh-CN", "https://t.example/webhooks/twilio/ack?incident=INC-1&subject=u1")
	require.Equal(t, 2, strings.Count(x, "<Gather numDigits=\"1\""), "the notice is read twice")
	require.Contains(t, x, `language="cmn-CN"`)
	require.Contains(t, x, "请按 1")
	require.Contains(t, x, "Data &lt;leak&gt; &amp; you", "text is escaped")
	require.Contains(t, x, `action="https://t.example/webhooks/twilio/ack?incident=INC-1&amp;subject=u1"`)
	plain := TwiML("hello", "en", "")
	require.NotContains(t, plain, "Gather")
	require.Equal(t, 2, strings.Count(plain, "<Say"))
}

func TestRetryAfterReadsSecondsAndDates(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	require.Equal(t, 7*time.Second, parseRetryAfter("7", now))
	require.Equal(t, 30*time.Second, parseRetryAfter(now.Add(30*time.Second).Format(http.TimeFormat), now))
	require.Equal(t, time.Second, parseRetryAfter("", now))
}
