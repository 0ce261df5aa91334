package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/staticmedia/staticmedia/uploader/internal/verify"
)

// caBundleEnv names extra trusted certificates, as for the AWS SDK: the public copies are read
// over the same network, often through the same TLS-inspecting proxy.
const caBundleEnv = "AWS_CA_BUNDLE"

// publicFlags say where the public copies are and how a browser of the site asks for them:
// verify and prune fetch them.
type publicFlags struct {
	publicBaseURL, referer string
}

func (f *publicFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&f.publicBaseURL, "public-base-url", "", "`URL` the objects are served under (default: the output's public_base_url)")
	fs.StringVar(&f.referer, "referer", "", "a page `URL` of the site that the bucket's Referer policy allows, sent as the Referer (default: derived from the first pattern of the output's allowed_referers; required when the output has none)")
}

// checkGroups are the flag groups verify and prune share.
type checkGroups struct {
	outputFlags
	catalogFlags
	logFlags
	runFlags
	publicFlags
}

func newCheckGroups(s streams) checkGroups {
	return checkGroups{
		outputFlags: outputFlags{stdin: s.stdin},
		runFlags: newRunFlags(verify.DefaultConcurrency, "records checked at once",
			verify.DefaultBatchSize, "records read from the catalog at a time"),
	}
}

func (f *checkGroups) add(fs *flag.FlagSet) {
	f.outputFlags.add(fs)
	f.catalogFlags.add(fs)
	f.logFlags.add(fs)
	f.runFlags.add(fs)
	f.publicFlags.add(fs)
}

func (f *checkGroups) check(g given) error {
	return checkAll(func() error { return f.outputFlags.check(g) }, func() error { return f.catalogFlags.check(g) },
		f.logFlags.check, f.runFlags.check, f.checkLedgerExists)
}

// checkEnv is what verify and prune run with.
type checkEnv struct {
	logger  hclog.Logger
	check   verify.CheckConfig
	catalog verify.FlaggedLister
	http    *http.Client
	close   func()
}

// open reads the Terraform output, opens the catalog and builds the anonymous HTTP client. On
// failure it logs the problem and returns the exit code.
func (f *checkGroups) open(ctx context.Context, s streams, version string) (*checkEnv, int) {
	logger := f.logger(s.stderr)
	fail := func(code int, msg string, err error) (*checkEnv, int) {
		logger.Error(msg, "error", err)
		return nil, code
	}
	settings, err := f.read(ctx)
	if err != nil {
		return fail(ExitUsage, "cannot read the Terraform output", err)
	}
	if f.referer == "" {
		if len(settings.AllowedReferers) == 0 {
			return fail(ExitUsage, "invalid settings", usagef("--referer URL is required: the Terraform output %q has no allowed_referers to derive it from; "+
				"give a page of the site that the bucket's Referer policy allows, e.g. --referer https://www.example.com/, "+
				"or add allowed_referers to the output (see examples/quickstart/outputs.tf)", f.tfOutputName))
		}
		f.referer, err = verify.RefererFromPattern(settings.AllowedReferers[0])
		if err != nil {
			return fail(ExitUsage, "invalid settings", usagef("%v", err))
		}
		logger.Info("referer derived from the output's first allowed pattern", "pattern", settings.AllowedReferers[0], "referer", f.referer)
	}
	cfg := verify.CheckConfig{
		PublicBaseURL: settings.PublicBaseURL,
		Source:        f.source,
		KeyPrefix:     f.prefix(settings),
		Referer:       f.referer,
		UserAgent:     "staticmedia-uploader/" + version,
	}
	if f.publicBaseURL != "" {
		cfg.PublicBaseURL = f.publicBaseURL
	}
	if cfg.PublicBaseURL == "" {
		return fail(ExitUsage, "invalid settings", usagef("the Terraform output %q has no public_base_url: add it to the output or pass --public-base-url URL", f.tfOutputName))
	}
	client, err := verify.NewHTTPClient(verify.HTTPClientConfig{CABundle: os.Getenv(caBundleEnv), Conns: f.concurrency})
	if err != nil {
		return fail(ExitUsage, "cannot build the HTTP client", err)
	}
	cat, err := f.catalogFlags.open(ctx, logger, false, &walkErrors{})
	if err != nil {
		return fail(catalogOpenError(err))
	}
	lister, ok := cat.(verify.FlaggedLister)
	if !ok {
		if err := cat.Close(); err != nil {
			logger.Warn("closing the catalog", "error", err)
		}
		return fail(ExitFatal, "cannot read flagged records", fmt.Errorf("catalog %T cannot list its flagged records", cat))
	}
	return &checkEnv{logger: logger, check: cfg, catalog: lister, http: client, close: func() {
		if err := cat.Close(); err != nil {
			logger.Warn("closing the catalog", "error", err)
		}
	}}, ExitOK
}

// verifyFlags are the flags of `uploader verify`.
type verifyFlags struct {
	checkGroups
	foreignReferer, expectNoReferer string
	sample                          int
	seed                            uint64
	checkType                       bool
}

