// Package fakes3 is a minimal S3 endpoint for benchmarks: it accepts uploads (PutObject and
// multipart) on one bucket, reads and hashes every body, answers like S3 (ETag = MD5, checksums
// echoed, BadDigest on a mismatch) and then forgets the bytes.
//
// It exists so a client can be measured alone: against a real server (MinIO) the server's own
// CPU and disk set the ceiling, and every client looks the same. It checks no signature and no
// permission (requests are parsed, never authenticated), and it can add a fixed delay to every
// response to stand in for the round trip to a remote region.
//
// It is benchmark code, not a test double for correctness: tests of the uploader use moto and MinIO.
package fakes3

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Server.
type Options struct {
	// Bucket is the one bucket that exists; requests for any other get NoSuchBucket.
	Bucket string
	// Latency is added to every response, after the request body was read, to model the
	// round trip of a real network.
	Latency time.Duration
	// RecordKeys keeps the key and size of every stored object until TakeObjects, so a harness
	// can check that a client uploaded exactly the files it was given, and how many times each
	// key was stored until TakeStoreCounts (two uploaders sharing a table must store each once).
	RecordKeys bool
	// SlowEvery, when positive, makes every SlowEvery-th PutObject (counted over the server's
	// life) answer SlowDelay later: one slow file now and then, as a congested link or a busy
	// S3 partition gives.
	SlowEvery int64
	SlowDelay time.Duration
}

// Stats are cumulative counters; subtract two snapshots to measure one run.
type Stats struct {
	Requests    int64 // every request
	Objects     int64 // objects stored: PutObject plus completed multipart uploads
	Bytes       int64 // bytes of stored objects
	Parts       int64 // UploadPart calls that succeeded
	Errors      int64 // 4xx and 5xx answers, Unsupported included
	Unsupported int64 // operations this endpoint does not implement (answered 501)
}

// Sub returns s - o, field by field.
func (s Stats) Sub(o Stats) Stats {
	return Stats{
		Requests:    s.Requests - o.Requests,
		Objects:     s.Objects - o.Objects,
		Bytes:       s.Bytes - o.Bytes,
		Parts:       s.Parts - o.Parts,
		Errors:      s.Errors - o.Errors,
		Unsupported: s.Unsupported - o.Unsupported,
	}
}

// Server is an http.Handler. Use it directly (not behind a ServeMux, which would clean the
// object keys in paths).
type Server struct {
	opts Options

	requests, objects, bytes, parts, errors, unsupported atomic.Int64
	puts                                                 atomic.Int64 // PutObject calls, for SlowEvery

	mu          sync.Mutex
	uploads     map[string]*multipartUpload // by upload ID
	stored      map[string]int64            // key -> size, when RecordKeys
	stores      map[string]int              // key -> objects stored under it, when RecordKeys
	lastUnknown []string                    // the latest unsupported requests, for diagnostics

	bufs sync.Pool
}

// New returns a Server for o.Bucket.
func New(o Options) *Server {
	return &Server{
		opts:    o,
		uploads: map[string]*multipartUpload{},
		stored:  map[string]int64{},
		stores:  map[string]int{},
		bufs:    sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }},
	}
}

// Stats returns the counters so far.
func (s *Server) Stats() Stats {
	return Stats{
		Requests:    s.requests.Load(),
		Objects:     s.objects.Load(),
		Bytes:       s.bytes.Load(),
		Parts:       s.parts.Load(),
		Errors:      s.errors.Load(),
		Unsupported: s.unsupported.Load(),
	}
}

// TakeObjects returns the objects stored since the last call (key -> size) and forgets them.
// It is empty unless Options.RecordKeys is set.
func (s *Server) TakeObjects() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.stored
	s.stored = map[string]int64{}
	return out
}

// TakeStoreCounts returns how many objects were stored under each key since the last call
// (more than one: the key was uploaded again) and forgets them. It is empty unless
// Options.RecordKeys is set.
func (s *Server) TakeStoreCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.stores
	s.stores = map[string]int{}
	return out
}

// Unsupported describes the latest requests answered 501, newest last.
func (s *Server) Unsupported() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lastUnknown...)
}

// ServeHTTP routes path-style requests (/bucket/key) and virtual-hosted ones (bucket.host/key).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	w.Header().Set("X-Amz-Request-Id", requestID())
	w.Header().Set("Server", "fakes3")

	bucket, key := s.split(r)
	q := r.URL.Query()
	var err error
	switch {
	case bucket == "" && r.Method == http.MethodGet:
		err = s.listBuckets(w)
	case bucket == "":
		err = s.unsupportedOp(r)
	case bucket != s.opts.Bucket:
		err = &s3Error{status: http.StatusNotFound, code: "NoSuchBucket", message: "the specified bucket does not exist"}
	case key == "":
		err = s.bucketOp(w, r, q)
	case r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "":
		err = s.unsupportedOp(r)
	case r.Method == http.MethodPut && q.Has("uploadId"):
		err = s.uploadPart(w, r, q)
	case r.Method == http.MethodPut:
		err = s.putObject(w, r, key)
	case r.Method == http.MethodPost && q.Has("uploads"):
		err = s.createMultipart(w, r, key)
	case r.Method == http.MethodPost && q.Has("uploadId"):
		err = s.completeMultipart(w, r, key, q.Get("uploadId"))
	case r.Method == http.MethodDelete && q.Has("uploadId"):
		err = s.abortMultipart(w, r, q.Get("uploadId"))
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		// Bodies are discarded, so nothing can be read back.
		err = &s3Error{status: http.StatusNotFound, code: "NoSuchKey", message: "the specified key does not exist"}
	default:
		err = s.unsupportedOp(r)
	}
	if err != nil {
		s.fail(w, r, err)
	}
}

