//go:build !unix

package source

import (
	"errors"
	"os"
)

// errIsSymlink is never returned where O_NOFOLLOW does not exist.
var errIsSymlink = errors.New("symlink")

// openNoFollow opens path for reading. Windows has no FIFOs that open(2) would block on, and
// the caller's fstat still refuses anything but a regular file.
func openNoFollow(path string) (*os.File, error) {
	return os.Open(path)
}
