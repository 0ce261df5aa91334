package source

import (
	"errors"
	"fmt"
)

// Sentinel causes that decide how a per-file problem is counted. A FileError wrapping ErrMissing
// is "missing", one wrapping ErrInvalid is "invalid", anything else is "failed".
var (
	// ErrMissing means the record's file does not exist.
	ErrMissing = errors.New("file does not exist")
	// ErrInvalid means the record can never be uploaded as it is: its path escapes the source,
	// a symlink points outside it, it is not a regular file, or its key is not a valid S3 key.
	ErrInvalid = errors.New("invalid record")
	// ErrFileChanged means the file's size or modification time changed while it was read.
	ErrFileChanged = errors.New("file changed while uploading")
)

// MaxKeyBytes is S3's limit on the length of an object key.
const MaxKeyBytes = 1024

// ConfigError is a setting that cannot work. Setting is the name the user knows it by (the
// cli's flag name without dashes). Every command built on a source (migrate, verify, prune)
// reports its settings this way, and the cli maps it to the usage exit code.
type ConfigError struct {
	Setting string
	Problem string
}

func (e *ConfigError) Error() string { return e.Setting + ": " + e.Problem }

// FileError is the outcome of one file that was not handled. The run goes on after it.
type FileError struct {
	// Op is the step that failed: "resolve", "stat", "open", "read", "put",
	// "create-multipart", "upload-part", "complete-multipart".
	Op   string
	Path string
	Key  string
	Err  error
}

func (e *FileError) Error() string {
	if e.Key != "" {
		return fmt.Sprintf("%s %s (key %s): %v", e.Op, e.Path, e.Key, e.Err)
	}
	return fmt.Sprintf("%s %s: %v", e.Op, e.Path, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// Kind is how a report counts the failure: "missing", "invalid" or "failed".
func (e *FileError) Kind() string {
	switch {
	case errors.Is(e.Err, ErrMissing):
		return KindMissing
	case errors.Is(e.Err, ErrInvalid):
		return KindInvalid
	default:
		return KindFailed
	}
}

// Kinds of per-file problems in a report.
const (
	KindMissing = "missing"
	KindInvalid = "invalid"
	KindFailed  = "failed"
)
