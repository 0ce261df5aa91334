package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/go-hclog"
	"golang.org/x/term"

	"github.com/staticmedia/staticmedia/uploader/internal/migrate"
	"github.com/staticmedia/staticmedia/uploader/internal/progress"
	"github.com/staticmedia/staticmedia/uploader/internal/tfoutput"
)

// dbEnv is read when --db is not given, so the DSN (and its password) can stay out of the
// process list and the CI command line.
const dbEnv = "UPLOADER_DB"

// migrateFlags are the flags of `uploader migrate`.
type migrateFlags struct {
	outputFlags
	catalogFlags
	logFlags
	runFlags
	cacheControl                 string
	multipartThreshold, partSize byteSize
	dryRun, strict               bool
	limit                        int64
	stopGrace                    time.Duration
	progress                     string
	activeContent, checksum      string
	storageClass                 string
	minAge                       time.Duration
}

func newMigrateFlagSet(f *migrateFlags, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("uploader migrate", flag.ContinueOnError)
	fs.SetOutput(out)
	f.outputFlags.add(fs)
	f.catalogFlags.add(fs)
	f.addWritten(fs)
	f.logFlags.add(fs)
	f.runFlags.add(fs)
	fs.StringVar(&f.cacheControl, "cache-control", migrate.DefaultCacheControl, "Cache-Control sent with every object (empty: none)")
	f.multipartThreshold = byteSize(migrate.DefaultMultipartThreshold)
	fs.Var(&f.multipartThreshold, "multipart-threshold", "files larger than this `SIZE` go up in parts (16MiB, 100MB, ...)")
	f.partSize = byteSize(migrate.DefaultPartSize)
	fs.Var(&f.partSize, "part-size", "multipart part `SIZE` (5MiB to 5GiB)")
	fs.StringVar(&f.checksum, "checksum", migrate.ChecksumCRC32C, "how S3 verifies each PUT: crc32c (x-amz-checksum-crc32c) or md5 (Content-MD5 and ETags, for S3-compatible services that ignore or reject x-amz-checksum)")
	fs.StringVar(&f.storageClass, "storage-class", "", "storage `CLASS` of every object: STANDARD, STANDARD_IA, INTELLIGENT_TIERING, ONEZONE_IA, GLACIER_IR, ... (empty: the bucket's default)")
	fs.StringVar(&f.activeContent, "active-content", migrate.ActiveAttachment, "files a browser could run script in (SVG, HTML, XML, JavaScript) or of an unknown type: attachment (Content-Disposition: attachment), refuse (invalid) or allow")
	fs.DurationVar(&f.minAge, "min-age", 0, "skip files modified less than `DURATION` ago (still being written); they are counted as too_new and taken by a later run")
	fs.BoolVar(&f.dryRun, "dry-run", false, "classify and count what would be uploaded (objects, bytes, requests); upload and flag nothing")
	fs.Int64Var(&f.limit, "limit", 0, "stop after `N` records (0: no limit)")
	fs.BoolVar(&f.strict, "strict", false, "exit 1 when files are missing or invalid too")
	fs.DurationVar(&f.stopGrace, "stop-grace", migrate.DefaultStopGrace, "after SIGINT or SIGTERM, how long uploads in flight may finish and earn their flags before they are abandoned")
	fs.StringVar(&f.progress, "progress", "auto", "auto (a bar on a terminal, log lines otherwise), always (a bar) or never")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: uploader migrate --tf-output FILE|- --source DIR [flags]

Uploads every pending file of the catalog with PutObject (multipart above --multipart-threshold),
each with a checksum S3 verifies, and marks its record done once S3 confirmed it.

The catalog is the application's table (--db, --table, --path-column, --flag-column), or else a
ledger (--ledger) of the files of --source already uploaded.

Example (CI):
  terraform output -json | uploader migrate --tf-output - --source /srv/media \
    --db "$DATABASE_URL" --table photos --path-column file --flag-column on_s3

Flags:
`)
		printFlags(fs)
		fmt.Fprint(fs.Output(), exitCodesHelp)
	}
	return fs
}

// parseMigrateFlags parses and checks the flags that do not need I/O.
func parseMigrateFlags(args []string, s streams) (*migrateFlags, error) {
	f := &migrateFlags{
		outputFlags: outputFlags{stdin: s.stdin},
		runFlags: newRunFlags(migrate.DefaultConcurrency, "files uploaded at once",
			migrate.DefaultBatchSize, "flag updates per catalog transaction"),
	}
	var out strings.Builder
	fs := newMigrateFlagSet(f, &out)
	g, err := parseFlagSet(fs, &out, args, s)
	if err != nil {
		return nil, err
	}
	err = checkAll(func() error { return f.outputFlags.check(g) }, func() error { return f.catalogFlags.check(g) },
		f.logFlags.check, f.runFlags.check, f.check)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// check checks migrate's own flags.
func (f *migrateFlags) check() error {
	if f.progress != "auto" && f.progress != "always" && f.progress != "never" {
		return usagef("--progress must be auto, always or never, got %q", f.progress)
	}
	return nil
}

// config turns the flags and the Terraform output into the engine's configuration.
func (f *migrateFlags) config(s tfoutput.Settings) migrate.Config {
	cfg := migrate.Config{
		Bucket:             s.Bucket,
		Source:             f.source,
		KeyPrefix:          f.prefix(s),
		CacheControl:       f.cacheControl,
		Concurrency:        f.concurrency,
		MultipartThreshold: int64(f.multipartThreshold),
		PartSize:           int64(f.partSize),
		BatchSize:          f.batchSize,
		DryRun:             f.dryRun,
		Limit:              f.limit,
		Checksum:           f.checksum,
		StorageClass:       types.StorageClass(f.storageClass),
		ActiveContent:      f.activeContent,
		MinAge:             f.minAge,
	}
	// Settings without a flag take the engine's defaults; flag values are kept as given, so a
	// zero the user typed is reported rather than silently replaced.
	d := cfg.WithDefaults()
	cfg.PartConcurrency, cfg.PageSize, cfg.FlushInterval = d.PartConcurrency, d.PageSize, d.FlushInterval
	// --stop-grace 0 (abandon in-flight uploads at once) is a real choice that WithDefaults
	// would replace with the default: the engine gets a nanosecond instead. A negative value
	// goes through, for Validate to report.
	cfg.StopGrace = f.stopGrace
	if cfg.StopGrace == 0 {
		cfg.StopGrace = time.Nanosecond
	}
	return cfg
}

func runMigrate(ctx context.Context, args []string, s streams, version string) int {
	f, err := parseMigrateFlags(args, s)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(s.stderr, "uploader migrate: %v\n", err)
		}
		// flag's own errors were already printed with the usage.
		return ExitUsage
	}

	// The display decides where log lines go: through the bar's writer on a terminal.
	display := chooseDisplay(f, s.stderr)
	logger := f.logger(display.logOutput)
	fail := func(code int, msg string, err error) int {
		logger.Error(msg, "error", err)
		if f.report != "" {
			rep := migrate.Report{Error: msg + ": " + err.Error(), Errors: []migrate.ReportError{}}
			if err := writeReport(f.report, s.stdout, rep); err != nil {
				logger.Error("cannot write the report", "file", f.report, "error", err)
			}
		}
		return code
	}

	settings, err := f.read(ctx)
	if err != nil {
		return fail(ExitUsage, "cannot read the Terraform output", err)
	}
	cfg := f.config(settings)
	if err := cfg.Validate(); err != nil {
		var ce *migrate.ConfigError
		if errors.As(err, &ce) {
			err = usagef("--%s: %s", ce.Setting, ce.Problem)
		}
		return fail(ExitUsage, "invalid settings", err)
	}
	creds, err := f.credentials(settings)
	if err != nil {
		return fail(ExitUsage, "invalid credential settings", err)
	}
	logger.Info("starting", "version", version, "bucket", cfg.Bucket, "region", settings.Region,
		"endpoint", settings.Endpoint, "key_prefix", cfg.KeyPrefix, "source", cfg.Source,
		"concurrency", cfg.Concurrency, "dry_run", cfg.DryRun,
		"credentials", creds.source)

	var walkErrors walkErrors
	cat, err := f.open(ctx, logger, f.dryRun, &walkErrors)
	if err != nil {
		return fail(catalogOpenError(err))
	}
	defer func() {
		if err := cat.Close(); err != nil {
			logger.Warn("closing the catalog", "error", err)
		}
	}()

	client, err := migrate.NewS3Client(ctx, migrate.ClientConfig{
		Region: settings.Region, AccessKeyID: settings.AccessKeyID, SecretAccessKey: settings.SecretAccessKey,
		WebIdentity: creds.webIdentity, Endpoint: settings.Endpoint, Concurrency: cfg.Concurrency, AppID: "staticmedia-uploader",
	})
	if err != nil {
		return fail(ExitUsage, "cannot configure the S3 client", err)
	}

	var counters migrate.Progress
	stopDisplay := display.start(logger, func() progress.Snapshot {
		return progress.Snapshot{
			Taken: counters.Taken.Load(), Uploaded: counters.Uploaded.Load(), Skipped: counters.Skipped.Load(),
			Failed: counters.Failed.Load(), Bytes: counters.Bytes.Load(),
		}
	})
	rep, runErr := migrate.Run(ctx, cfg, migrate.Deps{S3: client, Catalog: cat, Logger: logger, Progress: &counters,
		Identity: creds.describeIdentity(client.Options().Credentials)})
	stopDisplay()
	walkErrors.addTo(&rep)

	code := exitCode(rep, runErr, f.strict)
	if runErr != nil {
		rep.Error = runErr.Error()
		logRunError(logger, runErr)
	}
	if f.report != "" {
		if err := writeReport(f.report, s.stdout, rep); err != nil {
			logger.Error("cannot write the report", "file", f.report, "error", err)
			code = max(code, ExitFatal)
		}
	}
	logger.Info("done", summary(rep, code)...)
	return code
}

// exitCode maps the run's outcome to the documented exit codes.
func exitCode(rep migrate.Report, err error, strict bool) int {
	if err != nil {
		return runErrorCode(err)
	}
	if rep.Failed > 0 || (strict && rep.Missing+rep.Invalid > 0) {
		return ExitFailed
	}
	return ExitOK
}

// summary is the last log line: the report's counters.
func summary(r migrate.Report, code int) []any {
	out := []any{"uploaded", r.Uploaded, "flagged", r.Flagged, "already_done", r.AlreadyDone, "missing", r.Missing,
		"invalid", r.Invalid, "failed", r.Failed, "bytes", r.Bytes, "duration_seconds", fmt.Sprintf("%.3f", r.DurationSeconds)}
	if r.DryRun {
		out = append(out, "dry_run", true, "would_upload", r.WouldUpload, "would_upload_bytes", r.WouldUploadBytes,
			"would_requests", r.WouldRequests, "would_put_object", r.WouldPutObject,
			"would_multipart_uploads", r.WouldMultipart, "would_upload_part", r.WouldUploadPart)
	}
	if r.Changed > 0 {
		out = append(out, "changed", r.Changed)
	}
	if r.TooNew > 0 {
		out = append(out, "too_new", r.TooNew)
	}
	if r.Abandoned > 0 {
		out = append(out, "abandoned", r.Abandoned)
	}
	if r.Interrupted {
		out = append(out, "interrupted", true)
	}
	if r.LimitReached {
		out = append(out, "limit_reached", true)
	}
	return append(out, "exit_code", code)
}

func writeReport(path string, stdout io.Writer, rep any) error {
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if path == "-" {
		_, err := stdout.Write(data)
		return err
	}
	return os.WriteFile(path, data, 0o644) //nolint:gosec // G306: the report holds counts and paths, never secrets
}

// display is how progress is shown: a bar on a terminal, log lines, or nothing.
type display struct {
	logOutput io.Writer
	start     func(log hclog.Logger, read func() progress.Snapshot) (stop func())
}

const (
	barInterval = 200 * time.Millisecond
	logInterval = 10 * time.Second
)

func chooseDisplay(f *migrateFlags, stderr io.Writer) display {
	tty, width := false, 0
	if file, ok := stderr.(*os.File); ok && term.IsTerminal(int(file.Fd())) {
		tty = true
		if w, _, err := term.GetSize(int(file.Fd())); err == nil {
			width = w
		}
	}
	bar := f.progress == "always" || (f.progress == "auto" && tty && !f.logJSON)
	switch {
	case bar:
		t := progress.NewTerminal(stderr, width)
		return display{logOutput: t, start: func(_ hclog.Logger, read func() progress.Snapshot) func() {
			return t.Show(read, barInterval, time.Now)
		}}
	case f.progress == "never":
		return display{logOutput: stderr, start: func(hclog.Logger, func() progress.Snapshot) func() { return func() {} }}
	default:
		return display{logOutput: stderr, start: func(log hclog.Logger, read func() progress.Snapshot) func() {
			return progress.Log(log, read, logInterval, time.Now)
		}}
	}
}
