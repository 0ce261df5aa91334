package provider

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3controltypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"
	"github.com/hashicorp/terraform-plugin-framework/diag"
)

// The user-facing diagnostics shared by several resources (as terraform-provider-random's internal/diagnostics):
// a Title-Case summary, and a detail that names the thing, the AWS error and the next step. Helpers return
// errors; the CRUD methods turn them into these.

// iamEntity names an upload user or role in diagnostics: kind is "User" or "Role", name its IAM name.
type iamEntity struct {
	kind, name string
}

func (e iamEntity) String() string { return fmt.Sprintf("%s %q", lower(e.kind), e.name) }

// iamAction is the IAM API action name for the entity, such as iam:GetUser.
func (e iamEntity) iamAction(verb string) string { return "iam:" + verb + e.kind }

func lower(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}

// readEntityError is a failed Get of the upload user or role during Read.
func readEntityError(e iamEntity, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Read Upload "+e.kind,
		fmt.Sprintf("Reading %s failed: %s\n\nCheck that the caller may call %s and that the IAM endpoint answers, then retry.",
			e, err, e.iamAction("Get")))
}

// refreshAfterUpdateError is a failed Get right after an update that was made.
func refreshAfterUpdateError(e iamEntity, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Read Upload "+e.kind,
		fmt.Sprintf("Reading %s after the update failed: %s\n\nThe update was made; check the IAM endpoint, then run "+
			"terraform apply again to refresh the state.", e, err))
}

// readInlinePolicyError is a failed read of the upload-only inline policy of the user or role.
func readInlinePolicyError(e iamEntity, policyName string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Read Upload Policy",
		fmt.Sprintf("Reading the inline policy %q of %s failed: %s\n\nCheck that the caller may call %s and %s.",
			policyName, e, err, e.iamAction("Get")+"Policy", "iam:List"+e.kind+"Policies"))
}

// readTagsError is a failed tag listing of the user or role.
func readTagsError(e iamEntity, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Read Upload "+e.kind+" Tags",
		fmt.Sprintf("Listing the tags of %s failed: %s\n\nCheck that the caller may call %s.", e, err, "iam:List"+e.kind+"Tags"))
}

// updateTagsError is a failed tag update of the user or role.
func updateTagsError(e iamEntity, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Update Upload "+e.kind+" Tags",
		fmt.Sprintf("Updating the tags of %s failed: %s\n\nCheck that the caller may call %s and %s.",
			e, err, "iam:Tag"+e.kind, "iam:Untag"+e.kind))
}

// deleteConflictError is IAM's DeleteConflict on the user or role: something this resource does not manage is
// still attached.
func deleteConflictError(e iamEntity, err error, fix string) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Upload "+e.kind+" Still Has Dependencies",
		fmt.Sprintf("IAM refused to delete %s: %s\n\n%s", e, err, fix))
}

// blockPublicAccessSkippedWarning: the endpoint lacks Block Public Access and skip_unsupported_bucket_apis let the
// Referer policy go on without it.
func blockPublicAccessSkippedWarning(bucket string, err error) diag.Diagnostic {
	return diag.NewWarningDiagnostic("Block Public Access Not Supported",
		fmt.Sprintf("The S3 endpoint does not implement Block Public Access (%s), so the settings of bucket %q were left alone "+
			"and the policy is applied anyway. This is expected on S3-compatible engines such as MinIO.", err, bucket))
}

// refererPolicyPutError is a failed step of the Referer policy's apply (verb is Create or Update).
func refererPolicyPutError(ctx context.Context, r *refererPolicyResource, verb, bucket string, err error) diag.Diagnostic {
	summary := "Unable to " + verb + " Referer Policy"
	var step *refererStepError
	if !errors.As(err, &step) || step.step == refererStepBlockPublicAccess {
		if errors.Is(err, errNoBlockPublicAccessAPI) {
			return diag.NewErrorDiagnostic("Block Public Access Not Supported", noBlockPublicAccessError(bucket, errors.Unwrap(err)))
		}
		return diag.NewErrorDiagnostic(summary,
			fmt.Sprintf("Turning off BlockPublicPolicy and RestrictPublicBuckets on bucket %q (needed before a public bucket policy) failed: %s\n\n"+
				"Check that the bucket exists and that the credentials may call s3:PutBucketPublicAccessBlock, then retry.", bucket, errors.Unwrap(err)))
	}
	detail := fmt.Sprintf("PutBucketPolicy on bucket %q failed: %s", bucket, step.err)
	switch {
	case isAPIError(err, errCodeAccessDenied):
		detail += "\n\n" + r.explainAccessDenied(ctx)
	case isAPIError(err, errCodeNoSuchBucket):
		detail += "\n\nCreate the bucket first (staticmedia_bucket) or fix the name, then retry."
	default:
		detail += "\n\nCheck the credentials' s3:PutBucketPolicy permission and the policy shown in the plan, then retry."
	}
	return diag.NewErrorDiagnostic(summary, detail)
}

