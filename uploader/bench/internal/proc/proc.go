// Package proc runs the benchmark's child processes: engines in the background (MinIO,
// PostgreSQL) and measured client runs in the foreground, each in its own process group with a
// parent-death signal, so nothing outlives the harness.
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
	"sync"
	"syscall"
	"time"
)

// Background is a long-running child, such as an engine.
type Background struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error

	stopOnce sync.Once
	stopErr  error
}

// StartBackground starts cmd with its output appended to logPath.
func StartBackground(name string, cmd *exec.Cmd, logPath string) (*Background, error) {
	out, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: opening its log: %w", name, err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	isolate(cmd)
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	b := &Background{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		b.err = cmd.Wait()
		out.Close()
		close(b.done)
	}()
	return b, nil
}

// Exited reports whether the child has exited, and how.
func (b *Background) Exited() (bool, error) {
	select {
	case <-b.done:
		return true, b.err
	default:
		return false, nil
	}
}

// Describe names the child and its log, for error messages.
func (b *Background) Describe() string {
	state := "running"
	if done, err := b.Exited(); done {
		state = fmt.Sprintf("exited (%v)", err)
	}
	return fmt.Sprintf("%s (pid %d) %s; log: %s", b.name, b.cmd.Process.Pid, state, b.log)
}

// Stop sends sig to the group, waits up to grace, then kills the group and waits.
func (b *Background) Stop(sig syscall.Signal, grace time.Duration) error {
	b.stopOnce.Do(func() {
		pgid := b.cmd.Process.Pid
		select {
		case <-b.done:
		default:
			_ = syscall.Kill(-pgid, sig)
			select {
			case <-b.done:
			case <-time.After(grace):
				_ = syscall.Kill(-pgid, syscall.SIGKILL)
				select {
				case <-b.done:
				case <-time.After(30 * time.Second):
					b.stopErr = fmt.Errorf("%s (pid %d) did not exit after SIGKILL", b.name, pgid)
				}
			}
		}
		// Stragglers (PostgreSQL backends) that outlived the leader.
		if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			b.stopErr = errors.Join(b.stopErr, err)
		}
	})
	return b.stopErr
}

// isolate puts the child in its own process group, killed with the harness.
func isolate(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	cmd.WaitDelay = 5 * time.Second
}

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
		<-exited
		werr = fmt.Errorf("%s did not finish in %v and was killed; see %s", name, timeout, logPath)
	case <-ctx.Done():
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
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
