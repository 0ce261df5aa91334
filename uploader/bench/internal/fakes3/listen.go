package fakes3

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Running is a Server listening on a TCP address.
type Running struct {
	*Server
	URL string // http://127.0.0.1:PORT

	srv  *http.Server
	done chan error
}

// Start serves a new Server for o on addr ("127.0.0.1:0" picks a free port) over HTTP/1.1
// with keep-alive, until Close.
func Start(o Options, addr string) (*Running, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("fakes3: listening on %s: %w", addr, err)
	}
	s := New(o)
	r := &Running{
		Server: s,
		URL:    "http://" + l.Addr().String(),
		srv: &http.Server{
			Handler:           s,
			ReadHeaderTimeout: 30 * time.Second,
			IdleTimeout:       2 * time.Minute,
		},
		done: make(chan error, 1),
	}
	go func() { r.done <- r.srv.Serve(l) }()
	return r, nil
}

// Close stops accepting, waits for requests in flight (bounded by ctx) and closes the rest.
func (r *Running) Close(ctx context.Context) error {
	err := r.srv.Shutdown(ctx)
	if err != nil {
		_ = r.srv.Close()
	}
	if serr := <-r.done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
