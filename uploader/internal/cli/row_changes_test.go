package cli

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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/staticmedia/staticmedia/internal/testbed"
)

// heldSite is moto with a bucket behind a proxy that can hold the first PUT of a key until the
// test releases it: the moment a file is on the wire, when the test changes the database.
type heldSite struct {
	bucket   string
	tfOutput string // file

	mu    sync.Mutex
	holds map[string]*heldPut
}

// heldPut is one held PUT.
type heldPut struct {
	arrived, released chan struct{}
	once, release     sync.Once
}

func newHeldSite(t *testing.T, bucket string) *heldSite {
	t.Helper()
	m := testbed.StartMoto(t)
	admin := m.Options().S3(m.Config(t))
	if _, err := admin.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	p := testbed.StartFaultProxy(t, m.Endpoint, 1)
	s := &heldSite{bucket: bucket, holds: map[string]*heldPut{}}
	s.tfOutput = writeFile(t, filepath.Join(t.TempDir(), "tf-output.json"), tfOutputJSON(t, map[string]any{
		"bucket": bucket, "region": m.Region, "access_key_id": m.AccessKey, "secret_access_key": m.SecretKey,
		"endpoint": p.URL,
	}))
	p.OnRequest(func(r *http.Request) {
		if r.Method != http.MethodPut {
			return
		}
		s.mu.Lock()
		h := s.holds[strings.TrimPrefix(r.URL.Path, "/"+bucket+"/")]
		s.mu.Unlock()
		if h != nil {
			h.once.Do(func() {
				close(h.arrived)
				<-h.released
			})
		}
	})
	return s
}

// hold makes the first PUT of key wait, once it reached the proxy, until release.
func (s *heldSite) hold(t *testing.T, key string) *heldPut {
	h := &heldPut{arrived: make(chan struct{}), released: make(chan struct{})}
	s.mu.Lock()
	s.holds[key] = h
	s.mu.Unlock()
	t.Cleanup(h.let) // a test that fails early must not leave the request hanging
	return h
}

// wait returns once the PUT reached the proxy. The limit only turns a hung run into a failure.
func (h *heldPut) wait(t *testing.T) {
	t.Helper()
	select {
	case <-h.arrived:
	case <-time.After(2 * time.Minute):
		t.Fatal("the held PUT never arrived")
	}
}

// let releases the PUT.
func (h *heldPut) let() { h.release.Do(func() { close(h.released) }) }

// runAsync runs the uploader in the background; the channel gets its exit code and stderr.
func runAsync(t *testing.T, args ...string) <-chan [2]string {
	done := make(chan [2]string, 1)
	go func() {
		code, _, stderr := run(t, "", args...)
		done <- [2]string{fmt.Sprint(code), stderr}
	}()
	return done
}

