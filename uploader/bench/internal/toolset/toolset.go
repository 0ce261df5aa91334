// Package toolset finds or installs the programs the benchmark runs: the uploader (built from
// this checkout), s5cmd v2.3.0 (built from a throwaway module), rclone (Debian's package), the
// AWS CLI (from the image) and MinIO (found by internal/testbed/engine, as the tests find it,
// and installed by `make engines`).
//
// A tool that cannot be had is reported with the reason, and the benchmark runs without it.
package toolset

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/staticmedia/staticmedia/internal/testbed/engine"
)

// S5cmdVersion is the s5cmd release measured against.
const S5cmdVersion = "v2.3.0"

// Tool is one program: its path and version, or why it is missing.
type Tool struct {
	Name    string
	Path    string
	Version string
	Missing string // non-empty when the tool is unavailable: the reason and the fix
}

// OK reports whether the tool can run.
func (t Tool) OK() bool { return t.Missing == "" }

// Tools are the programs found.
type Tools struct {
	Uploader, S5cmd, Rclone, AWS, MinIO Tool
}

// All lists the tools in a fixed order.
func (t *Tools) All() []Tool { return []Tool{t.Uploader, t.S5cmd, t.Rclone, t.AWS, t.MinIO} }

// Options say where things live and what to install.
type Options struct {
	RepoRoot string    // the checkout: the uploader is built from it, .ci/engines.sh lives in it
	BenchDir string    // scratch (.bench): binaries in bin/, throwaway modules in tools/
	Log      io.Writer // progress lines
	// NoInstall finds tools but installs nothing (quick runs in CI without network or root).
	NoInstall bool
}

// Prepare finds or installs every tool. It fails only on errors that make the benchmark
// meaningless (the uploader does not build).
func Prepare(ctx context.Context, o Options) (*Tools, error) {
	bin := filepath.Join(o.BenchDir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return nil, err
	}
	t := &Tools{}
	var err error
	if t.Uploader, err = uploader(ctx, o, bin); err != nil {
		return nil, err
	}
	t.S5cmd = s5cmd(ctx, o, bin)
	t.Rclone = rclone(ctx, o)
	t.AWS = awsCLI(ctx)
	t.MinIO = minio(ctx, o)
	return t, nil
}

// uploader builds ./uploader from the checkout on every run (the build cache makes a rebuild
// cheap), then checks that it has a migrate command.
func uploader(ctx context.Context, o Options, bin string) (Tool, error) {
	t := Tool{Name: "uploader", Path: filepath.Join(bin, "uploader")}
	fmt.Fprintln(o.Log, "bench: building the uploader")
	if out, err := run(ctx, o.RepoRoot, nil, "go", "build", "-trimpath", "-o", t.Path, "./uploader"); err != nil {
		t.Missing = "go build ./uploader failed: " + firstLines(out, 5)
		return t, nil
	}
	out, err := run(ctx, "", nil, t.Path, "migrate", "--help")
	if !strings.Contains(out, "tf-output") {
		t.Missing = fmt.Sprintf("`uploader migrate --help` does not describe --tf-output (%v): %s", err, firstLines(out, 3))
		return t, nil
	}
	t.Version = gitVersion(ctx, o.RepoRoot)
	return t, nil
}

func gitVersion(ctx context.Context, root string) string {
	rev, err := run(ctx, root, nil, "git", "rev-parse", "--short", "HEAD")
	if err != nil {
		return "unknown"
	}
	v := strings.TrimSpace(rev)
	if dirty, _ := run(ctx, root, nil, "git", "status", "--porcelain", "--", "uploader", "internal", "go.mod"); strings.TrimSpace(dirty) != "" {
		v += "-dirty"
	}
	return "git " + v
}

