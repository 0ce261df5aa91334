package verify

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/staticmedia/staticmedia/uploader/internal/catalog"
	"github.com/staticmedia/staticmedia/uploader/internal/source"
)

// CheckConfig is what the per-record check needs. verify and prune share it.
type CheckConfig struct {
	// PublicBaseURL is where the objects are served: an object's URL is PublicBaseURL (with a
	// trailing "/" added when missing) followed by the escaped key.
	PublicBaseURL string
	// Source is the media directory the catalog's paths are relative to.
	Source string
	// KeyPrefix is the prefix the run put before every key.
	KeyPrefix string
	// Referer is a page URL of the site, one the bucket policy allows.
	Referer string
	// UserAgent is sent with every GET; empty means DefaultUserAgent.
	UserAgent string
}

// DefaultUserAgent names the tool to the server's logs.
const DefaultUserAgent = "staticmedia-uploader-verify"

// Probe names, as they appear in the report.
const (
	ProbeAllowed   = "allowed_referer"
	ProbeForeign   = "foreign_referer"
	ProbeNoReferer = "no_referer"
)

// Checker checks one flagged record: it derives the record's key and local file as the
// migration did, reads the file, and GETs the public copy anonymously.
type Checker struct {
	base, prefix, referer, userAgent string
	src                              source.Source
	http                             Doer
}

// NewChecker validates cfg; errors are *source.ConfigError naming the setting.
func NewChecker(cfg CheckConfig, client Doer) (*Checker, error) {
	if err := checkURL("public-base-url", cfg.PublicBaseURL, "the Terraform output's public_base_url, e.g. https://BUCKET.s3.REGION.amazonaws.com/"); err != nil {
		return nil, err
	}
	if strings.ContainsAny(cfg.PublicBaseURL, "?#") {
		return nil, &source.ConfigError{Setting: "public-base-url", Problem: fmt.Sprintf("%q has a query or fragment: give the URL objects are served under", cfg.PublicBaseURL)}
	}
	if err := checkURL("referer", cfg.Referer, "a page of the site that the bucket's Referer policy allows, e.g. https://www.example.com/"); err != nil {
		return nil, err
	}
	if len(cfg.KeyPrefix) >= source.MaxKeyBytes {
		return nil, &source.ConfigError{Setting: "key-prefix", Problem: fmt.Sprintf("%d bytes leaves no room for a name in a %d-byte S3 key", len(cfg.KeyPrefix), source.MaxKeyBytes)}
	}
	if client == nil {
		return nil, &source.ConfigError{Setting: "http", Problem: "no HTTP client"}
	}
	src, err := source.New(cfg.Source)
	if err != nil {
		return nil, err
	}
	base := cfg.PublicBaseURL
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	ua := cfg.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	return &Checker{base: base, prefix: cfg.KeyPrefix, referer: cfg.Referer, userAgent: ua, src: src, http: client}, nil
}

// checkURL requires an absolute http(s) URL.
func checkURL(setting, raw, example string) error {
	if raw == "" {
		return &source.ConfigError{Setting: setting, Problem: "required: " + example}
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &source.ConfigError{Setting: setting, Problem: fmt.Sprintf("%q is not an absolute http(s) URL: give %s", raw, example)}
	}
	return nil
}

// Source is the resolved source directory.
func (c *Checker) Source() source.Source { return c.src }

// Target is a flagged record resolved to its object key, public URL and local path.
type Target struct {
	Record catalog.Record
	Key    string
	URL    string
	// Local is the file's path under the source directory, symlinks not resolved.
	Local string
}

// Target resolves rec as the migration did. The error wraps source.ErrInvalid.
func (c *Checker) Target(rec catalog.Record) (Target, error) {
	key, local, err := c.src.Key(c.prefix, rec.Path)
	if err != nil {
		return Target{Record: rec}, err
	}
	return Target{Record: rec, Key: key, URL: c.base + EscapeKey(key), Local: local}, nil
}

// LocalFile is a local file that was read whole.
type LocalFile struct {
	// Path is the file that was read (with symlinks resolved when they were followed).
	Path string
	// Info describes the file as it was opened.
	Info fs.FileInfo
	Size int64
	MD5  [md5.Size]byte
}

