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
	"github.com/hashicorp/terraform-plugin-framework/path"
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

// planNameError: name or name_prefix could not be turned into the IAM name of the user or role.
func planNameError(err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Plan Name", err.Error())
}

// createEntityError is a failed CreateUser or CreateRole.
func createEntityError(e iamEntity, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Create Upload "+e.kind,
		fmt.Sprintf("IAM Create%s for %q failed: %s\n\nIf the %s already exists, import it with "+
			"`terraform import` or pick another name; otherwise check that the caller may call %s.",
			e.kind, e.name, err, lower(e.kind), e.iamAction("Create")))
}

// createEntityAnswerError: CreateUser or CreateRole succeeded but its answer lacks the user or role.
func createEntityAnswerError(e iamEntity, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Create Upload "+e.kind,
		fmt.Sprintf("IAM Create%s for %q answered without the %s: %s\n\nThe %s may exist now; import it with "+
			"`terraform import` or delete it, then apply again.", e.kind, e.name, lower(e.kind), err, lower(e.kind)))
}

// putPolicyAfterCreateError: the user or role was created but its inline policy could not be put (it is saved
// tainted).
func putPolicyAfterCreateError(e iamEntity, policyName string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Put Upload Policy",
		fmt.Sprintf("The %s was created, but putting its inline policy %q failed: %s\n\nThe %s is saved as "+
			"tainted and the next apply replaces it. Check that the caller may call %s.",
			e, policyName, err, lower(e.kind), e.iamAction("Put")+"Policy"))
}

// putPolicyError is a failed update of the inline policy of the user or role.
func putPolicyError(e iamEntity, policyName string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Put Upload Policy",
		fmt.Sprintf("Putting the inline policy %q on %s failed: %s\n\nCheck that the caller may call %s.",
			policyName, e, err, e.iamAction("Put")+"Policy"))
}

// deletePolicyError is a failed delete of the inline policy of the user or role during destroy.
func deletePolicyError(e iamEntity, policyName string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Delete Upload Policy",
		fmt.Sprintf("Deleting the inline policy %q of %s failed: %s\n\nCheck that the caller may call %s, then retry the destroy.",
			policyName, e, err, e.iamAction("Delete")+"Policy"))
}

// deleteEntityError is a failed DeleteUser or DeleteRole.
func deleteEntityError(e iamEntity, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Delete Upload "+e.kind,
		fmt.Sprintf("IAM Delete%s for %q failed: %s\n\nCheck that the caller may call %s, then retry the destroy.",
			e.kind, e.name, err, e.iamAction("Delete")))
}

// updateUserPathError is a failed UpdateUser that moves the user to a new path.
func updateUserPathError(name, newPath string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Update Upload User",
		fmt.Sprintf("IAM UpdateUser (new path %q) for %q failed: %s\n\nCheck that the caller may call iam:UpdateUser, then apply again.", newPath, name, err))
}

// deleteOldUserPolicyError: the policy was put under its new name but the old one could not be deleted.
func deleteOldUserPolicyError(name, newPolicy, oldPolicy string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Delete Old Upload Policy",
		fmt.Sprintf("The policy was put under its new name %q, but deleting the old inline policy %q of user %q failed: %s\n\n"+
			"Delete it by hand (aws iam delete-user-policy) or apply again.", newPolicy, oldPolicy, name, err))
}

// forceDestroyUserError: removing what the user owns (force_destroy) failed.
func forceDestroyUserError(name string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Delete Upload User",
		fmt.Sprintf("Removing what user %q owns before deleting it (force_destroy) failed: %s\n\nCheck that the caller may list and delete the user's keys, policies, group memberships, login profile, MFA devices, certificates and SSH keys, then retry the destroy.", name, err))
}

// listUserKeysError is a failed ListAccessKeys before deleting the user.
func listUserKeysError(name string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Delete Upload User",
		fmt.Sprintf("Listing the access keys of user %q failed: %s\n\nCheck that the caller may call iam:ListAccessKeys, then retry the destroy.", name, err))
}