// split returns the bucket and key of a request, path-style or virtual-hosted.
func (s *Server) split(r *http.Request) (bucket, key string) {
	path := strings.TrimPrefix(r.URL.Path, "/")
	host := r.Host
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	if b, ok := strings.CutSuffix(host, "."+hostTail(host)); ok && b == s.opts.Bucket {
		return b, path
	}
	bucket, key, _ = strings.Cut(path, "/")
	return bucket, key
}

// hostTail is everything after the first label: "b.localhost" -> "localhost".
func hostTail(host string) string {
	_, tail, _ := strings.Cut(host, ".")
	return tail
}

func (s *Server) listBuckets(w http.ResponseWriter) error {
	type bucket struct {
		Name         string
		CreationDate string
	}
	type result struct {
		XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListAllMyBucketsResult"`
		Owner   struct{ ID, DisplayName string }
		Buckets []bucket `xml:"Buckets>Bucket"`
	}
	var res result
	res.Owner.ID, res.Owner.DisplayName = "fakes3", "fakes3"
	res.Buckets = []bucket{{Name: s.opts.Bucket, CreationDate: "2024-01-01T00:00:00.000Z"}}
	s.delay()
	return writeXML(w, http.StatusOK, res)
}

// bucketOp answers the bucket-level reads some clients make before uploading.
func (s *Server) bucketOp(w http.ResponseWriter, r *http.Request, q url.Values) error {
	switch {
	case r.Method == http.MethodHead:
		s.delay()
		w.WriteHeader(http.StatusOK)
		return nil
	case r.Method == http.MethodGet && q.Has("location"):
		type location struct {
			XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ LocationConstraint"`
		}
		s.delay()
		return writeXML(w, http.StatusOK, location{})
	case r.Method == http.MethodGet && !q.Has("uploads") && !q.Has("policy") && !q.Has("acl"):
		// An empty listing: nothing is ever kept.
		type listing struct {
			XMLName     xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
			Name        string
			Prefix      string
			KeyCount    int
			MaxKeys     int
			IsTruncated bool
		}
		s.delay()
		return writeXML(w, http.StatusOK, listing{Name: s.opts.Bucket, Prefix: q.Get("prefix"), MaxKeys: 1000})
	}
	return s.unsupportedOp(r)
}

func (s *Server) putObject(w http.ResponseWriter, r *http.Request, key string) error {
	p, err := s.read(r)
	if err != nil {
		return err
	}
	s.store(key, p.size)
	if p.checksumAlg != "" {
		w.Header().Set("X-Amz-Checksum-"+p.checksumAlg, p.checksum)
		w.Header().Set("X-Amz-Checksum-Type", "FULL_OBJECT")
	}
	w.Header().Set("ETag", `"`+hex.EncodeToString(p.md5)+`"`)
	if n := s.puts.Add(1); s.opts.SlowEvery > 0 && n%s.opts.SlowEvery == 0 {
		time.Sleep(s.opts.SlowDelay)
	}
	s.delay()
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) read(r *http.Request) (payload, error) {
	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	return readPayload(r, *bp)
}

func (s *Server) store(key string, size int64) {
	s.objects.Add(1)
	s.bytes.Add(size)
	if s.opts.RecordKeys {
		s.mu.Lock()
		s.stored[key] = size
		s.stores[key]++
		s.mu.Unlock()
	}
}

func (s *Server) unsupportedOp(r *http.Request) error {
	s.unsupported.Add(1)
	var keys []string
	for k := range r.URL.Query() {
		keys = append(keys, k)
	}
	desc := fmt.Sprintf("%s %s ?%s", r.Method, r.URL.Path, strings.Join(keys, "&"))
	s.mu.Lock()
	s.lastUnknown = append(s.lastUnknown, desc)
	if len(s.lastUnknown) > 20 {
		s.lastUnknown = s.lastUnknown[1:]
	}
	s.mu.Unlock()
	return &s3Error{status: http.StatusNotImplemented, code: "NotImplemented", message: "fakes3 does not implement " + desc}
}

// fail writes err as an S3 error document, after the configured delay like any answer.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.errors.Add(1)
	var e *s3Error
	if !errors.As(err, &e) {
		e = &s3Error{status: http.StatusInternalServerError, code: "InternalError", message: err.Error()}
	}
	type errorDoc struct {
		XMLName   xml.Name `xml:"Error"`
		Code      string
		Message   string
		Resource  string
		RequestID string `xml:"RequestId"`
	}
	s.delay()
	_ = writeXML(w, e.status, errorDoc{Code: e.code, Message: e.message, Resource: r.URL.Path, RequestID: w.Header().Get("X-Amz-Request-Id")})
}

func (s *Server) delay() {
	if s.opts.Latency > 0 {
		time.Sleep(s.opts.Latency)
	}
}

func writeXML(w http.ResponseWriter, status int, v any) error {
	body, err := xml.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_, err = w.Write(body)
	return err
}

func requestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}
