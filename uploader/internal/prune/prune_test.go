package prune

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/staticmedia/staticmedia/uploader/internal/source"
	"github.com/staticmedia/staticmedia/uploader/internal/verify"
)

// The MinIO runs of prune are in the cli package. These cover what needs an instant between
// the check and the delete: the origin below runs a hook while it serves the copy, which is
// when another process could change the local file.

func TestRunKeepsFilesThatChangeDuringTheCheck(t *testing.T) {
	t.Parallel()
	const original = "the bytes that were uploaded"
	tests := []struct {
		name string
		// during runs while the copy is served; path is the local file.
		during     func(t *testing.T, path string)
		wantKept   bool
		wantResult string // the kept file's outcome
	}{
		{name: "unchanged: deleted", during: func(*testing.T, string) {}},
		{
			name: "rewritten with other bytes",
			during: func(t *testing.T, path string) {
				if err := os.WriteFile(path, []byte("a new version, longer than the first"), 0o644); err != nil {
					t.Error(err)
				}
			},
			wantKept: true, wantResult: OutcomeSkipped,
		},
		{
			name: "replaced by a symlink",
			during: func(t *testing.T, path string) {
				other := filepath.Join(filepath.Dir(path), "other.jpg")
				if err := os.WriteFile(other, []byte(original), 0o644); err != nil {
					t.Error(err)
				}
				if err := os.Remove(path); err != nil {
					t.Error(err)
				}
				if err := os.Symlink(other, path); err != nil {
					t.Error(err)
				}
			},
			wantKept: true, wantResult: OutcomeSkipped,
		},
		{
			name: "deleted by someone else",
			during: func(t *testing.T, path string) {
				if err := os.Remove(path); err != nil {
					t.Error(err)
				}
			},
			wantResult: OutcomeSkipped,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := t.TempDir()
			path := filepath.Join(src, "photo.jpg")
			if err := os.WriteFile(path, []byte(original), 0o644); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Referer") != "http://site.test/" {
					w.WriteHeader(http.StatusForbidden)
					return
				}
				tt.during(t, path)
				w.Write([]byte(original))
			}))
			defer srv.Close()
			client, err := verify.NewHTTPClient(verify.HTTPClientConfig{})
			if err != nil {
				t.Fatal(err)
			}
			var deleted []File
			rep, err := Run(context.Background(), Config{
				CheckConfig: verify.CheckConfig{PublicBaseURL: srv.URL, Source: src, Referer: "http://site.test/"},
				Delete:      true, Concurrency: 1, BatchSize: 10,
			}, Deps{HTTP: client, Catalog: verify.Records{{ID: "1", Path: "photo.jpg"}}, OnFile: func(f File) { deleted = append(deleted, f) }})
			if err != nil {
				t.Fatal(err)
			}
			_, statErr := os.Lstat(path)
			if kept := statErr == nil; kept != tt.wantKept {
				t.Errorf("file kept = %v, want %v", kept, tt.wantKept)
			}
			if tt.wantResult == "" {
				if rep.Deleted != 1 || rep.FreedBytes != int64(len(original)) || len(deleted) != 1 || !deleted[0].Deleted {
					t.Errorf("report %+v, deleted %+v: want the file deleted", rep, deleted)
				}
				return
			}
			if rep.Deleted != 0 || len(deleted) != 0 || len(rep.Problems) != 1 || rep.Problems[0].Outcome != tt.wantResult {
				t.Fatalf("report %+v, deleted %+v: want nothing deleted and one %s record", rep, deleted, tt.wantResult)
			}
			if !strings.Contains(rep.Problems[0].Error, source.ErrFileChanged.Error()) {
				t.Errorf("problem %q does not say the file changed", rep.Problems[0].Error)
			}
		})
	}
}

func TestRunConfigErrors(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	client, err := verify.NewHTTPClient(verify.HTTPClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	good := Config{CheckConfig: verify.CheckConfig{PublicBaseURL: "http://127.0.0.1:1/media/", Source: src, Referer: "http://site.test/"},
		Concurrency: 1, BatchSize: 1}
	tests := []struct {
		name    string
		mutate  func(*Config)
		setting string
	}{
		{"no referer", func(c *Config) { c.Referer = "" }, "referer"},
		{"bad base URL", func(c *Config) { c.PublicBaseURL = "ftp://x/" }, "public-base-url"},
		{"no concurrency", func(c *Config) { c.Concurrency = 0 }, "concurrency"},
		{"no batch size", func(c *Config) { c.BatchSize = 0 }, "batch-size"},
		{"missing source", func(c *Config) { c.Source = filepath.Join(src, "nope") }, "source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := good
			tt.mutate(&cfg)
			_, err := Run(context.Background(), cfg, Deps{HTTP: client, Catalog: verify.Records{}})
			var ce *source.ConfigError
			if !errors.As(err, &ce) || ce.Setting != tt.setting {
				t.Fatalf("Run = %v, want a configuration error on %s", err, tt.setting)
			}
		})
	}
}
