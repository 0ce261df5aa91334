package suite

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	"github.com/staticmedia/staticmedia/uploader/bench/internal/appdb"
	"github.com/staticmedia/staticmedia/uploader/bench/internal/corpus"
	"github.com/staticmedia/staticmedia/uploader/bench/internal/fakes3"
	"github.com/staticmedia/staticmedia/uploader/bench/internal/harness"
	"github.com/staticmedia/staticmedia/uploader/bench/internal/report"
	"github.com/staticmedia/staticmedia/uploader/bench/internal/toolset"
)

// The checks of issue 12 outside the client matrix.
const (
	slowFiles    = 8000        // files of the slow-file check, from many-tiny
	slowEvery    = 1000        // every slowEvery-th PUT is slow
	slowDelay    = time.Second // by this much
	scaleOutConc = 32          // --concurrency of each uploader in the scale-out check
	// scaleOutLowConc is the scale-out check again with few requests in flight, so the run is
	// bound by the round trip rather than by the machine's two cores, shared by the uploaders,
	// the endpoint and PostgreSQL: it tells whether the claims let two uploaders scale at all.
	scaleOutLowConc = 8
	scaleOutLowReps = 2
	scaleOutLatency = 30 * time.Millisecond
)

// issue12 runs the slow-file and scale-out checks into in (each only when its inputs were
// selected). fake and slow30 are the fakes3 and fakes3+30ms endpoints.
func issue12(ctx context.Context, cfg Config, in *report.Input, tools *toolset.Tools, sets []*corpus.Set,
	fake *harness.Setting, slow30 *harness.Setting, slow30srv *fakes3.Running, pg *appdb.Postgres, runsDir string, log io.Writer) error {
	if !tools.Uploader.OK() {
		return nil
	}
	reps := min(cfg.Reps, 3)
	if !selected(cfg.Settings, report.SettingFake) || !wants(cfg.Clients, "uploader-sqlite") {
		in.Notes = append(in.Notes, "slow-file check not run: it needs the fakes3 setting and uploader-sqlite")
	} else if i := slices.IndexFunc(sets, func(s *corpus.Set) bool { return s.Params.Kind == corpus.ManyTiny }); i >= 0 {
		files := min(slowFiles, len(sets[i].Files))
		every := int64(slowEvery)
		if cfg.Quick {
			every = int64(files / 4)
		}
		srv, err := fakes3.Start(fakes3.Options{Bucket: Bucket, RecordKeys: true, SlowEvery: every, SlowDelay: slowDelay}, "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer srv.Close(context.Background())
		slowPuts := harness.FakeS3Setting("fakes3+slow-put", fmt.Sprintf("fakes3 with every %d-th PUT answered %s late", every, slowDelay), srv, Bucket)
		db, err := appdb.SQLiteRows(ctx, filepath.Join(cfg.BenchDir, "corpus"), sets[i], files)
		if err != nil {
			return err
		}
		fmt.Fprintf(log, "bench: slow-file check: %d files, every %d-th PUT %s late, %d repetitions\n", files, every, slowDelay, reps)
		c := harness.RunSlowFileCheck(ctx, tools.Uploader, fake, slowPuts, every, slowDelay, sets[i], db, files, reps,
			filepath.Join(runsDir, "slowcheck"), cfg.Timeout)
		in.SlowFile = &c
		fmt.Fprintf(log, "bench: slow-file check: %.2f s later with slow PUTs\n", c.Extra().Seconds())
	} else {
		in.Notes = append(in.Notes, "slow-file check not run: it reads the many-tiny set, which was not selected")
	}
	if pg == nil || !selected(cfg.Settings, report.SettingLatency) {
		in.Notes = append(in.Notes, "scale-out check not run: it needs PostgreSQL (uploader-postgres) and the fakes3+30ms setting")
		return nil
	}
	if i := slices.IndexFunc(sets, func(s *corpus.Set) bool { return s.Params.Kind == corpus.SmallImages }); i >= 0 {
		fmt.Fprintf(log, "bench: scale-out check: one and two uploaders at --concurrency %d on one PostgreSQL table, %s per request\n", scaleOutConc, scaleOutLatency)
		c := harness.RunScaleOut(ctx, tools.Uploader, slow30, slow30srv, pg, sets[i], scaleOutConc, reps, filepath.Join(runsDir, "scaleout"), cfg.Timeout)
		in.ScaleOut = &c
		fmt.Fprintf(log, "bench: scale-out check: %.2fx %s\n", c.Speedup(), c.Err)
		fmt.Fprintf(log, "bench: scale-out check again at --concurrency %d, off the CPU ceiling\n", scaleOutLowConc)
		low := harness.RunScaleOut(ctx, tools.Uploader, slow30, slow30srv, pg, sets[i], scaleOutLowConc, min(reps, scaleOutLowReps),
			filepath.Join(runsDir, "scaleout-low"), cfg.Timeout)
		in.ScaleOutLow = &low
		fmt.Fprintf(log, "bench: scale-out check at --concurrency %d: %.2fx %s\n", scaleOutLowConc, low.Speedup(), low.Err)
	}
	return nil
}

// scaleCheck is `make bench-scale`: a real run over cfg.ScaleRows pending SQLite rows (1 KiB
// files, paths cycling through a set of 50,000), compared with a run over the 50,000 alone.
func scaleCheck(ctx context.Context, cfg Config, in *report.Input, tools *toolset.Tools, tiny *corpus.Set, fake *harness.Setting, runsDir string, log io.Writer) error {
	dir := filepath.Join(cfg.BenchDir, "corpus")
	base, err := appdb.SQLiteRows(ctx, dir, tiny, len(tiny.Files))
	if err != nil {
		return err
	}
	large, err := appdb.SQLiteRows(ctx, dir, tiny, cfg.ScaleRows)
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "bench: scale check: %d and %d pending rows, real runs\n", len(tiny.Files), cfg.ScaleRows)
	c := harness.RunScaleCheck(ctx, tools.Uploader, fake, tiny, base, large, cfg.ScaleRows, filepath.Join(runsDir, "scale"), cfg.Timeout)
	in.Scale = &c
	fmt.Fprintf(log, "bench: scale check: %.0f files/s (%.0f MB) vs %.0f files/s (%.0f MB) %s %s\n", c.Large.FilesPerSec(), float64(c.Large.MaxRSS)/1e6,
		c.Base.FilesPerSec(), float64(c.Base.MaxRSS)/1e6, c.Base.Err, c.Large.Err)
	return nil
}
