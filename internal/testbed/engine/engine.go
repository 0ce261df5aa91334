// Package engine starts real storage and database engines on 127.0.0.1: moto (S3, IAM and STS),
// MinIO (S3), a throwaway PostgreSQL cluster and a MariaDB server. It is the core of the test
// bed: package testbed wraps it for tests, and the benchmark (uploader/bench) uses it directly.
//
// Every Start function takes a context, returns an error that names the engine and the fix, and
// never prints, fails a test or exits. Engines listen on free loopback ports picked per start
// (retried on a new port when another process takes it first), run as children in their own
// process group with a parent-death signal (package proc), and run as an unprivileged user when
// the caller is root and the engine refuses root. Close stops an engine, waits for its exit and
// removes its directory.
//
// Versions are pinned in .ci/versions, read by `make engines` and by Find.
package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/staticmedia/staticmedia/internal/testbed/proc"
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. Another process can take it
// before the engine binds it; the Start functions retry on a new port when that happens.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port on 127.0.0.1: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// readyTimeout bounds an engine's start; the slowest (MinIO on a busy CI machine) takes a few
// seconds.
const readyTimeout = 60 * time.Second

// stopAfter is how long Stop and Close wait for a server told to shut down before killing it.
const stopAfter = 15 * time.Second

// waitReady polls check until it succeeds, the engine exits, ctx ends or readyTimeout passes.
// The error says which, and carries the last check error.
func waitReady(ctx context.Context, p *proc.Process, check func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeoutCause(ctx, readyTimeout, fmt.Errorf("not ready after %s", readyTimeout))
	defer cancel()
	var last error
	for {
		if p.Exited() {
			if last == nil {
				return fmt.Errorf("%s exited before it was ready", p.Name())
			}
			return fmt.Errorf("%s exited before it was ready (last check: %w)", p.Name(), last)
		}
		cctx, ccancel := context.WithTimeout(ctx, 2*time.Second)
		last = check(cctx)
		ccancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			// The cause is "not ready after 1m0s", or the caller's cancellation.
			return fmt.Errorf("%s: %w: %w", p.Name(), context.Cause(ctx), last)
		case <-p.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// retryOnNewPort calls start up to three times while it fails because the engine exited by itself,
// which is how losing the race for a port between FreePort and the engine's bind shows. start picks
// its ports itself.
func retryOnNewPort(start func() (exitedEarly bool, err error)) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var exitedEarly bool
		if exitedEarly, err = start(); err == nil || !exitedEarly {
			return err
		}
	}
	return err
}

// failed turns a readiness error into start's result: nil stays nil; otherwise the engine is
// stopped, and the error carries its output and whether it had exited by itself.
func failed(p *proc.Process, readyErr error) (exitedEarly bool, err error) {
	if readyErr == nil {
		return false, nil
	}
	exitedEarly = p.Exited()
	err = fmt.Errorf("%w\n%s", readyErr, p.Describe())
	_ = p.Stop(syscall.SIGINT, stopAfter)
	return exitedEarly, err
}

// waitExit waits up to limit for a short-lived helper (initdb, mariadb-install-db) and returns
// an error quoting its output when it fails or takes too long.
func waitExit(ctx context.Context, p *proc.Process, limit time.Duration) error {
	select {
	case <-p.Done():
	case <-ctx.Done():
		_ = p.Stop(syscall.SIGKILL, 0)
		return fmt.Errorf("%s interrupted (%w)\n%s", p.Name(), context.Cause(ctx), p.Describe())
	case <-time.After(limit):
		_ = p.Stop(syscall.SIGKILL, 0)
		return fmt.Errorf("%s did not finish in %s\n%s", p.Name(), limit, p.Describe())
	}
	if p.Err() != nil {
		return fmt.Errorf("%s failed\n%s", p.Name(), p.Describe())
	}
	return nil
}

// httpCall makes one plain HTTP request to a loopback engine and returns the status and the start
// of the body. It ignores proxy settings from the environment and keeps no idle connections to an
// engine that is about to be killed.
func httpCall(ctx context.Context, method, url, contentType, body string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(b), nil
}

// openLog opens path for appending engine output; "" means no log file.
func openLog(engine, path string) (*os.File, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%s: opening its log: %w", engine, err)
	}
	return f, nil
}

// logWriter is f as an io.Writer, nil (no log) when f is nil: a nil *os.File in an interface is
// not a nil interface.
func logWriter(f *os.File) io.Writer {
	if f == nil {
		return nil
	}
	return f
}

// randomHex returns 2n random hex digits, for generated credentials.
func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random bytes: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// closeAll runs each step and joins their errors: what Close does for every engine.
func closeAll(steps ...func() error) error {
	var errs []error
	for _, step := range steps {
		if err := step(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
