package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/staticmedia/staticmedia/internal/policy"
)

// validateUploadPolicyConfig checks bucket, key_prefix and extra_actions with the policy package and
// reports a problem on the attribute that causes it. The upload user and the upload role share it.
func validateUploadPolicyConfig(ctx context.Context, bucket, keyPrefix types.String, extraActions types.Set) diag.Diagnostics {
	in, known, diags := uploadPolicyInput(ctx, bucket, keyPrefix, extraActions, "")
	if !known || diags.HasError() {
		return diags
	}
	if err := policy.ValidateBucketName(in.Bucket); err != nil {
		diags.AddAttributeError(path.Root("bucket"), "Invalid Bucket Name", err.Error())
		return diags
	}
	if _, err := policy.UploadOnly(policy.UploadOnlyInput{Bucket: in.Bucket, KeyPrefix: in.KeyPrefix}); err != nil {
		diags.AddAttributeError(path.Root("key_prefix"), "Invalid Key Prefix", err.Error())
		return diags
	}
	if _, err := policy.UploadOnly(in); err != nil {
		diags.AddAttributeError(path.Root("extra_actions"), "Invalid Upload Policy", err.Error())
	}
	return diags
}

// keyPrefixAttribute is key_prefix, shared by the upload user and the upload role.
func keyPrefixAttribute() schema.StringAttribute {
	return schema.StringAttribute{
		MarkdownDescription: "Restrict uploads to keys starting with this prefix, used verbatim: `media/` keeps uploads " +
			"inside `media/`, while `media` also allows `media-old/...`. `\"\"` (the default, also when omitted) " +
			"allows the whole bucket, as in the `upload_policy` function.",
		Optional: true,
		Computed: true,
		Default:  stringdefault.StaticString(""),
	}
}

// extraActionsAttribute is extra_actions, shared by the upload user and the upload role.
func extraActionsAttribute() schema.SetAttribute {
	return schema.SetAttribute{
		MarkdownDescription: "Further S3 actions granted on the same resources, by explicit opt-in only, for example " +
			"`s3:PutObjectTagging` or `s3:AbortMultipartUpload`. Full names without wildcards.",
		ElementType: types.StringType,
		Optional:    true,
		Validators: []validator.Set{
			setvalidator.SizeAtLeast(1),
			setvalidator.ValueStringsAre(stringvalidator.RegexMatches(s3ActionPattern, "must be a full S3 action name such as s3:PutObjectTagging, without wildcards")),
		},
	}
}

// recoverUploadInputs fills bucket, key_prefix and extra_actions of an imported user or role (owner, as in
// `user "name"`) from its inline policy doc, or warns that they cannot be recovered.
func recoverUploadInputs(ctx context.Context, doc, policyName, owner string, bucket, keyPrefix *types.String, extraActions *types.Set) diag.Diagnostics {
	var diags diag.Diagnostics
	parsed, err := policy.ParseUploadOnly(doc)
	if err != nil {
		diags.Append(notUploadOnlyPolicyWarning(policyName, owner, err))
		return diags
	}
	*bucket = types.StringValue(parsed.Bucket)
	*keyPrefix = types.StringValue(parsed.KeyPrefix)
	*extraActions = types.SetNull(types.StringType)
	if len(parsed.ExtraActions) > 0 {
		*extraActions, diags = types.SetValueFrom(ctx, types.StringType, parsed.ExtraActions)
	}
	return diags
}

// uploadPolicyInput reads the policy inputs out of a model's bucket, key_prefix and extra_actions; known is
// false while any is unknown.
func uploadPolicyInput(ctx context.Context, bucket, keyPrefix types.String, extraActions types.Set, partition string) (policy.UploadOnlyInput, bool, diag.Diagnostics) {
	in := policy.UploadOnlyInput{Partition: partition, Bucket: bucket.ValueString(), KeyPrefix: keyPrefix.ValueString()}
	if bucket.IsUnknown() || bucket.IsNull() || keyPrefix.IsUnknown() || extraActions.IsUnknown() {
		return in, false, nil
	}
	for _, e := range extraActions.Elements() {
		if e.IsUnknown() {
			return in, false, nil
		}
	}
	var diags diag.Diagnostics
	if !extraActions.IsNull() {
		diags = extraActions.ElementsAs(ctx, &in.ExtraActions, false)
	}
	return in, !diags.HasError(), diags
}

func buildUploadPolicy(in policy.UploadOnlyInput) (string, error) {
	doc, err := policy.UploadOnly(in)
	if err != nil {
		return "", err
	}
	return doc.JSON()
}
