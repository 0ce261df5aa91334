package engine

import (
	"bufio"
	"debug/buildinfo"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Install hints: how to get each engine, quoted by NotFoundError.
const (
	MinIOInstallHint    = "make engines (builds the MinIO pinned in .ci/versions and links it as .bin/minio), or set STATICMEDIA_MINIO"
	MotoInstallHint     = `pip install 'moto[server]'`
	PostgresInstallHint = "apt-get install postgresql-15 (POSTGRES_MAJOR in .ci/versions) and put /usr/lib/postgresql/15/bin on PATH"
	MySQLInstallHint    = "apt-get install mariadb-server (mariadbd and mariadb-install-db on PATH or in /usr/sbin)"
	tofuInstallHint     = "make engines (builds the OpenTofu pinned in .ci/versions and links it as .bin/tofu)"
)

// installHints maps each program the engines need to how to install it.
var installHints = map[string]string{
	"minio":              MinIOInstallHint,
	"tofu":               tofuInstallHint,
	"moto_server":        MotoInstallHint,
	"initdb":             PostgresInstallHint,
	"postgres":           PostgresInstallHint,
	"mariadbd":           MySQLInstallHint,
	"mariadb-install-db": MySQLInstallHint,
}

// NotFoundError is a program that is not installed where Find looks.
type NotFoundError struct {
	Binary string
	Looked []string // where Find looked, in order
	Hint   string   // how to install it
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("%s not found (looked in %s): install it with %s", e.Binary, strings.Join(e.Looked, ", "), e.Hint)
}

// InstallHint returns how to install binary, or "" for a program the engines do not use.
func InstallHint(binary string) string { return installHints[binary] }

// RepoRoot returns the directory holding go.mod, found by walking up from the working directory
// (go test runs each package in its own directory; the benchmark runs from the root).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: run from inside the repository")
		}
		dir = parent
	}
}

// Find returns the absolute path of binary. It is the one lookup the tests and the benchmark
// share:
//   - "minio" is $STATICMEDIA_MINIO when set (a setting that does not name an executable is an
//     error, not a reason to look elsewhere);
//   - "minio" and "tofu" are then looked for in RepoRoot/.bin, where `make engines` links them;
//   - the MariaDB programs in /usr/sbin, /usr/bin, /usr/local/sbin and /usr/local/bin, where
//     Debian installs them and a test's PATH may not reach;
//   - then every binary in PATH.
//
// A MinIO that names its module version in its build info must be the version .ci/versions
// pins. A program found nowhere is a *NotFoundError carrying the install hint.
func Find(binary string) (string, error) {
	var looked []string
	if binary == "minio" {
		if env := os.Getenv("STATICMEDIA_MINIO"); env != "" {
			p, err := lookAbs(env)
			if err != nil {
				return "", fmt.Errorf("STATICMEDIA_MINIO=%q is not an executable (%w): point it at a MinIO binary, or unset it and run make engines", env, err)
			}
			return p, checkPinned(binary, p)
		}
		looked = append(looked, "$STATICMEDIA_MINIO (unset)")
	}
	var dirs []string
	switch binary {
	case "minio", "tofu":
		if root, err := RepoRoot(); err == nil {
			dirs = append(dirs, filepath.Join(root, ".bin"))
		}
	case "mariadbd", "mariadb-install-db":
		dirs = append(dirs, "/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin")
	}
	for _, d := range dirs {
		if p, err := lookAbs(filepath.Join(d, binary)); err == nil {
			return p, checkPinned(binary, p)
		}
		looked = append(looked, d)
	}
	if p, err := lookAbs(binary); err == nil {
		return p, checkPinned(binary, p)
	}
	hint := InstallHint(binary)
	if hint == "" {
		hint = "your package manager"
	}
	return "", &NotFoundError{Binary: binary, Looked: append(looked, "PATH"), Hint: hint}
}

// lookAbs is exec.LookPath made absolute.
func lookAbs(file string) (string, error) {
	p, err := exec.LookPath(file)
	if err != nil {
		return "", err
	}
	return filepath.Abs(p)
}

// pinnedModules maps a binary built from a Go module to the .ci/versions names of its module
// and version.
var pinnedModules = map[string][2]string{
	"minio": {"MINIO_MODULE", "MINIO_VERSION"},
}

// pinnedMajors maps a distribution's binary to the .ci/versions name of its pinned major version.
var pinnedMajors = map[string]string{
	"initdb":   "POSTGRES_MAJOR",
	"postgres": "POSTGRES_MAJOR",
}

// checkPinned compares binary's version with the one pinned in .ci/versions. Outside the
// repository nothing is pinned.
func checkPinned(binary, path string) error {
	_, module := pinnedModules[binary]
	_, major := pinnedMajors[binary]
	if !module && !major {
		return nil
	}
	root, err := RepoRoot()
	if err != nil {
		return nil
	}
	pins, err := PinnedVersions(root)
	if err != nil {
		return err
	}
	return checkPinnedIn(pins, binary, path)
}

// checkPinnedIn is checkPinned against the given pins.
//
// A Go binary is checked by the module version in its build info; one whose version cannot be
// told (a release build says "(devel)") passes: the check is there to catch a stale build, not to
// forbid other ones. A PostgreSQL program is checked by the major version it prints.
func checkPinnedIn(pins map[string]string, binary, path string) error {
	if name, ok := pinnedMajors[binary]; ok && pins[name] != "" {
		out, err := exec.Command(path, "--version").Output() //nolint:gosec // G702: path is the engine Find located, run to read its version
		if err != nil {
			return fmt.Errorf("%s at %s: %s --version: %w", binary, path, binary, err)
		}
		// "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
		_, version, _ := strings.Cut(strings.TrimSpace(string(out)), ") ")
		version, _, _ = strings.Cut(version, " ")
		if got, _, _ := strings.Cut(version, "."); got != pins[name] {
			return fmt.Errorf("%s at %s is version %s but .ci/versions pins %s=%s: install that major and put its bin directory first on PATH",
				binary, path, version, name, pins[name])
		}
		return nil
	}
	names, ok := pinnedModules[binary]
	if !ok {
		return nil
	}
	info, err := buildinfo.ReadFile(path)
	if err != nil || info.Main.Version == "" || info.Main.Version == "(devel)" {
		return nil
	}
	module, version := pins[names[0]], pins[names[1]]
	if info.Main.Path != module || version == "" || info.Main.Version == version {
		return nil
	}
	return fmt.Errorf("%s at %s is %s %s but .ci/versions pins %s: run make engines (or point STATICMEDIA_MINIO at the pinned build)",
		binary, path, info.Main.Path, info.Main.Version, version)
}

// PinnedVersions reads root/.ci/versions, the one place engine and tool versions are pinned:
// NAME=VALUE lines, # comments.
func PinnedVersions(root string) (map[string]string, error) {
	path := filepath.Join(root, ".ci", "versions")
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the pinned versions: %w", err)
	}
	defer f.Close()
	pins := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: %q is not NAME=VALUE", path, n, line)
		}
		pins[name] = value
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return pins, nil
}
