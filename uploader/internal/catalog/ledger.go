package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ledgerSchema is the ledger's only table. mtime_ns and ctime_ns are the modification and
// status-change times in nanoseconds since the epoch, and inode the inode number, of the file
// that was uploaded. ctime_ns and inode are NULL where the system has none, and in rows written
// before they existed.
const ledgerSchema = `CREATE TABLE IF NOT EXISTS files (
	path        TEXT PRIMARY KEY,
	size        INTEGER,
	mtime_ns    INTEGER,
	etag        TEXT,
	key         TEXT,
	uploaded_at TEXT,
	ctime_ns    INTEGER,
	inode       INTEGER
)`

// ledgerAddedColumns are the columns added to the schema since the first release, which an
// older ledger gets with ALTER TABLE when it is opened for writing.
var ledgerAddedColumns = []string{"ctime_ns INTEGER", "inode INTEGER"}

// ledgerLookupChunk bounds the parameters of one "path IN (...)" query, far below
// SQLite's variable limit.
const ledgerLookupChunk = 500

// LedgerConfig describes a ledger catalog.
type LedgerConfig struct {
	// Path is the ledger's SQLite file; it is created when missing.
	Path string
	// Source is the media root that is walked.
	Source string
	// LockWait is how long OpenLedger waits for another uploader to release the ledger
	// before it returns a *LockedError; 0 means fail at once.
	LockWait time.Duration
	// ReadOnly opens the ledger for a dry run: no lock is taken, nothing is created, and
	// MarkDone fails. A missing ledger reads as empty. (SQLite may still create the
	// shared-memory index, -shm and -wal, beside an existing ledger in WAL mode to read it.)
	ReadOnly bool
	// WalkError, when set, is told about a directory or file the walk could not read, and
	// the walk goes on without it. When nil, such an error ends Pending: silently skipping
	// a directory would leave its files unuploaded without anyone noticing.
	WalkError func(path string, err error)
}

// Ledger is a Catalog that walks a directory tree and records uploads in SQLite.
type Ledger struct {
	db     *sql.DB
	source string
	path   string
	lock   *fileLock
	// skip holds the slash-separated source-relative paths of the ledger's own files when
	// the ledger lives inside the source tree.
	skip      map[string]bool
	walkError func(path string, err error)
	readOnly  bool
	// identityColumns selects ctime_ns and inode, or NULLs from a read-only ledger written
	// before they existed.
	identityColumns string
}

// OpenLedger takes the overlap lock, opens (or creates) the ledger and checks the source
// directory; with cfg.ReadOnly it takes no lock and creates nothing.
func OpenLedger(ctx context.Context, cfg LedgerConfig) (*Ledger, error) {
	if cfg.Path == "" {
		return nil, errors.New("ledger path is empty")
	}
	if cfg.Source == "" {
		return nil, errors.New("source directory is empty")
	}
	source, err := filepath.Abs(cfg.Source)
	if err != nil {
		return nil, fmt.Errorf("source directory %s: %w", cfg.Source, err)
	}
	fi, err := os.Stat(source)
	if err != nil {
		return nil, fmt.Errorf("source directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("source %s is not a directory", source)
	}
	path, err := filepath.Abs(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", cfg.Path, err)
	}
	l := &Ledger{source: source, path: path, walkError: cfg.WalkError, readOnly: cfg.ReadOnly}
	if !l.readOnly {
		if l.lock, err = acquireLock(ctx, path, cfg.LockWait); err != nil {
			return nil, err
		}
	}
	if err := l.open(ctx); err != nil {
		return nil, errors.Join(err, l.Close())
	}
	return l, nil
}

func (l *Ledger) open(ctx context.Context) error {
	dsn := ledgerDataSource(l.path)
	create := true
	if l.readOnly {
		switch _, err := os.Stat(l.path); {
		case err == nil:
			dsn, create = sqliteReadOnlyDataSource(l.path), false
		case errors.Is(err, fs.ErrNotExist):
			dsn = ":memory:" // nothing recorded yet: an empty ledger that lives in memory
		default:
			return fmt.Errorf("open ledger %s: %w", l.path, err)
		}
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("open ledger %s: %w", l.path, err)
	}
	l.db = db
	// One connection: SQLite writes one at a time, and an in-memory ledger lives only as long
	// as its connection.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	if create {
		if _, err := db.ExecContext(ctx, ledgerSchema); err != nil {
			return fmt.Errorf("create ledger %s: %w", l.path, err)
		}
	}
	if err := l.addColumns(ctx, create); err != nil {
		return err
	}
	l.skip, err = ownFiles(l.source, l.path)
	return err
}

