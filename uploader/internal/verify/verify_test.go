package verify

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/staticmedia/staticmedia/uploader/internal/catalog"
	"github.com/staticmedia/staticmedia/uploader/internal/source"
)

// These tests run the engine against origin, a static HTTP server that applies a Referer rule
// the way the provider's policy reads, including the empty-Referer branch that MinIO cannot
// show (it denies GETs without a Referer even with the policy's Null statement; the MinIO runs
// are in the cli package). The real-engine tests are there; this is the HTTP contract.

const (
	allowedPage = "http://site.test/gallery/"
	foreignPage = "http://hotlinker.test/"
)

// origin serves objects under /media/ to GETs whose Referer starts with http://site.test/ and,
// when allowEmpty is set, to GETs without one. Missing keys and refused Referers answer 403
// AccessDenied, as S3 does for anonymous readers.
type origin struct {
	originConfig

	mu    sync.Mutex
	paths []string // escaped paths requested
}

// originConfig is what origin serves.
type originConfig struct {
	objects    map[string][]byte
	etags      map[string]string // overrides the MD5 ETag
	types      map[string]string // Content-Type of the objects (default: Go's sniffing)
	allowEmpty bool
	redirect   bool
}

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.paths = append(o.paths, r.URL.EscapedPath())
	o.mu.Unlock()
	if o.redirect {
		w.Header().Set("Location", "https://elsewhere.test"+r.URL.EscapedPath())
		w.WriteHeader(http.StatusMovedPermanently)
		return
	}
	ref := r.Header.Get("Referer")
	data, ok := o.objects[strings.TrimPrefix(r.URL.Path, "/media/")]
	if (ref == "" && !o.allowEmpty) || (ref != "" && !strings.HasPrefix(ref, "http://site.test/")) || !ok {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
		return
	}
	etag, ok := o.etags[strings.TrimPrefix(r.URL.Path, "/media/")]
	if !ok {
		sum := md5.Sum(data)
		etag = hex.EncodeToString(sum[:])
	}
	w.Header().Set("ETag", `"`+etag+`"`)
	if ct, ok := o.types[strings.TrimPrefix(r.URL.Path, "/media/")]; ok {
		w.Header().Set("Content-Type", ct)
	}
	w.Write(data)
}

func (o *origin) requested() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.paths)
}

