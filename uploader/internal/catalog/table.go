package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"golang.org/x/sync/semaphore"
)

// TableConfig describes the application table that lists the files.
type TableConfig struct {
	// DSN is postgres://..., postgresql://..., mysql://user:pass@host:port/db or sqlite:PATH.
	DSN string
	// Table may be schema-qualified (schema.table).
	Table string
	// IDColumn is the keyset pagination column; "id" when empty. It must be unique.
	IDColumn string
	// PathColumn holds the file path relative to the source root (absolute inside it is
	// accepted by the engine too).
	PathColumn string
	// FlagColumn is false or NULL while the file is pending; MarkDone sets it true. Boolean
	// or integer.
	FlagColumn string
	// ETagColumn and UploadedAtColumn are optional; MarkDone fills them when set.
	ETagColumn       string
	UploadedAtColumn string
	// LockWait is how long OpenTable waits for another uploader to release a SQLite
	// database before it returns a *LockedError; 0 means fail at once.
	LockWait time.Duration
	// ReadOnly opens the table for a dry run: MarkDone fails, and a SQLite database is
	// opened read-only, without the overlap lock or its lock file.
	ReadOnly bool
}

// Table is a Catalog backed by the application's own table.
type Table struct {
	db       *sql.DB
	dialect  dialect
	cfg      TableConfig
	password string
	lock     *fileLock // SQLite only

	// claim is the PostgreSQL or MySQL session that holds the advisory locks of the batch
	// being worked on (see DESIGN.md); nil for SQLite and for a read-only (dry run) table,
	// which claims nothing.
	claim *sql.Conn
	// lockSpace names the table in the locks whatever its spelling: its OID as an int4 on
	// PostgreSQL, "database.table" on MySQL.
	lockSpace any

	flagTrue, flagFalse string // literals that suit the flag column's type

	// claimMu serialises the claim session's statements: Stream claims from one goroutine
	// while MarkDone and Release hand rows back from others. It guards held.
	claimMu sync.Mutex
	// held maps the id (Record.ID) of every row claimed and not yet handed back to its lock
	// key: hashtext(id::text) on PostgreSQL, the lock name on MySQL.
	held map[string]heldRow
	// slots bounds held to claimChunk rows in Stream.
	slots *semaphore.Weighted

	// beforeRecheck, when set (by tests), runs between claiming a window and re-reading
	// which of its rows are still pending: the moment another uploader's commit can slip in.
	beforeRecheck func()
}

// OpenTable connects, checks that the table and columns exist, and for SQLite takes the
// overlap lock (not with cfg.ReadOnly).
func OpenTable(ctx context.Context, cfg TableConfig) (*Table, error) {
	if cfg.IDColumn == "" {
		cfg.IDColumn = "id"
	}
	if err := ValidateIdentifier(cfg.Table); err != nil {
		return nil, configErr("table", fmt.Errorf("table name: %w", err))
	}
	for _, c := range cfg.columns() {
		if c.name == "" {
			if c.required {
				return nil, configErr(c.setting(), fmt.Errorf("%s column is not set", c.role))
			}
			continue
		}
		if err := validateColumn(c.name); err != nil {
			return nil, configErr(c.setting(), fmt.Errorf("%s column: %w", c.role, err))
		}
	}
	dbi, err := parseDSN(cfg.DSN)
	if err != nil {
		return nil, configErr("db", err)
	}
	t := &Table{dialect: dbi.dialect, cfg: cfg, password: dbi.password, flagTrue: "TRUE", flagFalse: "FALSE"}
	switch {
	case dbi.sqlitePath != "" && cfg.ReadOnly:
		dbi.dataSource = sqliteReadOnlyDataSource(dbi.sqlitePath)
	case dbi.sqlitePath != "":
		if t.lock, err = acquireLock(ctx, dbi.sqlitePath, cfg.LockWait); err != nil {
			return nil, err
		}
	}
	if err := t.open(ctx, dbi); err != nil {
		return nil, errors.Join(t.redact(err), t.Close())
	}
	return t, nil
}

