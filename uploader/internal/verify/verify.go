// Package verify checks that what the migration flagged is really served: for each flagged
// record it GETs the public copy anonymously, the way a browser would, with an allowed
// Referer, a foreign one and none, and compares the copy with the local file. It is the check
// that the whole chain (bucket, Referer policy, upload, flag) works, and the check prune
// relies on before it deletes anything.
//
// The engine never prints and never exits: Run returns a Report, and OnResult tells the caller
// about each record as it is checked.
package verify

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/staticmedia/staticmedia/uploader/internal/catalog"
	"github.com/staticmedia/staticmedia/uploader/internal/source"
)

// Defaults of the settings with a flag.
const (
	DefaultConcurrency    = 8
	DefaultBatchSize      = 500
	DefaultForeignReferer = "https://hotlinker.invalid/"
	maxConcurrency        = 256
)

// MaxListed bounds the per-record problems a report lists; the counters stay exact.
const MaxListed = 1000

// FlaggedLister streams the records the migration flagged; *catalog.Table and
// *catalog.Ledger satisfy it.
type FlaggedLister interface {
	Flagged(ctx context.Context, batchSize int, fn func([]catalog.Record) error) error
}

// Config is a verify run.
type Config struct {
	CheckConfig
	// ForeignReferer is a Referer the bucket policy must refuse (403); empty skips that GET.
	ForeignReferer string
	// ExpectNoReferer is the status a GET without a Referer must answer: 200 when the policy
	// allows an empty Referer, 403 when it does not; 0 skips that GET.
	ExpectNoReferer int
	// Sample checks this many flagged records picked uniformly at random (reservoir
	// sampling, so the catalog is still streamed); 0 checks all.
	Sample int
	// Seed makes the sample reproducible; 0 picks one, which the report gives.
	Seed uint64
	// SkipTypeCheck skips the check that a copy served as a raster image type (JPEG, PNG,
	// GIF, WebP, AVIF) starts with that type's magic number (see MagicProblem).
	SkipTypeCheck bool
	// Concurrency is how many records are checked at once.
	Concurrency int
	// BatchSize is how many records are read from the catalog at a time.
	BatchSize int
}

// validate checks the settings that NewChecker does not.
func (c Config) validate() error {
	switch {
	case c.Concurrency < 1 || c.Concurrency > maxConcurrency:
		return &source.ConfigError{Setting: "concurrency", Problem: fmt.Sprintf("must be between 1 and %d, got %d", maxConcurrency, c.Concurrency)}
	case c.BatchSize < 1:
		return &source.ConfigError{Setting: "batch-size", Problem: fmt.Sprintf("must be at least 1, got %d", c.BatchSize)}
	case c.Sample < 0:
		return &source.ConfigError{Setting: "sample", Problem: fmt.Sprintf("must be 0 (all) or more, got %d", c.Sample)}
	case c.ExpectNoReferer != 0 && c.ExpectNoReferer != http.StatusOK && c.ExpectNoReferer != http.StatusForbidden:
		return &source.ConfigError{Setting: "expect-no-referer", Problem: fmt.Sprintf("must be 200, 403 or skip, got %d", c.ExpectNoReferer)}
	}
	if c.ForeignReferer != "" {
		if err := checkURL("foreign-referer", c.ForeignReferer, "a page of a site the policy does not allow, e.g. "+DefaultForeignReferer); err != nil {
			return err
		}
		if c.ForeignReferer == c.Referer {
			return &source.ConfigError{Setting: "foreign-referer", Problem: "is the allowed --referer: give a site the policy must refuse"}
		}
	}
	return nil
}

// Deps are the run's collaborators.
type Deps struct {
	HTTP    Doer
	Catalog FlaggedLister
	// OnResult, when set, is told about every record checked, one call at a time.
	OnResult func(Result)
}

// Outcomes of a record.
const (
	// OutcomeOK: every GET answered as expected and the copy is the local file's bytes.
	OutcomeOK = "ok"
	// OutcomeNoLocalFile: every GET answered as expected, but there is no local file to
	// compare the bytes with (pruned already, or deleted).
	OutcomeNoLocalFile = "no_local_file"
	// OutcomeMismatch: a GET answered an unexpected status, or the copy differs.
	OutcomeMismatch = "mismatch"
	// OutcomeWrongType: every GET answered as expected and the copy is the local file's bytes
	// (or there is none), but the copy is served as a raster image type its bytes are not:
	// an upload that declared a type it is not.
	OutcomeWrongType = "wrong_type"
	// OutcomeInvalid: the record's path escapes the source, or its file is a symlink pointing
	// outside it or not a regular file; nothing was fetched.
	OutcomeInvalid = "invalid"
	// OutcomeFailed: the check could not be made (network error, unreadable file).
	OutcomeFailed = "failed"
)

