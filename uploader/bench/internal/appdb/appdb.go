// Package appdb builds the application tables the uploader works from in the benchmark: one
// row per corpus file, flag false, in SQLite and in PostgreSQL, and checks them after a run.
package appdb

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // registers "sqlite"

	"github.com/staticmedia/staticmedia/uploader/bench/internal/corpus"
)

// The application table, as the uploader's flags name it.
const (
	Table      = "media"
	PathColumn = "path"
	FlagColumn = "on_s3"
)

const sqliteSchema = `CREATE TABLE media (
	id    INTEGER PRIMARY KEY,
	path  TEXT    NOT NULL,
	on_s3 BOOLEAN NOT NULL DEFAULT 0
)`

// SQLiteTemplate returns a SQLite database holding the application table for s, created once
// next to the set (s.Root/app.sqlite) and reused afterwards. Runs work on copies of it.
func SQLiteTemplate(ctx context.Context, s *corpus.Set) (string, error) {
	name := filepath.Join(s.Root, "app.sqlite")
	return name, buildOnce(name, func(tmp string) error {
		return fillSQLite(ctx, tmp, len(s.Files), func(i int) string { return s.Files[i].Path })
	})
}

// SQLiteRows returns a SQLite database with rows pending records whose paths cycle through the
// files of s: the memory check needs far more rows than files, and real files behind them.
func SQLiteRows(ctx context.Context, cacheDir string, s *corpus.Set, rows int) (string, error) {
	name := filepath.Join(cacheDir, fmt.Sprintf("rows-%d-%s.sqlite", rows, s.Params.Key()))
	return name, buildOnce(name, func(tmp string) error {
		return fillSQLite(ctx, tmp, rows, func(i int) string { return s.Files[i%len(s.Files)].Path })
	})
}

// buildOnce runs build on a temporary name and renames the result into place, unless name
// already exists.
func buildOnce(name string, build func(tmp string) error) error {
	if _, err := os.Stat(name); err == nil {
		return nil
	}
	tmp := name + ".tmp"
	_ = os.Remove(tmp)
	if err := build(tmp); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, name)
}

func fillSQLite(ctx context.Context, name string, rows int, path func(int) string) error {
	db, err := sql.Open("sqlite", name)
	if err != nil {
		return fmt.Errorf("appdb: opening %s: %w", name, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, sqliteSchema); err != nil {
		return fmt.Errorf("appdb: creating the table in %s: %w", name, err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, "INSERT INTO media (id, path, on_s3) VALUES (?, ?, 0)")
	if err != nil {
		return err
	}
	for i := range rows {
		if _, err := stmt.ExecContext(ctx, i+1, path(i)); err != nil {
			return fmt.Errorf("appdb: filling %s: %w", name, err)
		}
	}
	return tx.Commit()
}

// CopyFile copies a template database to dst, for one run.
func CopyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Counts are a table's rows and how many of them are still pending (flag false or NULL).
type Counts struct{ Total, Pending int64 }

const countQuery = "SELECT count(*), count(*) FILTER (WHERE on_s3 IS NOT TRUE) FROM media"

// SQLiteCounts reads the counts of the table in the SQLite database at name.
func SQLiteCounts(ctx context.Context, name string) (Counts, error) {
	db, err := sql.Open("sqlite", name)
	if err != nil {
		return Counts{}, err
	}
	defer db.Close()
	var c Counts
	if err := db.QueryRowContext(ctx, countQuery).Scan(&c.Total, &c.Pending); err != nil {
		return Counts{}, fmt.Errorf("appdb: counting rows in %s: %w", name, err)
	}
	return c, nil
}

// Postgres holds one template table per set in a PostgreSQL database and recreates the
// application table from a template before each run.
type Postgres struct {
	dsn    string
	loaded map[string]bool // template names
}

// NewPostgres works in the database at dsn.
func NewPostgres(dsn string) *Postgres { return &Postgres{dsn: dsn, loaded: map[string]bool{}} }

// DSN is the database's connection string (no password: the throwaway cluster trusts loopback).
func (p *Postgres) DSN() string { return p.dsn }

// Reset makes the application table hold exactly s's rows, all pending, freshly vacuumed and
// analysed, so every run starts from the same state.
func (p *Postgres) Reset(ctx context.Context, s *corpus.Set) error {
	conn, err := pgx.Connect(ctx, p.dsn)
	if err != nil {
		return fmt.Errorf("appdb: connecting to postgres: %w", err)
	}
	defer conn.Close(ctx)
	tpl := pgx.Identifier{"tpl_" + s.Params.Key()}.Sanitize()
	if !p.loaded[tpl] {
		if _, err := conn.Exec(ctx, "CREATE TABLE "+tpl+" (id bigint PRIMARY KEY, path text NOT NULL)"); err != nil {
			return fmt.Errorf("appdb: creating the template table: %w", err)
		}
		rows := make([][]any, len(s.Files))
		for i, f := range s.Files {
			rows[i] = []any{int64(i + 1), f.Path}
		}
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{"tpl_" + s.Params.Key()}, []string{"id", "path"}, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("appdb: loading the template table: %w", err)
		}
		p.loaded[tpl] = true
	}
	for _, stmt := range []string{
		"DROP TABLE IF EXISTS media",
		"CREATE TABLE media (id bigint PRIMARY KEY, path text NOT NULL, on_s3 boolean NOT NULL DEFAULT false)",
		"INSERT INTO media (id, path) SELECT id, path FROM " + tpl,
		"VACUUM ANALYZE media",
		"CHECKPOINT", // so the previous run's writes are not flushed during this one
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("appdb: resetting the application table (%s): %w", stmt, err)
		}
	}
	return nil
}

// Counts reads the application table's counts.
func (p *Postgres) Counts(ctx context.Context) (Counts, error) {
	conn, err := pgx.Connect(ctx, p.dsn)
	if err != nil {
		return Counts{}, fmt.Errorf("appdb: connecting to postgres: %w", err)
	}
	defer conn.Close(ctx)
	var c Counts
	if err := conn.QueryRow(ctx, countQuery).Scan(&c.Total, &c.Pending); err != nil {
		return Counts{}, fmt.Errorf("appdb: counting rows: %w", err)
	}
	return c, nil
}

// Check says whether a finished run flagged every row.
func (c Counts) Check(wantTotal int) error {
	switch {
	case c.Total != int64(wantTotal):
		return fmt.Errorf("the table has %d rows, want %d", c.Total, wantTotal)
	case c.Pending != 0:
		return fmt.Errorf("%d of %d rows are still pending after the run", c.Pending, c.Total)
	}
	return nil
}
