package testbed

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Faults says which faults a FaultProxy injects. Each share, in [0, 1], is the fraction of the
// matching requests that get that fault, realized exactly rather than drawn independently: in
// every block of FaultBlock matching requests, round(share*FaultBlock) get it, at positions
// shuffled with the proxy's seed. A run of n matching requests therefore sees at least
// floor(n/FaultBlock)*round(share*FaultBlock) of each fault, so a test that asserts a fault
// happened cannot fail on an unlucky draw. The shares must add up to at most 1.
// Only requests that Match selects get faults (by default the uploads: PUT and POST).
type Faults struct {
	// SlowDown answers 503 with S3's SlowDown error body without contacting the engine.
	SlowDown float64
	// DropBeforeForward closes the connection once the request headers arrived: nothing
	// reaches the engine and the client gets no answer.
	DropBeforeForward float64
	// DropMidRequest reads half of the body, then closes the connection.
	DropMidRequest float64
	// DropMidResponse forwards the request (the engine stores the object), then sends the
	// client a status line and half a header block and closes the connection: the upload
	// happened, but the client cannot know.
	DropMidResponse float64
	// Stall takes the body, forwards nothing and never answers; the request ends when the
	// client gives up.
	Stall float64
	// Error answers Reply, an S3 error, without contacting the engine: for what an engine
	// cannot be made to answer (AWS's AccessDenied from an account-level setting moto lacks).
	Error float64
	Reply S3Error
	// Delay is added before each matching request is forwarded, scaled by a random factor in
	// [0.5, 1.5) so that concurrent requests interleave.
	Delay time.Duration
	// RateLimit, when positive, answers SlowDown to the matching requests beyond this many per
	// second (a token bucket holding a tenth of a second's worth), the way S3 throttles a
	// prefix: a client that slows down stops being throttled.
	RateLimit float64
	// Match selects the requests the faults apply to; nil selects PUT and POST.
	Match func(*http.Request) bool
}

// S3Error is an error answer in S3's XML shape.
type S3Error struct {
	Status        int // HTTP status, e.g. 403
	Code, Message string
}

// FaultBlock is the number of matching requests over which Faults' shares are realized exactly.
const FaultBlock = 100

// Fault names recorded in Exchange.Fault.
const (
	FaultNone              = ""
	FaultSlowDown          = "slowdown"
	FaultRateLimited       = "rate-limited"
	FaultDropBeforeForward = "drop-before-forward"
	FaultDropMidRequest    = "drop-mid-request"
	FaultDropMidResponse   = "drop-mid-response"
	FaultStall             = "stall"
	FaultError             = "error"
)

// Exchange is one request the proxy saw.
type Exchange struct {
	Method string
	// Path is the decoded URL path: /bucket/key with path-style addressing.
	Path  string
	Query string
	// Fault is the fault injected, FaultNone when the request was forwarded untouched.
	Fault string
	// Status is the engine's answer, 0 when the engine was not reached or did not answer.
	Status int
	// ETag is the engine's ETag header, if any.
	ETag       string
	Start, End time.Time
}

// Key returns the object key of a path-style request to bucket, and whether the request was
// for an object of that bucket.
func (e Exchange) Key(bucket string) (string, bool) {
	return strings.CutPrefix(e.Path, "/"+bucket+"/")
}

// IsObjectPut reports whether e is a single-request object upload (not a multipart part).
func (e Exchange) IsObjectPut() bool {
	return e.Method == http.MethodPut && !strings.Contains(e.Query, "partNumber=")
}

// FaultProxy is an HTTP proxy on 127.0.0.1 in front of an S3 engine that injects the faults a
// client meets on the way to S3: throttling, dropped connections at every stage, stalls and
// delays. It records every exchange, and hooks let a test act at a precise moment (kill the
// client after the Nth upload, change a file while it is uploaded).
//
// Clients use URL as their S3 endpoint. The Host header is passed through unchanged, so SigV4
// signatures made for the proxy's address verify at the engine.
type FaultProxy struct {
	URL string

	target    *url.URL
	transport *http.Transport
	srv       *http.Server

	mu        sync.Mutex
	faults    Faults
	rnd       *rand.Rand
	exchanges []Exchange
	before    func(*http.Request)
	after     func(Exchange)
	tokens    float64
	refilled  time.Time
	// schedule holds the faults of the current block of matching requests, consumed from
	// the front; SetFaults empties it and decide refills it.
	schedule []string
}

