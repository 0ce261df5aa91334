// Package catalog is where the uploader learns what is pending and records what is done.
//
// Two implementations satisfy Catalog:
//
//   - Table: the application's own table (the seed's case). A row is pending while its flag
//     column is false or NULL; MarkDone sets the flag (and optionally an ETag and an
//     upload-time column) once S3 has confirmed the object. PostgreSQL, MySQL/MariaDB and
//     SQLite are supported.
//   - Ledger: no application database. The source tree is walked and every file that is
//     not yet recorded, or whose size, mtime, ctime or inode changed since it was recorded,
//     is pending. Uploads are recorded in a small SQLite file.
//
// Both stream their work in bounded batches so a catalog of millions of records never sits
// in memory.
//
// A scheduled uploader can start while the previous run is still going: the catalogs keep two
// runs from working on the same record (a file lock for SQLite and the ledger, advisory locks
// for PostgreSQL and MySQL). DESIGN.md ("Overlapping runs") says how and why.
package catalog

import (
	"context"
	"errors"
	"time"
)

// ErrInterrupted is returned (wrapped) by a run over a catalog (migrate, verify, prune) whose
// context was cancelled before the catalog was exhausted. What was done is recorded; a rerun
// continues where this one stopped.
var ErrInterrupted = errors.New("interrupted")

// Record is one file to upload.
type Record struct {
	// ID is, in table mode, the id column's value as text; in ledger mode, the
	// slash-separated path relative to the source root.
	ID string
	// Path is the file's path as stored: relative to the source root (or absolute inside
	// it) in table mode; the path relative to the source root in ledger mode.
	Path string
	// Size is the size the walk saw (ledger mode; 0 in table mode).
	Size int64
	// ModTime is the modification time the walk saw (ledger mode; zero in table mode).
	ModTime time.Time
	// ChangeTime and Inode are the status-change time and inode number the walk saw (ledger
	// mode, where the system has them; zero otherwise): a file replaced by one of the same
	// size and mtime differs in them.
	ChangeTime time.Time
	Inode      uint64

	// idValue is the id as the SQLite driver returned it, or a binary id (table mode), which
	// MarkDone sends back: a SQLite column without a declared type compares by storage class,
	// so the integer 1 never equals the text "1", and a BLOB or bytea id is not text.
	idValue any
}

// Done is a record whose object S3 confirmed.
type Done struct {
	Record
	// Key is the object key the file was uploaded to.
	Key string
	// ETag is the ETag S3 returned.
	ETag string
	// Size and ModTime describe the bytes that were uploaded; the ledger records them so a
	// file that changed during the upload is sent again on the next run.
	Size    int64
	ModTime time.Time
	// ChangeTime and Inode, from the same stat as Size and ModTime (zero where the system
	// has none).
	ChangeTime time.Time
	Inode      uint64
	// UploadedAt is when S3 confirmed the upload.
	UploadedAt time.Time
}

// Catalog is the work list: what is pending, and where finished work is recorded.
type Catalog interface {
	// Pending streams pending records in batches of at most batchSize, calling fn per
	// batch, in a stable order (keyset pagination on the id column; never loads all rows).
	// It stops at ctx cancellation or when fn errors.
	Pending(ctx context.Context, batchSize int, fn func([]Record) error) error
	// MarkDone flags the records in one transaction. A record whose row changed since it was
	// read (the application table's row holds another path, was flagged or is gone) is not
	// flagged but counted in changed; the next run reads it again if it is still pending.
	MarkDone(ctx context.Context, done []Done) (changed int, err error)
	Close() error
}

var (
	_ Catalog = (*Table)(nil)
	_ Catalog = (*Ledger)(nil)
)
