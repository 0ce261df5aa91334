package migrate

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/staticmedia/staticmedia/internal/awsconfig"
)

// bucketLister is the one read the upload-only key is allowed: s3:ListAllMyBuckets.
type bucketLister interface {
	ListBuckets(ctx context.Context, in *s3.ListBucketsInput, optFns ...func(*s3.Options)) (*s3.ListBucketsOutput, error)
}

// PreflightError says why the credentials cannot upload to the bucket, before any work starts.
type PreflightError struct {
	Bucket string
	// Identity names who was refused, without secrets (see Deps.Identity); empty when unknown.
	Identity string
	Err      error
}

func (e *PreflightError) Error() string {
	if e.Identity != "" {
		return fmt.Sprintf("preflight for bucket %q as %s: %v", e.Bucket, e.Identity, e.Err)
	}
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
	return &PreflightError{Bucket: bucket, Err: errors.New("the bucket is not among the buckets these credentials' account owns: check the bucket name in the Terraform output, and that the key or role belongs to the account that owns the bucket")}
}

func explainListBuckets(err error) error {
	var wie *awsconfig.WebIdentityError
	if errors.As(err, &wie) {
		return explainWebIdentity(err)
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "InvalidAccessKeyId":
			return fmt.Errorf("the access key id is unknown (deleted, rotated, or from another account or endpoint): %w", err)
		case "SignatureDoesNotMatch":
			return fmt.Errorf("the secret access key does not match the access key id: %w", err)
		case "AccessDenied", "AllAccessDisabled":
			return fmt.Errorf("these credentials may not list buckets: the user's or role's policy needs s3:ListAllMyBuckets "+
				"(the upload-only policy of staticmedia_upload_user and staticmedia_upload_role grants it): check that its policy is that one: %w", err)
		case "ExpiredToken", "InvalidToken", "TokenRefreshRequired":
			return fmt.Errorf("the session credentials expired or are invalid: %w", err)
		}
		return fmt.Errorf("listing buckets failed: %w", err)
	}
	return fmt.Errorf("listing buckets failed (is the endpoint reachable and the region right?): %w", err)
}

// explainWebIdentity says why the exchange of CI's OIDC token for the role's credentials failed,
// and what to check.
func explainWebIdentity(err error) error {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			return fmt.Errorf("the web identity token file cannot be read (the CI job must write its OIDC token there before the run): %w", err)
		}
		return fmt.Errorf("the web identity exchange failed (is STS reachable? AWS_ENDPOINT_URL_STS overrides its endpoint): %w", err)
	}
	switch apiErr.ErrorCode() {
	case "AccessDenied":
		return fmt.Errorf("STS refused the role to this token: check the role's trust policy (its OIDC provider, the audience, "+
			"and that the token's sub claim, the repository and branch or environment, matches one of its subjects): %w", err)
	case "InvalidIdentityToken":
		return fmt.Errorf("STS rejected the token: check that the account has an IAM OIDC provider for the token's issuer "+
			"and that the token's audience is among its client IDs (sts.amazonaws.com): %w", err)
	case "ExpiredTokenException", "ExpiredToken":
		return fmt.Errorf("the OIDC token expired: CI tokens live minutes, so fetch it right before the run: %w", err)
	case "IDPRejectedClaim", "IDPCommunicationError":
		return fmt.Errorf("STS could not verify the token with its issuer: %w", err)
	}
	return fmt.Errorf("the web identity exchange failed: %w", err)
}
