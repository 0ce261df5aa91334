package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/staticmedia/staticmedia/internal/awsconfig"
	"github.com/staticmedia/staticmedia/internal/testbed"
)

// apiError is an API error as the SDK returns it: the service's error inside an OperationError and a
// ResponseError carrying the HTTP status.
func apiError(op, code string, status int) error {
	return &smithy.OperationError{
		ServiceID:     "S3",
		OperationName: op,
		Err: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err:      &smithy.GenericAPIError{Code: code, Message: code + " (synthetic)"},
		},
	}
}

// onlyOperationAborted is the predicate most retryUntil callers pass.
func onlyOperationAborted(err error) bool { return isAPIError(err, "OperationAborted") }

// Timing slack for the scheduler on a loaded machine (the acceptance tests run engines in parallel).
const retryTimingSlack = 400 * time.Millisecond

func TestRetryUntil(t *testing.T) {
	t.Parallel()
	aborted := apiError("PutBucketPolicy", "OperationAborted", http.StatusConflict)
	noBucket := apiError("PutBucketPolicy", "NoSuchBucket", http.StatusNotFound)
	refused := errors.New("dial tcp 127.0.0.1:9: connect: connection refused")
	tests := []struct {
		name      string
		timeout   time.Duration
		retryable func(error) bool
		// errs are what fn returns on successive calls; past the end it keeps returning the last one.
		errs []error
		// wantCalls is the exact number of calls; 0 means "retried until the deadline".
		wantCalls int
		// wantErr are the errors the result must wrap; none means success.
		wantErr  []error
		wantCode string
		// maxElapsed bounds how long the call may take.
		maxElapsed time.Duration
	}{
		{
			name: "success at once", timeout: 10 * time.Second, retryable: onlyOperationAborted,
			errs: []error{nil}, wantCalls: 1, maxElapsed: retryTimingSlack,
		},
		{
			name: "succeeds after two retryable errors", timeout: 10 * time.Second, retryable: onlyOperationAborted,
			errs: []error{aborted, aborted, nil}, wantCalls: 3,
			// Two waits: at most 1.5×200ms and 1.5×400ms.
			maxElapsed: 900*time.Millisecond + retryTimingSlack,
		},
		{
			name: "succeeds after a wrapped retryable error", timeout: 10 * time.Second, retryable: retryableAfterCreate,
			errs: []error{fmt.Errorf("setting versioning: %w", noBucket), nil}, wantCalls: 2,
			maxElapsed: 300*time.Millisecond + retryTimingSlack,
		},
		{
			name: "non-retryable error returns at once", timeout: 10 * time.Second, retryable: onlyOperationAborted,
			errs: []error{noBucket, nil}, wantCalls: 1, wantErr: []error{noBucket}, wantCode: "NoSuchBucket",
			maxElapsed: retryTimingSlack,
		},
		{
			name: "non-API error returns at once", timeout: 10 * time.Second, retryable: retryableAfterCreate,
			errs: []error{refused, nil}, wantCalls: 1, wantErr: []error{refused},
			maxElapsed: retryTimingSlack,
		},
		{
			name: "retryable until the deadline", timeout: 700 * time.Millisecond, retryable: onlyOperationAborted,
			errs: []error{aborted}, wantErr: []error{aborted, context.DeadlineExceeded}, wantCode: "OperationAborted",
			// The wait in progress ends with the context, not when its timer fires.
			maxElapsed: 700*time.Millisecond + retryTimingSlack,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			calls := 0
			start := time.Now()
			err := retryUntil(ctx, tt.retryable, func(context.Context) error {
				calls++
				return tt.errs[min(calls, len(tt.errs))-1]
			})
			elapsed := time.Since(start)

			if tt.wantCalls > 0 && calls != tt.wantCalls {
				t.Errorf("fn was called %d times, want %d", calls, tt.wantCalls)
			}
			if tt.wantCalls == 0 {
				if calls < 2 {
					t.Errorf("fn was called %d times before the deadline, want retries", calls)
				}
				if elapsed < tt.timeout {
					t.Errorf("retryUntil gave up after %v, before the %v deadline", elapsed, tt.timeout)
				}
			}
			if len(tt.wantErr) == 0 && err != nil {
				t.Errorf("err = %v, want success", err)
			}
			for _, want := range tt.wantErr {
				if !errors.Is(err, want) {
					t.Errorf("err = %v, want it to wrap %v", err, want)
				}
			}
			if got := apiErrorCode(err); got != tt.wantCode {
				t.Errorf("apiErrorCode(err) = %q, want %q", got, tt.wantCode)
			}
			if elapsed > tt.maxElapsed {
				t.Errorf("retryUntil took %v, want at most %v", elapsed, tt.maxElapsed)
			}
		})
	}
}

