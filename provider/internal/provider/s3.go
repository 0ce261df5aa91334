package provider

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	s3controltypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

var (
	errBucketNotFound = errors.New("bucket not found")
	errBucketNotEmpty = errors.New("bucket not empty")
)

// bucketExistsError is returned when the name is taken before we create it. The message says what to do.
type bucketExistsError struct {
	bucket     string
	ownedByYou bool
	region     string
}

func (e *bucketExistsError) Error() string {
	if e.ownedByYou {
		where := ""
		if e.region != "" {
			where = " (in " + e.region + ")"
		}
		return fmt.Sprintf("S3 bucket %q already exists%s and is owned by you: import it with "+
			"terraform import staticmedia_bucket.NAME %s (or an import block) instead of creating it", e.bucket, where, e.bucket)
	}
	return fmt.Sprintf("S3 bucket %q already exists and is owned by someone else (HeadBucket answered 403 Forbidden): "+
		"bucket names are global, choose another name. If the bucket is yours, these credentials lack s3:ListBucket on it.", e.bucket)
}

// bucketRegionError is S3's 301 answer to a request sent to another region than the bucket's: on AWS a
// client signs for one region, so a provider configured for another one cannot manage the bucket.
type bucketRegionError struct {
	bucket       string
	bucketRegion string // from the x-amz-bucket-region header; "" when S3 did not send it
	clientRegion string
	err          error
}

func (e *bucketRegionError) Error() string {
	where := "another region"
	if e.bucketRegion != "" {
		where = e.bucketRegion
	}
	return fmt.Sprintf("S3 bucket %q is in %s, the provider is configured for %s (HeadBucket answered 301 Moved Permanently)",
		e.bucket, where, e.clientRegion)
}

func (e *bucketRegionError) Unwrap() error { return e.err }

// bucketRegionHeader returns the region S3 names in the x-amz-bucket-region header of an error response.
func bucketRegionHeader(err error) string {
	var respErr *smithyhttp.ResponseError
	if !errors.As(err, &respErr) || respErr.Response == nil || respErr.Response.Response == nil {
		return ""
	}
	return respErr.Response.Header.Get("X-Amz-Bucket-Region")
}

// retryableAfterCreate are the errors AWS documents as transient around bucket creation and deletion.
func retryableAfterCreate(err error) bool {
	return isAPIError(err, errCodeNoSuchBucket, errCodeOperationAborted)
}

// isUnsupported reports that an S3-compatible engine does not implement a call. MinIO answers
// NotImplemented (501) for Get of Object Ownership and Block Public Access and for SSE-S3 without a KMS,
// MalformedXML for their Put, and InvalidArgument for a lifecycle rule whose only action is aborting
// multipart uploads. Callers tolerate it only with skip_unsupported_bucket_apis; otherwise it fails with
// unsupportedSettingError, whose message names that setting.
func isUnsupported(err error) bool {
	return isNotImplemented(err) || isAPIError(err, errCodeMalformedXML, errCodeInvalidArgument)
}

// isNotImplemented is the unambiguous form: the engine says so itself.
func isNotImplemented(err error) bool {
	return isAPIError(err, errCodeNotImplemented, errCodeXNotImplemented) || httpStatus(err) == http.StatusNotImplemented
}

// createBucketIfFree creates the bucket after making sure the name is not already in use: us-east-1 answers
// CreateBucket on a bucket you own with success, which would silently adopt it.
func createBucketIfFree(ctx context.Context, client *s3.Client, bucket, region string) error {
	_, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	switch {
	case err == nil:
		return &bucketExistsError{bucket: bucket, ownedByYou: true}
	case httpStatus(err) == http.StatusForbidden:
		return &bucketExistsError{bucket: bucket}
	case httpStatus(err) == http.StatusMovedPermanently:
		// The bucket exists in another region; CreateBucket tells whose it is.
	case !isNotFound(err):
		return fmt.Errorf("checking whether the name is free (HeadBucket): %w", err)
	}

	in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
	if region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{
			LocationConstraint: s3types.BucketLocationConstraint(region),
		}
	}
	err = retryUntil(ctx, func(err error) bool { return isAPIError(err, errCodeOperationAborted) }, func(ctx context.Context) error {
		_, err := client.CreateBucket(ctx, in)
		return err
	})
	switch {
	case isAPIError(err, errCodeBucketAlreadyOwnedByYou):
		return &bucketExistsError{bucket: bucket, ownedByYou: true}
	case isAPIError(err, errCodeBucketAlreadyExists):
		return &bucketExistsError{bucket: bucket}
	case err != nil:
		return err
	}
	// S3 is eventually consistent: the new bucket can answer NoSuchBucket (or a bare 404) for a moment.
	ctx, cancel := context.WithTimeout(ctx, bucketSettleTime)
	defer cancel()
	return retryUntil(ctx, func(err error) bool { return isNotFound(err) || retryableAfterCreate(err) }, func(ctx context.Context) error {
		_, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
		if err != nil {
			return fmt.Errorf("waiting for the new bucket to appear: %w", err)
		}
		return nil
	})
}

