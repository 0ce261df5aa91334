package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
)

func (r *uploadUserResource) partition() string { return partitionOf(r.pd) }

// desired returns the policy document and tags_all that apply must produce. The planned policy_json
// is used when known: ModifyPlan may have kept an equivalent older string that is already in AWS.
func (r *uploadUserResource) desired(ctx context.Context, data *uploadUserResourceModel) (string, map[string]string, diag.Diagnostics) {
	tagsAll, diags := desiredTagsAll(ctx, defaultTagsOf(r.pd), data.Tags)
	if !data.PolicyJSON.IsUnknown() && !data.PolicyJSON.IsNull() && data.PolicyJSON.ValueString() != "" {
		return data.PolicyJSON.ValueString(), tagsAll, diags
	}
	in, _, d := uploadPolicyInput(ctx, data.Bucket, data.KeyPrefix, data.ExtraActions, r.partition())
	diags.Append(d...)
	if diags.HasError() {
		return "", tagsAll, diags
	}
	doc, err := buildUploadPolicy(in)
	if err != nil {
		diags.AddAttributeError(path.Root("bucket"), "Invalid Upload Policy", err.Error())
	}
	return doc, tagsAll, diags
}