// noBlockPublicAccessError explains an endpoint without Block Public Access when the provider does not allow that.
func noBlockPublicAccessError(bucket string, err error) string {
	return fmt.Sprintf("The S3 endpoint answered a Block Public Access call on bucket %q as not implemented or not "+
		"understood (%v), so its switches cannot be set or checked. On AWS they decide whether the policy works at all, "+
		"so this is an error.\n\nIf the endpoint is an S3-compatible engine that lacks this API, such as MinIO, set "+
		"skip_unsupported_bucket_apis = true in the provider block: the policy is then applied with a warning.",
		bucket, err)
}

// explainAccountBlock says which account-level setting denies a public bucket policy and how to change it.
func explainAccountBlock(accountID string, cfg *s3controltypes.PublicAccessBlockConfiguration) string {
	if cfg == nil || !aws.ToBool(cfg.BlockPublicPolicy) {
		return fmt.Sprintf("The account-level Block Public Access of account %s does not block public policies, and the "+
			"bucket's own settings were opened, so the credentials most likely lack s3:PutBucketPolicy on this bucket "+
			"(or an SCP denies it). Grant it and retry.", accountID)
	}
	return fmt.Sprintf("Account %s has the account-level Block Public Access setting BlockPublicPolicy on. It overrides "+
		"the bucket's settings and rejects any bucket policy with Principal \"*\", including this Referer-conditioned one. %s",
		accountID, accountBlockFix(accountID))
}

// accountBlockFix is the command that opens the account level for public bucket policies only.
func accountBlockFix(accountID string) string {
	return fmt.Sprintf("To allow public bucket policies while keeping public ACLs blocked, run\n\n"+
		"  aws s3control put-public-access-block --account-id %s --public-access-block-configuration "+
		"BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=false,RestrictPublicBuckets=false\n\n"+
		"(or in the S3 console: Block Public Access settings for this account, clear the two bucket-policy options), then apply again.", accountID)
}

// createBucketError is a failed CreateBucket.
func createBucketError(bucket, region string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Create Bucket",
		fmt.Sprintf("Creating S3 bucket %q in %s failed: %v\n\nCheck the name and that these credentials may s3:CreateBucket, then apply again.",
			bucket, region, err))
}

// configureNewBucketError is a failed setting right after the bucket was created (it is saved tainted).
func configureNewBucketError(bucket string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Configure Bucket",
		fmt.Sprintf("S3 bucket %q was created but configuring it failed: %v\n\nThe bucket is marked tainted; "+
			"fix the cause and apply again to replace it.", bucket, err))
}

// bucketInAnotherRegionError: the bucket lives in region, not in the provider's.
func bucketInAnotherRegionError(regionErr error, region string) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Bucket Is in Another Region",
		fmt.Sprintf("%s.\n\nManage the bucket with a provider configured for its region: add a provider \"staticmedia\" block "+
			"with an alias and region = %q, and set provider = staticmedia.ALIAS on this resource (import it with that "+
			"provider too), or set region = %q on this provider.", regionErr, region, region))
}

// readBucketError is a failed read of the bucket's settings.
func readBucketError(bucket string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Read Bucket",
		fmt.Sprintf("Reading S3 bucket %q failed: %v\n\nCheck that these credentials may read the bucket's settings, then retry.", bucket, err))
}

// bucketSettingsSkippedWarning: skip_unsupported_bucket_apis let the bucket do without settings the endpoint lacks.
func bucketSettingsSkippedWarning(bucket, endpoint string, u unsupportedSettings) diag.Diagnostic {
	return diag.NewWarningDiagnostic("Bucket Settings Not Supported by This Endpoint", unsupportedWarning(bucket, endpoint, u))
}

