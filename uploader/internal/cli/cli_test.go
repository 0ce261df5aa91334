package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run calls Run as main does and returns the exit code and both streams.
func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr, "v1.2.3-test")
	return code, stdout.String(), stderr.String()
}

// tfOutputJSON is what `terraform output -json` prints for the uploader output.
func tfOutputJSON(t *testing.T, value map[string]any) string {
	t.Helper()
	types := map[string]string{}
	for k := range value {
		types[k] = "string"
	}
	data, err := json.MarshalIndent(map[string]any{
		"uploader": map[string]any{"sensitive": true, "type": []any{"object", types}, "value": value},
	}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunCommands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{args: nil, wantCode: ExitUsage, wantStderr: "Usage: uploader <command>"},
		{args: []string{"--help"}, wantCode: ExitOK, wantStdout: "migrate"},
		{args: []string{"help"}, wantCode: ExitOK, wantStdout: "Exit codes:"},
		{args: []string{"help", "migrate"}, wantCode: ExitOK, wantStdout: "--tf-output FILE"},
		{args: []string{"migrate", "--help"}, wantCode: ExitOK, wantStdout: "--flag-column"},
		{args: []string{"version"}, wantCode: ExitOK, wantStdout: "uploader v1.2.3-test"},
		{args: []string{"--version"}, wantCode: ExitOK, wantStdout: "v1.2.3-test"},
		{args: []string{"upload"}, wantCode: ExitUsage, wantStderr: `unknown command "upload"`},
		{args: []string{"help"}, wantCode: ExitOK, wantStdout: "serve-signer serve presigned POST forms"},
		{args: []string{"help", "sign-post"}, wantCode: ExitOK, wantStdout: "--content-type TYPE"},
		{args: []string{"serve-signer", "--help"}, wantCode: ExitOK, wantStdout: "Authorization: Bearer $UPLOADER_SIGNER_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := run(t, "", tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.wantCode, stderr)
			}
			if !strings.Contains(stdout, tt.wantStdout) {
				t.Errorf("stdout = %q, want it to contain %q", stdout, tt.wantStdout)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tt.wantStderr)
			}
		})
	}
}

// TestMigrateUsageErrors checks that every configuration mistake exits 2 before any I/O with a
// message that names the flag and the fix.
func TestMigrateUsageErrors(t *testing.T) {
	dir := t.TempDir()
	out := writeFile(t, filepath.Join(dir, "out.json"), tfOutputJSON(t, map[string]any{"bucket": "media", "region": "us-east-1"}))
	noRegion := writeFile(t, filepath.Join(dir, "noregion.json"), tfOutputJSON(t, map[string]any{"bucket": "media"}))
	src := filepath.Join(dir, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	base := []string{"migrate", "--tf-output", out, "--source", src, "--progress", "never"}
	db := []string{"--db", "sqlite:" + filepath.Join(dir, "app.db"), "--table", "photos", "--path-column", "file", "--flag-column", "on_s3"}
	with := func(extra ...string) []string { return append(append([]string{}, base...), extra...) }
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no output", []string{"migrate", "--source", src}, "--tf-output FILE (or - for stdin) or --tf-dir DIR is required"},
		{"both outputs", with("--tf-dir", dir), "--tf-output and --tf-dir are exclusive"},
		{"no source", []string{"migrate", "--tf-output", out}, "--source DIR is required"},
		{"positional", with("media/"), `unexpected argument "media/"`},
		{"unknown flag", with("--bucket", "x"), "flag provided but not defined: -bucket"},
		{"table without db", with("--table", "photos"), "--table needs --db"},
		{"ledger with db", with(append(db, "--ledger", "x.db")...), "--ledger is for ledger mode"},
		{"db scheme", with("--db", "oracle://u:pw@h/db", "--table", "t", "--path-column", "p", "--flag-column", "f"), "unsupported database"},
		{"db without table", with("--db", "sqlite:x.db", "--path-column", "p", "--flag-column", "f"), "--table is required with --db"},
		{"db without flag column", with("--db", "sqlite:x.db", "--table", "t", "--path-column", "p"), "--flag-column is required with --db"},
		{"injection in table", with("--db", "sqlite:x.db", "--table", "photos; DROP TABLE users", "--path-column", "p", "--flag-column", "f"), "--table: identifier"},
		{"dotted column", with("--db", "sqlite:x.db", "--table", "t", "--path-column", "t.p", "--flag-column", "f"), "--path-column \"t.p\": a column name has no dot"},
		{"progress", with("--progress", "sometimes"), "--progress must be auto, always or never"},
		{"log level", with("--log-level", "loud"), "--log-level must be"},
		{"size", with("--part-size", "big"), "is not a size"},
		{"part size", with("--part-size", "1MiB"), "--part-size: must be between 5 MiB and 5 GiB"},
		{"concurrency", with("--concurrency", "-3"), "--concurrency: must be between 1"},
		{"batch size", with("--batch-size", "0"), "--batch-size: must be between 1 and 10000"},
		{"limit", with("--limit", "-1"), "--limit: must be 0"},
		{"checksum", with("--checksum", "sha256"), "--checksum: must be crc32c or md5"},
		{"storage class", with("--storage-class", "FAST"), "is not one of STANDARD, REDUCED_REDUNDANCY, STANDARD_IA"},
		{"storage class glacier", with("--storage-class", "GLACIER"), "INTELLIGENT_TIERING"},
		{"active content", with("--active-content", "inline"), "--active-content: must be attachment, refuse, allow"},
		{"min age", with("--min-age", "-1m"), "--min-age: must not be negative"},
		{"missing output file", []string{"migrate", "--tf-output", filepath.Join(dir, "nope.json"), "--source", src}, "nope.json: no such file"},
		{"output without region", []string{"migrate", "--tf-output", noRegion, "--source", src}, `has no \"region\"`},
		{"not json on stdin", []string{"migrate", "--tf-output", "-", "--source", src}, "not valid JSON"},
		{"source missing", []string{"migrate", "--tf-output", out, "--source", filepath.Join(dir, "nope"), "--ledger", filepath.Join(dir, "l.db")}, "--source: stat"},
	}
	// Run from inside the media tree, the default ledger would be served with it. (t.Chdir:
	// this test is not parallel.)
	t.Run("default ledger inside source", func(t *testing.T) {
		sub := filepath.Join(src, "2024")
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Chdir(sub)
		code, _, stderr := run(t, "", base...)
		want := "the default ledger uploader-ledger.db would be created in the working directory " + sub + ", inside --source " + src
		if code != ExitUsage || !strings.Contains(stderr, want) || !strings.Contains(stderr, "pass --ledger FILE outside --source") {
			t.Errorf("exit code = %d, want %d; stderr does not contain %q:\n%s", code, ExitUsage, want, stderr)
		}
		if _, err := os.Stat(filepath.Join(sub, "uploader-ledger.db")); err == nil {
			t.Error("the ledger was created in the media tree")
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, "uploader = <sensitive>\n", tt.args...)
			if code != ExitUsage {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", code, ExitUsage, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr does not contain %q:\n%s", tt.want, stderr)
			}
		})
	}
}

