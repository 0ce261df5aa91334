package verify

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"
)

// Doer sends one HTTP request; *http.Client satisfies it.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// HTTPClientConfig is how the anonymous client that reads public copies is built.
type HTTPClientConfig struct {
	// CABundle is a PEM file of extra trusted certificates (what AWS_CA_BUNDLE names), added
	// to the system's; empty means the system's only.
	CABundle string
	// Conns is how many connections to keep open per host (the check's concurrency).
	Conns int
	// ResponseHeaderTimeout bounds the wait for a response's headers; 0 means a minute. The
	// body has no deadline, since a large file takes as long as it takes.
	ResponseHeaderTimeout time.Duration
}

// NewHTTPClient builds the client verify and prune read public copies with: plain HTTP(S),
// no AWS signing, the system's proxies and trusted certificates plus the CA bundle, and no
// redirects followed. A browser would follow a redirect, but Go's client then adds a Referer
// of its own to the request that had none, which would falsify the no-Referer check; and S3
// only redirects when public_base_url names the wrong region or endpoint, which is worth
// reporting rather than hiding.
func NewHTTPClient(c HTTPClientConfig) (*http.Client, error) {
	base, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return nil, errors.New("http.DefaultTransport is not an *http.Transport")
	}
	t := base.Clone()
	t.MaxIdleConns = max(c.Conns, 2) * 2
	t.MaxIdleConnsPerHost = max(c.Conns, 2)
	t.ResponseHeaderTimeout = c.ResponseHeaderTimeout
	if t.ResponseHeaderTimeout == 0 {
		t.ResponseHeaderTimeout = time.Minute
	}
	if c.CABundle != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool() // no system pool on this platform: the bundle alone
		}
		pem, err := os.ReadFile(c.CABundle)
		if err != nil {
			return nil, fmt.Errorf("read the CA bundle (AWS_CA_BUNDLE): %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA bundle %s (AWS_CA_BUNDLE) holds no PEM certificate: point it at a PEM file or unset it", c.CABundle)
		}
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{
		Transport:     t,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}
