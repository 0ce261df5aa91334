package catalog

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOverlapLock proves that a second uploader on the same SQLite catalog is refused
// with a clear message, or waits for the first when asked to.
func TestOverlapLock(t *testing.T) {
	t.Parallel()
	type opener func(ctx context.Context, wait time.Duration) (Catalog, error)
	tests := []struct {
		name string
		// setup returns the catalog's file and an opener for it.
		setup func(t *testing.T) (string, opener)
	}{
		{"ledger", func(t *testing.T) (string, opener) {
			path := filepath.Join(t.TempDir(), "ledger.db")
			src := t.TempDir()
			return path, func(ctx context.Context, wait time.Duration) (Catalog, error) {
				return OpenLedger(ctx, LedgerConfig{Path: path, Source: src, LockWait: wait})
			}
		}},
		{"sqlite table", func(t *testing.T) (string, opener) {
			path := filepath.Join(t.TempDir(), "app.db")
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			loadSchema(t, "sqlite", "media", "sqlite:"+path)
			return path, func(ctx context.Context, wait time.Duration) (Catalog, error) {
				cfg := mediaConfig("sqlite:"+path, "media")
				cfg.LockWait = wait
				return OpenTable(ctx, cfg)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path, open := tt.setup(t)
			ctx := context.Background()
			first, err := open(ctx, 0)
			if err != nil {
				t.Fatalf("first open: %v", err)
			}

			_, err = open(ctx, 0)
			var locked *LockedError
			if !errors.As(err, &locked) {
				first.Close()
				t.Fatalf("second open = %v, want a *LockedError", err)
			}
			wantMsg := "another uploader is running on " + path + " (lock " + path + ".lock)"
			if !strings.Contains(err.Error(), wantMsg) {
				t.Errorf("error %q does not say %q", err, wantMsg)
			}

			// A waiting opener gives up when its context ends...
			cctx, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
			_, err = open(cctx, time.Minute)
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("open with an ending context = %v, want context.DeadlineExceeded", err)
			}

			// ...and gets the catalog once the first uploader closes it.
			closed := make(chan error, 1)
			go func() {
				time.Sleep(300 * time.Millisecond)
				closed <- first.Close()
			}()
			second, err := open(ctx, 10*time.Second)
			if err != nil {
				t.Fatalf("waiting open: %v", err)
			}
			if err := <-closed; err != nil {
				t.Errorf("first Close: %v", err)
			}
			if err := second.Pending(ctx, 10, func([]Record) error { return nil }); err != nil {
				t.Errorf("Pending on the second catalog: %v", err)
			}
			if err := second.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
		})
	}
}
