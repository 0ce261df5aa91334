package engine

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// unprivilegedCredential returns who runs an engine that refuses root (PostgreSQL, MariaDB): nil
// (ourselves) unless we are root, then the first of accounts that exists. An empty Groups list
// drops root's supplementary groups.
func unprivilegedCredential(engine string, accounts ...string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	var errs []error
	for _, name := range accounts {
		u, err := user.Lookup(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			errs = append(errs, fmt.Errorf("user %s has a non-numeric uid/gid", name))
			continue
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
	}
	return nil, fmt.Errorf("running as root and no unprivileged user to run %s as (create a user named %s): %w",
		engine, accounts[0], errors.Join(errs...))
}

// handOver gives cred's user the paths when we run as root, after checking that the user can
// reach the first one through its ancestors (or initdb fails with a puzzling error).
func handOver(cred *syscall.Credential, paths ...string) error {
	if cred == nil {
		return nil
	}
	for _, p := range paths {
		if err := os.Chown(p, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("giving %s to uid %d: %w", p, cred.Uid, err)
		}
	}
	for d := filepath.Dir(paths[0]); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%s is not searchable by uid %d, which runs the server; point TMPDIR at a world-searchable directory such as /tmp", d, cred.Uid)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}
