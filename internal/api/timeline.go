package api

import (
	"cmp"
	"fmt"
	"html"
	"html/template"
	"strings"
	"time"

	"github.com/tocsin/tocsin/internal/pacing"
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
		rows = append(rows, row{label: fmt.Sprintf("%s: %d left at %s/s, done %s UTC", f.Channel, f.Remaining, pacing.Rate(f.Rate), f.At.UTC().Format("01-02 15:04")),
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
