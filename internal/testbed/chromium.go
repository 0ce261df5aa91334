package testbed

import (
	"context"
	"os/exec"
	"syscall"
	"testing"

	"github.com/chromedp/chromedp"
)

// ChromiumInstallHint says how to install the browser the browser tests drive.
const ChromiumInstallHint = "apt-get install chromium (make engines does it under CI=true)"

// Chromium is a headless Chromium driven over the DevTools protocol (chromedp). Tabs opened with Tab share
// the browser and its profile, a fresh temporary directory.
type Chromium struct {
	ctx context.Context // the browser's chromedp context; cancelling it closes the browser
}

// StartChromium starts a headless Chromium for this test; t.Cleanup closes it and kills what it started.
// A missing browser fails the test under CI=true and skips it otherwise (Require).
//
// The flags suit root in a container: --no-sandbox (Chromium's sandbox refuses to run as root without
// user namespaces), --headless=new (the real browser without a window, not the old headless shell),
// --disable-dev-shm-usage (a container's /dev/shm is often 64 MB), --no-proxy-server (tests talk to
// loopback only, whatever proxy the environment names).
func StartChromium(t testing.TB) *Chromium {
	t.Helper()
	bin := Require(t, "chromium", ChromiumInstallHint)
	var cmd *exec.Cmd
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("no-proxy-server", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1000, 700),
		// Its own process group, so the cleanup kills the renderers and the zygote with the browser.
		chromedp.ModifyCmdFunc(func(c *exec.Cmd) {
			if c.SysProcAttr == nil {
				c.SysProcAttr = &syscall.SysProcAttr{}
			}
			c.SysProcAttr.Setpgid = true
			cmd = c
		}),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		if cmd != nil && cmd.Process != nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // already gone after a clean close: ESRCH
		}
	})
	// The first Run starts the browser; a failure here is the browser's, not the page's.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("testbed: chromium (%s) did not start: %v", bin, err)
	}
	t.Logf("testbed: headless chromium %s", bin)
	return &Chromium{ctx: ctx}
}

// Tab opens a new tab in the browser and returns its chromedp context; t.Cleanup closes the tab.
func (c *Chromium) Tab(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(c.ctx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("testbed: opening a chromium tab: %v", err)
	}
	return ctx
}
