package provider

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-framework/diag"
)

// unsupportedSetting marks a setting the endpoint does not implement (MinIO has no Object Ownership, and no
// SSE-S3 without a KMS). Read keeps the enforced value for it, so such engines show no perpetual diff.
const unsupportedSetting = "\x00unsupported"

// readBack is the value to store for a setting read from the bucket: what was read, or the enforced value
// when the endpoint does not implement the setting (nothing to compare, so nothing to show).
func readBack(got, enforced string) string {
	if got == unsupportedSetting {
		return enforced
	}
	return got
}

// bucketSettings are the settings this resource manages, as applied or as read back.
type bucketSettings struct {
	region          string
	versioning      bool
	abortDays       int32           // 0: our lifecycle rule is missing or disabled
	expireIncoming  *expireIncoming // nil: no expiration rule of ours
	tags            map[string]string
	objectOwnership string // "" when unset, unsupportedSetting when the endpoint lacks the API
	sseAlgorithm    string // likewise
	// blockPublicAcls and ignorePublicAcls are the two Block Public Access switches this resource owns;
	// false when the bucket has no Block Public Access configuration.
	blockPublicAcls, ignorePublicAcls bool
	blockPublicAccessUnsupported      bool // the endpoint does not implement GetPublicAccessBlock
	lifecycleUnsupported              bool // the endpoint does not implement GetBucketLifecycleConfiguration
}

// notImplemented lists the settings the endpoint answered as not implemented when they were read.
func (s bucketSettings) notImplemented() unsupportedSettings {
	u := unsupportedSettings{}
	if s.objectOwnership == unsupportedSetting {
		u[settingObjectOwnership] = true
	}
	if s.sseAlgorithm == unsupportedSetting {
		u[settingSSEAlgorithm] = true
	}
	if s.blockPublicAccessUnsupported {
		u[settingBlockPublicAccess] = true
	}
	if s.lifecycleUnsupported {
		u[settingAbortDays] = true
	}
	return u
}

// bucketChanges says which settings to put. blockPublicAccess, all four switches on, is only ever set at
// creation; aclBlocks turns the two ACL switches back on and leaves the public-policy ones as they are.
type bucketChanges struct {
	objectOwnership, sseAlgorithm, blockPublicAccess, aclBlocks, versioning, abortDays, expireIncoming, tags bool
}

// createChanges are the settings a new bucket gets: all of them, except versioning and tags when there are
// none to set.
func createChanges(want bucketSettings) bucketChanges {
	return bucketChanges{
		objectOwnership: true, sseAlgorithm: true, blockPublicAccess: true, abortDays: true,
		versioning: want.versioning, tags: len(want.tags) > 0, expireIncoming: want.expireIncoming != nil,
	}
}

// Attribute names of the settings an endpoint may lack, as kept in unsupportedSettings.
const (
	settingObjectOwnership   = "object_ownership"
	settingSSEAlgorithm      = "sse_algorithm"
	settingBlockPublicAccess = "block_public_access"
	settingAbortDays         = "abort_incomplete_multipart_days"
)

// unsupportedSettings are the settings an S3-compatible engine refused as not implemented (MinIO: Object
// Ownership, Block Public Access, SSE-S3 without a KMS, a lifecycle rule with only an abort action). They
// are kept in the resource's private state so Read does not report them as drift on every plan.
type unsupportedSettings map[string]bool

// privateUnsupportedKey is the private state key of unsupportedSettings.
const privateUnsupportedKey = "unsupported_settings"

type privateStateGetter interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
}

type privateStateSetter interface {
	SetKey(ctx context.Context, key string, value []byte) diag.Diagnostics
}

func loadUnsupported(ctx context.Context, private privateStateGetter) (unsupportedSettings, diag.Diagnostics) {
	raw, diags := private.GetKey(ctx, privateUnsupportedKey)
	u := unsupportedSettings{}
	if len(raw) == 0 || diags.HasError() {
		return u, diags
	}
	if err := json.Unmarshal(raw, &u); err != nil {
		diags.Append(unreadablePrivateStateWarning(err))
		return unsupportedSettings{}, diags
	}
	return u, diags
}

func storeUnsupported(ctx context.Context, private privateStateSetter, u unsupportedSettings) diag.Diagnostics {
	raw, err := json.Marshal(u)
	if err != nil {
		var diags diag.Diagnostics
		diags.Append(recordUnsupportedError(err))
		return diags
	}
	return private.SetKey(ctx, privateUnsupportedKey, raw)
}

