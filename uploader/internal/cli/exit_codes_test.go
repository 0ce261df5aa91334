package cli

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCatalogSettingsExitCodes checks that a catalog setting that cannot work exits 2 with the
// flag to fix named, in every command that opens a catalog, while a database that cannot be
// reached (where a retry may help) exits 3.
func TestCatalogSettingsExitCodes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := writeFile(t, filepath.Join(dir, "out.json"), tfOutputJSON(t, map[string]any{
		"bucket": "media", "region": "us-east-1", "endpoint": "http://127.0.0.1:1", "public_base_url": "http://127.0.0.1:1/media/",
	}))
	src := filepath.Join(dir, "media")
	writeFile(t, filepath.Join(src, "a.jpg"), "a")
	app := filepath.Join(dir, "app.db")
	db, err := sql.Open("sqlite", app)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE photos (id INTEGER PRIMARY KEY, file TEXT NOT NULL, on_s3 BOOLEAN)`); err != nil {
		t.Fatal(err)
	}
	table := func(dsn, tbl, path, flag string) []string {
		return []string{"--db", dsn, "--table", tbl, "--path-column", path, "--flag-column", flag}
	}
	commands := map[string][]string{
		"migrate": {"migrate", "--tf-output", out, "--source", src, "--progress", "never"},
		"verify":  {"verify", "--tf-output", out, "--source", src, "--referer", "https://www.example.com/"},
		"prune":   {"prune", "--tf-output", out, "--source", src, "--referer", "https://www.example.com/"},
	}
	tests := []struct {
		name     string
		catalog  []string
		wantCode int
		want     []string
	}{
		{"misspelled flag column", table("sqlite:"+app, "photos", "file", "on_s4"), ExitUsage,
			[]string{`--flag-column: flag column \"on_s4\" not found in table \"photos\" (its columns: id, file, on_s3)`}},
		{"misspelled path column", table("sqlite:"+app, "photos", "files", "on_s3"), ExitUsage,
			[]string{`--path-column: path column \"files\" not found`}},
		{"misspelled table", table("sqlite:"+app, "photo", "file", "on_s3"), ExitUsage,
			[]string{`--table: table \"photo\" cannot be read`}},
		{"missing sqlite file", table("sqlite:"+filepath.Join(dir, "nope.db"), "photos", "file", "on_s3"), ExitUsage,
			[]string{"--db: sqlite database", "nope.db cannot be used (give the application's database file; the uploader never creates one)"}},
		{"postgres DSN that does not parse", table("postgres://app:pw@127.0.0.1:notaport/app", "photos", "file", "on_s3"), ExitUsage,
			[]string{"--db: invalid postgres dsn"}},
		{"postgres DSN with a bad parameter", table("postgres://app@127.0.0.1:1/app?sslmode=sometimes", "photos", "file", "on_s3"), ExitUsage,
			[]string{"--db: connect to postgres://app@127.0.0.1:1/app", "sslmode"}},
		{"unreachable database", table("postgres://app@127.0.0.1:1/app?connect_timeout=5", "photos", "file", "on_s3"), ExitFatal,
			[]string{"cannot open the catalog", "connect to postgres://app@127.0.0.1:1/app"}},
	}
	for _, tt := range tests {
		for _, name := range []string{"migrate", "verify", "prune"} {
			t.Run(name+" "+tt.name, func(t *testing.T) {
				t.Parallel()
				args := append(append([]string{}, commands[name]...), tt.catalog...)
				code, _, stderr := run(t, "", args...)
				if code != tt.wantCode {
					t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, stderr)
				}
				for _, w := range tt.want {
					if !strings.Contains(stderr, w) {
						t.Errorf("stderr does not contain %q:\n%s", w, stderr)
					}
				}
			})
		}
	}
}

// TestHelpListsEveryExitCode checks that each command's help explains every exit code it can
// return, with what exit 2 covers for the catalog.
func TestHelpListsEveryExitCode(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"migrate", "verify", "prune"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			code, stdout, _ := run(t, "", name, "--help")
			if code != ExitOK {
				t.Fatalf("exit %d", code)
			}
			_, codes, _ := strings.Cut(stdout, "\nExit codes:\n")
			for _, c := range []int{ExitOK, ExitFailed, ExitUsage, ExitFatal} {
				if !regexp.MustCompile(fmt.Sprintf(`(?m)^  %d  \S`, c)).MatchString(codes) {
					t.Errorf("%s --help does not explain exit code %d:\n%s", name, c, codes)
				}
			}
			for _, w := range []string{"sqlite: file that does not", "table or column that is not there", "another uploader holds"} {
				if !strings.Contains(strings.Join(strings.Fields(codes), " "), w) {
					t.Errorf("%s --help's exit codes do not mention %q:\n%s", name, w, codes)
				}
			}
		})
	}
}