// TestRetryUntil_canceled checks that cancelling (not only a deadline) ends the wait, with both errors.
func TestRetryUntil_canceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	aborted := apiError("DeleteBucket", "OperationAborted", http.StatusConflict)
	err := retryUntil(ctx, onlyOperationAborted, func(context.Context) error {
		cancel()
		return aborted
	})
	if !errors.Is(err, aborted) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want it to wrap the last error and context.Canceled", err)
	}
	if !strings.Contains(err.Error(), "OperationAborted") || !strings.Contains(err.Error(), "gave up waiting") {
		t.Errorf("err = %q, want the AWS error and why the retries stopped", err)
	}
}

// TestRetryUntil_backoff measures the waits between attempts: each is the current delay with ±50% jitter,
// the delay doubles from 200ms and stops growing at 5s. The waits up to the cap take about 21s, so -short
// checks only the first four (about 3s), which still shows the doubling and the jitter bounds.
func TestRetryUntil_backoff(t *testing.T) {
	t.Parallel()
	// Eight waits: 0.2, 0.4, 0.8, 1.6, 3.2 s, then 5 s three times. Uncapped, the eighth would be 25.6 s ±50%,
	// at least 12.8 s, far above the capped wait's 7.5 s ceiling, so this sees a missing or raised cap.
	waits := 8
	if testing.Short() {
		waits = 4
	}
	aborted := apiError("PutPublicAccessBlock", "OperationAborted", http.StatusConflict)
	var calls []time.Time
	err := retryUntil(context.Background(), onlyOperationAborted, func(context.Context) error {
		calls = append(calls, time.Now())
		if len(calls) > waits {
			return nil
		}
		return aborted
	})
	if err != nil {
		t.Fatalf("retryUntil: %v", err)
	}
	delay := 200 * time.Millisecond
	for i := 1; i < len(calls); i++ {
		gap := calls[i].Sub(calls[i-1])
		lo, hi := delay/2, delay*3/2+retryTimingSlack
		if gap < lo || gap > hi {
			t.Errorf("wait %d = %v, want within [%v, %v] (delay %v ±50%%)", i, gap.Round(time.Millisecond), lo, hi, delay)
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// TestRetryPredicates checks the predicates the resources hand to retryUntil against errors shaped like
// the SDK's: wrapped in OperationError and ResponseError, and again by our own %w.
func TestRetryPredicates(t *testing.T) {
	t.Parallel()
	bare404 := &smithy.OperationError{ServiceID: "S3", OperationName: "HeadBucket", Err: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: http.StatusNotFound}},
		Err:      errors.New("http response error StatusCode: 404"),
	}}
	errs := map[string]error{
		"OperationAborted":     apiError("CreateBucket", "OperationAborted", http.StatusConflict),
		"NoSuchBucket":         apiError("PutBucketVersioning", "NoSuchBucket", http.StatusNotFound),
		"wrapped NoSuchBucket": fmt.Errorf("waiting for the new bucket to appear: %w", apiError("HeadBucket", "NoSuchBucket", http.StatusNotFound)),
		"NoSuchBucketPolicy":   apiError("GetBucketPolicy", "NoSuchBucketPolicy", http.StatusNotFound),
		"bare 404":             bare404,
		"HeadBucket NotFound": &smithy.OperationError{ServiceID: "S3", OperationName: "HeadBucket", Err: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: http.StatusNotFound}},
			Err:      &s3types.NotFound{Message: aws.String("Not Found")},
		}},
		"404 with the generic code NotFound": apiError("GetBucketPolicy", "NotFound", http.StatusNotFound),
		"AccessDenied":                       apiError("PutBucketPolicy", "AccessDenied", http.StatusForbidden),
		"SlowDown":                           apiError("PutObject", "SlowDown", http.StatusServiceUnavailable),
		"BucketNotEmpty":                     apiError("DeleteBucket", "BucketNotEmpty", http.StatusConflict),
		"deadline":                           context.DeadlineExceeded,
		"plain error":                        errors.New("OperationAborted"), // the code in a message is not an API error
		"NotImplemented by status":           apiError("GetBucketOwnershipControls", "", http.StatusNotImplemented),
	}
	tests := []struct {
		name string
		fn   func(error) bool
		want []string // the keys of errs it accepts
	}{
		{"retryableAfterCreate", retryableAfterCreate, []string{"OperationAborted", "NoSuchBucket", "wrapped NoSuchBucket"}},
		{"isNotFound", isNotFound, []string{"NoSuchBucket", "wrapped NoSuchBucket", "NoSuchBucketPolicy", "HeadBucket NotFound"}},
		{"isUnsupported", isUnsupported, []string{"NotImplemented by status"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for name, err := range errs {
				want := false
				for _, w := range tt.want {
					want = want || w == name
				}
				if got := tt.fn(err); got != want {
					t.Errorf("%s(%s) = %v, want %v", tt.name, name, got, want)
				}
			}
		})
	}
}

