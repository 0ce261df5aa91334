package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/staticmedia/staticmedia/internal/testbed"
	"github.com/staticmedia/staticmedia/uploader/internal/verify"
	"github.com/staticmedia/staticmedia/uploader/signer"
)

// testToken is serve-signer's bearer token in these tests; the logs must never show it.
const testToken = "tok3n-0123456789abcdef0123456789abcdef-SECRET"

// jpegBytes is the start of a JPEG file padded to n bytes.
func jpegBytes(n int) []byte {
	b := append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00}, bytes.Repeat([]byte{0x42}, n)...)
	return b[:n]
}

// postToS3 posts the form's fields and then file, as a browser's FormData does.
func postToS3(t *testing.T, form signer.Form, fileType string, file []byte) (int, []byte) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range form.Fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	part, err := w.CreateFormFile("file", "upload")
	if err != nil {
		t.Fatal(err)
	}
	part.Write(file)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(form.URL, w.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, data
}

// checkStored checks that a post with form stored file under the form's key, with its type.
func checkStored(t *testing.T, admin *s3.Client, bucket string, form signer.Form, contentType string, file []byte) {
	t.Helper()
	status, body := postToS3(t, form, contentType, file)
	var answer struct{ Key, ETag string }
	if status != http.StatusCreated || xml.Unmarshal(body, &answer) != nil || answer.Key != form.Key || answer.ETag == "" {
		t.Fatalf("post: status %d, want 201 with the key and an ETag:\n%s", status, body)
	}
	head, err := admin.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(form.Key)})
	if err != nil {
		t.Fatalf("HEAD %s: %v", form.Key, err)
	}
	if aws.ToString(head.ContentType) != contentType || aws.ToInt64(head.ContentLength) != int64(len(file)) {
		t.Errorf("stored %s: %s, %d bytes; want %s, %d", form.Key, aws.ToString(head.ContentType), aws.ToInt64(head.ContentLength), contentType, len(file))
	}
}

func decodeForm(t *testing.T, data string) signer.Form {
	t.Helper()
	var form signer.Form
	dec := json.NewDecoder(strings.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&form); err != nil {
		t.Fatalf("not a form: %v\n%s", err, data)
	}
	return form
}

// TestSignerUsageErrors checks the settings that exit 2 before any request, each named with
// its fix, for both commands.
func TestSignerUsageErrors(t *testing.T) {
	t.Setenv(signerTokenEnv, testToken)
	dir := t.TempDir()
	out := writeFile(t, filepath.Join(dir, "out.json"), tfOutputJSON(t, map[string]any{
		"bucket": "media", "region": "us-east-1", "endpoint": "http://127.0.0.1:1",
		"access_key_id": "AKIAOUTPUTKEY0000001", "secret_access_key": "SECRETdoNotLeak/0123456789abcdefghijklmn",
	}))
	notSocket := writeFile(t, filepath.Join(dir, "file"), "x")
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"no type", []string{"sign-post", "--tf-output", out}, []string{"--content-type TYPE is required", "image/jpeg"}},
		{"svg", []string{"sign-post", "--tf-output", out, "--content-type", "image/svg+xml"}, []string{"--content-type", "SVG can carry script", "image/png"}},
		{"prefix condition", []string{"sign-post", "--tf-output", out, "--content-type", "image/*"}, []string{`--content-type "image/*" is not allowed`}},
		{"html", []string{"sign-post", "--tf-output", out, "--content-type", "text/html"}, []string{`--content-type "text/html" is not allowed`}},
		{"jpg", []string{"sign-post", "--tf-output", out, "--content-type", "image/jpg"}, []string{"use image/jpeg"}},
		{"long expiry", []string{"sign-post", "--tf-output", out, "--content-type", "image/png", "--expires", "16m"}, []string{"--expires 16m0s is longer than 15m0s"}},
		{"zero expiry", []string{"sign-post", "--tf-output", out, "--content-type", "image/png", "--expires", "0"}, []string{"--expires must be positive"}},
		{"zero size", []string{"sign-post", "--tf-output", out, "--content-type", "image/png", "--max-bytes", "0"}, []string{"--max-bytes must be at least 1 byte"}},
		{"huge size", []string{"sign-post", "--tf-output", out, "--content-type", "image/png", "--max-bytes", "6GiB"}, []string{"--max-bytes must be between 1 and", "5 GiB"}},
		{"bad size", []string{"sign-post", "--tf-output", out, "--content-type", "image/png", "--max-bytes", "lots"}, []string{`invalid value "lots" for flag -max-bytes`}},
		{"no output", []string{"sign-post", "--content-type", "image/png"}, []string{"--tf-output FILE (or - for stdin) or --tf-dir DIR is required"}},
		{"missing output file", []string{"sign-post", "--tf-output", filepath.Join(dir, "nope.json"), "--content-type", "image/png"}, []string{"--tf-output", "no such file"}},
		{"server long expiry", []string{"serve-signer", "--tf-output", out, "--expires", "1h"}, []string{"--expires 1h0m0s is longer than 15m0s"}},
		{"server bad listen", []string{"serve-signer", "--tf-output", out, "--listen", "8791"}, []string{"--listen 8791: not HOST:PORT or unix:PATH"}},
		{"server every interface", []string{"serve-signer", "--tf-output", out, "--listen", ":8791"}, []string{"--listen :8791: no host"}},
		{"server socket path taken", []string{"serve-signer", "--tf-output", out, "--listen", "unix:" + notSocket}, []string{"not a socket is in the way"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, "", tt.args...)
			if code != ExitUsage {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, ExitUsage, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout is not empty: %s", stdout)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, stderr)
				}
			}
			if strings.Contains(stderr, "SECRETdoNotLeak") || strings.Contains(stderr, testToken) {
				t.Error("stderr contains the secret key or the token")
			}
		})
	}

	for _, tok := range []string{"", "short-token", "0123456789abcdef 0123456789abcdef0"} {
		t.Run("token "+tok, func(t *testing.T) {
			t.Setenv(signerTokenEnv, tok)
			code, _, stderr := run(t, "", "serve-signer", "--tf-output", out, "--listen", "127.0.0.1:0")
			if code != ExitUsage || !strings.Contains(stderr, signerTokenEnv) || !strings.Contains(stderr, "openssl rand -hex 32") && tok != "" {
				t.Errorf("exit code %d, want 2 naming %s; stderr:\n%s", code, signerTokenEnv, stderr)
			}
			if tok != "" && strings.Contains(stderr, tok) {
				t.Error("stderr quotes the token")
			}
		})
	}
}