func (t *Table) open(ctx context.Context, dbi database) error {
	if dbi.mysql != nil {
		connector, err := mysql.NewConnector(dbi.mysql)
		if err != nil {
			return configErr("db", fmt.Errorf("mysql dsn %s: %w", RedactDSN(t.cfg.DSN), err))
		}
		t.db = sql.OpenDB(connector)
	} else {
		db, err := sql.Open(dbi.driverName, dbi.dataSource)
		if err != nil {
			return configErr("db", fmt.Errorf("open %s: %w", RedactDSN(t.cfg.DSN), err))
		}
		t.db = db
	}
	if t.dialect == sqliteDialect {
		// One connection: SQLite has a single writer anyway, and the uploader's own
		// statements then never wait on each other's locks.
		t.db.SetMaxOpenConns(1)
	}
	if err := t.db.PingContext(ctx); err != nil {
		err = fmt.Errorf("connect to %s: %w", RedactDSN(t.cfg.DSN), err)
		if unusableDSN(err) {
			return configErr("db", err)
		}
		return err
	}
	if err := t.checkColumns(ctx); err != nil {
		return err
	}
	if t.dialect != sqliteDialect && !t.cfg.ReadOnly {
		if err := t.resolveLockSpace(ctx); err != nil {
			return err
		}
		conn, err := t.db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("connect to %s: %w", RedactDSN(t.cfg.DSN), err)
		}
		t.claim = conn
		t.held = map[string]heldRow{}
		t.slots = semaphore.NewWeighted(claimChunk)
	}
	return nil
}

// resolveLockSpace names the table for the claims the way the server resolves it, so that
// "photos", "public.photos" and any other spelling of one table claim the same rows.
func (t *Table) resolveLockSpace(ctx context.Context) error {
	var q string
	args := []any{t.dialect.ident(t.cfg.Table)}
	if t.dialect == mysqlDialect {
		// Table names are case-sensitive unless lower_case_table_names folds them.
		schema, name, qualified := strings.Cut(t.cfg.Table, ".")
		var given any // NULL: the connection's database
		if qualified {
			given = schema
		} else {
			name = schema
		}
		q = "SELECT CONCAT(COALESCE(?, DATABASE()), '.', ?)"
		q = "SELECT IF(@@lower_case_table_names > 0, LOWER(x.n), x.n) FROM (" + q + " AS n) x"
		args = []any{given, name}
	} else {
		// An OID is an unsigned 32-bit number; the int4 cast keeps its bits, which is all a
		// lock key needs.
		q = "SELECT to_regclass($1)::oid::int4"
	}
	var space any
	if err := t.db.QueryRowContext(ctx, q, args...).Scan(&space); err != nil {
		return fmt.Errorf("resolve table %q: %w", t.cfg.Table, err)
	}
	if space == nil {
		return configErr("table", fmt.Errorf("table %q not found", t.cfg.Table))
	}
	t.lockSpace = nativeID(space)
	return nil
}

// column is a configured column and what it is for, for error messages.
type column struct {
	role     string
	name     string
	required bool
}

// setting is the flag that names the column.
func (c column) setting() string { return c.role + "-column" }

func (c TableConfig) columns() []column {
	return []column{
		{"id", c.IDColumn, true},
		{"path", c.PathColumn, true},
		{"flag", c.FlagColumn, true},
		{"etag", c.ETagColumn, false},
		{"uploaded-at", c.UploadedAtColumn, false},
	}
}

// checkColumns makes sure the table and every configured column exist, with a query that
// returns no rows, and picks the flag literals for the flag column's type.
func (t *Table) checkColumns(ctx context.Context) error {
	table := t.dialect.ident(t.cfg.Table)
	rows, err := t.db.QueryContext(ctx, "SELECT * FROM "+table+" LIMIT 0")
	if err != nil {
		err = fmt.Errorf("table %q cannot be read (does it exist, and may this user select from it?): %w", t.cfg.Table, err)
		if missingObject(err) {
			return configErr("table", err)
		}
		return err
	}
	have, err := rows.Columns()
	rows.Close()
	if err != nil {
		return fmt.Errorf("table %q: %w", t.cfg.Table, err)
	}
	for _, c := range t.cfg.columns() {
		if c.name == "" {
			continue
		}
		// The column is qualified: SQLite reads an unknown unqualified "name" as a string
		// literal, which would make any misspelt column look present.
		rows, err := t.db.QueryContext(ctx, "SELECT c."+t.dialect.ident(c.name)+" FROM "+table+" AS c LIMIT 0")
		if err != nil {
			err = fmt.Errorf("%s column %q not found in table %q (its columns: %s): %w",
				c.role, c.name, t.cfg.Table, strings.Join(have, ", "), err)
			if missingObject(err) {
				return configErr(c.setting(), err)
			}
			return err
		}
		types, err := rows.ColumnTypes()
		rows.Close()
		if err != nil {
			return fmt.Errorf("%s column %q of table %q: %w", c.role, c.name, t.cfg.Table, err)
		}
		if c.role == "flag" && t.dialect == postgresDialect {
			// PostgreSQL compares integers with booleans only after a cast; MySQL and
			// SQLite treat TRUE and FALSE as 1 and 0 anyway.
			switch typ := types[0].DatabaseTypeName(); typ {
			case "BOOL":
			case "INT2", "INT4", "INT8":
				t.flagTrue, t.flagFalse = "1", "0"
			default:
				return configErr("flag-column", fmt.Errorf("flag column %q of table %q has type %s: use a boolean or integer column", c.name, t.cfg.Table, strings.ToLower(typ)))
			}
		}
	}
	return nil
}