// ReadLocal opens the target's file the way the migration does (symlinks followed only inside
// the source, regular files only) and hashes it. The error wraps source.ErrMissing,
// source.ErrInvalid or source.ErrFileChanged, or is the system's.
func (c *Checker) ReadLocal(t Target) (LocalFile, error) {
	f, fi, err := c.src.Open(t.Local)
	if err != nil {
		return LocalFile{}, err
	}
	defer f.Close()
	return Hash(f, fi)
}

// Hash reads f to its end and returns its size and MD5. opened is f's FileInfo when it was
// opened; a file that changed while it was read fails with source.ErrFileChanged, because its
// hash describes no version of it.
func Hash(f *os.File, opened fs.FileInfo) (LocalFile, error) {
	h := md5.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return LocalFile{}, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	after, err := f.Stat()
	if err != nil {
		return LocalFile{}, fmt.Errorf("stat %s: %w", f.Name(), err)
	}
	if n != opened.Size() || after.Size() != n || !after.ModTime().Equal(opened.ModTime()) {
		return LocalFile{}, fmt.Errorf("%s: %w", f.Name(), source.ErrFileChanged)
	}
	lf := LocalFile{Path: f.Name(), Info: opened, Size: n}
	h.Sum(lf.MD5[:0])
	return lf, nil
}

// Probe is one GET of a public copy and what it answered.
type Probe struct {
	Name    string `json:"name"`
	Referer string `json:"referer,omitempty"`
	Want    int    `json:"want"`
	Status  int    `json:"status,omitempty"`
	// Code is the S3 error code of an error answer (AccessDenied, NoSuchKey, ...).
	Code string `json:"code,omitempty"`
	// Location is where a redirect pointed.
	Location string `json:"location,omitempty"`
	// ETag is the answer's ETag, without quotes.
	ETag string `json:"etag,omitempty"`
	// ContentType is the Content-Type a 200 answer was served with.
	ContentType string `json:"content_type,omitempty"`
	Bytes       int64  `json:"bytes,omitempty"`
	Error       string `json:"error,omitempty"`

	// head is the start of a 200 answer's body (up to MagicBytes), when bodyRead.
	head     []byte
	bodyRead bool
}

// probeSpec is one GET to make and the status it must answer.
type probeSpec struct {
	name, referer string
	want          int
}

// CheckCopy GETs the target's public URL with the allowed Referer, as a browser showing one of
// the site's pages would, and compares what it serves with local: size, MD5 of the body and,
// when it is a plain MD5, the ETag. With local nil (no local file) only the status is checked.
// It returns the probe and the differences found; err means the copy could not be checked
// (network, cancellation), which is not a difference.
func (c *Checker) CheckCopy(ctx context.Context, t Target, local *LocalFile) (Probe, []string, error) {
	return c.probe(ctx, t, probeSpec{name: ProbeAllowed, referer: c.referer, want: http.StatusOK}, local)
}

// probe makes one GET. The body is hashed and compared only when local is set and the
// answer is 200; otherwise at most a little of it is read, for the error code.
func (c *Checker) probe(ctx context.Context, t Target, spec probeSpec, local *LocalFile) (Probe, []string, error) {
	p := Probe{Name: spec.name, Referer: spec.referer, Want: spec.want}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL, nil)
	if err != nil {
		p.Error = err.Error()
		return p, nil, fmt.Errorf("GET %s: %w", t.URL, err)
	}
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "*/*")
	if spec.referer != "" {
		req.Header.Set("Referer", spec.referer)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		p.Error = err.Error()
		return p, nil, fmt.Errorf("GET %s (%s): %w", t.URL, spec.name, err)
	}
	defer resp.Body.Close()
	p.Status = resp.StatusCode
	p.ETag = strings.Trim(strings.TrimPrefix(resp.Header.Get("ETag"), "W/"), `"`)
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		p.Location = resp.Header.Get("Location")
	}
	if resp.StatusCode != http.StatusOK {
		p.Code = errorCode(resp.Body)
		p.ETag = ""
	}
	if resp.StatusCode != spec.want {
		return p, []string{statusProblem(p)}, nil
	}
	if resp.StatusCode != http.StatusOK {
		return p, nil, nil
	}
	p.ContentType = resp.Header.Get("Content-Type")
	head := &headWriter{}
	if local == nil {
		// Only the start, for the type check: there is nothing to compare the rest with.
		if spec.name == ProbeAllowed {
			if _, err := io.Copy(head, io.LimitReader(resp.Body, MagicBytes)); err != nil {
				p.Error = err.Error()
				return p, nil, fmt.Errorf("GET %s (%s): reading the body: %w", t.URL, spec.name, err)
			}
			p.head, p.bodyRead = head.b, true
		}
		return p, nil, nil
	}
	h := md5.New()
	n, err := io.Copy(io.MultiWriter(h, head), resp.Body)
	p.Bytes = n
	p.head, p.bodyRead = head.b, err == nil
	if err != nil {
		p.Error = err.Error()
		return p, nil, fmt.Errorf("GET %s (%s): reading the body: %w", t.URL, spec.name, err)
	}
	var sum [md5.Size]byte
	h.Sum(sum[:0])
	return p, compare(p, n, sum, local), nil
}

