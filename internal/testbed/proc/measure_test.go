package proc

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMeasurePeakRSSIsTheChildsOwn holds a large heap in the test process while children run:
// a child that allocates little must not report the parent's memory (the rusage Maxrss does,
// through vfork), and one that allocates a lot must report it.
func TestMeasurePeakRSSIsTheChildsOwn(t *testing.T) {
	ballast := make([]byte, 300<<20)
	for i := range ballast {
		ballast[i] = 1
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not on PATH")
	}
	tests := []struct {
		name       string
		args       []string
		minMB      int64
		maxMB      int64
		minCPUTime time.Duration
	}{
		{name: "small child", args: []string{"sleep", "0.2"}, maxMB: 20},
		{name: "child holding 150 MB", args: []string{python, "-c", "import time; b = bytearray(150 << 20); time.sleep(0.3)"}, minMB: 150, maxMB: 250},
		{name: "child burning CPU", args: []string{python, "-c", "sum(range(30_000_000))"}, maxMB: 60, minCPUTime: 100 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := Measure(context.Background(), tc.name, exec.Command(tc.args[0], tc.args[1:]...), filepath.Join(t.TempDir(), "log"), time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			mb := u.MaxRSS >> 20
			if mb < tc.minMB || mb > tc.maxMB {
				t.Errorf("peak RSS %d MiB, want within [%d, %d] (the parent holds %d MiB)", mb, tc.minMB, tc.maxMB, len(ballast)>>20)
			}
			if u.CPU() < tc.minCPUTime {
				t.Errorf("CPU %v, want at least %v", u.CPU(), tc.minCPUTime)
			}
			if u.Wall <= 0 {
				t.Errorf("wall time %v", u.Wall)
			}
		})
	}
	runtime.KeepAlive(ballast)
}

func TestMeasureFailures(t *testing.T) {
	dir := t.TempDir()
	_, err := Measure(context.Background(), "exit3", exec.Command("sh", "-c", "echo oops; exit 3"), filepath.Join(dir, "exit.log"), time.Minute)
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 3 {
		t.Fatalf("err = %v, want an ExitError with code 3", err)
	}
	start := time.Now()
	_, err = Measure(context.Background(), "sleeper", exec.Command("sleep", "30"), filepath.Join(dir, "sleep.log"), 200*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "did not finish") {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("the timed-out child was not killed promptly")
	}
}