// redact hides the DSN password in err.
func (t *Table) redact(err error) error { return redactErr(err, t.password) }

// pendingWhere is the condition for a pending row. NULL ids are left out: they could never
// be marked done, so they would come back on every run.
func (t *Table) pendingWhere() string {
	flag, id := t.dialect.ident(t.cfg.FlagColumn), t.dialect.ident(t.cfg.IDColumn)
	return fmt.Sprintf("(%s IS NULL OR %s = %s) AND %s IS NOT NULL", flag, flag, t.flagFalse, id)
}

// Pending implements Catalog with keyset pagination on the id column. The last id is kept
// as the driver returned it, so integer ids compare as integers and text ids in the
// column's collation, the same order ORDER BY uses. Rows appended during the run are
// picked up when their id sorts after the last one handed out.
//
// On PostgreSQL and MySQL (unless read-only) each batch is claimed for as long as fn runs
// (DESIGN.md, "Overlapping runs"): fn should upload the batch and MarkDone it before it
// returns, and a batch holds at most claimChunk rows, fewer when rows other uploaders hold
// are skipped.
// Pending must not run concurrently with itself on one Table.
func (t *Table) Pending(ctx context.Context, batchSize int, fn func([]Record) error) error {
	return t.pending(ctx, batchSize, false, fn)
}

// pending is Pending, and with hold Stream: the claims of a batch outlive fn.
func (t *Table) pending(ctx context.Context, batchSize int, hold bool, fn func([]Record) error) error {
	if batchSize <= 0 {
		return fmt.Errorf("batch size must be positive, got %d", batchSize)
	}
	if t.claim != nil {
		batchSize = min(batchSize, claimChunk)
		if hold {
			batchSize = min(batchSize, claimWindow)
		}
	}
	var last any
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var (
			batch []Record
			next  any
			err   error
		)
		switch {
		case t.claim != nil && hold:
			// Wait until a window's worth of claims was handed back, so at most claimChunk
			// rows are claimed at once.
			if err := t.slots.Acquire(ctx, int64(batchSize)); err != nil {
				return err
			}
			batch, next, err = t.claimBatch(ctx, last, batchSize)
			t.holdSlots(batch)
			t.slots.Release(int64(batchSize - len(batch)))
		case t.claim != nil:
			batch, next, err = t.claimBatch(ctx, last, batchSize)
		default:
			batch, next, err = t.selectBatch(ctx, last, batchSize)
		}
		if err != nil {
			return t.redact(fmt.Errorf("read pending rows of table %q: %w", t.cfg.Table, err))
		}
		if next == nil {
			return nil
		}
		last = next
		if len(batch) == 0 {
			continue // every row of this window was claimed by another uploader
		}
		err = fn(batch)
		if t.claim != nil && !hold {
			err = errors.Join(err, t.redact(t.releaseClaims(ctx)))
		}
		if err != nil {
			return err
		}
	}
}

// windowSQL selects the next batchSize pending rows after the last id (if any), as
// columns k (id) and p (path).
func (t *Table) windowSQL(afterParam string, batchSize int) string {
	id := t.dialect.ident(t.cfg.IDColumn)
	q := "SELECT " + id + " AS k, " + t.dialect.ident(t.cfg.PathColumn) + " AS p FROM " +
		t.dialect.ident(t.cfg.Table) + " WHERE " + t.pendingWhere()
	if afterParam != "" {
		q += " AND " + id + " > " + afterParam
	}
	return q + " ORDER BY " + id + " LIMIT " + strconv.Itoa(batchSize)
}

