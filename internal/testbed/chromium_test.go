package testbed

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestChromium loads a page from loopback and runs its script: the browser starts, reaches 127.0.0.1 and
// executes JavaScript.
func TestChromium(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts a browser")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>t</title><p id="p">waiting</p><script>document.getElementById("p").textContent = "ran " + (6*7)</script>`)
	}))
	defer srv.Close()
	tab := StartChromium(t).Tab(t)
	if err := chromedp.Do(tab, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatalf("loading %s: %v", srv.URL, err)
	}
	text, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.getElementById("p").textContent`))
	if err != nil {
		t.Fatalf("reading the page: %v", err)
	}
	if text != "ran 42" {
		t.Fatalf("page text = %q, want %q", text, "ran 42")
	}
}
