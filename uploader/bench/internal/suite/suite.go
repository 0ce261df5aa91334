// Package suite is the whole benchmark: it prepares tools, corpus, engines and endpoints, runs
// the case matrix through the harness, runs the memory check, and writes the report.
package suite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/staticmedia/staticmedia/internal/testbed/engine"
	"github.com/staticmedia/staticmedia/uploader/bench/internal/appdb"
	"github.com/staticmedia/staticmedia/uploader/bench/internal/corpus"
	"github.com/staticmedia/staticmedia/uploader/bench/internal/fakes3"
	"github.com/staticmedia/staticmedia/uploader/bench/internal/harness"
	"github.com/staticmedia/staticmedia/uploader/bench/internal/report"
	"github.com/staticmedia/staticmedia/uploader/bench/internal/toolset"
)

// Bucket is the bucket every setting uploads into.
const Bucket = "bench"

// DefaultSeed seeds the corpus unless told otherwise; the quick test uses it too, so it shares
// the cache with BENCH_QUICK=1 make bench.
const DefaultSeed = 20240601

// Config is the benchmark's configuration, from flags.
type Config struct {
	RepoRoot string
	BenchDir string // scratch and caches (.bench)
	OutDir   string // where results.md, results.svg and results.json go
	Command  string // shown in the report

	Quick    bool
	Seed     uint64
	Reps     int
	SlowReps int
	Timeout  time.Duration // per run

	// Filters; empty means everything.
	Sets, Settings, Clients []string

	// UploaderConcurrency lists --concurrency values to measure as separate clients; 0 keeps
	// the uploader's default.
	UploaderConcurrency []int
	UploaderArgs        []string
	MemoryRows          int // 0 skips the memory check
	// ScaleRows, when positive, runs only the scale check of issue 12 (`make bench-scale`): a
	// real run over this many pending rows against the 50,000-file rate.
	ScaleRows int
	NoInstall bool
}

// sets returns the corpus parameters: the issue's sizes, or a small version for quick runs.
func (c Config) sets() []corpus.Params {
	small := corpus.Params{Kind: corpus.SmallImages, Files: 5000, MinSize: 10 << 10, MaxSize: 500 << 10,
		MedianSize: 85 << 10, Sigma: 0.6, Seed: c.Seed}
	tiny := corpus.Params{Kind: corpus.ManyTiny, Files: 50000, MinSize: 1 << 10, MaxSize: 4 << 10, Seed: c.Seed}
	large := corpus.Params{Kind: corpus.Large, Files: 3, MinSize: 64 << 20, MaxSize: 128 << 20, Seed: c.Seed}
	if c.Quick {
		small.Files, tiny.Files = 200, 1000
		large.Files, large.MinSize, large.MaxSize = 1, 24<<20, 24<<20
	}
	return []corpus.Params{small, tiny, large}
}

func describe(p corpus.Params) string {
	switch p.Kind {
	case corpus.SmallImages:
		return fmt.Sprintf("photos (.jpg/.png/.webp) in year/month/album folders, log-normal sizes around %d KiB (%d KiB to %d KiB)",
			p.MedianSize>>10, p.MinSize>>10, p.MaxSize>>10)
	case corpus.ManyTiny:
		return fmt.Sprintf("thumbnails, uniform %d to %d KiB, 250 folders", p.MinSize>>10, p.MaxSize>>10)
	default:
		return fmt.Sprintf("videos, %d MiB to %d MiB", p.MinSize>>20, p.MaxSize>>20)
	}
}

// casePlan says where a set runs and how often.
type casePlan struct {
	settings []string
	reps     map[string]int    // repetitions on a setting, when fewer than Config.Reps
	skipped  map[string]string // why the set does not run on each other setting (in the report)
}

// matrix fits the benchmark in the 15-minute budget on two cores: many tiny files only where the
// client is measured alone (on MinIO they would measure MinIO's metadata writes) and with two
// repetitions (each run is 50,000 requests), small images on MinIO with three (each run is 8-10
// s plus deleting its objects, and the server, not the client, sets the pace), large files not
// with added latency (30 ms per part is noise next to 64 MiB).
var matrix = map[corpus.Kind]casePlan{
	corpus.SmallImages: {settings: []string{report.SettingFake, report.SettingLatency, report.SettingFar, report.SettingMinIO},
		reps: map[string]int{report.SettingMinIO: 3, report.SettingFar: 3}},
	corpus.ManyTiny: {settings: []string{report.SettingFake}, reps: map[string]int{report.SettingFake: 2},
		skipped: map[string]string{
			report.SettingLatency: "50,000 requests per run for every client do not fit the 15-minute budget, and small-images on this setting already shows how the round trip caps each client",
			report.SettingMinIO:   "MinIO's metadata writes would set the pace for every client, as the server does for small-images there, and 50,000 objects per run do not fit the budget",
		}},
	corpus.Large: {settings: []string{report.SettingFake, report.SettingMinIO},
		skipped: map[string]string{
			report.SettingLatency: "30 ms per 8 MiB part is noise next to the time to send it",
		}},
}