// putACLBlocks turns the two ACL switches of Block Public Access on and keeps the two public-policy switches
// as they are: those belong to staticmedia_referer_policy while it exists.
func putACLBlocks(ctx context.Context, client *s3.Client, bucket string) error {
	var cfg s3types.PublicAccessBlockConfiguration
	out, err := client.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(bucket)})
	switch {
	case isAPIError(err, errCodeNoSuchPublicAccessBlockConfiguration):
		// No configuration means all four off; the public-policy ones stay so.
	case err != nil:
		return err
	case out.PublicAccessBlockConfiguration != nil:
		cfg = *out.PublicAccessBlockConfiguration
	}
	cfg.BlockPublicAcls, cfg.IgnorePublicAcls = aws.Bool(true), aws.Bool(true)
	cfg.BlockPublicPolicy, cfg.RestrictPublicBuckets = aws.Bool(aws.ToBool(cfg.BlockPublicPolicy)), aws.Bool(aws.ToBool(cfg.RestrictPublicBuckets))
	_, err = client.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(bucket), PublicAccessBlockConfiguration: &cfg})
	return err
}

func putBlockPublicAccess(ctx context.Context, client *s3.Client, bucket string) error {
	cfg := fullBlock()
	_, err := client.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(bucket), PublicAccessBlockConfiguration: &cfg})
	return err
}

func putObjectOwnership(ctx context.Context, client *s3.Client, bucket string) error {
	_, err := client.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{
		Bucket: aws.String(bucket),
		OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{
			{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced},
		}},
	})
	return err
}

func putEncryption(ctx context.Context, client *s3.Client, bucket string) error {
	_, err := client.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
		Bucket: aws.String(bucket),
		ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256},
		}}},
	})
	return err
}

// putVersioning enables or suspends versioning. S3 cannot return a bucket to "never versioned".
func putVersioning(ctx context.Context, client *s3.Client, bucket string, enabled bool) error {
	status := s3types.BucketVersioningStatusSuspended
	if enabled {
		status = s3types.BucketVersioningStatusEnabled
	}
	_, err := client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket:                  aws.String(bucket),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: status},
	})
	return err
}

// putAbortRule writes (or, with days 0, removes) our multipart rule and keeps every other rule.
func putAbortRule(ctx context.Context, client *s3.Client, bucket string, days int32) error {
	var rule *s3types.LifecycleRule
	if days > 0 {
		rule = &s3types.LifecycleRule{
			ID:                             aws.String(abortMultipartRuleID),
			Status:                         s3types.ExpirationStatusEnabled,
			Filter:                         &s3types.LifecycleRuleFilter{Prefix: aws.String("")},
			AbortIncompleteMultipartUpload: &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(days)},
		}
	}
	return putLifecycleRule(ctx, client, bucket, abortMultipartRuleID, rule)
}

// putTags replaces the bucket's tag set; an empty set is a delete, since S3 rejects an empty PutBucketTagging.
func putTags(ctx context.Context, client *s3.Client, bucket string, tags map[string]string) error {
	if len(tags) == 0 {
		_, err := client.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: aws.String(bucket)})
		return err
	}
	tagSet := make([]s3types.Tag, 0, len(tags))
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		tagSet = append(tagSet, s3types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	_, err := client.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{
		Bucket:  aws.String(bucket),
		Tagging: &s3types.Tagging{TagSet: tagSet},
	})
	return err
}

// lifecycleRules returns the bucket's lifecycle rules; none is an empty list, not an error.
func lifecycleRules(ctx context.Context, client *s3.Client, bucket string) ([]s3types.LifecycleRule, error) {
	out, err := lifecycleConfiguration(ctx, client, bucket)
	return out.Rules, err
}

