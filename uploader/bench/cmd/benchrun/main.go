// Command benchrun is the uploader benchmark behind `make bench` (see uploader/bench/README.md).
//
//	benchrun [flags]            run the benchmark and write the results
//	benchrun fakes3 [flags]     serve the bench's S3 endpoint alone, for profiling a client by hand
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/staticmedia/staticmedia/uploader/bench/internal/fakes3"
	"github.com/staticmedia/staticmedia/uploader/bench/internal/suite"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "fakes3" {
		return serveFakeS3(ctx, args[1:], stdout, stderr)
	}
	cfg, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "benchrun:", err)
		return 2
	}
	if err := suite.Run(ctx, cfg, stdout); err != nil {
		fmt.Fprintln(stderr, "benchrun:", err)
		return 1
	}
	return 0
}

func parse(args []string, stderr io.Writer) (suite.Config, error) {
	fs := flag.NewFlagSet("benchrun", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg         suite.Config
		sets        = fs.String("sets", "", "comma-separated sets to run: small-images,many-tiny,large (default all)")
		settings    = fs.String("settings", "", "comma-separated settings: fakes3,fakes3+30ms,minio (default all)")
		clients     = fs.String("clients", "", "comma-separated clients or prefixes: uploader,uploader-ledger,s5cmd,rclone,aws (default all)")
		concurrency = fs.String("uploader-concurrency", "", "comma-separated --concurrency values to measure as separate clients (default: the uploader's own)")
		upArgs      = fs.String("uploader-args", "", "extra flags for every uploader run, space-separated")
		quick       = fs.Bool("quick", os.Getenv("BENCH_QUICK") == "1", "tiny sets and one repetition, to prove the harness (default from BENCH_QUICK=1)")
		out         = fs.String("out", "", "directory for results.md, results.svg and results.json (default uploader/bench; .bench/quick in quick mode; .bench/partial when a filter or uploader flag is given)")
		seed        = fs.Uint64("seed", suite.DefaultSeed, "corpus seed")
	)
	fs.StringVar(&cfg.RepoRoot, "root", "", "repository root (default: found from the working directory)")
	fs.StringVar(&cfg.Command, "command", "make bench", "how this run was started, for the report")
	fs.IntVar(&cfg.Reps, "reps", 5, "repetitions per client (median reported); runs on a shared 2-core machine vary by 10-20%")
	fs.IntVar(&cfg.SlowReps, "slow-reps", 1, "repetitions for the AWS CLI, which is ten times slower than the rest")
	fs.IntVar(&cfg.MemoryRows, "memory-rows", 1_000_000, "pending rows for the memory check (0 skips it)")
	fs.IntVar(&cfg.ScaleRows, "scale-rows", 0, "run only the scale check (make bench-scale): a real run over this many pending rows, compared with the 50,000-file rate")
	fs.DurationVar(&cfg.Timeout, "timeout", 10*time.Minute, "limit per run")
	fs.BoolVar(&cfg.NoInstall, "no-install", false, "install nothing; skip tools that are missing")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg.Quick, cfg.Seed = *quick, *seed
	cfg.Sets, cfg.Settings, cfg.Clients = list(*sets), list(*settings), list(*clients)
	for _, s := range list(*concurrency) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return cfg, fmt.Errorf("-uploader-concurrency: %q is not a positive integer", s)
		}
		cfg.UploaderConcurrency = append(cfg.UploaderConcurrency, n)
	}
	cfg.UploaderArgs = strings.Fields(*upArgs)
	if cfg.RepoRoot == "" {
		root, err := repoRoot()
		if err != nil {
			return cfg, err
		}
		cfg.RepoRoot = root
	}
	cfg.BenchDir = filepath.Join(cfg.RepoRoot, ".bench")
	cfg.OutDir = *out
	if cfg.Quick {
		cfg.Reps, cfg.SlowReps = 1, 1
		if cfg.MemoryRows > 20_000 {
			cfg.MemoryRows = 20_000
		}
		if cfg.OutDir == "" {
			cfg.OutDir = filepath.Join(cfg.BenchDir, "quick")
		}
		cfg.Command = "BENCH_QUICK=1 " + cfg.Command
	}
	partial := len(cfg.Sets)+len(cfg.Settings)+len(cfg.Clients)+len(cfg.UploaderConcurrency)+len(cfg.UploaderArgs) > 0
	if cfg.ScaleRows > 0 {
		cfg.Sets, cfg.MemoryRows = []string{"many-tiny"}, 0
		if cfg.Quick {
			cfg.ScaleRows = min(cfg.ScaleRows, 20_000)
		}
	}
	switch {
	case cfg.OutDir != "":
	case cfg.ScaleRows > 0:
		cfg.OutDir = filepath.Join(cfg.BenchDir, "scale")
	case partial:
		// The committed results come from the full default run only.
		cfg.OutDir = filepath.Join(cfg.BenchDir, "partial")
	default:
		cfg.OutDir = filepath.Join(cfg.RepoRoot, "uploader", "bench")
	}
	if cfg.Reps < 1 || cfg.SlowReps < 0 {
		return cfg, errors.New("-reps must be at least 1 and -slow-reps at least 0")
	}
	return cfg, nil
}

func list(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// repoRoot walks up from the working directory to the directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: run from inside the repository or pass -root")
		}
		dir = parent
	}
}

func serveFakeS3(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchrun fakes3", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9000", "listen address")
	bucket := fs.String("bucket", suite.Bucket, "the one bucket that exists")
	latency := fs.Duration("latency", 0, "delay added to every response, e.g. 30ms")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	srv, err := fakes3.Start(fakes3.Options{Bucket: *bucket, Latency: *latency}, *addr)
	if err != nil {
		fmt.Fprintln(stderr, "benchrun:", err)
		return 1
	}
	fmt.Fprintf(stdout, "fakes3: serving bucket %q on %s (latency %v); any access key works; Ctrl-C to stop\n", *bucket, srv.URL, *latency)
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Close(shutdown)
	st := srv.Stats()
	fmt.Fprintf(stdout, "fakes3: %d requests, %d objects, %.1f MB, %d errors, %d unsupported\n",
		st.Requests, st.Objects, float64(st.Bytes)/1e6, st.Errors, st.Unsupported)
	return 0
}
