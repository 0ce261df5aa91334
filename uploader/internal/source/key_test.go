package source

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestObjectKey(t *testing.T) {
	t.Parallel()
	root := sourceRoot{Lexical: "/srv/media", Real: "/mnt/disk/media"}
	long := strings.Repeat("a", 1019) // "p/" + long + ".jp" is exactly 1,024 bytes
	tests := []struct {
		name, prefix, path string
		wantKey, wantLocal string
		wantInvalid        bool
	}{
		{name: "plain", path: "photos/cat.jpg", wantKey: "photos/cat.jpg", wantLocal: "/srv/media/photos/cat.jpg"},
		{name: "prefix verbatim", prefix: "media/", path: "cat.jpg", wantKey: "media/cat.jpg", wantLocal: "/srv/media/cat.jpg"},
		{name: "prefix without slash", prefix: "v1-", path: "cat.jpg", wantKey: "v1-cat.jpg", wantLocal: "/srv/media/cat.jpg"},
		{name: "not canonical: dot slash", path: "./a.jpg", wantInvalid: true},
		{name: "not canonical: dot dot inside", path: "sub/../a.jpg", wantInvalid: true},
		{name: "not canonical: trailing slash", path: "a.jpg/", wantInvalid: true},
		{name: "not canonical: double slash", path: "a//b.jpg", wantInvalid: true},
		{name: "not canonical: inner dot", path: "a/./b.jpg", wantInvalid: true},
		{name: "not canonical: mixed", path: "./a//b/../c.png", wantInvalid: true},
		{name: "backslash", path: `sub\a.jpg`, wantInvalid: true},
		{name: "dots in names kept", path: "a..b/.hidden/c...jpg", wantKey: "a..b/.hidden/c...jpg", wantLocal: "/srv/media/a..b/.hidden/c...jpg"},
		{name: "tricky names kept", path: "sp ace/ü+#%?&=.jpg", wantKey: "sp ace/ü+#%?&=.jpg", wantLocal: "/srv/media/sp ace/ü+#%?&=.jpg"},
		{name: "deep", path: "a/b/c/d/e/f/g/h.gif", wantKey: "a/b/c/d/e/f/g/h.gif", wantLocal: "/srv/media/a/b/c/d/e/f/g/h.gif"},
		{name: "absolute inside", path: "/srv/media/x/y.jpg", wantKey: "x/y.jpg", wantLocal: "/srv/media/x/y.jpg"},
		{name: "absolute inside the real root", path: "/mnt/disk/media/x/y.jpg", wantKey: "x/y.jpg", wantLocal: "/srv/media/x/y.jpg"},
		{name: "absolute not canonical", path: "/srv/media/x/../y.jpg", wantInvalid: true},
		{name: "absolute double slash", path: "/srv/media//y.jpg", wantInvalid: true},
		{name: "absolute outside", path: "/etc/passwd", wantInvalid: true},
		{name: "absolute sibling prefix", path: "/srv/media2/a.jpg", wantInvalid: true},
		{name: "absolute escaping", path: "/srv/media/../secret.jpg", wantInvalid: true},
		{name: "dot dot", path: "../secret.jpg", wantInvalid: true},
		{name: "dot dot inside", path: "a/../../secret.jpg", wantInvalid: true},
		{name: "root itself", path: ".", wantInvalid: true},
		{name: "absolute root itself", path: "/srv/media", wantInvalid: true},
		{name: "empty", path: "", wantInvalid: true},
		{name: "not utf-8", path: "bad\xff.jpg", wantInvalid: true},
		{name: "nul", path: "a\x00b.jpg", wantInvalid: true},
		{name: "key at 1024 bytes", prefix: "p/", path: long + ".jp", wantKey: "p/" + long + ".jp", wantLocal: "/srv/media/" + long + ".jp"},
		{name: "key over 1024 bytes", prefix: "p/", path: long + ".jpg", wantInvalid: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			key, local, err := objectKey(root, tt.prefix, tt.path)
			if tt.wantInvalid {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("objectKey(%q) = %q, %v; want ErrInvalid", tt.path, key, err)
				}
				// The reason names the problem, so the application's owner can fix the row.
				if strings.HasPrefix(tt.name, "not canonical") && !strings.Contains(err.Error(), "not in canonical form") {
					t.Errorf("objectKey(%q) error = %v, want it to say the path is not in canonical form", tt.path, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("objectKey(%q) error = %v", tt.path, err)
			}
			if key != tt.wantKey || local != tt.wantLocal {
				t.Errorf("objectKey(%q) = %q, %q; want %q, %q", tt.path, key, local, tt.wantKey, tt.wantLocal)
			}
		})
	}
}

