// Package migrate is the uploader's engine: it takes pending records from a catalog, uploads
// each file with PutObject (multipart above a threshold) and a checksum S3 verifies, and marks
// the records done in the catalog once S3 confirmed them.
//
// It never prints and never exits: per-file problems are FileErrors counted in the Report, and
// only what stops the whole run (configuration, preflight, catalog) is returned as an error.
// DESIGN.md says how every byte is verified and why.
package migrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/go-hclog"
	"golang.org/x/sync/errgroup"

	"github.com/staticmedia/staticmedia/uploader/internal/catalog"
	"github.com/staticmedia/staticmedia/uploader/internal/source"
)

// S3 is everything the engine asks of S3; *s3.Client satisfies it.
type S3 interface {
	bucketLister
	objectPutter
	multipartPutter
}

var _ S3 = (*s3.Client)(nil)

// Catalog is the part of catalog.Catalog the engine uses (the caller opens and closes it).
type Catalog interface {
	Pending(ctx context.Context, batchSize int, fn func([]catalog.Record) error) error
	MarkDone(ctx context.Context, done []catalog.Done) (changed int, err error)
}

// streamingCatalog is a catalog whose claims on rows (PostgreSQL, MySQL) outlive the batch
// that handed them out: each row stays claimed until MarkDone flags it or Release hands it
// back, so the engine can read the next batch while files of the last one are in flight.
// catalog.Table and catalog.Ledger implement it. A Catalog without it must not claim rows
// for the duration of Pending's callback: the callback returns as soon as its records were
// handed to workers, not when they are done.
type streamingCatalog interface {
	Stream(ctx context.Context, batchSize int, fn func([]catalog.Record) error) error
	Release(ctx context.Context, recs []catalog.Record) error
}

// claimFlush is the most flags held before they are written when the catalog claims rows:
// Stream claims more rows only once flags (or Release) handed some back.
const claimFlush = 100

// Deps are the engine's collaborators.
type Deps struct {
	S3      S3
	Catalog Catalog
	// Logger receives per-file warnings and errors; nil discards them.
	Logger hclog.Logger
	// Progress, when set, is updated live for a progress display.
	Progress *Progress
	// Now is the clock for upload times and durations; nil means time.Now.
	Now func() time.Time
	// beforeOpen lets the package's tests act right before a file is opened.
	beforeOpen func(path string)
	// Identity, when set, names who S3 sees (a role and its session, an access key ID) without
	// secrets; the preflight's error says who was refused. It is called only then.
	Identity func(ctx context.Context) string
}

// Progress holds live counters a display can read while the run goes on.
type Progress struct {
	// Taken counts records taken from the catalog.
	Taken    atomic.Int64
	Uploaded atomic.Int64
	Skipped  atomic.Int64 // missing or invalid
	Failed   atomic.Int64
	// Bytes counts bytes S3 confirmed, multipart parts included as they finish.
	Bytes atomic.Int64
}

// ErrInterrupted is returned (wrapped) when ctx was cancelled before the catalog was exhausted,
// or before files in flight finished (they were abandoned). The flags already earned were
// written; a rerun continues where this one stopped.
var ErrInterrupted = catalog.ErrInterrupted

// CatalogError is a catalog failure that stopped the run (database unreachable, for instance).
type CatalogError struct {
	Op  string // "pending" or "mark-done"
	Err error
}

func (e *CatalogError) Error() string {
	if e.Op == "mark-done" {
		return fmt.Sprintf("catalog: marking records done: %v (the files uploaded since the last successful write are flagged by the next run)", e.Err)
	}
	return fmt.Sprintf("catalog: reading pending records: %v", e.Err)
}

func (e *CatalogError) Unwrap() error { return e.Err }

// errLimitReached ends Pending when Config.Limit records were taken.
var errLimitReached = errors.New("limit reached")