// StartFaultProxy starts a proxy in front of target (an engine's endpoint, such as
// MinIO.Endpoint) that injects no faults until SetFaults. seed makes the random draws
// repeatable; 0 picks one at random (logged). t.Cleanup stops it.
func StartFaultProxy(t testing.TB, target string, seed uint64) *FaultProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		t.Fatalf("testbed: fault proxy: target %q is not a URL: %v", target, err)
	}
	if seed == 0 {
		seed = rand.Uint64()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testbed: fault proxy: %v", err)
	}
	p := &FaultProxy{
		URL:    "http://" + l.Addr().String(),
		target: u,
		// Its own transport, so no proxy setting from the environment applies.
		transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second},
		rnd:       rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(l) }()
	t.Cleanup(func() {
		// Close ends the listener and every connection, stalled ones included.
		_ = p.srv.Close()
		p.transport.CloseIdleConnections()
	})
	t.Logf("testbed: fault proxy on %s in front of %s (seed %d)", p.URL, target, seed)
	return p
}

// SetFaults replaces the faults injected from now on. It panics when a share is out of range
// or too small to happen in a block, or the shares add up to more than 1: that is a mistake in
// the test.
func (p *FaultProxy) SetFaults(f Faults) {
	sum := 0.0
	for _, c := range f.shares() {
		if c.share < 0 || c.share > 1 {
			panic(fmt.Sprintf("testbed: fault proxy: %s share %v is outside [0, 1]", c.name, c.share))
		}
		if c.share > 0 && math.Round(c.share*FaultBlock) == 0 {
			panic(fmt.Sprintf("testbed: fault proxy: %s share %v is below 1 in %d and would never happen", c.name, c.share, FaultBlock))
		}
		sum += c.share
	}
	if sum > 1+1e-9 {
		panic(fmt.Sprintf("testbed: fault proxy: the fault shares add up to %v, more than 1", sum))
	}
	if f.Error > 0 && (f.Reply.Status < 400 || f.Reply.Code == "") {
		panic("testbed: fault proxy: an Error share needs a Reply with an error status and a code")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = f
	p.schedule = nil
	p.tokens = f.RateLimit / 10
	p.refilled = time.Now()
}

// OnRequest sets a hook called for every request before it is forwarded (and before any
// fault), with the request's headers; it must not read the body. nil removes it.
func (p *FaultProxy) OnRequest(fn func(*http.Request)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.before = fn
}

// OnExchange sets a hook called after every exchange is recorded. nil removes it.
func (p *FaultProxy) OnExchange(fn func(Exchange)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.after = fn
}

// Exchanges returns a copy of every exchange recorded so far, in the order they ended.
func (p *FaultProxy) Exchanges() []Exchange {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Exchange(nil), p.exchanges...)
}

// Count returns how many recorded exchanges match.
func (p *FaultProxy) Count(match func(Exchange) bool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, e := range p.exchanges {
		if match(e) {
			n++
		}
	}
	return n
}

// decide picks the fault for one request and the delay before forwarding it.
func (p *FaultProxy) decide(r *http.Request) (fault string, delay time.Duration, before func(*http.Request)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	before = p.before
	f := p.faults
	match := f.Match
	if match == nil {
		match = func(r *http.Request) bool { return r.Method == http.MethodPut || r.Method == http.MethodPost }
	}
	if !match(r) {
		return FaultNone, 0, before
	}
	if f.Delay > 0 {
		delay = time.Duration(float64(f.Delay) * (0.5 + p.rnd.Float64()))
	}
	if f.RateLimit > 0 {
		now := time.Now()
		p.tokens = min(f.RateLimit/10, p.tokens+now.Sub(p.refilled).Seconds()*f.RateLimit)
		p.refilled = now
		if p.tokens < 1 {
			return FaultRateLimited, delay, before
		}
		p.tokens--
	}
	if len(p.schedule) == 0 {
		p.schedule = p.block(f)
	}
	fault = p.schedule[0]
	p.schedule = p.schedule[1:]
	return fault, delay, before
}

// faultShare is one kind of fault and the fraction of matching requests that get it.
type faultShare struct {
	share float64
	name  string
}