// Run executes the benchmark and writes the report.
func Run(ctx context.Context, cfg Config, log io.Writer) error {
	started := time.Now()
	in := report.Input{Command: cfg.Command, Quick: cfg.Quick, Started: started, Machine: report.DescribeMachine(),
		Reps: cfg.Reps, SlowReps: cfg.SlowReps}
	fmt.Fprintf(log, "bench: %s, %d CPUs, load average %s\n", in.Machine.CPU, in.Machine.CPUs, in.Machine.LoadAvg)
	var load1 float64
	if _, err := fmt.Sscan(in.Machine.LoadAvg, &load1); err == nil && load1 > 0.5*float64(in.Machine.CPUs) {
		fmt.Fprintf(log, "bench: WARNING: the machine is busy (load %.1f on %d CPUs); every number will be skewed\n", load1, in.Machine.CPUs)
	}

	tools, err := toolset.Prepare(ctx, toolset.Options{RepoRoot: cfg.RepoRoot, BenchDir: cfg.BenchDir, Log: log, NoInstall: cfg.NoInstall})
	if err != nil {
		return err
	}
	in.Tools = tools.All()
	for _, t := range in.Tools {
		if t.OK() {
			fmt.Fprintf(log, "bench: %s: %s (%s)\n", t.Name, t.Path, t.Version)
		} else {
			fmt.Fprintf(log, "bench: %s NOT AVAILABLE: %s\n", t.Name, t.Missing)
		}
	}

	// Corpus.
	var sets []*corpus.Set
	for _, p := range cfg.sets() {
		if !selected(cfg.Sets, string(p.Kind)) {
			continue
		}
		t0 := time.Now()
		s, err := corpus.Ensure(ctx, filepath.Join(cfg.BenchDir, "corpus"), p)
		if err != nil {
			return err
		}
		fmt.Fprintf(log, "bench: set %s: %d files, %.0f MB (%s)\n", p.Kind, len(s.Files), s.MB(), time.Since(t0).Round(time.Millisecond))
		sets = append(sets, s)
		in.Sets = append(in.Sets, report.SetInfo{Name: string(p.Kind), Files: len(s.Files), Bytes: s.Bytes, Description: describe(p)})
	}

	runsDir := filepath.Join(cfg.BenchDir, "runs", started.Format("20060102-150405"))
	if err := os.MkdirAll(runsDir, 0o755); err != nil {
		return err
	}

	// Endpoints: both fakes3 settings in this process, for the whole run.
	fake, err := fakes3.Start(fakes3.Options{Bucket: Bucket, RecordKeys: true}, "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer fake.Close(context.Background())
	slow, err := fakes3.Start(fakes3.Options{Bucket: Bucket, RecordKeys: true, Latency: 30 * time.Millisecond}, "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer slow.Close(context.Background())
	far, err := fakes3.Start(fakes3.Options{Bucket: Bucket, RecordKeys: true, Latency: 80 * time.Millisecond}, "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer far.Close(context.Background())
	settings := map[string]*harness.Setting{
		report.SettingFar:     harness.FakeS3Setting(report.SettingFar, "fakes3 with 80 ms added to every response (a far region)", far, Bucket),
		report.SettingFake:    harness.FakeS3Setting(report.SettingFake, "fakes3: the bench's own endpoint, hashes and discards bodies (client measured alone)", fake, Bucket),
		report.SettingLatency: harness.FakeS3Setting(report.SettingLatency, "fakes3 with 30 ms added to every response (the round trip to a real region)", slow, Bucket),
	}

	// PostgreSQL for the uploader's application-table mode.
	var pg *appdb.Postgres
	if wants(cfg.Clients, "uploader-postgres") && tools.Uploader.OK() {
		// Durable: the uploader's flag updates cost the fsyncs a production database makes.
		srv, err := engine.StartPostgres(ctx, engine.PostgresOptions{User: "bench", Database: "bench", Durable: true,
			LogFile: filepath.Join(runsDir, "postgres.log")})
		if err != nil {
			in.Notes = append(in.Notes, "uploader-postgres not run: "+err.Error())
		} else {
			defer srv.Close()
			pg = appdb.NewPostgres(srv.DSN)
		}
	}

	clients, notes := buildClients(cfg, tools, pg)
	in.Notes = append(in.Notes, notes...)
	for _, c := range clients {
		in.Clients = append(in.Clients, report.ClientInfo{Name: c.Name, Invocation: invocation(c.Name)})
	}

	rn := &harness.Runner{RunsDir: runsDir, Reps: cfg.Reps, SlowReps: cfg.SlowReps, Timeout: cfg.Timeout, Log: log}
	if cfg.ScaleRows > 0 {
		i := slices.IndexFunc(sets, func(s *corpus.Set) bool { return s.Params.Kind == corpus.ManyTiny })
		if i < 0 || !tools.Uploader.OK() {
			return errors.New("the scale check needs the many-tiny set and the uploader")
		}
		if err := scaleCheck(ctx, cfg, &in, tools, sets[i], settings[report.SettingFake], runsDir, log); err != nil {
			return err
		}
		return finish(cfg, in, started, log)
	}

	for _, settingName := range []string{report.SettingFake, report.SettingLatency, report.SettingFar, report.SettingMinIO} {
		if !selected(cfg.Settings, settingName) {
			continue
		}
		var cases []harness.Case
		for _, s := range sets {
			plan := matrix[s.Params.Kind]
			if !slices.Contains(plan.settings, settingName) {
				if why := plan.skipped[settingName]; why != "" {
					in.Notes = append(in.Notes, fmt.Sprintf("%s is not run on %s: %s", s.Params.Kind, settingName, why))
				}
				continue
			}
			cs := clients
			if s.Params.Kind == corpus.ManyTiny && !cfg.Quick {
				cs = slices.DeleteFunc(slices.Clone(clients), func(c *harness.Client) bool { return c.Slow })
				if len(cs) < len(clients) {
					in.Notes = append(in.Notes, "the AWS CLI is not run on many-tiny: at about 250 files/s one run would take over 3 minutes of the 15-minute budget")
				}
			}
			reps := plan.reps[settingName]
			if reps > 0 && reps < cfg.Reps {
				in.Notes = append(in.Notes, fmt.Sprintf("%s on %s runs %d repetitions per client, not %d, to fit the time budget", s.Params.Kind, settingName, reps, cfg.Reps))
			}
			cases = append(cases, harness.Case{Set: s, Clients: cs, Reps: reps})
		}
		if len(cases) == 0 || len(clients) == 0 {
			continue
		}
		setting := settings[settingName]
		if settingName == report.SettingMinIO {
			if !tools.MinIO.OK() {
				in.Notes = append(in.Notes, "MinIO setting not run: "+tools.MinIO.Missing)
				continue
			}
			m, err := engine.StartMinIO(ctx, engine.MinIOOptions{Bin: tools.MinIO.Path, Dir: cfg.BenchDir, Buckets: []string{Bucket},
				LogFile: filepath.Join(cfg.BenchDir, "minio.log")})
			if err != nil {
				in.Notes = append(in.Notes, "MinIO setting not run: "+err.Error())
				continue
			}
			setting, err = harness.MinIOSetting(ctx, report.SettingMinIO, "MinIO on loopback (single drive): the server is the ceiling", m.Options(), Bucket)
			if err != nil {
				m.Close()
				return err
			}
			defer m.Close()
		}
		in.Settings = append(in.Settings, report.SettingInfo{Name: setting.Name, Title: setting.Title})
		for _, c := range cases {
			c.Setting = setting
			fmt.Fprintf(log, "bench: %s on %s: %d clients\n", c.Set.Params.Kind, setting.Name, len(c.Clients))
			res, err := rn.Execute(ctx, c)
			in.Results = append(in.Results, res...)
			if err != nil {
				return err
			}
		}
	}

	// Memory check: many pending rows streamed with --dry-run.
	if cfg.MemoryRows > 0 && tools.Uploader.OK() && wants(cfg.Clients, "uploader-sqlite") {
		if i := slices.IndexFunc(sets, func(s *corpus.Set) bool { return s.Params.Kind == corpus.ManyTiny }); i >= 0 {
			fmt.Fprintf(log, "bench: memory check: %d pending rows, --dry-run\n", cfg.MemoryRows)
			db, err := appdb.SQLiteRows(ctx, filepath.Join(cfg.BenchDir, "corpus"), sets[i], cfg.MemoryRows)
			if err != nil {
				return err
			}
			mc := harness.RunMemoryCheck(ctx, tools.Uploader, settings[report.SettingFake], sets[i], db, cfg.MemoryRows,
				filepath.Join(runsDir, "memcheck"), cfg.Timeout)
			in.Memory = &mc
			fmt.Fprintf(log, "bench: memory check: %.1f s, peak RSS %.0f MB %s\n", mc.Wall.Seconds(), float64(mc.MaxRSS)/1e6, mc.Err)
		} else {
			in.Notes = append(in.Notes, "memory check not run: it reads the many-tiny set, which was not selected")
		}
	}

	if err := issue12(ctx, cfg, &in, tools, sets, settings[report.SettingFake], settings[report.SettingLatency], slow, pg, runsDir, log); err != nil {
		return err
	}
	return finish(cfg, in, started, log)
}

// finish writes the report and says whether every run succeeded.
func finish(cfg Config, in report.Input, started time.Time, log io.Writer) error {
	in.Duration = time.Since(started)
	in.EndLoadAvg = report.LoadAvg()
	if err := report.Write(cfg.OutDir, in); err != nil {
		return err
	}
	fmt.Fprintf(log, "bench: wrote %s in %s\n", filepath.Join(cfg.OutDir, "results.md"), in.Duration.Round(time.Second))
	for _, r := range in.Results {
		if !r.OK() {
			return errors.New("some runs failed; see the report's failures section")
		}
	}
	if in.Memory != nil && in.Memory.Err != "" {
		return errors.New("the memory check failed: " + in.Memory.Err)
	}
	if in.Scale != nil && (in.Scale.Base.Err != "" || in.Scale.Large.Err != "") {
		return errors.New("the scale check failed: " + in.Scale.Base.Err + " " + in.Scale.Large.Err)
	}
	return nil
}

func buildClients(cfg Config, tools *toolset.Tools, pg *appdb.Postgres) ([]*harness.Client, []string) {
	var out []*harness.Client
	var notes []string
	add := func(c *harness.Client) {
		if wants(cfg.Clients, c.Name) {
			out = append(out, c)
		}
	}
	if tools.Uploader.OK() {
		concs := cfg.UploaderConcurrency
		if len(concs) == 0 {
			concs = []int{0}
		}
		for _, n := range concs {
			add(harness.UploaderClient(tools.Uploader, harness.Ledger, nil, n, cfg.UploaderArgs))
			add(harness.UploaderClient(tools.Uploader, harness.SQLite, nil, n, cfg.UploaderArgs))
			if pg != nil {
				add(harness.UploaderClient(tools.Uploader, harness.Postgres, pg, n, cfg.UploaderArgs))
			}
		}
	} else {
		notes = append(notes, "uploader not run: "+tools.Uploader.Missing)
	}
	for _, c := range []struct {
		t  toolset.Tool
		cl func(toolset.Tool) *harness.Client
	}{{tools.S5cmd, harness.S5cmdClient}, {tools.Rclone, harness.RcloneClient}, {tools.AWS, harness.AWSClient}} {
		if c.t.OK() {
			add(c.cl(c.t))
		} else {
			notes = append(notes, c.t.Name+" not run: "+c.t.Missing)
		}
	}
	return out, notes
}

// invocation documents each client's command line for the report.
func invocation(name string) string {
	switch {
	case strings.HasPrefix(name, "uploader-ledger"):
		return "`uploader migrate --tf-output F --source DIR --ledger L --report R --progress never`"
	case strings.HasPrefix(name, "uploader-sqlite"):
		return "`uploader migrate ... --db sqlite:APP --table media --path-column path --flag-column on_s3`"
	case strings.HasPrefix(name, "uploader-postgres"):
		return "`uploader migrate ... --db postgres://... --table media --path-column path --flag-column on_s3` (PostgreSQL 15, default durability)"
	case name == "s5cmd":
		return "`s5cmd --endpoint-url E --log error cp DIR/ s3://bench/PREFIX/` (defaults: 256 workers, 50 MiB parts)"
	case name == "rclone":
		return "`rclone copy DIR bench:bench/PREFIX --no-check-dest --s3-no-check-bucket --s3-no-head --transfers " +
			strconv.Itoa(harness.RcloneTransfers) + " --checkers " + strconv.Itoa(harness.RcloneTransfers) + " -q`, AWS_CA_BUNDLE unset"
	case name == "aws":
		return "`aws s3 cp DIR s3://bench/PREFIX/ --recursive --endpoint-url E --only-show-errors --no-progress` (defaults: 10 concurrent requests, 8 MiB multipart threshold)"
	}
	return ""
}

func selected(filter []string, name string) bool {
	return len(filter) == 0 || slices.Contains(filter, name)
}

// wants matches a client by its name or a dash-separated prefix of it: "uploader" selects
// every uploader variant, "uploader-ledger" also "uploader-ledger-c64".
func wants(filter []string, client string) bool {
	return len(filter) == 0 || slices.ContainsFunc(filter, func(f string) bool {
		return client == f || strings.HasPrefix(client, f+"-")
	})
}
