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
// # Overlapping runs
//
// A scheduled uploader can start while the previous run is still going. The catalogs keep
// two runs from working on the same record:
//
//   - SQLite (table mode) and the ledger take an exclusive flock(2) on PATH+".lock" for as
//     long as they are open. A second opener fails at once with a *LockedError, or waits
//     up to LockWait for the first to finish.
//   - PostgreSQL lets several uploaders cooperate on one table, on one machine or many,
//     without a schema change. Each batch is claimed with session-level advisory locks
//     (pg_try_advisory_lock(hashtext(table), hashtext(id::text))) taken on one dedicated
//     connection; rows another uploader holds are skipped, and the rows still pending are
//     re-read after locking so a row flagged by the other uploader between our read and our
//     lock is not handed out again. The claims are released when fn returns for that batch,
//     so the engine must finish a batch (upload and MarkDone) before fn returns. Session
//     locks vanish with the session, so a crashed uploader never leaves rows claimed; a
//     transaction-pooling proxy (pgbouncer in transaction mode) breaks session locks and
//     must not sit between the uploader and the database. Row locks with FOR UPDATE SKIP
//     LOCKED were not chosen because they would keep a transaction open for the whole
//     upload of a batch, and a lease column would need a schema change.
//   - MySQL and MariaDB work the same way with named locks: GET_LOCK(name, 0) per row, the
//     name being "staticmedia:" and the MD5 of database.table:id (names are server-wide and
//     at most 64 characters), released with RELEASE_ALL_LOCKS() (MySQL 5.7, MariaDB 10.5).
//
// The file lock uses flock(2) and exists on Linux, macOS and the BSDs; elsewhere it is a
// no-op and overlapping runs are not detected.
package catalog

import (
	"context"
	"time"
)

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
	// MarkDone flags the records in one transaction; idempotent (re-marking is fine).
	MarkDone(ctx context.Context, done []Done) error
	Close() error
}

var (
	_ Catalog = (*Table)(nil)
	_ Catalog = (*Ledger)(nil)
)