// lifecycleConfiguration returns the bucket's lifecycle configuration: its rules and the
// TransitionDefaultMinimumObjectSize that PutBucketLifecycleConfiguration replaces with them. None is an empty
// output, not an error.
func lifecycleConfiguration(ctx context.Context, client *s3.Client, bucket string) (*s3.GetBucketLifecycleConfigurationOutput, error) {
	out, err := client.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(bucket)})
	if isAPIError(err, errCodeNoSuchLifecycleConfiguration) {
		return &s3.GetBucketLifecycleConfigurationOutput{}, nil
	}
	if err != nil {
		return &s3.GetBucketLifecycleConfigurationOutput{}, err
	}
	return out, nil
}

// deleteBucket deletes the bucket, first emptying it when force is set. A bucket already gone is success.
// It returns how many object versions it deleted.
func deleteBucket(ctx context.Context, client *s3.Client, bucket string, force bool) (int, error) {
	deleted := 0
	err := retryUntil(ctx, func(err error) bool {
		// With force, objects written while we emptied the bucket make it non-empty again: empty it again.
		return isAPIError(err, errCodeOperationAborted) || (force && errors.Is(err, errBucketNotEmpty))
	}, func(ctx context.Context) error {
		if force {
			n, err := emptyBucket(ctx, client, bucket, deleteBatchSize)
			deleted += n
			if err != nil {
				return err
			}
		}
		_, err := client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
		if isAPIError(err, errCodeBucketNotEmpty) {
			return fmt.Errorf("%w: %w", errBucketNotEmpty, err)
		}
		return err
	})
	if isNotFound(err) {
		return deleted, nil
	}
	return deleted, err
}

// emptyBucket deletes every object version and delete marker, at most batch keys per DeleteObjects call.
// It lists from the start each round, deleting what it finds, until a listing comes back empty; objects
// written meanwhile are caught by a later round.
func emptyBucket(ctx context.Context, client *s3.Client, bucket string, batch int) (int, error) {
	deleted := 0
	for {
		out, err := client.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{
			Bucket:  aws.String(bucket),
			MaxKeys: aws.Int32(int32(min(batch, 1000))), //nolint:gosec // G115: at most 1000
		})
		if err != nil {
			return deleted, fmt.Errorf("listing object versions: %w", err)
		}
		ids := make([]s3types.ObjectIdentifier, 0, len(out.Versions)+len(out.DeleteMarkers))
		for _, v := range out.Versions {
			ids = append(ids, s3types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
		}
		for _, m := range out.DeleteMarkers {
			ids = append(ids, s3types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
		}
		if len(ids) == 0 {
			return deleted, nil
		}
		for chunk := range slices.Chunk(ids, batch) {
			res, err := client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
				Bucket: aws.String(bucket),
				Delete: &s3types.Delete{Objects: chunk, Quiet: aws.Bool(true)},
			})
			if err != nil {
				return deleted, fmt.Errorf("deleting %d object versions: %w", len(chunk), err)
			}
			if len(res.Errors) > 0 {
				e := res.Errors[0]
				return deleted, fmt.Errorf("deleting %d object versions: %d failed, the first %q (version %s): %s: %s",
					len(chunk), len(res.Errors), aws.ToString(e.Key), aws.ToString(e.VersionId), aws.ToString(e.Code), aws.ToString(e.Message))
			}
			deleted += len(chunk)
		}
	}
}

// bucketPolicyAPI is the part of *s3.Client this resource uses.
type bucketPolicyAPI interface {
	PutPublicAccessBlock(context.Context, *s3.PutPublicAccessBlockInput, ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error)
	PutBucketPolicy(context.Context, *s3.PutBucketPolicyInput, ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error)
	GetBucketPolicy(context.Context, *s3.GetBucketPolicyInput, ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error)
}

// publicPolicyAllowed is the bucket-level Block Public Access that lets a public bucket policy in and keeps
// ACLs blocked. fullBlock is what staticmedia_bucket creates and what destroy restores. They are functions,
// not package variables, because the configuration holds pointers.
func publicPolicyAllowed() s3types.PublicAccessBlockConfiguration {
	return s3types.PublicAccessBlockConfiguration{
		BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true),
		BlockPublicPolicy: aws.Bool(false), RestrictPublicBuckets: aws.Bool(false),
	}
}

