package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/staticmedia/staticmedia/uploader/internal/catalog"
	"github.com/staticmedia/staticmedia/uploader/internal/migrate"
	"github.com/staticmedia/staticmedia/uploader/internal/source"
	"github.com/staticmedia/staticmedia/uploader/internal/tfoutput"
)

// The flags come in small groups, each registering (add) and checking (check) itself, which a
// command embeds when it needs them (as restic's commands embed their option groups): the
// Terraform output, the catalog, logging and the run. Defaults shown by --help are constants:
// no flag ever defaults to a secret or to the environment, so the help text can never print one.

// given is the set of flags given on the command line, for checks that depend on whether a
// flag was given rather than on its value.
type given map[string]bool

// outputFlags name the Terraform output that gives the bucket, the key, the key prefix and the
// public URL, and the key prefix that overrides the output's.
type outputFlags struct {
	tfOutput, tfDir, tfOutputName string
	tfBinary                      string
	// webIdentityTokenFile goes with the output's role_arn (see credentials).
	webIdentityTokenFile string
	keyPrefix            string
	keyPrefixGiven       bool
	stdin                io.Reader
}

func (f *outputFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&f.tfOutput, "tf-output", "", "read `FILE` holding what terraform output -json prints (- for stdin)")
	fs.StringVar(&f.tfDir, "tf-dir", "", "run terraform -chdir=`DIR` output -json (terraform on PATH, else tofu; see --tf-binary)")
	fs.StringVar(&f.tfBinary, "tf-binary", "", "with --tf-dir: the client to run, `NAME|PATH` (terraform or tofu; default terraform if on PATH, else tofu)")
	fs.StringVar(&f.tfOutputName, "tf-output-name", tfoutput.DefaultName, "the Terraform output to read")
	fs.StringVar(&f.webIdentityTokenFile, "web-identity-token-file", "", "when the output has role_arn: the `FILE` holding CI's OIDC token, exchanged for the role's credentials (default: $"+webIdentityTokenEnv+"; verify and prune make no AWS call and ignore it)")
	fs.StringVar(&f.keyPrefix, "key-prefix", "", "prefix for every object key, used verbatim (overrides the output's key_prefix)")
}

func (f *outputFlags) check(g given) error {
	switch {
	case f.tfOutput == "" && f.tfDir == "":
		return usagef("--tf-output FILE (or - for stdin) or --tf-dir DIR is required: it tells the uploader the bucket and the key")
	case f.tfOutput != "" && f.tfDir != "":
		return usagef("--tf-output and --tf-dir are exclusive: pass one")
	case f.tfBinary != "" && f.tfDir == "":
		return usagef("--tf-binary is the client --tf-dir runs: pass --tf-dir DIR too, or drop it")
	}
	f.keyPrefixGiven = g["key-prefix"]
	return nil
}

// read reads the Terraform output the flags name.
func (f *outputFlags) read(ctx context.Context) (tfoutput.Settings, error) {
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

// prefix is the key prefix: --key-prefix when given (even empty), else the output's.
func (f *outputFlags) prefix(s tfoutput.Settings) string {
	if f.keyPrefixGiven {
		return f.keyPrefix
	}
	return s.KeyPrefix
}

// catalogFlags name the source directory and the catalog of its files: the application's table
// (--db and its columns) or the ledger.
type catalogFlags struct {
	source                                      string
	db, table, pathColumn, flagColumn, idColumn string
	etagColumn, uploadedAtColumn                string
	ledger                                      string
	lockWait                                    time.Duration
	ledgerGiven                                 bool
}

func (f *catalogFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&f.source, "source", "", "the media `DIR` the catalog's paths are relative to (required)")
	fs.StringVar(&f.db, "db", "", "application database `DSN`: postgres://..., mysql://user:pass@host:port/db or sqlite:PATH (or set "+dbEnv+"); without it, ledger mode")
	fs.StringVar(&f.table, "table", "", "table holding one row per file (with --db)")
	fs.StringVar(&f.pathColumn, "path-column", "", "column with the file path relative to --source (with --db)")
	fs.StringVar(&f.flagColumn, "flag-column", "", "boolean column set once the file is on S3; false or NULL = pending (with --db)")
	fs.StringVar(&f.idColumn, "id-column", "id", "unique column used to page through the table (with --db)")
	fs.StringVar(&f.ledger, "ledger", "uploader-ledger.db", "ledger mode: SQLite `FILE` recording what was uploaded (keep it outside --source)")
	// verify and prune take the same lock as migrate, so a scheduled verify or prune waits for
	// the migration before it to finish.
	fs.DurationVar(&f.lockWait, "lock-wait", 0, "SQLite table or ledger: wait up to this `DURATION` for another uploader on the same catalog to finish (0: exit 3 at once)")
}

