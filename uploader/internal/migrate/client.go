package migrate

import (
	"context"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/staticmedia/staticmedia/internal/awsconfig"
)

// ClientConfig is what the S3 client is built from.
type ClientConfig struct {
	Region string
	// AccessKeyID and SecretAccessKey are the upload-only key; both empty (and no WebIdentity)
	// means the default credential chain.
	AccessKeyID     string
	SecretAccessKey string
	// WebIdentity, instead of the key, assumes a role with CI's OIDC token read from a file.
	WebIdentity *awsconfig.WebIdentity
	// Endpoint overrides the S3 endpoint (local engines); it implies path-style addressing.
	Endpoint string
	// Concurrency sizes the connection pool.
	Concurrency int
	// MaxAttempts per request; 0 means DefaultMaxAttempts.
	MaxAttempts int
	// AppID goes into the User-Agent.
	AppID string
	// AdaptiveRetry uses the SDK's adaptive retry mode (a shared, throttle-driven send rate)
	// instead of the standard one; see NewS3Client.
	AdaptiveRetry bool
	// StallTimeout ends and retries an HTTP attempt that made no progress for this long;
	// 0 means DefaultStallTimeout.
	StallTimeout time.Duration
}

// DefaultMaxAttempts is the number of tries per request. Measured on this project: with the
// SDK's default 3 attempts and its retry quota, 1 file in 5,000 was lost under a storm of 500
// SlowDown/s; with 10 attempts and no quota, none.
const DefaultMaxAttempts = 10

// NewS3Client builds the client the engine uploads with.
//
// Retries: the standard retryer with 10 attempts, exponential backoff with full jitter (up to
// 20 s between attempts) and no retry quota. The quota (a client-wide token bucket) fails
// requests without trying them once a storm has drained it, which lost files in our
// measurements; the per-request attempt limit still bounds the retries. Under a SlowDown storm
// each worker backs off on its own, so the run slows down by itself.
//
// The SDK's adaptive mode (AdaptiveRetry) adds a client-wide send rate that drops by 30% on
// every throttling answer, down to 0.5 requests/s. It is not the default: with a steady share of
// throttled answers (10% of 500 PUT/s is 50 cuts a second) the rate collapses far below what S3
// accepts and the run crawls. Measured with the fault-injecting proxy (reliability tests):
// against a server that accepts 150 uploads/s and throttles the rest, 32 workers with the
// standard retryer ran at 86-103 files/s, with adaptive mode at 54/s; a 3 s storm of SlowDown
// on every request drew about 3 requests per worker (backoff of 1 s, 2 s, 4 s with full
// jitter), and no file was lost in either. The per-request backoff is therefore the rate
// adaptation: a throttled worker slows down by itself, and the storm costs time. Its limit is a
// server that throttles a fixed share p of requests however slowly they come, which loses p^10
// of the files (1 in 1,024 at 50%); S3 throttles by rate, which backing off cures.
//
// Timeouts: an attempt that makes no progress for StallTimeout (a peer that stopped reading or
// answering) is abandoned and retried like a reset connection; see stallGuard.
//
// Integrity: every PUT carries its own checksum (x-amz-checksum-crc32c), which S3 verifies, so the
// SDK's default CRC32 trailer (aws-chunked encoding, a second checksum over the body) is switched
// off. This saves CPU per byte, which is what limits a client on fast links. (The engine also asks for
// UNSIGNED-PAYLOAD on its PUTs; see unsignedPayload.)
func NewS3Client(ctx context.Context, c ClientConfig) (*s3.Client, error) {
	attempts := c.MaxAttempts
	if attempts == 0 {
		attempts = DefaultMaxAttempts
	}
	conns := max(c.Concurrency, DefaultConcurrency) * 2 // room for multipart parts
	opts := awsconfig.Options{
		Region:      c.Region,
		AccessKey:   c.AccessKeyID,
		SecretKey:   c.SecretAccessKey,
		WebIdentity: c.WebIdentity,
		AppID:       c.AppID,
		Endpoints:   awsconfig.Endpoints{S3: c.Endpoint},
		Retryer: func() aws.Retryer {
			standard := func(so *retry.StandardOptions) {
				so.MaxAttempts = attempts
				so.RateLimiter = ratelimit.None
			}
			if c.AdaptiveRetry {
				return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
					o.StandardOptions = append(o.StandardOptions, standard)
				})
			}
			return retry.NewStandard(standard)
		},
		Transport: func(t *http.Transport) {
			t.MaxIdleConns = conns
			t.MaxIdleConnsPerHost = conns
			t.IdleConnTimeout = 90 * time.Second
		},
	}
	cfg, err := awsconfig.Load(ctx, opts)
	if err != nil {
		return nil, err
	}
	stall := c.StallTimeout
	if stall == 0 {
		stall = DefaultStallTimeout
	}
	return opts.S3(cfg, func(o *s3.Options) {
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		o.HTTPClient = &stallGuard{next: o.HTTPClient, idle: stall}
	}), nil
}