func TestOpenSource(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	src := filepath.Join(base, "src")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{filepath.Join(src, "sub"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, p string) {
		t.Helper()
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(src, "a.jpg"), "a")
	write(filepath.Join(src, "sub", "b.jpg"), "bb")
	write(filepath.Join(outside, "secret.jpg"), "secret")
	link(filepath.Join(src, "a.jpg"), filepath.Join(src, "inward.jpg"))
	link("../outside/secret.jpg", filepath.Join(src, "outward.jpg"))
	link(outside, filepath.Join(src, "outdir"))
	link(filepath.Join(src, "sub"), filepath.Join(src, "indir"))
	link("nowhere.jpg", filepath.Join(src, "dangling.jpg"))
	if err := syscall.Mkfifo(filepath.Join(src, "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A socket file: open(2) fails with ENXIO rather than opening something to fstat.
	sock, err := net.Listen("unix", filepath.Join(src, "sock"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sock.Close() })
	// The source itself is reached through a symlink, as /tmp is on some systems.
	viaLink := filepath.Join(base, "media")
	link(src, viaLink)
	root, err := newSourceRoot(viaLink)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		path     string
		wantSize int64
		wantErr  error // nil, ErrMissing or ErrInvalid
	}{
		{path: "a.jpg", wantSize: 1},
		{path: "sub/b.jpg", wantSize: 2},
		{path: "inward.jpg", wantSize: 1},
		{path: "indir/b.jpg", wantSize: 2},
		{path: "outward.jpg", wantErr: ErrInvalid},
		{path: "outdir/secret.jpg", wantErr: ErrInvalid},
		{path: "sub", wantErr: ErrInvalid},
		{path: "pipe", wantErr: ErrInvalid},
		{path: "sock", wantErr: ErrInvalid},
		{path: "nope.jpg", wantErr: ErrMissing},
		{path: "dangling.jpg", wantErr: ErrMissing},
		{path: "nodir/x.jpg", wantErr: ErrMissing},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			_, local, err := objectKey(root, "", tt.path)
			if err != nil {
				t.Fatal(err)
			}
			f, fi, fe := openSource(root, local)
			if tt.wantErr != nil {
				if fe == nil {
					f.Close()
					t.Fatalf("openSource(%s) succeeded, want %v", tt.path, tt.wantErr)
				}
				if !errors.Is(fe, tt.wantErr) {
					t.Fatalf("openSource(%s) = %v, want %v", tt.path, fe, tt.wantErr)
				}
				return
			}
			if fe != nil {
				t.Fatalf("openSource(%s) = %v", tt.path, fe)
			}
			defer f.Close()
			if fi.Size() != tt.wantSize {
				t.Errorf("size = %d, want %d", fi.Size(), tt.wantSize)
			}
		})
	}
}

func TestNewSourceRootErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dir, "missing"), file} {
		var ce *ConfigError
		if _, err := newSourceRoot(p); !errors.As(err, &ce) || ce.Setting != "source" {
			t.Errorf("newSourceRoot(%s) = %v, want a ConfigError on source", p, err)
		}
	}
}

// TestOpenSourceFIFOSwappedIn swaps a FIFO in for a regular file right before the open, after
// every check on the path: opening it must neither block (a FIFO without a writer blocks
// open(2) forever, past SIGTERM) nor succeed, and the file is invalid.
func TestOpenSourceFIFOSwappedIn(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	p := filepath.Join(src, "photo.jpg")
	if err := os.WriteFile(p, []byte("jpeg"), 0o644); err != nil {
		t.Fatal(err)
	}
	root, err := newSourceRoot(src)
	if err != nil {
		t.Fatal(err)
	}
	root.beforeOpen = func(path string) {
		if err := os.Remove(path); err != nil {
			t.Error(err)
		}
		if err := syscall.Mkfifo(path, 0o644); err != nil {
			t.Error(err)
		}
	}
	done := make(chan *FileError, 1)
	go func() {
		f, _, fe := openSource(root, filepath.Join(root.Lexical, "photo.jpg"))
		if f != nil {
			f.Close()
		}
		done <- fe
	}()
	select {
	case fe := <-done:
		if !errors.Is(fe, ErrInvalid) || !strings.Contains(fe.Error(), "named pipe") {
			t.Fatalf("openSource = %v, want ErrInvalid naming the named pipe", fe)
		}
	case <-time.After(30 * time.Second):
		// Unblock the open so the test process can end, then fail.
		if w, err := os.OpenFile(p, os.O_WRONLY, 0); err == nil {
			w.Close()
		}
		t.Fatal("opening the swapped-in FIFO blocked")
	}
}
