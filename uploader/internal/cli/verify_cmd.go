package cli

import (
	"context"
	"errors"
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

// checkFlags are the flags of the commands that fetch public copies: verify and prune.
type checkFlags struct {
	migrateFlags
	publicBaseURL, referer string
}

// registerCheckFlags registers the common flags and those of the per-record check.
func registerCheckFlags(fs *flag.FlagSet, f *checkFlags) {
	registerCommonFlags(fs, &f.migrateFlags)
	fs.StringVar(&f.publicBaseURL, "public-base-url", "", "`URL` the objects are served under (default: the output's public_base_url)")
	fs.StringVar(&f.referer, "referer", "", "a page `URL` of the site that the bucket's Referer policy allows, sent as the Referer (default: derived from the first pattern of the output's allowed_referers; required when the output has none)")
	fs.IntVar(&f.concurrency, "concurrency", verify.DefaultConcurrency, "records checked at once")
	fs.IntVar(&f.batchSize, "batch-size", verify.DefaultBatchSize, "records read from the catalog at a time")
	// Opening a SQLite table or ledger takes the same lock as migrate, so a scheduled verify
	// or prune can wait for the migration before it to finish.
	fs.DurationVar(&f.lockWait, "lock-wait", 0, "SQLite table or ledger: wait up to this `DURATION` for a running migrate on the same catalog (0: exit 3 at once)")
}

// checkCheckFlags checks the flags registerCheckFlags registered.
func (f *checkFlags) checkCheckFlags() error {
	if err := f.checkCommonFlags(); err != nil {
		return err
	}
	if f.db == "" {
		// Opening a ledger creates it: an empty new one would verify nothing and say so quietly.
		if _, err := os.Stat(f.ledger); errors.Is(err, os.ErrNotExist) {
			return usagef("--ledger %s does not exist: pass the ledger migrate wrote (or --db for an application table)", f.ledger)
		}
	}
	return nil
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
func (f *checkFlags) open(ctx context.Context, s streams, version string) (*checkEnv, int) {
	logger := hclog.New(&hclog.LoggerOptions{
		Name:       "uploader",
		Level:      hclog.LevelFromString(f.logLevel),
		JSONFormat: f.logJSON,
		Output:     s.stderr,
		Color:      hclog.ColorOff,
	})
	fail := func(code int, msg string, err error) (*checkEnv, int) {
		logger.Error(msg, "error", err)
		return nil, code
	}
	settings, err := readSettings(ctx, &f.migrateFlags)
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
		KeyPrefix:     settings.KeyPrefix,
		Referer:       f.referer,
		UserAgent:     "staticmedia-uploader/" + version,
	}
	if f.set["key-prefix"] {
		cfg.KeyPrefix = f.keyPrefix
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
	cat, err := openCatalog(ctx, &f.migrateFlags, logger, &walkErrors{})
	if err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			return fail(ExitUsage, "invalid catalog settings", err)
		}
		return fail(ExitFatal, "cannot open the catalog", err)
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
	checkFlags
	foreignReferer, expectNoReferer string
	sample                          int
	seed                            uint64
}

func newVerifyFlagSet(f *verifyFlags, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("uploader verify", flag.ContinueOnError)
	fs.SetOutput(out)
	registerCheckFlags(fs, &f.checkFlags)
	fs.StringVar(&f.foreignReferer, "foreign-referer", verify.DefaultForeignReferer, "a Referer `URL` the policy must refuse with 403 (empty: skip that GET)")
	fs.StringVar(&f.expectNoReferer, "expect-no-referer", "200", "the `STATUS` a GET without a Referer must answer: 200 (the policy allows an empty Referer), 403, or skip")
	fs.IntVar(&f.sample, "sample", 0, "check `N` flagged records picked at random (0: all)")
	fs.Uint64Var(&f.seed, "seed", 0, "random seed of --sample, to check the same records again (0: a new one, given in the report)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: uploader verify --tf-output FILE|- --source DIR [--referer URL] [flags]

For each flagged record (or a --sample), GETs public_base_url + the escaped key anonymously, as a
browser would: with the allowed --referer (must answer 200 with the local file's bytes: size, MD5
and ETag are compared), with a --foreign-referer (must answer 403), and without a Referer (must
answer --expect-no-referer). Run it right after terraform apply and a first migrate to check the
whole chain. Records whose local file is gone (pruned) are checked by status only.

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
  1  a public copy is missing or differs, a GET answered an unexpected status, a check failed,
     or the run was interrupted
  2  usage or configuration error
  3  fatal: the catalog is unreachable or failed mid-run
`)
	}
	return fs
}

// parseVerifyFlags parses and checks the flags that do not need I/O.
func parseVerifyFlags(args []string, s streams) (*verifyFlags, int, error) {
	f := &verifyFlags{}
	f.stdin, f.set = s.stdin, map[string]bool{}
	var out strings.Builder
	fs := newVerifyFlagSet(f, &out)
	if err := parseFlagSet(fs, &out, args, s, f.set); err != nil {
		return nil, 0, err
	}
	if err := f.checkCheckFlags(); err != nil {
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
		Concurrency:     f.concurrency,
		BatchSize:       f.batchSize,
	}
	log.Info("verifying", "version", version, "public_base_url", cfg.PublicBaseURL, "key_prefix", cfg.KeyPrefix,
		"source", cfg.Source, "referer", cfg.Referer, "foreign_referer", cfg.ForeignReferer,
		"expect_no_referer", f.expectNoReferer, "sample", cfg.Sample)

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
	} else if rep.Mismatched+rep.Failed > 0 {
		code = ExitFailed
	}
	if f.report != "" {
		if err := writeReport(f.report, s.stdout, rep); err != nil {
			log.Error("cannot write the report", "file", f.report, "error", err)
			code = max(code, ExitFatal)
		}
	}
	log.Info("done", "flagged", rep.Flagged, "checked", rep.Checked, "ok", rep.OK, "no_local_file", rep.NoLocalFile,
		"mismatched", rep.Mismatched, "invalid", rep.Invalid, "failed", rep.Failed, "bytes", rep.Bytes,
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
