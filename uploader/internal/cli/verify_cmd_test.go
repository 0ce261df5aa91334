package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/staticmedia/staticmedia/uploader/internal/catalog"
)

// checkSetup is a source directory, an existing (empty) ledger and Terraform outputs with and
// without public_base_url, for the verify and prune flag tests.
type checkSetup struct {
	src, ledger, out, outNoURL string
	// outReferers lists allowed_referers, outBadReferers ones no page URL can be derived from.
	outReferers, outBadReferers string
}

func newCheckSetup(t *testing.T) checkSetup {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "media")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	settings := map[string]any{"bucket": "media", "region": "us-east-1", "access_key_id": "AKIDEXAMPLE", "secret_access_key": "s3cr3t-never-printed"}
	outNoURL := writeFile(t, filepath.Join(dir, "no-url.json"), tfOutputJSON(t, settings))
	settings["public_base_url"] = "http://127.0.0.1:1/media/"
	settings["allowed_referers"] = []string{"https://*.example.com/*", "https://example.com/*"}
	outReferers := writeFile(t, filepath.Join(dir, "referers.json"), tfOutputJSON(t, settings))
	settings["allowed_referers"] = []string{"*.example.com/*"}
	outBadReferers := writeFile(t, filepath.Join(dir, "bad-referers.json"), tfOutputJSON(t, settings))
	delete(settings, "allowed_referers")
	return checkSetup{
		outReferers:    outReferers,
		outBadReferers: outBadReferers,
		src:            src,
		ledger:         writeFile(t, filepath.Join(dir, "ledger.db"), ""),
		out:            writeFile(t, filepath.Join(dir, "out.json"), tfOutputJSON(t, settings)),
		outNoURL:       outNoURL,
	}
}

func TestVerifyPruneFlags(t *testing.T) {
	t.Parallel()
	// Each case gets its own setup: verify and prune hold the ledger's overlap lock, so two
	// cases on one ledger would find it busy.
	base := func(command string, extra ...string) func(checkSetup) []string {
		return func(c checkSetup) []string {
			return append([]string{command, "--tf-output", c.out, "--source", c.src, "--ledger", c.ledger}, extra...)
		}
	}
	fixed := func(args ...string) func(checkSetup) []string { return func(checkSetup) []string { return args } }
	tests := []struct {
		name       string
		args       func(checkSetup) []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{name: "help lists the commands", args: fixed("--help"), wantCode: ExitOK, wantStdout: "prune        delete local files"},
		{name: "verify help", args: fixed("verify", "--help"), wantCode: ExitOK, wantStdout: "--expect-no-referer STATUS"},
		{name: "help prune", args: fixed("help", "prune"), wantCode: ExitOK, wantStdout: "Without --yes it is a dry run"},
		{name: "referer required", args: base("verify"), wantCode: ExitUsage, wantStderr: "--referer URL is required: the Terraform output \\\"uploader\\\" has no allowed_referers to derive it from"},
		{name: "referer derived from the output", args: func(c checkSetup) []string {
			return []string{"verify", "--tf-output", c.outReferers, "--source", c.src, "--ledger", c.ledger}
		}, wantCode: ExitOK, wantStderr: "referer=https://www.example.com/ foreign_referer="},
		{name: "referer pattern that gives no URL", args: func(c checkSetup) []string {
			return []string{"prune", "--tf-output", c.outBadReferers, "--source", c.src, "--ledger", c.ledger}
		}, wantCode: ExitUsage, wantStderr: "cannot derive a page URL from the Referer pattern"},
		{name: "prune needs the referer too", args: base("prune"), wantCode: ExitUsage, wantStderr: "--referer URL is required"},
		{name: "bad no-Referer expectation", args: base("verify", "--referer", "http://site.test/", "--expect-no-referer", "201"), wantCode: ExitUsage, wantStderr: "--expect-no-referer must be 200, 403 or skip"},
		{name: "negative sample", args: base("verify", "--referer", "http://site.test/", "--sample", "-1"), wantCode: ExitUsage, wantStderr: "--sample must be"},
		{name: "yes and dry run", args: base("prune", "--referer", "http://site.test/", "--yes", "--dry-run"), wantCode: ExitUsage, wantStderr: "--yes and --dry-run are exclusive"},
		{name: "unknown flag", args: base("prune", "--force"), wantCode: ExitUsage, wantStderr: "flag provided but not defined: -force"},
		{
			name: "missing ledger",
			args: func(c checkSetup) []string {
				return []string{"verify", "--tf-output", c.out, "--source", c.src, "--ledger", filepath.Join(c.src, "nope.db"), "--referer", "http://site.test/"}
			},
			wantCode: ExitUsage, wantStderr: "does not exist: pass the ledger migrate wrote",
		},
		{
			name: "no public base URL",
			args: func(c checkSetup) []string {
				return []string{"verify", "--tf-output", c.outNoURL, "--source", c.src, "--ledger", c.ledger, "--referer", "http://site.test/"}
			},
			wantCode: ExitUsage, wantStderr: "has no public_base_url: add it to the output or pass --public-base-url URL",
		},
		{name: "relative referer", args: base("verify", "--referer", "site.test"), wantCode: ExitUsage, wantStderr: "--referer: \\\"site.test\\\" is not an absolute http(s) URL"},
		{name: "foreign referer equals the allowed one", args: base("verify", "--referer", "http://site.test/", "--foreign-referer", "http://site.test/"), wantCode: ExitUsage, wantStderr: "is the allowed --referer"},
		{name: "nothing flagged", args: base("verify", "--referer", "http://site.test/"), wantCode: ExitOK, wantStderr: "checked=0"},
		{name: "nothing to prune", args: base("prune", "--referer", "http://site.test/"), wantCode: ExitOK, wantStdout: "dry run: would delete 0 files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := run(t, "", tt.args(newCheckSetup(t))...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.wantCode, stderr)
			}
			if !strings.Contains(stdout, tt.wantStdout) {
				t.Errorf("stdout = %q, want it to contain %q", stdout, tt.wantStdout)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tt.wantStderr)
			}
			if strings.Contains(stdout+stderr, "s3cr3t-never-printed") {
				t.Error("the secret key was printed")
			}
		})
	}
}