// TestNoSecretsInHelpOrErrors runs the help and failing commands with a DSN password and a secret
// key everywhere a user could put them, and greps every output for them.
func TestNoSecretsInHelpOrErrors(t *testing.T) {
	const pw, secret = "pw-Sup3rS3cret", "SECRETdoNotLeak/0123456789abcdefghijklmn"
	t.Setenv(dbEnv, "postgres://app:"+pw+"@127.0.0.1:1/app")
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	dir := t.TempDir()
	out := writeFile(t, filepath.Join(dir, "out.json"), tfOutputJSON(t, map[string]any{
		"bucket": "media", "region": "us-east-1", "access_key_id": "AKIAEXAMPLE", "secret_access_key": secret,
		"endpoint": "http://127.0.0.1:1",
	}))
	src := filepath.Join(dir, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	cases := [][]string{
		{"--help"},
		{"migrate", "--help"},
		{"migrate", "--db", "postgres://app:" + pw + "@127.0.0.1:1/app", "--help"},
		{"migrate", "--db", "oracle://app:" + pw + "@127.0.0.1:1/app", "--tf-output", out, "--source", src, "--table", "t", "--path-column", "p", "--flag-column", "f"},
		// The database is unreachable: exit 3, with the DSN redacted in the logs.
		{"migrate", "--tf-output", out, "--source", src, "--table", "t", "--path-column", "p", "--flag-column", "f", "--log-level", "trace", "--progress", "never"},
		{"migrate", "--tf-output", out, "--source", src, "--table", "t", "--path-column", "p", "--flag-column", "f", "--log-json", "--progress", "never"},
	}
	for _, args := range cases {
		code, stdout, stderr := run(t, "", args...)
		all := stdout + stderr
		if strings.Contains(all, pw) || strings.Contains(all, secret) {
			t.Errorf("uploader %s (exit %d) printed a secret:\n%s", strings.Join(args, " "), code, all)
		}
		if code == ExitFatal && !strings.Contains(all, "xxxxx") {
			t.Errorf("uploader %s: the redacted DSN is not in the log:\n%s", strings.Join(args, " "), all)
		}
	}
}

func TestParseSize(t *testing.T) {
	t.Parallel()
	tests := map[string]int64{
		"0": 0, "5242880": 5 << 20, "16MiB": 16 << 20, "16mib": 16 << 20, "8MB": 8_000_000, "512KiB": 512 << 10,
		"512k": 512 << 10, "1GiB": 1 << 30, "1.5GiB": 3 << 29, "100B": 100, " 5 MiB ": 5 << 20,
	}
	for in, want := range tests {
		got, err := parseSize(in)
		if err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MiB", "-1MiB", "16 TiB", "ten"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) succeeded, want an error", bad)
		}
	}
}
