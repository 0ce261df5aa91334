package awsconfig_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/staticmedia/staticmedia/internal/awsconfig"
	"github.com/staticmedia/staticmedia/internal/testbed"
)

// stsRecorder is a loopback proxy in front of moto's STS that records the token of each
// AssumeRoleWithWebIdentity and can move the session's expiration, so a test sees what the
// credentials cache sends and when it renews.
type stsRecorder struct {
	URL string

	mu     sync.Mutex
	tokens []string
	// expiration, when set, replaces the Expiration of the sessions moto issues.
	expiration time.Time
}

var expirationElement = regexp.MustCompile(`<Expiration>[^<]*</Expiration>`)

func startSTSRecorder(t *testing.T, endpoint string) *stsRecorder {
	t.Helper()
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	rec := &stsRecorder{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = &http.Transport{Proxy: nil}
	proxy.ModifyResponse = func(resp *http.Response) error {
		rec.mu.Lock()
		exp := rec.expiration
		rec.mu.Unlock()
		if exp.IsZero() || resp.StatusCode != http.StatusOK {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		body = expirationElement.ReplaceAll(body, []byte("<Expiration>"+exp.UTC().Format(time.RFC3339)+"</Expiration>"))
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") == "AssumeRoleWithWebIdentity" {
			rec.mu.Lock()
			rec.tokens = append(rec.tokens, form.Get("WebIdentityToken"))
			rec.mu.Unlock()
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	rec.URL = srv.URL
	return rec
}

// sent returns the tokens of the exchanges so far.
func (r *stsRecorder) sent() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.tokens...)
}

func (r *stsRecorder) expireSessionsAt(t time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expiration = t
}

// TestWebIdentityTokenFile exchanges a token file's content for a role's session at moto's STS
// (which issues sessions without checking the token) and checks what the credentials send: the
// token without the line break `echo "$TOKEN" > file` leaves (a JWT holds no white space), and,
// once the session expires, the file's current token, which CI may have rewritten meanwhile.
func TestWebIdentityTokenFile(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs moto")
	}
	m := testbed.StartMoto(t)
	const token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmV4YW1wbGUvc2l0ZSJ9.c2lnbmF0dXJl"
	ctx := context.Background()
	load := func(t *testing.T, rec *stsRecorder, file string) awsconfig.Options {
		t.Helper()
		return awsconfig.Options{Region: m.Region, Endpoints: awsconfig.Endpoints{STS: rec.URL},
			WebIdentity: &awsconfig.WebIdentity{RoleARN: "arn:aws:iam::" + account + ":role/ci/upload", TokenFile: file, SessionName: "test"}}
	}
	write := func(t *testing.T, path, content string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	for name, content := range map[string]string{
		"newline":          token + "\n",
		"crlf":             token + "\r\n",
		"spaces and lines": "  " + token + " \n\n",
	} {
		t.Run("token with white space: "+name, func(t *testing.T) {
			rec := startSTSRecorder(t, m.Endpoint)
			file := filepath.Join(t.TempDir(), "token")
			write(t, file, content)
			o := load(t, rec, file)
			cfg, err := awsconfig.Load(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
				t.Fatal(err)
			}
			if got := rec.sent(); len(got) != 1 || got[0] != token {
				t.Errorf("tokens sent = %q, want [%q]", got, token)
			}
		})
	}

	t.Run("a session about to expire is renewed before it is used", func(t *testing.T) {
		rec := startSTSRecorder(t, m.Endpoint)
		file := filepath.Join(t.TempDir(), "token")
		write(t, file, token)
		cfg, err := awsconfig.Load(ctx, load(t, rec, file))
		if err != nil {
			t.Fatal(err)
		}
		// Two minutes left: a request signed now could reach S3 after the end (a slow link, a
		// clock behind S3's) and be refused with ExpiredToken, which is not retried.
		rec.expireSessionsAt(time.Now().Add(2 * time.Minute))
		if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
			t.Fatal(err)
		}
		rec.expireSessionsAt(time.Time{})
		c, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(rec.sent()); got != 2 {
			t.Errorf("%d exchanges, want 2: the session with two minutes left was used again instead of being renewed", got)
		}
		if left := time.Until(c.Expires); left < 30*time.Minute {
			t.Errorf("the renewed session is taken to end in %v, want moto's hour minus the renewal margin", left)
		}
	})

	t.Run("an expired session is renewed with the file's current token", func(t *testing.T) {
		rec := startSTSRecorder(t, m.Endpoint)
		file := filepath.Join(t.TempDir(), "token")
		write(t, file, token+"1")
		cfg, err := awsconfig.Load(ctx, load(t, rec, file))
		if err != nil {
			t.Fatal(err)
		}
		rec.expireSessionsAt(time.Now().Add(-time.Minute))
		if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
			t.Fatal(err)
		}
		// CI's refresher replaces the token, as examples/ci's GitHub workflow does every 4 minutes.
		write(t, file, token+"2")
		rec.expireSessionsAt(time.Time{})
		if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
			t.Fatal(err)
		}
		if got, want := rec.sent(), []string{token + "1", token + "2"}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("tokens sent = %q, want %q (one exchange per session, each with the file's content at the time)", got, want)
		}
	})
}

// TestWebIdentityExchangeTimeout points STS at a server that takes the exchange and never answers
// (a stuck proxy, a wrong AWS_ENDPOINT_URL_STS). The SDK's credentials cache runs the exchange
// without the caller's cancellation and the uploader's requests have no deadline, so without a
// bound of its own every upload would wait for it forever; it must end with a web identity error.
func TestWebIdentityExchangeTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var mu sync.Mutex
	held := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		held++
		mu.Unlock()
		<-release
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: the held requests end, then the server
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("eyJ.eyJ.sig"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := awsconfig.Load(context.Background(), awsconfig.Options{Region: "us-east-1", Endpoints: awsconfig.Endpoints{STS: srv.URL},
		WebIdentity: &awsconfig.WebIdentity{RoleARN: "arn:aws:iam::" + account + ":role/upload", TokenFile: file, SessionName: "test",
			Timeout: 200 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := cfg.Credentials.Retrieve(context.Background())
		done <- err
	}()
	select {
	case err := <-done:
		var wie *awsconfig.WebIdentityError
		if !errors.As(err, &wie) {
			t.Fatalf("Retrieve = %v, want a *WebIdentityError", err)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Retrieve = %v, want it to say the exchange timed out", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the exchange is still waiting for an answer after a minute: it has no bound")
	}
	mu.Lock()
	defer mu.Unlock()
	if held == 0 {
		t.Error("the exchange never reached the server")
	}
}
