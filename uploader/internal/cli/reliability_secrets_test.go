package cli

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// passwordRole makes PostgreSQL check a password for a new role "uploader" (the test cluster
// trusts everyone otherwise) and gives it the photos table. It returns the role's DSN.
func passwordRole(t *testing.T, dsn, password string) string {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var hba string
	if err := db.QueryRowContext(ctx, "SHOW hba_file").Scan(&hba); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		"SET password_encryption = 'scram-sha-256'",
		"CREATE ROLE uploader LOGIN PASSWORD '" + strings.ReplaceAll(password, "'", "''") + "'",
		"GRANT SELECT, UPDATE ON photos TO uploader",
		// The server writes its own pg_hba.conf: a password line for the role comes first.
		"COPY (SELECT line FROM (VALUES (1, 'host all uploader 127.0.0.1/32 scram-sha-256'), (2, 'host all all 127.0.0.1/32 trust'), (3, 'local all all trust')) v(n, line) ORDER BY n) TO '" + hba + "'",
		"SELECT pg_reload_conf()",
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%.40s: %v", stmt, err)
		}
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("uploader", password)
	return u.String()
}

// TestReliabilityNoSecretsInOutput runs the uploader binary with a secret access key (from the
// Terraform output) and a PostgreSQL password (on the command line and from UPLOADER_DB) that
// the server really checks, through every command's help, successful runs at trace level in
// text and JSON, a wrong password and a wrong secret key, and greps
// stdout, stderr and the JSON report for the secrets in every encoding a URL gives them.
func TestReliabilityNoSecretsInOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs PostgreSQL and MinIO; runs the uploader binary")
	}
	t.Parallel()
	uploaderBinary(t)
	bed := newPGBed(t, 50, "secrets")
	site, src := bed.site, bed.src
	m := site.minio
	const password = "Pw/9f3a#q!@long:x%y"
	pwDSN := passwordRole(t, bed.dsn, password)
	secret := m.RootPassword
	dir := t.TempDir()
	report := filepath.Join(dir, "report.json")
	wrongSecret := writeFile(t, filepath.Join(dir, "wrong-secret.json"), tfOutputJSON(t, map[string]any{
		"bucket": site.bucket, "region": m.Region, "access_key_id": m.RootUser, "secret_access_key": secret + "0",
		"endpoint": m.Endpoint,
	}))
	migrateArgs := func(out string, extra ...string) []string {
		return append([]string{"migrate", "--tf-output", out, "--source", src, "--progress", "never",
			"--table", "photos", "--path-column", "file", "--flag-column", "on_s3", "--report", report}, extra...)
	}
	withDB := withEnv(dbEnv + "=" + pwDSN)
	wrongPW := strings.Replace(pwDSN, url.PathEscape(password), url.PathEscape(password+"0"), 1)
	if wrongPW == pwDSN {
		u, _ := url.Parse(pwDSN)
		u.User = url.UserPassword("uploader", password+"0")
		wrongPW = u.String()
	}

	type run struct {
		name     string
		args     []string
		opts     []procOption
		wantCode int
	}
	var runs []run
	for _, c := range commands() {
		runs = append(runs, run{c.name + " --help", []string{c.name, "--help", "--db", pwDSN}, []procOption{withDB}, -1})
	}
	runs = append(runs,
		run{"help", []string{"help"}, []procOption{withDB}, ExitOK},
		run{"migrate, --db, trace", migrateArgs(site.tfOutput, "--db", pwDSN, "--log-level", "trace", "--limit", "20"), nil, ExitOK},
		run{"migrate, UPLOADER_DB, JSON log and report on stdout", append(migrateArgs(site.tfOutput, "--log-level", "trace", "--log-json"), "--report", "-"), []procOption{withDB}, ExitOK},
		run{"migrate, wrong password", migrateArgs(site.tfOutput, "--db", wrongPW, "--log-level", "trace"), nil, ExitFatal},
		run{"migrate, wrong secret key", migrateArgs(wrongSecret, "--log-level", "trace"), []procOption{withDB}, ExitFatal},
	)
	forbidden := map[string]string{}
	for _, s := range []string{password, password + "0", secret, secret + "0"} {
		for _, enc := range []string{s, url.QueryEscape(s), url.PathEscape(s), url.UserPassword("u", s).String()[2:]} {
			forbidden[enc] = s
		}
	}
	for _, r := range runs {
		os.Remove(report)
		start := time.Now()
		code, stdout, stderr := runUploader(t, 90*time.Second, r.args, r.opts...)
		if r.wantCode >= 0 && code != r.wantCode {
			t.Errorf("%s: exit %d, want %d; stderr:\n%s", r.name, code, r.wantCode, tail(stderr, 2000))
		}
		outputs := map[string]string{"stdout": stdout, "stderr": stderr}
		if data, err := os.ReadFile(report); err == nil {
			outputs["report"] = string(data)
		}
		if strings.HasPrefix(r.name, "migrate,") && outputs["report"] == "" && !strings.Contains(stdout, `"uploaded"`) {
			t.Errorf("%s: no report was written", r.name)
		}
		for where, text := range outputs {
			for enc := range forbidden {
				if strings.Contains(text, enc) {
					t.Errorf("%s: %s contains a secret (%q):\n%s", r.name, where, enc, tail(text, 2000))
				}
			}
		}
		t.Logf("%s: exit %d in %s, %d bytes of output checked", r.name, code, time.Since(start).Round(time.Millisecond), len(stdout)+len(stderr)+len(outputs["report"]))
	}
}
