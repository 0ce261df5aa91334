// Package corpus generates the benchmark's file sets, deterministically from a seed, and caches
// them on disk so a rerun with the same parameters reuses the files instead of writing them again.
//
// Contents are pseudo-random (incompressible, like JPEG or MP4 payloads) behind the format's
// magic bytes, so content sniffing sees an image. Every file's bytes depend only on the seed and
// the file's index, never on the order of generation.
package corpus

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"
)

// generatorVersion is part of the cache key: bump it when the layout or contents change.
const generatorVersion = 1

// Kind selects the layout and size distribution of a set.
type Kind string

const (
	// SmallImages are photos in year/month/album folders, log-normal sizes.
	SmallImages Kind = "small-images"
	// ManyTiny are thumbnails, uniform sizes between MinSize and MaxSize.
	ManyTiny Kind = "many-tiny"
	// Large are videos, sizes spread evenly from MinSize to MaxSize.
	Large Kind = "large"
)

// Params describe a set completely; equal Params produce byte-identical files.
type Params struct {
	Kind    Kind
	Files   int
	MinSize int64
	MaxSize int64
	// MedianSize and Sigma shape the log-normal distribution of SmallImages: photo sizes
	// cluster around a median with a long tail of large ones.
	MedianSize int64   `json:",omitempty"`
	Sigma      float64 `json:",omitempty"`
	Seed       uint64
}

// File is one generated file.
type File struct {
	Path string // relative to Set.Dir, forward slashes
	Size int64
}

// Set is a generated corpus on disk.
type Set struct {
	Params Params
	Root   string // the cache entry: Dir, the manifest, anything derived from the set
	Dir    string // the files, and nothing else (it is what clients upload)
	Files  []File
	Bytes  int64
}

// Key names the cache entry for p: kind plus a digest of every parameter.
func (p Params) Key() string {
	b, _ := json.Marshal(struct {
		V int
		P Params
	}{generatorVersion, p})
	sum := sha256.Sum256(b)
	return string(p.Kind) + "-" + hex.EncodeToString(sum[:6])
}

func (p Params) validate() error {
	switch {
	case p.Kind != SmallImages && p.Kind != ManyTiny && p.Kind != Large:
		return fmt.Errorf("unknown corpus kind %q", p.Kind)
	case p.Files < 1:
		return fmt.Errorf("corpus %s: need at least one file", p.Kind)
	case p.MinSize < 16 || p.MaxSize < p.MinSize:
		return fmt.Errorf("corpus %s: sizes must satisfy 16 <= min <= max", p.Kind)
	case p.Kind == SmallImages && (p.MedianSize <= 0 || p.Sigma <= 0):
		return errors.New("corpus small-images: median size and sigma must be positive")
	}
	return nil
}

const manifestName = "manifest.tsv"

// Ensure returns the set for p under cacheDir, generating it first unless a complete copy is
// already there. A set is complete once its manifest exists: it is written last, and the
// directory is renamed into place only then, so an interrupted run leaves no half set behind.
func Ensure(ctx context.Context, cacheDir string, p Params) (*Set, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	root := filepath.Join(cacheDir, p.Key())
	if s, err := load(root, p); err == nil {
		return s, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("corpus: creating %s: %w", cacheDir, err)
	}
	tmp, err := os.MkdirTemp(cacheDir, p.Key()+".tmp-")
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	defer os.RemoveAll(tmp) // a no-op after the rename
	files := plan(p)
	if err := write(ctx, filepath.Join(tmp, "files"), p, files); err != nil {
		return nil, err
	}
	if err := writeManifest(filepath.Join(tmp, manifestName), files); err != nil {
		return nil, err
	}
	_ = os.RemoveAll(root) // an incomplete entry from an older run
	if err := os.Rename(tmp, root); err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	return load(root, p)
}

// plan decides every file's path and size, in index order, from the seed.
func plan(p Params) []File {
	r := rand.New(rand.NewPCG(p.Seed, uint64(len(p.Kind))^0x5eed))
	files := make([]File, p.Files)
	for i := range files {
		var size int64
		switch p.Kind {
		case SmallImages:
			v := math.Exp(math.Log(float64(p.MedianSize)) + p.Sigma*r.NormFloat64())
			size = min(max(int64(v), p.MinSize), p.MaxSize)
		case ManyTiny:
			size = p.MinSize + r.Int64N(p.MaxSize-p.MinSize+1)
		case Large:
			size = p.MinSize
			if p.Files > 1 {
				size += (p.MaxSize - p.MinSize) * int64(i) / int64(p.Files-1)
			}
		}
		files[i] = File{Path: layout(p.Kind, i, r), Size: size}
	}
	return files
}