// TestMigrateRowChangedDuringUpload replaces a photo in the application's table while its old
// file is on the wire: the row now names a file that is not in S3, so it must not be flagged;
// the report counts it as changed and the next run uploads the new file. A row whose flag the
// application resets, with the same path, is flagged (the file was compared after the upload).
func TestMigrateRowChangedDuringUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs moto and PostgreSQL")
	}
	t.Parallel()
	pg := testbed.StartPostgres(t)
	site := newHeldSite(t, "changes")
	files := map[string][]byte{"a.jpg": randomContent(t, 900), "b.jpg": randomContent(t, 800), "b2.jpg": randomContent(t, 700), "c.jpg": randomContent(t, 600)}

	engines := []struct {
		name string
		// open creates an empty photos(id, file, on_s3, etag) in a new database (named name
		// where the engine names them) and returns the --db DSN and a handle for the
		// application's statements.
		open  func(t *testing.T, name string) (string, *sql.DB)
		param func(i int) string
	}{
		{"sqlite", func(t *testing.T, _ string) (string, *sql.DB) {
			dsn, _ := photosTable(t, nil)
			// The application's own handle waits for the uploader's flag writes.
			db, err := sql.Open("sqlite", "file:"+strings.TrimPrefix(dsn, "sqlite:")+"?_pragma=busy_timeout(30000)")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return dsn, db
		}, func(int) string { return "?" }},
		{"postgres", func(t *testing.T, name string) (string, *sql.DB) {
			dsn := pg.CreateDatabase(t, name)
			return dsn, postgresTable(t, dsn, `CREATE TABLE photos (id bigserial PRIMARY KEY, file text NOT NULL, on_s3 boolean NOT NULL DEFAULT false, etag text)`, "photos", nil)
		}, func(i int) string { return fmt.Sprintf("$%d", i) }},
	}
	for _, e := range engines {
		for _, etag := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s etag %v", e.name, etag), func(t *testing.T) {
				prefix := fmt.Sprintf("%s-%v/", e.name, etag)
				src := filepath.Join(t.TempDir(), "media")
				for name, data := range files {
					writeFile(t, filepath.Join(src, name), string(data))
				}
				dsn, db := e.open(t, fmt.Sprintf("changes_%v", etag))
				for _, p := range []string{"a.jpg", "b.jpg", "c.jpg"} {
					if _, err := db.Exec("INSERT INTO photos (file) VALUES ("+e.param(1)+")", p); err != nil {
						t.Fatal(err)
					}
				}
				args := []string{"migrate", "--tf-output", site.tfOutput, "--source", src, "--key-prefix", prefix,
					"--db", dsn, "--table", "photos", "--path-column", "file", "--flag-column", "on_s3",
					"--progress", "never", "--concurrency", "1"}
				if etag {
					args = append(args, "--etag-column", "etag")
				}
				report := filepath.Join(t.TempDir(), "report.json")
				replaced := site.hold(t, prefix+"b.jpg")
				reset := site.hold(t, prefix+"c.jpg")
				done := runAsync(t, append(args, "--report", report)...)

				// The user replaces photo 2 while its old file is being sent: a new path,
				// and the flag reset, as the application does for a new upload.
				replaced.wait(t)
				if _, err := db.Exec("UPDATE photos SET file = 'b2.jpg', on_s3 = FALSE WHERE file = 'b.jpg'"); err != nil {
					t.Fatal(err)
				}
				replaced.let()
				// The application asks for photo 3 to be sent again, same path and file.
				reset.wait(t)
				if _, err := db.Exec("UPDATE photos SET on_s3 = FALSE WHERE file = 'c.jpg'"); err != nil {
					t.Fatal(err)
				}
				reset.let()

				res := <-done
				if res[0] != fmt.Sprint(ExitOK) {
					t.Fatalf("exit %s, want %d; stderr:\n%s", res[0], ExitOK, tail(res[1], 3000))
				}
				rep := readReport(t, report)
				if rep.Uploaded != 3 || rep.Flagged != 2 || rep.Changed != 1 {
					t.Errorf("report: uploaded %d, flagged %d, changed %d; want 3, 2 and 1 (the replaced photo)", rep.Uploaded, rep.Flagged, rep.Changed)
				}
				flagged := flaggedPaths(t, db, "SELECT file FROM photos WHERE on_s3 ORDER BY file")
				if strings.Join(flagged, ",") != "a.jpg,c.jpg" {
					t.Errorf("flagged rows %v, want a.jpg and c.jpg: b2.jpg is not in S3 yet", flagged)
				}

				// The next run picks the changed row up.
				rep2 := filepath.Join(t.TempDir(), "report.json")
				if code, _, stderr := run(t, "", append(args, "--report", rep2)...); code != ExitOK {
					t.Fatalf("second run: exit %d; stderr:\n%s", code, tail(stderr, 3000))
				}
				if r := readReport(t, rep2); r.Uploaded != 1 || r.Flagged != 1 || r.Changed != 0 {
					t.Errorf("second run: uploaded %d, flagged %d, changed %d; want b2.jpg uploaded and flagged", r.Uploaded, r.Flagged, r.Changed)
				}
				if flagged := flaggedPaths(t, db, "SELECT file FROM photos WHERE on_s3 ORDER BY file"); strings.Join(flagged, ",") != "a.jpg,b2.jpg,c.jpg" {
					t.Errorf("after the second run flagged rows %v, want all three", flagged)
				}
			})
		}
	}
}