// countingPolicyClient passes every call to the real client and counts the two puts, so a test sees how
// many attempts retryUntil made.
type countingPolicyClient struct {
	*s3.Client
	putPAB, putPolicy int
}

func (c *countingPolicyClient) PutPublicAccessBlock(ctx context.Context, in *s3.PutPublicAccessBlockInput, opts ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error) {
	c.putPAB++
	return c.Client.PutPublicAccessBlock(ctx, in, opts...)
}

func (c *countingPolicyClient) PutBucketPolicy(ctx context.Context, in *s3.PutBucketPolicyInput, opts ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error) {
	c.putPolicy++
	return c.Client.PutBucketPolicy(ctx, in, opts...)
}

// TestRefererPolicyRetries drives the referer policy's two puts against real engines to check their inline
// retry predicates: NoSuchBucket, and for the policy also MalformedPolicy (MinIO validates documents; moto
// does not) and AccessDenied (moto enforcing IAM, a user without rights), are retried only for the settle
// time, then returned unchanged, long before the resource timeout.
func TestRefererPolicyRetries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const settle = 800 * time.Millisecond
	const missing, existing = "retry-missing", "retry-existing"
	doc := func(bucket string) string {
		return wantRefererPolicy(t, bucket, []string{"https://example.com/*"}, true)
	}

	moto := testbed.StartMoto(t)
	motoAdmin := adminS3(t, moto)
	createTestBucket(t, motoAdmin, existing)

	minio := testbed.StartMinIO(t)
	minioAdmin := adminS3(t, minio)
	createTestBucket(t, minioAdmin, existing)

	// A user with no policy at all: once moto enforces IAM, S3 denies it everything.
	denied := testbed.StartMoto(t)
	createTestBucket(t, adminS3(t, denied), existing)
	deniedIAM := adminIAM(t, denied)
	_, err := deniedIAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("no-rights")})
	mustDo(t, "creating the user without rights", err)
	key, err := deniedIAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("no-rights")})
	mustDo(t, "creating its key", err)
	denied.EnableIAMEnforcement(t)
	noRights := denied.Options()
	noRights.AccessKey, noRights.SecretKey = aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey)
	noRightsCfg, err := awsconfig.Load(ctx, noRights)
	mustDo(t, "loading the configuration of the user without rights", err)
	noRightsS3 := noRights.S3(noRightsCfg)

	type put func(ctx context.Context, c *countingPolicyClient, settle time.Duration) (attempts int, err error)
	putPAB := func(bucket string) put {
		return func(ctx context.Context, c *countingPolicyClient, settle time.Duration) (int, error) {
			err := putPublicAccessBlock(ctx, c, bucket, publicPolicyAllowed(), settle)
			return c.putPAB, err
		}
	}
	putPolicy := func(bucket, doc string) put {
		return func(ctx context.Context, c *countingPolicyClient, settle time.Duration) (int, error) {
			err := putBucketPolicy(ctx, c, bucket, doc, settle)
			return c.putPolicy, err
		}
	}
	tests := []struct {
		name        string
		client      *s3.Client
		put         put
		settle      time.Duration
		wantCode    string // "": success
		wantRetries bool   // retried for the settle time, else exactly one attempt
	}{
		{"block public access, missing bucket, no settle time", motoAdmin, putPAB(missing), 0, "NoSuchBucket", false},
		{"block public access, missing bucket", motoAdmin, putPAB(missing), settle, "NoSuchBucket", true},
		{"block public access, existing bucket", motoAdmin, putPAB(existing), settle, "", false},
		// Only the policy waits out AccessDenied (a Block Public Access change taking effect).
		{"block public access, access denied", noRightsS3, putPAB(existing), settle, "AccessDenied", false},
		{"policy, missing bucket, no settle time", motoAdmin, putPolicy(missing, doc(missing)), 0, "NoSuchBucket", false},
		{"policy, missing bucket", motoAdmin, putPolicy(missing, doc(missing)), settle, "NoSuchBucket", true},
		{"policy, existing bucket", motoAdmin, putPolicy(existing, doc(existing)), settle, "", false},
		{"policy, malformed, no settle time", minioAdmin, putPolicy(existing, "not a policy"), 0, "MalformedPolicy", false},
		{"policy, malformed", minioAdmin, putPolicy(existing, "not a policy"), settle, "MalformedPolicy", true},
		{"policy, access denied, no settle time", noRightsS3, putPolicy(existing, doc(existing)), 0, "AccessDenied", false},
		{"policy, access denied", noRightsS3, putPolicy(existing, doc(existing)), settle, "AccessDenied", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The resource's own timeout is minutes; the settle time must end the retries long before.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			c := &countingPolicyClient{Client: tt.client}
			start := time.Now()
			attempts, err := tt.put(ctx, c, tt.settle)
			elapsed := time.Since(start)

			if got := apiErrorCode(err); got != tt.wantCode {
				t.Fatalf("error code = %q (err %v), want %q", got, err, tt.wantCode)
			}
			if errors.Is(err, errNoBlockPublicAccessAPI) {
				t.Errorf("err = %v: a missing bucket is not a missing Block Public Access API", err)
			}
			switch {
			case !tt.wantRetries:
				if attempts != 1 {
					t.Errorf("%d attempts, want 1", attempts)
				}
			default:
				if attempts < 2 {
					t.Errorf("%d attempts, want retries during the %v settle time", attempts, tt.settle)
				}
				// Retries stop once the settle time has passed: at most one more wait (≤ 1.8s at this point).
				if elapsed < tt.settle || elapsed > tt.settle+3*time.Second {
					t.Errorf("gave up after %v, want soon after the %v settle time", elapsed, tt.settle)
				}
			}
		})
	}
}

