package signer

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// signedAt is the fixed signing time of the golden forms.
var signedAt = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// testClient is an S3 client with static credentials; presigning makes no request.
func testClient(t *testing.T, endpoint, sessionToken string) *s3.Client {
	t.Helper()
	o := s3.Options{
		Region:      "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken),
	}
	if endpoint != "" {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
	}
	return s3.New(o)
}

// fixedSigner signs at signedAt with the random bytes 00 01 02 ... so its forms are the same
// on every run.
func fixedSigner(t *testing.T, client *s3.Client, cfg Config) *Signer {
	t.Helper()
	seq := make([]byte, 64)
	for i := range seq {
		seq[i] = byte(i)
	}
	s, err := New(client, cfg, WithClock(func() time.Time { return signedAt }), WithRandom(bytes.NewReader(seq)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// golden is what testdata/<case>.json holds: the form and its policy, decoded.
type golden struct {
	Form   Form            `json:"form"`
	Policy json.RawMessage `json:"policy"`
}

func TestSignGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		endpoint     string
		sessionToken string
		cfg          Config
		req          Request
	}{
		{name: "jpeg_defaults_aws", cfg: Config{Bucket: "media", KeyPrefix: "incoming/"}, req: Request{ContentType: "image/jpeg", Size: 1234}},
		{name: "png_endpoint_limits", endpoint: "http://127.0.0.1:9000", cfg: Config{Bucket: "media", KeyPrefix: "site/incoming/", MaxBytes: 1 << 20, Expires: 2 * time.Minute},
			req: Request{ContentType: " Image/PNG "}},
		{name: "webp_session_token_no_prefix", sessionToken: "FwoGZXIvYXdzEXAMPLETOKEN", cfg: Config{Bucket: "media"}, req: Request{ContentType: "image/webp", Size: 10 << 20}},
		{name: "avif", cfg: Config{Bucket: "media", KeyPrefix: "u/"}, req: Request{ContentType: "image/avif"}},
		{name: "gif", cfg: Config{Bucket: "media", KeyPrefix: "u/"}, req: Request{ContentType: "image/gif"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := fixedSigner(t, testClient(t, tt.endpoint, tt.sessionToken), tt.cfg)
			form, err := s.Sign(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, s.Config(), form)
			policy, err := base64.StdEncoding.DecodeString(form.Fields["policy"])
			if err != nil {
				t.Fatalf("policy is not base64: %v", err)
			}
			got, err := json.MarshalIndent(golden{Form: form, Policy: policy}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", tt.name+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("form differs from %s (go test -update rewrites it):\n%s", path, got)
			}
		})
	}
}

// policyDoc is the decoded policy of a form.
type policyDoc struct {
	Expiration string `json:"expiration"`
	Conditions []any  `json:"conditions"`
}

// checkInvariants checks what every form must hold, whatever the golden says: each field has an
// exact condition (but the signature and the policy, which S3 does not match), the size range
// is 1..max, the key is under the prefix, the type is exact, and nothing is a starts-with.
func checkInvariants(t *testing.T, cfg Config, form Form) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(form.Fields["policy"])
	if err != nil {
		t.Fatal(err)
	}
	var p policyDoc
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	exact := map[string]string{}
	var ranges [][]any
	for _, c := range p.Conditions {
		switch c := c.(type) {
		case map[string]any:
			for k, v := range c {
				exact[strings.ToLower(k)] = v.(string)
			}
		case []any:
			if c[0] != "content-length-range" {
				t.Errorf("condition %v: only exact conditions and content-length-range are allowed", c)
			}
			ranges = append(ranges, c)
		}
	}
	for k, v := range form.Fields {
		if k == "policy" || k == "X-Amz-Signature" {
			continue
		}
		if exact[strings.ToLower(k)] != v {
			t.Errorf("field %s=%q has no exact condition in the policy %s", k, v, raw)
		}
	}
	if len(ranges) != 1 || ranges[0][1] != float64(1) || ranges[0][2] != float64(cfg.MaxBytes) {
		t.Errorf("content-length-range conditions %v, want one [content-length-range 1 %d]", ranges, cfg.MaxBytes)
	}
	if form.Fields["key"] != form.Key || !strings.HasPrefix(form.Key, cfg.KeyPrefix) {
		t.Errorf("key %q (field %q) is not under %q", form.Key, form.Fields["key"], cfg.KeyPrefix)
	}
	ext, ok := Extension(form.Fields["Content-Type"])
	if !ok || !strings.HasSuffix(form.Key, ext) {
		t.Errorf("Content-Type %q and key %q do not match", form.Fields["Content-Type"], form.Key)
	}
	if form.Fields["success_action_status"] != "201" {
		t.Errorf("success_action_status = %q", form.Fields["success_action_status"])
	}
	exp, err := time.Parse(time.RFC3339, p.Expiration)
	if err != nil || !exp.Equal(form.Expires) {
		t.Errorf("policy expiration %q, form expires %s", p.Expiration, form.Expires)
	}
}