// addWritten registers the optional columns a migration writes besides the flag.
func (f *catalogFlags) addWritten(fs *flag.FlagSet) {
	fs.StringVar(&f.etagColumn, "etag-column", "", "optional column that receives the object's ETag (with --db)")
	fs.StringVar(&f.uploadedAtColumn, "uploaded-at-column", "", "optional column that receives the upload time (with --db)")
}

// check checks the flags without I/O beyond a stat of the source (and, for the default ledger,
// of the working directory); it reads the DSN from the environment when --db is not given.
func (f *catalogFlags) check(g given) error {
	if f.source == "" {
		return usagef("--source DIR is required: the media directory the catalog's paths are relative to")
	}
	if f.db == "" {
		f.db = os.Getenv(dbEnv)
	}
	f.ledgerGiven = g["ledger"]
	if f.db != "" {
		if err := f.checkTable(); err != nil {
			return err
		}
	} else {
		for _, name := range []string{"table", "path-column", "flag-column", "id-column", "etag-column", "uploaded-at-column"} {
			if g[name] {
				return usagef("--%s needs --db (or %s): without a database the uploader runs in ledger mode", name, dbEnv)
			}
		}
		if f.ledger == "" {
			return usagef("--ledger must not be empty in ledger mode")
		}
	}
	if fi, err := os.Stat(f.source); err != nil {
		return usagef("--source: %v", err)
	} else if !fi.IsDir() {
		return usagef("--source %s is not a directory", f.source)
	}
	if f.db == "" && !f.ledgerGiven {
		// The default lands in the working directory, which may be the media tree itself.
		inside, err := catalog.InsideSource(f.source, f.ledger)
		if err != nil {
			return usagef("--ledger %s: %v", f.ledger, err)
		}
		if inside {
			wd, _ := os.Getwd() // only for the message
			return usagef("the default ledger %s would be created in the working directory %s, inside --source %s, "+
				"where the web server would serve it: run the uploader from another directory, or pass --ledger FILE outside --source",
				f.ledger, wd, f.source)
		}
	}
	return nil
}

func (f *catalogFlags) checkTable() error {
	if f.ledgerGiven {
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

// checkLedgerExists refuses a ledger that does not exist, for the commands that only read the
// catalog: opening a ledger creates it, and an empty new one would check nothing and say so
// quietly.
func (f *catalogFlags) checkLedgerExists() error {
	if f.db != "" {
		return nil
	}
	if _, err := os.Stat(f.ledger); errors.Is(err, os.ErrNotExist) {
		return usagef("--ledger %s does not exist: pass the ledger migrate wrote (or --db for an application table)", f.ledger)
	}
	return nil
}

// open opens the application table (--db) or the ledger; readOnly opens it for a dry run. The
// ledger's walk reports the parts of the source tree it cannot read to walk.
func (f *catalogFlags) open(ctx context.Context, log hclog.Logger, readOnly bool, walk *walkErrors) (catalog.Catalog, error) {
	if f.db != "" {
		log.Info("catalog: application table", "db", catalog.RedactDSN(f.db), "table", f.table,
			"path_column", f.pathColumn, "flag_column", f.flagColumn, "id_column", f.idColumn)
		return catalog.OpenTable(ctx, catalog.TableConfig{
			DSN: f.db, Table: f.table, IDColumn: f.idColumn, PathColumn: f.pathColumn, FlagColumn: f.flagColumn,
			ETagColumn: f.etagColumn, UploadedAtColumn: f.uploadedAtColumn, LockWait: f.lockWait,
			ReadOnly: readOnly,
		})
	}
	fields := []any{"ledger", f.ledger}
	if readOnly {
		fields = append(fields, "read_only", true)
	}
	log.Info("catalog: ledger", fields...)
	return catalog.OpenLedger(ctx, catalog.LedgerConfig{
		Path: f.ledger, Source: f.source, LockWait: f.lockWait, ReadOnly: readOnly,
		WalkError: func(path string, err error) {
			log.Error("cannot read part of the source tree; its files are not uploaded", "path", path, "error", err)
			walk.add(path, err)
		},
	})
}

// catalogOpenError maps an error of catalogFlags.open to the exit code, the message to log
// and the error: settings that cannot work exit 2 naming the flag to fix, a catalog another
// uploader holds or a database that cannot be reached exit 3.
func catalogOpenError(err error) (int, string, error) {
	var (
		ue     *usageError
		ce     *catalog.ConfigError
		locked *catalog.LockedError
	)
	switch {
	case errors.As(err, &ue):
		return ExitUsage, "invalid catalog settings", err
	case errors.As(err, &ce):
		// err, not ce.Err: err hides the DSN's password.
		return ExitUsage, "invalid catalog settings", usagef("--%s: %v", ce.Setting, err)
	case errors.As(err, &locked):
		return ExitFatal, "another uploader is running on this catalog: exiting without work (--lock-wait DURATION waits for it)", err
	default:
		return ExitFatal, "cannot open the catalog", err
	}
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

// logFlags choose the log's level and format.
type logFlags struct {
	logLevel string
	logJSON  bool
}

func (f *logFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&f.logLevel, "log-level", "info", "trace, debug, info, warn or error")
	fs.BoolVar(&f.logJSON, "log-json", false, "log JSON lines instead of text")
}

func (f *logFlags) check() error {
	if hclog.LevelFromString(f.logLevel) == hclog.NoLevel {
		return usagef("--log-level must be trace, debug, info, warn or error, got %q", f.logLevel)
	}
	return nil
}

// logger is the run's logger, writing to out.
func (f *logFlags) logger(out io.Writer) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:       "uploader",
		Level:      hclog.LevelFromString(f.logLevel),
		JSONFormat: f.logJSON,
		Output:     out,
		Color:      hclog.ColorOff,
	})
}