// selectBatch reads one window. next is the window's last id, nil when it was empty.
func (t *Table) selectBatch(ctx context.Context, last any, batchSize int) (batch []Record, next any, err error) {
	q, args := t.windowSQL("", batchSize), []any(nil)
	if last != nil {
		q, args = t.windowSQL(t.dialect.param(1), batchSize), []any{last}
	}
	rows, err := t.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id   any
			path sql.NullString
		)
		if err := rows.Scan(&id, &path); err != nil {
			return nil, nil, err
		}
		id = t.keysetID(id)
		batch = append(batch, t.record(id, path.String))
		next = id
	}
	return batch, next, rows.Err()
}

// claimBatch reads one window and claims its rows with advisory locks on the claim
// session. Rows held by another uploader are skipped. A row can be flagged by the
// uploader that held it between our window's snapshot and our lock, so the rows still
// pending are read again after locking, in a new snapshot.
func (t *Table) claimBatch(ctx context.Context, last any, batchSize int) (batch []Record, next any, err error) {
	t.claimMu.Lock()
	defer t.claimMu.Unlock()
	args := []any{t.lockSpace}
	if t.dialect == mysqlDialect {
		args = append(args, t.lockSpace) // MySQL's parameters are positional: the lock key's
	}
	after := ""
	if last != nil {
		args, after = append(args, last), t.dialect.param(2)
	}
	q := "SELECT c.k, c.p, " + t.tryLockSQL() + ", " + t.lockKeySQL() + " FROM (" + t.windowSQL(after, batchSize) + ") c ORDER BY c.k"
	rows, err := t.claim.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, nil, err
	}
	var (
		first   any
		claimed []Record
	)
	for rows.Next() {
		var (
			id     any
			path   sql.NullString
			locked sql.NullBool // MySQL's GET_LOCK answers NULL on an error
			key    any
		)
		if err := rows.Scan(&id, &path, &locked, &key); err != nil {
			rows.Close()
			return nil, nil, err
		}
		id = t.keysetID(id)
		if first == nil {
			first = id
		}
		next = id
		if locked.Valid && locked.Bool {
			r := t.record(id, path.String)
			claimed = append(claimed, r)
			h := t.held[r.ID]
			h.key, h.n = nativeID(key), h.n+1
			t.held[r.ID] = h
		}
	}
	if err := rows.Close(); err != nil {
		return nil, nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if len(claimed) == 0 {
		return nil, next, nil
	}
	if t.beforeRecheck != nil {
		t.beforeRecheck()
	}
	id := t.dialect.ident(t.cfg.IDColumn)
	recheck := "SELECT " + id + " FROM " + t.dialect.ident(t.cfg.Table) + " WHERE " + t.pendingWhere() +
		" AND " + id + " >= " + t.dialect.param(1) + " AND " + id + " <= " + t.dialect.param(2)
	rows, err = t.claim.QueryContext(ctx, recheck, first, next)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	still := make(map[string]bool, len(claimed))
	for rows.Next() {
		var v any
		if err := rows.Scan(&v); err != nil {
			return nil, nil, err
		}
		still[idText(t.keysetID(v))] = true
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	var gone []string
	for _, r := range claimed {
		if still[r.ID] {
			batch = append(batch, r)
		} else {
			gone = append(gone, r.ID)
		}
	}
	// The rows flagged meanwhile are handed back at once rather than pile up until the
	// batch is done (or until Close, when there is none).
	return batch, next, t.unlock(ctx, gone)
}

// claimChunk bounds the rows, and so the advisory locks, one uploader claims at a time on
// PostgreSQL and MySQL, whatever the page size and the concurrency: a PostgreSQL server's
// lock table has max_locks_per_transaction x max_connections slots (6,400 by default),
// shared with the application. It also bounds the files in flight at once in that mode.
const claimChunk = 500

// tryLockSQL is the expression that tries, without waiting, to take the advisory lock of
// row c.k of the table whose lockSpace is the first parameter, and says whether it did.
// PostgreSQL's advisory locks live in the current database already and are keyed on the
// table's OID; MySQL's named locks are server-wide and at most 64 characters, hence the
// database name in lockSpace and the MD5.
func (t *Table) tryLockSQL() string {
	if t.dialect == mysqlDialect {
		return "GET_LOCK(CONCAT('staticmedia:', MD5(CONCAT(?, ':', c.k))), 0)"
	}
	return "pg_try_advisory_lock($1::int4, hashtext(c.k::text))"
}

// releaseClaims drops every advisory lock of the claim session. It runs even when ctx
// is cancelled: locks left behind would keep other uploaders off these rows until this
// process exits.
func (t *Table) releaseClaims(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	unlock := "SELECT pg_advisory_unlock_all()"
	if t.dialect == mysqlDialect {
		unlock = "SELECT RELEASE_ALL_LOCKS()"
	}
	t.claimMu.Lock()
	defer t.claimMu.Unlock()
	if _, err := t.claim.ExecContext(ctx, unlock); err != nil {
		return fmt.Errorf("release claimed rows of table %q: %w", t.cfg.Table, err)
	}
	clear(t.held)
	return nil
}

// keysetID is nativeID on MySQL, whose driver returns text as []byte. The SQLite and
// PostgreSQL drivers return text as string already: a []byte is a BLOB or bytea id, which
// compares with a binary bound, never with text.
func (t *Table) keysetID(v any) any {
	if t.dialect == mysqlDialect {
		return nativeID(v)
	}
	return v
}

// record is the Record of a row whose id was scanned as id (after keysetID).
func (t *Table) record(id any, path string) Record {
	r := Record{ID: idText(id), Path: path}
	if _, binary := id.([]byte); binary || t.dialect == sqliteDialect {
		r.idValue = id
	}
	return r
}

// idArg is the id of r as MarkDone sends it: as text (see markDone), or as it was read on
// SQLite and for a binary id.
func (t *Table) idArg(r Record) any {
	if r.idValue != nil {
		return r.idValue
	}
	return r.ID
}

// nativeID normalises a scanned MySQL id. []byte (MySQL text) becomes string so
// that, sent back as the keyset bound, it compares in the column's collation rather than
// as binary.
func nativeID(v any) any {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return v
}

// markDoneChunk bounds the ids of one "IN (...)" UPDATE, far below every engine's limit on
// parameters (SQLite 32,766; PostgreSQL and MySQL 65,535).
const markDoneChunk = 500

// idText renders an id for Record.ID.
func idText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case []byte:
		return fmt.Sprintf("x'%x'", x)
	default:
		return fmt.Sprint(x)
	}
}

