package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progressBar draws upload progress on a terminal (percent, rows/s, ETA) and
// writes a plain line every few seconds when stderr is a file or a pipe.
type progressBar struct {
	w        io.Writer
	tty      bool
	label    string
	started  time.Time
	last     time.Time
	interval time.Duration
	drawn    bool
}

func newProgressBar(label string) *progressBar {
	tty := false
	if st, err := os.Stderr.Stat(); err == nil {
		tty = st.Mode()&os.ModeCharDevice != 0
	}
	interval := 5 * time.Second
	if tty {
		interval = 200 * time.Millisecond
	}
	now := time.Now()
	return &progressBar{w: os.Stderr, tty: tty, label: label, started: now, last: now, interval: interval}
}

// update is called from the upload for every chunk; it draws at most every interval.
func (p *progressBar) update(sent, total, lines int64) {
	now := time.Now()
	if now.Sub(p.last) < p.interval && sent < total {
		return
	}
	p.last = now
	elapsed := now.Sub(p.started).Seconds()
	rate := float64(lines) / max(elapsed, 0.001)
	pct := 100.0
	eta := "0s"
	if total > 0 {
		pct = 100 * float64(sent) / float64(total)
		if sent > 0 && sent < total {
			eta = time.Duration(elapsed * float64(total-sent) / float64(sent) * float64(time.Second)).Round(time.Second).String()
		}
	}
	line := fmt.Sprintf("%s %5.1f%%  %d rows  %.0f rows/s  %s of %s  ETA %s", p.label, pct, lines, rate, mb(sent), mb(total), eta)
	if p.tty {
		const width = 20
		filled := min(max(int(pct/100*width), 0), width) // a file growing during the upload must not break the bar
		bar := "[" + strings.Repeat("#", filled) + strings.Repeat(".", width-filled) + "]"
		fmt.Fprintf(p.w, "\r%s %s\x1b[K", bar, line)
		p.drawn = true
		return
	}
	fmt.Fprintln(p.w, line)
}

// done ends the bar's line and says what is happening while the server finishes.
func (p *progressBar) done(after string) {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
	if after != "" {
		fmt.Fprintln(p.w, after)
	}
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
