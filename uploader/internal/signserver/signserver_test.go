package signserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/go-hclog"

	"github.com/staticmedia/staticmedia/uploader/signer"
)

const token = "0123456789abcdef0123456789abcdef-test"

// newSigner is a real signer; presigning makes no request.
func newSigner(t *testing.T, creds aws.CredentialsProvider) *signer.Signer {
	t.Helper()
	client := s3.New(s3.Options{Region: "us-east-1", Credentials: creds, BaseEndpoint: aws.String("http://127.0.0.1:9"), UsePathStyle: true})
	s, err := signer.New(client, signer.Config{Bucket: "media", KeyPrefix: "incoming/", MaxBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCheckToken(t *testing.T) {
	t.Parallel()
	for tok, want := range map[string]string{
		"":                             "is not set",
		"short":                        "has 5 characters, fewer than 32",
		" " + token:                    "white space",
		token[:16] + "\n" + token[:16]: "white space",
		token:                          "",
	} {
		err := CheckToken(tok)
		if (err == nil) != (want == "") || err != nil && !strings.Contains(err.Error(), want) {
			t.Errorf("CheckToken(%q) = %v, want %q", tok, err, want)
		}
		if err != nil && tok != "" && strings.Contains(err.Error(), tok) {
			t.Errorf("the error quotes the token: %v", err)
		}
	}
}

func TestHandler(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	log := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Trace})
	h, err := New(newSigner(t, credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")), token, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	post := func(auth, body string) (*http.Response, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+Path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			t.Fatalf("the answer is not JSON: %v", err)
		}
		return resp, v
	}
	tests := []struct {
		auth, body string
		want       int
		wantKeys   []string
	}{
		{"bearer " + token, `{"content_type":"image/png","size":10}`, 200, []string{"url", "fields", "key", "expires"}},
		{"Bearer  " + token + " ", `{"content_type":"image/png","size":10}`, 200, []string{"url", "fields", "key", "expires"}},
		{"Basic " + token, `{"content_type":"image/png","size":10}`, 401, []string{"error"}},
		{token, `{"content_type":"image/png","size":10}`, 401, []string{"error"}},
		{"Bearer " + token, `{"content_type":"image/png","size":10} {}`, 400, []string{"error"}},
		{"Bearer " + token, `{"content_type":"image/png","size":-1}`, 400, []string{"error", "field"}},
	}
	for _, tt := range tests {
		resp, v := post(tt.auth, tt.body)
		if resp.StatusCode != tt.want {
			t.Errorf("%.12s... %s: status %d, want %d (%v)", tt.auth, tt.body, resp.StatusCode, tt.want, v)
		}
		for _, k := range tt.wantKeys {
			if _, ok := v[k]; !ok {
				t.Errorf("%s: the answer %v has no %q", tt.body, v, k)
			}
		}
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control %q, want no-store: a form must not be cached", resp.Header.Get("Cache-Control"))
		}
		if tt.want == 401 && resp.Header.Get("WWW-Authenticate") == "" {
			t.Error("401 without WWW-Authenticate")
		}
	}
	if strings.Contains(logs.String(), token[:12]) {
		t.Errorf("the log contains the token:\n%s", logs.String())
	}
}

// TestHandlerSigningFails answers 500 without the cause, which only the log has.
func TestHandlerSigningFails(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	failing := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{}, errors.New("token file unreadable")
	})
	h, err := New(newSigner(t, failing), token, hclog.New(&hclog.LoggerOptions{Output: &logs}))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, Path, strings.NewReader(`{"content_type":"image/jpeg","size":5}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "token file") {
		t.Errorf("status %d, body %s: want 500 without the cause", rec.Code, rec.Body)
	}
	if !strings.Contains(logs.String(), "token file unreadable") {
		t.Errorf("the log does not give the cause:\n%s", logs.String())
	}
}

func TestListenUnix(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.sock")
	l, err := Listen(ctx, UnixPrefix+path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	if !IsLoopback(l) {
		t.Error("a unix socket is local")
	}
	// A live server's socket is not taken over.
	var le *ListenError
	if _, err := Listen(ctx, UnixPrefix+path); !errors.As(err, &le) || !strings.Contains(err.Error(), "another process answers") {
		t.Errorf("second Listen: %v, want a refusal naming the live server", err)
	}
	tcp, err := Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	if !IsLoopback(tcp) {
		t.Error("127.0.0.1 is loopback")
	}
	all, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	if IsLoopback(all) {
		t.Error("0.0.0.0 is not loopback")
	}
}

// TestHandlerAmbiguousBody refuses bodies that a proxy in front (the application, which may
// check the request with another JSON parser) could read differently from the signer: data
// after the object, a field given twice, a field name in another case.
func TestHandlerAmbiguousBody(t *testing.T) {
	t.Parallel()
	h, err := New(newSigner(t, credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")), token, nil)
	if err != nil {
		t.Fatal(err)
	}
	for body, want := range map[string]string{
		`{"content_type":"image/png","size":10}]`:                               "after the JSON object",
		`{"content_type":"image/png","size":10}}`:                               "after the JSON object",
		`{"content_type":"image/png","size":10}x`:                               "after the JSON object",
		`{"content_type":"image/png","size":10} {}`:                             "after the JSON object",
		`{"content_type":"image/svg+xml","content_type":"image/png","size":10}`: `"content_type" twice`,
		`{"content_type":"image/png","size":10,"size":5}`:                       `"size" twice`,
		`{"Content_Type":"image/png","size":10}`:                                `unknown field "Content_Type"`,
		`{"content_type":"image/png","SIZE":10}`:                                `unknown field "SIZE"`,
		`{"content_type":"image/png","size":1.5}`:                               "size",
		`{"content_type":"image/png","size":"10"}`:                              "size",
		`{"content_type":5,"size":10}`:                                          "content_type",
		`["image/png",10]`:                                                      "not a JSON object",
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, Path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		h.ServeHTTP(rec, req)
		var answer errorBody
		_ = json.Unmarshal(rec.Body.Bytes(), &answer)
		if rec.Code != http.StatusBadRequest || !strings.Contains(answer.Error, want) {
			t.Errorf("%s: status %d %s, want 400 with %q", body, rec.Code, rec.Body, want)
		}
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, Path, strings.NewReader(" {\"size\": 10, \"content_type\": \"image/png\"}\n"))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("a plain body: status %d %s, want 200", rec.Code, rec.Body)
	}
}