// MarkDone implements Catalog, in one transaction. A flag is written only where the row still
// holds the path that was uploaded and is still pending, so a row the application changed while
// its file was on the wire (a new path, or flagged) is counted in changed and left for the next
// run. The same path with a reset flag is flagged: the engine compared the file's size and
// mtime after the upload, so what S3 holds is the file under that path (an application that
// rewrites a file in place should write a new name; see README). With only the flag to set, one
// UPDATE per markDoneChunk records; with an etag or uploaded-at column, whose values differ per
// row, one prepared UPDATE per record.
func (t *Table) MarkDone(ctx context.Context, done []Done) (changed int, err error) {
	if len(done) == 0 {
		return 0, nil
	}
	if t.cfg.ReadOnly {
		return 0, fmt.Errorf("mark %d rows done in table %q: it was opened read-only, for a dry run", len(done), t.cfg.Table)
	}
	changed, err = t.markDone(ctx, done)
	if err != nil {
		return 0, t.redact(fmt.Errorf("mark %d rows done in table %q: %w", len(done), t.cfg.Table, err))
	}
	// The flags are committed: the claims can go (the rows left unflagged as changed too;
	// the next run reads them again). A claim that cannot be dropped is no reason to report
	// committed flags as failed: its session is broken, so the server drops it with the
	// session, and the next claim on that session fails and stops the run.
	recs := make([]Record, len(done))
	for i, d := range done {
		recs[i] = d.Record
	}
	_ = t.Release(ctx, recs)
	return changed, nil
}

// samePath is the condition that the path column holds the parameter p, compared byte for
// byte: MySQL's default collations ignore case and trailing spaces, a SQLite column may be
// declared NOCASE, and a PostgreSQL column may have a nondeterministic collation (case- or
// normalization-insensitive). On MySQL the column is converted to utf8mb4 first, the
// character set the path was read in: the bytes of a latin1 column's "é" are not UTF-8.
func (t *Table) samePath(p string) string {
	col := t.dialect.ident(t.cfg.PathColumn)
	switch t.dialect {
	case mysqlDialect:
		return "CAST(CONVERT(" + col + " USING utf8mb4) AS BINARY) = CAST(" + p + " AS BINARY)"
	case sqliteDialect:
		return col + " = " + p + " COLLATE BINARY"
	default:
		return col + `::text COLLATE "C" = ` + p
	}
}