// Result is one record's check.
type Result struct {
	ID      string `json:"id"`
	Path    string `json:"path"`
	Key     string `json:"key,omitempty"`
	URL     string `json:"url,omitempty"`
	Outcome string `json:"outcome"`
	// Size and MD5 describe the local file, when it was read.
	Size     int64    `json:"size,omitempty"`
	MD5      string   `json:"md5,omitempty"`
	Probes   []Probe  `json:"probes,omitempty"`
	Problems []string `json:"problems,omitempty"`
	Error    string   `json:"error,omitempty"`
}

// Report is the outcome of a run, written as JSON by --report.
type Report struct {
	PublicBaseURL   string `json:"public_base_url"`
	Referer         string `json:"referer"`
	ForeignReferer  string `json:"foreign_referer,omitempty"`
	ExpectNoReferer int    `json:"expect_no_referer,omitempty"`
	// Flagged is how many flagged records were read from the catalog.
	Flagged int64 `json:"flagged"`
	// Checked is how many of them were checked: all, or the sample.
	Checked     int64 `json:"checked"`
	OK          int64 `json:"ok"`
	NoLocalFile int64 `json:"no_local_file"`
	Mismatched  int64 `json:"mismatched"`
	WrongType   int64 `json:"wrong_type"`
	Invalid     int64 `json:"invalid"`
	Failed      int64 `json:"failed"`
	// Bytes is the total size of the public copies compared.
	Bytes       int64  `json:"bytes"`
	Sample      int    `json:"sample,omitempty"`
	Seed        uint64 `json:"seed,omitempty"`
	Interrupted bool   `json:"interrupted,omitempty"`
	// Problems lists the records that were not ok (up to MaxListed, in path order);
	// records without a local file are only counted.
	Problems          []Result `json:"problems,omitempty"`
	ProblemsNotListed int64    `json:"problems_not_listed,omitempty"`
	DurationSeconds   float64  `json:"duration_seconds"`
}

// Run checks the flagged records. The error is a *source.ConfigError for settings that cannot
// work, wraps catalog.ErrInterrupted when ctx was cancelled, and is the catalog's error when
// reading the flagged records failed; the report counts what was checked until then.
func Run(ctx context.Context, cfg Config, deps Deps) (Report, error) {
	start := time.Now()
	rep := Report{PublicBaseURL: cfg.PublicBaseURL, Referer: cfg.Referer, ForeignReferer: cfg.ForeignReferer,
		ExpectNoReferer: cfg.ExpectNoReferer, Sample: cfg.Sample}
	if err := cfg.validate(); err != nil {
		return rep, err
	}
	checker, err := NewChecker(cfg.CheckConfig, deps.HTTP)
	if err != nil {
		return rep, err
	}
	probes := []probeSpec{{name: ProbeAllowed, referer: cfg.Referer, want: http.StatusOK}}
	if cfg.ForeignReferer != "" {
		probes = append(probes, probeSpec{name: ProbeForeign, referer: cfg.ForeignReferer, want: http.StatusForbidden})
	}
	if cfg.ExpectNoReferer != 0 {
		probes = append(probes, probeSpec{name: ProbeNoReferer, want: cfg.ExpectNoReferer})
	}

	var mu sync.Mutex
	// check runs on Each's goroutines; a check cut short by cancellation is not counted,
	// since it says nothing about the copy.
	check := func(rec catalog.Record) {
		res := checkRecord(ctx, checker, probes, rec, !cfg.SkipTypeCheck)
		if ctx.Err() != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		rep.add(res)
		if deps.OnResult != nil {
			deps.OnResult(res)
		}
	}

	var catErr error
	if cfg.Sample > 0 {
		if cfg.Seed == 0 {
			cfg.Seed = rand.Uint64() | 1
		}
		rep.Seed = cfg.Seed
		s := newReservoir(cfg.Sample, cfg.Seed)
		catErr = deps.Catalog.Flagged(ctx, cfg.BatchSize, func(batch []catalog.Record) error {
			for _, r := range batch {
				rep.Flagged++
				s.add(r)
			}
			return nil
		})
		if catErr == nil {
			_, catErr = Each(ctx, Records(s.items), cfg.BatchSize, cfg.Concurrency, check)
		}
	} else {
		rep.Flagged, catErr = Each(ctx, deps.Catalog, cfg.BatchSize, cfg.Concurrency, check)
	}
	slices.SortFunc(rep.Problems, func(a, b Result) int { return strings.Compare(a.Path, b.Path) })
	rep.DurationSeconds = time.Since(start).Seconds()
	if ctx.Err() != nil {
		rep.Interrupted = true
		return rep, fmt.Errorf("%w: %d of the flagged records were checked: %w", catalog.ErrInterrupted, rep.Checked, context.Cause(ctx))
	}
	if catErr != nil {
		return rep, fmt.Errorf("read the flagged records: %w", catErr)
	}
	return rep, nil
}

