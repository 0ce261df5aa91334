//go:build unix

package source

import (
	"errors"
	"os"
	"syscall"
)

// errIsSymlink is what openNoFollow's error wraps when the path's last element is a symlink.
var errIsSymlink = syscall.ELOOP

// openNoFollow opens path for reading without blocking (a FIFO or a device opens at once, for
// the caller's fstat to refuse) and without following a symlink in its last element. Regular
// files ignore O_NONBLOCK, so reads stay ordinary.
func openNoFollow(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil && errors.Is(err, syscall.ELOOP) {
		return nil, errIsSymlink
	}
	return f, err
}
