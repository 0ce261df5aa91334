package catalog

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// tableEngine is one SQL engine the Table suite runs on.
type tableEngine struct {
	name string
	// mediaTable is the int-id table of testdata/<name>/schema.sql (schema-qualified on
	// PostgreSQL); media_text is the text-id one everywhere.
	mediaTable string
	// newDSN returns the DSN of a fresh database with testdata/<name>/schema.sql loaded.
	newDSN func(t *testing.T) string
	// heldLocks, where the engine can tell, counts the advisory locks held in the server.
	heldLocks func(t *testing.T, db *sql.DB) int
}

// seedRows is how many rows each test table gets. Row i's flag is true when i%4 == 0,
// NULL when i%4 == 1 and false otherwise, so 18 of 23 are pending.
const seedRows = 23

func seededPending(textIDs bool) []string {
	var ids []string
	for i := 1; i <= seedRows; i++ {
		if i%4 != 0 {
			ids = append(ids, seedID(i, textIDs))
		}
	}
	return ids
}

// seedID is row i's id: the number, or text whose order is not the numbers' order
// ("f-10" sorts before "f-2").
func seedID(i int, text bool) string {
	if text {
		return fmt.Sprintf("f-%d", i)
	}
	return strconv.Itoa(i)
}

// openRaw opens dsn directly, for setting up and inspecting test databases.
func openRaw(t *testing.T, dsn string) (*sql.DB, dialect) {
	t.Helper()
	dbi, err := parseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	var db *sql.DB
	if dbi.mysql != nil {
		// The schema files hold several statements.
		cfg := dbi.mysql.Clone()
		cfg.MultiStatements = true
		connector, err := mysql.NewConnector(cfg)
		if err != nil {
			t.Fatal(err)
		}
		db = sql.OpenDB(connector)
	} else if db, err = sql.Open(dbi.driverName, dbi.dataSource); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, dbi.dialect
}

// loadSchema runs testdata/<engine>/schema.sql and seeds both tables.
func loadSchema(t *testing.T, engine, mediaTable, dsn string) {
	t.Helper()
	schema, err := os.ReadFile(filepath.Join("testdata", engine, "schema.sql"))
	if err != nil {
		t.Fatal(err)
	}
	db, d := openRaw(t, dsn)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, string(schema)); err != nil {
		t.Fatalf("load schema: %v", err)
	}
	insertMedia := fmt.Sprintf("INSERT INTO %s (id, file_path, hosted) VALUES (%s, %s, %s)", d.ident(mediaTable), d.param(1), d.param(2), d.param(3))
	insertText := fmt.Sprintf("INSERT INTO media_text (code, file_path, hosted) VALUES (%s, %s, %s)", d.param(1), d.param(2), d.param(3))
	for i := 1; i <= seedRows; i++ {
		var flag, intFlag any // NULL
		switch i % 4 {
		case 0:
			flag, intFlag = true, 1
		case 1:
		default:
			flag, intFlag = false, 0
		}
		path := fmt.Sprintf("img/%02d.jpg", i)
		if _, err := db.ExecContext(ctx, insertMedia, i, path, flag); err != nil {
			t.Fatalf("seed media: %v", err)
		}
		if _, err := db.ExecContext(ctx, insertText, seedID(i, true), path, intFlag); err != nil {
			t.Fatalf("seed media_text: %v", err)
		}
	}
}

// rowState is what the tests check of one row after MarkDone.
type rowState struct {
	flag       string // "true", "false" or "null"
	etag       string // "" when NULL
	uploadedAt bool   // not NULL
}