// settingsOptions say how applySettings treats errors.
type settingsOptions struct {
	// tolerateUnsupported skips, instead of failing, an enforced setting the engine does not implement.
	tolerateUnsupported bool
	// settle is how long NoSuchBucket is retried: bucketSettleTime after CreateBucket, 0 for a bucket that
	// already existed.
	settle time.Duration
}

// applySettings puts the settings marked in changes, retrying the errors S3 documents as transient:
// OperationAborted, and NoSuchBucket for opts.settle. A bucket still missing after that fails with
// errBucketNotFound. With opts.tolerateUnsupported, an enforced setting the engine does not implement is
// skipped and returned in the set instead of failing.
func applySettings(ctx context.Context, client *s3.Client, bucket string, want bucketSettings, changes bucketChanges, opts settingsOptions) (unsupportedSettings, error) {
	type step struct {
		do      bool
		setting string // non-empty when an engine may lack it
		what    string
		call    func(context.Context) error
	}
	steps := []step{
		{changes.objectOwnership, settingObjectOwnership, "Object Ownership", func(ctx context.Context) error {
			return putObjectOwnership(ctx, client, bucket)
		}},
		{changes.sseAlgorithm, settingSSEAlgorithm, "default encryption", func(ctx context.Context) error {
			return putEncryption(ctx, client, bucket)
		}},
		{changes.blockPublicAccess, settingBlockPublicAccess, "Block Public Access", func(ctx context.Context) error {
			return putBlockPublicAccess(ctx, client, bucket)
		}},
		{changes.aclBlocks, settingBlockPublicAccess, "the Block Public Access ACL switches", func(ctx context.Context) error {
			return putACLBlocks(ctx, client, bucket)
		}},
		{changes.versioning, "", "versioning", func(ctx context.Context) error {
			return putVersioning(ctx, client, bucket, want.versioning)
		}},
		{changes.abortDays, settingAbortDays, "the lifecycle rule " + abortMultipartRuleID, func(ctx context.Context) error {
			return putAbortRule(ctx, client, bucket, want.abortDays)
		}},
		{changes.expireIncoming, "", "the lifecycle rule " + expireIncomingRuleID, func(ctx context.Context) error {
			return putExpireIncomingRule(ctx, client, bucket, want.expireIncoming)
		}},
		{changes.tags, "", "tags", func(ctx context.Context) error {
			return putTags(ctx, client, bucket, want.tags)
		}},
	}
	start := time.Now()
	retryable := func(err error) bool {
		return isAPIError(err, errCodeOperationAborted) || (isAPIError(err, errCodeNoSuchBucket) && time.Since(start) < opts.settle)
	}
	unsupported := unsupportedSettings{}
	for _, s := range steps {
		if !s.do {
			continue
		}
		err := retryUntil(ctx, retryable, s.call)
		if err != nil && s.setting != "" && isUnsupported(err) {
			if !opts.tolerateUnsupported {
				return unsupported, fmt.Errorf("setting %s: %w", s.what, &unsupportedSettingError{setting: s.setting, err: err})
			}
			unsupported[s.setting] = true
			continue
		}
		if isAPIError(err, errCodeNoSuchBucket) {
			return unsupported, fmt.Errorf("setting %s: %w: %w", s.what, errBucketNotFound, err)
		}
		if err != nil {
			return unsupported, fmt.Errorf("setting %s: %w", s.what, err)
		}
	}
	return unsupported, nil
}

// unsupportedSettingError reports a setting the endpoint refused as not implemented while
// skip_unsupported_bucket_apis is off. Its message names the setting to change.
type unsupportedSettingError struct {
	setting string
	err     error
}

func (e *unsupportedSettingError) Error() string {
	return fmt.Sprintf("the S3 endpoint refused %s as not implemented or not understood (%v); if the endpoint is an "+
		"S3-compatible engine that lacks this API, such as MinIO, set skip_unsupported_bucket_apis = true in the "+
		"provider block to do without it", e.setting, e.err)
}

func (e *unsupportedSettingError) Unwrap() error { return e.err }

