package cli

import (
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/staticmedia/staticmedia/internal/testbed"
)

// TestMigrateMySQL runs the table mode on MariaDB (keyset pages, named-lock claims) against
// MinIO, which verifies checksums, with names that need escaping: the right counts, flags,
// ETags and upload times, byte-identical objects, and a rerun that uploads nothing.
func TestMigrateMySQL(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MariaDB and MinIO")
	}
	t.Parallel()
	my := testbed.StartMySQL(t)
	const bucket = "media"
	m, admin := minioWithBucket(t, bucket)
	dsn := my.CreateDatabase(t, "app")
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = my.User, my.Password, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(my.Port)), "app"
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE photos (id BIGINT AUTO_INCREMENT PRIMARY KEY, file VARCHAR(1024) NOT NULL, on_s3 BOOLEAN NOT NULL DEFAULT FALSE, etag VARCHAR(80), uploaded_at DATETIME(6)) DEFAULT CHARSET=utf8mb4"); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for i := range 100 {
		files[fmt.Sprintf("u/%03d/p %d.jpg", i%7, i)] = randomContent(t, 500+i)
	}
	for _, name := range []string{"ünïcødé/日本語.png", "a+b/c#d.gif", "100%/50%20off.webp", "empty.gif"} {
		files[name] = randomContent(t, len(name)%3*100)
	}
	fx := newFixture(t, files)
	paths := append(sortedNames(files), "gone.jpg", "../outside.jpg", "link-out.jpg")
	insertRows(t, db, "INSERT INTO photos (file) VALUES (?)", paths)

	dir := t.TempDir()
	outFile := writeFile(t, filepath.Join(dir, "out.json"), tfOutputJSON(t, map[string]any{
		"bucket": bucket, "region": m.Region, "access_key_id": m.RootUser, "secret_access_key": m.RootPassword, "endpoint": m.Endpoint,
	}))
	reportFile := filepath.Join(dir, "report.json")
	if u, err := url.Parse(dsn); err != nil || u.Scheme != "mysql" {
		t.Fatalf("testbed DSN %q: %v", dsn, err)
	}
	args := []string{"migrate", "--tf-output", outFile, "--source", fx.src, "--db", dsn, "--table", "photos",
		"--path-column", "file", "--flag-column", "on_s3", "--etag-column", "etag", "--uploaded-at-column", "uploaded_at",
		"--batch-size", "7", "--concurrency", "5", "--report", reportFile, "--progress", "never"}
	code, _, stderr := run(t, "", args...)
	if code != ExitOK {
		t.Fatalf("exit code %d; stderr:\n%s", code, stderr)
	}
	rep := readReport(t, reportFile)
	if rep.Uploaded != int64(len(files)) || rep.Flagged != int64(len(files)) || rep.Missing != 1 || rep.Invalid != 2 || rep.Failed != 0 {
		t.Fatalf("report: %s; want %d uploaded and flagged, 1 missing, 2 invalid", reportBrief(rep), len(files))
	}
	var flagged, withETag, withTime int
	if err := db.QueryRow(`SELECT SUM(on_s3), COUNT(etag), COUNT(uploaded_at) FROM photos`).Scan(&flagged, &withETag, &withTime); err != nil {
		t.Fatal(err)
	}
	if flagged != len(files) || withETag != len(files) || withTime != len(files) {
		t.Fatalf("flagged %d, with etag %d, with time %d; want %d each", flagged, withETag, withTime, len(files))
	}
	for _, p := range flaggedPaths(t, db, "SELECT file FROM photos WHERE on_s3") {
		if _, ok := files[p]; !ok {
			t.Errorf("row %q is flagged", p)
		}
	}
	checkAllIdentical(t, admin, bucket, "", files)

	code, _, stderr = run(t, "", args...)
	if rep := readReport(t, reportFile); code != ExitOK || rep.Uploaded != 0 {
		t.Fatalf("rerun: exit %d, report %s; stderr:\n%s", code, reportBrief(rep), stderr)
	}
}
