//go:build darwin || freebsd || netbsd

package catalog

import (
	"io/fs"
	"syscall"
	"time"
)

// FileIdentity returns the status-change time and inode number of fi, as restic compares them
// to notice a file replaced by one of the same size and mtime.
func FileIdentity(fi fs.FileInfo) (ctime time.Time, inode uint64) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return time.Time{}, 0
	}
	return time.Unix(st.Ctimespec.Unix()), uint64(st.Ino) //nolint:unconvert // uint32 on some systems
}