// addColumns brings a ledger written by an older uploader to the current schema. A read-only
// ledger is left as it is, and read without the columns it lacks.
func (l *Ledger) addColumns(ctx context.Context, write bool) error {
	if !write {
		l.identityColumns = "NULL, NULL"
	}
	rows, err := l.db.QueryContext(ctx, "SELECT name FROM pragma_table_info('files')")
	if err != nil {
		return fmt.Errorf("read ledger %s: %w", l.path, err)
	}
	have := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return fmt.Errorf("read ledger %s: %w", l.path, err)
		}
		have[name] = true
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("read ledger %s: %w", l.path, err)
	}
	if !write {
		if have["ctime_ns"] && have["inode"] || len(have) == 0 {
			l.identityColumns = "ctime_ns, inode"
		}
		return nil
	}
	l.identityColumns = "ctime_ns, inode"
	for _, col := range ledgerAddedColumns {
		name, _, _ := strings.Cut(col, " ")
		if have[name] {
			continue
		}
		if _, err := l.db.ExecContext(ctx, "ALTER TABLE files ADD COLUMN "+col); err != nil {
			return fmt.Errorf("upgrade ledger %s: %w", l.path, err)
		}
	}
	return nil
}

// InsideSource reports whether file (which need not exist; its directory must) lies inside
// the source directory tree, symlinks resolved: a ledger there would be served with the media.
func InsideSource(source, file string) (bool, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return false, err
	}
	skip, err := ownFiles(source, abs)
	return len(skip) > 0, err
}

// ownFiles lists the ledger's files (database, journals, lock) relative to source when the
// ledger lives inside it. Symlinks are resolved on both sides so that /tmp vs /private/tmp
// style aliases still match.
func ownFiles(source, ledger string) (map[string]bool, error) {
	src, err := filepath.EvalSymlinks(source)
	if err != nil {
		return nil, fmt.Errorf("source directory: %w", err)
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(ledger))
	if err != nil {
		return nil, fmt.Errorf("ledger directory: %w", err)
	}
	rel, err := filepath.Rel(src, filepath.Join(dir, filepath.Base(ledger)))
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, nil // outside the source tree
	}
	rel = filepath.ToSlash(rel)
	skip := make(map[string]bool)
	for _, suffix := range []string{"", "-wal", "-shm", "-journal", ".lock"} {
		skip[rel+suffix] = true
	}
	return skip, nil
}

