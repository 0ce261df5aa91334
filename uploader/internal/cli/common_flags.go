package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/staticmedia/staticmedia/uploader/internal/catalog"
	"github.com/staticmedia/staticmedia/uploader/internal/migrate"
	"github.com/staticmedia/staticmedia/uploader/internal/tfoutput"
)

// registerCommonFlags registers the flags every command that reads a catalog shares (migrate,
// verify, prune): the Terraform output, the source, the catalog, the key prefix, logging and
// the report. They fill the same migrateFlags fields, so readSettings, checkTableFlags and
// openCatalog serve every command.
func registerCommonFlags(fs *flag.FlagSet, f *migrateFlags) {
	// Defaults shown by --help are constants: no flag ever defaults to a secret or to the
	// environment, so the help text can never print one.
	fs.StringVar(&f.tfOutput, "tf-output", "", "read `FILE` holding what terraform output -json prints (- for stdin)")
	fs.StringVar(&f.tfDir, "tf-dir", "", "run terraform -chdir=`DIR` output -json (terraform on PATH, else tofu; see --tf-binary)")
	fs.StringVar(&f.tfBinary, "tf-binary", "", "with --tf-dir: the client to run, `NAME|PATH` (terraform or tofu; default terraform if on PATH, else tofu)")
	fs.StringVar(&f.webIdentityTokenFile, "web-identity-token-file", "", "when the output has role_arn: the `FILE` holding CI's OIDC token, exchanged for the role's credentials (default: $"+webIdentityTokenEnv+"; verify and prune make no AWS call and ignore it)")
	fs.StringVar(&f.tfOutputName, "tf-output-name", tfoutput.DefaultName, "the Terraform output to read")
	fs.StringVar(&f.source, "source", "", "the media `DIR` the catalog's paths are relative to (required)")
	fs.StringVar(&f.db, "db", "", "application database `DSN`: postgres://..., mysql://user:pass@host:port/db or sqlite:PATH (or set "+dbEnv+"); without it, ledger mode")
	fs.StringVar(&f.table, "table", "", "table holding one row per file (with --db)")
	fs.StringVar(&f.pathColumn, "path-column", "", "column with the file path relative to --source (with --db)")
	fs.StringVar(&f.flagColumn, "flag-column", "", "boolean column set once the file is on S3; false or NULL = pending (with --db)")
	fs.StringVar(&f.idColumn, "id-column", "id", "unique column used to page through the table (with --db)")
	fs.StringVar(&f.ledger, "ledger", "uploader-ledger.db", "ledger mode: SQLite `FILE` recording what was uploaded (keep it outside --source)")
	fs.StringVar(&f.keyPrefix, "key-prefix", "", "prefix for every object key, used verbatim (overrides the output's key_prefix)")
	fs.StringVar(&f.logLevel, "log-level", "info", "trace, debug, info, warn or error")
	fs.BoolVar(&f.logJSON, "log-json", false, "log JSON lines instead of text")
	fs.StringVar(&f.report, "report", "", "write the JSON report to `FILE` (- for stdout)")
}

// parseFlagSet parses args into fs, whose output is out, and records in set the flags given.
// Help goes to stdout (it was asked for); a flag error goes to stderr with a pointer to --help.
func parseFlagSet(fs *flag.FlagSet, out *strings.Builder, args []string, s streams, set map[string]bool) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			_, _ = io.WriteString(s.stdout, out.String()) // nothing to do if stdout is gone
		} else {
			// The flag package's message is the first line; the whole usage would bury it.
			msg, _, _ := strings.Cut(out.String(), "\n")
			fmt.Fprintf(s.stderr, "%s: %s\nRun \"%s --help\" for the flags.\n", fs.Name(), msg, fs.Name())
		}
		return err
	}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q: every setting is a flag (did you mean --source %s?)", fs.Arg(0), fs.Arg(0))
	}
	return nil
}

// checkCommonFlags checks the flags registerCommonFlags registered, without I/O beyond a stat
// of the source (and, for the default ledger, of the working directory); it reads the DSN from
// the environment when --db is not given.
func (f *migrateFlags) checkCommonFlags() error {
	switch {
	case f.tfOutput == "" && f.tfDir == "":
		return usagef("--tf-output FILE (or - for stdin) or --tf-dir DIR is required: it tells the uploader the bucket and the key")
	case f.tfOutput != "" && f.tfDir != "":
		return usagef("--tf-output and --tf-dir are exclusive: pass one")
	case f.tfBinary != "" && f.tfDir == "":
		return usagef("--tf-binary is the client --tf-dir runs: pass --tf-dir DIR too, or drop it")
	case f.source == "":
		return usagef("--source DIR is required: the media directory the catalog's paths are relative to")
	}
	if f.db == "" {
		f.db = os.Getenv(dbEnv)
	}
	if f.db != "" {
		if err := checkTableFlags(f); err != nil {
			return err
		}
	} else {
		for _, name := range []string{"table", "path-column", "flag-column", "id-column", "etag-column", "uploaded-at-column"} {
			if f.set[name] {
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
	if f.db == "" && !f.set["ledger"] {
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
	if hclog.LevelFromString(f.logLevel) == hclog.NoLevel {
		return usagef("--log-level must be trace, debug, info, warn or error, got %q", f.logLevel)
	}
	return nil
}

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
	var ce *migrate.ConfigError
	switch {
	case errors.As(err, &ce):
		return ExitUsage
	case errors.Is(err, migrate.ErrInterrupted):
		return ExitFailed
	default:
		return ExitFatal
	}
}

// logRunError logs the engine's error the way its exit code reads.
func logRunError(log hclog.Logger, err error) {
	var ce *migrate.ConfigError
	switch {
	case errors.As(err, &ce):
		log.Error("invalid settings", "error", usagef("--%s: %s", ce.Setting, ce.Problem))
	case errors.Is(err, migrate.ErrInterrupted):
		log.Warn("run interrupted", "error", err)
	default:
		log.Error("run stopped", "error", err)
	}
}