// TestIsNotFound_engineAnswers feeds isNotFound what real endpoints answer: moto's not-found errors for a
// user, a bucket and a bucket policy count as gone; the bare 404 of a loopback HTTP server that is not an
// AWS endpoint at all (a wrong endpoint setting, a proxy's own 404) does not, whichever service asked.
func TestIsNotFound_engineAnswers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := testbed.StartMoto(t)
	motoS3, motoIAM := m.Options().S3(m.Config(t)), m.Options().IAM(m.Config(t))
	notAWS := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notAWS.Close)
	wrong := m.Options()
	wrong.Endpoints = awsconfig.Endpoints{S3: notAWS.URL, IAM: notAWS.URL}
	wrongCfg, err := awsconfig.Load(ctx, wrong)
	if err != nil {
		t.Fatal(err)
	}
	wrongS3, wrongIAM := wrong.S3(wrongCfg), wrong.IAM(wrongCfg)
	noRetry := func(o *s3.Options) { o.RetryMaxAttempts = 1 }

	tests := []struct {
		name string
		call func() error
		want bool
	}{
		{"moto GetUser of a missing user", func() error {
			_, err := motoIAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")})
			return err
		}, true},
		{"moto HeadBucket of a missing bucket", func() error {
			_, err := motoS3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("no-such-bucket")})
			return err
		}, true},
		{"moto GetBucketPolicy of a missing bucket", func() error {
			_, err := motoS3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("no-such-bucket")})
			return err
		}, true},
		{"bare 404 to GetBucketPolicy", func() error {
			_, err := wrongS3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("media")}, noRetry)
			return err
		}, false},
		{"bare 404 to GetBucketTagging", func() error {
			_, err := wrongS3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("media")}, noRetry)
			return err
		}, false},
		{"bare 404 to IAM GetUser", func() error {
			_, err := wrongIAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("uploader")})
			return err
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil {
				t.Fatal("the call succeeded, want an error")
			}
			if got := isNotFound(err); got != tt.want {
				t.Errorf("isNotFound(%v) = %v, want %v", err, got, tt.want)
			}
		})
	}
}
