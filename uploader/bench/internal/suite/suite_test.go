package suite

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestQuickBenchmark runs the whole benchmark in quick mode (tiny sets, one repetition) with
// the tools already installed, into a temporary output directory: every run must upload every
// file, the uploader must flag every row, and the report must come out. It proves the harness,
// not the numbers.
func TestQuickBenchmark(t *testing.T) {
	if testing.Short() {
		t.Skip("the quick benchmark builds the uploader and starts MinIO and PostgreSQL (about 40 s)")
	}
	root, err := filepath.Abs("../../../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root not found at %s: %v", root, err)
	}
	out := t.TempDir()
	cfg := Config{
		RepoRoot: root, BenchDir: filepath.Join(root, ".bench"), OutDir: out, Command: "go test",
		Quick: true, Seed: DefaultSeed, Reps: 1, SlowReps: 1, Timeout: 3 * time.Minute, MemoryRows: 5000,
		// Nothing is installed from a test: tools that are missing are reported and skipped.
		NoInstall: true,
	}
	var log bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	err = Run(ctx, cfg, &log)
	t.Log(log.String())
	if err != nil {
		t.Fatalf("quick benchmark: %v", err)
	}
	md, err := os.ReadFile(filepath.Join(out, "results.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"### small-images · fakes3", "### many-tiny · fakes3", "### large · fakes3", "### small-images · fakes3+30ms",
		"| uploader-ledger | 1/1 |", "| uploader-sqlite | 1/1 |",
		"5,000 pending SQLite rows",
		// Sets left off a setting say why.
		"many-tiny is not run on fakes3+30ms: ", "large is not run on fakes3+30ms: 30 ms per 8 MiB part is noise",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("results.md lacks %q", want)
		}
	}
	for _, name := range []string{"results.svg", "results.json"} {
		if st, err := os.Stat(filepath.Join(out, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing or empty: %v", name, err)
		}
	}
	if t.Failed() {
		t.Logf("results.md:\n%s", md)
	}
}
