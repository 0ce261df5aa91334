package cli

import (
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/staticmedia/staticmedia/internal/testbed"
)

// secondProxy puts another fault proxy in front of the site's MinIO and bucket, with its own
// Terraform output, so that a second uploader's requests are counted apart from the first's.
func (s *proxiedSite) secondProxy(t *testing.T) (*testbed.FaultProxy, string) {
	t.Helper()
	p := testbed.StartFaultProxy(t, s.minio.Endpoint, 0)
	out := writeFile(t, filepath.Join(t.TempDir(), "tf-output.json"), tfOutputJSON(t, map[string]any{
		"bucket": s.bucket, "region": s.minio.Region, "access_key_id": s.minio.RootUser,
		"secret_access_key": s.minio.RootPassword, "endpoint": p.URL,
	}))
	return p, out
}

// confirmedPuts returns, per key, the uploads a proxy saw confirmed, with their times.
func confirmedPuts(p *testbed.FaultProxy, bucket string) map[string][]testbed.Exchange {
	out := map[string][]testbed.Exchange{}
	for _, e := range p.Exchanges() {
		if e.Status == 200 && e.IsObjectPut() {
			if key, ok := e.Key(bucket); ok {
				out[key] = append(out[key], e)
			}
		}
	}
	return out
}

// activity is the span from a proxy's first request to its last.
func activity(p *testbed.FaultProxy) (first, last time.Time) {
	for _, e := range p.Exchanges() {
		if first.IsZero() || e.Start.Before(first) {
			first = e.Start
		}
		if e.End.After(last) {
			last = e.End
		}
	}
	return first, last
}

// TestReliabilityOverlapPostgres proves that two uploaders started at once on the same
// PostgreSQL table cooperate: each record is uploaded by one of them, once (no key is ever PUT
// by both, let alone at the same time), both do part of the work while the other runs, and
// every record ends up flagged.
func TestReliabilityOverlapPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs PostgreSQL and MinIO; runs the uploader binary")
	}
	t.Parallel()
	uploaderBinary(t)
	bed := newPGBed(t, 3000, "overlap")
	site, src, files, dsn, db := bed.site, bed.src, bed.files, bed.dsn, bed.db
	proxyB, outB := site.secondProxy(t)
	for _, p := range []*testbed.FaultProxy{site.proxy, proxyB} {
		p.SetFaults(testbed.Faults{Delay: 3 * time.Millisecond})
	}
	args := func(out, report string) []string {
		return []string{"migrate", "--tf-output", out, "--source", src, "--progress", "never", "--log-level", "warn",
			"--concurrency", "8", "--db", dsn, "--table", "photos", "--path-column", "file", "--flag-column", "on_s3",
			"--report", report}
	}
	reportA, reportB := filepath.Join(t.TempDir(), "a.json"), filepath.Join(t.TempDir(), "b.json")
	a := startUploader(t, args(site.tfOutput, reportA))
	b := startUploader(t, args(outB, reportB))
	codeA, codeB := a.wait(t, 90*time.Second), b.wait(t, 90*time.Second)
	repA, repB := readReport(t, reportA), readReport(t, reportB)
	t.Logf("A: exit %d, %s; B: exit %d, %s", codeA, reportBrief(repA), codeB, reportBrief(repB))
	if codeA != ExitOK || codeB != ExitOK {
		t.Fatalf("exit codes %d and %d, want 0 and 0; stderr A:\n%s\nstderr B:\n%s", codeA, codeB, tail(a.stderr.String(), 1500), tail(b.stderr.String(), 1500))
	}

	putsA, putsB := confirmedPuts(site.proxy, site.bucket), confirmedPuts(proxyB, site.bucket)
	both := 0
	for key, ea := range putsA {
		eb := putsB[key]
		if len(eb) > 0 {
			both++
			if both <= 5 {
				t.Errorf("key %q was uploaded by both uploaders: A %s..%s, B %s..%s", key,
					ea[0].Start.Format("15:04:05.000"), ea[0].End.Format("15:04:05.000"), eb[0].Start.Format("15:04:05.000"), eb[0].End.Format("15:04:05.000"))
			}
		}
		if len(ea) > 1 {
			t.Errorf("key %q was uploaded %d times by A", key, len(ea))
		}
	}
	for key, eb := range putsB {
		if len(eb) > 1 {
			t.Errorf("key %q was uploaded %d times by B", key, len(eb))
		}
	}
	if both > 0 {
		t.Errorf("%d keys were uploaded by both uploaders", both)
	}
	if len(putsA)+len(putsB)-both != len(files) {
		t.Errorf("%d + %d keys uploaded, want the %d files between them", len(putsA), len(putsB), len(files))
	}
	if repA.Uploaded+repB.Uploaded != int64(len(files)) {
		t.Errorf("the reports count %d + %d uploads, want %d", repA.Uploaded, repB.Uploaded, len(files))
	}
	// Both really worked at the same time: otherwise this proves nothing about overlap.
	firstA, lastA := activity(site.proxy)
	firstB, lastB := activity(proxyB)
	if repA.Uploaded == 0 || repB.Uploaded == 0 || !firstA.Before(lastB) || !firstB.Before(lastA) {
		t.Errorf("the uploaders did not work side by side: A uploaded %d (%s..%s), B %d (%s..%s)",
			repA.Uploaded, firstA.Format("15:04:05.000"), lastA.Format("15:04:05.000"), repB.Uploaded, firstB.Format("15:04:05.000"), lastB.Format("15:04:05.000"))
	}
	flagged := flaggedPaths(t, db, "SELECT file FROM photos WHERE on_s3")
	if len(flagged) != len(files) {
		t.Errorf("%d of %d rows flagged", len(flagged), len(files))
	}
	checkFlaggedStored(t, site.admin, site.bucket, "", flagged, files)
}

