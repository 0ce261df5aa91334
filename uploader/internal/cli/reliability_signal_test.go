package cli

import (
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/staticmedia/staticmedia/internal/testbed"
)

// TestReliabilityGracefulStop proves the graceful stop: on SIGINT or SIGTERM the uploader stops
// taking files, lets the uploads in flight finish (at most --concurrency of them) or abandons
// them after --stop-grace when they hang, writes every flag it earned, prints the report and
// exits 1 within a bound. Every flag it wrote has its object, it wrote exactly the flags its
// report counts, and a rerun finishes the work.
func TestReliabilityGracefulStop(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO; runs the uploader binary")
	}
	t.Parallel()
	uploaderBinary(t)
	m := testbed.StartMinIO(t)
	src, files := mediaTree(t, 1200)
	names := sortedNames(files)
	const concurrency = 8

	tests := []struct {
		name   string
		mode   func(t *testing.T) crashMode
		sig    syscall.Signal
		stall  bool          // in-flight uploads hang when the signal comes
		within time.Duration // bound on the exit after the signal
	}{
		{"SIGINT, sqlite table", func(t *testing.T) crashMode { return sqliteMode(t, names) }, syscall.SIGINT, false, 5 * time.Second},
		{"SIGTERM, ledger", ledgerMode, syscall.SIGTERM, false, 5 * time.Second},
		// --stop-grace 1s bounds the wait for uploads that will never finish.
		{"SIGTERM with stalled uploads, sqlite table", func(t *testing.T) crashMode { return sqliteMode(t, names) }, syscall.SIGTERM, true, 5 * time.Second},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mode := tt.mode(t)
			site := newProxiedSite(t, m, []string{"stop-int", "stop-term", "stop-stall"}[i])
			// 30 ms per upload: 8 workers confirm about 270 files a second, so the few
			// milliseconds a signal takes to reach a busy process add only a handful.
			site.proxy.SetFaults(testbed.Faults{Delay: 30 * time.Millisecond})
			report := filepath.Join(t.TempDir(), "report.json")
			args := append([]string{"migrate", "--tf-output", site.tfOutput, "--source", src, "--progress", "never",
				"--concurrency", "8", "--stop-grace", "1s", "--report", report}, mode.args...)

			p := startUploader(t, args)
			var (
				mu         sync.Mutex
				signalled  time.Time
				putsAtSig  int
				signalOnce sync.Once
			)
			site.onPut(func(n int) {
				if n < 300 {
					return
				}
				signalOnce.Do(func() {
					if tt.stall {
						site.proxy.SetFaults(testbed.Faults{Stall: 1})
					}
					mu.Lock()
					signalled, putsAtSig = time.Now(), site.putsDone()
					mu.Unlock()
					p.signal(tt.sig)
				})
			})
			code := p.wait(t, 60*time.Second)
			site.proxy.OnExchange(nil)
			mu.Lock()
			sigAt, before := signalled, putsAtSig
			mu.Unlock()
			stderr := p.stderr.String()
			if sigAt.IsZero() {
				t.Fatalf("the run ended (exit %d) before the signal; stderr:\n%s", code, tail(stderr, 2000))
			}
			took := p.ended.Sub(sigAt)
			rep := readReport(t, report)
			after := site.putsDone() - before
			t.Logf("exit %d %s after the signal; %d uploads confirmed after it; report: %s", code, took.Round(time.Millisecond), after, reportBrief(rep))
			if code != ExitFailed {
				t.Errorf("exit code %d, want %d", code, ExitFailed)
			}
			if took > tt.within {
				t.Errorf("exited %s after the signal, want within %s", took, tt.within)
			}
			if !rep.Interrupted {
				t.Error("the report does not say the run was interrupted")
			}
			for _, want := range []string{"run interrupted", "interrupted=true", "exit_code=1"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, tail(stderr, 2000))
				}
			}
			// New files stop at the signal: only the uploads in flight may finish, and the few
			// a worker took while the signal was on its way to the process (without the stop,
			// the other 900 files would follow).
			if after > 3*concurrency {
				t.Errorf("%d uploads were confirmed after the signal, far more than the %d in flight", after, concurrency)
			}
			flagged := mode.flagged(t)
			if int64(len(flagged)) != rep.Flagged {
				t.Errorf("the catalog has %d flags, the report says %d were written", len(flagged), rep.Flagged)
			}
			if tt.stall {
				if rep.Abandoned == 0 {
					t.Error("no upload was abandoned, yet every upload in flight hung")
				}
			} else if rep.Flagged != rep.Uploaded || rep.Abandoned != 0 {
				t.Errorf("report: %s; want every confirmed upload flagged and none abandoned", reportBrief(rep))
			}
			checkFlaggedStored(t, site.admin, site.bucket, "", flagged, files)

			site.proxy.SetFaults(testbed.Faults{})
			code, _, stderr = runUploader(t, 60*time.Second, args)
			rep = readReport(t, report)
			if code != ExitOK || rep.Uploaded != int64(len(files)-len(flagged)) {
				t.Fatalf("rerun: exit %d, %s; want the %d remaining files; stderr:\n%s", code, reportBrief(rep), len(files)-len(flagged), tail(stderr, 2000))
			}
			flagged = mode.flagged(t)
			if len(flagged) != len(files) {
				t.Errorf("after the rerun %d of %d records are flagged", len(flagged), len(files))
			}
			checkFlaggedStored(t, site.admin, site.bucket, "", flagged, files)
		})
	}
}
