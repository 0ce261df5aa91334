package provider

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// retryUntil calls fn until it succeeds, returns an error retryable rejects, or ctx ends (the resource's
// timeout bounds it). Backoff doubles from 200ms to 5s with jitter. It exists for the eventual consistency AWS
// documents (NoSuchBucket right after CreateBucket, IAM propagation, OperationAborted), not to paper over bugs.
func retryUntil(ctx context.Context, retryable func(error) bool, fn func(context.Context) error) error {
	delay := 200 * time.Millisecond
	for {
		err := fn(ctx)
		if err == nil || !retryable(err) {
			return err
		}
		wait := delay/2 + time.Duration(rand.Int64N(int64(delay)))
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (gave up waiting: %w)", err, ctx.Err())
		case <-time.After(wait):
		}
		delay = min(delay*2, 5*time.Second)
	}
}

// apiErrorCode returns the AWS error code of err, or "" when err is not an API error.
func apiErrorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// isAPIError reports whether err is an AWS API error with one of the codes.
func isAPIError(err error, codes ...string) bool {
	code := apiErrorCode(err)
	if code == "" {
		return false
	}
	for _, c := range codes {
		if code == c {
			return true
		}
	}
	return false
}

// httpStatus returns the HTTP status code of an AWS response error, or 0.
func httpStatus(err error) int {
	var respErr *smithyhttp.ResponseError
	if errors.As(err, &respErr) {
		return respErr.HTTPStatusCode()
	}
	return 0
}

// notFoundCodes are the error codes with which S3 and IAM say that the thing asked about does not exist.
var notFoundCodes = []string{errCodeNoSuchBucket, errCodeNoSuchEntity, errCodeNoSuchBucketPolicy, errCodeNoSuchPublicAccessBlockConfiguration}

// isNotFound reports whether err means the thing is gone: drift, not failure, when reading. It needs the
// service's own error code: a bare 404 (a wrong endpoint, a proxy, a path the engine does not route) is a
// failure to report, not proof that the resource was deleted. The one code-less exception is S3's modeled
// NotFound, which HEAD requests (HeadBucket) return because a HEAD answer has no body to carry a code.
func isNotFound(err error) bool {
	var headNotFound *s3types.NotFound
	return isAPIError(err, notFoundCodes...) || errors.As(err, &headNotFound)
}