func newVerifyFlagSet(f *verifyFlags, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("uploader verify", flag.ContinueOnError)
	fs.SetOutput(out)
	f.add(fs)
	fs.StringVar(&f.foreignReferer, "foreign-referer", verify.DefaultForeignReferer, "a Referer `URL` the policy must refuse with 403 (empty: skip that GET)")
	fs.StringVar(&f.expectNoReferer, "expect-no-referer", "200", "the `STATUS` a GET without a Referer must answer: 200 (the policy allows an empty Referer), 403, or skip")
	fs.IntVar(&f.sample, "sample", 0, "check `N` flagged records picked at random (0: all)")
	fs.Uint64Var(&f.seed, "seed", 0, "random seed of --sample, to check the same records again (0: a new one, given in the report)")
	fs.BoolVar(&f.checkType, "check-type", true, "check that a copy served as image/jpeg, png, gif, webp or avif starts with that type's magic number (wrong_type otherwise); --check-type=false skips it")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: uploader verify --tf-output FILE|- --source DIR [--referer URL] [flags]

For each flagged record (or a --sample), GETs public_base_url + the escaped key anonymously, as a
browser would: with the allowed --referer (must answer 200 with the local file's bytes: size, MD5
and ETag are compared), with a --foreign-referer (must answer 403), and without a Referer (must
answer --expect-no-referer). A copy served as a raster image type (image/jpeg, png, gif, webp,
avif) must start with that type's magic number: a direct browser upload that declared a type it
is not is reported as wrong_type (--check-type=false skips this). Run it right after terraform
apply and a first migrate to check the whole chain. Records whose local file is gone (pruned,
or uploaded by the browser) are checked by status and type only.

Example:
  terraform output -json | uploader verify --tf-output - --source /srv/media \
    --db "$DATABASE_URL" --table photos --path-column file --flag-column on_s3 \
    --referer https://www.example.com/ --sample 200 --report verify.json

Flags:
`)
		printFlags(fs)
		fmt.Fprint(fs.Output(), `
Exit codes:
  0  every record checked answered as expected
  1  a public copy is missing, differs or is not the image type it is served as, a GET
     answered an unexpected status, a check failed, or the run was interrupted
`+configErrorsHelp+`  3  fatal: the catalog is unreachable or failed mid-run, another uploader holds the SQLite
     table's or ledger's lock (--lock-wait waits for it), or the report could not be written
`)
	}
	return fs
}

// parseVerifyFlags parses and checks the flags that do not need I/O.
func parseVerifyFlags(args []string, s streams) (*verifyFlags, int, error) {
	f := &verifyFlags{checkGroups: newCheckGroups(s)}
	var out strings.Builder
	fs := newVerifyFlagSet(f, &out)
	g, err := parseFlagSet(fs, &out, args, s)
	if err != nil {
		return nil, 0, err
	}
	if err := f.check(g); err != nil {
		return nil, 0, err
	}
	var expect int
	switch f.expectNoReferer {
	case "skip":
	case "200", "403":
		expect, _ = strconv.Atoi(f.expectNoReferer)
	default:
		return nil, 0, usagef("--expect-no-referer must be 200, 403 or skip, got %q", f.expectNoReferer)
	}
	if f.sample < 0 {
		return nil, 0, usagef("--sample must be 0 (all) or a number of records, got %d", f.sample)
	}
	return f, expect, nil
}

func runVerify(ctx context.Context, args []string, s streams, version string) int {
	f, expectNoReferer, err := parseVerifyFlags(args, s)
	if err != nil {
		return flagError("verify", err, s.stderr)
	}
	env, code := f.open(ctx, s, version)
	if env == nil {
		return code
	}
	defer env.close()
	log := env.logger
	cfg := verify.Config{
		CheckConfig:     env.check,
		ForeignReferer:  f.foreignReferer,
		ExpectNoReferer: expectNoReferer,
		Sample:          f.sample,
		Seed:            f.seed,
		SkipTypeCheck:   !f.checkType,
		Concurrency:     f.concurrency,
		BatchSize:       f.batchSize,
	}
	log.Info("verifying", "version", version, "public_base_url", cfg.PublicBaseURL, "key_prefix", cfg.KeyPrefix,
		"source", cfg.Source, "referer", cfg.Referer, "foreign_referer", cfg.ForeignReferer,
		"expect_no_referer", f.expectNoReferer, "sample", cfg.Sample, "check_type", f.checkType)

	rep, runErr := verify.Run(ctx, cfg, verify.Deps{HTTP: env.http, Catalog: env.catalog, OnResult: func(r verify.Result) {
		switch r.Outcome {
		case verify.OutcomeOK, verify.OutcomeNoLocalFile:
			log.Debug("checked", "path", r.Path, "key", r.Key, "outcome", r.Outcome)
		default:
			log.Warn("public copy does not verify", resultFields(r)...)
		}
	}})
	code = ExitOK
	if runErr != nil {
		code = runErrorCode(runErr)
		logRunError(log, runErr)
	} else if rep.Mismatched+rep.WrongType+rep.Failed > 0 {
		code = ExitFailed
	}
	if f.report != "" {
		if err := writeReport(f.report, s.stdout, rep); err != nil {
			log.Error("cannot write the report", "file", f.report, "error", err)
			code = max(code, ExitFatal)
		}
	}
	log.Info("done", "flagged", rep.Flagged, "checked", rep.Checked, "ok", rep.OK, "no_local_file", rep.NoLocalFile,
		"mismatched", rep.Mismatched, "wrong_type", rep.WrongType, "invalid", rep.Invalid, "failed", rep.Failed, "bytes", rep.Bytes,
		"duration_seconds", fmt.Sprintf("%.3f", rep.DurationSeconds), "exit_code", code)
	return code
}

// resultFields are the log fields of a record that did not verify.
func resultFields(r verify.Result) []any {
	out := []any{"path", r.Path, "key", r.Key, "url", r.URL, "outcome", r.Outcome}
	if len(r.Problems) > 0 {
		out = append(out, "problems", strings.Join(r.Problems, "; "))
	}
	if r.Error != "" {
		out = append(out, "error", r.Error)
	}
	return out
}