func TestVerifyBadCABundle(t *testing.T) {
	c := newCheckSetup(t)
	t.Setenv(caBundleEnv, writeFile(t, filepath.Join(t.TempDir(), "bundle.pem"), "not a certificate"))
	code, _, stderr := run(t, "", "verify", "--tf-output", c.out, "--source", c.src, "--ledger", c.ledger, "--referer", "http://site.test/")
	if code != ExitUsage || !strings.Contains(stderr, "holds no PEM certificate") {
		t.Fatalf("exit code %d, want 2 naming the bundle problem; stderr:\n%s", code, stderr)
	}
}

// TestVerifyWaitsForMigrate: verify and prune take the catalog's overlap lock like migrate, so a
// scheduled run either stops at once (exit 3) or, with --lock-wait, waits for the migration.
func TestVerifyWaitsForMigrate(t *testing.T) {
	t.Parallel()
	c := newCheckSetup(t)
	held, err := catalog.OpenLedger(context.Background(), catalog.LedgerConfig{Path: c.ledger, Source: c.src})
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"verify", "--tf-output", c.out, "--source", c.src, "--ledger", c.ledger, "--referer", "http://site.test/"}
	if code, _, stderr := run(t, "", args...); code != ExitFatal || !strings.Contains(stderr, "another uploader is running") {
		t.Fatalf("with the ledger held: exit code %d, want 3 naming the other run; stderr:\n%s", code, stderr)
	}
	release := time.AfterFunc(300*time.Millisecond, func() {
		if err := held.Close(); err != nil {
			t.Error(err)
		}
	})
	defer release.Stop()
	if code, _, stderr := run(t, "", append(args, "--lock-wait", "10s")...); code != ExitOK {
		t.Fatalf("--lock-wait: exit code %d, want 0 once the ledger is released; stderr:\n%s", code, stderr)
	}
}