// Run migrates every pending record of the catalog. The error is nil when the catalog was
// exhausted (or the limit reached), even if some files failed: those are in the Report. It is a
// *ConfigError, a *PreflightError, a *CatalogError or ErrInterrupted (wrapped) otherwise, and the
// Report then says how far the run got.
func Run(ctx context.Context, cfg Config, deps Deps) (Report, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return Report{}, err
	}
	if deps.S3 == nil || deps.Catalog == nil {
		return Report{}, errors.New("migrate: Deps.S3 and Deps.Catalog are required")
	}
	if deps.Logger == nil {
		deps.Logger = hclog.NewNullLogger()
	}
	if deps.Progress == nil {
		deps.Progress = new(Progress)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	src, err := source.New(cfg.Source)
	if err != nil {
		return Report{}, err
	}
	if deps.beforeOpen != nil {
		src = src.WithBeforeOpen(deps.beforeOpen)
	}
	r := &run{cfg: cfg, deps: deps, log: deps.Logger, src: src}
	r.up = &uploader{
		s3: deps.S3, bucket: cfg.Bucket, cache: cfg.CacheControl, checksum: cfg.Checksum, class: cfg.StorageClass,
		threshold: cfg.MultipartThreshold, partSize: cfg.PartSize, partConc: cfg.PartConcurrency,
		sent: func(n int64) { deps.Progress.Bytes.Add(n) },
	}
	return r.run(ctx)
}

// run is the state of one Run.
type run struct {
	cfg   Config
	deps  Deps
	log   hclog.Logger
	src   source.Source
	up    *uploader
	tally tally
	marks *flusher
	// release hands back the claim on a record that is not flagged (streamingCatalog).
	release func(ctx context.Context, recs []catalog.Record) error
	taken   int64 // records taken; only the Pending callback touches it
}

func (r *run) run(ctx context.Context) (Report, error) {
	start := r.deps.Now()
	finish := func() Report {
		rep := r.tally.report()
		rep.DryRun = r.cfg.DryRun
		rep.DurationSeconds = r.deps.Now().Sub(start).Seconds()
		r.logSkipSummary(rep)
		if rep.DryRun {
			r.log.Info("dry run: what the run would send", "objects", rep.WouldUpload, "bytes", rep.WouldUploadBytes,
				"requests", rep.WouldRequests, "put_object", rep.WouldPutObject,
				"multipart_uploads", rep.WouldMultipart, "upload_part", rep.WouldUploadPart)
		}
		return rep
	}

	if err := Preflight(ctx, r.deps.S3, r.cfg.Bucket); err != nil {
		if ctx.Err() != nil {
			return finish(), fmt.Errorf("%w during preflight: %w", ErrInterrupted, ctx.Err())
		}
		var pe *PreflightError
		if errors.As(err, &pe) && r.deps.Identity != nil {
			pe.Identity = r.deps.Identity(ctx)
		}
		return finish(), err
	}

	// Three contexts. ctx is the caller's: cancelling it (a signal) stops taking new records.
	// dispatch is ctx plus a fatal catalog error. work runs the uploads: it survives ctx for
	// StopGrace so in-flight files can finish and earn their flags, and ends at once on a fatal
	// error.
	dispatch, cancelDispatch := context.WithCancel(ctx)
	defer cancelDispatch()
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	go func() {
		select {
		case <-ctx.Done():
			t := time.NewTimer(r.cfg.StopGrace)
			defer t.Stop()
			select {
			case <-t.C:
				cancelWork()
			case <-work.Done():
			}
		case <-work.Done():
		}
	}()

	stream, flushAt := r.deps.Catalog.Pending, r.cfg.BatchSize
	r.release = func(context.Context, []catalog.Record) error { return nil }
	if sc, ok := r.deps.Catalog.(streamingCatalog); ok {
		stream, r.release, flushAt = sc.Stream, sc.Release, min(flushAt, claimFlush)
	}
	r.marks = newFlusher(context.WithoutCancel(ctx), r.deps.Catalog, r.cfg.BatchSize, &r.tally, r.log, func() {
		cancelDispatch()
		cancelWork()
	})
	r.marks.at = flushAt
	stopTicker := r.marks.every(r.cfg.FlushInterval)

	// One pool of workers for the whole run, no barrier between pages: the next page is read
	// while the last files of this one (a slow one, say) are still in flight.
	workers, wctx := errgroup.WithContext(work)
	workers.SetLimit(r.cfg.Concurrency)
	pendErr := stream(dispatch, r.cfg.PageSize, func(page []catalog.Record) error {
		return r.page(dispatch, wctx, workers, page)
	})
	_ = workers.Wait() // workers report per-file outcomes, never errors
	stopTicker()
	flushErr := r.marks.flush() // the flags earned so far, also after a signal
	rep := finish()
	if rep.Abandoned > 0 && ctx.Err() != nil && (pendErr == nil || errors.Is(pendErr, errLimitReached)) {
		// The catalog was exhausted (its last page handed out) before the stop, but files still
		// in flight were abandoned: the run did not finish, a rerun sends them.
		pendErr = ctx.Err()
	}

	switch {
	case flushErr != nil:
		return rep, flushErr
	case pendErr == nil:
		return rep, nil
	case errors.Is(pendErr, errLimitReached):
		rep.LimitReached = true
		return rep, nil
	case ctx.Err() != nil:
		rep.Interrupted = true
		return rep, fmt.Errorf("%w: stopped taking new files; the flags earned were written, a rerun continues: %w", ErrInterrupted, context.Cause(ctx))
	default:
		return rep, &CatalogError{Op: "pending", Err: pendErr}
	}
}

