// Package signer issues presigned POST forms for direct browser uploads to the bucket.
//
// A web application imports it, checks that its user may upload, and hands the browser a Form:
// the URL to post to and the fields to send before the file. Every form pins down what the
// browser may store, in the policy S3 checks:
//
//   - an exact key, chosen here at random under the configured prefix (never by the browser),
//     with the extension of the declared type;
//   - an exact Content-Type from a short list of raster image types (never a "starts-with
//     image/" condition, which would admit image/svg+xml and with it stored script);
//   - a content-length-range of 1 byte to the configured maximum;
//   - success_action_status 201, so the answer carries the ETag in its XML body (and engines
//     such as Ceph and R2 send their CORS headers with it);
//   - an expiry of a few minutes at most, and no later than the end of the signing credentials'
//     session (a cached session that would end first is renewed).
//
// The form is signed by aws-sdk-go-v2's own s3.PresignClient.PresignPostObject with the
// credentials of the client passed to New: give it an identity that may only put objects under
// the prefix (staticmedia_upload_user or staticmedia_upload_role with key_prefix).
package signer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Defaults and limits of Config.
const (
	// DefaultMaxBytes is the largest upload a form admits unless Config.MaxBytes says otherwise.
	DefaultMaxBytes = 10 << 20
	// MaxMaxBytes is S3's limit for a POST upload (5 GiB).
	MaxMaxBytes = 5 << 30
	// DefaultExpires is how long a form is valid unless Config.Expires says otherwise.
	DefaultExpires = 5 * time.Minute
	// MaxExpires is the longest validity a form may have: a form is a short-lived permission
	// for one upload, not a credential to keep.
	MaxExpires = 15 * time.Minute
	// SuccessStatus is the status S3 answers a successful post with.
	SuccessStatus = "201"
	// randomBytes is the entropy of a key's name (128 bits), so keys cannot be guessed or
	// collide.
	randomBytes = 16
)

// contentTypes maps each allowed type to the extension of its keys. Only raster image types
// a browser shows without running anything: no SVG, HTML or XML.
var contentTypes = map[string]string{
	"image/jpeg": ".jpg",
	"image/png":  ".png",
	"image/gif":  ".gif",
	"image/webp": ".webp",
	"image/avif": ".avif",
}

// ContentTypes returns the content types a form may be signed for, sorted.
func ContentTypes() []string {
	types := make([]string, 0, len(contentTypes))
	for t := range contentTypes {
		types = append(types, t)
	}
	slices.Sort(types)
	return types
}

// Extension returns the extension (with its dot) of keys signed for contentType, and whether
// the type is allowed. contentType must be in its canonical form (see CanonicalContentType).
func Extension(contentType string) (string, bool) {
	ext, ok := contentTypes[contentType]
	return ext, ok
}

// Config is what every form of a Signer shares.
type Config struct {
	// Bucket is the bucket the forms post to.
	Bucket string
	// KeyPrefix is put verbatim before every key ("incoming/"); the signing identity should
	// be allowed to put objects under it and nowhere else.
	KeyPrefix string
	// MaxBytes is the largest upload a form admits; 0 means DefaultMaxBytes.
	MaxBytes int64
	// Expires is how long a form is valid; 0 means DefaultExpires, more than MaxExpires is
	// refused.
	Expires time.Duration
}

// withDefaults fills the zero values.
func (c Config) withDefaults() Config {
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.Expires == 0 {
		c.Expires = DefaultExpires
	}
	return c
}

// Validate reports settings that cannot work; the error is a *ConfigError naming the setting.
// Zero values stand for the defaults.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case strings.TrimSpace(c.Bucket) == "":
		return &ConfigError{Setting: "bucket", Problem: "is empty: give the bucket the forms post to"}
	case c.MaxBytes < 1 || c.MaxBytes > MaxMaxBytes:
		return &ConfigError{Setting: "max_bytes", Problem: fmt.Sprintf("must be between 1 and %d (5 GiB, S3's limit for a POST upload), got %d", int64(MaxMaxBytes), c.MaxBytes)}
	case c.Expires < time.Second:
		return &ConfigError{Setting: "expires", Problem: fmt.Sprintf("must be at least 1s, got %s", c.Expires)}
	case c.Expires > MaxExpires:
		return &ConfigError{Setting: "expires", Problem: fmt.Sprintf("%s is longer than %s: a form is a permission for one upload now; sign a new one when the user picks a file", c.Expires, MaxExpires)}
	case len(c.KeyPrefix) > 1024-2*randomBytes-len(".webp"):
		return &ConfigError{Setting: "key_prefix", Problem: fmt.Sprintf("%d bytes leaves no room for a name in a 1024-byte S3 key", len(c.KeyPrefix))}
	}
	return validateKeyPrefix(c.KeyPrefix)
}