// headWriter keeps the first MagicBytes written to it.
type headWriter struct{ b []byte }

func (w *headWriter) Write(p []byte) (int, error) {
	if room := MagicBytes - len(w.b); room > 0 {
		w.b = append(w.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// compare lists how the served copy differs from the local file.
func compare(p Probe, size int64, sum [md5.Size]byte, local *LocalFile) []string {
	var diffs []string
	if size != local.Size {
		diffs = append(diffs, fmt.Sprintf("size: the public copy has %d bytes, the local file %d", size, local.Size))
	}
	if sum != local.MD5 {
		diffs = append(diffs, fmt.Sprintf("content: the public copy's MD5 is %x, the local file's %x", sum, local.MD5))
	}
	// A multipart upload's ETag ("<md5 of part md5s>-<parts>") and an SSE-KMS object's are not
	// the body's MD5, so only a plain 32-hex ETag is compared; the body's MD5 above is the
	// check that always holds.
	if isPlainMD5(p.ETag) && !strings.EqualFold(p.ETag, hex.EncodeToString(local.MD5[:])) {
		diffs = append(diffs, fmt.Sprintf("etag: the public copy's ETag %s is not the local file's MD5 %x", p.ETag, local.MD5))
	}
	return diffs
}

func isPlainMD5(etag string) bool {
	if len(etag) != 2*md5.Size {
		return false
	}
	_, err := hex.DecodeString(etag)
	return err == nil
}

// statusProblem explains an unexpected status.
func statusProblem(p Probe) string {
	got := fmt.Sprintf("%d %s", p.Status, http.StatusText(p.Status))
	if p.Code != "" {
		got = fmt.Sprintf("%d %s", p.Status, p.Code)
	}
	if p.Location != "" {
		got += " to " + p.Location
	}
	var what, hint string
	switch p.Name {
	case ProbeAllowed:
		what = "GET with the allowed Referer " + p.Referer
		switch {
		case p.Status == http.StatusForbidden:
			hint = ": the object is missing (S3 answers 403 to anonymous readers for a missing key) or the bucket policy does not allow this Referer"
		case p.Status == http.StatusNotFound:
			hint = ": the object is missing"
		case p.Status >= 300 && p.Status < 400:
			hint = ": public_base_url names the wrong region or endpoint"
		}
	case ProbeForeign:
		what = "GET with the foreign Referer " + p.Referer
		if p.Status == http.StatusOK {
			hint = ": the bucket serves any Referer, so other sites can hotlink its files"
		}
	case ProbeNoReferer:
		what = "GET without a Referer"
		switch p.Status {
		case http.StatusForbidden:
			hint = ": the bucket policy has no empty-Referer statement (allow_empty_referer); if that is intended, pass --expect-no-referer 403"
		case http.StatusOK:
			hint = ": the bucket policy allows requests without a Referer; if that is intended, pass --expect-no-referer 200"
		}
	}
	return fmt.Sprintf("%s answered %s, want %d%s", what, got, p.Want, hint)
}

// errorCode reads the S3 error code from the start of an error body, or "" when there is none.
func errorCode(body io.Reader) string {
	var e struct {
		Code string `xml:"Code"`
	}
	data, err := io.ReadAll(io.LimitReader(body, 8<<10))
	if err != nil || xml.Unmarshal(data, &e) != nil {
		return ""
	}
	return e.Code
}
