package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/staticmedia/staticmedia/internal/policy"
)

// validateTrustConfig checks oidc_provider_arn, audience and subjects, each on its own attribute.
func validateTrustConfig(data *uploadRoleResourceModel) diag.Diagnostics {
	var diags diag.Diagnostics
	var provider policy.OIDCProvider
	if !data.OIDCProviderARN.IsUnknown() && !data.OIDCProviderARN.IsNull() {
		p, err := policy.ParseOIDCProviderARN(data.OIDCProviderARN.ValueString())
		if err != nil {
			diags.AddAttributeError(path.Root("oidc_provider_arn"), "Invalid OIDC Provider ARN", err.Error())
			return diags
		}
		provider = p
	}
	if !data.Audience.IsUnknown() && !data.Audience.IsNull() {
		if err := policy.ValidateCIAudience(data.Audience.ValueString()); err != nil {
			diags.AddAttributeError(path.Root("audience"), "Invalid CI Audience", err.Error())
		}
	}
	if data.Subjects.IsNull() || data.Subjects.IsUnknown() {
		return diags
	}
	// The subjects known at plan are checked even when another one is not known yet (taken from a resource
	// of the same apply): a subject that lets other owners in must fail the plan, not the apply. An empty
	// set is the SizeAtLeast validator's to report.
	subjects, _ := knownStrings(data.Subjects.Elements())
	if len(subjects) == 0 {
		return diags
	}
	if _, err := policy.ValidateCISubjects(provider, subjects); err != nil {
		diags.AddAttributeError(path.Root("subjects"), "Invalid CI Subject", err.Error())
	}
	return diags
}

func (r *uploadRoleResource) partition() string { return partitionOf(r.pd) }

// documents renders the upload policy and the trust policy the attributes describe; each is "" while an
// input it needs is unknown. Errors name the attribute that causes them.
func (r *uploadRoleResource) documents(ctx context.Context, data *uploadRoleResourceModel) (doc, trust string, diags diag.Diagnostics) {
	in, known, d := uploadPolicyInput(ctx, data.Bucket, data.KeyPrefix, data.ExtraActions, r.partition())
	diags.Append(d...)
	if known && !diags.HasError() {
		var err error
		if doc, err = buildUploadPolicy(in); err != nil {
			diags.AddAttributeError(path.Root("bucket"), "Invalid Upload Policy", err.Error())
		}
	}
	if hasUnknown(data.OIDCProviderARN, data.Audience, data.Subjects) || data.OIDCProviderARN.IsNull() || data.Subjects.IsNull() {
		return doc, "", diags
	}
	trustIn := policy.CITrustInput{OIDCProviderARN: data.OIDCProviderARN.ValueString(), Audience: data.Audience.ValueString()}
	diags.Append(data.Subjects.ElementsAs(ctx, &trustIn.Subjects, false)...)
	if diags.HasError() {
		return doc, "", diags
	}
	t, err := policy.CITrust(trustIn)
	if err == nil {
		trust, err = t.JSON()
	}
	if err != nil {
		diags.AddAttributeError(path.Root("subjects"), "Invalid CI Trust Policy", err.Error())
	}
	return doc, trust, diags
}

// desired returns the documents and tags_all that apply must produce. The planned JSON is used when known:
// ModifyPlan may have kept an equivalent older string that is already in AWS.
func (r *uploadRoleResource) desired(ctx context.Context, data *uploadRoleResourceModel) (doc, trust string, tagsAll map[string]string, diags diag.Diagnostics) {
	tagsAll, diags = desiredTagsAll(ctx, defaultTagsOf(r.pd), data.Tags)
	doc, trust, d := r.documents(ctx, data)
	diags.Append(d...)
	if v := data.PolicyJSON; !v.IsUnknown() && v.ValueString() != "" {
		doc = v.ValueString()
	}
	if v := data.TrustPolicyJSON; !v.IsUnknown() && v.ValueString() != "" {
		trust = v.ValueString()
	}
	return doc, trust, tagsAll, diags
}

// checkPartition refuses an OIDC provider of another partition than the provider's region: IAM refuses a trust
// policy naming it, but only after Create has waited for the OIDC provider to propagate.
func (r *uploadRoleResource) checkPartition(arn types.String) diag.Diagnostics {
	var diags diag.Diagnostics
	if arn.IsUnknown() || arn.IsNull() || r.partition() == "" {
		return diags
	}
	p, err := policy.ParseOIDCProviderARN(arn.ValueString())
	if err == nil && p.Partition != r.partition() {
		diags.AddAttributeError(path.Root("oidc_provider_arn"), "OIDC Provider in Another Partition",
			fmt.Sprintf("The OIDC provider %q is in partition %q, but the provider's region is in partition %q, where the "+
				"role is created; a role can only trust an OIDC provider of its own partition. Pass the ARN of the OIDC "+
				"provider in this partition (arn:%s:iam::ACCOUNT:oidc-provider/...), or set the provider's region.",
				arn.ValueString(), p.Partition, r.partition(), r.partition()))
	}
	return diags
}

// checkOIDCProvider waits until IAM shows the OIDC provider (one created a moment ago may not have propagated
// yet, and a trust policy naming it would be refused), and warns when the audience is not among its client
// IDs, because STS would then refuse every token.
func (r *uploadRoleResource) checkOIDCProvider(ctx context.Context, arn, audience string) diag.Diagnostics {
	var diags diag.Diagnostics
	var clientIDs []string
	err := retryIAMPropagation(ctx, func(ctx context.Context) error {
		out, err := r.pd.iam.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
		if err == nil {
			clientIDs = out.ClientIDList
		}
		return err
	})
	switch {
	case isNotFound(err):
		diags.AddAttributeError(path.Root("oidc_provider_arn"), "OIDC Provider Not Found",
			fmt.Sprintf("IAM has no OIDC provider %q (waited up to %s for it to propagate): %s\n\nCreate it first, for example "+
				"with aws_iam_openid_connect_provider (see the keyless CI guide), and pass its arn.", arn, iamPropagationBound, err))
	case err != nil:
		diags.AddAttributeError(path.Root("oidc_provider_arn"), "Unable to Read OIDC Provider",
			fmt.Sprintf("IAM GetOpenIDConnectProvider for %q failed: %s\n\nCheck that the caller may call iam:GetOpenIDConnectProvider.", arn, err))
	case !slices.Contains(clientIDs, audience):
		diags.AddAttributeWarning(path.Root("audience"), "Audience Is Not a Client ID of the OIDC Provider",
			fmt.Sprintf("The OIDC provider %q lists the client IDs [%s], not %q, so STS will refuse every token with that "+
				"audience. Add %q to the provider's client_id_list, or set audience to one of its client IDs.",
				arn, strings.Join(clientIDs, ", "), audience, audience))
	}
	return diags
}

// recoverTrustInputs fills oidc_provider_arn, audience and subjects of an imported role from its trust
// policy, or warns that they cannot be recovered.
func recoverTrustInputs(ctx context.Context, data *uploadRoleResourceModel, trust string) diag.Diagnostics {
	var diags diag.Diagnostics
	parsed, err := policy.ParseCITrust(trust)
	if err != nil {
		diags.Append(notCITrustPolicyWarning(data.Name.ValueString(), err))
		return diags
	}
	data.OIDCProviderARN = types.StringValue(parsed.OIDCProviderARN)
	data.Audience = types.StringValue(parsed.Audience)
	if parsed.Audience == "" {
		data.Audience = types.StringValue(policy.DefaultCIAudience)
	}
	data.Subjects, diags = types.SetValueFrom(ctx, types.StringType, parsed.Subjects)
	return diags
}
