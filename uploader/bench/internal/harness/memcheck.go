package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/staticmedia/staticmedia/internal/testbed/proc"
	"github.com/staticmedia/staticmedia/uploader/bench/internal/appdb"
	"github.com/staticmedia/staticmedia/uploader/bench/internal/corpus"
	"github.com/staticmedia/staticmedia/uploader/bench/internal/toolset"
)

// RunMemoryCheck runs `uploader migrate --dry-run` over a SQLite table of rows pending records
// (built once from db, a template made by appdb.SQLiteRows, whose paths point into set) and
// measures its peak RSS and time: streaming must not load the work list into memory.
func RunMemoryCheck(ctx context.Context, up toolset.Tool, s *Setting, set *corpus.Set, db string, rows int, dir string, timeout time.Duration) MemoryCheck {
	mc := MemoryCheck{Rows: rows}
	r := &Run{Set: set, Setting: s, Prefix: "memcheck/", Dir: dir}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		mc.Err = err.Error()
		return mc
	}
	tf := filepath.Join(dir, "tf-output.json")
	work := filepath.Join(dir, "app.sqlite")
	if err := writeTFOutput(tf, r); err != nil {
		mc.Err = err.Error()
		return mc
	}
	if err := appdb.CopyFile(db, work); err != nil {
		mc.Err = err.Error()
		return mc
	}
	report := filepath.Join(dir, "report.json")
	cmd := exec.Command(up.Path, "migrate", "--dry-run", "--tf-output", tf, "--source", set.Dir,
		"--db", "sqlite:"+work, "--table", appdb.Table, "--path-column", appdb.PathColumn, "--flag-column", appdb.FlagColumn,
		"--report", report, "--progress", "never")
	cmd.Env = clientEnv(r)
	cmd.Dir = dir
	u, err := proc.Measure(ctx, "uploader --dry-run", cmd, filepath.Join(dir, "output.log"), timeout)
	mc.Wall, mc.CPU, mc.MaxRSS = u.Wall, u.CPU(), u.MaxRSS
	if err != nil {
		mc.Err = err.Error()
		return mc
	}
	rep, err := readReport(report)
	if err != nil {
		mc.Err = err.Error()
		return mc
	}
	mc.Report = &rep
	if !rep.DryRun || rep.WouldUpload != int64(rows) {
		mc.Err = fmt.Sprintf("the uploader's report says dry_run=%v, would_upload=%d; want true and %d", rep.DryRun, rep.WouldUpload, rows)
	}
	return mc
}