func fullBlock() s3types.PublicAccessBlockConfiguration {
	return s3types.PublicAccessBlockConfiguration{
		BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true),
		BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true),
	}
}

// errNoBlockPublicAccessAPI wraps the answer of an engine that does not implement Block Public Access.
var errNoBlockPublicAccessAPI = errors.New("the S3 endpoint does not implement Block Public Access")

// putPublicAccessBlock sets the bucket's Block Public Access configuration. NoSuchBucket is retried for
// settle (a bucket created moments ago), OperationAborted (a conflicting change in flight) until ctx ends.
//
// MinIO routes PUT /bucket?publicAccessBlock to CreateBucket and answers MalformedXML; other engines answer
// NotImplemented. Both come back wrapped in errNoBlockPublicAccessAPI. DeletePublicAccessBlock is never used:
// MinIO routes DELETE /bucket?publicAccessBlock to DeleteBucket and removes an empty bucket.
func putPublicAccessBlock(ctx context.Context, client bucketPolicyAPI, bucket string, cfg s3types.PublicAccessBlockConfiguration, settle time.Duration) error {
	start := time.Now()
	err := retryUntil(ctx, func(err error) bool {
		return isAPIError(err, errCodeOperationAborted) || (isAPIError(err, errCodeNoSuchBucket) && time.Since(start) < settle)
	}, func(ctx context.Context) error {
		_, err := client.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{
			Bucket:                         aws.String(bucket),
			PublicAccessBlockConfiguration: &cfg,
		})
		return err
	})
	// MalformedXML cannot happen on AWS for this SDK-built request; it is MinIO's answer.
	if isUnsupported(err) || isAPIError(err, errCodeMalformedXML) {
		return fmt.Errorf("%w: %w", errNoBlockPublicAccessAPI, err)
	}
	return err
}

// putBucketPolicy stores the policy, retrying what follows a fresh bucket or Block Public Access change.
func putBucketPolicy(ctx context.Context, client bucketPolicyAPI, bucket, doc string, settle time.Duration) error {
	return putBucketPolicyUnless(ctx, client, bucket, doc, settle, nil)
}

// putBucketPolicyUnless is putBucketPolicy that stops retrying AccessDenied at once when denialIsFinal, asked
// on the first one, says waiting cannot help (the account-level Block Public Access rejects public policies).
func putBucketPolicyUnless(ctx context.Context, client bucketPolicyAPI, bucket, doc string, settle time.Duration, denialIsFinal func(context.Context) bool) error {
	start := time.Now()
	asked, final := false, false
	return retryUntil(ctx, func(err error) bool {
		if isAPIError(err, errCodeAccessDenied) && denialIsFinal != nil && !asked {
			asked, final = true, denialIsFinal(ctx)
		}
		return isAPIError(err, errCodeOperationAborted) ||
			(isAPIError(err, errCodeNoSuchBucket, errCodeMalformedPolicy) && time.Since(start) < settle) ||
			(isAPIError(err, errCodeAccessDenied) && !final && time.Since(start) < settle)
	}, func(ctx context.Context) error {
		_, err := client.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(doc)})
		return err
	})
}

// findBucketPolicy returns the stored policy text, or a notFoundError when the bucket or its policy is gone.
func findBucketPolicy(ctx context.Context, client bucketPolicyAPI, bucket string) (string, error) {
	out, err := client.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
	if err != nil {
		return "", asNotFound(err, fmt.Sprintf("policy of bucket %q", bucket))
	}
	return aws.ToString(out.Policy), nil
}

// accountBPAGetter is the part of *s3control.Client this resource uses.
type accountBPAGetter interface {
	GetPublicAccessBlock(context.Context, *s3control.GetPublicAccessBlockInput, ...func(*s3control.Options)) (*s3control.GetPublicAccessBlockOutput, error)
}

// accountPublicAccessBlock reads the account-level Block Public Access; nil means none is configured.
func accountPublicAccessBlock(ctx context.Context, client accountBPAGetter, accountID string) (*s3controltypes.PublicAccessBlockConfiguration, error) {
	out, err := client.GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: aws.String(accountID)})
	if isAPIError(err, errCodeNoSuchPublicAccessBlockConfiguration) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read account-level block public access of %s: %w", accountID, err)
	}
	return out.PublicAccessBlockConfiguration, nil
}
