package api

import (
	"cmp"
	"fmt"
	"html"
	"html/template"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/tocsin/tocsin/internal/pacing"
	"github.com/tocsin/tocsin/internal/store"
)

// timelineSVG draws, on one time axis, every duty's due time (in its
// jurisdiction's time and UTC), now, and each paced channel's projected
// finish: a responder sees at a glance which due time a campaign passes.
// It is drawn on the server (no script, no front-end build); every text in
// it is escaped.
func timelineSVG(v View, now time.Time) template.HTML {
	if v.Pacing == nil {
		return ""
	}
	type row struct {
		label    string
		from, to time.Time
		bar, bad bool
	}
	late := map[string]bool{}
	missed := map[string]bool{}
	for _, m := range v.Pacing.Misses {
		late[m.Channel] = true
		missed[m.Duty] = true
	}
	var rows []row
	for _, o := range v.Obligations {
		if o.DueAt == nil {
			continue
		}
		// DueLocal gives the jurisdiction's time with UTC beside it.
		label := o.Name + " due " + cmp.Or(o.DueLocal, o.DueAt.UTC().Format("2006-01-02 15:04 UTC"))
		if o.Status == FilingSubmitted || o.Status == "waived" {
			label += ", " + o.Status
		}
		rows = append(rows, row{label: label, to: *o.DueAt, bad: missed[o.Name]})
	}
	for _, f := range v.Pacing.Finishes {
		if f.Rate <= 0 {
			continue
		}
		pace := "at " + pacing.Rate(f.Rate) + "/s"
		if f.Measured {
			pace += " (measured)"
		}
		rows = append(rows, row{label: fmt.Sprintf("%s: %d left %s, done %s UTC", f.Channel, f.Remaining, pace, f.At.UTC().Format("01-02 15:04")),
			from: now, to: f.At, bar: true, bad: late[f.Channel]})
	}
	if len(rows) == 0 {
		return ""
	}
	t0, t1 := now, now
	for _, r := range rows {
		if r.to.Before(t0) {
			t0 = r.to
		}
		if r.to.After(t1) {
			t1 = r.to
		}
	}
	span := t1.Sub(t0)
	if span <= 0 {
		span = time.Hour
	}
	t0, t1 = t0.Add(-span/20), t1.Add(span/20)
	const width, left, right, rowH, top = 960.0, 10.0, 10.0, 34.0, 40.0
	x := func(t time.Time) float64 {
		return left + (width-left-right)*float64(t.Sub(t0))/float64(t1.Sub(t0))
	}
	height := top + rowH*float64(len(rows)) + 10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img" aria-label="due times and projected finish" font-family="system-ui,sans-serif" font-size="12">`, width, height, width, height)
	for i := 0; i <= 4; i++ {
		t := t0.Add(t1.Sub(t0) * time.Duration(i) / 4)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#ddd"/><text x="%.1f" y="12" fill="#666" text-anchor="%s">%s</text>`,
			x(t), top-6, x(t), height, x(t), anchor(i), html.EscapeString(t.UTC().Format("01-02 15:04 UTC")))
	}
	for i, r := range rows {
		y := top + rowH*float64(i)
		color := "#1a7f37"
		if r.bad {
			color = "#cf222e"
		}
		if r.bar {
			fmt.Fprintf(&b, `<rect class="finish" x="%.1f" y="%.0f" width="%.1f" height="10" fill="%s" opacity="0.8"/>`, x(r.from), y+16, max(x(r.to)-x(r.from), 2), color)
		} else {
			fmt.Fprintf(&b, `<path class="due" d="M%.1f %.0f l6 8 l-6 8 l-6 -8 z" fill="%s"/>`, x(r.to), y+13, color)
		}
		lx, a := x(r.to), "end"
		if lx < width/2 {
			lx, a = x(r.to)+8, "start"
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="%s">%s</text>`, lx, y+11, a, html.EscapeString(r.label))
	}
	fmt.Fprintf(&b, `<line class="now" x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#0969da" stroke-width="2"/><text x="%.1f" y="%.0f" fill="#0969da" text-anchor="middle">now</text>`,
		x(now), top-6, x(now), height, x(now), top-8)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built here, every text escaped
}

func anchor(i int) string {
	switch i {
	case 0:
		return "start"
	case 4:
		return "end"
	}
	return "middle"
}

// channelColors tell the channels apart in the progress chart.
var channelColors = []string{"#0969da", "#1a7f37", "#9a6700", "#8250df", "#cf222e", "#57606a", "#bf3989"}

// progressSVG draws each channel's sends over time, cumulative: how the
// campaign went, or is going. Drawn on the server, every text escaped.
func progressSVG(progress map[string][]store.ProgressPoint) template.HTML {
	channels := slices.Sorted(maps.Keys(progress))
	if len(channels) == 0 {
		return ""
	}
	var t0, t1 time.Time
	most := 1
	for _, ch := range channels {
		pts := progress[ch]
		if t0.IsZero() || pts[0].At.Before(t0) {
			t0 = pts[0].At
		}
		if last := pts[len(pts)-1]; last.At.After(t1) {
			t1 = last.At
		}
		most = max(most, pts[len(pts)-1].Sent)
	}
	if !t1.After(t0) {
		t1 = t0.Add(time.Second)
	}
	const width, height, left, right, top, bottom = 960.0, 220.0, 60.0, 180.0, 20.0, 30.0
	x := func(t time.Time) float64 { return left + (width-left-right)*float64(t.Sub(t0))/float64(t1.Sub(t0)) }
	y := func(n int) float64 { return height - bottom - (height-top-bottom)*float64(n)/float64(most) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img" aria-label="sends over time per channel" font-family="system-ui,sans-serif" font-size="12">`, width, height, width, height)
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#999"/><line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#999"/>`,
		left, height-bottom, width-right, height-bottom, left, top, left, height-bottom)
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="end">%d</text><text x="%.0f" y="%.0f" text-anchor="end">0</text>`, left-6, top+4, most, left-6, height-bottom)
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f">%s</text><text x="%.0f" y="%.0f" text-anchor="end">%s</text>`, left, height-8,
		html.EscapeString(t0.UTC().Format("01-02 15:04:05 UTC")), width-right, height-8, html.EscapeString(t1.UTC().Format("01-02 15:04:05 UTC")))
	for i, ch := range channels {
		color := channelColors[i%len(channelColors)]
		var pts []string
		for _, p := range progress[ch] {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.At), y(p.Sent)))
		}
		if len(pts) == 1 {
			pts = append([]string{fmt.Sprintf("%.1f,%.1f", x(t0), y(0))}, pts...)
		}
		last := progress[ch][len(progress[ch])-1]
		fmt.Fprintf(&b, `<polyline class="sent" data-channel="%s" points="%s" fill="none" stroke="%s" stroke-width="2"/>`, html.EscapeString(ch), strings.Join(pts, " "), color)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" fill="%s">%s: %d</text>`, width-right+10, top+16*float64(i)+4, color, html.EscapeString(ch), last.Sent)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built here, every text escaped
}
