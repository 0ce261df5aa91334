package testbed

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// process is an engine running as a child in its own process group.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *tailBuffer
	done chan struct{} // closed once the child has been reaped
	err  error         // Wait's result, valid after done

	stopOnce sync.Once
	stopErr  error
}

// startProcess starts cmd in a new process group with a parent-death signal, so the engine dies
// with the test binary even when cleanups never run (a panic, a killed `go test`). Stdout and
// stderr go to one bounded buffer, quoted when the engine fails.
func startProcess(name string, cmd *exec.Cmd) (*process, error) {
	out := &tailBuffer{max: 16 << 10}
	cmd.Stdout = out
	cmd.Stderr = out
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	// WaitDelay bounds Wait when a grandchild still holds the output pipe open.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// pid is also the process group ID (Setpgid).
func (p *process) pid() int { return p.cmd.Process.Pid }

// exited reports whether the child has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop ends the engine and waits for its exit. SIGKILL goes to the whole process group at once.
// Any other signal goes to the leader only, which gets grace to shut down before the group is
// killed: PostgreSQL's postmaster, told SIGINT, stops its own children (which read SIGINT
// differently) and releases its shared memory.
func (p *process) stop(sig syscall.Signal, grace time.Duration) error {
	// Only the first call signals: once the child is reaped its pid may belong to someone else.
	p.stopOnce.Do(func() { p.stopErr = p.stopNow(sig, grace) })
	return p.stopErr
}

func (p *process) stopNow(sig syscall.Signal, grace time.Duration) error {
	if p.exited() {
		killGroup(p.pid(), syscall.SIGKILL) // stragglers that outlived the leader
		return nil
	}
	if sig == syscall.SIGKILL {
		killGroup(p.pid(), sig)
	} else {
		_ = p.cmd.Process.Signal(sig)
	}
	select {
	case <-p.done:
	case <-time.After(grace):
		killGroup(p.pid(), syscall.SIGKILL)
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			return fmt.Errorf("%s (pid %d) did not exit after SIGKILL", p.name, p.pid())
		}
	}
	killGroup(p.pid(), syscall.SIGKILL)
	return nil
}

// stopOrFail stops p for a cleanup; a process that will not die is a test failure, not a leak.
func stopOrFail(t testing.TB, p *process, sig syscall.Signal, grace time.Duration) {
	if err := p.stop(sig, grace); err != nil {
		t.Errorf("testbed: %v", err)
	}
}

func killGroup(pgid int, sig syscall.Signal) {
	if err := syscall.Kill(-pgid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		_ = syscall.Kill(pgid, sig)
	}
}

// describe is the engine's state and the tail of its output, for failure messages.
func (p *process) describe() string {
	state := "still running"
	if p.exited() {
		state = fmt.Sprintf("exited: %v", p.err)
	}
	return fmt.Sprintf("%s (pid %d) %s; last output:\n%s", p.name, p.pid(), state, p.out.String())
}

// tailBuffer keeps the last max bytes written to it; engines can be chatty.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(bytes.TrimSpace(b.buf))
}