// Each runs fn on every record lister streams, at most concurrency at once, each on its own
// goroutine, and returns how many records it read once every call has returned. It stops
// reading at ctx cancellation or a catalog error, which it returns.
func Each(ctx context.Context, lister FlaggedLister, batchSize, concurrency int, fn func(catalog.Record)) (int64, error) {
	var (
		g    errgroup.Group
		read int64
	)
	g.SetLimit(concurrency)
	err := lister.Flagged(ctx, batchSize, func(batch []catalog.Record) error {
		for _, r := range batch {
			if err := ctx.Err(); err != nil {
				return err
			}
			read++
			g.Go(func() error { fn(r); return nil })
		}
		return nil
	})
	_ = g.Wait() // fn cannot fail the group: callers record each outcome themselves
	return read, err
}

// Records is a list of flagged records held in memory (a sample, or a test's catalog).
type Records []catalog.Record

// Flagged implements FlaggedLister.
func (rs Records) Flagged(ctx context.Context, batchSize int, fn func([]catalog.Record) error) error {
	for i := 0; i < len(rs); i += batchSize {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(rs[i:min(i+batchSize, len(rs))]); err != nil {
			return err
		}
	}
	return nil
}

// add counts one result.
func (r *Report) add(res Result) {
	r.Checked++
	switch res.Outcome {
	case OutcomeOK:
		r.OK++
	case OutcomeNoLocalFile:
		r.NoLocalFile++
	case OutcomeMismatch:
		r.Mismatched++
	case OutcomeWrongType:
		r.WrongType++
	case OutcomeInvalid:
		r.Invalid++
	default:
		r.Failed++
	}
	for _, p := range res.Probes {
		if p.Name == ProbeAllowed {
			r.Bytes += p.Bytes
		}
	}
	if res.Outcome == OutcomeOK || res.Outcome == OutcomeNoLocalFile {
		return
	}
	if len(r.Problems) < MaxListed {
		r.Problems = append(r.Problems, res)
	} else {
		r.ProblemsNotListed++
	}
}

// checkRecord resolves rec, reads its local file and makes the GETs; checkType checks the
// magic number of the allowed GET's copy against its Content-Type.
func checkRecord(ctx context.Context, c *Checker, probes []probeSpec, rec catalog.Record, checkType bool) Result {
	res := Result{ID: rec.ID, Path: rec.Path}
	t, err := c.Target(rec)
	if err != nil {
		res.Outcome, res.Error = OutcomeInvalid, err.Error()
		return res
	}
	res.Key, res.URL = t.Key, t.URL
	var (
		local       *LocalFile
		typeProblem string
	)
	lf, err := c.ReadLocal(t)
	switch {
	case err == nil:
		local = &lf
		res.Size, res.MD5 = lf.Size, hex.EncodeToString(lf.MD5[:])
	case errors.Is(err, source.ErrMissing):
		// The public copy is still checked: after a prune this is the normal case.
	case errors.Is(err, source.ErrInvalid):
		res.Outcome, res.Error = OutcomeInvalid, err.Error()
		return res
	default:
		res.Outcome, res.Error = OutcomeFailed, err.Error()
		return res
	}
	for _, spec := range probes {
		compareWith := local
		if spec.name != ProbeAllowed {
			compareWith = nil // the bytes are compared once, on the allowed GET
		}
		p, diffs, err := c.probe(ctx, t, spec, compareWith)
		res.Probes = append(res.Probes, p)
		if err != nil {
			res.Outcome, res.Error = OutcomeFailed, err.Error()
			return res
		}
		res.Problems = append(res.Problems, diffs...)
		if checkType && spec.name == ProbeAllowed && p.bodyRead {
			typeProblem = MagicProblem(p.ContentType, p.head)
		}
	}
	// The ledger knows the size and time each file had when it was uploaded: a mismatch of a
	// file that changed since is a stale copy, which the next migrate replaces.
	if len(res.Problems) > 0 && local != nil && !rec.ModTime.IsZero() &&
		(local.Size != rec.Size || !local.Info.ModTime().Equal(rec.ModTime)) {
		res.Problems = append(res.Problems, "the local file changed since it was uploaded: the next migrate uploads it again")
	}
	switch {
	case len(res.Problems) > 0:
		res.Outcome = OutcomeMismatch
		if typeProblem != "" {
			res.Problems = append(res.Problems, typeProblem)
		}
	case typeProblem != "":
		res.Outcome, res.Problems = OutcomeWrongType, []string{typeProblem}
	case local == nil:
		res.Outcome = OutcomeNoLocalFile
	default:
		res.Outcome = OutcomeOK
	}
	return res
}

// reservoir keeps a uniform random sample of at most n of the records it is shown
// (Vitter's algorithm R), so a sample of a catalog of any size needs memory for n records.
type reservoir struct {
	n     int
	seen  int64
	items []catalog.Record
	rng   *rand.Rand
}

func newReservoir(n int, seed uint64) *reservoir {
	return &reservoir{n: n, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (s *reservoir) add(r catalog.Record) {
	s.seen++
	if len(s.items) < s.n {
		s.items = append(s.items, r)
		return
	}
	if j := s.rng.Int64N(s.seen); j < int64(s.n) {
		s.items[j] = r
	}
}
