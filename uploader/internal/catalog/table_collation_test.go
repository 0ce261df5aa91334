package catalog

import (
	"context"
	"testing"

	"github.com/staticmedia/staticmedia/internal/testbed"
)

// collationCase is a row as the uploader read it, and what the application wrote to its path
// while the file was on the wire.
type collationCase struct {
	id, read, now string
	flagged       bool
}

// collationCases compare paths the way the file system does: byte for byte. A path in another
// Unicode normalization (NFD), with a trailing space or in another case names another file
// and must not be flagged; a non-ASCII path unchanged must be.
var collationCases = []collationCase{
	{"1", "café.jpg", "café.jpg", true},         // unchanged, non-ASCII
	{"2", "b.jpg", "b.jpg ", false},             // a trailing space
	{"3", "c.jpg", "C.JPG", false},              // case
	{"4", "d\u00e9.jpg", "de\u0301.jpg", false}, // NFC read, NFD now
	{"5", "plain.jpg", "plain.jpg", true},
}

// latin1Cases are the collationCases a latin1 column can hold (not the NFD one).
var latin1Cases = append(collationCases[:3:3], collationCases[4])

// markCollationCases seeds table (id, path, flag), marks every case done as read, and checks
// which rows were flagged.
func markCollationCases(t *testing.T, dsn, table string, cases []collationCase) {
	t.Helper()
	ctx := context.Background()
	db, d := openRaw(t, dsn)
	for _, c := range cases {
		if _, err := db.ExecContext(ctx, "INSERT INTO "+d.ident(table)+" (id, path, flag) VALUES ("+d.param(1)+", "+d.param(2)+", FALSE)", c.id, c.now); err != nil {
			t.Fatal(err)
		}
	}
	tbl := openTable(t, TableConfig{DSN: dsn, Table: table, PathColumn: "path", FlagColumn: "flag"})
	var done []Done
	for _, c := range cases {
		done = append(done, Done{Record: Record{ID: c.id, Path: c.read}, Key: c.read})
	}
	changed, err := tbl.MarkDone(ctx, done)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, c := range cases {
		var flag bool
		if err := db.QueryRowContext(ctx, "SELECT flag FROM "+d.ident(table)+" WHERE id = "+d.param(1), c.id).Scan(&flag); err != nil {
			t.Fatal(err)
		}
		if flag != c.flagged {
			t.Errorf("row %s read as %q, now %q: flagged %v, want %v", c.id, c.read, c.now, flag, c.flagged)
		}
		if !c.flagged {
			want++
		}
	}
	if changed != want {
		t.Errorf("MarkDone changed = %d, want %d", changed, want)
	}
}

func TestMarkDoneComparesPathBytes_MySQL(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MariaDB")
	}
	t.Parallel()
	my := testbed.StartMySQL(t)
	for _, tt := range []struct {
		name, column string
		cases        []collationCase
	}{
		{"latin1", "VARCHAR(255) CHARACTER SET latin1", latin1Cases},
		{"utf8mb4", "VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci", collationCases},
		{"varbinary", "VARBINARY(255)", collationCases},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dsn := my.CreateDatabase(t, "collation_"+tt.name)
			db, _ := openRaw(t, dsn)
			if _, err := db.Exec("CREATE TABLE photos (id BIGINT PRIMARY KEY, path " + tt.column + ", flag BOOLEAN)"); err != nil {
				t.Fatal(err)
			}
			markCollationCases(t, dsn, "photos", tt.cases)
		})
	}
}

func TestMarkDoneComparesPathBytes_Postgres(t *testing.T) {
	t.Parallel()
	pg := testbed.StartPostgres(t)
	dsn := pg.CreateDatabase(t, "collation")
	db, _ := openRaw(t, dsn)
	for _, stmt := range []string{
		// Nondeterministic: equal under it are case variants and canonically equivalent forms.
		"CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)",
		"CREATE TABLE photos (id bigint PRIMARY KEY, path text COLLATE ci, flag boolean)",
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	markCollationCases(t, dsn, "photos", collationCases)
}
