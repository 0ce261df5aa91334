package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/staticmedia/staticmedia/internal/awsconfig"
	"github.com/staticmedia/staticmedia/internal/policy"
	"github.com/staticmedia/staticmedia/internal/testbed"
	"github.com/staticmedia/staticmedia/uploader/internal/migrate"
)

// fixture is a media tree plus the rows of an application table pointing into it.
type fixture struct {
	src   string            // the --source directory
	files map[string][]byte // path relative to src -> content, for the files that should upload
}

func randomContent(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// newFixture writes files under a new source directory, plus a file outside it and a symlink
// pointing to that file from inside ("link-out.jpg").
func newFixture(t *testing.T, files map[string][]byte) fixture {
	t.Helper()
	base := t.TempDir()
	src := filepath.Join(base, "media")
	for name, data := range files {
		writeFile(t, filepath.Join(src, filepath.FromSlash(name)), string(data))
	}
	writeFile(t, filepath.Join(base, "outside.jpg"), "not for upload")
	if err := os.Symlink(filepath.Join(base, "outside.jpg"), filepath.Join(src, "link-out.jpg")); err != nil {
		t.Fatal(err)
	}
	return fixture{src: src, files: files}
}

// appTable creates an application-like SQLite table with one row per path; flagged rows start
// done. It returns the DSN.
func appTable(t *testing.T, paths []string, flagged ...string) (dsn string, db *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE photos (id INTEGER PRIMARY KEY, file TEXT NOT NULL, on_s3 BOOLEAN, etag TEXT, uploaded_at TEXT)`); err != nil {
		t.Fatal(err)
	}
	isFlagged := map[string]bool{}
	for _, f := range flagged {
		isFlagged[f] = true
	}
	for _, p := range paths {
		var flag any // NULL: pending, like a column added after the rows existed
		if isFlagged[p] {
			flag = true
		}
		if _, err := db.Exec(`INSERT INTO photos (file, on_s3) VALUES (?, ?)`, p, flag); err != nil {
			t.Fatal(err)
		}
	}
	return "sqlite:" + path, db
}

// flags reads the table back: path -> (flagged, etag).
func flags(t *testing.T, db *sql.DB) map[string][2]string {
	t.Helper()
	rows, err := db.Query(`SELECT file, COALESCE(on_s3, 0), COALESCE(etag, ''), COALESCE(uploaded_at, '') FROM photos`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][2]string{}
	for rows.Next() {
		var file, etag, at string
		var on bool
		if err := rows.Scan(&file, &on, &etag, &at); err != nil {
			t.Fatal(err)
		}
		if on && at == "" && etag != "" {
			t.Errorf("row %q has an ETag but no upload time", file)
		}
		out[file] = [2]string{fmt.Sprint(on), etag}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func readReport(t *testing.T, path string) migrate.Report {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r migrate.Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("report %s: %v\n%s", path, err, data)
	}
	return r
}

// checkObjects reads every fixture file back with the admin client: bytes, Content-Type and
// Cache-Control.
func checkObjects(t *testing.T, admin *s3.Client, bucket, prefix string, files map[string][]byte, types map[string]string) {
	t.Helper()
	for name, data := range files {
		key := prefix + name
		out, err := admin.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Errorf("GetObject %q: %v", key, err)
			continue
		}
		got, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Errorf("object %q: %d bytes, not the file's %d", key, len(got), len(data))
		}
		if want, ok := types[name]; ok && aws.ToString(out.ContentType) != want {
			t.Errorf("object %q Content-Type = %q, want %q", key, aws.ToString(out.ContentType), want)
		}
		if cc := aws.ToString(out.CacheControl); cc != migrate.DefaultCacheControl {
			t.Errorf("object %q Cache-Control = %q, want the default", key, cc)
		}
	}
}

// motoUploadOnlyKey creates, on moto with IAM enforcement on, a user with exactly the seed's
// upload-only policy on bucket and returns its access key, after checking that the key really
// is upload-only: it may not even HEAD the bucket.
func motoUploadOnlyKey(t *testing.T, m *testbed.Moto, bucket string) (keyID, secret string) {
	t.Helper()
	ctx := context.Background()
	adminOpts := m.Options()
	adminCfg := m.Config(t)
	doc, err := policy.UploadOnly(policy.UploadOnlyInput{Bucket: bucket})
	if err != nil {
		t.Fatal(err)
	}
	docJSON, err := doc.JSON()
	if err != nil {
		t.Fatal(err)
	}
	iamc := adminOpts.IAM(adminCfg)
	if _, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("uploader")}); err != nil {
		t.Fatal(err)
	}
	if _, err := iamc.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("uploader"), PolicyName: aws.String("upload-only"), PolicyDocument: aws.String(docJSON)}); err != nil {
		t.Fatal(err)
	}
	key, err := iamc.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("uploader")})
	if err != nil {
		t.Fatal(err)
	}
	keyID, secret = aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey)

	// The key really is upload-only: it cannot read an object back.
	upOpts := awsconfig.Options{Region: m.Region, AccessKey: keyID, SecretKey: secret, Endpoints: awsconfig.Endpoints{S3: m.Endpoint}}
	upCfg, err := awsconfig.Load(ctx, upOpts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := upOpts.S3(upCfg).HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err == nil {
		t.Fatal("the upload-only key may HeadBucket: IAM enforcement is not in effect")
	}
	return keyID, secret
}

// enforcingMotoWithBucket starts moto with IAM enforcement on and creates bucket with the admin's
// key; it returns moto and the admin's S3 client.
func enforcingMotoWithBucket(t *testing.T, bucket string) (*testbed.Moto, *s3.Client) {
	t.Helper()
	m := testbed.StartMoto(t)
	m.EnableIAMEnforcement(t)
	admin := m.Options().S3(m.Config(t))
	if _, err := admin.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	return m, admin
}

// TestMigrateMotoLeastPrivilege runs `uploader migrate` with a key that has exactly the seed's
// upload-only policy, on moto with IAM enforcement, against an application table in SQLite.
func TestMigrateMotoLeastPrivilege(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs moto")
	}
	const bucket = "media"
	m, admin := enforcingMotoWithBucket(t, bucket)
	ctx := context.Background()
	keyID, secret := motoUploadOnlyKey(t, m, bucket)

	fx := newFixture(t, map[string][]byte{
		"photos/cat.jpg":     randomContent(t, 70<<10),
		"photos/2024/08.png": randomContent(t, 3000),
		"empty.gif":          {},
		"docs/readme.txt":    []byte("hello"),
	})
	writeFile(t, filepath.Join(fx.src, "already.jpg"), "flagged before the run")
	paths := []string{"photos/cat.jpg", "photos/2024/08.png", "empty.gif", "docs/readme.txt",
		"gone.jpg", "../outside.jpg", "link-out.jpg", "already.jpg"}
	dsn, db := appTable(t, paths, "already.jpg")
	dir := t.TempDir()
	outFile := writeFile(t, filepath.Join(dir, "out.json"), tfOutputJSON(t, map[string]any{
		"bucket": bucket, "region": m.Region, "access_key_id": keyID, "secret_access_key": secret,
		"endpoint": m.Endpoint, "public_base_url": m.Endpoint + "/" + bucket + "/", "key_prefix": nil,
	}))
	reportFile := filepath.Join(dir, "report.json")
	args := []string{"migrate", "--tf-output", outFile, "--source", fx.src,
		"--db", dsn, "--table", "photos", "--path-column", "file", "--flag-column", "on_s3",
		"--etag-column", "etag", "--uploaded-at-column", "uploaded_at",
		"--report", reportFile, "--progress", "never", "--batch-size", "2", "--concurrency", "3"}

	code, _, stderr := run(t, "", args...)
	if code != ExitOK {
		t.Fatalf("exit code %d, want 0; stderr:\n%s", code, stderr)
	}
	if strings.Contains(stderr, secret) {
		t.Fatal("the log contains the secret key")
	}
	rep := readReport(t, reportFile)
	if rep.Uploaded != 4 || rep.Flagged != 4 || rep.Missing != 1 || rep.Invalid != 2 || rep.Failed != 0 || rep.AlreadyDone != 0 {
		t.Fatalf("report = %+v", rep)
	}
	if !strings.Contains(stderr, "uploaded=4") || !strings.Contains(stderr, "exit_code=0") {
		t.Errorf("the last log line lacks the summary:\n%s", stderr)
	}
	got := flags(t, db)
	for _, p := range paths {
		_, uploaded := fx.files[p]
		wantFlag := fmt.Sprint(uploaded || p == "already.jpg")
		if got[p][0] != wantFlag {
			t.Errorf("row %q flagged = %s, want %s", p, got[p][0], wantFlag)
		}
		if uploaded && len(strings.Trim(got[p][1], `"`)) != 32 {
			t.Errorf("row %q etag = %q, want an MD5 ETag", p, got[p][1])
		}
	}
	checkObjects(t, admin, bucket, "", fx.files, map[string]string{
		"photos/cat.jpg": "image/jpeg", "photos/2024/08.png": "image/png", "empty.gif": "image/gif", "docs/readme.txt": "application/octet-stream", // not an image or media type: an attachment
	})
	for _, k := range []string{"already.jpg", "outside.jpg", "link-out.jpg"} {
		if _, err := admin.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)}); err == nil {
			t.Errorf("object %q exists: it must not have been uploaded", k)
		}
	}

	// A rerun has nothing to upload; with --strict the missing and invalid rows fail it.
	code, _, stderr = run(t, "", append(args, "--strict")...)
	if code != ExitFailed {
		t.Fatalf("rerun --strict: exit code %d, want 1; stderr:\n%s", code, stderr)
	}
	if rep := readReport(t, reportFile); rep.Uploaded != 0 || rep.Missing != 1 || rep.Invalid != 2 {
		t.Fatalf("rerun report = %+v", rep)
	}

	// The wrong bucket fails the preflight: exit 3, and the message names the bucket.
	wrong := writeFile(t, filepath.Join(dir, "wrong.json"), tfOutputJSON(t, map[string]any{
		"bucket": "medai", "region": m.Region, "access_key_id": keyID, "secret_access_key": secret, "endpoint": m.Endpoint,
	}))
	code, _, stderr = run(t, "", "migrate", "--tf-output", wrong, "--source", fx.src, "--db", dsn, "--table", "photos",
		"--path-column", "file", "--flag-column", "on_s3", "--progress", "never")
	if code != ExitFatal || !strings.Contains(stderr, `\"medai\"`) {
		t.Fatalf("wrong bucket: exit code %d, want 3 naming the bucket; stderr:\n%s", code, stderr)
	}
}