// userHasAccessKeysError: destroy without force_destroy found access keys this resource does not manage.
func userHasAccessKeysError(name string, keys []string) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Upload User Still Has Access Keys",
		fmt.Sprintf("User %q still has access keys not managed by this resource (%s), and IAM cannot delete a user "+
			"with access keys.\n\nDelete the keys (or their staticmedia_upload_access_key resources), or set "+
			"force_destroy = true on this user and apply before destroying. If the user is being replaced and the "+
			"keys belong to staticmedia_upload_access_key resources, set their user to this user's id "+
			"(staticmedia_upload_user.NAME.id) rather than its name, so that they are replaced with it.",
			name, strings.Join(keys, ", ")))
}

// readTrustPolicyError: the role's trust policy is not a policy document.
func readTrustPolicyError(name string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Read Upload Role", fmt.Sprintf("The trust policy of role %q: %s", name, err))
}

// updateTrustPolicyError is a failed UpdateAssumeRolePolicy.
func updateTrustPolicyError(name string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Update Trust Policy",
		fmt.Sprintf("IAM UpdateAssumeRolePolicy for role %q failed: %s\n\nCheck that the caller may call iam:UpdateAssumeRolePolicy, then apply again.", name, err))
}

// updateRoleSessionError is a failed UpdateRole of max_session_duration.
func updateRoleSessionError(name string, seconds int64, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Update Upload Role",
		fmt.Sprintf("IAM UpdateRole (max_session_duration %d) for %q failed: %s\n\nCheck that the caller may call iam:UpdateRole, then apply again.",
			seconds, name, err))
}

// notUploadOnlyPolicyWarning: an imported user's or role's inline policy (owner, as in `user "name"`) does not
// have the upload-only shape.
func notUploadOnlyPolicyWarning(policyName, owner string, err error) diag.Diagnostic {
	return diag.NewWarningDiagnostic("Inline Policy Is Not an Upload-Only Policy",
		fmt.Sprintf("The inline policy %q of %s does not have the upload-only shape (%s), so bucket and key_prefix "+
			"could not be recovered from it. The next plan replaces the policy with the one your configuration describes.",
			policyName, owner, err))
}

// notCITrustPolicyWarning: an imported role's trust policy does not have the shape this resource writes.
func notCITrustPolicyWarning(name string, err error) diag.Diagnostic {
	return diag.NewWarningDiagnostic("Trust Policy Is Not a CI Trust Policy",
		fmt.Sprintf("The trust policy of role %q does not have the shape staticmedia_upload_role writes (%s), so "+
			"oidc_provider_arn, audience and subjects could not be recovered from it. The next plan replaces the trust "+
			"policy with the one your configuration describes.", name, err))
}

// createAccessKeyError is a failed CreateAccessKey; IAM's LimitExceeded gets its own fix.
func createAccessKeyError(user string, err error) diag.Diagnostic {
	detail := fmt.Sprintf("IAM CreateAccessKey for user %q failed: %s\n\n", user, err)
	if isAPIError(err, errCodeLimitExceeded) {
		detail += "IAM allows two access keys per user. Delete an unused key, or rotate with create_before_destroy " +
			"only while the user has at most one other key."
	} else {
		detail += "Check that the user exists and that the caller may call iam:CreateAccessKey."
	}
	return diag.NewErrorDiagnostic("Unable to Create Access Key", detail)
}

// savedKeyTainted ends the detail of a failure after the access key was created (and saved, so tainted).
const savedKeyTainted = "\n\nThe key is saved as tainted; the next apply replaces it."

// accessKeyNotUsableError: the new key did not authenticate within timeouts.create.
func accessKeyNotUsableError(id, user string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Access Key Did Not Become Usable",
		fmt.Sprintf("Access key %s of user %q was created but did not authenticate: %s\n\nIncrease timeouts.create, "+
			"or set wait_for_propagation = false if nothing uses the key right after apply.", id, user, err)+savedKeyTainted)
}

// setNewAccessKeyStatusError: the key was created but its status could not be set.
func setNewAccessKeyStatusError(id, user, status string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Set Access Key Status",
		fmt.Sprintf("Access key %s of user %q was created, but setting its status to %s failed: %s\n\nCheck that the caller may call iam:UpdateAccessKey.", id, user, status, err)+savedKeyTainted)
}

// readAccessKeyError is a failed ListAccessKeys during Read.
func readAccessKeyError(user string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Read Access Key",
		fmt.Sprintf("IAM ListAccessKeys for user %q failed: %s\n\nCheck that the caller may call iam:ListAccessKeys.", user, err))
}