// Pending implements Catalog. The walk is lexical (filepath.WalkDir sorts each directory),
// every entry but a directory is a record (a symlink is compared by its target, and the
// walk does not enter linked directories), and each batch of entries is checked against
// the ledger with one query, so neither the tree nor the ledger is ever held in memory
// whole. An entry is pending when it is not recorded, or its size, mtime, ctime or inode
// differs from what was uploaded.
func (l *Ledger) Pending(ctx context.Context, batchSize int, fn func([]Record) error) error {
	if batchSize <= 0 {
		return fmt.Errorf("batch size must be positive, got %d", batchSize)
	}
	var (
		seen []Record // walked, not yet compared with the ledger
		out  []Record // pending, not yet handed to fn
	)
	flush := func(final bool) error {
		pending, err := l.unrecorded(ctx, seen)
		if err != nil {
			return err
		}
		seen = seen[:0]
		out = append(out, pending...)
		for len(out) >= batchSize || (final && len(out) > 0) {
			n := min(batchSize, len(out))
			batch := make([]Record, n)
			copy(batch, out[:n])
			out = append(out[:0], out[n:]...)
			if err := fn(batch); err != nil {
				return err
			}
		}
		return nil
	}
	err := filepath.WalkDir(l.source, func(path string, d fs.DirEntry, err error) error {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if err != nil {
			if path == l.source || l.walkError == nil {
				return fmt.Errorf("walk source %s: %w", l.source, err)
			}
			l.walkError(path, err)
			return nil // WalkDir skips the unreadable directory
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(l.source, path)
		if err != nil {
			return err
		}
		id := filepath.ToSlash(rel)
		if l.skip[id] {
			return nil
		}
		rec := Record{ID: id, Path: rel}
		// Every entry is a record, as it would be as a table row: the engine uploads a symlink
		// that resolves to a regular file inside the source (its target's bytes under the
		// link's key) and reports outward or dangling links, FIFOs, sockets and devices as
		// invalid or missing, so nothing the walk saw is left out of the report. A symlink is
		// compared by its target's stat, which is what the engine records when it uploads it.
		var info fs.FileInfo
		if d.Type()&fs.ModeSymlink != 0 {
			info, err = os.Stat(path)
			if err != nil {
				info, err = nil, nil // dangling or looping: pending, for the engine to report
			}
		} else {
			info, err = d.Info()
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil // vanished since the directory was read
		}
		if err != nil {
			if l.walkError == nil {
				return fmt.Errorf("walk source %s: %w", l.source, err)
			}
			l.walkError(path, err)
			return nil
		}
		if info != nil {
			rec.Size, rec.ModTime = info.Size(), info.ModTime()
			rec.ChangeTime, rec.Inode = FileIdentity(info)
		}
		seen = append(seen, rec)
		if len(seen) >= batchSize {
			return flush(false)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush(true)
}

// unrecorded returns the records whose file is not in the ledger or differs in size or
// mtime from what was uploaded.
func (l *Ledger) unrecorded(ctx context.Context, recs []Record) ([]Record, error) {
	var pending []Record
	for start := 0; start < len(recs); start += ledgerLookupChunk {
		chunk := recs[start:min(start+ledgerLookupChunk, len(recs))]
		args := make([]any, len(chunk))
		for i, r := range chunk {
			args[i] = r.ID
		}
		q := "SELECT path, size, mtime_ns, " + l.identityColumns + " FROM files WHERE path IN (?" + strings.Repeat(",?", len(chunk)-1) + ")"
		rows, err := l.db.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("read ledger %s: %w", l.path, err)
		}
		type state struct{ size, mtime, ctime, inode sql.NullInt64 }
		known := make(map[string]state, len(chunk))
		for rows.Next() {
			var (
				p string
				s state
			)
			if err := rows.Scan(&p, &s.size, &s.mtime, &s.ctime, &s.inode); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read ledger %s: %w", l.path, err)
			}
			known[p] = s
		}
		err = errors.Join(rows.Err(), rows.Close())
		if err != nil {
			return nil, fmt.Errorf("read ledger %s: %w", l.path, err)
		}
		for _, r := range chunk {
			if s, ok := known[r.ID]; ok && s.size.Valid && s.mtime.Valid && s.size.Int64 == r.Size && s.mtime.Int64 == r.ModTime.UnixNano() &&
				sameIfKnown(s.ctime, !r.ChangeTime.IsZero(), r.ChangeTime.UnixNano()) &&
				sameIfKnown(s.inode, r.Inode != 0, int64(r.Inode)) { //nolint:gosec // G115: stored as SQLite's int64, compared bit for bit
				continue
			}
			pending = append(pending, r)
		}
	}
	return pending, nil
}

// sameIfKnown compares a recorded value with the walk's when both exist. A row written before
// ctime and inode were recorded, or on a system without them, is compared by size and mtime.
func sameIfKnown(recorded sql.NullInt64, seen bool, value int64) bool {
	return !recorded.Valid || !seen || recorded.Int64 == value
}

// MarkDone implements Catalog: it records every upload (the ledger's records change only
// through it, so none is ever changed).
func (l *Ledger) MarkDone(ctx context.Context, done []Done) (changed int, err error) {
	return 0, l.record(ctx, done)
}

// record upserts each file with the size and mtime that were uploaded (Done.Size and
// Done.ModTime; the walk's values when ModTime is zero), in one transaction.
func (l *Ledger) record(ctx context.Context, done []Done) (err error) {
	if len(done) == 0 {
		return nil
	}
	if l.readOnly {
		return fmt.Errorf("record uploads in ledger %s: it was opened read-only, for a dry run", l.path)
	}
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record uploads in ledger %s: %w", l.path, err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(fmt.Errorf("record uploads in ledger %s: %w", l.path, err), ignoreDone(tx.Rollback()))
		}
	}()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO files (path, size, mtime_ns, etag, key, uploaded_at, ctime_ns, inode)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns,
			etag = excluded.etag, key = excluded.key, uploaded_at = excluded.uploaded_at,
			ctime_ns = excluded.ctime_ns, inode = excluded.inode`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, d := range done {
		size, mtime, ctime, inode := d.Size, d.ModTime, d.ChangeTime, d.Inode
		if mtime.IsZero() {
			size, mtime, ctime, inode = d.Record.Size, d.Record.ModTime, d.Record.ChangeTime, d.Record.Inode
		}
		var ctimeNS, ino sql.NullInt64
		if !ctime.IsZero() {
			ctimeNS = sql.NullInt64{Int64: ctime.UnixNano(), Valid: true}
		}
		if inode != 0 {
			ino = sql.NullInt64{Int64: int64(inode), Valid: true} //nolint:gosec // G115: stored bit for bit
		}
		at := d.UploadedAt
		if at.IsZero() {
			at = time.Now()
		}
		if _, err := stmt.ExecContext(ctx, d.ID, size, mtime.UnixNano(), d.ETag, d.Key, at.UTC().Format(time.RFC3339Nano), ctimeNS, ino); err != nil {
			return fmt.Errorf("file %s: %w", d.ID, err)
		}
	}
	return tx.Commit()
}

// Close closes the ledger and releases the lock.
func (l *Ledger) Close() error {
	var errs []error
	if l.db != nil {
		errs = append(errs, l.db.Close())
		l.db = nil
	}
	errs = append(errs, l.lock.release())
	l.lock = nil
	return errors.Join(errs...)
}

// Stream is Pending: the ledger claims nothing (its file lock keeps other runs out).
func (l *Ledger) Stream(ctx context.Context, batchSize int, fn func([]Record) error) error {
	return l.Pending(ctx, batchSize, fn)
}

// Release does nothing: the ledger claims no rows.
func (l *Ledger) Release(context.Context, []Record) error { return nil }
