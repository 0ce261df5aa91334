package testbed

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"time"
)

// waitReady polls check until it succeeds, the engine exits, or readyTimeout passes. The error says
// which, and carries the last check error.
// readyTimeout bounds an engine's start; the slowest (MinIO on a busy CI machine) takes a few seconds.
const readyTimeout = 60 * time.Second

func waitReady(p *process, check func(ctx context.Context) error) error {
	deadline := time.Now().Add(readyTimeout)
	var last error
	for {
		if p.exited() {
			if last == nil {
				return fmt.Errorf("%s exited before it was ready", p.name)
			}
			return fmt.Errorf("%s exited before it was ready (last check: %w)", p.name, last)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		last = check(ctx)
		cancel()
		if last == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s: %w", p.name, readyTimeout, last)
		}
		time.Sleep(100 * time.Millisecond)
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
func (p *process) failed(readyErr error) (exitedEarly bool, err error) {
	if readyErr == nil {
		return false, nil
	}
	exitedEarly = p.exited()
	err = fmt.Errorf("%w\n%s", readyErr, p.describe())
	_ = p.stop(syscall.SIGINT, 15*time.Second)
	return exitedEarly, err
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