// TestReliabilityOverlapLocked proves that on a SQLite table and on a ledger, which a file lock
// guards, a second uploader started while the first runs exits at once with exit 3 and "another
// uploader is running", without uploading anything, and a third started with --lock-wait waits
// for the first to finish, then finds nothing left to do. The first run is undisturbed and every
// record ends up flagged.
func TestReliabilityOverlapLocked(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO; runs the uploader binary")
	}
	t.Parallel()
	uploaderBinary(t)
	m := testbed.StartMinIO(t)
	src, files := mediaTree(t, 800)
	names := sortedNames(files)
	for i, mode := range []func(t *testing.T) crashMode{
		func(t *testing.T) crashMode { return sqliteMode(t, names) },
		ledgerMode,
	} {
		mode := mode(t)
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			site := newProxiedSite(t, m, []string{"overlap-sqlite", "overlap-ledger"}[i])
			proxyB, outB := site.secondProxy(t)
			proxyC, outC := site.secondProxy(t)
			// The first run takes about 2 s: time for the others to start while it runs.
			site.proxy.SetFaults(testbed.Faults{Delay: 10 * time.Millisecond})
			dir := t.TempDir()
			args := func(out, report string, extra ...string) []string {
				return append(append([]string{"migrate", "--tf-output", out, "--source", src, "--progress", "never",
					"--concurrency", "4", "--report", filepath.Join(dir, report)}, mode.args...), extra...)
			}

			a := startUploader(t, args(site.tfOutput, "a.json"))
			started := make(chan struct{})
			var once sync.Once
			site.onPut(func(n int) {
				if n >= 20 {
					once.Do(func() { close(started) })
				}
			})
			select {
			case <-started:
			case <-a.done:
				t.Fatalf("the first run ended (exit %d) before the second started", a.code)
			case <-time.After(60 * time.Second):
				t.Fatal("the first run made no progress")
			}

			// The second run is refused at once.
			b := startUploader(t, args(outB, "b.json"))
			codeB := b.wait(t, 10*time.Second)
			stderrB := b.stderr.String()
			if codeB != ExitFatal || !strings.Contains(stderrB, "another uploader is running on") || !strings.Contains(stderrB, "--lock-wait") {
				t.Errorf("second run: exit %d, want %d with \"another uploader is running on\" and the --lock-wait hint; stderr:\n%s", codeB, ExitFatal, stderrB)
			}
			if a.exited() {
				t.Fatal("the first run ended before the second was refused: the test proves nothing")
			}
			if rep := readReport(t, filepath.Join(dir, "b.json")); !strings.Contains(rep.Error, "another uploader is running") {
				t.Errorf("second run's report error = %q", rep.Error)
			}
			if n := proxyB.Count(func(e testbed.Exchange) bool { return e.Method != http.MethodGet }); n != 0 {
				t.Errorf("the refused run sent %d upload requests", n)
			}

			// The third waits for the first, then has nothing to do.
			c := startUploader(t, args(outC, "c.json", "--lock-wait", "60s"))
			codeA := a.wait(t, 60*time.Second)
			codeC := c.wait(t, 30*time.Second)
			repA, repC := readReport(t, filepath.Join(dir, "a.json")), readReport(t, filepath.Join(dir, "c.json"))
			if codeA != ExitOK || repA.Uploaded != int64(len(files)) {
				t.Errorf("first run: exit %d, %s; want all %d files", codeA, reportBrief(repA), len(files))
			}
			if codeC != ExitOK || repC.Uploaded != 0 || c.ended.Before(a.ended) {
				t.Errorf("waiting run: exit %d, %s, ended %s after the first; want exit 0, nothing uploaded, after the first", codeC, reportBrief(repC), c.ended.Sub(a.ended))
			}
			if n := proxyC.Count(func(e testbed.Exchange) bool { return e.Method != http.MethodGet }); n != 0 {
				t.Errorf("the waiting run sent %d upload requests", n)
			}
			flagged := mode.flagged(t)
			if len(flagged) != len(files) {
				t.Errorf("%d of %d records flagged", len(flagged), len(files))
			}
			checkFlaggedStored(t, site.admin, site.bucket, "", flagged, files)
		})
	}
}