func (f Faults) shares() []faultShare {
	return []faultShare{
		{f.SlowDown, FaultSlowDown},
		{f.DropBeforeForward, FaultDropBeforeForward},
		{f.DropMidRequest, FaultDropMidRequest},
		{f.DropMidResponse, FaultDropMidResponse},
		{f.Stall, FaultStall},
		{f.Error, FaultError},
	}
}

// block lays out the faults of the next FaultBlock matching requests, shuffled. The caller
// holds p.mu.
func (p *FaultProxy) block(f Faults) []string {
	b := make([]string, 0, FaultBlock)
	for _, c := range f.shares() {
		for range int(math.Round(c.share * FaultBlock)) {
			b = append(b, c.name)
		}
	}
	for len(b) < FaultBlock {
		b = append(b, FaultNone)
	}
	b = b[:FaultBlock] // rounding can add one too many when the shares add up to 1
	p.rnd.Shuffle(len(b), func(i, j int) { b[i], b[j] = b[j], b[i] })
	return b
}

func (p *FaultProxy) record(e Exchange) {
	e.End = time.Now()
	p.mu.Lock()
	p.exchanges = append(p.exchanges, e)
	after := p.after
	p.mu.Unlock()
	if after != nil {
		after(e)
	}
}

// slowDownBody is S3's answer to a client that sends too fast.
const slowDownBody = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>FAULTPROXY</RequestId><HostId>faultproxy</HostId></Error>`

func (p *FaultProxy) serve(w http.ResponseWriter, r *http.Request) {
	ex := Exchange{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Start: time.Now()}
	fault, delay, before := p.decide(r)
	ex.Fault = fault
	defer func() { p.record(ex) }()
	if before != nil {
		before(r)
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	switch fault {
	case FaultSlowDown, FaultRateLimited:
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/xml")
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, slowDownBody)
		return
	case FaultError:
		_, _ = io.Copy(io.Discard, r.Body)
		p.mu.Lock()
		reply := p.faults.Reply
		p.mu.Unlock()
		var body bytes.Buffer
		_ = xml.NewEncoder(&body).Encode(struct {
			XMLName   xml.Name `xml:"Error"`
			Code      string
			Message   string
			RequestID string `xml:"RequestId"`
		}{Code: reply.Code, Message: reply.Message, RequestID: "FAULTPROXY"})
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(reply.Status)
		_, _ = io.WriteString(w, xml.Header)
		_, _ = w.Write(body.Bytes())
		return
	case FaultDropBeforeForward:
		hangUp(w)
		return
	case FaultDropMidRequest:
		_, _ = io.CopyN(io.Discard, r.Body, r.ContentLength/2)
		hangUp(w)
		return
	case FaultStall:
		// The body is read first: only then does the server notice the client hanging up.
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
		return
	}

	body, err := io.ReadAll(r.Body)
	if err != nil {
		return // the client went away
	}
	resp, err := p.forward(r, body)
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		_, _ = fmt.Fprintf(w, "fault proxy: %v", err)
		return
	}
	defer resp.Body.Close()
	ex.Status = resp.StatusCode
	ex.ETag = resp.Header.Get("ETag")
	if fault == FaultDropMidResponse {
		_, _ = io.Copy(io.Discard, resp.Body)
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		var head bytes.Buffer
		_ = resp.Header.Write(&head)
		_, _ = fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", resp.StatusCode, http.StatusText(resp.StatusCode))
		_, _ = buf.Write(head.Bytes()[:head.Len()/2])
		_ = buf.Flush()
		return
	}
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// forward sends the request to the engine with the client's Host header and headers, minus
// the hop-by-hop ones.
func (p *FaultProxy) forward(r *http.Request, body []byte) (*http.Response, error) {
	out, err := http.NewRequestWithContext(r.Context(), r.Method, p.target.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	// The path keeps the client's escaping, which its signature covers.
	out.URL = &url.URL{Scheme: p.target.Scheme, Host: p.target.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	out.Header = r.Header.Clone()
	for _, h := range []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Expect"} {
		out.Header.Del(h)
	}
	out.Host = r.Host
	out.ContentLength = int64(len(body))
	return p.transport.RoundTrip(out)
}

// hangUp closes the client's connection without an answer.
func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // ends the connection without a response
	}
	_ = conn.Close()
}

// WaitFor polls until cond holds or ctx ends.
func WaitFor(ctx context.Context, cond func() bool) error {
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}