// TestSignPostMinIO signs forms with `uploader sign-post` from the Terraform output and posts
// them to MinIO, which enforces their conditions.
func TestSignPostMinIO(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	t.Parallel()
	const bucket = "media"
	m, admin := minioWithBucket(t, bucket)
	outJSON := tfOutputJSON(t, map[string]any{
		"bucket": bucket, "region": m.Region, "access_key_id": m.RootUser, "secret_access_key": m.RootPassword,
		"endpoint": m.Endpoint, "key_prefix": "incoming/",
	})
	out := writeFile(t, filepath.Join(t.TempDir(), "out.json"), outJSON)

	code, stdout, stderr := run(t, "", "sign-post", "--tf-output", out, "--content-type", "image/jpeg", "--max-bytes", "2KiB", "--expires", "2m")
	if code != ExitOK {
		t.Fatalf("exit code %d; stderr:\n%s", code, stderr)
	}
	if strings.Count(stdout, "\n") != 1 {
		t.Errorf("stdout is not one JSON line:\n%s", stdout)
	}
	form := decodeForm(t, stdout)
	if !regexp.MustCompile(`^incoming/[0-9a-f]{32}\.jpg$`).MatchString(form.Key) || form.Fields["key"] != form.Key {
		t.Errorf("key %q (field %q): want a random name under incoming/", form.Key, form.Fields["key"])
	}
	if d := time.Until(form.Expires); d <= 0 || d > 2*time.Minute {
		t.Errorf("form expires in %s, want at most 2m", d)
	}
	if form.URL != m.Endpoint+"/"+bucket {
		t.Errorf("url %q, want %s/%s", form.URL, m.Endpoint, bucket)
	}
	if strings.Contains(stderr, m.RootPassword) {
		t.Error("the log contains the secret key")
	}
	// Over --max-bytes, refused by MinIO; then the maximum itself, stored with the signed type.
	if status, body := postToS3(t, form, "image/jpeg", jpegBytes(2049)); status != http.StatusBadRequest || !bytes.Contains(body, []byte("EntityTooLarge")) {
		t.Errorf("oversize post: status %d, want 400 EntityTooLarge:\n%s", status, body)
	}
	checkStored(t, admin, bucket, form, "image/jpeg", jpegBytes(2048))

	// From stdin, with --key-prefix overriding the output's.
	code, stdout, stderr = run(t, outJSON, "sign-post", "--tf-output", "-", "--content-type", "IMAGE/PNG", "--key-prefix", "other/")
	if code != ExitOK {
		t.Fatalf("stdin: exit code %d; stderr:\n%s", code, stderr)
	}
	form = decodeForm(t, stdout)
	if !strings.HasPrefix(form.Key, "other/") || !strings.HasSuffix(form.Key, ".png") || form.Fields["Content-Type"] != "image/png" {
		t.Errorf("form %+v: want a .png key under other/ and Content-Type image/png", form)
	}
	checkStored(t, admin, bucket, form, "image/png", []byte("\x89PNG\r\n\x1a\nrest"))
}