// updateAccessKeyError is a failed UpdateAccessKey of the status.
func updateAccessKeyError(id, user, status string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Update Access Key",
		fmt.Sprintf("Setting access key %s of user %q to %s failed: %s\n\nCheck that the caller may call iam:UpdateAccessKey.", id, user, status, err))
}

// deleteAccessKeyError is a failed DeleteAccessKey.
func deleteAccessKeyError(id, user string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Delete Access Key",
		fmt.Sprintf("IAM DeleteAccessKey %s of user %q failed: %s\n\nCheck that the caller may call iam:DeleteAccessKey.", id, user, err))
}

// accessKeyImportIDError: the import ID is neither USER/ACCESS_KEY_ID nor ACCESS_KEY_ID.
func accessKeyImportIDError(importID string) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Invalid Import ID",
		fmt.Sprintf("%q is not an access key import ID. Use USER/ACCESS_KEY_ID or ACCESS_KEY_ID, for example uploader/AKIAIOSFODNN7EXAMPLE.", importID))
}

// accessKeyOwnerError: the user of an access key imported by its bare ID could not be found.
func accessKeyOwnerError(id string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Import Access Key",
		fmt.Sprintf("Finding the user of access key %s failed: %s\n\nImport it as USER/%s instead.", id, err, id))
}

// deleteBucketPolicyError is a failed DeleteBucketPolicy during the Referer policy's destroy.
func deleteBucketPolicyError(bucket string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Delete Bucket Policy",
		fmt.Sprintf("DeleteBucketPolicy on bucket %q failed: %s\n\nCheck that the credentials may call s3:DeleteBucketPolicy on it, then retry.", bucket, err))
}

// restoreBlockPublicAccessNotSupportedError: the policy was deleted, the endpoint lacks Block Public Access and
// skip_unsupported_bucket_apis is off.
func restoreBlockPublicAccessNotSupportedError(bucket string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Block Public Access Not Supported",
		fmt.Sprintf("The bucket policy of %q was deleted, but turning its Block Public Access back on failed. %s", bucket, noBlockPublicAccessError(bucket, err)))
}

// restoreBlockPublicAccessSkippedWarning: the policy was deleted, the endpoint lacks Block Public Access and
// skip_unsupported_bucket_apis allows that.
func restoreBlockPublicAccessSkippedWarning(bucket string, err error) diag.Diagnostic {
	return diag.NewWarningDiagnostic("Block Public Access Not Supported",
		fmt.Sprintf("The bucket policy of %q was deleted, but the S3 endpoint does not implement Block Public Access (%s), so it could not be turned back on. "+
			"This is expected on S3-compatible engines such as MinIO.", bucket, err))
}

// restoreBlockPublicAccessError: the policy was deleted but the four Block Public Access settings could not be
// turned back on.
func restoreBlockPublicAccessError(bucket string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Restore Block Public Access",
		fmt.Sprintf("The bucket policy of %q was deleted, but turning its four Block Public Access settings back on failed: %s\n\n"+
			"Turn them on in the S3 console (Permissions, Block public access) or with `aws s3api put-public-access-block`, or retry the destroy.", bucket, err))
}

// refererPolicyImportIDError: the Referer policy's import ID is not a bucket name.
func refererPolicyImportIDError(err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Invalid Import ID", fmt.Sprintf("Import a referer policy by its bucket name: %s", err))
}

// anonymousStillBlockedWarning: the policy was applied but the account level still blocks anonymous requests;
// explanation says which setting and how to change it.
func anonymousStillBlockedWarning(explanation string) diag.Diagnostic {
	return diag.NewWarningDiagnostic("Anonymous Requests Are Still Blocked", explanation)
}

// invalidRefererPolicyError: the Referer policy document of the bucket cannot be built.
func invalidRefererPolicyError(bucket string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Invalid Referer Policy", fmt.Sprintf("The policy for bucket %q cannot be built: %s", bucket, err))
}

// refererPatternsError: the Referer patterns of the bucket cannot be listed.
func refererPatternsError(bucket string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Invalid Referer Policy", fmt.Sprintf("The Referer patterns for bucket %q cannot be listed: %s", bucket, err))
}

// importRefererPolicyError: the bucket's policy is not a document the Referer policy resource can read.
func importRefererPolicyError(bucket string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Import Referer Policy",
		fmt.Sprintf("The policy of bucket %q is not a policy document this resource can read: %s", bucket, err))
}