// validateKeyPrefix refuses a prefix that would put into the key what the signer does not
// choose, or that no identity's key_prefix grant matches.
func validateKeyPrefix(p string) error {
	problem := ""
	switch {
	case strings.Contains(p, "${filename}"):
		// S3 replaces ${filename} in the key field with the name of the file the browser sends.
		problem = fmt.Sprintf("%q contains ${filename}, which S3 replaces with the name of the browser's file: the signer chooses the whole key; use a literal prefix such as incoming/", p)
	case strings.HasPrefix(p, "/"):
		problem = fmt.Sprintf("%q starts with \"/\": S3 keys have no leading slash, write %q", p, strings.TrimLeft(p, "/"))
	case !utf8.ValidString(p):
		problem = fmt.Sprintf("%q is not valid UTF-8", p)
	case strings.ContainsFunc(p, unicode.IsControl):
		problem = fmt.Sprintf("%q contains a control character", p)
	default:
		return nil
	}
	return &ConfigError{Setting: "key_prefix", Problem: problem}
}

// ConfigError is a setting of Config that cannot work.
type ConfigError struct {
	// Setting is the Config field, in snake case: bucket, key_prefix, max_bytes, expires.
	Setting string
	Problem string
}

func (e *ConfigError) Error() string { return e.Setting + " " + e.Problem }

// The classes of refused requests, for errors.Is.
var (
	ErrContentType = errors.New("content type not allowed")
	ErrSize        = errors.New("size not allowed")
)

// RefusedError is a request the signer will not sign a form for. It wraps ErrContentType or
// ErrSize. Its message names the request field and what would be accepted, so it can be shown
// to the caller as is.
type RefusedError struct {
	// Field is the request's field at fault: "content_type" or "size".
	Field   string
	Problem string
	kind    error
}

func (e *RefusedError) Error() string { return e.Field + ": " + e.Problem }

func (e *RefusedError) Unwrap() error { return e.kind }

// Request is what the browser declared about the file it wants to upload.
type Request struct {
	// ContentType is the file's type; it must be one of ContentTypes (case and surrounding
	// white space do not matter).
	ContentType string
	// Size is the file's size in bytes, checked against the maximum before signing so the
	// user learns at once; 0 means not declared (the form's content-length-range still
	// applies).
	Size int64
}

// Form is a signed form: post Fields, then the file (as the last field, named "file"), as
// multipart/form-data to URL.
type Form struct {
	URL    string            `json:"url"`
	Fields map[string]string `json:"fields"`
	// Key is the object's key: where the upload will be, to record with the application's row.
	Key string `json:"key"`
	// Expires is when S3 stops accepting the form.
	Expires time.Time `json:"expires"`
}

// Option changes how a Signer works; for tests.
type Option func(*Signer)

// WithClock makes the signer take the signing time from now instead of the system clock. A
// clock in the past signs forms that are already expired.
func WithClock(now func() time.Time) Option { return func(s *Signer) { s.now = now } }

// WithRandom makes the signer read the keys' random names from r instead of crypto/rand.
func WithRandom(r io.Reader) Option { return func(s *Signer) { s.random = r } }

// Signer signs forms. It is safe for concurrent use.
type Signer struct {
	presign *s3.PresignClient
	// credentials is the client's provider, to renew a cached session that would end before a
	// form (nil when the client has none).
	credentials aws.CredentialsProvider
	cfg         Config
	now         func() time.Time
	random      io.Reader
}