// tree writes files under a new source directory.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	src := t.TempDir()
	for name, data := range files {
		p := filepath.Join(src, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return src
}

// pngHead is a PNG's signature; svgDoc an SVG with script.
const (
	pngHead = "\x89PNG\r\n\x1a\n"
	svgDoc  = `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`
)

func testConfig(base, src string) Config {
	return Config{
		CheckConfig:     CheckConfig{PublicBaseURL: base + "/media", Source: src, Referer: allowedPage},
		ForeignReferer:  foreignPage,
		ExpectNoReferer: http.StatusOK,
		Concurrency:     4,
		BatchSize:       2,
	}
}

func TestRunOutcomes(t *testing.T) {
	t.Parallel()
	const name = "a+b c#d.jpg"
	tests := []struct {
		name   string
		origin originConfig
		config func(*Config)
		local  map[string]string // the source tree; default {name: "bytes"}
		path   string            // the record's path; default name
		// uploaded is the size the ledger recorded at upload time (0: a table record).
		uploaded int64
		// want is the outcome; wantProblem must start one of the problems (or be in the error).
		want        string
		wantProblem string
		wantProbes  []int // statuses of the GETs made, in order
	}{
		{
			name:       "empty Referer allowed and expected",
			origin:     originConfig{objects: map[string][]byte{name: []byte("bytes")}, allowEmpty: true},
			want:       OutcomeOK,
			wantProbes: []int{200, 403, 200},
		},
		{
			name:        "empty Referer allowed but 403 expected",
			origin:      originConfig{objects: map[string][]byte{name: []byte("bytes")}, allowEmpty: true},
			config:      func(c *Config) { c.ExpectNoReferer = http.StatusForbidden },
			want:        OutcomeMismatch,
			wantProblem: "GET without a Referer answered 200 OK, want 403: the bucket policy allows requests without a Referer",
			wantProbes:  []int{200, 403, 200},
		},
		{
			name:        "empty Referer refused but 200 expected",
			origin:      originConfig{objects: map[string][]byte{name: []byte("bytes")}},
			want:        OutcomeMismatch,
			wantProblem: "GET without a Referer answered 403 AccessDenied, want 200: the bucket policy has no empty-Referer statement",
			wantProbes:  []int{200, 403, 403},
		},
		{
			name:       "skipped probes are not made",
			origin:     originConfig{objects: map[string][]byte{name: []byte("bytes")}},
			config:     func(c *Config) { c.ExpectNoReferer, c.ForeignReferer = 0, "" },
			want:       OutcomeOK,
			wantProbes: []int{200},
		},
		{
			name:       "a multipart ETag is not compared",
			origin:     originConfig{objects: map[string][]byte{name: []byte("bytes")}, etags: map[string]string{name: "0123456789abcdef0123456789abcdef-2"}, allowEmpty: true},
			want:       OutcomeOK,
			wantProbes: []int{200, 403, 200},
		},
		{
			name:        "an MD5 ETag that differs is a mismatch",
			origin:      originConfig{objects: map[string][]byte{name: []byte("bytes")}, etags: map[string]string{name: "0123456789abcdef0123456789abcdef"}, allowEmpty: true},
			want:        OutcomeMismatch,
			wantProblem: "etag: the public copy's ETag 0123456789abcdef0123456789abcdef is not the local file's MD5",
			wantProbes:  []int{200, 403, 200},
		},
		{
			name:        "other bytes of another size",
			origin:      originConfig{objects: map[string][]byte{name: []byte("other bytes")}, allowEmpty: true},
			want:        OutcomeMismatch,
			wantProblem: "size: the public copy has 11 bytes, the local file 5",
			wantProbes:  []int{200, 403, 200},
		},
		{
			name:        "a file changed since the ledger recorded its upload",
			origin:      originConfig{objects: map[string][]byte{name: []byte("old")}, allowEmpty: true},
			uploaded:    3,
			want:        OutcomeMismatch,
			wantProblem: "the local file changed since it was uploaded",
			wantProbes:  []int{200, 403, 200},
		},
		{
			name:        "a missing object",
			origin:      originConfig{allowEmpty: true},
			want:        OutcomeMismatch,
			wantProblem: "GET with the allowed Referer " + allowedPage + " answered 403 AccessDenied, want 200: the object is missing",
			wantProbes:  []int{403, 403, 403},
		},
		{
			name:        "a redirect is reported, not followed",
			origin:      originConfig{redirect: true},
			config:      func(c *Config) { c.ExpectNoReferer, c.ForeignReferer = 0, "" },
			want:        OutcomeMismatch,
			wantProblem: "GET with the allowed Referer " + allowedPage + " answered 301 Moved Permanently to https://elsewhere.test/media/a%2Bb%20c%23d.jpg, want 200: public_base_url names the wrong region",
			wantProbes:  []int{301},
		},
		{
			name:       "no local file: statuses only",
			origin:     originConfig{objects: map[string][]byte{name: []byte("whatever")}, allowEmpty: true},
			local:      map[string]string{},
			want:       OutcomeNoLocalFile,
			wantProbes: []int{200, 403, 200},
		},
		{
			name:       "a PNG served as image/png",
			origin:     originConfig{objects: map[string][]byte{name: []byte(pngHead + "rest")}, types: map[string]string{name: "image/png"}, allowEmpty: true},
			local:      map[string]string{name: pngHead + "rest"},
			want:       OutcomeOK,
			wantProbes: []int{200, 403, 200},
		},
		{
			name:        "an SVG served as image/png is the wrong type",
			origin:      originConfig{objects: map[string][]byte{name: []byte(svgDoc)}, types: map[string]string{name: "image/png"}, allowEmpty: true},
			local:       map[string]string{name: svgDoc},
			want:        OutcomeWrongType,
			wantProblem: "type: the public copy is served as image/png but its bytes start with 3C 73 76 67 20 78 6D 6C 6E 73 3D 22, not with the PNG signature 89 50 4E 47 0D 0A 1A 0A; they look like markup",
			wantProbes:  []int{200, 403, 200},
		},
		{
			name:        "a direct upload (no local file) of the wrong type",
			origin:      originConfig{objects: map[string][]byte{name: []byte("GIF89a" + strings.Repeat("x", 200))}, types: map[string]string{name: "image/jpeg; charset=binary"}, allowEmpty: true},
			local:       map[string]string{},
			want:        OutcomeWrongType,
			wantProblem: "type: the public copy is served as image/jpeg but its bytes start with 47 49 46 38 39 61 78 78 78 78 78 78, not with the JPEG signature FF D8 FF; they look like a GIF image",
			wantProbes:  []int{200, 403, 200},
		},
		{
			name:       "a direct upload (no local file) of the right type",
			origin:     originConfig{objects: map[string][]byte{name: []byte(pngHead + strings.Repeat("x", 1000))}, types: map[string]string{name: "image/png"}, allowEmpty: true},
			local:      map[string]string{},
			want:       OutcomeNoLocalFile,
			wantProbes: []int{200, 403, 200},
		},
		{
			name:        "an empty copy served as image/webp",
			origin:      originConfig{objects: map[string][]byte{name: {}}, types: map[string]string{name: "image/webp"}, allowEmpty: true},
			local:       map[string]string{},
			want:        OutcomeWrongType,
			wantProblem: "type: the public copy is served as image/webp but its bytes are empty",
			wantProbes:  []int{200, 403, 200},
		},
		{
			name:       "the type check skipped",
			origin:     originConfig{objects: map[string][]byte{name: []byte(svgDoc)}, types: map[string]string{name: "image/png"}, allowEmpty: true},
			local:      map[string]string{name: svgDoc},
			config:     func(c *Config) { c.SkipTypeCheck = true },
			want:       OutcomeOK,
			wantProbes: []int{200, 403, 200},
		},
		{
			name:        "other bytes of the wrong type: a mismatch that names the type too",
			origin:      originConfig{objects: map[string][]byte{name: []byte(svgDoc)}, types: map[string]string{name: "image/png"}, allowEmpty: true},
			local:       map[string]string{name: pngHead},
			want:        OutcomeMismatch,
			wantProblem: "type: the public copy is served as image/png",
			wantProbes:  []int{200, 403, 200},
		},
		{
			name:        "a path escaping the source is invalid and not fetched",
			origin:      originConfig{allowEmpty: true},
			path:        "../a.jpg",
			want:        OutcomeInvalid,
			wantProblem: "escapes the source directory",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := &origin{originConfig: tt.origin}
			srv := httptest.NewServer(o)
			defer srv.Close()
			local := tt.local
			if local == nil {
				local = map[string]string{name: "bytes"}
			}
			path := tt.path
			if path == "" {
				path = name
			}
			cfg := testConfig(srv.URL, tree(t, local))
			if tt.config != nil {
				tt.config(&cfg)
			}
			client, err := NewHTTPClient(HTTPClientConfig{Conns: 2})
			if err != nil {
				t.Fatal(err)
			}
			var results []Result
			rec := catalog.Record{ID: "1", Path: path}
			if tt.uploaded > 0 {
				rec.Size, rec.ModTime = tt.uploaded, time.Unix(1e9, 0)
			}
			rep, err := Run(context.Background(), cfg, Deps{HTTP: client, Catalog: Records{rec},
				OnResult: func(r Result) { results = append(results, r) }})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if len(results) != 1 || rep.Checked != 1 || rep.Flagged != 1 {
				t.Fatalf("results %+v, report %+v: want one record checked", results, rep)
			}
			r := results[0]
			if r.Outcome != tt.want {
				t.Errorf("outcome = %s, want %s (problems %q, error %q)", r.Outcome, tt.want, r.Problems, r.Error)
			}
			var statuses []int
			for _, p := range r.Probes {
				statuses = append(statuses, p.Status)
			}
			if !slices.Equal(statuses, tt.wantProbes) {
				t.Errorf("statuses = %v, want %v", statuses, tt.wantProbes)
			}
			if len(tt.wantProbes) > 0 {
				for _, p := range o.requested() {
					if p != "/media/a%2Bb%20c%23d.jpg" {
						t.Errorf("requested %q, want the key escaped segment by segment", p)
					}
				}
			} else if got := o.requested(); len(got) > 0 {
				t.Errorf("requested %q, want no request", got)
			}
			if tt.wantProblem != "" {
				found := strings.Contains(r.Error, tt.wantProblem)
				for _, p := range r.Problems {
					found = found || strings.HasPrefix(p, tt.wantProblem)
				}
				if !found {
					t.Errorf("problems %q, error %q: want %q", r.Problems, r.Error, tt.wantProblem)
				}
			}
			listed := tt.want != OutcomeOK && tt.want != OutcomeNoLocalFile
			if listed != (len(rep.Problems) == 1) {
				t.Errorf("report problems = %+v, listed should be %v", rep.Problems, listed)
			}
		})
	}
}

