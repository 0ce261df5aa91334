package report

import (
	"bytes"
	"fmt"
	"html"
	"strings"
)

// Chart draws one horizontal bar group per (set, setting): files/s for the file sets, MB/s for
// the large set, each group scaled to its own best so the clients compare at a glance.
func Chart(rows []Row, in Input) []byte {
	const (
		width     = 900
		labelW    = 170
		barMaxW   = 560
		barH      = 16
		gap       = 5
		groupHead = 26
		groupGap  = 14
		top       = 56
	)
	titles := map[string]string{}
	for _, s := range in.Settings {
		titles[s.Name] = s.Title
	}
	cases := caseOrder(rows)
	height := top
	for _, c := range cases {
		height += groupHead + groupGap
		for _, r := range rows {
			if r.Set == c[0] && r.Setting == c[1] {
				height += barH + gap
			}
		}
	}
	height += 20

	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		width, height, width, height)
	p(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	title := "Upload throughput by client, median of runs (higher is better)"
	if in.Quick {
		title += " - QUICK MODE, not meaningful"
	}
	p(`<text x="10" y="22" font-size="16" font-weight="bold">%s</text>`+"\n", esc(title))
	p(`<text x="10" y="42" fill="#555">%s, %d CPUs; each group is scaled to its best client</text>`+"\n", esc(in.Machine.CPU), in.Machine.CPUs)

	y := top
	for _, c := range cases {
		metric, unit := func(r Row) float64 { return r.FilesPerSec }, "files/s"
		if c[0] == SetLarge {
			metric, unit = func(r Row) float64 { return r.MBPerSec }, "MB/s"
		}
		var best float64
		for _, r := range rows {
			if r.Set == c[0] && r.Setting == c[1] && r.OK > 0 {
				best = max(best, metric(r))
			}
		}
		head := fmt.Sprintf("%s · %s (%s)", c[0], c[1], unit)
		if t := titles[c[1]]; t != "" {
			head += " - " + t
		}
		p(`<text x="10" y="%d" font-weight="bold">%s</text>`+"\n", y+16, esc(head))
		y += groupHead
		for _, r := range rows {
			if r.Set != c[0] || r.Setting != c[1] {
				continue
			}
			p(`<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", labelW-8, y+barH-4, esc(r.Client))
			if r.OK == 0 || best == 0 {
				p(`<text x="%d" y="%d" fill="#b00">failed</text>`+"\n", labelW, y+barH-4)
			} else {
				w := max(1, int(float64(barMaxW)*metric(r)/best))
				p(`<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`+"\n", labelW, y, w, barH, color(r))
				p(`<text x="%d" y="%d">%s</text>`+"\n", labelW+w+6, y+barH-4, esc(num(metric(r))))
			}
			y += barH + gap
		}
		y += groupGap
	}
	p("</svg>\n")
	return b.Bytes()
}

func color(r Row) string {
	switch r.Family {
	case "uploader":
		switch {
		case strings.Contains(r.Client, "postgres"):
			return "#08519c"
		case strings.Contains(r.Client, "sqlite"):
			return "#3182bd"
		default:
			return "#6baed6"
		}
	case "s5cmd":
		return "#fd8d3c"
	case "rclone":
		return "#9e76c4"
	default:
		return "#969696"
	}
}

func esc(s string) string { return html.EscapeString(s) }