// New returns a signer that signs with client's credentials, region and endpoint (a path-style
// endpoint gives path-style URLs). The error is a *ConfigError.
func New(client *s3.Client, cfg Config, opts ...Option) (*Signer, error) {
	if client == nil {
		return nil, &ConfigError{Setting: "client", Problem: "is nil: give the S3 client whose credentials sign the forms"}
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Signer{presign: s3.NewPresignClient(client), credentials: client.Options().Credentials, cfg: cfg.withDefaults(), now: time.Now, random: rand.Reader}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Config returns the signer's configuration, defaults filled in.
func (s *Signer) Config() Config { return s.cfg }

// CanonicalContentType returns the allowed type contentType names, in lower case, or a
// *RefusedError wrapping ErrContentType.
func CanonicalContentType(contentType string) (string, error) {
	t := strings.ToLower(strings.TrimSpace(contentType))
	if _, ok := contentTypes[t]; ok {
		return t, nil
	}
	allowed := strings.Join(ContentTypes(), ", ")
	problem := fmt.Sprintf("%q is not allowed: upload one of %s", contentType, allowed)
	switch {
	case t == "":
		problem = "is required: give the file's type, one of " + allowed
	case t == "image/jpg" || t == "image/pjpeg":
		problem = fmt.Sprintf("%q is not a registered type: use image/jpeg", contentType)
	case strings.Contains(t, ";"):
		problem = fmt.Sprintf("%q has parameters: give the bare type, one of %s", contentType, allowed)
	case strings.HasPrefix(t, "image/svg"):
		problem = fmt.Sprintf("%q is refused: an SVG can carry script that runs on the bucket's origin; upload one of %s", contentType, allowed)
	}
	return "", &RefusedError{Field: "content_type", Problem: problem, kind: ErrContentType}
}

// Check checks a request without signing it. The error is a *RefusedError.
func (s *Signer) Check(req Request) (contentType string, err error) {
	ct, err := CanonicalContentType(req.ContentType)
	if err != nil {
		return "", err
	}
	switch {
	case req.Size < 0:
		return "", &RefusedError{Field: "size", Problem: fmt.Sprintf("%d is negative: give the file's size in bytes", req.Size), kind: ErrSize}
	case req.Size > s.cfg.MaxBytes:
		return "", &RefusedError{Field: "size", Problem: fmt.Sprintf("%d bytes is more than the %d bytes allowed: upload a smaller file", req.Size, s.cfg.MaxBytes), kind: ErrSize}
	}
	return ct, nil
}

// Sign checks req and signs a form for it under a new key. A refused request is a
// *RefusedError; any other error (credentials that cannot be retrieved, for instance) is the
// SDK's, wrapped.
func (s *Signer) Sign(ctx context.Context, req Request) (Form, error) {
	ct, err := s.Check(req)
	if err != nil {
		return Form{}, err
	}
	name := make([]byte, randomBytes)
	if _, err := io.ReadFull(s.random, name); err != nil {
		return Form{}, fmt.Errorf("choosing a key: %w", err)
	}
	key := s.cfg.KeyPrefix + hex.EncodeToString(name) + contentTypes[ct]
	signed := s.now().UTC().Truncate(time.Second)
	expires := signed.Add(s.cfg.Expires).Truncate(time.Second) // the policy's expiration has whole seconds
	if err := s.renewShortSession(ctx, expires); err != nil {
		return Form{}, err
	}
	// Every field the form sends has its condition (S3 refuses fields the policy does not
	// name), and every condition is exact but the size's range.
	conditions := []any{
		map[string]string{"key": key},
		map[string]string{"Content-Type": ct},
		map[string]string{"success_action_status": SuccessStatus},
		[]any{"content-length-range", 1, s.cfg.MaxBytes},
	}
	presigner := &clockPresigner{signed: signed, expires: expires}
	out, err := s.presign.PresignPostObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key)},
		func(o *s3.PresignPostOptions) {
			o.Expires = s.cfg.Expires
			o.Conditions = conditions
			presigner.next = o.PostPresigner
			o.PostPresigner = presigner
		})
	if err != nil {
		return Form{}, fmt.Errorf("signing the form for %s: %w", key, err)
	}
	fields := make(map[string]string, len(out.Values)+2)
	for k, v := range out.Values {
		fields[k] = v
	}
	fields["Content-Type"] = ct
	fields["success_action_status"] = SuccessStatus
	return Form{URL: out.URL, Fields: fields, Key: key, Expires: presigner.expires}, nil
}

// renewShortSession makes a credentials cache whose session ends before expires fetch a new
// one: S3 refuses a form once its session token has expired, whatever the policy says, and the
// cache renews a session only when it is about to end (awsconfig's web identity renews 5
// minutes ahead; a form may last 15).
func (s *Signer) renewShortSession(ctx context.Context, expires time.Time) error {
	cache, ok := s.credentials.(*aws.CredentialsCache)
	if !ok {
		return nil
	}
	creds, err := cache.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("retrieving the signing credentials: %w", err)
	}
	if creds.CanExpire && creds.Expires.Before(expires) {
		cache.Invalidate() // the presigner retrieves a new session
	}
	return nil
}

// clockPresigner is the SDK's presigner with the signing and expiry times of the Signer's
// clock: the SDK takes them from its own package-level clock, which a test cannot set. A form
// ends no later than the session of the credentials it is signed with; expires is then the
// session's end.
type clockPresigner struct {
	next            s3.PresignPost
	signed, expires time.Time
}

func (p *clockPresigner) PresignPost(creds aws.Credentials, bucket, key, region, service string, _ time.Time,
	conditions []any, _ time.Time, optFns ...func(*v4.SignerOptions),
) (map[string]string, error) {
	if creds.CanExpire && creds.Expires.Before(p.expires) {
		ends := creds.Expires.UTC().Truncate(time.Second)
		if !ends.After(p.signed) {
			return nil, fmt.Errorf("the signing credentials (access key %s) expired at %s: a form signed with them would be refused; "+
				"check that their source (the role's session, the instance's or the container's credentials) can be renewed",
				creds.AccessKeyID, creds.Expires.UTC().Format(time.RFC3339))
		}
		p.expires = ends
	}
	return p.next.PresignPost(creds, bucket, key, region, service, p.signed, conditions, p.expires, optFns...)
}