// layout lays files out the way a media library looks: photos by year, month and album (a few
// with spaces, parentheses and accents, as people name them), thumbnails fanned out over
// numbered folders, videos in one folder.
func layout(k Kind, i int, r *rand.Rand) string {
	switch k {
	case SmallImages:
		album := i / 40
		year, month := 2015+album%10, 1+(album/10)%12
		ext := "jpg"
		switch x := r.IntN(100); {
		case x < 15:
			ext = "png"
		case x < 20:
			ext = "webp"
		}
		name := fmt.Sprintf("IMG_%05d.%s", i, ext)
		switch r.IntN(50) {
		case 0:
			name = fmt.Sprintf("IMG_%05d (copy).%s", i, ext)
		case 1:
			name = fmt.Sprintf("été à Zürich %05d.%s", i, ext)
		}
		return fmt.Sprintf("%d/%02d/album-%03d/%s", year, month, album, name)
	case ManyTiny:
		return fmt.Sprintf("thumbs/%03d/t_%06d.webp", i%250, i)
	default:
		return fmt.Sprintf("video/clip-%02d.mp4", i)
	}
}

// magic returns the leading bytes of the file format an extension names.
func magic(name string, size int64) []byte {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jpg":
		return []byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00}
	case ".png":
		return []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}
	case ".webp":
		b := []byte("RIFF\x00\x00\x00\x00WEBPVP8 ")
		binary.LittleEndian.PutUint32(b[4:8], uint32(max(size-8, 0)))
		return b
	case ".mp4":
		return []byte{0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'm', 'p', '4', '2'}
	}
	return nil
}

// write creates the files with two writers: generation is CPU-bound (random bytes) and this
// machine has two cores.
func write(ctx context.Context, dir string, p Params, files []File) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	for i, f := range files {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return writeFile(filepath.Join(dir, filepath.FromSlash(f.Path)), p.Seed, i, f.Size)
		})
	}
	return g.Wait()
}

func writeFile(name string, seed uint64, index int, size int64) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	out, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	var seedKey [32]byte
	binary.LittleEndian.PutUint64(seedKey[0:], seed)
	binary.LittleEndian.PutUint64(seedKey[8:], uint64(index))
	src := rand.NewChaCha8(seedKey)
	head := magic(name, size)
	if int64(len(head)) > size {
		head = head[:size]
	}
	w := bufio.NewWriterSize(out, 256<<10)
	_, _ = w.Write(head)
	_, err = io.CopyN(w, src, size-int64(len(head)))
	if err == nil {
		err = w.Flush()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("corpus: writing %s: %w", name, err)
	}
	return nil
}

func writeManifest(name string, files []File) error {
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	w := bufio.NewWriter(f)
	for _, file := range files {
		fmt.Fprintf(w, "%d\t%s\n", file.Size, file.Path)
	}
	err = w.Flush()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// load reads a complete cache entry; os.ErrNotExist means there is none.
func load(root string, p Params) (*Set, error) {
	f, err := os.Open(filepath.Join(root, manifestName))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s := &Set{Params: p, Root: root, Dir: filepath.Join(root, "files")}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sizeText, rel, ok := strings.Cut(sc.Text(), "\t")
		size, err := strconv.ParseInt(sizeText, 10, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("corpus: %s: bad manifest line %q; delete the directory to regenerate it", root, sc.Text())
		}
		s.Files = append(s.Files, File{Path: rel, Size: size})
		s.Bytes += size
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("corpus: reading the manifest of %s: %w", root, err)
	}
	if len(s.Files) != p.Files {
		return nil, fmt.Errorf("corpus: %s lists %d files, want %d; delete the directory to regenerate it", root, len(s.Files), p.Files)
	}
	return s, nil
}

// Warm reads every file of the set once, so each client starts with the corpus in the page
// cache instead of the first one paying for the disk.
func (s *Set) Warm(ctx context.Context) error {
	buf := make([]byte, 1<<20)
	for _, f := range s.Files {
		if err := ctx.Err(); err != nil {
			return err
		}
		fh, err := os.Open(filepath.Join(s.Dir, filepath.FromSlash(f.Path)))
		if err != nil {
			return fmt.Errorf("corpus: warming the page cache: %w", err)
		}
		_, err = io.CopyBuffer(io.Discard, fh, buf)
		fh.Close()
		if err != nil {
			return fmt.Errorf("corpus: warming the page cache: %w", err)
		}
	}
	return nil
}

// MB is the set's size in megabytes (10^6 bytes), as throughput is reported.
func (s *Set) MB() float64 { return float64(s.Bytes) / 1e6 }
