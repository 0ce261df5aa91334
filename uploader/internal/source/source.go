// Package source turns a catalog record's path into an object key and opens its file, with the
// rules every command shares: migrate uploads what it resolves, and verify and prune look at the
// same key and the same file. DESIGN.md says why the rules are what they are.
package source

import (
	"io/fs"
	"os"
)

// Source is a source directory resolved once, with the rules a run uses to turn a record's
// path into an object key and to open its file.
type Source struct{ root sourceRoot }

// New resolves dir; the error is a *ConfigError naming the "source" setting.
func New(dir string) (Source, error) {
	root, err := newSourceRoot(dir)
	if err != nil {
		return Source{}, err
	}
	return Source{root: root}, nil
}

// WithBeforeOpen returns s calling fn with the resolved path right before each file is opened:
// the moment another process can swap in something else. It exists for tests.
func (s Source) WithBeforeOpen(fn func(path string)) Source {
	s.root.beforeOpen = fn
	return s
}

// Dir is the source directory made absolute and cleaned; RealDir is it with every symlink
// resolved.
func (s Source) Dir() string     { return s.root.Lexical }
func (s Source) RealDir() string { return s.root.Real }

// Key derives a record's object key (prefix + the canonical, slash-separated path relative to
// the source) and the file's path under Dir. Errors wrap ErrInvalid.
func (s Source) Key(prefix, recordPath string) (key, local string, err error) {
	return objectKey(s.root, prefix, recordPath)
}

// Open opens local for reading: symlinks are followed only when they resolve inside the
// source, and only regular files are opened. The error is a *FileError (without Path and Key)
// wrapping ErrMissing, ErrInvalid, ErrFileChanged or the system's error.
func (s Source) Open(local string) (*os.File, fs.FileInfo, error) {
	f, fi, ferr := openSource(s.root, local)
	if ferr != nil {
		return nil, nil, ferr
	}
	return f, fi, nil
}
