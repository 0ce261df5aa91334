// Package report turns measured runs into the committed results: a Markdown table with the
// machine's description and the targets of issue 7, a hand-drawn SVG chart, and the raw runs
// as JSON.
package report

import (
	"cmp"
	"slices"
	"time"

	"github.com/staticmedia/staticmedia/uploader/bench/internal/harness"
)

// Row is one (set, setting, client) with the medians of its successful runs.
type Row struct {
	Set, Setting, Client, Family string
	Position                     int // the client's place in its case's list

	Runs, OK int
	Files    int
	Bytes    int64

	Wall        time.Duration // median
	FilesPerSec float64       // files / median wall
	// SlowestFPS and FastestFPS are the spread of files/s over the successful runs: a wide
	// spread says the machine was not quiet.
	SlowestFPS, FastestFPS float64
	MBPerSec               float64 // 10^6 bytes / median wall
	CPUMsPerFile           float64 // median of (user+sys) / files
	MaxRSS                 int64   // median peak RSS
	Errors                 []string
}

// Aggregate groups results by (set, setting, client): cases in the order they first appear,
// clients within a case in the order the case listed them (Result.Position).
func Aggregate(results []harness.Result) []Row {
	type key struct{ set, setting, client string }
	idx := map[key]int{}
	var rows []Row
	var walls, cpus [][]float64
	var rss [][]int64
	for _, r := range results {
		k := key{r.Set, r.Setting, r.Client}
		i, ok := idx[k]
		if !ok {
			i = len(rows)
			idx[k] = i
			rows = append(rows, Row{Set: r.Set, Setting: r.Setting, Client: r.Client, Family: r.Family, Position: r.Position, Files: r.Files, Bytes: r.Bytes})
			walls, cpus, rss = append(walls, nil), append(cpus, nil), append(rss, nil)
		}
		rows[i].Runs++
		if !r.OK() {
			rows[i].Errors = append(rows[i].Errors, r.Err)
			continue
		}
		rows[i].OK++
		walls[i] = append(walls[i], r.Wall.Seconds())
		cpus[i] = append(cpus[i], float64((r.User+r.Sys).Microseconds())/1000/float64(r.Files))
		rss[i] = append(rss[i], r.MaxRSS)
	}
	for i := range rows {
		if rows[i].OK == 0 {
			continue
		}
		w := median(walls[i])
		rows[i].Wall = time.Duration(w * float64(time.Second))
		rows[i].FilesPerSec = float64(rows[i].Files) / w
		rows[i].SlowestFPS = float64(rows[i].Files) / slices.Max(walls[i])
		rows[i].FastestFPS = float64(rows[i].Files) / slices.Min(walls[i])
		rows[i].MBPerSec = float64(rows[i].Bytes) / 1e6 / w
		rows[i].CPUMsPerFile = median(cpus[i])
		rows[i].MaxRSS = medianInt(rss[i])
	}
	// Rows of a case appeared in the first repetition's order; put them in the list's.
	caseAt := map[[2]string]int{}
	for _, r := range rows {
		if _, ok := caseAt[[2]string{r.Set, r.Setting}]; !ok {
			caseAt[[2]string{r.Set, r.Setting}] = len(caseAt)
		}
	}
	slices.SortStableFunc(rows, func(a, b Row) int {
		return cmp.Or(cmp.Compare(caseAt[[2]string{a.Set, a.Setting}], caseAt[[2]string{b.Set, b.Setting}]),
			cmp.Compare(a.Position, b.Position))
	})
	return rows
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func medianInt(v []int64) int64 {
	f := make([]float64, len(v))
	for i, x := range v {
		f[i] = float64(x)
	}
	return int64(median(f))
}

// find returns the row for (set, setting, client), or nil.
func find(rows []Row, set, setting, client string) *Row {
	for i := range rows {
		if rows[i].Set == set && rows[i].Setting == setting && rows[i].Client == client && rows[i].OK > 0 {
			return &rows[i]
		}
	}
	return nil
}

// Ceiling is the best files/s (and MB/s) any client reached on one (set, setting).
type Ceiling struct {
	Set, Setting string
	FilesPerSec  float64
	MBPerSec     float64
	By           string
}

// Ceilings computes the ceiling of every (set, setting), in order of appearance.
func Ceilings(rows []Row) []Ceiling {
	var out []Ceiling
	for _, r := range rows {
		if r.OK == 0 {
			continue
		}
		i := slices.IndexFunc(out, func(c Ceiling) bool { return c.Set == r.Set && c.Setting == r.Setting })
		if i < 0 {
			out = append(out, Ceiling{Set: r.Set, Setting: r.Setting})
			i = len(out) - 1
		}
		if r.FilesPerSec > out[i].FilesPerSec {
			out[i].FilesPerSec, out[i].MBPerSec, out[i].By = r.FilesPerSec, r.MBPerSec, r.Client
		}
	}
	return out
}
