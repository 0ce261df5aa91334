// Package harness runs the benchmark: every client on every (set, setting) case, several
// repetitions with the clients alternated, each run measured from the outside (wall time and the
// child's rusage) and checked (every file stored with its size, every flag set).
package harness

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/staticmedia/staticmedia/internal/testbed/proc"
	"github.com/staticmedia/staticmedia/uploader/bench/internal/corpus"
)

// Case is one set uploaded to one setting by several clients.
type Case struct {
	Set     *corpus.Set
	Setting *Setting
	Clients []*Client
	// Reps caps the runner's repetitions for this case (0: no cap).
	Reps int
}

// Result is one measured run.
type Result struct {
	Set     string `json:"set"`
	Setting string `json:"setting"`
	Client  string `json:"client"`
	Family  string `json:"family"`
	// Position is the client's place in the case's list, which reports keep: runs happen in
	// a different order every repetition.
	Position int           `json:"position"`
	Rep      int           `json:"rep"`
	Files    int           `json:"files"`
	Bytes    int64         `json:"bytes"`
	Wall     time.Duration `json:"wall_ns"`
	User     time.Duration `json:"user_ns"`
	Sys      time.Duration `json:"sys_ns"`
	MaxRSS   int64         `json:"max_rss_bytes"`
	Err      string        `json:"error,omitempty"`
}

// OK reports whether the run succeeded and was verified.
func (r Result) OK() bool { return r.Err == "" }

// Runner executes cases.
type Runner struct {
	RunsDir  string        // per-run scratch directories and logs
	Reps     int           // repetitions per client
	SlowReps int           // repetitions for clients marked Slow
	Timeout  time.Duration // per run
	Log      io.Writer

	seq   int
	start time.Time
}

// Execute runs every client of c Reps times (SlowReps for slow ones) and returns the results. A
// failed run is recorded and the others go on. Each repetition takes the next row of a balanced
// Latin square (runOrder), so no client always runs first or always follows the same client:
// with a plain rotation the cyclic order never changes, and uploader-ledger followed rclone in
// every repetition but one.
func (rn *Runner) Execute(ctx context.Context, c Case) ([]Result, error) {
	if rn.start.IsZero() {
		rn.start = time.Now()
	}
	reps := rn.Reps
	if c.Reps > 0 {
		reps = min(reps, c.Reps)
	}
	var out []Result
	for rep := range reps {
		for _, i := range runOrder(len(c.Clients), rep) {
			cl := c.Clients[i]
			if cl.Slow && rep >= rn.SlowReps {
				continue
			}
			if err := ctx.Err(); err != nil {
				return out, err
			}
			res := rn.one(ctx, c, cl, rep)
			res.Position = i
			out = append(out, res)
			rn.logResult(res)
		}
	}
	return out, nil
}

// runOrder is row rep of a Williams design for n clients: 0, 1, n-1, 2, n-2, ... shifted by
// rep. Over n repetitions (n even) each client runs at each position once and directly after
// each other client once, so what a run leaves behind (rclone's thousand closed connections,
// a server's garbage) is charged to every client alike.
func runOrder(n, rep int) []int {
	if n == 0 {
		return nil
	}
	order := []int{0}
	for lo, hi := 1, n-1; lo <= hi; {
		order = append(order, lo)
		lo++
		if lo <= hi {
			order = append(order, hi)
			hi--
		}
	}
	for i := range order {
		order[i] = (order[i] + rep) % n
	}
	return order
}

func (rn *Runner) one(ctx context.Context, c Case, cl *Client, rep int) Result {
	rn.seq++
	res := Result{Set: string(c.Set.Params.Kind), Setting: c.Setting.Name, Client: cl.Name, Family: cl.Family,
		Rep: rep + 1, Files: len(c.Set.Files), Bytes: c.Set.Bytes}
	r := &Run{
		Set:     c.Set,
		Setting: c.Setting,
		Prefix:  fmt.Sprintf("r%04d-%s/", rn.seq, cl.Name),
		Dir:     filepath.Join(rn.RunsDir, fmt.Sprintf("%04d-%s-%s-%s", rn.seq, c.Set.Params.Kind, c.Setting.Name, cl.Name)),
	}
	if err := os.MkdirAll(r.Dir, 0o755); err != nil {
		res.Err = err.Error()
		return res
	}
	cmd, err := cl.command(ctx, r)
	if err != nil {
		res.Err = "preparing the run: " + err.Error()
		return res
	}
	// Every run starts with the set in the page cache. Once per case is not enough: rclone drops
	// the pages of each file it has read (posix_fadvise DONTNEED), so whichever client ran after
	// it read the set from disk and lost 30-45%.
	if err := c.Set.Warm(ctx); err != nil {
		res.Err = "warming the page cache: " + err.Error()
		return res
	}
	// Writes of the previous run (MinIO's objects, databases) go to disk now, not during this one.
	syscall.Sync()
	c.Setting.store.begin()
	u, err := proc.Measure(ctx, cl.Name, cmd, filepath.Join(r.Dir, "output.log"), rn.Timeout)
	res.Wall, res.User, res.Sys, res.MaxRSS = u.Wall, u.User, u.Sys, u.MaxRSS
	if err == nil {
		err = c.Setting.verify(ctx, r.Prefix, c.Set)
	}
	if err == nil && cl.check != nil {
		err = cl.check(ctx, r)
	}
	if err != nil {
		res.Err = err.Error()
	}
	if err := c.Setting.store.clean(ctx, r.Prefix); err != nil {
		fmt.Fprintf(rn.Log, "bench: %v (later runs meet a fuller endpoint)\n", err)
	}
	return res
}

func (rn *Runner) logResult(r Result) {
	el := time.Since(rn.start).Round(time.Second)
	if !r.OK() {
		fmt.Fprintf(rn.Log, "[%v] %s · %s · %s rep %d: FAILED: %s\n", el, r.Set, r.Setting, r.Client, r.Rep, r.Err)
		return
	}
	fmt.Fprintf(rn.Log, "[%v] %s · %s · %s rep %d: %.0f files/s, %.1f MB/s, %.2f CPU-ms/file, %.0f MB RSS (%.2fs)\n",
		el, r.Set, r.Setting, r.Client, r.Rep,
		float64(r.Files)/r.Wall.Seconds(), float64(r.Bytes)/1e6/r.Wall.Seconds(),
		float64((r.User+r.Sys).Microseconds())/1000/float64(r.Files), float64(r.MaxRSS)/1e6, r.Wall.Seconds())
}

// MemoryCheck is the uploader streaming through many pending rows with --dry-run.
type MemoryCheck struct {
	Rows   int           `json:"rows"`
	Wall   time.Duration `json:"wall_ns"`
	CPU    time.Duration `json:"cpu_ns"`
	MaxRSS int64         `json:"max_rss_bytes"`
	Report *UploaderReport
	Err    string `json:"error,omitempty"`
}
