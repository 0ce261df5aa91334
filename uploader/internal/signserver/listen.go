package signserver

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"
)

// DefaultListen is the signer's address unless told otherwise: loopback, so only the
// application on the same host can reach it.
const DefaultListen = "127.0.0.1:8791"

// UnixPrefix marks a unix socket address: unix:/run/uploader/signer.sock.
const UnixPrefix = "unix:"

// ListenError is an address the signer cannot listen on, named with the fix.
type ListenError struct {
	Addr    string
	Problem string
	Err     error
}

func (e *ListenError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("--listen %s: %s: %v", e.Addr, e.Problem, e.Err)
	}
	return fmt.Sprintf("--listen %s: %s", e.Addr, e.Problem)
}

func (e *ListenError) Unwrap() error { return e.Err }

// Listen listens on addr: HOST:PORT for TCP, or unix:PATH for a unix socket that only the
// signer's user may connect to (mode 0600). A socket file left by a signer that is gone is
// replaced; one a live signer answers on, or a file that is not a socket, is an error.
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	path, isUnix := strings.CutPrefix(addr, UnixPrefix)
	if !isUnix {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, &ListenError{Addr: addr, Problem: "not HOST:PORT or unix:PATH (e.g. " + DefaultListen + ")", Err: err}
		}
		if host == "" {
			return nil, &ListenError{Addr: addr, Problem: "no host: an empty host listens on every interface; give 127.0.0.1:PORT (or the interface's address on purpose)"}
		}
		l, err := lc.Listen(ctx, "tcp", addr)
		if err != nil {
			return nil, &ListenError{Addr: addr, Problem: "cannot listen", Err: err}
		}
		return l, nil
	}
	if path == "" {
		return nil, &ListenError{Addr: addr, Problem: "no socket path: give unix:/run/uploader/signer.sock"}
	}
	if err := removeStaleSocket(ctx, path); err != nil {
		return nil, &ListenError{Addr: addr, Problem: "cannot use the socket path", Err: err}
	}
	l, err := lc.Listen(ctx, "unix", path)
	if err != nil {
		return nil, &ListenError{Addr: addr, Problem: "cannot listen", Err: err}
	}
	// The socket is created with the umask's mode; only the signer's user (and root) may
	// connect. Connecting needs write permission on the socket on Linux.
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, &ListenError{Addr: addr, Problem: "cannot restrict the socket to its owner", Err: err}
	}
	return l, nil
}

// removeStaleSocket removes a socket file nobody answers on.
func removeStaleSocket(ctx context.Context, path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return errors.New("a file that is not a socket is in the way: remove it or choose another path")
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err == nil {
		c.Close()
		return errors.New("another process answers on this socket: stop it or choose another path")
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return err
	}
	return os.Remove(path)
}

// IsLoopback reports whether l only takes connections from this host: a unix socket or a
// loopback address.
func IsLoopback(l net.Listener) bool {
	switch a := l.Addr().(type) {
	case *net.UnixAddr:
		return true
	case *net.TCPAddr:
		return a.IP.IsLoopback()
	}
	return false
}