// importRefererPatternsError: the imported referers and domains do not make a pattern list.
func importRefererPatternsError(err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Import Referer Policy", err.Error())
}

// readBucketCORSError is a failed GetBucketCors during Read.
func readBucketCORSError(bucket string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Read Bucket CORS",
		fmt.Sprintf("GetBucketCors on bucket %q failed: %s\n\nCheck that the credentials may call s3:GetBucketCORS on it, then retry.", bucket, err))
}

// deleteBucketCORSError is a failed DeleteBucketCors.
func deleteBucketCORSError(bucket string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Delete Bucket CORS",
		fmt.Sprintf("DeleteBucketCors on bucket %q failed: %s\n\nCheck that the credentials may call s3:PutBucketCORS on it, then retry.", bucket, err))
}

// bucketCORSImportIDError: the CORS resource's import ID is not a bucket name.
func bucketCORSImportIDError(err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Invalid Import ID", fmt.Sprintf("Import staticmedia_bucket_cors by its bucket name: %s", err))
}

// bucketCORSNotImplementedError: the endpoint has no bucket CORS (op is Create or Update).
func bucketCORSNotImplementedError(op, bucket string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic(fmt.Sprintf("Unable to %s Bucket CORS", op),
		fmt.Sprintf("The S3 endpoint does not implement bucket CORS (PutBucketCors on %q: %s). MinIO is such an engine: "+
			"its CORS is the server-wide setting MINIO_API_CORS_ALLOW_ORIGIN; set it to the site's origins there and remove "+
			"this resource from the configuration.", bucket, err))
}

// putBucketCORSError is a failed PutBucketCors (op is Create or Update).
func putBucketCORSError(op, bucket string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic(fmt.Sprintf("Unable to %s Bucket CORS", op),
		fmt.Sprintf("PutBucketCors on bucket %q failed: %s\n\nCheck that the bucket exists and that the credentials may "+
			"call s3:PutBucketCORS on it, then apply again.", bucket, err))
}

// unreadablePrivateStateWarning: the record of settings the endpoint lacks could not be read; it is reset.
func unreadablePrivateStateWarning(err error) diag.Diagnostic {
	return diag.NewWarningDiagnostic("Unreadable Private State", "The record of settings this endpoint lacks could not be read and is reset: "+err.Error())
}

// recordUnsupportedError: the record of settings the endpoint lacks could not be encoded (a bug).
func recordUnsupportedError(err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Record Unsupported Settings",
		"Recording the settings this endpoint lacks failed: "+err.Error()+". This is a bug in the provider; please report it.")
}

// unexpectedProviderDataError: Configure was handed something other than *providerData (a bug).
func unexpectedProviderDataError(data any) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unexpected Provider Data",
		fmt.Sprintf("Expected *providerData, got %T. This is a bug in the provider; please report it.", data))
}

// loadAWSConfigError: the AWS configuration could not be loaded.
func loadAWSConfigError(err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unable to Configure AWS", "The AWS configuration could not be loaded: "+err.Error()+
		"\n\nSet region (or AWS_REGION) and credentials, then retry.")
}

// invalidCredentialsError is a failed STS GetCallerIdentity.
func invalidCredentialsError(err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Invalid AWS Credentials",
		"STS GetCallerIdentity failed: "+err.Error()+
			"\n\nCheck the access key, profile or environment credentials. For S3-only engines without STS (MinIO), set skip_credentials_validation = true.")
}

// bucketAlreadyExistsError: the bucket name is taken (by us or by another account); it points at bucket, and the
// error says which and what to do.
func bucketAlreadyExistsError(err *bucketExistsError) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(path.Root("bucket"), "Bucket Already Exists", err.Error())
}

// userAlreadyExistsError: CreateUser found the name taken; it points at name, the attribute to change.
func userAlreadyExistsError(name string, err error) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(path.Root("name"), "Upload User Already Exists",
		fmt.Sprintf("IAM CreateUser for %q failed: %s\n\nIf the user exists outside Terraform, import it with "+
			"`terraform import` or pick another name. If this is a replacement, an access key with "+
			"lifecycle { create_before_destroy = true } makes Terraform create the new user before deleting the old one, "+
			"which one name cannot allow: set name_prefix instead of name (each user then gets a unique name), or remove "+
			"create_before_destroy from the key for the replacement.", name, err))
}
