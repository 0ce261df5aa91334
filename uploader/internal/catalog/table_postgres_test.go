package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/staticmedia/staticmedia/internal/testbed"
)

func TestTable_Postgres(t *testing.T) {
	t.Parallel()
	pg := testbed.StartPostgres(t)
	var n atomic.Int64
	runTableSuite(t, tableEngine{
		name:       "postgres",
		mediaTable: "app.media",
		newDSN: func(t *testing.T) string {
			dsn := pg.CreateDatabase(t, fmt.Sprintf("suite_%d", n.Add(1)))
			loadSchema(t, "postgres", "app.media", dsn)
			return dsn
		},
	})

	t.Run("password never in errors", func(t *testing.T) {
		const password = "Pw-9f3a#q!long"
		dsn := pg.CreateDatabase(t, "secrets")
		loadSchema(t, "postgres", "app.media", dsn)
		db, _ := openRaw(t, dsn)
		ctx := context.Background()
		// The test cluster trusts everyone; make password checks real for one role by
		// putting a scram-sha-256 line first in pg_hba.conf (written by the server itself).
		var hba string
		if err := db.QueryRowContext(ctx, "SHOW hba_file").Scan(&hba); err != nil {
			t.Fatal(err)
		}
		for _, stmt := range []string{
			"SET password_encryption = 'scram-sha-256'",
			"CREATE ROLE uploader LOGIN PASSWORD '" + password + "'",
			"GRANT USAGE ON SCHEMA app TO uploader",
			"GRANT SELECT, UPDATE ON app.media TO uploader",
			"COPY (SELECT line FROM (VALUES (1, 'host all uploader 127.0.0.1/32 scram-sha-256'), (2, 'host all all 127.0.0.1/32 trust'), (3, 'local all all trust')) v(n, line) ORDER BY n) TO '" + hba + "'",
		} {
			if _, err := db.ExecContext(ctx, stmt); err != nil {
				t.Fatalf("%.40s: %v", stmt, err)
			}
		}
		var reloaded bool
		if err := db.QueryRowContext(ctx, "SELECT pg_reload_conf()").Scan(&reloaded); err != nil || !reloaded {
			t.Fatalf("reload: %v", err)
		}

		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		withPassword := func(pw string) string {
			v := *u
			v.User = url.UserPassword("uploader", pw)
			return v.String()
		}
		cfg := mediaConfig(withPassword(password), "app.media")
		// The right password works, which proves the wrong one fails for its own reason.
		tbl := openTable(t, cfg)
		if got := ids(collect(t, tbl, 100)); len(got) != len(seededPending(false)) {
			t.Fatalf("uploader role sees %d pending rows, want %d", len(got), len(seededPending(false)))
		}

		wrong := password + "-wrong"
		badUser := *u
		badUser.User = url.UserPassword("uploader", wrong)
		tests := []struct {
			name    string
			cfg     TableConfig
			secret  string
			wantErr string
		}{
			{"wrong password", mediaConfig(withPassword(wrong), "app.media"), wrong, "password authentication failed"},
			{"missing table", mediaConfig(withPassword(password), "app.nope"), password, `table "app.nope"`},
			{"missing column", func() TableConfig { c := cfg; c.FlagColumn = "nope"; return c }(), password, `flag column "nope"`},
			{"unknown scheme", TableConfig{DSN: strings.Replace(cfg.DSN, "postgres://", "pg://", 1), Table: "media", PathColumn: "p", FlagColumn: "f"}, password, "unsupported"},
			{"unreachable", mediaConfig(strings.Replace(withPassword(password), fmt.Sprint(pg.Port), "1", 1), "app.media"), password, "connect to"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				tbl, err := OpenTable(ctx, tt.cfg)
				if err == nil {
					tbl.Close()
					t.Fatal("OpenTable succeeded")
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q does not mention %q", err, tt.wantErr)
				}
				for _, s := range []string{tt.secret, url.QueryEscape(tt.secret), url.PathEscape(tt.secret)} {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error reveals the password: %q", err)
					}
				}
			})
		}
	})

	runClaimSuite(t, tableEngine{
		name:       "postgres",
		mediaTable: "app.media",
		newDSN: func(t *testing.T) string {
			dsn := pg.CreateDatabase(t, fmt.Sprintf("claims_%d", n.Add(1)))
			loadSchema(t, "postgres", "app.media", dsn)
			return dsn
		},
		heldLocks: func(t *testing.T, db *sql.DB) int {
			t.Helper()
			var n int
			if err := db.QueryRow("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		},
	})
}
