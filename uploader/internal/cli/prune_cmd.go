package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/staticmedia/staticmedia/uploader/internal/progress"
	"github.com/staticmedia/staticmedia/uploader/internal/prune"
)

// pruneFlags are the flags of `uploader prune`.
type pruneFlags struct {
	checkGroups
	yes, dryRun bool
}

func newPruneFlagSet(f *pruneFlags, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("uploader prune", flag.ContinueOnError)
	fs.SetOutput(out)
	f.add(fs)
	fs.BoolVar(&f.yes, "yes", false, "delete the verified files; without it nothing is deleted (a dry run)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "list what would be deleted and the bytes it would free (the default without --yes)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: uploader prune --tf-output FILE|- --source DIR [--referer URL] [--yes] [flags]

Frees the disk the migration made redundant. A local file is deleted only when its record is
flagged AND its public copy, fetched in this run with the allowed --referer as a visitor's browser
would, has the file's exact bytes (size and MD5, and the ETag when it is an MD5). Symlinks are
never followed (a symlink or anything but a regular file is skipped and reported), nothing
outside --source is touched, and a file that changes during the run is kept.

Without --yes it is a dry run: it makes every check and lists what it would delete.

Example:
  terraform output -json | uploader prune --tf-output - --source /srv/media \
    --db "$DATABASE_URL" --table photos --path-column file --flag-column on_s3 \
    --referer https://www.example.com/            # then again with --yes

Flags:
`)
		printFlags(fs)
		fmt.Fprint(fs.Output(), `
Exit codes:
  0  every flagged file with a verified public copy was deleted (or would be); symlinks and other
     skipped files are reported but do not fail the run
  1  some public copies are missing or differ, or a check or delete failed (those files are
     kept), or the run was interrupted
`+configErrorsHelp+`  3  fatal: the catalog is unreachable or failed mid-run, another uploader holds the SQLite
     table's or ledger's lock (--lock-wait waits for it), or the report could not be written
`)
	}
	return fs
}

func parsePruneFlags(args []string, s streams) (*pruneFlags, error) {
	f := &pruneFlags{checkGroups: newCheckGroups(s)}
	var out strings.Builder
	fs := newPruneFlagSet(f, &out)
	g, err := parseFlagSet(fs, &out, args, s)
	if err != nil {
		return nil, err
	}
	if f.yes && f.dryRun {
		return nil, usagef("--yes and --dry-run are exclusive: --yes deletes, --dry-run (the default) does not")
	}
	if err := f.check(g); err != nil {
		return nil, err
	}
	return f, nil
}

func runPrune(ctx context.Context, args []string, s streams, version string) int {
	f, err := parsePruneFlags(args, s)
	if err != nil {
		return flagError("prune", err, s.stderr)
	}
	env, code := f.open(ctx, s, version)
	if env == nil {
		return code
	}
	defer env.close()
	log := env.logger
	cfg := prune.Config{CheckConfig: env.check, Delete: f.yes, Concurrency: f.concurrency, BatchSize: f.batchSize}
	log.Info("pruning", "version", version, "public_base_url", cfg.PublicBaseURL, "key_prefix", cfg.KeyPrefix,
		"source", cfg.Source, "referer", cfg.Referer, "dry_run", !cfg.Delete)

	// The list of files goes to stdout, unless the JSON report does.
	list := s.stdout
	if f.report == "-" {
		list = s.stderr
	}
	rep, runErr := prune.Run(ctx, cfg, prune.Deps{HTTP: env.http, Catalog: env.catalog, OnFile: func(file prune.File) {
		verb := "would delete"
		if file.Deleted {
			verb = "deleted"
		}
		fmt.Fprintf(list, "%s %s (%d bytes)\n", verb, file.Path, file.Size)
	}})
	for _, p := range rep.Problems {
		log.Warn("kept", resultFields(p)...)
	}
	code = ExitOK
	if runErr != nil {
		code = runErrorCode(runErr)
		logRunError(log, runErr)
	} else if rep.Unverified+rep.Failed > 0 {
		code = ExitFailed
	}
	if rep.DryRun {
		fmt.Fprintf(list, "dry run: would delete %d files, freeing %d bytes (%s); run again with --yes to delete them\n",
			rep.WouldDelete, rep.WouldFreeBytes, progress.Bytes(rep.WouldFreeBytes))
	} else {
		fmt.Fprintf(list, "deleted %d files, freed %d bytes (%s)\n", rep.Deleted, rep.FreedBytes, progress.Bytes(rep.FreedBytes))
	}
	if f.report != "" {
		if err := writeReport(f.report, s.stdout, rep); err != nil {
			log.Error("cannot write the report", "file", f.report, "error", err)
			code = max(code, ExitFatal)
		}
	}
	log.Info("done", "dry_run", rep.DryRun, "flagged", rep.Flagged, "deleted", rep.Deleted, "freed_bytes", rep.FreedBytes,
		"would_delete", rep.WouldDelete, "would_free_bytes", rep.WouldFreeBytes, "no_local_file", rep.NoLocalFile,
		"skipped", rep.Skipped, "unverified", rep.Unverified, "failed", rep.Failed,
		"duration_seconds", fmt.Sprintf("%.3f", rep.DurationSeconds), "exit_code", code)
	return code
}