// TestSignPostWebIdentity signs with the role of the output's role_arn, assumed with CI's token
// at moto's STS (moto does not enforce POST policies, so the form is only read): the form
// carries the session's key and token, which the log does not show.
func TestSignPostWebIdentity(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs moto")
	}
	m := testbed.StartMoto(t)
	dir := t.TempDir()
	const roleARN = "arn:aws:iam::123456789012:role/media-signer"
	token := fakeOIDCToken("signMARKER7a2b")
	tokenFile := writeFile(t, filepath.Join(dir, "oidc-token"), token)
	out := writeFile(t, filepath.Join(dir, "out.json"), tfOutputJSON(t, map[string]any{
		"bucket": "media", "region": m.Region, "endpoint": m.Endpoint, "role_arn": roleARN, "key_prefix": "incoming/",
	}))
	t.Setenv("AWS_ENDPOINT_URL_STS", m.Endpoint)
	t.Setenv(webIdentityTokenEnv, "")
	code, stdout, stderr := run(t, "", "sign-post", "--tf-output", out, "--content-type", "image/webp", "--web-identity-token-file", tokenFile)
	if code != ExitOK {
		t.Fatalf("exit code %d; stderr:\n%s", code, stderr)
	}
	form := decodeForm(t, stdout)
	sessionToken := form.Fields["X-Amz-Security-Token"]
	if sessionToken == "" || !strings.HasPrefix(form.Fields["X-Amz-Credential"], "ASIA") {
		t.Errorf("fields %v: want the session's ASIA key and its token", form.Fields)
	}
	if !strings.Contains(stderr, `credentials="web identity: role `+roleARN) {
		t.Errorf("the log does not name the role:\n%s", stderr)
	}
	for _, s := range []string{token, "signMARKER7a2b", sessionToken} {
		if strings.Contains(stderr, s) {
			t.Errorf("the log contains the OIDC token or the session token (%.12s...)", s)
		}
	}
}

// lineWaiter is a log writer that tells when a line containing a word was written.
type lineWaiter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	word  string
	found chan struct{}
	once  sync.Once
}

func newLineWaiter(word string) *lineWaiter {
	return &lineWaiter{word: word, found: make(chan struct{})}
}

func (w *lineWaiter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.word) {
		w.once.Do(func() { close(w.found) })
	}
	return len(p), nil
}

func (w *lineWaiter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// signerServer is a running `uploader serve-signer`.
type signerServer struct {
	client *http.Client
	url    string
	log    *lineWaiter
	stop   func() int
}

// startSigner runs serve-signer with args until the test stops it, and waits until it listens.
func startSigner(t *testing.T, args ...string) *signerServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log := newLineWaiter("listening")
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, append([]string{"serve-signer"}, args...), strings.NewReader(""), io.Discard, log, "v-test")
	}()
	select {
	case <-log.found:
	case code := <-done:
		cancel()
		t.Fatalf("serve-signer exited with %d before listening:\n%s", code, log)
	}
	stopped := false
	var code int
	stop := func() int {
		if !stopped {
			cancel()
			code, stopped = <-done, true
		}
		return code
	}
	t.Cleanup(func() { stop() })
	s := &signerServer{log: log, stop: stop, client: &http.Client{}}
	// The text log writes address=ADDR, the JSON log "address":"ADDR".
	addr := regexp.MustCompile(`address(?:=|":")([^\s"]+)`).FindStringSubmatch(log.String())
	if addr == nil {
		t.Fatalf("no address in the log:\n%s", log)
	}
	if strings.HasPrefix(addr[1], "/") {
		path := addr[1]
		s.client.Transport = &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}}
		s.url = "http://signer"
	} else {
		s.url = "http://" + addr[1]
	}
	return s
}

// do sends a request to the signer and returns the status and body.
func (s *signerServer) do(t *testing.T, method, path, token, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(data)
}