// page hands each record of a page to a worker, waiting for a free one, and returns once the
// last record was handed out: the workers finish the page while the catalog reads the next.
// The flags earned so far are written in the background, as the end of a page is a natural
// point to hand finished rows back to the catalog.
func (r *run) page(dispatch, work context.Context, workers *errgroup.Group, page []catalog.Record) error {
	var stop error
	for _, rec := range page {
		if err := dispatch.Err(); err != nil {
			stop = err
			break
		}
		if r.cfg.Limit > 0 && r.taken >= r.cfg.Limit {
			stop = errLimitReached
			break
		}
		r.taken++
		r.deps.Progress.Taken.Add(1)
		workers.Go(func() error {
			if !r.file(work, rec) {
				r.handBack(work, rec)
			}
			return nil
		})
	}
	workers.Go(func() error {
		_ = r.marks.flush() // a failure is fatal and reported by the run
		return nil
	})
	if stop == nil && r.cfg.Limit > 0 && r.taken >= r.cfg.Limit {
		stop = errLimitReached
	}
	return stop
}

// handBack releases the catalog's claim on a record that will not be flagged in this run.
func (r *run) handBack(ctx context.Context, rec catalog.Record) {
	if err := r.release(context.WithoutCancel(ctx), []catalog.Record{rec}); err != nil {
		r.log.Error("catalog: releasing a claimed row failed; it stays claimed until the run ends", "path", rec.Path, "error", err)
	}
}