// readRows returns every row of table keyed by id. etagCols selects whether the table has
// the etag and uploaded_at columns.
func readRows(t *testing.T, db *sql.DB, d dialect, table, idColumn string, etagCols bool) map[string]rowState {
	t.Helper()
	cols := d.ident(idColumn) + ", hosted"
	if etagCols {
		cols += ", etag, uploaded_at"
	}
	rows, err := db.Query("SELECT " + cols + " FROM " + d.ident(table))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := make(map[string]rowState)
	for rows.Next() {
		var (
			id, flag, uploaded any
			etag               sql.NullString
		)
		dest := []any{&id, &flag}
		if etagCols {
			dest = append(dest, &etag, &uploaded)
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		s := rowState{flag: "false", etag: etag.String, uploadedAt: uploaded != nil}
		switch v := flag.(type) {
		case nil:
			s.flag = "null"
		case bool:
			s.flag = strconv.FormatBool(v)
		case int64:
			s.flag = strconv.FormatBool(v != 0)
		default:
			t.Fatalf("flag of type %T", flag)
		}
		got[idText(nativeID(id))] = s
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// collect runs Pending and returns its batches, checking each is within batchSize.
func collect(t *testing.T, c Catalog, batchSize int) [][]Record {
	t.Helper()
	var batches [][]Record
	err := c.Pending(context.Background(), batchSize, func(b []Record) error {
		if len(b) == 0 || len(b) > batchSize {
			t.Errorf("batch of %d records, want 1..%d", len(b), batchSize)
		}
		batches = append(batches, slices.Clone(b))
		return nil
	})
	if err != nil {
		t.Fatalf("Pending: %v", err)
	}
	return batches
}

func ids(batches [][]Record) []string {
	var out []string
	for _, b := range batches {
		for _, r := range b {
			out = append(out, r.ID)
		}
	}
	return out
}

func mediaConfig(dsn, table string) TableConfig {
	return TableConfig{DSN: dsn, Table: table, PathColumn: "file_path", FlagColumn: "hosted",
		ETagColumn: "etag", UploadedAtColumn: "uploaded_at"}
}

func textConfig(dsn string) TableConfig {
	return TableConfig{DSN: dsn, Table: "media_text", IDColumn: "code", PathColumn: "file_path", FlagColumn: "hosted"}
}

func openTable(t *testing.T, cfg TableConfig) *Table {
	t.Helper()
	return mustOpen(t, func(ctx context.Context) (*Table, error) { return OpenTable(ctx, cfg) })
}

func readDir(t *testing.T, dir string) []os.DirEntry {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// mustOpen opens a catalog and closes it when the test ends, checking that Close works.
func mustOpen[C Catalog](t *testing.T, open func(context.Context) (C, error)) C {
	t.Helper()
	c, err := open(context.Background())
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

// runTableSuite is the behaviour every SQL engine must show.
func runTableSuite(t *testing.T, e tableEngine) {
	t.Run("pending", func(t *testing.T) {
		dsn := e.newDSN(t)
		tests := []struct {
			name      string
			cfg       TableConfig
			text      bool
			batchSize int
		}{
			{"int ids, batches of 1", mediaConfig(dsn, e.mediaTable), false, 1},
			{"int ids, batches of 4", mediaConfig(dsn, e.mediaTable), false, 4},
			{"int ids, one batch", mediaConfig(dsn, e.mediaTable), false, 100},
			{"text ids, batches of 3", textConfig(dsn), true, 3},
			{"text ids, one batch", textConfig(dsn), true, 100},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				tbl := openTable(t, tt.cfg)
				batches := collect(t, tbl, tt.batchSize)
				want := seededPending(tt.text)
				if wantBatches := (len(want) + tt.batchSize - 1) / tt.batchSize; len(batches) != wantBatches {
					t.Errorf("%d batches, want %d", len(batches), wantBatches)
				}
				got := ids(batches)
				if !tt.text {
					// Integer ids come in numeric order: a keyset compared as text would
					// stop after 9 or repeat rows.
					if !slices.Equal(got, want) {
						t.Fatalf("pending ids = %v, want %v", got, want)
					}
				} else {
					sorted := slices.Clone(got)
					slices.Sort(sorted)
					slices.Sort(want)
					if !slices.Equal(sorted, want) {
						t.Fatalf("pending ids = %v, want each of %v once", got, want)
					}
				}
				for _, b := range batches {
					for _, r := range b {
						n, _ := strconv.Atoi(strings.TrimPrefix(r.ID, "f-"))
						if wantPath := fmt.Sprintf("img/%02d.jpg", n); r.Path != wantPath {
							t.Errorf("record %s path = %q, want %q", r.ID, r.Path, wantPath)
						}
						if r.Size != 0 || !r.ModTime.IsZero() {
							t.Errorf("record %s has size/mtime in table mode: %d %v", r.ID, r.Size, r.ModTime)
						}
					}
				}
			})
		}
	})

	t.Run("mark done sets flag, etag and uploaded_at of exactly those rows", func(t *testing.T) {
		dsn := e.newDSN(t)
		tbl := openTable(t, mediaConfig(dsn, e.mediaTable))
		db, d := openRaw(t, dsn)
		before := readRows(t, db, d, e.mediaTable, "id", true)

		first := collect(t, tbl, 5)[0]
		marked := first[:3] // 1 (NULL flag), 2 and 3 (false)
		var done []Done
		for _, r := range marked {
			done = append(done, Done{Record: r, Key: "media/" + r.Path, ETag: `"etag-` + r.ID + `"`, UploadedAt: time.Now()})
		}
		ctx := context.Background()
		if changed, err := tbl.MarkDone(ctx, done); err != nil || changed != 0 {
			t.Fatalf("MarkDone = %d changed, %v; want 0, nil", changed, err)
		}
		// Marking again changes nothing: the rows are no longer pending, so they count as
		// changed.
		if changed, err := tbl.MarkDone(ctx, done); err != nil || changed != len(done) {
			t.Fatalf("second MarkDone = %d changed, %v; want %d, nil", changed, err, len(done))
		}

		after := readRows(t, db, d, e.mediaTable, "id", true)
		isMarked := map[string]bool{}
		for _, r := range marked {
			isMarked[r.ID] = true
		}
		for id, was := range before {
			want := was
			if isMarked[id] {
				want = rowState{flag: "true", etag: `"etag-` + id + `"`, uploadedAt: true}
			}
			if after[id] != want {
				t.Errorf("row %s = %+v, want %+v", id, after[id], want)
			}
		}

		rest := ids(collect(t, tbl, 5))
		wantRest := seededPending(false)[3:]
		if !slices.Equal(rest, wantRest) {
			t.Errorf("pending after MarkDone = %v, want %v", rest, wantRest)
		}
	})

	t.Run("read only, for a dry run: pending rows, no flag, no lock file", func(t *testing.T) {
		dsn := e.newDSN(t)
		db, d := openRaw(t, dsn)
		before := readRows(t, db, d, e.mediaTable, "id", true)
		sqlitePath := strings.TrimPrefix(dsn, "sqlite:")
		cfg := mediaConfig(dsn, e.mediaTable)
		cfg.ReadOnly = true
		tbl := openTable(t, cfg)
		batches := collect(t, tbl, 4)
		if got, want := ids(batches), seededPending(false); !slices.Equal(got, want) {
			t.Errorf("pending ids = %v, want %v", got, want)
		}
		_, err := tbl.MarkDone(context.Background(), []Done{{Record: batches[0][0], Key: "k", ETag: `"e"`}})
		if err == nil || !strings.Contains(err.Error(), "read-only, for a dry run") {
			t.Errorf("MarkDone on a read-only table: %v, want a read-only error", err)
		}
		if after := readRows(t, db, d, e.mediaTable, "id", true); !maps.Equal(after, before) {
			t.Errorf("rows changed by a read-only table: %v, was %v", after, before)
		}
		if e.name == "sqlite" {
			if _, err := os.Stat(sqlitePath + ".lock"); err == nil {
				t.Error("a read-only SQLite table created the overlap lock file")
			}
			// The database's own -shm and -wal may appear while it is read; nothing else may.
			for _, f := range readDir(t, filepath.Dir(sqlitePath)) {
				if name := f.Name(); !strings.HasPrefix(name, filepath.Base(sqlitePath)) {
					t.Errorf("a read-only SQLite table created %s", name)
				}
			}
		}
	})

	t.Run("flag only: exactly those rows, in chunks", func(t *testing.T) {
		dsn := e.newDSN(t)
		cfg := mediaConfig(dsn, e.mediaTable)
		cfg.ETagColumn, cfg.UploadedAtColumn = "", ""
		tbl := openTable(t, cfg)
		db, d := openRaw(t, dsn)
		before := readRows(t, db, d, e.mediaTable, "id", true)

		// Rows that do not exist fill the first two statements; the real ones come last,
		// in the third.
		var done []Done
		for i := range 2 * markDoneChunk {
			done = append(done, Done{Record: Record{ID: strconv.Itoa(900000 + i)}})
		}
		marked := collect(t, tbl, 5)[0][:3]
		isMarked := map[string]bool{}
		for _, r := range marked {
			done = append(done, Done{Record: r, ETag: "ignored"})
			isMarked[r.ID] = true
		}
		if changed, err := tbl.MarkDone(context.Background(), done); err != nil || changed != 2*markDoneChunk {
			t.Fatalf("MarkDone = %d changed, %v; want the %d rows that do not exist", changed, err, 2*markDoneChunk)
		}
		after := readRows(t, db, d, e.mediaTable, "id", true)
		for id, was := range before {
			want := was
			if isMarked[id] {
				want.flag = "true"
			}
			if after[id] != want {
				t.Errorf("row %s = %+v, want %+v", id, after[id], want)
			}
		}
		if len(after) != len(before) {
			t.Errorf("%d rows after MarkDone, %d before", len(after), len(before))
		}
	})

	// The application can change a row while its file is on the wire: a flag lands only on a
	// row that still holds the uploaded path and is still pending, in both statement shapes.
	for _, etag := range []bool{false, true} {
		t.Run(fmt.Sprintf("a row changed since it was read is not flagged (etag column %v)", etag), func(t *testing.T) {
			dsn := e.newDSN(t)
			cfg := mediaConfig(dsn, e.mediaTable)
			if !etag {
				cfg.ETagColumn, cfg.UploadedAtColumn = "", ""
			}
			tbl := openTable(t, cfg)
			db, d := openRaw(t, dsn)
			first := collect(t, tbl, 5)[0] // rows 1, 2, 3, 5, 6 as read: img/01.jpg, ...
			for _, stmt := range []string{
				"UPDATE %s SET file_path = 'img/02-new.jpg' WHERE id = 2", // replaced
				"UPDATE %s SET file_path = 'IMG/03.JPG' WHERE id = 3",     // differs in case only
				"UPDATE %s SET hosted = TRUE WHERE id = 5",                // flagged by someone else
				"UPDATE %s SET hosted = NULL WHERE id = 6",                // flag reset, same path
			} {
				if _, err := db.Exec(fmt.Sprintf(stmt, d.ident(e.mediaTable))); err != nil {
					t.Fatal(err)
				}
			}
			before := readRows(t, db, d, e.mediaTable, "id", true)
			var done []Done
			for _, r := range first {
				done = append(done, Done{Record: r, Key: r.Path, ETag: `"e"`, UploadedAt: time.Now()})
			}
			changed, err := tbl.MarkDone(context.Background(), done)
			if err != nil || changed != 3 {
				t.Fatalf("MarkDone = %d changed, %v; want 3 (rows 2, 3 and 5), nil", changed, err)
			}
			after := readRows(t, db, d, e.mediaTable, "id", true)
			for _, id := range []string{"2", "3", "5"} {
				if after[id] != before[id] {
					t.Errorf("changed row %s = %+v, want it untouched: %+v", id, after[id], before[id])
				}
			}
			for _, id := range []string{"1", "6"} {
				if after[id].flag != "true" {
					t.Errorf("row %s = %+v, want it flagged", id, after[id])
				}
			}
			if got := ids(collect(t, tbl, 5)); !slices.Contains(got, "2") || !slices.Contains(got, "3") {
				t.Errorf("pending after MarkDone = %v, want the changed rows 2 and 3 again", got)
			}
		})
	}

	t.Run("mark everything done, then nothing is pending", func(t *testing.T) {
		dsn := e.newDSN(t)
		tests := []struct {
			name string
			cfg  TableConfig
		}{
			{"int ids, boolean flag", mediaConfig(dsn, e.mediaTable)},
			{"text ids, integer flag, no optional columns", textConfig(dsn)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				tbl := openTable(t, tt.cfg)
				ctx := context.Background()
				err := tbl.Pending(ctx, 4, func(b []Record) error {
					done := make([]Done, len(b))
					for i, r := range b {
						done[i] = Done{Record: r, ETag: "e"}
					}
					// Marking rows while paging must not disturb the keyset.
					_, err := tbl.MarkDone(ctx, done)
					return err
				})
				if err != nil {
					t.Fatalf("Pending: %v", err)
				}
				if got := ids(collect(t, tbl, 4)); len(got) != 0 {
					t.Errorf("pending after marking all = %v, want none", got)
				}
				db, d := openRaw(t, dsn)
				idColumn := cmp.Or(tt.cfg.IDColumn, "id")
				for id, s := range readRows(t, db, d, tt.cfg.Table, idColumn, tt.cfg.ETagColumn != "") {
					if s.flag != "true" {
						t.Errorf("row %s flag = %s, want true", id, s.flag)
					}
				}
			})
		}
	})

	t.Run("pending stops when fn fails or ctx ends", func(t *testing.T) {
		dsn := e.newDSN(t)
		tbl := openTable(t, mediaConfig(dsn, e.mediaTable))
		stop := errors.New("stop")
		calls := 0
		err := tbl.Pending(context.Background(), 2, func([]Record) error { calls++; return stop })
		if !errors.Is(err, stop) || calls != 1 {
			t.Errorf("Pending with failing fn = %v after %d calls, want %v after 1", err, calls, stop)
		}
		ctx, cancel := context.WithCancel(context.Background())
		calls = 0
		err = tbl.Pending(ctx, 2, func([]Record) error { calls++; cancel(); return nil })
		if !errors.Is(err, context.Canceled) || calls != 1 {
			t.Errorf("Pending with cancelled ctx = %v after %d calls, want context.Canceled after 1", err, calls)
		}
		if err := tbl.Pending(context.Background(), 0, func([]Record) error { return nil }); err == nil {
			t.Error("Pending accepted a batch size of 0")
		}
	})

	t.Run("open errors", func(t *testing.T) {
		dsn := e.newDSN(t)
		ok := mediaConfig(dsn, e.mediaTable)
		tests := []struct {
			name    string
			change  func(*TableConfig)
			wantErr []string
		}{
			{"missing path column", func(c *TableConfig) { c.PathColumn = "nope" }, []string{`path column "nope" not found`, "file_path"}},
			{"missing flag column", func(c *TableConfig) { c.FlagColumn = "is_hosted" }, []string{`flag column "is_hosted" not found`}},
			{"missing id column", func(c *TableConfig) { c.IDColumn = "uid" }, []string{`id column "uid" not found`}},
			{"missing etag column", func(c *TableConfig) { c.ETagColumn = "md5" }, []string{`etag column "md5" not found`}},
			{"missing table", func(c *TableConfig) { c.Table = "medias" }, []string{`table "medias" cannot be read`}},
			{"no path column", func(c *TableConfig) { c.PathColumn = "" }, []string{"path column is not set"}},
			{"table injection", func(c *TableConfig) { c.Table = `media"; DROP TABLE media_text; --` }, []string{"table name"}},
			{"column injection", func(c *TableConfig) { c.FlagColumn = `hosted = TRUE; DROP TABLE media_text; --` }, []string{"flag column"}},
			{"id injection", func(c *TableConfig) { c.IDColumn = "id`; DROP TABLE media_text; --" }, []string{"id column"}},
			{"qualified column", func(c *TableConfig) { c.PathColumn = "media.file_path" }, []string{"path column"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				cfg := ok
				tt.change(&cfg)
				tbl, err := OpenTable(context.Background(), cfg)
				if err == nil {
					tbl.Close()
					t.Fatal("OpenTable succeeded")
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not mention %q", err, want)
					}
				}
			})
		}
		// The injection attempts never reached the database.
		db, d := openRaw(t, dsn)
		if got := len(readRows(t, db, d, "media_text", "code", false)); got != seedRows {
			t.Errorf("media_text has %d rows after the injection attempts, want %d", got, seedRows)
		}
	})
}

func TestTable_SQLite(t *testing.T) {
	t.Parallel()
	runTableSuite(t, tableEngine{
		name:       "sqlite",
		mediaTable: "media",
		newDSN: func(t *testing.T) string {
			// An awkward file name: the DSN must not read '?' or '#' as parameters.
			dsn := "sqlite:" + filepath.Join(t.TempDir(), "app ?#.db")
			if err := os.WriteFile(strings.TrimPrefix(dsn, "sqlite:"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			loadSchema(t, "sqlite", "media", dsn)
			return dsn
		},
	})

	t.Run("the application's journal mode is left alone", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "app.db")
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		dsn := "sqlite:" + path
		loadSchema(t, "sqlite", "media", dsn)
		tbl := openTable(t, mediaConfig(dsn, "media"))
		var done []Done
		for _, batch := range collect(t, tbl, 5) {
			for _, r := range batch {
				done = append(done, Done{Record: r, Key: r.Path})
			}
		}
		if _, err := tbl.MarkDone(context.Background(), done); err != nil {
			t.Fatal(err)
		}
		if err := tbl.Close(); err != nil {
			t.Fatal(err)
		}
		db, _ := openRaw(t, dsn)
		var mode string
		if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if mode != "delete" {
			t.Errorf("journal_mode after a run = %q, want the application's %q", mode, "delete")
		}
	})
}
