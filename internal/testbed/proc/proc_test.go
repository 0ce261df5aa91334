package proc

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a log the child writes to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestStartStop starts a child that ignores the polite signal and leaves a grandchild in its
// group: Stop must kill both after the grace, and the output goes to the log and to Describe.
func TestStartStop(t *testing.T) {
	log := &syncBuffer{}
	// The child prints once its trap is set, so the signal cannot arrive before it.
	cmd := exec.Command("sh", "-c", `trap '' TERM; sleep 300 & echo ready $!; wait`)
	p, err := Start("stubborn", cmd, log)
	if err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(log.String(), "\nready ") {
		select {
		case <-p.Done():
			t.Fatalf("the child exited: %s", p.Describe())
		case <-time.After(10 * time.Millisecond):
		}
	}
	if p.Exited() || !strings.Contains(p.Describe(), "still running") {
		t.Fatalf("Describe = %q, want a running child", p.Describe())
	}
	if err := p.Stop(syscall.SIGTERM, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if !p.Exited() {
		t.Fatal("Stop returned with the child running")
	}
	// The grandchild was sent SIGKILL, which the kernel carries out asynchronously: it must be
	// gone, or a zombie until whoever inherited it reaps it, soon after Stop.
	_, after, _ := strings.Cut(log.String(), "\nready ")
	grandchild := strings.TrimSpace(after)
	for deadline := time.Now().Add(30 * time.Second); ; {
		b, err := os.ReadFile("/proc/" + grandchild + "/stat")
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, rest, _ := bytes.Cut(b, []byte(") ")); bytes.HasPrefix(rest, []byte("Z")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the grandchild %s outlived Stop by 30s: %s", grandchild, b)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.HasPrefix(log.String(), "# ") || !strings.Contains(log.String(), "sh -c") {
		t.Errorf("log = %q, want a first line naming the command", log.String())
	}
	if d := p.Describe(); !strings.Contains(d, "stubborn") || !strings.Contains(d, "exited") || !strings.Contains(d, "ready") {
		t.Errorf("Describe = %q, want the name, the exit and the output", d)
	}
	if err := p.Stop(syscall.SIGKILL, 0); err != nil {
		t.Errorf("a second Stop: %v", err)
	}
}

// TestStartMissingProgram is an error naming the process.
func TestStartMissingProgram(t *testing.T) {
	_, err := Start("ghost", exec.Command("/nonexistent/ghost"), nil)
	if err == nil || !strings.Contains(err.Error(), "starting ghost") {
		t.Fatalf("Start = %v, want an error naming ghost", err)
	}
}

func TestTailBufferKeepsTheEnd(t *testing.T) {
	b := &tailBuffer{max: 8}
	_, _ = b.Write([]byte("0123456789"))
	_, _ = b.Write([]byte("ab"))
	if got := b.String(); got != "456789ab" {
		t.Errorf("tail = %q, want %q", got, "456789ab")
	}
}