// TestMigrateMotoLeastPrivilegeLedgerAndPostgres runs the ledger mode and the PostgreSQL table
// mode with the upload-only key on moto with IAM enforcement, each first as a dry run, which
// must write nothing: no object, no flag, no ledger file.
func TestMigrateMotoLeastPrivilegeLedgerAndPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs moto and PostgreSQL")
	}
	pg := testbed.StartPostgres(t)
	const bucket = "media"
	m, admin := enforcingMotoWithBucket(t, bucket)
	ctx := context.Background()
	keyID, secret := motoUploadOnlyKey(t, m, bucket)
	dir := t.TempDir()
	outFile := writeFile(t, filepath.Join(dir, "out.json"), tfOutputJSON(t, map[string]any{
		"bucket": bucket, "region": m.Region, "access_key_id": keyID, "secret_access_key": secret, "endpoint": m.Endpoint,
	}))
	objectCount := func() int {
		t.Helper()
		out, err := admin.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Contents)
	}
	// runMigrate runs the uploader, checks the exit code and that the secret stayed out of the
	// log, and returns the report.
	runMigrate := func(t *testing.T, args ...string) migrate.Report {
		t.Helper()
		report := filepath.Join(t.TempDir(), "report.json")
		args = append([]string{"migrate", "--tf-output", outFile, "--report", report, "--progress", "never", "--concurrency", "4"}, args...)
		code, _, stderr := run(t, "", args...)
		if code != ExitOK {
			t.Fatalf("uploader %s: exit code %d; stderr:\n%s", strings.Join(args, " "), code, stderr)
		}
		if strings.Contains(stderr, secret) {
			t.Fatal("the log contains the secret key")
		}
		return readReport(t, report)
	}

	t.Run("ledger", func(t *testing.T) {
		files := map[string][]byte{"l/a.jpg": randomContent(t, 3000), "l/b/c.png": randomContent(t, 900), "l/empty.gif": {}}
		fx := newFixture(t, files)
		ledger := filepath.Join(t.TempDir(), "state", "uploader-ledger.db")
		if err := os.MkdirAll(filepath.Dir(ledger), 0o755); err != nil {
			t.Fatal(err)
		}
		before := objectCount()
		rep := runMigrate(t, "--source", fx.src, "--ledger", ledger, "--dry-run")
		if !rep.DryRun || rep.WouldUpload != 3 || rep.Uploaded != 0 {
			t.Errorf("dry run report = %+v, want 3 files that would upload", rep)
		}
		if entries, _ := os.ReadDir(filepath.Dir(ledger)); len(entries) != 0 {
			t.Errorf("the dry run wrote %d files next to the ledger (%v): want none", len(entries), entries)
		}
		if n := objectCount(); n != before {
			t.Errorf("the dry run put %d objects", n-before)
		}

		rep = runMigrate(t, "--source", fx.src, "--ledger", ledger)
		if rep.Uploaded != 3 || rep.Flagged != 3 || rep.Failed != 0 {
			t.Fatalf("report = %+v, want 3 uploaded and recorded", rep)
		}
		checkObjects(t, admin, bucket, "", files, map[string]string{"l/a.jpg": "image/jpeg", "l/b/c.png": "image/png", "l/empty.gif": "image/gif"})
		if rep := runMigrate(t, "--source", fx.src, "--ledger", ledger); rep.Uploaded != 0 {
			t.Errorf("rerun uploaded %d files, want 0", rep.Uploaded)
		}
	})

	t.Run("postgres", func(t *testing.T) {
		files := map[string][]byte{}
		for i := range 25 {
			files[fmt.Sprintf("p/%02d/photo-%d.jpg", i%4, i)] = randomContent(t, 700+i)
		}
		fx := newFixture(t, files)
		db := postgresTable(t, pg.DSN, `CREATE TABLE photos (id bigserial PRIMARY KEY, file text NOT NULL, on_s3 boolean NOT NULL DEFAULT false, etag text)`,
			"photos", slices.Collect(maps.Keys(files)))
		flagged := func() (n int) {
			t.Helper()
			if err := db.QueryRow(`SELECT count(*) FROM photos WHERE on_s3`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		table := []string{"--source", fx.src, "--db", pg.DSN, "--table", "photos", "--path-column", "file",
			"--flag-column", "on_s3", "--etag-column", "etag", "--batch-size", "6"}
		before := objectCount()
		rep := runMigrate(t, append(table, "--dry-run")...)
		if !rep.DryRun || rep.WouldUpload != 25 || rep.Uploaded != 0 || rep.Flagged != 0 {
			t.Errorf("dry run report = %+v, want 25 files that would upload", rep)
		}
		if n := flagged(); n != 0 {
			t.Errorf("the dry run flagged %d rows", n)
		}
		if n := objectCount(); n != before {
			t.Errorf("the dry run put %d objects", n-before)
		}

		rep = runMigrate(t, table...)
		if rep.Uploaded != 25 || rep.Flagged != 25 || rep.Failed != 0 {
			t.Fatalf("report = %+v, want 25 uploaded and flagged", rep)
		}
		if n := flagged(); n != 25 {
			t.Errorf("%d rows flagged, want 25", n)
		}
		checkObjects(t, admin, bucket, "", files, nil)
		if rep := runMigrate(t, table...); rep.Uploaded != 0 {
			t.Errorf("rerun uploaded %d files, want 0", rep.Uploaded)
		}
	})
}

// postgresTable runs ddl on the PostgreSQL database at dsn and inserts a pending row into table for
// each path (its file column); the connection closes when the test ends.
func postgresTable(t *testing.T, dsn, ddl, table string, paths []string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(ddl); err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if _, err := db.Exec(`INSERT INTO `+table+` (file) VALUES ($1)`, p); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// minioWithBucket starts MinIO with an empty bucket and returns it with an admin client.
func minioWithBucket(t *testing.T, bucket string) (*testbed.MinIO, *s3.Client) {
	t.Helper()
	m := testbed.StartMinIO(t)
	admin := m.Options().S3(m.Config(t))
	if _, err := admin.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	return m, admin
}

// TestMigrateMinIOTrickyNames runs the table mode and then the ledger mode against MinIO with
// names that need escaping on the wire.
func TestMigrateMinIOTrickyNames(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	const bucket = "media"
	m, admin := minioWithBucket(t, bucket)
	files := map[string][]byte{
		"sp ace/photo 1.jpg":             randomContent(t, 2048),
		"ünïcødé/日本語.png":                randomContent(t, 100),
		"a+b/c+d.gif":                    randomContent(t, 10),
		"hash#tag.jpg":                   randomContent(t, 10),
		"100%/50%20off.webp":             randomContent(t, 10),
		"q?uery&x=y;z.jpg":               randomContent(t, 10),
		"deep/1/2/3/4/5/6/7/8/9/leaf.js": []byte("console.log(1)"),
		"zero.bin":                       {},
		"noext":                          []byte("<html><body>sniffed</body></html>"),
	}
	types := map[string]string{"sp ace/photo 1.jpg": "image/jpeg", "ünïcødé/日本語.png": "image/png", "100%/50%20off.webp": "image/webp",
		"noext": "application/octet-stream"}
	dir := t.TempDir()
	outFile := writeFile(t, filepath.Join(dir, "out.json"), tfOutputJSON(t, map[string]any{
		"bucket": bucket, "region": m.Region, "access_key_id": m.RootUser, "secret_access_key": m.RootPassword, "endpoint": m.Endpoint,
		"key_prefix": "site/",
	}))

	t.Run("table", func(t *testing.T) {
		fx := newFixture(t, files)
		var paths []string
		for p := range files {
			paths = append(paths, p)
		}
		// An absolute path inside the source is accepted too.
		writeFile(t, filepath.Join(fx.src, "abs", "é x.jpg"), "absolute")
		paths = append(paths, filepath.Join(fx.src, "abs", "é x.jpg"), "missing one.jpg", "../outside.jpg", "link-out.jpg")
		dsn, db := appTable(t, paths)
		reportFile := filepath.Join(dir, "table-report.json")
		args := []string{"migrate", "--tf-output", "-", "--source", fx.src, "--db", dsn, "--table", "photos",
			"--path-column", "file", "--flag-column", "on_s3", "--report", reportFile, "--progress", "never", "--log-json"}
		stdin, err := os.ReadFile(outFile)
		if err != nil {
			t.Fatal(err)
		}
		code, _, stderr := run(t, string(stdin), args...)
		if code != ExitOK {
			t.Fatalf("exit code %d; stderr:\n%s", code, stderr)
		}
		rep := readReport(t, reportFile)
		if rep.Uploaded != int64(len(files))+1 || rep.Missing != 1 || rep.Invalid != 2 || rep.Failed != 0 {
			t.Fatalf("report = %+v", rep)
		}
		checkObjects(t, admin, bucket, "site/", files, types)
		checkObjects(t, admin, bucket, "site/", map[string][]byte{"abs/é x.jpg": []byte("absolute")}, nil)
		for p, f := range flags(t, db) {
			_, want := files[p]
			want = want || strings.HasPrefix(p, fx.src)
			if f[0] != fmt.Sprint(want) {
				t.Errorf("row %q flagged = %s, want %v", p, f[0], want)
			}
		}
		// Every log line is JSON with --log-json.
		for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
			if !json.Valid([]byte(line)) {
				t.Errorf("log line is not JSON: %s", line)
			}
		}
		code, _, stderr = run(t, string(stdin), args...)
		if rep := readReport(t, reportFile); code != ExitOK || rep.Uploaded != 0 {
			t.Fatalf("rerun: exit %d, report %+v; stderr:\n%s", code, rep, stderr)
		}
	})

	t.Run("ledger", func(t *testing.T) {
		fx := newFixture(t, files)
		ledger := filepath.Join(t.TempDir(), "ledger.db")
		reportFile := filepath.Join(dir, "ledger-report.json")
		args := []string{"migrate", "--tf-output", outFile, "--source", fx.src, "--ledger", ledger,
			"--key-prefix", "ledger/", "--report", reportFile, "--progress", "never"}
		code, _, stderr := run(t, "", args...)
		if code != ExitOK {
			t.Fatalf("exit code %d; stderr:\n%s", code, stderr)
		}
		rep := readReport(t, reportFile)
		// The walk hands link-out.jpg on like any entry; it points outside: invalid.
		if rep.Uploaded != int64(len(files)) || rep.Failed != 0 || rep.Invalid != 1 {
			t.Fatalf("report = %+v", rep)
		}
		checkObjects(t, admin, bucket, "ledger/", files, types)

		code, _, _ = run(t, "", args...)
		if rep := readReport(t, reportFile); code != ExitOK || rep.Uploaded != 0 {
			t.Fatalf("rerun: exit %d, report %+v", code, rep)
		}

		// A changed file goes up again; the unchanged ones do not.
		changed := []byte("a new version of the photo, longer than before")
		p := filepath.Join(fx.src, "sp ace", "photo 1.jpg")
		if err := os.WriteFile(p, changed, 0o644); err != nil {
			t.Fatal(err)
		}
		later := time.Now().Add(time.Minute)
		if err := os.Chtimes(p, later, later); err != nil {
			t.Fatal(err)
		}
		code, _, stderr = run(t, "", args...)
		if rep := readReport(t, reportFile); code != ExitOK || rep.Uploaded != 1 || rep.Bytes != int64(len(changed)) {
			t.Fatalf("after a change: exit %d, report %+v; stderr:\n%s", code, rep, stderr)
		}
		checkObjects(t, admin, bucket, "ledger/", map[string][]byte{"sp ace/photo 1.jpg": changed}, nil)
	})
}

// TestMigratePostgres runs the table mode on PostgreSQL (keyset pages, advisory-lock claims)
// against MinIO, which verifies checksums.
func TestMigratePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs PostgreSQL and MinIO")
	}
	pg := testbed.StartPostgres(t)
	const bucket = "media"
	m, admin := minioWithBucket(t, bucket)
	files := map[string][]byte{}
	for i := range 120 {
		files[fmt.Sprintf("u/%03d/p %d.jpg", i%7, i)] = randomContent(t, 500+i)
	}
	fx := newFixture(t, files)
	db := postgresTable(t, pg.DSN, `CREATE SCHEMA app; CREATE TABLE app.photos (id bigserial PRIMARY KEY, file text NOT NULL, on_s3 boolean NOT NULL DEFAULT false, etag text, uploaded_at timestamptz)`,
		"app.photos", slices.Collect(maps.Keys(files)))
	if _, err := db.Exec(`INSERT INTO app.photos (file) VALUES ('gone.jpg'), ('../outside.jpg')`); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	outFile := writeFile(t, filepath.Join(dir, "out.json"), tfOutputJSON(t, map[string]any{
		"bucket": bucket, "region": m.Region, "access_key_id": m.RootUser, "secret_access_key": m.RootPassword, "endpoint": m.Endpoint,
	}))
	reportFile := filepath.Join(dir, "report.json")
	t.Setenv(dbEnv, pg.DSN) // the DSN from the environment, as CI would pass a secret
	args := []string{"migrate", "--tf-output", outFile, "--source", fx.src, "--table", "app.photos",
		"--path-column", "file", "--flag-column", "on_s3", "--etag-column", "etag", "--uploaded-at-column", "uploaded_at",
		"--batch-size", "7", "--concurrency", "5", "--report", reportFile, "--progress", "never"}
	code, _, stderr := run(t, "", args...)
	if code != ExitOK {
		t.Fatalf("exit code %d; stderr:\n%s", code, stderr)
	}
	rep := readReport(t, reportFile)
	if rep.Uploaded != 120 || rep.Flagged != 120 || rep.Missing != 1 || rep.Invalid != 1 {
		t.Fatalf("report = %+v", rep)
	}
	var flagged, withETag, withTime int
	if err := db.QueryRow(`SELECT count(*) FILTER (WHERE on_s3), count(etag), count(uploaded_at) FROM app.photos`).Scan(&flagged, &withETag, &withTime); err != nil {
		t.Fatal(err)
	}
	if flagged != 120 || withETag != 120 || withTime != 120 {
		t.Fatalf("flagged %d, with etag %d, with time %d; want 120 each", flagged, withETag, withTime)
	}
	checkObjects(t, admin, bucket, "", files, nil)

	code, _, stderr = run(t, "", args...)
	if rep := readReport(t, reportFile); code != ExitOK || rep.Uploaded != 0 {
		t.Fatalf("rerun: exit %d, report %+v; stderr:\n%s", code, rep, stderr)
	}
}
