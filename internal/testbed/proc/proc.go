// Package proc runs child processes for the test bed and the benchmark: engines in the
// background (Start) and measured client runs in the foreground (Measure). Every child gets its
// own process group and a parent-death signal, so nothing outlives the test binary or the
// benchmark harness, even when they are killed hard.
//
// The package never prints and never exits: failures are returned as errors.
package proc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Process is a long-running child, such as an engine.
type Process struct {
	name string
	cmd  *exec.Cmd
	out  *tailBuffer
	done chan struct{} // closed once the child has been reaped
	err  error         // Wait's result, valid after done

	stopOnce sync.Once
	stopErr  error
}

// Start starts cmd in a new process group with a parent-death signal. Stdout and stderr go to a
// bounded buffer, quoted by Describe, and to log as well when it is not nil, after a first line
// naming the command (never its environment, where engines take their secrets).
func Start(name string, cmd *exec.Cmd, log io.Writer) (*Process, error) {
	out := &tailBuffer{max: 16 << 10}
	var w io.Writer = out
	if log != nil {
		fmt.Fprintf(log, "# %s\n", cmd.String())
		w = io.MultiWriter(out, log)
	}
	cmd.Stdout, cmd.Stderr = w, w
	isolate(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Process{name: name, cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// isolate puts cmd in its own process group, killed with its parent.
func isolate(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	// WaitDelay bounds Wait when a grandchild still holds the output pipe open.
	cmd.WaitDelay = 5 * time.Second
}

// Name is the name given to Start.
func (p *Process) Name() string { return p.name }

// PID is the child's process ID, which is also its process group ID.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Done is closed once the child has exited and been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is how the child exited; valid once Done is closed.
func (p *Process) Err() error {
	<-p.done
	return p.err
}

// Exited reports whether the child has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop ends the child and waits for its exit. SIGKILL goes to the whole process group at once.
// Any other signal goes to the leader only, which gets grace to shut down before the group is
// killed: PostgreSQL's postmaster, told SIGINT, stops its own children (which read SIGINT
// differently) and releases its shared memory. Only the first call signals: once the child is
// reaped its pid may belong to someone else.
func (p *Process) Stop(sig syscall.Signal, grace time.Duration) error {
	p.stopOnce.Do(func() { p.stopErr = p.stopNow(sig, grace) })
	return p.stopErr
}

func (p *Process) stopNow(sig syscall.Signal, grace time.Duration) error {
	if p.Exited() {
		killGroup(p.PID(), syscall.SIGKILL) // stragglers that outlived the leader
		return nil
	}
	if sig == syscall.SIGKILL {
		killGroup(p.PID(), sig)
	} else {
		_ = p.cmd.Process.Signal(sig)
	}
	select {
	case <-p.done:
	case <-time.After(grace):
		killGroup(p.PID(), syscall.SIGKILL)
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			return fmt.Errorf("%s (pid %d) did not exit after SIGKILL", p.name, p.PID())
		}
	}
	killGroup(p.PID(), syscall.SIGKILL)
	return nil
}

func killGroup(pgid int, sig syscall.Signal) {
	if err := syscall.Kill(-pgid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		_ = syscall.Kill(pgid, sig)
	}
}

// Describe is the child's state and the tail of its output, for error messages.
func (p *Process) Describe() string {
	state := "still running"
	if p.Exited() {
		state = fmt.Sprintf("exited: %v", p.err)
	}
	return fmt.Sprintf("%s (pid %d) %s; last output:\n%s", p.name, p.PID(), state, p.out.String())
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
