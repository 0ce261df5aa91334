package corpus

import (
	"context"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func small(seed uint64) Params {
	return Params{Kind: SmallImages, Files: 300, MinSize: 10 << 10, MaxSize: 500 << 10, MedianSize: 85 << 10, Sigma: 0.6, Seed: seed}
}

// digest hashes every file of s, in manifest order, with its path.
func digest(t *testing.T, s *Set) [32]byte {
	t.Helper()
	h := sha256.New()
	for _, f := range s.Files {
		io.WriteString(h, f.Path)
		fh, err := os.Open(filepath.Join(s.Dir, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(h, fh)
		fh.Close()
		if err != nil || n != f.Size {
			t.Fatalf("%s: read %d bytes (err %v), manifest says %d", f.Path, n, err, f.Size)
		}
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

func TestEnsureIsDeterministic(t *testing.T) {
	ctx := context.Background()
	a, err := Ensure(ctx, t.TempDir(), small(7))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Ensure(ctx, t.TempDir(), small(7))
	if err != nil {
		t.Fatal(err)
	}
	if digest(t, a) != digest(t, b) {
		t.Fatal("two generations with the same parameters differ")
	}
	c, err := Ensure(ctx, t.TempDir(), small(8))
	if err != nil {
		t.Fatal(err)
	}
	if digest(t, a) == digest(t, c) {
		t.Fatal("a different seed produced the same corpus")
	}
	if small(7).Key() == small(8).Key() {
		t.Fatal("the cache key ignores the seed")
	}
}

func TestEnsureReusesTheCache(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := Params{Kind: ManyTiny, Files: 50, MinSize: 1 << 10, MaxSize: 4 << 10, Seed: 1}
	first, err := Ensure(ctx, dir, p)
	if err != nil {
		t.Fatal(err)
	}
	// Make the first file recognisable: a regeneration would overwrite it.
	marker := filepath.Join(first.Dir, filepath.FromSlash(first.Files[0].Path))
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(marker, old, old); err != nil {
		t.Fatal(err)
	}
	second, err := Ensure(ctx, dir, p)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(marker)
	if err != nil {
		t.Fatal(err)
	}
	if !st.ModTime().Equal(old) {
		t.Fatal("the second Ensure regenerated the set instead of reusing it")
	}
	if !slices.Equal(first.Files, second.Files) || first.Bytes != second.Bytes {
		t.Fatal("the reloaded manifest differs from the generated one")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("cache holds %d entries, want 1 (no temporary leftovers)", len(entries))
	}
}

func TestSizes(t *testing.T) {
	tests := []struct {
		name   string
		p      Params
		lo, hi int64 // median bounds
	}{
		{
			name: "small images are log-normal around the median",
			p:    Params{Kind: SmallImages, Files: 2000, MinSize: 10 << 10, MaxSize: 500 << 10, MedianSize: 85 << 10, Sigma: 0.6, Seed: 3},
			lo:   75 << 10, hi: 95 << 10,
		},
		{
			name: "tiny files are uniform",
			p:    Params{Kind: ManyTiny, Files: 2000, MinSize: 1 << 10, MaxSize: 4 << 10, Seed: 3},
			lo:   2<<10 + 256, hi: 3<<10 - 256,
		},
		{
			name: "large files span min to max",
			p:    Params{Kind: Large, Files: 3, MinSize: 1 << 20, MaxSize: 3 << 20, Seed: 3},
			lo:   2 << 20, hi: 2 << 20,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := plan(tc.p)
			sizes := make([]int64, len(files))
			seen := map[string]bool{}
			for i, f := range files {
				if f.Size < tc.p.MinSize || f.Size > tc.p.MaxSize {
					t.Fatalf("%s is %d bytes, outside [%d, %d]", f.Path, f.Size, tc.p.MinSize, tc.p.MaxSize)
				}
				if seen[f.Path] {
					t.Fatalf("path %s appears twice", f.Path)
				}
				seen[f.Path] = true
				sizes[i] = f.Size
			}
			slices.Sort(sizes)
			if m := sizes[len(sizes)/2]; m < tc.lo || m > tc.hi {
				t.Fatalf("median size %d, want within [%d, %d]", m, tc.lo, tc.hi)
			}
		})
	}
}

func TestFilesStartWithTheirMagic(t *testing.T) {
	s, err := Ensure(context.Background(), t.TempDir(), small(9))
	if err != nil {
		t.Fatal(err)
	}
	exts := map[string]bool{}
	for _, f := range s.Files {
		b, err := os.ReadFile(filepath.Join(s.Dir, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		want := magic(f.Path, f.Size)
		if len(want) == 0 || string(b[:len(want)]) != string(want) {
			t.Fatalf("%s does not start with its format's magic bytes", f.Path)
		}
		exts[filepath.Ext(f.Path)] = true
	}
	if len(exts) != 3 {
		t.Fatalf("extensions %v, want a mix of .jpg, .png and .webp", exts)
	}
}
