package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    Snapshot
		fps  float64
		want []string
		not  []string
	}{
		{
			name: "streaming, total unknown",
			s:    Snapshot{Taken: 120, Uploaded: 100, Skipped: 2, Failed: 1, Bytes: 3 << 20},
			fps:  50,
			want: []string{"103 files", "100 uploaded", "2 skipped", "1 failed", "3.0 MiB", "50 files/s"},
			not:  []string{"ETA", "["},
		},
		{
			name: "total known",
			s:    Snapshot{Total: 200, Uploaded: 100, Bytes: 1 << 30},
			fps:  10,
			want: []string{"[==========          ] 100/200 files", "1.0 GiB", "ETA 10s"},
			not:  []string{"skipped", "failed"},
		},
		{
			name: "no rate yet",
			s:    Snapshot{Total: 200},
			want: []string{"0/200 files"},
			not:  []string{"ETA"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Line(tt.s, 3*time.Second, tt.fps, 1024, 0)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("Line() = %q, want it to contain %q", got, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("Line() = %q, must not contain %q", got, n)
				}
			}
		})
	}
	if got := Line(Snapshot{Uploaded: 5}, 0, 0, 0, 20); len(got) != 19 {
		t.Errorf("Line() with width 20 is %d characters: %q", len(got), got)
	}
}

func TestBytes(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 20: "5.0 MiB", 3 << 40: "3.0 TiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestRate(t *testing.T) {
	t.Parallel()
	r := rate{window: 5 * time.Second}
	t0 := time.Unix(0, 0)
	r.add(t0, Snapshot{})
	fps, bps := r.add(t0.Add(2*time.Second), Snapshot{Uploaded: 20, Bytes: 2000})
	if fps != 10 || bps != 1000 {
		t.Fatalf("rate = %v files/s %v B/s, want 10 and 1000", fps, bps)
	}
	// After a stall longer than the window, the rate reflects the stall, not the run's average.
	r.add(t0.Add(10*time.Second), Snapshot{Uploaded: 20, Bytes: 2000})
	fps, _ = r.add(t0.Add(16*time.Second), Snapshot{Uploaded: 20, Bytes: 2000})
	if fps != 0 {
		t.Fatalf("rate after a stall = %v, want 0", fps)
	}
}

// TestTerminalKeepsLogLinesAboveTheBar checks that a log line clears the bar, is printed whole,
// and the bar is drawn again after it.
func TestTerminalKeepsLogLinesAboveTheBar(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	term := NewTerminal(&out, 80)
	term.draw("BAR")
	term.Write([]byte("log line\n"))
	term.clear()
	want := "\r\x1b[KBAR" + "\r\x1b[K" + "log line\n" + "BAR" + "\r\x1b[K"
	if out.String() != want {
		t.Fatalf("terminal output = %q, want %q", out.String(), want)
	}
}

func TestShowAndLogStop(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	term := NewTerminal(&out, 80)
	stop := term.Show(func() Snapshot { return Snapshot{Uploaded: 7} }, time.Millisecond, time.Now)
	time.Sleep(20 * time.Millisecond)
	stop()
	stop() // idempotent
	if !strings.Contains(out.String(), "7 uploaded") {
		t.Fatalf("bar never drawn: %q", out.String())
	}
	if !strings.HasSuffix(out.String(), "\r\x1b[K") {
		t.Fatalf("bar not cleared at stop: %q", out.String())
	}
}