// s5cmd is built from a throwaway module: `go install github.com/peak/s5cmd/v2@v2.3.0` is
// refused by the module proxy (its go.mod has replace directives), `go get` into a module is not.
func s5cmd(ctx context.Context, o Options, bin string) Tool {
	t := Tool{Name: "s5cmd", Path: filepath.Join(bin, "s5cmd")}
	if v, err := run(ctx, "", nil, t.Path, "version"); err == nil && strings.Contains(v, S5cmdVersion) {
		t.Version = strings.TrimSpace(v)
		return t
	}
	if o.NoInstall {
		t.Missing = "not in " + bin + " (run make bench once to build it)"
		return t
	}
	fmt.Fprintln(o.Log, "bench: building s5cmd", S5cmdVersion, "in a throwaway module")
	mod := filepath.Join(o.BenchDir, "tools", "s5cmd")
	if err := os.MkdirAll(mod, 0o755); err != nil {
		t.Missing = err.Error()
		return t
	}
	env := []string{"GOFLAGS=-mod=mod", "GOWORK=off"}
	steps := [][]string{
		{"go", "get", "github.com/peak/s5cmd/v2@" + S5cmdVersion},
		// The release's version is stamped the way its own release build does, so `s5cmd
		// version` identifies it (and the next run can reuse the binary).
		{"go", "build", "-ldflags", "-X github.com/peak/s5cmd/v2/version.Version=" + S5cmdVersion +
			" -X github.com/peak/s5cmd/v2/version.GitCommit=module", "-o", t.Path, "github.com/peak/s5cmd/v2"},
	}
	if _, err := os.Stat(filepath.Join(mod, "go.mod")); err != nil {
		steps = append([][]string{{"go", "mod", "init", "s5cmdbuild"}}, steps...)
	}
	for _, s := range steps {
		if out, err := run(ctx, mod, env, s[0], s[1:]...); err != nil {
			t.Missing = fmt.Sprintf("%s failed: %s", strings.Join(s, " "), firstLines(out, 5))
			return t
		}
	}
	v, _ := run(ctx, "", nil, t.Path, "version")
	t.Version = strings.TrimSpace(v)
	return t
}

// rclone comes from Debian's package (1.60).
func rclone(ctx context.Context, o Options) Tool {
	t := Tool{Name: "rclone"}
	if p, err := exec.LookPath("rclone"); err == nil {
		t.Path = p
	} else if o.NoInstall || os.Geteuid() != 0 {
		t.Missing = "not installed: apt-get install rclone"
		return t
	} else {
		fmt.Fprintln(o.Log, "bench: installing rclone (apt-get install rclone)")
		env := []string{"DEBIAN_FRONTEND=noninteractive"}
		if _, err := run(ctx, "", env, "apt-get", "install", "-y", "-q", "rclone"); err != nil {
			// The package lists may be missing on a fresh image.
			_, _ = run(ctx, "", env, "apt-get", "update", "-q")
			if out, err := run(ctx, "", env, "apt-get", "install", "-y", "-q", "rclone"); err != nil {
				t.Missing = "apt-get install rclone failed: " + firstLines(out, 5)
				return t
			}
		}
		if t.Path, err = exec.LookPath("rclone"); err != nil {
			t.Missing = "rclone not on PATH after apt-get install"
			return t
		}
	}
	v, _ := run(ctx, "", nil, t.Path, "version")
	t.Version = firstLines(v, 1)
	return t
}

// awsCLI uses the image's AWS CLI. A pyenv shim is resolved to the real script, so the shim's
// own start-up (a shell and pyenv) is not charged to the AWS CLI.
func awsCLI(ctx context.Context) Tool {
	t := Tool{Name: "aws"}
	p, err := exec.LookPath("aws")
	if err != nil {
		t.Missing = "not installed: pip install awscli"
		return t
	}
	t.Path = p
	if strings.Contains(p, "/.pyenv/shims/") {
		if real, err := run(ctx, "", nil, "pyenv", "which", "aws"); err == nil {
			t.Path = strings.TrimSpace(real)
		}
	}
	v, _ := run(ctx, "", nil, t.Path, "--version")
	t.Version = firstLines(v, 1)
	return t
}

// minio is found the way the tests find it (engine.Find: $STATICMEDIA_MINIO, .bin/minio, PATH,
// and the version .ci/versions pins), and installed by `make engines` when it is missing or stale.
func minio(ctx context.Context, o Options) Tool {
	t := Tool{Name: "minio"}
	p, err := engine.Find("minio")
	if err != nil && !o.NoInstall {
		fmt.Fprintln(o.Log, "bench: installing MinIO (make engines, about 2 minutes):", err)
		if out, rerr := run(ctx, o.RepoRoot, nil, "bash", ".ci/engines.sh"); rerr != nil {
			t.Missing = "make engines did not install MinIO: " + firstLines(out, 5)
			return t
		}
		p, err = engine.Find("minio")
	}
	if err != nil {
		t.Missing = err.Error()
		return t
	}
	t.Path = p
	v, _ := run(ctx, "", nil, t.Path, "--version")
	t.Version = firstLines(v, 1)
	return t
}

// run runs a short command with a bounded time and returns its combined output.
func run(ctx context.Context, dir string, env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, " | ")
}