// file handles one record from key derivation to the earned flag. It reports whether the
// record was queued for its flag.
func (r *run) file(ctx context.Context, rec catalog.Record) bool {
	key, local, err := r.src.Key(r.cfg.KeyPrefix, rec.Path)
	if err != nil {
		r.fail(&FileError{Op: "resolve", Path: rec.Path, Err: err})
		return false
	}
	f, fi, err := r.src.Open(local)
	if err != nil {
		fe := &FileError{Op: "open", Err: err}
		errors.As(err, &fe)
		fe.Path, fe.Key = rec.Path, key
		r.fail(fe)
		return false
	}
	defer f.Close()
	if age := r.deps.Now().Sub(fi.ModTime()); r.cfg.MinAge > 0 && age < r.cfg.MinAge {
		// Probably still being written: neither uploaded nor flagged, so a later run takes it.
		r.tally.tooNew()
		r.deps.Progress.Skipped.Add(1)
		r.log.Debug("too new", "path", rec.Path, "key", key, "modified", fi.ModTime(), "min_age", r.cfg.MinAge)
		return false
	}
	hdr, fe := r.contentHeaders(f, key)
	if fe != nil {
		fe.Path, fe.Key = rec.Path, key
		r.fail(fe)
		return false
	}
	if r.cfg.DryRun {
		parts := 0
		if fi.Size() > r.cfg.MultipartThreshold {
			_, parts = r.up.layout(fi.Size())
		}
		r.tally.wouldUpload(fi.Size(), parts)
		r.log.Debug("would upload", "path", rec.Path, "key", key, "bytes", fi.Size())
		return false
	}
	res, fe := r.up.upload(ctx, f, key, hdr)
	if fe == nil && local != f.Name() && !leadsTo(local, f.Name()) {
		// The upload's re-checks look at the file the handle reads; a symlink on the path,
		// pointed elsewhere meanwhile, leaves that file unchanged but the path with other bytes.
		fe = &FileError{Op: "put", Err: fmt.Errorf("%w: a symlink on the path now leads to another file", ErrFileChanged)}
	}
	if fe != nil && ctx.Err() != nil {
		// The run is stopping (grace period over, or a fatal catalog error): the file is not
		// failed, it was abandoned, and the next run sends it again.
		r.tally.abandoned()
		r.log.Warn("abandoned in flight", "path", rec.Path, "key", key)
		return false
	}
	if fe != nil {
		fe.Path, fe.Key = rec.Path, key
		r.fail(fe)
		return false
	}
	r.tally.uploaded(res.Size)
	r.deps.Progress.Uploaded.Add(1)
	r.log.Debug("uploaded", "path", rec.Path, "key", key, "bytes", res.Size, "etag", res.ETag)
	r.marks.add(catalog.Done{
		Record: rec, Key: key, ETag: res.ETag, Size: res.Size, ModTime: res.ModTime,
		ChangeTime: res.ChangeTime, Inode: res.Inode, UploadedAt: r.deps.Now().UTC(),
	})
	return true
}

// leadsTo reports whether path, with every symlink resolved, is still resolved.
func leadsTo(path, resolved string) bool {
	now, err := filepath.EvalSymlinks(path)
	return err == nil && now == resolved
}

// contentHeaders decides what the file is stored with (contenttype.go), reading its first bytes
// only when the key's extension does not say.
func (r *run) contentHeaders(f *os.File, key string) (contentHeaders, *FileError) {
	var head []byte
	if needsHead(key) {
		head = make([]byte, 512)
		n, err := f.ReadAt(head, 0)
		if err != nil && !errors.Is(err, io.EOF) {
			return contentHeaders{}, &FileError{Op: "read", Err: err}
		}
		head = head[:n]
	}
	hdr, err := contentFor(key, head, r.cfg.ActiveContent)
	if err != nil {
		return contentHeaders{}, &FileError{Op: "content-type", Err: err}
	}
	return hdr, nil
}

// maxLoggedSkips is how many missing (and how many invalid) records a run logs one by one. A
// catalog whose files were deleted would otherwise log a line per row on every scheduled run;
// the report lists them (up to maxReportedErrors) and logSkipSummary counts the rest.
const maxLoggedSkips = 10

func (r *run) fail(fe *FileError) {
	switch kind, nth := r.tally.fileError(fe); kind {
	case KindFailed:
		r.deps.Progress.Failed.Add(1)
		r.log.Error("upload failed", "path", fe.Path, "key", fe.Key, "op", fe.Op, "error", fe.Err)
	default:
		r.deps.Progress.Skipped.Add(1)
		if nth <= maxLoggedSkips {
			r.log.Warn("skipped", "kind", kind, "path", fe.Path, "key", fe.Key, "reason", fe.Err)
		}
	}
}

// logSkipSummary logs, in one line, how many skipped records were not logged one by one.
func (r *run) logSkipSummary(rep Report) {
	missing, invalid := max(0, rep.Missing-maxLoggedSkips), max(0, rep.Invalid-maxLoggedSkips)
	if missing+invalid > 0 {
		r.log.Warn(fmt.Sprintf("more records skipped than logged (the first %d of each kind were); the report lists them", maxLoggedSkips),
			"missing_not_logged", missing, "invalid_not_logged", invalid, "missing", rep.Missing, "invalid", rep.Invalid)
	}
}
