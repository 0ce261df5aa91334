package migrate

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// bucketLister is the one read the upload-only key is allowed: s3:ListAllMyBuckets.
type bucketLister interface {
	ListBuckets(ctx context.Context, in *s3.ListBucketsInput, optFns ...func(*s3.Options)) (*s3.ListBucketsOutput, error)
}

// PreflightError says why the key cannot upload to the bucket, before any work starts.
type PreflightError struct {
	Bucket string
	Err    error
}

func (e *PreflightError) Error() string {
	return fmt.Sprintf("preflight for bucket %q: %v", e.Bucket, e.Err)
}

func (e *PreflightError) Unwrap() error { return e.Err }

// Preflight checks, with the only read the key has, that the credentials work and the bucket is
// theirs: ListBuckets must succeed and list the bucket. The error names the likely cause.
func Preflight(ctx context.Context, s3c bucketLister, bucket string) error {
	in := &s3.ListBucketsInput{}
	for {
		out, err := s3c.ListBuckets(ctx, in)
		if err != nil {
			return &PreflightError{Bucket: bucket, Err: explainListBuckets(err)}
		}
		for _, b := range out.Buckets {
			if aws.ToString(b.Name) == bucket {
				return nil
			}
		}
		if aws.ToString(out.ContinuationToken) == "" {
			break
		}
		in = &s3.ListBucketsInput{ContinuationToken: out.ContinuationToken}
	}
	return &PreflightError{Bucket: bucket, Err: errors.New("the bucket is not among the buckets this key's account owns: check the bucket name in the Terraform output, and that the key belongs to the account that owns the bucket")}
}

func explainListBuckets(err error) error {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "InvalidAccessKeyId":
			return fmt.Errorf("the access key id is unknown (deleted, rotated, or from another account or endpoint): %w", err)
		case "SignatureDoesNotMatch":
			return fmt.Errorf("the secret access key does not match the access key id: %w", err)
		case "AccessDenied", "AllAccessDisabled":
			return fmt.Errorf("the key may not list buckets: its policy needs s3:ListAllMyBuckets (the upload-only policy grants it): %w", err)
		case "ExpiredToken", "InvalidToken", "TokenRefreshRequired":
			return fmt.Errorf("the session credentials expired or are invalid: %w", err)
		}
		return fmt.Errorf("listing buckets failed: %w", err)
	}
	return fmt.Errorf("listing buckets failed (is the endpoint reachable and the region right?): %w", err)
}
