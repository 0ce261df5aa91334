package source

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// sourceRoot is the source directory in the two forms the checks need: as given (made absolute
// and cleaned), which absolute catalog paths are compared with, and with every symlink resolved,
// which resolved file paths are compared with.
type sourceRoot struct {
	Lexical string
	Real    string
	// beforeOpen, when set (by tests, through Deps), is called with the resolved path right
	// before the file is opened: the moment another process can swap in something else.
	beforeOpen func(path string)
}

// newSourceRoot resolves the source directory once per run.
func newSourceRoot(dir string) (sourceRoot, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return sourceRoot{}, &ConfigError{Setting: "source", Problem: fmt.Sprintf("cannot make %q absolute: %v", dir, err)}
	}
	resolved, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return sourceRoot{}, &ConfigError{Setting: "source", Problem: fmt.Sprintf("%v: pass the directory the catalog's paths are relative to", err)}
	}
	fi, err := os.Stat(resolved)
	if err != nil {
		return sourceRoot{}, &ConfigError{Setting: "source", Problem: err.Error()}
	}
	if !fi.IsDir() {
		return sourceRoot{}, &ConfigError{Setting: "source", Problem: fmt.Sprintf("%s is not a directory", dir)}
	}
	return sourceRoot{Lexical: abs, Real: resolved}, nil
}

// objectKey derives a record's object key and the local path of its file, without touching the
// file system. The key is prefix followed by the path relative to the source root with forward
// slashes; nothing about the name changes (spaces, unicode, '+', '#' stay as they are; the SDK
// escapes them on the wire). Paths that leave the root, empty or non-UTF-8 paths, paths not in
// canonical form, and keys longer than S3's 1,024 bytes are ErrInvalid.
//
// A path is never normalized: the site builds its URLs from the stored path, so "./a.jpg",
// "sub/../a.jpg", "a.jpg/" or "a//b.jpg" uploaded as the key of their cleaned form would leave
// the site linking a key that does not exist. Such a record is reported, with the form it should
// have, for the application to fix.
func objectKey(root sourceRoot, prefix, recordPath string) (key, local string, err error) {
	switch {
	case recordPath == "":
		return "", "", fmt.Errorf("%w: empty path", ErrInvalid)
	case !utf8.ValidString(recordPath):
		return "", "", fmt.Errorf("%w: path is not valid UTF-8, which S3 keys must be", ErrInvalid)
	case strings.IndexByte(recordPath, 0) >= 0:
		return "", "", fmt.Errorf("%w: path contains a NUL byte", ErrInvalid)
	case filepath.Separator == '/' && strings.IndexByte(recordPath, '\\') >= 0:
		// Browsers read a backslash in a URL's path as a slash, so the object would be
		// requested under another key; a Windows path is written with forward slashes.
		return "", "", fmt.Errorf("%w: path contains a backslash: write directories with forward slashes", ErrInvalid)
	}
	if clean := filepath.Clean(recordPath); filepath.ToSlash(clean) != filepath.ToSlash(recordPath) {
		return "", "", fmt.Errorf("%w: path is not in canonical form (no \"./\", \"..\", \"//\" or trailing \"/\"): its canonical form is %q, "+
			"and the object key is the stored path unchanged", ErrInvalid, filepath.ToSlash(clean))
	}
	var rel string
	if filepath.IsAbs(recordPath) {
		rel = relativeInside(root.Lexical, recordPath)
		if rel == "" && root.Real != root.Lexical {
			rel = relativeInside(root.Real, recordPath)
		}
		if rel == "" {
			return "", "", fmt.Errorf("%w: absolute path is outside the source directory %s", ErrInvalid, root.Lexical)
		}
	} else {
		if !filepath.IsLocal(recordPath) {
			return "", "", fmt.Errorf("%w: path escapes the source directory", ErrInvalid)
		}
		rel = recordPath
	}
	if rel == "." {
		return "", "", fmt.Errorf("%w: path is the source directory itself", ErrInvalid)
	}
	key = prefix + filepath.ToSlash(rel)
	if len(key) > MaxKeyBytes {
		return "", "", fmt.Errorf("%w: key is %d bytes, S3 allows %d", ErrInvalid, len(key), MaxKeyBytes)
	}
	return key, filepath.Join(root.Lexical, rel), nil
}

// relativeInside returns p relative to root when p is inside it (p == root gives "."), else "".
func relativeInside(root, p string) string {
	rel, err := filepath.Rel(root, filepath.Clean(p))
	if err != nil || (rel != "." && !filepath.IsLocal(rel)) {
		return ""
	}
	return rel
}

// openSource opens a record's file for reading after checking, with every symlink resolved, that
// it lies inside the source root, and returns it only when the opened handle is a regular file.
// The check is made on the handle (fstat), not on the path before opening: the file system can
// change between the two, and the open itself never blocks (O_NONBLOCK: a FIFO swapped in opens
// at once and is refused) nor follows a symlink swapped in for the resolved file (O_NOFOLLOW).
// The caller compares sizes and times again after reading.
func openSource(root sourceRoot, local string) (*os.File, fs.FileInfo, *FileError) {
	resolved, err := filepath.EvalSymlinks(local)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, &FileError{Op: "stat", Err: ErrMissing}
		}
		return nil, nil, &FileError{Op: "stat", Err: err}
	}
	if relativeInside(root.Real, resolved) == "" {
		return nil, nil, &FileError{Op: "stat", Err: fmt.Errorf("%w: a symlink resolves outside the source directory", ErrInvalid)}
	}
	if root.beforeOpen != nil {
		root.beforeOpen(resolved)
	}
	f, err := openNoFollow(resolved)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil, &FileError{Op: "open", Err: ErrMissing}
	case errors.Is(err, errIsSymlink):
		return nil, nil, &FileError{Op: "open", Err: fmt.Errorf("%w: a symlink replaced the file after it was resolved", ErrFileChanged)}
	case err != nil:
		// A socket (or a device without a driver) cannot be opened at all (ENXIO): it is
		// invalid like a FIFO, not a failure that a retry could fix.
		if li, lerr := os.Lstat(resolved); lerr == nil && !li.Mode().IsRegular() && !li.IsDir() {
			return nil, nil, &FileError{Op: "open", Err: fmt.Errorf("%w: not a regular file (%s)", ErrInvalid, describeMode(li.Mode()))}
		}
		return nil, nil, &FileError{Op: "open", Err: err}
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, &FileError{Op: "stat", Err: err}
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, &FileError{Op: "stat", Err: fmt.Errorf("%w: not a regular file (%s)", ErrInvalid, describeMode(fi.Mode()))}
	}
	return f, fi, nil
}

func describeMode(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	default:
		return m.Type().String()
	}
}
