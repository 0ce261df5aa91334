package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/staticmedia/staticmedia/internal/testbed/proc"
	"github.com/staticmedia/staticmedia/uploader/bench/internal/appdb"
	"github.com/staticmedia/staticmedia/uploader/bench/internal/corpus"
	"github.com/staticmedia/staticmedia/uploader/bench/internal/fakes3"
	"github.com/staticmedia/staticmedia/uploader/bench/internal/toolset"
)

// Timed is one measured `uploader migrate` run outside the client matrix.
type Timed struct {
	Files  int64         `json:"files"`
	Wall   time.Duration `json:"wall_ns"`
	MaxRSS int64         `json:"max_rss_bytes"`
	// CPUBusy is the share of the machine's CPU time that was busy (not idle or waiting for
	// I/O) during the run, every process counted: the client, the endpoint, the database.
	CPUBusy  float64 `json:"cpu_busy,omitempty"`
	Uploaded int64   `json:"uploaded"`
	Flagged  int64   `json:"flagged"`
	Err      string  `json:"error,omitempty"`
}

// FilesPerSec is the run's rate.
func (t Timed) FilesPerSec() float64 {
	if t.Wall <= 0 {
		return 0
	}
	return float64(t.Files) / t.Wall.Seconds()
}

// MedianOf is the median of value over the successful runs for which it reports a value (0
// when there is none).
func MedianOf(runs []Timed, value func(Timed) (float64, bool)) float64 {
	var v []float64
	for _, r := range runs {
		if x, ok := value(r); ok && r.Err == "" {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// WallSeconds is a run's wall time in seconds, for MedianOf.
func WallSeconds(r Timed) (float64, bool) { return r.Wall.Seconds(), true }

// medianWall is the median wall time of the successful runs (0 when none succeeded).
func medianWall(runs []Timed) time.Duration {
	return time.Duration(MedianOf(runs, func(r Timed) (float64, bool) { return float64(r.Wall), true }))
}

// uploaderRun runs `uploader migrate` on the SQLite or PostgreSQL table db ("sqlite:..." or a
// postgres DSN) against s, under prefix, and checks that its report counts files uploaded and
// flagged.
func uploaderRun(ctx context.Context, up toolset.Tool, s *Setting, set *corpus.Set, db, prefix, dir string, files int64, timeout time.Duration, extra ...string) Timed {
	t := Timed{Files: files}
	r := &Run{Set: set, Setting: s, Prefix: prefix, Dir: dir}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Err = err.Error()
		return t
	}
	tf := filepath.Join(dir, "tf-output.json")
	if err := writeTFOutput(tf, r); err != nil {
		t.Err = err.Error()
		return t
	}
	report := filepath.Join(dir, "report.json")
	args := append([]string{"migrate", "--tf-output", tf, "--source", set.Dir, "--db", db,
		"--table", appdb.Table, "--path-column", appdb.PathColumn, "--flag-column", appdb.FlagColumn,
		"--report", report, "--progress", "never"}, extra...)
	cmd := exec.Command(up.Path, args...)
	cmd.Env = clientEnv(r)
	cmd.Dir = dir
	u, err := proc.Measure(ctx, "uploader", cmd, filepath.Join(dir, "output.log"), timeout)
	t.Wall, t.MaxRSS = u.Wall, u.MaxRSS
	if err != nil {
		t.Err = err.Error()
		return t
	}
	rep, err := readReport(report)
	if err != nil {
		t.Err = err.Error()
		return t
	}
	t.Uploaded, t.Flagged = rep.Uploaded, rep.Flagged
	if files > 0 && (rep.Uploaded != files || rep.Flagged != files) {
		t.Err = fmt.Sprintf("the report says %d uploaded, %d flagged; want %d", rep.Uploaded, rep.Flagged, files)
	}
	return t
}

// SlowFileCheck compares the same files uploaded with and without one slow PUT every
// Every PUTs (issue 12: one slow file must not hold up a page of others).
type SlowFileCheck struct {
	Files   int           `json:"files"`
	Every   int64         `json:"every"`
	Delay   time.Duration `json:"delay_ns"`
	Without []Timed       `json:"without"`
	With    []Timed       `json:"with"`
}

// Extra is how much later the median run with slow PUTs finished (0 when a side has no
// successful run; see OK).
func (c SlowFileCheck) Extra() time.Duration { return medianWall(c.With) - medianWall(c.Without) }

// OK says whether both sides have a successful run.
func (c SlowFileCheck) OK() bool { return medianWall(c.With) > 0 && medianWall(c.Without) > 0 }

// RunSlowFileCheck uploads the first files of set (a SQLite table made by appdb.SQLiteRows)
// with the uploader's defaults to fast and to slow (the same endpoint with every Every-th PUT
// delayed), alternating, reps times each.
func RunSlowFileCheck(ctx context.Context, up toolset.Tool, fast, slow *Setting, every int64, delay time.Duration,
	set *corpus.Set, db string, files, reps int, dir string, timeout time.Duration) SlowFileCheck {
	c := SlowFileCheck{Files: files, Every: every, Delay: delay}
	for rep := range reps {
		for i, s := range []*Setting{fast, slow} {
			runDir := filepath.Join(dir, fmt.Sprintf("r%02d-%s", rep, s.Name))
			t := func() Timed {
				work := filepath.Join(runDir, "app.sqlite")
				if err := os.MkdirAll(runDir, 0o755); err != nil {
					return Timed{Err: err.Error()}
				}
				if err := appdb.CopyFile(db, work); err != nil {
					return Timed{Err: err.Error()}
				}
				s.store.begin()
				t := uploaderRun(ctx, up, s, set, "sqlite:"+work, fmt.Sprintf("slowcheck-%02d/", rep), runDir, int64(files), timeout)
				_, _ = s.store.stored(ctx, "")
				return t
			}()
			if i == 0 {
				c.Without = append(c.Without, t)
			} else {
				c.With = append(c.With, t)
			}
		}
	}
	return c
}

// ScaleOutCheck is two uploaders sharing one PostgreSQL table against one endpoint, compared
// with one uploader alone (issue 12: >= 1.7x the files/s, every row flagged once, every object
// stored once).
type ScaleOutCheck struct {
	Files       int     `json:"files"`
	Concurrency int     `json:"concurrency"`
	One         []Timed `json:"one"`
	Two         []Timed `json:"two"` // the pair's wall: from both starts to the last exit
	Err         string  `json:"error,omitempty"`
}

// MedianCPUBusy is the median CPU busy share of the successful runs of one side that measured it.
func MedianCPUBusy(runs []Timed) float64 {
	return MedianOf(runs, func(r Timed) (float64, bool) { return r.CPUBusy, r.CPUBusy > 0 })
}

// Speedup is the pair's median files/s over one uploader's.
func (c ScaleOutCheck) Speedup() float64 {
	one, two := medianWall(c.One), medianWall(c.Two)
	if one == 0 || two == 0 {
		return 0
	}
	return one.Seconds() / two.Seconds()
}

// RunScaleOut measures one uploader, then two at once, reps times each, on pg's table holding
// set's rows, against s (a fakes3 setting served by srv, which counts PUTs per key).
func RunScaleOut(ctx context.Context, up toolset.Tool, s *Setting, srv *fakes3.Running, pg *appdb.Postgres, set *corpus.Set,
	concurrency, reps int, dir string, timeout time.Duration) ScaleOutCheck {
	c := ScaleOutCheck{Files: len(set.Files), Concurrency: concurrency}
	files := int64(len(set.Files))
	conc := []string{"--concurrency", strconv.Itoa(concurrency)}
	for rep := range reps {
		for _, n := range []int{1, 2} {
			prefix := fmt.Sprintf("scaleout-%02d-%d/", rep, n)
			runDir := filepath.Join(dir, fmt.Sprintf("r%02d-x%d", rep, n))
			if err := pg.Reset(ctx, set); err != nil {
				c.Err = err.Error()
				return c
			}
			s.store.begin()
			srv.TakeStoreCounts()
			busy := startCPUBusy()
			var t Timed
			if n == 1 {
				t = uploaderRun(ctx, up, s, set, pg.DSN(), prefix, runDir, files, timeout, conc...)
			} else {
				// Each uploads what the other did not claim: neither count is known alone.
				var (
					wg   sync.WaitGroup
					pair [2]Timed
				)
				start := time.Now()
				for i := range pair {
					wg.Go(func() {
						pair[i] = uploaderRun(ctx, up, s, set, pg.DSN(), prefix, filepath.Join(runDir, strconv.Itoa(i)), 0, timeout, conc...)
					})
				}
				wg.Wait()
				t = Timed{Files: files, Wall: time.Since(start), MaxRSS: max(pair[0].MaxRSS, pair[1].MaxRSS),
					Uploaded: pair[0].Uploaded + pair[1].Uploaded, Flagged: pair[0].Flagged + pair[1].Flagged}
				switch {
				case pair[0].Err != "" || pair[1].Err != "":
					t.Err = pair[0].Err + " " + pair[1].Err
				case t.Uploaded != files || t.Flagged != files:
					t.Err = fmt.Sprintf("the two reports say %d uploaded, %d flagged; want %d each: a row was uploaded twice", t.Uploaded, t.Flagged, files)
				}
			}
			t.CPUBusy = busy()
			if t.Err == "" {
				t.Err = scaleOutVerify(ctx, s, srv, pg, set, prefix)
			}
			if n == 1 {
				c.One = append(c.One, t)
			} else {
				c.Two = append(c.Two, t)
			}
		}
	}
	return c
}

// scaleOutVerify checks the table (every row flagged) and the endpoint (every key stored
// exactly once, and nothing else).
func scaleOutVerify(ctx context.Context, s *Setting, srv *fakes3.Running, pg *appdb.Postgres, set *corpus.Set, prefix string) string {
	counts, err := pg.Counts(ctx)
	if err == nil {
		err = counts.Check(len(set.Files))
	}
	if err == nil {
		err = s.verify(ctx, prefix, set)
	}
	if err != nil {
		return err.Error()
	}
	for k, n := range srv.TakeStoreCounts() {
		if n != 1 {
			return fmt.Sprintf("%s was stored %d times, want once", k, n)
		}
	}
	return ""
}

// ScaleCheck is a real run (not a dry run) over many pending rows, compared with the rate of
// the same files at the set's own size (issue 12: peak RSS <= 64 MB, files/s within 20%).
type ScaleCheck struct {
	Rows  int   `json:"rows"`
	Base  Timed `json:"base"`  // the set's own rows
	Large Timed `json:"large"` // Rows rows, paths cycling through the set
}

// RunScaleCheck runs the uploader with its defaults on a SQLite table of len(set.Files) rows,
// then on one of rows rows (templates from appdb.SQLiteRows), against s.
func RunScaleCheck(ctx context.Context, up toolset.Tool, s *Setting, set *corpus.Set, baseDB, largeDB string, rows int, dir string, timeout time.Duration) ScaleCheck {
	c := ScaleCheck{Rows: rows}
	run := func(name, db string, n int) Timed {
		runDir := filepath.Join(dir, name)
		if err := os.MkdirAll(runDir, 0o755); err != nil {
			return Timed{Err: err.Error()}
		}
		work := filepath.Join(runDir, "app.sqlite")
		if err := appdb.CopyFile(db, work); err != nil {
			return Timed{Err: err.Error()}
		}
		s.store.begin()
		t := uploaderRun(ctx, up, s, set, "sqlite:"+work, "scale-"+name+"/", runDir, int64(n), timeout)
		_, _ = s.store.stored(ctx, "")
		return t
	}
	c.Base = run("base", baseDB, len(set.Files))
	c.Large = run("large", largeDB, rows)
	return c
}