func (t *Table) markDone(ctx context.Context, done []Done) (changed int, err error) {
	d := t.dialect
	set := []string{d.ident(t.cfg.FlagColumn) + " = " + t.flagTrue}
	n := 0
	if t.cfg.ETagColumn != "" {
		n++
		set = append(set, d.ident(t.cfg.ETagColumn)+" = "+d.param(n))
	}
	if t.cfg.UploadedAtColumn != "" {
		n++
		set = append(set, d.ident(t.cfg.UploadedAtColumn)+" = "+d.param(n))
	}
	flag, id := d.ident(t.cfg.FlagColumn), d.ident(t.cfg.IDColumn)
	update := "UPDATE " + d.ident(t.cfg.Table) + " SET " + strings.Join(set, ", ") +
		" WHERE (" + flag + " IS NULL OR " + flag + " = " + t.flagFalse + ") AND "

	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, ignoreDone(tx.Rollback()))
		}
	}()
	if n == 0 {
		// Only the flag: the same SET for every row, so a few statements do the whole batch
		// (a round trip and a statement execution per row was most of the database's work).
		// Each row is matched on its id and path; the engines turn the ORs of id equalities
		// into lookups on the id's index.
		for start := 0; start < len(done); start += markDoneChunk {
			chunk := done[start:min(start+markDoneChunk, len(done))]
			// The id IN list comes first so every engine looks the rows up by the id's index:
			// modernc's SQLite scanned the whole table for the ORs alone (17 ms per batch of
			// 100 flags on a table of 1,000,000 rows).
			in := make([]string, len(chunk))
			match := make([]string, len(chunk))
			args := make([]any, 0, 3*len(chunk))
			for i, r := range chunk {
				in[i] = d.param(i + 1)
				args = append(args, t.idArg(r.Record))
			}
			for i, r := range chunk {
				match[i] = "(" + id + " = " + d.param(len(chunk)+2*i+1) + " AND " + t.samePath(d.param(len(chunk)+2*i+2)) + ")"
				args = append(args, t.idArg(r.Record), r.Path) // the id as text; see below
			}
			res, err := tx.ExecContext(ctx, update+id+" IN ("+strings.Join(in, ", ")+") AND ("+strings.Join(match, " OR ")+")", args...)
			if err != nil {
				return 0, fmt.Errorf("rows %s..%s: %w", chunk[0].ID, chunk[len(chunk)-1].ID, err)
			}
			flagged, err := res.RowsAffected()
			if err != nil {
				return 0, fmt.Errorf("rows %s..%s: %w", chunk[0].ID, chunk[len(chunk)-1].ID, err)
			}
			changed += len(chunk) - int(flagged)
		}
		return changed, tx.Commit()
	}
	stmt, err := tx.PrepareContext(ctx, update+id+" = "+d.param(n+1)+" AND "+t.samePath(d.param(n+2)))
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	for _, r := range done {
		args := make([]any, 0, 4)
		if t.cfg.ETagColumn != "" {
			args = append(args, r.ETag)
		}
		if t.cfg.UploadedAtColumn != "" {
			args = append(args, t.timeArg(r.UploadedAt))
		}
		// The id goes back as text: PostgreSQL parses it as the column's type, and MySQL
		// and SQLite convert it for integer columns, so no native value needs to travel
		// through the engine (SQLite gets it as it was read: see Record.idValue).
		args = append(args, t.idArg(r.Record), r.Path)
		res, err := stmt.ExecContext(ctx, args...)
		if err != nil {
			return 0, fmt.Errorf("row %s: %w", r.ID, err)
		}
		flagged, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("row %s: %w", r.ID, err)
		}
		if flagged == 0 {
			changed++
		}
	}
	return changed, tx.Commit()
}

// timeArg formats an upload time for the uploaded-at column. PostgreSQL gets text, which it
// parses into timestamp, timestamptz or keeps in a text column; the MySQL and SQLite
// drivers format time.Time themselves (UTC).
func (t *Table) timeArg(at time.Time) any {
	if at.IsZero() {
		at = time.Now()
	}
	at = at.UTC()
	if t.dialect == postgresDialect {
		return at.Format("2006-01-02 15:04:05.999999Z07:00")
	}
	return at
}

// ignoreDone drops the error of a rollback after the transaction already ended.
func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// Close releases the claim session, the connection pool and the lock.
func (t *Table) Close() error {
	var errs []error
	if t.claim != nil {
		errs = append(errs, t.claim.Close())
		t.claim = nil
	}
	if t.db != nil {
		errs = append(errs, t.db.Close())
		t.db = nil
	}
	errs = append(errs, t.lock.release())
	t.lock = nil
	return t.redact(errors.Join(errs...))
}
