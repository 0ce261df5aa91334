//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package catalog

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

var errWouldBlock = unix.EWOULDBLOCK

// tryLock takes a non-blocking exclusive flock. flock (unlike fcntl locks) belongs to the
// open file description, so two opens in one process exclude each other too.
func tryLock(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
