package catalog

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// SQLite compares a column without a declared type by storage class, and a BLOB never equals
// text: ids sent back as text matched no row (never flagged, re-uploaded on every run), and a
// BLOB keyset bound sent as text sorted before every BLOB (the first window, forever).
func TestTable_SQLiteIDStorageClasses(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, schema string }{
		{"untyped integer ids", "CREATE TABLE photos (id, path, flag); INSERT INTO photos VALUES (1, 'a.jpg', 0), (2, 'b.jpg', NULL), (3, 'c.jpg', 0)"},
		{"blob ids", "CREATE TABLE photos (id BLOB PRIMARY KEY, path TEXT, flag INTEGER); INSERT INTO photos VALUES (x'01', 'a.jpg', 0), (x'02ff', 'b.jpg', NULL), (x'03', 'c.jpg', 0)"},
		{"untyped mixed ids", "CREATE TABLE photos (id, path, flag); INSERT INTO photos VALUES (1, 'a.jpg', 0), ('1', 'b.jpg', NULL), (x'31', 'c.jpg', 0)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "app.db")
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			dsn := "sqlite:" + path
			db, _ := openRaw(t, dsn)
			if _, err := db.Exec(tt.schema); err != nil {
				t.Fatal(err)
			}
			tbl := openTable(t, TableConfig{DSN: dsn, Table: "photos", PathColumn: "path", FlagColumn: "flag"})
			ctx := context.Background()
			seen := 0
			errLoop := errors.New("a row was handed out twice")
			err := tbl.Pending(ctx, 2, func(b []Record) error {
				if seen += len(b); seen > 3 {
					return errLoop
				}
				done := make([]Done, len(b))
				for i, r := range b {
					done[i] = Done{Record: r, Key: r.Path}
				}
				changed, err := tbl.MarkDone(ctx, done)
				if err == nil && changed != 0 {
					t.Errorf("MarkDone(%v) changed = %d, want 0", b, changed)
				}
				return err
			})
			if err != nil || seen != 3 {
				t.Fatalf("Pending handed out %d rows, %v; want the 3 rows once", seen, err)
			}
			var pending int
			if err := db.QueryRow("SELECT count(*) FROM photos WHERE flag IS NULL OR flag = 0").Scan(&pending); err != nil || pending != 0 {
				t.Errorf("%d rows still pending (%v), want 0", pending, err)
			}
		})
	}
}
