// Package testbed starts real storage and database engines on 127.0.0.1 for tests: moto (S3, IAM
// and STS), MinIO (S3), a throwaway PostgreSQL cluster and MariaDB. It wraps the
// error-returning core in package engine (which the benchmark uses directly) for testing.TB:
// a start that fails ends the test, and t.Cleanup stops the engine. The wrappers pass
// context.Background(), not t.Context(), which is cancelled before cleanups run.
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
	"os"
	"testing"

	"github.com/staticmedia/staticmedia/internal/testbed/engine"
)

// Install hints, as package engine reports them.
const (
	MinIOInstallHint    = engine.MinIOInstallHint
	MotoInstallHint     = engine.MotoInstallHint
	PostgresInstallHint = engine.PostgresInstallHint
	MySQLInstallHint    = engine.MySQLInstallHint
)

// RepoRoot returns the directory holding go.mod, found by walking up from the working directory
// (go test runs each package in its own directory).
func RepoRoot(t testing.TB) string {
	t.Helper()
	root, err := engine.RepoRoot()
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	return root
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. Another process can take it
// before the engine binds it; the Start functions retry on a new port when that happens.
func FreePort(t testing.TB) int {
	t.Helper()
	port, err := engine.FreePort()
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	return port
}

// InCI reports whether the tests run under CI (CI=true), where a missing engine is a failure
// rather than a skip: a green CI run must mean the integration tests ran.
func InCI() bool { return os.Getenv("CI") == "true" }

// Require returns the absolute path of binary, found by engine.Find (which is where the
// benchmark looks too), or ends the test. A binary found nowhere ends it with t.Fatalf under
// CI=true and t.Skipf otherwise, naming the binary and installHint; any other problem (a
// STATICMEDIA_MINIO that names no executable, a MinIO that is not the pinned version) is a
// failure, not a reason to skip.
func Require(t testing.TB, binary, installHint string) string {
	t.Helper()
	p, err := engine.Find(binary)
	var notFound *engine.NotFoundError
	switch {
	case err == nil:
		return p
	case !errors.As(err, &notFound):
		t.Fatalf("testbed: %v", err)
	case InCI():
		t.Fatalf("testbed: %s not found (CI=true, so this is a failure): install it with %s", binary, installHint)
	default:
		t.Skipf("testbed: SKIPPING, %s not found: install it with %s (under CI=true this fails)", binary, installHint)
	}
	return ""
}

// requireAll is Require for each binary an engine needs, so a missing engine skips (or fails
// under CI) before anything starts.
func requireAll(t testing.TB, installHint string, binaries ...string) {
	t.Helper()
	for _, b := range binaries {
		Require(t, b, installHint)
	}
}

// closeOnCleanup has t.Cleanup close an engine; an engine that will not stop is a test failure,
// not a leak.
func closeOnCleanup(t testing.TB, name string, closer interface{ Close() error }) {
	t.Cleanup(func() {
		if err := closer.Close(); err != nil {
			t.Errorf("testbed: stopping %s: %v", name, err)
		}
	})
}