func TestRunSample(t *testing.T) {
	t.Parallel()
	files := map[string]string{}
	var recs Records
	for i := range 60 {
		name := fmt.Sprintf("f%02d.jpg", i)
		files[name] = name
		recs = append(recs, catalog.Record{ID: name, Path: name})
	}
	objects := map[string][]byte{}
	for name, data := range files {
		objects[name] = []byte(data)
	}
	srv := httptest.NewServer(&origin{originConfig: originConfig{objects: objects, allowEmpty: true}})
	defer srv.Close()
	src := tree(t, files)
	client, err := NewHTTPClient(HTTPClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	sample := func(seed uint64) ([]string, Report) {
		cfg := testConfig(srv.URL, src)
		cfg.Sample, cfg.Seed = 7, seed
		var ids []string
		rep, err := Run(context.Background(), cfg, Deps{HTTP: client, Catalog: recs, OnResult: func(r Result) { ids = append(ids, r.ID) }})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(ids)
		return ids, rep
	}
	a, rep := sample(42)
	if len(a) != 7 || rep.Checked != 7 || rep.OK != 7 || rep.Flagged != 60 || rep.Seed != 42 {
		t.Fatalf("sample = %q, report %+v: want 7 of 60 checked", a, rep)
	}
	if b, _ := sample(42); !slices.Equal(a, b) {
		t.Errorf("the same seed picked %q, then %q", a, b)
	}
	if c, _ := sample(43); slices.Equal(a, c) {
		t.Errorf("seeds 42 and 43 picked the same records %q", a)
	}
	if last := a[len(a)-1]; last < "f07" {
		t.Errorf("sample %q holds only the first records: not spread over the catalog", a)
	}
	if _, rep := sample(0); rep.Seed == 0 {
		t.Error("a random sample does not report its seed")
	}
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(&origin{originConfig: originConfig{objects: map[string][]byte{"a.jpg": []byte("a")}, allowEmpty: true}})
	t.Cleanup(srv.Close) // the subtests run after this function returns
	src := tree(t, map[string]string{"a.jpg": "a"})
	client, err := NewHTTPClient(HTTPClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	catalogDown := errors.New("connection refused")
	tests := []struct {
		name        string
		config      func(*Config)
		catalog     FlaggedLister
		cancel      bool
		wantSetting string // a *source.ConfigError naming it
		wantErr     error
	}{
		{name: "no public base URL", config: func(c *Config) { c.PublicBaseURL = "" }, wantSetting: "public-base-url"},
		{name: "relative base URL", config: func(c *Config) { c.PublicBaseURL = "bucket/media" }, wantSetting: "public-base-url"},
		{name: "no referer", config: func(c *Config) { c.Referer = "" }, wantSetting: "referer"},
		{name: "foreign referer is the allowed one", config: func(c *Config) { c.ForeignReferer = c.Referer }, wantSetting: "foreign-referer"},
		{name: "unexpected expectation", config: func(c *Config) { c.ExpectNoReferer = 404 }, wantSetting: "expect-no-referer"},
		{name: "no concurrency", config: func(c *Config) { c.Concurrency = 0 }, wantSetting: "concurrency"},
		{name: "missing source", config: func(c *Config) { c.Source = filepath.Join(src, "nope") }, wantSetting: "source"},
		{name: "catalog fails", catalog: failing{catalogDown}, wantErr: catalogDown},
		{name: "interrupted", cancel: true, wantErr: catalog.ErrInterrupted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(srv.URL, src)
			if tt.config != nil {
				tt.config(&cfg)
			}
			cat := tt.catalog
			if cat == nil {
				cat = Records{{ID: "a", Path: "a.jpg"}}
			}
			ctx, cancel := context.WithCancel(context.Background())
			if tt.cancel {
				cancel()
			}
			defer cancel()
			rep, err := Run(ctx, cfg, Deps{HTTP: client, Catalog: cat})
			var ce *source.ConfigError
			switch {
			case tt.wantSetting != "":
				if !errors.As(err, &ce) || ce.Setting != tt.wantSetting {
					t.Fatalf("Run = %v, want a configuration error on %s", err, tt.wantSetting)
				}
			case !errors.Is(err, tt.wantErr) || errors.As(err, &ce):
				t.Fatalf("Run = %v, want %v", err, tt.wantErr)
			}
			if tt.cancel && (!rep.Interrupted || rep.Checked != 0) {
				t.Errorf("report %+v: want interrupted with nothing checked", rep)
			}
		})
	}
}

// failing is a catalog that cannot be read.
type failing struct{ err error }

func (f failing) Flagged(context.Context, int, func([]catalog.Record) error) error { return f.err }

func TestNewHTTPClientCABundle(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "bundle.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "ok") }))
	t.Cleanup(srv.Close) // the subtests run after this function returns
	// The test server's certificate as a PEM bundle, as AWS_CA_BUNDLE would name it.
	bundle := filepath.Join(dir, "bundle.pem")
	if err := os.WriteFile(bundle, certPEM(srv.Certificate().Raw), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, bundle string
		wantErr      string // from NewHTTPClient
		wantGet      bool   // the GET over TLS succeeds
	}{
		{"system pool only", "", "", false},
		{"bundle trusted", bundle, "", true},
		{"missing bundle", filepath.Join(dir, "nope.pem"), "read the CA bundle", false},
		{"bundle without certificates", notPEM, "holds no PEM certificate", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewHTTPClient(HTTPClientConfig{CABundle: tt.bundle})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewHTTPClient = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Get(srv.URL)
			if err == nil {
				resp.Body.Close()
			}
			if (err == nil) != tt.wantGet {
				t.Fatalf("GET over TLS: %v, want success %v", err, tt.wantGet)
			}
		})
	}
}

func certPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
