// Package testbed starts real storage and database engines on 127.0.0.1 for tests: moto (S3, IAM
// and STS), MinIO (S3) and a throwaway PostgreSQL cluster.
//
// Every engine is a child process in its own process group, started with a parent-death signal,
// and killed (group and all) by t.Cleanup; the cleanup waits for the exit, so a finished test
// leaves nothing running. Engines listen on free loopback ports picked per start, so tests may run
// in parallel, each with its own engine.
//
// When the test binary itself is killed hard (SIGKILL, so no cleanup runs), the engines still die
// from the parent-death signal, but their temporary directories remain, and so does PostgreSQL's
// small SysV shared memory segment (ipcs -m; ipcrm -m ID).
//
// A missing engine binary fails the test when CI=true and skips it loudly otherwise (see Require).
package testbed

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RepoRoot returns the directory holding go.mod, found by walking up from the working directory
// (go test runs each package in its own directory).
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("testbed: working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("testbed: no go.mod above the working directory; run the tests from inside the repository")
		}
		dir = parent
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. Another process can take it
// before the engine binds it; the Start functions retry on a new port when that happens.
func FreePort(t testing.TB) int {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	return port
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, errors.Join(errors.New("finding a free port on 127.0.0.1"), err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// InCI reports whether the tests run under CI (CI=true), where a missing engine is a failure
// rather than a skip: a green CI run must mean the integration tests ran.
func InCI() bool { return os.Getenv("CI") == "true" }

// Require returns the absolute path of binary, or ends the test: t.Fatalf under CI=true, t.Skipf
// otherwise, naming the binary and installHint.
//
// "minio" is looked up in $STATICMEDIA_MINIO first; "minio" and "tofu" in RepoRoot/.bin (where
// `make engines` links them); then every binary in PATH.
func Require(t testing.TB, binary, installHint string) string {
	t.Helper()
	if binary == "minio" {
		if env := os.Getenv("STATICMEDIA_MINIO"); env != "" {
			// An explicit setting that does not work is a mistake to report, not to skip past.
			p, err := lookAbs(env)
			if err != nil {
				t.Fatalf("testbed: STATICMEDIA_MINIO=%q is not an executable: %v", env, err)
			}
			return p
		}
	}
	if binary == "minio" || binary == "tofu" {
		if p, err := lookAbs(filepath.Join(RepoRoot(t), ".bin", binary)); err == nil {
			return p
		}
	}
	if p, err := lookAbs(binary); err == nil {
		return p
	}
	if InCI() {
		t.Fatalf("testbed: %s not found (CI=true, so this is a failure): install it with %s", binary, installHint)
		return ""
	}
	t.Skipf("testbed: SKIPPING, %s not found: install it with %s (under CI=true this fails)", binary, installHint)
	return ""
}

// lookAbs is exec.LookPath made absolute.
func lookAbs(file string) (string, error) {
	p, err := exec.LookPath(file)
	if err != nil {
		return "", err
	}
	return filepath.Abs(p)
}
