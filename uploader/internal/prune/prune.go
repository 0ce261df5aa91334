// Package prune frees the local disk the migration made redundant: it deletes a local file
// only when its record is flagged and, in the same run, its public copy was fetched the way the
// site's visitors fetch it and found byte-for-byte equal to the file.
//
// It is careful about what it deletes: it never follows a symlink (the file itself must be a
// regular file, found with Lstat), never deletes outside the source directory (the file's
// directory is resolved and must lie inside it), and keeps a file that changed between the
// check and the delete. Without Config.Delete it deletes nothing and reports what it would.
//
// The engine never prints and never exits: Run returns a Report, and OnFile tells the caller
// about each file deleted (or that would be).
package prune

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/staticmedia/staticmedia/uploader/internal/catalog"
	"github.com/staticmedia/staticmedia/uploader/internal/source"
	"github.com/staticmedia/staticmedia/uploader/internal/verify"
)

// Config is a prune run.
type Config struct {
	verify.CheckConfig
	// Delete deletes the verified files; false is a dry run, which makes the same checks.
	Delete bool
	// Concurrency is how many records are checked at once.
	Concurrency int
	// BatchSize is how many records are read from the catalog at a time.
	BatchSize int
}

func (c Config) validate() error {
	switch {
	case c.Concurrency < 1 || c.Concurrency > 256:
		return &source.ConfigError{Setting: "concurrency", Problem: fmt.Sprintf("must be between 1 and 256, got %d", c.Concurrency)}
	case c.BatchSize < 1:
		return &source.ConfigError{Setting: "batch-size", Problem: fmt.Sprintf("must be at least 1, got %d", c.BatchSize)}
	}
	return nil
}

// Deps are the run's collaborators.
type Deps struct {
	HTTP    verify.Doer
	Catalog verify.FlaggedLister
	// OnFile, when set, is told about every file deleted (or, in a dry run, that would be),
	// one call at a time.
	OnFile func(File)
}

// File is a local file deleted, or that a dry run would delete.
type File struct {
	ID   string
	Path string // the local file
	Key  string
	Size int64
	// Deleted is false in a dry run.
	Deleted bool
}

// Outcomes of a record that was not deleted, as the report lists them.
const (
	// OutcomeSkipped: the local file is a symlink, not a regular file, outside the source,
	// has an invalid path, or changed during the run. It is kept.
	OutcomeSkipped = "skipped"
	// OutcomeUnverified: the public copy is missing or differs from the file. It is kept.
	OutcomeUnverified = "unverified"
	// OutcomeFailed: the check or the delete failed. The file is kept (or, for a failed
	// delete, whatever the system left).
	OutcomeFailed = "failed"
)

// Report is the outcome of a run, written as JSON by --report.
type Report struct {
	DryRun bool `json:"dry_run"`
	// Flagged is how many flagged records were read from the catalog.
	Flagged int64 `json:"flagged"`
	// Deleted and FreedBytes count the files deleted; in a dry run, WouldDelete and
	// WouldFreeBytes count the files that would be.
	Deleted        int64 `json:"deleted"`
	FreedBytes     int64 `json:"freed_bytes"`
	WouldDelete    int64 `json:"would_delete,omitempty"`
	WouldFreeBytes int64 `json:"would_free_bytes,omitempty"`
	// NoLocalFile counts flagged records without a local file: nothing to delete.
	NoLocalFile int64 `json:"no_local_file"`
	Skipped     int64 `json:"skipped"`
	Unverified  int64 `json:"unverified"`
	Failed      int64 `json:"failed"`
	Interrupted bool  `json:"interrupted,omitempty"`
	// Problems lists the skipped, unverified and failed records (up to verify.MaxListed, in
	// path order).
	Problems          []verify.Result `json:"problems,omitempty"`
	ProblemsNotListed int64           `json:"problems_not_listed,omitempty"`
	DurationSeconds   float64         `json:"duration_seconds"`
}

// Run checks every flagged record and deletes the verified local files (with cfg.Delete). The
// error is a *source.ConfigError for settings that cannot work, wraps catalog.ErrInterrupted
// when ctx was cancelled, and is the catalog's error when reading the flagged records failed.
func Run(ctx context.Context, cfg Config, deps Deps) (Report, error) {
	start := time.Now()
	rep := Report{DryRun: !cfg.Delete}
	if err := cfg.validate(); err != nil {
		return rep, err
	}
	checker, err := verify.NewChecker(cfg.CheckConfig, deps.HTTP)
	if err != nil {
		return rep, err
	}
	p := &pruner{checker: checker, delete: cfg.Delete}

	var mu sync.Mutex
	flagged, catErr := verify.Each(ctx, deps.Catalog, cfg.BatchSize, cfg.Concurrency, func(rec catalog.Record) {
		res, file := p.prune(ctx, rec)
		if ctx.Err() != nil && file == nil {
			return // cut short by cancellation: it says nothing about the file
		}
		mu.Lock()
		defer mu.Unlock()
		rep.add(res, file)
		if file != nil && deps.OnFile != nil {
			deps.OnFile(*file)
		}
	})
	rep.Flagged = flagged
	slices.SortFunc(rep.Problems, func(a, b verify.Result) int { return strings.Compare(a.Path, b.Path) })
	rep.DurationSeconds = time.Since(start).Seconds()
	if ctx.Err() != nil {
		rep.Interrupted = true
		return rep, fmt.Errorf("%w: %d of the flagged records were looked at: %w", catalog.ErrInterrupted, rep.Flagged, context.Cause(ctx))
	}
	if catErr != nil {
		return rep, fmt.Errorf("read the flagged records: %w", catErr)
	}
	return rep, nil
}

