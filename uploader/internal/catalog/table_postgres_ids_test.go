package catalog

import (
	"context"
	"errors"
	"testing"

	"github.com/staticmedia/staticmedia/internal/testbed"
)

// A bytea id went back to PostgreSQL as a Go string, which pgx sends as text: the keyset bound
// failed to parse (a backslash) or to encode (0xff is not UTF-8), ending the run, and MarkDone
// matched no row.
func TestTable_PostgresByteaIDs(t *testing.T) {
	t.Parallel()
	pg := testbed.StartPostgres(t)
	dsn := pg.CreateDatabase(t, "bytea_ids")
	db, _ := openRaw(t, dsn)
	if _, err := db.Exec(`CREATE TABLE photos (id bytea PRIMARY KEY, path text, flag boolean);
		INSERT INTO photos VALUES ('\x01', 'a.jpg', FALSE), ('\x5c30', 'b.jpg', FALSE), ('\xff', 'c.jpg', NULL), ('\x41', 'd.jpg', FALSE)`); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	errLoop := errors.New("a row was handed out twice")
	for _, readOnly := range []bool{true, false} {
		tbl := openTable(t, TableConfig{DSN: dsn, Table: "photos", PathColumn: "path", FlagColumn: "flag", ReadOnly: readOnly})
		seen := 0
		err := tbl.Pending(ctx, 2, func(b []Record) error {
			if seen += len(b); seen > 4 {
				return errLoop
			}
			if readOnly {
				return nil
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
		if err != nil || seen != 4 {
			t.Fatalf("read-only %v: Pending handed out %d rows, %v; want the 4 rows once", readOnly, seen, err)
		}
	}
	var pending int
	if err := db.QueryRow("SELECT count(*) FROM photos WHERE flag IS NOT TRUE").Scan(&pending); err != nil || pending != 0 {
		t.Errorf("%d rows still pending (%v), want 0", pending, err)
	}
}
