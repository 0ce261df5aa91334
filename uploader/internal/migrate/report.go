package migrate

import (
	"errors"
	"sync"

	"github.com/staticmedia/staticmedia/uploader/internal/source"
)

// The per-file errors and their kinds are the source package's, which verify and prune share;
// the names stay here so the engine reads as before.
var (
	ErrMissing     = source.ErrMissing
	ErrInvalid     = source.ErrInvalid
	ErrFileChanged = source.ErrFileChanged
	// ErrChecksumMismatch means S3 did not confirm the checksum of the bytes sent: the CRC32C
	// of a PUT or a part, or a multipart upload's composite CRC32C, differs or is missing.
	ErrChecksumMismatch = errors.New("S3 did not confirm the checksum of the bytes sent")
)

// FileError is the outcome of one file that was not uploaded. The run goes on after it.
type FileError = source.FileError

// Kinds of per-file problems in the report.
const (
	KindMissing = source.KindMissing
	KindInvalid = source.KindInvalid
	KindFailed  = source.KindFailed
)

// maxReportedErrors bounds the per-file list in the report, so a catalog of a million
// missing files cannot make the report (or memory) grow without bound. The counters stay exact.
const maxReportedErrors = 1000

// Report is the outcome of a run, printed as JSON by --report and summarised in the last log line.
type Report struct {
	// Uploaded files were confirmed by S3 (their checksum verified).
	Uploaded int64 `json:"uploaded"`
	// Flagged records were marked done in the catalog. It is lower than Uploaded only when the
	// catalog failed mid-run; the next run uploads those files again and flags them.
	Flagged int64 `json:"flagged"`
	// AlreadyDone counts records found already uploaded without sending bytes (always 0 today:
	// a conditional PUT cannot prove the existing object holds the same bytes).
	AlreadyDone int64 `json:"already_done"`
	Missing     int64 `json:"missing"`
	Invalid     int64 `json:"invalid"`
	Failed      int64 `json:"failed"`
	// TooNew files were modified less than Config.MinAge ago: left pending, for a later run.
	TooNew int64 `json:"too_new"`
	// Bytes is the total size of the uploaded files.
	Bytes           int64   `json:"bytes"`
	DurationSeconds float64 `json:"duration_seconds"`
	// DryRun runs count what they would send: objects and bytes, and the requests: single
	// PutObjects, multipart uploads (a create and a complete each) and their parts.
	// WouldRequests is their sum.
	DryRun           bool  `json:"dry_run,omitempty"`
	WouldUpload      int64 `json:"would_upload,omitempty"`
	WouldUploadBytes int64 `json:"would_upload_bytes,omitempty"`
	WouldRequests    int64 `json:"would_requests,omitempty"`
	WouldPutObject   int64 `json:"would_put_object,omitempty"`
	WouldMultipart   int64 `json:"would_multipart_uploads,omitempty"`
	WouldUploadPart  int64 `json:"would_upload_part,omitempty"`
	// Changed records were uploaded but not flagged because the application changed their row
	// while the file was on the wire (a new path, flagged, or gone); the next run reads them
	// again if they are still pending.
	Changed int64 `json:"changed,omitempty"`
	// Abandoned files were in flight when the run stopped (signal after the grace period, or a
	// fatal catalog error); the next run sends them again.
	Abandoned int64 `json:"abandoned,omitempty"`
	// Interrupted is set when the run was stopped (signal) before the catalog was exhausted.
	Interrupted bool `json:"interrupted,omitempty"`
	// LimitReached is set when --limit stopped the run.
	LimitReached bool `json:"limit_reached,omitempty"`
	// Error says why the run stopped early (preflight, the catalog failing, a signal); empty
	// when it finished. The command layer sets it, and writes a report with only this when the
	// run could not start, so a report file left by an earlier run is never mistaken for this
	// one's.
	Error string `json:"error,omitempty"`
	// Errors lists the files that were not uploaded (at most maxReportedErrors of them).
	Errors        []ReportError `json:"errors"`
	ErrorsOmitted int64         `json:"errors_omitted,omitempty"`
}

// ReportError is one file that was not uploaded.
type ReportError struct {
	Path    string `json:"path"`
	Key     string `json:"key,omitempty"`
	Op      string `json:"op"`
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

// tally accumulates the report from concurrent workers.
type tally struct {
	mu sync.Mutex
	r  Report
}

func (t *tally) uploaded(size int64) {
	t.mu.Lock()
	t.r.Uploaded++
	t.r.Bytes += size
	t.mu.Unlock()
}

// wouldUpload counts a file a dry run would send, in one PUT (parts == 0) or in parts.
func (t *tally) wouldUpload(size int64, parts int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.r.WouldUpload++
	t.r.WouldUploadBytes += size
	if parts == 0 {
		t.r.WouldPutObject++
		t.r.WouldRequests++
		return
	}
	t.r.WouldMultipart++
	t.r.WouldUploadPart += int64(parts)
	t.r.WouldRequests += 2 + int64(parts)
}

func (t *tally) tooNew() {
	t.mu.Lock()
	t.r.TooNew++
	t.mu.Unlock()
}

func (t *tally) abandoned() {
	t.mu.Lock()
	t.r.Abandoned++
	t.mu.Unlock()
}

func (t *tally) flagged(n, changed int) {
	t.mu.Lock()
	t.r.Flagged += int64(n)
	t.r.Changed += int64(changed)
	t.mu.Unlock()
}

// fileError counts fe and returns its kind and how many of that kind were counted so far.
func (t *tally) fileError(fe *FileError) (kind string, nth int64) {
	kind = fe.Kind()
	t.mu.Lock()
	defer t.mu.Unlock()
	switch kind {
	case KindMissing:
		t.r.Missing++
		nth = t.r.Missing
	case KindInvalid:
		t.r.Invalid++
		nth = t.r.Invalid
	default:
		t.r.Failed++
		nth = t.r.Failed
	}
	if len(t.r.Errors) >= maxReportedErrors {
		t.r.ErrorsOmitted++
		return kind, nth
	}
	t.r.Errors = append(t.r.Errors, ReportError{Path: fe.Path, Key: fe.Key, Op: fe.Op, Kind: kind, Message: fe.Err.Error()})
	return kind, nth
}

func (t *tally) report() Report {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.r
	r.Errors = append([]ReportError{}, t.r.Errors...)
	return r
}