// add counts one record. file is set when the file was (or would be) deleted; res.Outcome is
// verify.OutcomeNoLocalFile when there was nothing to delete.
func (r *Report) add(res verify.Result, file *File) {
	switch {
	case file != nil && file.Deleted:
		r.Deleted++
		r.FreedBytes += file.Size
		return
	case file != nil:
		r.WouldDelete++
		r.WouldFreeBytes += file.Size
		return
	case res.Outcome == verify.OutcomeNoLocalFile:
		r.NoLocalFile++
		return
	case res.Outcome == OutcomeSkipped:
		r.Skipped++
	case res.Outcome == OutcomeUnverified:
		r.Unverified++
	default:
		r.Failed++
	}
	if len(r.Problems) < verify.MaxListed {
		r.Problems = append(r.Problems, res)
	} else {
		r.ProblemsNotListed++
	}
}

type pruner struct {
	checker *verify.Checker
	delete  bool
}

// prune handles one record: the result says why nothing was deleted, or file what was.
func (p *pruner) prune(ctx context.Context, rec catalog.Record) (verify.Result, *File) {
	res := verify.Result{ID: rec.ID, Path: rec.Path}
	fail := func(outcome string, err error) (verify.Result, *File) {
		res.Outcome, res.Error = outcome, err.Error()
		return res, nil
	}
	t, err := p.checker.Target(rec)
	if err != nil {
		return fail(OutcomeSkipped, err)
	}
	res.Key, res.URL = t.Key, t.URL
	path, info, err := p.lstat(t.Local)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		res.Outcome = verify.OutcomeNoLocalFile
		return res, nil
	case errors.Is(err, errNotRegular):
		return fail(OutcomeSkipped, err)
	case err != nil:
		return fail(OutcomeFailed, err)
	}

	f, err := os.Open(path)
	if err != nil {
		return fail(OutcomeFailed, err)
	}
	local, err := hashIfSame(f, info)
	_ = f.Close() // opened read-only: closing cannot lose data
	switch {
	case errors.Is(err, source.ErrFileChanged):
		return fail(OutcomeSkipped, err)
	case err != nil:
		return fail(OutcomeFailed, err)
	}
	res.Size, res.MD5 = local.Size, hex.EncodeToString(local.MD5[:])

	probe, diffs, err := p.checker.CheckCopy(ctx, t, &local)
	res.Probes = []verify.Probe{probe}
	if err != nil {
		return fail(OutcomeFailed, err)
	}
	if len(diffs) > 0 {
		res.Outcome, res.Problems = OutcomeUnverified, diffs
		return res, nil
	}

	// A last look just before deleting: the same file, unchanged since it was hashed. What
	// is left is the instant between this Lstat and the unlink, which no portable call closes.
	now, err := os.Lstat(path)
	if err != nil || !os.SameFile(now, info) || now.Size() != local.Size || !now.ModTime().Equal(info.ModTime()) {
		return fail(OutcomeSkipped, fmt.Errorf("%s: %w", path, source.ErrFileChanged))
	}
	file := &File{ID: rec.ID, Path: path, Key: t.Key, Size: local.Size}
	if !p.delete {
		return res, file
	}
	if err := os.Remove(path); err != nil {
		return fail(OutcomeFailed, fmt.Errorf("delete: %w", err))
	}
	file.Deleted = true
	return res, file
}

// errNotRegular marks a local file that prune will not touch.
var errNotRegular = errors.New("not deleted")

// lstat finds a record's file without following symlinks to it: its directory is resolved
// (it may be reached through symlinked directories inside the source) and must lie inside the
// source, and the file itself must be a regular file, not a symlink. It returns the path to
// delete, with the directory resolved, so no symlink is followed at delete time either.
func (p *pruner) lstat(local string) (string, fs.FileInfo, error) {
	dir, err := filepath.EvalSymlinks(filepath.Dir(local))
	if err != nil {
		return "", nil, err
	}
	root := p.checker.Source().RealDir()
	if rel, err := filepath.Rel(root, dir); err != nil || (rel != "." && !filepath.IsLocal(rel)) {
		return "", nil, fmt.Errorf("%w: its directory resolves to %s, outside the source directory %s", errNotRegular, dir, root)
	}
	path := filepath.Join(dir, filepath.Base(local))
	info, err := os.Lstat(path)
	if err != nil {
		return "", nil, err
	}
	switch {
	case info.Mode()&fs.ModeSymlink != 0:
		return "", nil, fmt.Errorf("%w: %s is a symlink, which prune never follows", errNotRegular, path)
	case !info.Mode().IsRegular():
		return "", nil, fmt.Errorf("%w: %s is not a regular file (%s)", errNotRegular, path, info.Mode().Type())
	}
	return path, info, nil
}

// hashIfSame hashes f after checking it is the file that was looked at: the path could have
// been swapped (for a symlink, say) between the Lstat and the open.
func hashIfSame(f *os.File, looked fs.FileInfo) (verify.LocalFile, error) {
	opened, err := f.Stat()
	if err != nil {
		return verify.LocalFile{}, err
	}
	if !os.SameFile(opened, looked) {
		return verify.LocalFile{}, fmt.Errorf("%s: %w", f.Name(), source.ErrFileChanged)
	}
	return verify.Hash(f, opened)
}
