package catalog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// LockedError is returned when another uploader holds the catalog's lock file.
type LockedError struct {
	Catalog  string // the database or ledger file
	LockFile string
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("another uploader is running on %s (lock %s): wait for it to finish, or let this run wait for the lock", e.Catalog, e.LockFile)
}

// lockPollInterval is how often a waiting opener retries the lock.
const lockPollInterval = 100 * time.Millisecond

// fileLock is an exclusive advisory lock on a file, held until release.
type fileLock struct {
	f *os.File
}

// acquireLock takes the exclusive lock on catalog+".lock", creating the file if needed.
// When another process holds it, acquireLock waits up to wait (0: not at all) before
// returning a *LockedError. The lock file is left in place on release: deleting it would
// let a waiter lock a file that a newcomer no longer sees.
func acquireLock(ctx context.Context, catalog string, wait time.Duration) (*fileLock, error) {
	path := catalog + ".lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644) //nolint:gosec // G302: holds no data; other users may need to see the lock
	if err != nil {
		return nil, fmt.Errorf("open lock file %s: %w", path, err)
	}
	deadline := time.Now().Add(wait)
	for {
		err := tryLock(f)
		if err == nil {
			return &fileLock{f: f}, nil
		}
		if !errors.Is(err, errWouldBlock) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !time.Now().Before(deadline) {
			f.Close()
			return nil, &LockedError{Catalog: catalog, LockFile: path}
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for lock %s: %w", path, ctx.Err())
		case <-time.After(lockPollInterval):
		}
	}
}

// release gives the lock up; closing the descriptor drops the flock.
func (l *fileLock) release() error {
	if l == nil {
		return nil
	}
	return l.f.Close()
}