// readBucketSettings reads back every setting the resource manages. Settings that were never set read as
// their empty value; errBucketNotFound means the bucket is gone.
func readBucketSettings(ctx context.Context, client *s3.Client, bucket string) (bucketSettings, error) {
	var got bucketSettings
	head, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	if isNotFound(err) {
		// HeadBucket's 404 has no body, so no error code: a wrong endpoint or a misrouting proxy answers the
		// same. Only a GET's NoSuchBucket proves the bucket is gone.
		_, err = client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
		if isAPIError(err, errCodeNoSuchBucket) {
			return got, errBucketNotFound
		}
		return got, fmt.Errorf("HeadBucket answered 404 Not Found, but GetBucketVersioning did not say NoSuchBucket: %w", cmp.Or(err, errors.New("it succeeded")))
	}
	if httpStatus(err) == http.StatusMovedPermanently {
		return got, &bucketRegionError{bucket: bucket, bucketRegion: bucketRegionHeader(err), clientRegion: client.Options().Region, err: err}
	}
	if err != nil {
		return got, fmt.Errorf("HeadBucket: %w", err)
	}
	got.region = aws.ToString(head.BucketRegion)

	reads := []struct {
		what string
		call func(context.Context) error
	}{
		{"versioning", func(ctx context.Context) error {
			out, err := client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
			if err == nil {
				got.versioning = out.Status == s3types.BucketVersioningStatusEnabled
			}
			return err
		}},
		{"lifecycle rules", func(ctx context.Context) error {
			rules, err := lifecycleRules(ctx, client, bucket)
			if isNotImplemented(err) {
				got.lifecycleUnsupported = true
				return nil
			}
			got.abortDays = abortDaysFrom(rules)
			got.expireIncoming = expireIncomingIn(rules)
			return err
		}},
		{"tags", func(ctx context.Context) error {
			out, err := client.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(bucket)})
			if isAPIError(err, errCodeNoSuchTagSet, errCodeNoSuchTagSetError) {
				got.tags = map[string]string{}
				return nil
			}
			if err == nil {
				got.tags = make(map[string]string, len(out.TagSet))
				for _, t := range out.TagSet {
					got.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
				}
			}
			return err
		}},
		{"Object Ownership", func(ctx context.Context) error {
			out, err := client.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String(bucket)})
			switch {
			case isAPIError(err, errCodeOwnershipControlsNotFoundError):
				return nil
			case isNotImplemented(err):
				got.objectOwnership = unsupportedSetting
				return nil
			case err != nil:
				return err
			}
			if out.OwnershipControls != nil && len(out.OwnershipControls.Rules) > 0 {
				got.objectOwnership = string(out.OwnershipControls.Rules[0].ObjectOwnership)
			}
			return nil
		}},
		{"Block Public Access", func(ctx context.Context) error {
			out, err := client.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(bucket)})
			switch {
			case isAPIError(err, errCodeNoSuchPublicAccessBlockConfiguration):
				return nil
			case isNotImplemented(err):
				got.blockPublicAccessUnsupported = true
				return nil
			case err != nil:
				return err
			}
			if c := out.PublicAccessBlockConfiguration; c != nil {
				got.blockPublicAcls, got.ignorePublicAcls = aws.ToBool(c.BlockPublicAcls), aws.ToBool(c.IgnorePublicAcls)
			}
			return nil
		}},
		{"default encryption", func(ctx context.Context) error {
			out, err := client.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(bucket)})
			switch {
			case isAPIError(err, errCodeServerSideEncryptionConfigurationNotFoundError):
				return nil
			case isNotImplemented(err):
				got.sseAlgorithm = unsupportedSetting
				return nil
			case err != nil:
				return err
			}
			if c := out.ServerSideEncryptionConfiguration; c != nil && len(c.Rules) > 0 && c.Rules[0].ApplyServerSideEncryptionByDefault != nil {
				got.sseAlgorithm = string(c.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm)
			}
			return nil
		}},
	}
	for _, r := range reads {
		err := r.call(ctx)
		if isAPIError(err, errCodeNoSuchBucket) {
			return got, errBucketNotFound
		}
		if err != nil {
			return got, fmt.Errorf("reading %s: %w", r.what, err)
		}
	}
	return got, nil
}

// abortDaysFrom finds our rule among the bucket's lifecycle rules; 0 when it is missing or disabled.
func abortDaysFrom(rules []s3types.LifecycleRule) int32 {
	for _, r := range rules {
		if aws.ToString(r.ID) != abortMultipartRuleID || r.Status != s3types.ExpirationStatusEnabled || r.AbortIncompleteMultipartUpload == nil {
			continue
		}
		return aws.ToInt32(r.AbortIncompleteMultipartUpload.DaysAfterInitiation)
	}
	return 0
}