func TestSignRefused(t *testing.T) {
	t.Parallel()
	s := fixedSigner(t, testClient(t, "", ""), Config{Bucket: "media", KeyPrefix: "incoming/", MaxBytes: 1000})
	tests := []struct {
		req       Request
		field     string
		kind      error
		wantInMsg string
	}{
		{Request{ContentType: "image/svg+xml"}, "content_type", ErrContentType, "SVG can carry script"},
		{Request{ContentType: "IMAGE/SVG+XML"}, "content_type", ErrContentType, "SVG"},
		{Request{ContentType: "image/*"}, "content_type", ErrContentType, "image/avif, image/gif, image/jpeg, image/png, image/webp"},
		{Request{ContentType: "image/"}, "content_type", ErrContentType, "not allowed"},
		{Request{ContentType: "text/html"}, "content_type", ErrContentType, "not allowed"},
		{Request{ContentType: "image/jpg"}, "content_type", ErrContentType, "use image/jpeg"},
		{Request{ContentType: "image/png; q=1"}, "content_type", ErrContentType, "bare type"},
		{Request{ContentType: ""}, "content_type", ErrContentType, "is required"},
		{Request{ContentType: "image/jpeg", Size: 1001}, "size", ErrSize, "more than the 1000 bytes allowed"},
		{Request{ContentType: "image/jpeg", Size: -1}, "size", ErrSize, "negative"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.req.ContentType, tt.req.Size), func(t *testing.T) {
			t.Parallel()
			form, err := s.Sign(context.Background(), tt.req)
			var re *RefusedError
			if !errors.As(err, &re) {
				t.Fatalf("Sign(%+v) = %+v, %v; want a *RefusedError", tt.req, form, err)
			}
			if re.Field != tt.field || !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.wantInMsg) {
				t.Errorf("error %q (field %s), want field %s, kind %v, message with %q", err, re.Field, tt.field, tt.kind, tt.wantInMsg)
			}
		})
	}
}

func TestNewConfigErrors(t *testing.T) {
	t.Parallel()
	client := testClient(t, "", "")
	tests := []struct {
		cfg       Config
		setting   string
		wantInMsg string
	}{
		{Config{}, "bucket", "is empty"},
		{Config{Bucket: "b", Expires: 16 * time.Minute}, "expires", "longer than 15m0s"},
		{Config{Bucket: "b", Expires: -time.Minute}, "expires", "at least 1s"},
		{Config{Bucket: "b", MaxBytes: -1}, "max_bytes", "between 1 and"},
		{Config{Bucket: "b", MaxBytes: 5<<30 + 1}, "max_bytes", "5 GiB"},
		{Config{Bucket: "b", KeyPrefix: strings.Repeat("p", 1000)}, "key_prefix", "no room"},
	}
	for _, tt := range tests {
		t.Run(tt.setting, func(t *testing.T) {
			t.Parallel()
			_, err := New(client, tt.cfg)
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Setting != tt.setting || !strings.Contains(err.Error(), tt.wantInMsg) {
				t.Errorf("New(%+v) error %v, want a *ConfigError for %s with %q", tt.cfg, err, tt.setting, tt.wantInMsg)
			}
		})
	}
	if _, err := New(nil, Config{Bucket: "b"}); err == nil {
		t.Error("New(nil client) succeeded")
	}
	s, err := New(client, Config{Bucket: "b", Expires: MaxExpires, MaxBytes: MaxMaxBytes})
	if err != nil {
		t.Fatalf("the limits themselves are refused: %v", err)
	}
	if s.Config().Expires != MaxExpires {
		t.Errorf("Config().Expires = %s", s.Config().Expires)
	}
}

// TestSignRandomKeys signs with crypto/rand and the system clock: every key is new, 128 bits
// of hex under the prefix, and the form expires DefaultExpires after now.
func TestSignRandomKeys(t *testing.T) {
	t.Parallel()
	s, err := New(testClient(t, "", ""), Config{Bucket: "media", KeyPrefix: "incoming/"})
	if err != nil {
		t.Fatal(err)
	}
	keyRE := regexp.MustCompile(`^incoming/[0-9a-f]{32}\.png$`)
	seen := map[string]bool{}
	for range 50 {
		before := time.Now().Truncate(time.Second)
		form, err := s.Sign(context.Background(), Request{ContentType: "image/png"})
		if err != nil {
			t.Fatal(err)
		}
		if !keyRE.MatchString(form.Key) || seen[form.Key] {
			t.Fatalf("key %q: not a new random name under the prefix", form.Key)
		}
		seen[form.Key] = true
		if d := form.Expires.Sub(before); d < DefaultExpires || d > DefaultExpires+time.Minute {
			t.Errorf("form expires %s after the signing began, want about %s", d, DefaultExpires)
		}
	}
}

