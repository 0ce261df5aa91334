package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"time"
)

// Flagged streams the records already marked done, in batches of at most batchSize, in a
// stable order (keyset pagination; never loads all rows). It is what `uploader verify` and
// `uploader prune` check: the rows whose flag column is set, or the files the ledger recorded.
// Nothing is claimed or locked beyond what opening the catalog took, so on PostgreSQL it can
// run while uploaders work on the pending rows.
//
// In table mode a row whose flag is NULL or false is not flagged; any other value is (an
// integer flag column may hold 1 or another non-zero value).
func (t *Table) Flagged(ctx context.Context, batchSize int, fn func([]Record) error) error {
	if batchSize <= 0 {
		return fmt.Errorf("batch size must be positive, got %d", batchSize)
	}
	var last any
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch, next, err := t.flaggedBatch(ctx, last, batchSize)
		if err != nil {
			return t.redact(fmt.Errorf("read flagged rows of table %q: %w", t.cfg.Table, err))
		}
		if next == nil {
			return nil
		}
		last = next
		if err := fn(batch); err != nil {
			return err
		}
	}
}

// flaggedBatch reads the next window of flagged rows after last (nil: from the start). The
// rows are closed before the batch is handed out, so fn never holds a cursor open.
func (t *Table) flaggedBatch(ctx context.Context, last any, batchSize int) (batch []Record, next any, err error) {
	d := t.dialect
	id, flag := d.ident(t.cfg.IDColumn), d.ident(t.cfg.FlagColumn)
	// "flag <> false" is NULL, hence not true, for a NULL flag: exactly the complement of
	// pendingWhere for rows with an id.
	q := "SELECT " + id + ", " + d.ident(t.cfg.PathColumn) + " FROM " + d.ident(t.cfg.Table) +
		" WHERE " + flag + " <> " + t.flagFalse + " AND " + id + " IS NOT NULL"
	var args []any
	if last != nil {
		q += " AND " + id + " > " + d.param(1)
		args = append(args, last)
	}
	q += " ORDER BY " + id + " LIMIT " + strconv.Itoa(batchSize)
	rows, err := t.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			v    any
			path sql.NullString
		)
		if err := rows.Scan(&v, &path); err != nil {
			return nil, nil, err
		}
		v = t.keysetID(v)
		batch = append(batch, t.record(v, path.String))
		next = v
	}
	return batch, next, rows.Err()
}

// Flagged streams the files the ledger recorded as uploaded, in path order, with the size and
// modification time they had when they were uploaded. Record.Path is the path relative to the
// source root, as in Pending.
func (l *Ledger) Flagged(ctx context.Context, batchSize int, fn func([]Record) error) error {
	if batchSize <= 0 {
		return fmt.Errorf("batch size must be positive, got %d", batchSize)
	}
	last, first := "", true
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch, err := l.flaggedBatch(ctx, last, first, batchSize)
		if err != nil {
			return fmt.Errorf("read ledger %s: %w", l.path, err)
		}
		if len(batch) == 0 {
			return nil
		}
		last, first = batch[len(batch)-1].ID, false
		if err := fn(batch); err != nil {
			return err
		}
	}
}

func (l *Ledger) flaggedBatch(ctx context.Context, last string, first bool, batchSize int) (batch []Record, err error) {
	q := "SELECT path, size, mtime_ns FROM files"
	var args []any
	if !first {
		q += " WHERE path > ?"
		args = append(args, last)
	}
	q += " ORDER BY path LIMIT " + strconv.Itoa(batchSize)
	rows, err := l.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, rows.Close()) }()
	for rows.Next() {
		var (
			p           string
			size, mtime sql.NullInt64
		)
		if err := rows.Scan(&p, &size, &mtime); err != nil {
			return nil, err
		}
		r := Record{ID: p, Path: filepath.FromSlash(p), Size: size.Int64}
		if mtime.Valid {
			r.ModTime = time.Unix(0, mtime.Int64)
		}
		batch = append(batch, r)
	}
	return batch, rows.Err()
}
