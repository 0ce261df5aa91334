package migrate

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestStallGuard checks that an attempt ends when nothing moves for the idle time, wherever it
// hangs, and never while bytes move, however slowly overall.
func TestStallGuard(t *testing.T) {
	t.Parallel()
	const idle = 300 * time.Millisecond
	body := bytes.Repeat([]byte("x"), 16<<20) // more than loopback socket buffers hold
	tests := []struct {
		name    string
		handler http.HandlerFunc
		stalled bool
	}{
		{"reads the body slowly, answers", func(w http.ResponseWriter, r *http.Request) {
			buf := make([]byte, 1<<20)
			for {
				time.Sleep(idle / 3)
				if _, err := io.ReadFull(r.Body, buf); err != nil {
					break
				}
			}
			w.WriteHeader(http.StatusOK)
		}, false},
		{"answers slowly, byte by byte", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusOK)
			for range 8 {
				_, _ = w.Write([]byte("."))
				w.(http.Flusher).Flush()
				time.Sleep(idle / 3)
			}
		}, false},
		// A server that reads nothing never notices the client leave: it gives up by itself.
		{"stops reading the body", func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(5 * idle)
		}, true},
		{"takes the body, never answers", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
		}, true},
		{"stops in the middle of the answer", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("half"))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Small socket buffers on both sides: the body moves only as fast as the server
			// reads it, as on a thin link, instead of vanishing into megabytes of loopback
			// buffers (whose draining the guard cannot see).
			srv := httptest.NewUnstartedServer(tt.handler)
			srv.Listener = smallBuffers{srv.Listener}
			srv.Start()
			defer srv.Close()
			dialer := &net.Dialer{}
			transport := &http.Transport{Proxy: nil, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := dialer.DialContext(ctx, network, addr)
				if err == nil {
					err = c.(*net.TCPConn).SetWriteBuffer(32 << 10)
				}
				return c, err
			}}
			g := &stallGuard{next: &http.Client{Transport: transport}, idle: idle}
			req, err := http.NewRequest(http.MethodPut, srv.URL, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			resp, err := g.Do(req)
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			took := time.Since(start)
			if got := errors.Is(err, errStalled); got != tt.stalled {
				t.Fatalf("after %s: error %v; want stalled = %v", took, err, tt.stalled)
			}
			if tt.stalled && took > 5*idle {
				t.Errorf("the stall was noticed after %s, idle is %s", took, idle)
			}
			if !tt.stalled && took < idle {
				t.Errorf("the exchange took %s, less than the idle time: the test proves nothing", took)
			}
		})
	}
}

// smallBuffers gives accepted connections a small receive buffer.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		err = c.(*net.TCPConn).SetReadBuffer(32 << 10)
	}
	return c, err
}
