package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Usage is what one measured run cost: user and system CPU from the child's rusage (its own and
// that of any children it waited for), and its peak resident set from /proc (see peakRSS).
type Usage struct {
	Wall   time.Duration
	User   time.Duration
	Sys    time.Duration
	MaxRSS int64 // bytes
}

// CPU is user plus system time.
func (u Usage) CPU() time.Duration { return u.User + u.Sys }

// ExitError is a measured run that ended with a non-zero status.
type ExitError struct {
	Name string
	Code int
	Log  string
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("%s exited with status %d; see %s", e.Name, e.Code, e.Log)
}

// Measure runs cmd to completion, its output to logPath, and returns its wall time (start to
// exit) and rusage. A run longer than timeout is killed. The usage is returned even when the
// run failed, so a failure can be reported with what it cost.
func Measure(ctx context.Context, name string, cmd *exec.Cmd, logPath string, timeout time.Duration) (Usage, error) {
	out, err := os.Create(logPath)
	if err != nil {
		return Usage{}, fmt.Errorf("%s: creating its log: %w", name, err)
	}
	defer out.Close()
	fmt.Fprintf(out, "# %s\n", cmd.String())
	cmd.Stdout, cmd.Stderr = out, out
	isolate(cmd)

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Usage{}, fmt.Errorf("starting %s: %w", name, err)
	}
	exited := make(chan error, 1)
	stopPeak := make(chan struct{})
	peak := make(chan int64, 1)
	go func() { peak <- peakRSS(cmd.Process.Pid, stopPeak) }()
	go func() { exited <- cmd.Wait() }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var werr error
	select {
	case werr = <-exited:
	case <-timer.C:
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited //nolint:errcheck // killed by us: its exit status says nothing more
		werr = fmt.Errorf("%s did not finish in %v and was killed; see %s", name, timeout, logPath)
	case <-ctx.Done():
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited //nolint:errcheck // killed by us: its exit status says nothing more
		werr = ctx.Err()
	}
	u := Usage{Wall: time.Since(start)}
	close(stopPeak)
	u.MaxRSS = <-peak
	if st := cmd.ProcessState; st != nil {
		u.User, u.Sys = st.UserTime(), st.SystemTime()
	}
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		return u, &ExitError{Name: name, Code: ee.ExitCode(), Log: logPath}
	}
	return u, werr
}

// peakRSS polls the child's VmHWM (the high-water mark of its resident set) until stop is
// closed, and returns the largest value seen, in bytes.
//
// The rusage Maxrss is useless here: Go starts children with vfork (CLONE_VM), and at exec the
// kernel folds the RSS high-water mark of the memory the child shared with the harness into
// the child's own, so every child would report at least the harness's peak. VmHWM belongs to
// the memory map created by exec, so it is the client's alone. A mark is kept by the kernel, so
// polling misses only growth in the last interval before exit.
func peakRSS(pid int, stop <-chan struct{}) int64 {
	name := "/proc/" + strconv.Itoa(pid) + "/status"
	var peak int64
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if v, ok := readHWM(name); ok {
			peak = max(peak, v)
		}
		select {
		case <-stop:
			return peak
		case <-t.C:
		}
	}
}

// readHWM returns the VmHWM line of a /proc status file in bytes; ok is false when the process
// is gone or has no memory map left (a zombie).
func readHWM(name string) (int64, bool) {
	b, err := os.ReadFile(name)
	if err != nil {
		return 0, false
	}
	_, rest, found := bytes.Cut(b, []byte("VmHWM:"))
	if !found {
		return 0, false
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(string(line)), "kB")), 10, 64)
	if err != nil {
		return 0, false
	}
	return kb << 10, true
}
