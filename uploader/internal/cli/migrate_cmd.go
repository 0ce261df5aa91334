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
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/term"

	"github.com/staticmedia/staticmedia/uploader/internal/catalog"
	"github.com/staticmedia/staticmedia/uploader/internal/migrate"
	"github.com/staticmedia/staticmedia/uploader/internal/progress"
	"github.com/staticmedia/staticmedia/uploader/internal/tfoutput"
)

// dbEnv is read when --db is not given, so the DSN (and its password) can stay out of the
// process list and the CI command line.
const dbEnv = "UPLOADER_DB"

// migrateFlags are the raw flags of `uploader migrate`.
type migrateFlags struct {
	tfOutput, tfDir, tfOutputName               string
	tfBinary, webIdentityTokenFile              string
	source                                      string
	db, table, pathColumn, flagColumn, idColumn string
	etagColumn, uploadedAtColumn                string
	ledger                                      string
	keyPrefix, cacheControl                     string
	concurrency, batchSize                      int
	multipartThreshold, partSize                byteSize
	dryRun, strict, logJSON                     bool
	limit                                       int64
	stopGrace, lockWait                         time.Duration
	logLevel, progress, report                  string
	set                                         map[string]bool // flags given on the command line
	stdin                                       io.Reader
}

func newMigrateFlagSet(f *migrateFlags, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("uploader migrate", flag.ContinueOnError)
	fs.SetOutput(out)
	registerCommonFlags(fs, f)
	fs.StringVar(&f.etagColumn, "etag-column", "", "optional column that receives the object's ETag (with --db)")
	fs.StringVar(&f.uploadedAtColumn, "uploaded-at-column", "", "optional column that receives the upload time (with --db)")
	fs.StringVar(&f.cacheControl, "cache-control", migrate.DefaultCacheControl, "Cache-Control sent with every object (empty: none)")
	fs.IntVar(&f.concurrency, "concurrency", migrate.DefaultConcurrency, "files uploaded at once")
	f.multipartThreshold = byteSize(migrate.DefaultMultipartThreshold)
	fs.Var(&f.multipartThreshold, "multipart-threshold", "files larger than this `SIZE` go up in parts (16MiB, 100MB, ...)")
	f.partSize = byteSize(migrate.DefaultPartSize)
	fs.Var(&f.partSize, "part-size", "multipart part `SIZE` (5MiB to 5GiB)")
	fs.IntVar(&f.batchSize, "batch-size", migrate.DefaultBatchSize, "flag updates per catalog transaction")
	fs.BoolVar(&f.dryRun, "dry-run", false, "classify and count what would be uploaded; upload and flag nothing")
	fs.Int64Var(&f.limit, "limit", 0, "stop after `N` records (0: no limit)")
	fs.BoolVar(&f.strict, "strict", false, "exit 1 when files are missing or invalid too")
	fs.DurationVar(&f.stopGrace, "stop-grace", migrate.DefaultStopGrace, "after SIGINT or SIGTERM, how long uploads in flight may finish and earn their flags before they are abandoned")
	fs.DurationVar(&f.lockWait, "lock-wait", 0, "SQLite table or ledger: wait up to this `DURATION` for another uploader on the same catalog to finish (0: exit 3 at once)")
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

// printFlags is flag.PrintDefaults with the double dashes the documentation uses.
func printFlags(fs *flag.FlagSet) {
	fs.VisitAll(func(fl *flag.Flag) {
		name, usage := flag.UnquoteUsage(fl)
		line := "  --" + fl.Name
		if name != "" {
			line += " " + name
		}
		line += "\n      " + usage
		if fl.DefValue != "" && fl.DefValue != "false" && fl.DefValue != "0" {
			line += fmt.Sprintf(" (default %q)", fl.DefValue)
		}
		fmt.Fprintln(fs.Output(), line)
	})
}

// usageError is a flag or setting problem: exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// parseMigrateFlags parses and checks the flags that do not need I/O.
func parseMigrateFlags(args []string, s streams) (*migrateFlags, error) {
	f := &migrateFlags{stdin: s.stdin, set: map[string]bool{}}
	var out strings.Builder
	fs := newMigrateFlagSet(f, &out)
	if err := parseFlagSet(fs, &out, args, s, f.set); err != nil {
		return nil, err
	}
	if err := f.checkCommonFlags(); err != nil {
		return nil, err
	}
	if f.progress != "auto" && f.progress != "always" && f.progress != "never" {
		return nil, usagef("--progress must be auto, always or never, got %q", f.progress)
	}
	return f, nil
}

func checkTableFlags(f *migrateFlags) error {
	if f.set["ledger"] {
		return usagef("--ledger is for ledger mode; with --db the table is the catalog: drop one of them")
	}
	if !strings.HasPrefix(f.db, "postgres://") && !strings.HasPrefix(f.db, "postgresql://") &&
		!strings.HasPrefix(f.db, "mysql://") && !strings.HasPrefix(f.db, "sqlite:") {
		return usagef("--db %s: unsupported database; use postgres://, postgresql://, mysql://user:pass@host:port/db or sqlite:PATH", catalog.RedactDSN(f.db))
	}
	for _, c := range []struct{ flag, value string }{
		{"table", f.table}, {"path-column", f.pathColumn}, {"flag-column", f.flagColumn}, {"id-column", f.idColumn},
	} {
		if c.value == "" {
			return usagef("--%s is required with --db", c.flag)
		}
	}
	if err := catalog.ValidateIdentifier(f.table); err != nil {
		return usagef("--table: %v", err)
	}
	for _, c := range []struct{ flag, value string }{
		{"path-column", f.pathColumn}, {"flag-column", f.flagColumn}, {"id-column", f.idColumn},
		{"etag-column", f.etagColumn}, {"uploaded-at-column", f.uploadedAtColumn},
	} {
		if c.value == "" {
			continue
		}
		if strings.Contains(c.value, ".") {
			return usagef("--%s %q: a column name has no dot", c.flag, c.value)
		}
		if err := catalog.ValidateIdentifier(c.value); err != nil {
			return usagef("--%s: %v", c.flag, err)
		}
	}
	return nil
}

// readSettings reads the Terraform output named by the flags.
func readSettings(ctx context.Context, f *migrateFlags) (tfoutput.Settings, error) {
	if f.tfDir != "" {
		bin, err := tfoutput.FindBinary(f.tfBinary)
		if err != nil {
			return tfoutput.Settings{}, err
		}
		return tfoutput.FromDir(ctx, bin, f.tfDir, f.tfOutputName)
	}
	if f.tfOutput == "-" {
		return tfoutput.Parse(f.stdin, f.tfOutputName)
	}
	file, err := os.Open(f.tfOutput)
	if err != nil {
		return tfoutput.Settings{}, fmt.Errorf("--tf-output: %w", err)
	}
	defer file.Close()
	return tfoutput.Parse(file, f.tfOutputName)
}

// config turns the flags and the Terraform output into the engine's configuration.
func (f *migrateFlags) config(s tfoutput.Settings) migrate.Config {
	prefix := s.KeyPrefix
	if f.set["key-prefix"] {
		prefix = f.keyPrefix
	}
	cfg := migrate.Config{
		Bucket:             s.Bucket,
		Source:             f.source,
		KeyPrefix:          prefix,
		CacheControl:       f.cacheControl,
		Concurrency:        f.concurrency,
		MultipartThreshold: int64(f.multipartThreshold),
		PartSize:           int64(f.partSize),
		BatchSize:          f.batchSize,
		DryRun:             f.dryRun,
		Limit:              f.limit,
	}
	// Settings without a flag take the engine's defaults; flag values are kept as given, so a
	// zero the user typed is reported rather than silently replaced.
	d := cfg.WithDefaults()
	cfg.PartConcurrency, cfg.PageSize, cfg.FlushInterval, cfg.MemoryBudget =
		d.PartConcurrency, d.PageSize, d.FlushInterval, d.MemoryBudget
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
	logger := hclog.New(&hclog.LoggerOptions{
		Name:       "uploader",
		Level:      hclog.LevelFromString(f.logLevel),
		JSONFormat: f.logJSON,
		Output:     display.logOutput,
		Color:      hclog.ColorOff,
	})
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

	settings, err := readSettings(ctx, f)
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
	cat, err := openCatalog(ctx, f, logger, &walkErrors)
	if err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			return fail(ExitUsage, "invalid catalog settings", err)
		}
		var locked *catalog.LockedError
		if errors.As(err, &locked) {
			return fail(ExitFatal, "another uploader is running on this catalog: exiting without work (--lock-wait DURATION waits for it)", err)
		}
		return fail(ExitFatal, "cannot open the catalog", err)
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
		out = append(out, "dry_run", true, "would_upload", r.WouldUpload, "would_upload_bytes", r.WouldUploadBytes)
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

// openCatalog opens the application table (--db) or the ledger.
func openCatalog(ctx context.Context, f *migrateFlags, log hclog.Logger, walk *walkErrors) (catalog.Catalog, error) {
	if f.db != "" {
		log.Info("catalog: application table", "db", catalog.RedactDSN(f.db), "table", f.table,
			"path_column", f.pathColumn, "flag_column", f.flagColumn, "id_column", f.idColumn)
		return catalog.OpenTable(ctx, catalog.TableConfig{
			DSN: f.db, Table: f.table, IDColumn: f.idColumn, PathColumn: f.pathColumn, FlagColumn: f.flagColumn,
			ETagColumn: f.etagColumn, UploadedAtColumn: f.uploadedAtColumn, LockWait: f.lockWait,
			ReadOnly: f.dryRun,
		})
	}
	fields := []any{"ledger", f.ledger}
	if f.dryRun {
		fields = append(fields, "read_only", true)
	}
	log.Info("catalog: ledger", fields...)
	return catalog.OpenLedger(ctx, catalog.LedgerConfig{
		Path: f.ledger, Source: f.source, LockWait: f.lockWait, ReadOnly: f.dryRun,
		WalkError: func(path string, err error) {
			log.Error("cannot read part of the source tree; its files are not uploaded", "path", path, "error", err)
			walk.add(path, err)
		},
	})
}

// walkErrors collects the parts of the source tree the ledger's walk could not read. They are
// failures in the report: their files were never seen, so they could not be uploaded.
type walkErrors struct {
	mu   sync.Mutex
	errs []migrate.ReportError
}

func (w *walkErrors) add(path string, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.errs = append(w.errs, migrate.ReportError{Path: path, Op: "walk", Kind: migrate.KindFailed, Message: err.Error()})
}

func (w *walkErrors) addTo(r *migrate.Report) {
	w.mu.Lock()
	defer w.mu.Unlock()
	r.Failed += int64(len(w.errs))
	r.Errors = append(r.Errors, w.errs...)
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