// bucketSettingsNotSupportedError: the endpoint lacks settings and skip_unsupported_bucket_apis is off.
func bucketSettingsNotSupportedError(bucket, endpoint string, u unsupportedSettings) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Bucket Settings Not Supported by This Endpoint", notImplementedError(bucket, endpoint, u))
}

// bucketDeletedOutsideError: an update found the bucket gone since the plan.
func bucketDeletedOutsideError(bucket string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Bucket Deleted Outside Terraform",
		fmt.Sprintf("S3 bucket %q no longer exists: it was deleted outside Terraform after the plan was made (%v).\n\n"+
			"Run terraform apply again: its refresh removes the bucket from the state and the plan creates it anew, "+
			"empty. To keep it deleted, remove the resource from the configuration.", bucket, err))
}

// updateBucketError is a failed update of the bucket's settings.
func updateBucketError(bucket string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Update Bucket",
		fmt.Sprintf("Updating S3 bucket %q failed: %v\n\nCheck that these credentials may change the bucket's settings, then apply again.", bucket, err))
}

// bucketNotEmptyError: destroy without force_destroy found objects.
func bucketNotEmptyError(bucket string) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Bucket Not Empty",
		fmt.Sprintf("S3 bucket %q still holds objects, so it was not deleted. To delete it with every object version "+
			"in it, set force_destroy = true, run terraform apply (the value in the state is the one that counts), "+
			"then destroy again. Or empty the bucket yourself first.", bucket))
}

// deleteBucketError is a failed DeleteBucket (after deleted object versions with force_destroy).
func deleteBucketError(bucket string, deleted int, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Delete Bucket",
		fmt.Sprintf("Deleting S3 bucket %q failed after deleting %d object versions: %v\n\nCheck that these credentials may "+
			"s3:DeleteBucket (and s3:ListBucketVersions, s3:DeleteObjectVersion with force_destroy), then retry.", bucket, deleted, err))
}

// unsupportedWarning explains a skipped setting to the user.
func unsupportedWarning(bucket, endpoint string, u unsupportedSettings) string {
	return fmt.Sprintf("The S3 endpoint %s refused these settings of bucket %q as not implemented, so the bucket does "+
		"without them: %s. skip_unsupported_bucket_apis = true allows this; AWS implements all of them, so expect "+
		"it only on S3-compatible engines such as MinIO.",
		cmp.Or(endpoint, "(AWS)"), bucket, strings.Join(slices.Sorted(maps.Keys(u)), ", "))
}

// notImplementedError explains a setting the endpoint does not implement when the provider does not allow that.
func notImplementedError(bucket, endpoint string, u unsupportedSettings) string {
	return fmt.Sprintf("The S3 endpoint %s answered that it does not implement these settings of bucket %q: %s. "+
		"They protect the bucket (ACLs off, encryption, Block Public Access, cleanup of abandoned uploads), so this is "+
		"an error.\n\nIf the endpoint is an S3-compatible engine that lacks them, such as MinIO, set "+
		"skip_unsupported_bucket_apis = true in the provider block: the bucket then does without them, with a warning. "+
		"On AWS, check the endpoint settings instead.",
		cmp.Or(endpoint, "(AWS)"), bucket, strings.Join(slices.Sorted(maps.Keys(u)), ", "))
}

// readBucketPolicyError is a failed GetBucketPolicy during Read.
func readBucketPolicyError(bucket string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Read Bucket Policy",
		fmt.Sprintf("GetBucketPolicy on bucket %q failed: %s\n\nCheck that the credentials may call s3:GetBucketPolicy on it, then retry.", bucket, err))
}

// readPublicPolicySwitchesError is a failed read of the bucket's Block Public Access during the Referer policy's Read.
func readPublicPolicySwitchesError(bucket string, err error) diag.Diagnostic {
	if errors.Is(err, errNoBlockPublicAccessAPI) {
		return diag.NewErrorDiagnostic("Block Public Access Not Supported", noBlockPublicAccessError(bucket, err))
	}
	return diag.NewErrorDiagnostic("Unable to Read Block Public Access",
		fmt.Sprintf("GetPublicAccessBlock on bucket %q failed: %s\n\nCheck that the credentials may call "+
			"s3:GetBucketPublicAccessBlock on it, then retry.", bucket, err))
}
