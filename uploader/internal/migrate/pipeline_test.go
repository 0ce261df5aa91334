package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/staticmedia/staticmedia/internal/testbed"
	"github.com/staticmedia/staticmedia/uploader/internal/catalog"
)

// heldPuts makes the first PUT of chosen keys wait at the proxy until the test lets it go.
type heldPuts struct {
	mu    sync.Mutex
	holds map[string]*heldPut
}

// heldPut is one held PUT.
type heldPut struct {
	arrived, released chan struct{}
	once, release     sync.Once
}

func holdPuts(p *testbed.FaultProxy, bucket string) *heldPuts {
	h := &heldPuts{holds: map[string]*heldPut{}}
	p.OnRequest(func(r *http.Request) {
		if r.Method != http.MethodPut {
			return
		}
		h.mu.Lock()
		held := h.holds[strings.TrimPrefix(r.URL.Path, "/"+bucket+"/")]
		h.mu.Unlock()
		if held != nil {
			held.once.Do(func() {
				close(held.arrived)
				<-held.released
			})
		}
	})
	return h
}

// hold makes the first PUT of key wait until let is called (at the latest when the test ends).
func (h *heldPuts) hold(t *testing.T, key string) *heldPut {
	p := &heldPut{arrived: make(chan struct{}), released: make(chan struct{})}
	h.mu.Lock()
	h.holds[key] = p
	h.mu.Unlock()
	t.Cleanup(p.let)
	return p
}

func (p *heldPut) let() { p.release.Do(func() { close(p.released) }) }

// waitFor polls cond until it holds. The limit only turns a hung run into a failure; nothing
// is asserted about how long it took.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRunNoPageBarrier holds the PUT of the first file of the first page at the proxy and
// checks that every file of the later pages is uploaded and flagged meanwhile: the run does not
// wait for a page to finish before it reads the next. On PostgreSQL the held row stays claimed
// (another uploader does not get it) while the claims of the others were handed back. Once the
// PUT is let go, the run completes with every row flagged once.
func TestRunNoPageBarrier(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO and PostgreSQL")
	}
	bed := newFaultBed(t)
	holds := holdPuts(bed.proxy, bed.bucket)
	pg := testbed.StartPostgres(t)
	const rows, pageSize = 50, 10
	files := map[string][]byte{}
	paths := make([]string, rows)
	for i := range paths {
		paths[i] = fmt.Sprintf("p/%04d.jpg", i+1)
		files[paths[i]] = randomBytes(t, 2048)
	}
	src := tree(t, files)

	for _, tc := range []struct {
		name string
		// table creates the photos table with one pending row per path and returns its DSN.
		table func(t *testing.T) (dsn, driver, param string)
	}{
		{"sqlite", func(t *testing.T) (string, string, string) {
			path := filepath.Join(t.TempDir(), "app.db")
			return "sqlite:" + path, "sqlite", "?"
		}},
		{"postgres", func(t *testing.T) (string, string, string) {
			return pg.CreateDatabase(t, "nobarrier"), "pgx", "$1"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dsn, driver, param := tc.table(t)
			open := dsn
			if driver == "sqlite" {
				// The run writes while the test reads: wait for its write lock rather than fail.
				open = strings.TrimPrefix(dsn, "sqlite:") + "?_pragma=busy_timeout(10000)"
			}
			db, err := sql.Open(driver, open)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if _, err := db.Exec(`CREATE TABLE photos (id integer PRIMARY KEY, file text NOT NULL, on_s3 boolean)`); err != nil {
				t.Fatal(err)
			}
			for i, p := range paths {
				if _, err := db.Exec(fmt.Sprintf(`INSERT INTO photos (id, file) VALUES (%d, %s)`, i+1, param), p); err != nil {
					t.Fatal(err)
				}
			}
			cfg := catalog.TableConfig{DSN: dsn, Table: "photos", PathColumn: "file", FlagColumn: "on_s3"}
			tbl, err := catalog.OpenTable(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { tbl.Close() })
			flagged := func(from int) (n int) {
				t.Helper()
				if err := db.QueryRow(fmt.Sprintf(`SELECT count(*) FROM photos WHERE on_s3 AND id >= %d`, from)).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}

			prefix := tc.name + "/"
			held := holds.hold(t, prefix+paths[0])
			type result struct {
				rep Report
				err error
			}
			done, ended := make(chan result, 1), make(chan struct{})
			go func() {
				defer close(ended)
				rep, err := Run(context.Background(), Config{
					Bucket: bed.bucket, Source: src, KeyPrefix: prefix,
					PageSize: pageSize, BatchSize: 1, Concurrency: 4,
				}, Deps{S3: bed.client(t, ClientConfig{}), Catalog: tbl})
				done <- result{rep, err}
			}()
			// A test that fails early lets the PUT go and waits for the run before the
			// table is closed.
			t.Cleanup(func() {
				held.let()
				<-ended
			})
			select {
			case <-held.arrived:
			case <-time.After(2 * time.Minute):
				t.Fatal("the held PUT never arrived")
			}
			// Every row after the first page is flagged while the first file is still held.
			waitFor(t, "the rows of the later pages flagged while the first file is held", func() bool {
				return flagged(pageSize+1) == rows-pageSize
			})
			for _, p := range paths[pageSize:] {
				if !objectExists(t, bed.admin, bed.bucket, prefix+p) {
					t.Errorf("%s flagged but not in the bucket", p)
				}
			}
			if n := flagged(1); n == rows {
				t.Fatal("the held row was flagged before its PUT was let go")
			}
			if driver == "pgx" {
				// The held row is still claimed: a second uploader skips it; every other row
				// is flagged or, flagged soon, no longer claimed.
				other, err := catalog.OpenTable(context.Background(), cfg)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				err = other.Pending(context.Background(), 100, func(b []catalog.Record) error {
					for _, r := range b {
						got = append(got, r.Path)
					}
					return nil
				})
				other.Close()
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range got {
					if p == paths[0] {
						t.Errorf("another uploader got the held row %s: its claim was dropped", p)
					}
				}
			}
			held.let()
			var res result
			select {
			case res = <-done:
			case <-time.After(2 * time.Minute):
				t.Fatal("the run did not end after the held PUT was let go")
			}
			if res.err != nil || res.rep.Uploaded != rows || res.rep.Flagged != rows || res.rep.Changed != 0 {
				t.Fatalf("Run = %s, %v; want all %d uploaded and flagged once", brief(res.rep), res.err, rows)
			}
			if n := flagged(1); n != rows {
				t.Errorf("%d rows flagged, want %d", n, rows)
			}
			if !objectExists(t, bed.admin, bed.bucket, prefix+paths[0]) {
				t.Errorf("the held file is not in the bucket")
			}
		})
	}
}