// TestFormJSON pins the JSON names the browser side reads.
func TestFormJSON(t *testing.T) {
	t.Parallel()
	data, err := json.Marshal(Form{URL: "u", Fields: map[string]string{"k": "v"}, Key: "key", Expires: signedAt})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"url":"u","fields":{"k":"v"},"key":"key","expires":"2026-11-30T12:00:00Z"}`
	if string(data) != want {
		t.Errorf("JSON %s, want %s", data, want)
	}
}

func TestContentTypes(t *testing.T) {
	t.Parallel()
	got := strings.Join(ContentTypes(), " ")
	if got != "image/avif image/gif image/jpeg image/png image/webp" {
		t.Errorf("ContentTypes() = %s", got)
	}
	for _, ct := range []string{"image/svg+xml", "text/html", "image/*", "application/octet-stream"} {
		if _, ok := Extension(ct); ok {
			t.Errorf("Extension(%q) allowed", ct)
		}
	}
}

// TestSignSessionExpiresFirst: a form signed with role credentials is only as good as the
// session: S3 refuses it once the session token has expired, whatever the policy says. A cache
// holding a session that ends before the form would is renewed first; a session that cannot
// be renewed past the form's end shortens the form, so Form.Expires stays true.
func TestSignSessionExpiresFirst(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second)
	session := func(id string, ends time.Time) aws.Credentials {
		return aws.Credentials{AccessKeyID: id, SecretAccessKey: "secret-" + id, SessionToken: "token-" + id, CanExpire: true, Expires: ends}
	}
	newSigner := func(t *testing.T, provider aws.CredentialsProvider) *Signer {
		t.Helper()
		client := s3.New(s3.Options{Region: "eu-west-1", Credentials: provider})
		s, err := New(client, Config{Bucket: "media", KeyPrefix: "incoming/", Expires: 5 * time.Minute}, WithClock(func() time.Time { return now }))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	cfg := Config{Bucket: "media", KeyPrefix: "incoming/", MaxBytes: DefaultMaxBytes}

	t.Run("cached_session_renewed", func(t *testing.T) {
		calls := 0
		cache := aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			calls++
			if calls == 1 {
				return session("ASIAOLD", now.Add(2*time.Minute)), nil // the cache's window does not cover the form
			}
			return session("ASIANEW", now.Add(time.Hour)), nil
		}))
		if _, err := cache.Retrieve(context.Background()); err != nil { // the short session is cached
			t.Fatal(err)
		}
		form, err := newSigner(t, cache).Sign(context.Background(), Request{ContentType: "image/png"})
		if err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, cfg, form)
		if !form.Expires.Equal(now.Add(5*time.Minute)) || !strings.HasPrefix(form.Fields["X-Amz-Credential"], "ASIANEW/") ||
			form.Fields["X-Amz-Security-Token"] != "token-ASIANEW" {
			t.Errorf("form expires %s with credential %s, token %s; want %s with the renewed session ASIANEW",
				form.Expires, form.Fields["X-Amz-Credential"], form.Fields["X-Amz-Security-Token"], now.Add(5*time.Minute))
		}
	})

	t.Run("session_cannot_outlive", func(t *testing.T) {
		ends := now.Add(2 * time.Minute)
		form, err := newSigner(t, aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return session("ASIASHORT", ends), nil
		})).Sign(context.Background(), Request{ContentType: "image/png"})
		if err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, cfg, form)
		if !form.Expires.Equal(ends) {
			t.Errorf("form expires %s, after its session ends at %s", form.Expires, ends)
		}
	})

	t.Run("session_over", func(t *testing.T) {
		_, err := newSigner(t, aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return session("ASIAGONE", now.Add(-time.Second)), nil
		})).Sign(context.Background(), Request{ContentType: "image/png"})
		if err == nil || !strings.Contains(err.Error(), "expired") {
			t.Fatalf("Sign with an expired session: %v, want an error saying the credentials expired", err)
		}
	})
}

// TestConfigKeyPrefix refuses prefixes that would put into the key what the signer does not
// choose: ${filename}, which S3 replaces with the name of the browser's file, a leading slash
// (no identity's key_prefix grant matches it), control characters and invalid UTF-8.
func TestConfigKeyPrefix(t *testing.T) {
	t.Parallel()
	for prefix, want := range map[string]string{
		"incoming/${filename}/": "${filename}",
		"${filename}":           "${filename}",
		"/incoming/":            `write "incoming/"`,
		"incoming/\n":           "control character",
		"incoming/\xff/":        "UTF-8",
	} {
		err := Config{Bucket: "media", KeyPrefix: prefix}.Validate()
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Setting != "key_prefix" || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate(key prefix %q) = %v, want a key_prefix error with %q", prefix, err, want)
		}
	}
	for _, prefix := range []string{"", "incoming/", "site/incoming/", "incoming-", "uploads/2026/"} {
		if err := (Config{Bucket: "media", KeyPrefix: prefix}).Validate(); err != nil {
			t.Errorf("Validate(key prefix %q) = %v, want ok", prefix, err)
		}
	}
}

// TestSignFractionalExpires: the policy's expiration has whole seconds, so a form whose validity has a
// fraction of a second must say the same time as its policy.
func TestSignFractionalExpires(t *testing.T) {
	t.Parallel()
	cfg := Config{Bucket: "media", KeyPrefix: "incoming/", MaxBytes: DefaultMaxBytes, Expires: 90*time.Second + 500*time.Millisecond}
	form, err := fixedSigner(t, testClient(t, "", ""), cfg).Sign(context.Background(), Request{ContentType: "image/gif"})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, cfg, form)
}