// TestServeSignerMinIO runs `uploader serve-signer` on a unix socket and on loopback TCP, asks
// it for forms as an application would, posts them to MinIO, and stops it as SIGTERM does.
func TestServeSignerMinIO(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	t.Setenv(signerTokenEnv, testToken)
	const bucket = "media"
	m, admin := minioWithBucket(t, bucket)
	dir := t.TempDir()
	out := writeFile(t, filepath.Join(dir, "out.json"), tfOutputJSON(t, map[string]any{
		"bucket": bucket, "region": m.Region, "access_key_id": m.RootUser, "secret_access_key": m.RootPassword,
		"endpoint": m.Endpoint, "key_prefix": "incoming/",
	}))
	sock := filepath.Join(dir, "signer.sock")
	// A socket left by a signer that is gone is replaced.
	stale, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()

	srv := startSigner(t, "--tf-output", out, "--listen", "unix:"+sock, "--max-bytes", "1KiB", "--log-level", "trace")
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket %s: %v, mode %v; want 0600", sock, err, fi.Mode().Perm())
	}
	const jsonType = "application/json"
	tests := []struct {
		name        string
		method      string
		path        string
		token       string
		contentType string
		body        string
		wantStatus  int
		wantInBody  string
	}{
		{"no token", "POST", "/sign", "", jsonType, `{"content_type":"image/jpeg","size":100}`, 401, "missing or wrong bearer token"},
		{"wrong token", "POST", "/sign", testToken + "x", jsonType, `{"content_type":"image/jpeg","size":100}`, 401, "missing or wrong bearer token"},
		{"token prefix", "POST", "/sign", testToken[:32], jsonType, `{"content_type":"image/jpeg","size":100}`, 401, "missing or wrong bearer token"},
		{"other path", "POST", "/", testToken, jsonType, `{}`, 404, "POST /sign"},
		{"GET", "GET", "/sign", testToken, "", "", 405, "GET is not allowed"},
		{"form body", "POST", "/sign", testToken, "application/x-www-form-urlencoded", "content_type=image/jpeg", 415, "application/json"},
		{"svg", "POST", "/sign", testToken, jsonType, `{"content_type":"image/svg+xml","size":100}`, 400, `"field":"content_type"`},
		{"prefix type", "POST", "/sign", testToken, jsonType, `{"content_type":"image/*","size":100}`, 400, `is not allowed`},
		{"too large", "POST", "/sign", testToken, jsonType, `{"content_type":"image/jpeg","size":1025}`, 400, `"field":"size"`},
		{"no size", "POST", "/sign", testToken, jsonType, `{"content_type":"image/jpeg"}`, 400, "size is required"},
		{"empty file", "POST", "/sign", testToken, jsonType, `{"content_type":"image/jpeg","size":0}`, 400, "the file is empty"},
		{"key from the browser", "POST", "/sign", testToken, jsonType, `{"content_type":"image/jpeg","size":1,"key":"index.html"}`, 400, `unknown field \"key\"`},
		{"not JSON", "POST", "/sign", testToken, jsonType, `content_type=image/jpeg`, 400, "not a JSON object"},
		{"huge body", "POST", "/sign", testToken, jsonType, `{"content_type":"` + strings.Repeat("a", 5000) + `"}`, 413, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := srv.do(t, tt.method, tt.path, tt.token, tt.contentType, tt.body)
			if status != tt.wantStatus || !strings.Contains(body, tt.wantInBody) {
				t.Errorf("status %d, body %s; want %d with %s", status, body, tt.wantStatus, tt.wantInBody)
			}
			var e struct{ Error string }
			if json.Unmarshal([]byte(body), &e) != nil || e.Error == "" {
				t.Errorf("the body is not a JSON error: %s", body)
			}
		})
	}

	status, body := srv.do(t, "POST", "/sign", testToken, "application/json; charset=utf-8", `{"content_type":"image/jpeg","size":1024}`)
	if status != http.StatusOK {
		t.Fatalf("sign: status %d: %s", status, body)
	}
	form := decodeForm(t, body)
	if !strings.HasPrefix(form.Key, "incoming/") {
		t.Errorf("key %q is not under incoming/", form.Key)
	}
	checkStored(t, admin, bucket, form, "image/jpeg", jpegBytes(1024))

	if code := srv.stop(); code != ExitOK {
		t.Errorf("serve-signer exited with %d after the signal, want 0:\n%s", code, srv.log)
	}
	logs := srv.log.String()
	if strings.Contains(logs, testToken[:16]) || strings.Contains(logs, m.RootPassword) {
		t.Errorf("the log contains the token or the secret key:\n%s", logs)
	}
	for _, want := range []string{"status=401", "status=400", "status=200", "key=" + form.Key, "stopped"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log does not contain %s:\n%s", want, logs)
		}
	}

	// Loopback TCP, the default's kind, on a port of the system's choosing.
	tcp := startSigner(t, "--tf-output", out, "--listen", "127.0.0.1:0", "--log-json")
	if !strings.HasPrefix(tcp.url, "http://127.0.0.1:") || strings.Contains(tcp.log.String(), "clear text") {
		t.Errorf("url %s; a loopback address must not be warned about:\n%s", tcp.url, tcp.log)
	}
	status, body = tcp.do(t, "POST", "/sign", testToken, jsonType, `{"content_type":"image/gif","size":10}`)
	if status != http.StatusOK || !strings.Contains(body, `.gif"`) {
		t.Errorf("sign over TCP: status %d: %s", status, body)
	}
	if code := tcp.stop(); code != ExitOK {
		t.Errorf("serve-signer exited with %d, want 0", code)
	}
	if strings.Contains(tcp.log.String(), testToken[:16]) {
		t.Error("the JSON log contains the token")
	}
}