// runFlags shape a run over the catalog: how many records at once, how many per catalog
// batch, and where the report goes. The commands differ in the defaults and in what a record
// at once means, so newRunFlags takes them.
type runFlags struct {
	concurrency, batchSize           int
	report                           string
	concurrencyUsage, batchSizeUsage string
}

func newRunFlags(concurrency int, concurrencyUsage string, batchSize int, batchSizeUsage string) runFlags {
	return runFlags{concurrency: concurrency, batchSize: batchSize, concurrencyUsage: concurrencyUsage, batchSizeUsage: batchSizeUsage}
}

func (f *runFlags) add(fs *flag.FlagSet) {
	fs.IntVar(&f.concurrency, "concurrency", f.concurrency, f.concurrencyUsage)
	fs.IntVar(&f.batchSize, "batch-size", f.batchSize, f.batchSizeUsage)
	fs.StringVar(&f.report, "report", "", "write the JSON report to `FILE` (- for stdout)")
}

// The engines check the numbers (a *source.ConfigError names the flag); nothing to check here.
func (f *runFlags) check() error { return nil }

// parseFlagSet parses args into fs, whose output is out, and returns the flags given. Help
// goes to stdout (it was asked for); a flag error goes to stderr with a pointer to --help.
func parseFlagSet(fs *flag.FlagSet, out *strings.Builder, args []string, s streams) (given, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			_, _ = io.WriteString(s.stdout, out.String()) // nothing to do if stdout is gone
		} else {
			// The flag package's message is the first line; the whole usage would bury it.
			msg, _, _ := strings.Cut(out.String(), "\n")
			fmt.Fprintf(s.stderr, "%s: %s\nRun \"%s --help\" for the flags.\n", fs.Name(), msg, fs.Name())
		}
		return nil, err
	}
	g := given{}
	fs.Visit(func(fl *flag.Flag) { g[fl.Name] = true })
	if fs.NArg() > 0 {
		return nil, usagef("unexpected argument %q: every setting is a flag (did you mean --source %s?)", fs.Arg(0), fs.Arg(0))
	}
	return g, nil
}

// checkAll runs the checks in order and returns the first error.
func checkAll(checks ...func() error) error {
	for _, c := range checks {
		if err := c(); err != nil {
			return err
		}
	}
	return nil
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

// flagError turns a parse error into the exit code, printing a usage error.
func flagError(name string, err error, stderr io.Writer) int {
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "uploader %s: %v\n", name, err)
	}
	// flag's own errors were already printed.
	return ExitUsage
}

// runErrorCode maps an engine error to an exit code: settings that cannot work 2, an
// interruption 1 (a rerun continues), anything else (the catalog failing) 3.
func runErrorCode(err error) int {
	var ce *source.ConfigError
	switch {
	case errors.As(err, &ce):
		return ExitUsage
	case errors.Is(err, catalog.ErrInterrupted):
		return ExitFailed
	default:
		return ExitFatal
	}
}

// logRunError logs the engine's error the way its exit code reads.
func logRunError(log hclog.Logger, err error) {
	var ce *source.ConfigError
	switch {
	case errors.As(err, &ce):
		log.Error("invalid settings", "error", usagef("--%s: %s", ce.Setting, ce.Problem))
	case errors.Is(err, catalog.ErrInterrupted):
		log.Warn("run interrupted", "error", err)
	default:
		log.Error("run stopped", "error", err)
	}
}