// TestVerifyDirectUploadsMinIO is the confirmation step of direct uploads: the browser posted
// with forms from sign-post, the application recorded the keys, and verify checks each copy's
// bytes against the type it was signed (and is served) as. A form for image/png admits any
// bytes with that type, an SVG too: S3 checks the declared type, verify the bytes.
func TestVerifyDirectUploadsMinIO(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	t.Parallel()
	const bucket, prefix = "media", "incoming/"
	m, _ := refererBucket(t, bucket)
	dir := t.TempDir()
	out := writeFile(t, filepath.Join(dir, "out.json"), tfOutputJSON(t, map[string]any{
		"bucket": bucket, "region": m.Region, "access_key_id": m.RootUser, "secret_access_key": m.RootPassword,
		"endpoint": m.Endpoint, "public_base_url": m.Endpoint + "/" + bucket + "/", "key_prefix": prefix,
	}))
	upload := func(contentType string, file []byte) string {
		t.Helper()
		code, stdout, stderr := run(t, "", "sign-post", "--tf-output", out, "--content-type", contentType)
		if code != ExitOK {
			t.Fatalf("sign-post: exit code %d; stderr:\n%s", code, stderr)
		}
		form := decodeForm(t, stdout)
		if status, body := postToS3(t, form, contentType, file); status != http.StatusCreated {
			t.Fatalf("post: status %d:\n%s", status, body)
		}
		return strings.TrimPrefix(form.Key, prefix)
	}
	good := upload("image/jpeg", jpegBytes(500))
	svg := upload("image/png", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`))
	dsn, _ := appTable(t, []string{good, svg}, good, svg)
	src := filepath.Join(dir, "media") // the browser's files were never on this host
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	args := func(extra ...string) []string {
		return append([]string{"verify", "--tf-output", out, "--source", src, "--db", dsn, "--table", "photos",
			"--path-column", "file", "--flag-column", "on_s3", "--referer", sitePage, "--expect-no-referer", "403"}, extra...)
	}

	report := filepath.Join(dir, "verify.json")
	code, _, stderr := run(t, "", args("--report", report)...)
	if code != ExitFailed {
		t.Fatalf("exit code %d, want 1; stderr:\n%s", code, stderr)
	}
	rep := readJSON[verify.Report](t, report)
	if rep.Checked != 2 || rep.NoLocalFile != 1 || rep.WrongType != 1 || len(rep.Problems) != 1 || rep.Problems[0].Path != svg {
		t.Fatalf("report %+v, want the JPEG fine and the SVG of the wrong type; stderr:\n%s", rep, stderr)
	}
	const want = "type: the public copy is served as image/png but its bytes start with 3C 73 76 67"
	if p := rep.Problems[0]; p.Outcome != verify.OutcomeWrongType || len(p.Problems) != 1 || !strings.HasPrefix(p.Problems[0], want) ||
		!strings.Contains(p.Problems[0], "markup (HTML, XML or SVG)") {
		t.Errorf("problem %+v, want %s... markup", p, want)
	}
	if !strings.Contains(stderr, "wrong_type=1") {
		t.Errorf("the last log line does not count the wrong type:\n%s", stderr)
	}

	if code, _, stderr := run(t, "", args("--check-type=false")...); code != ExitOK {
		t.Errorf("--check-type=false: exit code %d, want 0; stderr:\n%s", code, stderr)
	}
}
