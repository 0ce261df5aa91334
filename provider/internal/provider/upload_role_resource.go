package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/staticmedia/staticmedia/internal/policy"
)

// Session length bounds IAM allows for a role, in seconds.
const (
	minRoleSessionSeconds = 3600
	maxRoleSessionSeconds = 43200
)

var (
	_ resource.ResourceWithImportState    = (*uploadRoleResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*uploadRoleResource)(nil)
	_ resource.ResourceWithValidateConfig = (*uploadRoleResource)(nil)
)

// NewUploadRoleResource returns the staticmedia_upload_role resource.
func NewUploadRoleResource() resource.Resource {
	return &uploadRoleResource{}
}

// uploadRoleResource is an IAM role with the upload-only inline policy that CI jobs assume with their
// OIDC token, so no long-lived key exists anywhere.
type uploadRoleResource struct {
	pd *providerData
}

type uploadRoleResourceModel struct {
	ID                 types.String   `tfsdk:"id"`
	Name               types.String   `tfsdk:"name"`
	NamePrefix         types.String   `tfsdk:"name_prefix"`
	Path               types.String   `tfsdk:"path"`
	Bucket             types.String   `tfsdk:"bucket"`
	KeyPrefix          types.String   `tfsdk:"key_prefix"`
	ExtraActions       types.Set      `tfsdk:"extra_actions"`
	OIDCProviderARN    types.String   `tfsdk:"oidc_provider_arn"`
	Audience           types.String   `tfsdk:"audience"`
	Subjects           types.Set      `tfsdk:"subjects"`
	MaxSessionDuration types.Int64    `tfsdk:"max_session_duration"`
	Tags               types.Map      `tfsdk:"tags"`
	TagsAll            types.Map      `tfsdk:"tags_all"`
	ARN                types.String   `tfsdk:"arn"`
	UniqueID           types.String   `tfsdk:"unique_id"`
	PolicyJSON         types.String   `tfsdk:"policy_json"`
	TrustPolicyJSON    types.String   `tfsdk:"trust_policy_json"`
	Timeouts           timeouts.Value `tfsdk:"timeouts"`
}

func (r *uploadRoleResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_upload_role"
}

func (r *uploadRoleResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	nameAttr, namePrefixAttr := iamNameAttributes("role")
	resp.Schema = schema.Schema{
		MarkdownDescription: "An IAM role that CI jobs assume with their OIDC token (`sts:AssumeRoleWithWebIdentity`), so the " +
			"uploader needs no access key at all. Its inline policy `" + defaultUploadPolicyName + "` is the one " +
			"`staticmedia_upload_user` carries, built by the same code: `s3:PutObject` on the bucket (optionally below " +
			"`key_prefix`) and `s3:ListAllMyBuckets`. Its trust policy lets only tokens of the given OIDC provider, with the " +
			"given audience and a subject matching one of `subjects`, assume it.\n\n" +
			"Subjects that would let other owners' repositories in are refused at plan: `*`, `repo:*`, `repo:*/...`, a GitHub " +
			"subject that does not start with `repo:OWNER/NAME:`, a GitLab one without `project_path:GROUP/`. The OIDC " +
			"provider must exist (create it with `aws_iam_openid_connect_provider`, see the keyless CI guide); creating the " +
			"role waits until IAM shows it, and warns when `audience` is not among its client IDs.\n\n" +
			"Both policies are compared semantically when read back: formatting changes made by AWS never show as a diff, " +
			"while a policy edited or deleted outside Terraform does and is restored by the next apply.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The role name.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name":        nameAttr,
			"name_prefix": namePrefixAttr,
			"path": schema.StringAttribute{
				MarkdownDescription: "IAM path of the role, starting and ending with `/`. Defaults to `/`. IAM cannot move a " +
					"role, so changing it replaces the role.",
				Optional: true,
				Computed: true,
				Default:  stringdefault.StaticString("/"),
				Validators: []validator.String{
					stringvalidator.LengthBetween(1, 512),
					stringvalidator.RegexMatches(iamPathPattern, "must start and end with / and contain only printable ASCII characters"),
				},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"bucket": schema.StringAttribute{
				MarkdownDescription: "The bucket the role may upload into. Changing it rewrites the inline policy in place.",
				Required:            true,
			},
			"key_prefix":    keyPrefixAttribute(),
			"extra_actions": extraActionsAttribute(),
			"oidc_provider_arn": schema.StringAttribute{
				MarkdownDescription: "ARN of the IAM OIDC identity provider of the CI's token issuer, for example " +
					"`arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com` (the `arn` of an " +
					"`aws_iam_openid_connect_provider`). The part after `oidc-provider/` prefixes the trust policy's condition " +
					"keys, and tells GitHub (`token.actions.githubusercontent.com`, or an issuer ending in `/_services/token`) " +
					"and GitLab (`gitlab.com`, or a host starting with `gitlab.`) issuers apart for the subject checks. It must be in " +
					"the partition of the provider's region (`arn:aws-cn:...` in a China region).",
				Required: true,
			},
			"audience": schema.StringAttribute{
				MarkdownDescription: "The `aud` claim tokens must carry (`StringEquals`). Defaults to `" + policy.DefaultCIAudience +
					"`, what AWS's credential actions request; it must be one of the OIDC provider's client IDs.",
				Optional:   true,
				Computed:   true,
				Default:    stringdefault.StaticString(policy.DefaultCIAudience),
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"subjects": schema.SetAttribute{
				MarkdownDescription: "The `sub` claims allowed to assume the role, as `StringLike` patterns (`*` and `?` are " +
					"wildcards). GitHub: `repo:OWNER/NAME:ref:refs/heads/BRANCH`, `repo:OWNER/NAME:environment:NAME`, " +
					"`repo:OWNER/NAME:*`. GitLab: `project_path:GROUP/PROJECT:ref_type:branch:ref:BRANCH`. Patterns that " +
					"admit other owners' repositories are refused at plan.",
				ElementType: types.StringType,
				Required:    true,
				Validators:  []validator.Set{setvalidator.SizeAtLeast(1), setvalidator.NoNullValues()},
			},
			"max_session_duration": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Longest session, in seconds, a CI job may ask for: %d to %d. Defaults to %d.",
					minRoleSessionSeconds, maxRoleSessionSeconds, minRoleSessionSeconds),
				Optional:   true,
				Computed:   true,
				Default:    int64default.StaticInt64(minRoleSessionSeconds),
				Validators: []validator.Int64{int64validator.Between(minRoleSessionSeconds, maxRoleSessionSeconds)},
			},
			"tags": schema.MapAttribute{
				MarkdownDescription: "Tags for the role. They override the provider's `default_tags` with the same key.",
				ElementType:         types.StringType,
				Optional:            true,
			},
			"tags_all": schema.MapAttribute{
				MarkdownDescription: "All tags on the role: the provider's `default_tags` merged with `tags`.",
				ElementType:         types.StringType,
				Computed:            true,
			},
			"arn": schema.StringAttribute{
				MarkdownDescription: "ARN of the role: what CI sets as `AWS_ROLE_ARN`, and the uploader output's `role_arn`.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"unique_id": schema.StringAttribute{
				MarkdownDescription: "The stable unique ID IAM assigns to the role (`AROA...`).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"policy_json": schema.StringAttribute{
				MarkdownDescription: "The inline upload-only policy document. Empty when the policy was deleted outside " +
					"Terraform; the next apply puts it back.",
				Computed: true,
			},
			"trust_policy_json": schema.StringAttribute{
				MarkdownDescription: "The trust policy document, as `provider::staticmedia::ci_trust_policy` renders it.",
				Computed:            true,
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}),
		},
	}
}

func (r *uploadRoleResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.pd = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig reports policy problems at plan time on the attribute that causes them. While
// oidc_provider_arn is unknown (an OIDC provider created in the same apply) subjects are checked without
// knowing the platform, which still refuses wildcards in front and repo:*/project_path:*; the platform's
// own rule is checked again by ModifyPlan once the ARN is known.
func (r *uploadRoleResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var data uploadRoleResourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &data)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(validateUploadPolicyConfig(ctx, data.Bucket, data.KeyPrefix, data.ExtraActions)...)
	resp.Diagnostics.Append(validateTrustConfig(&data)...)
}

// ModifyPlan computes tags_all, policy_json and trust_policy_json at plan time, which is what makes drift
// visible: Read stores what AWS holds and the plan shows the documents that apply will put back.
func (r *uploadRoleResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan uploadRoleResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var state *uploadRoleResourceModel
	if !req.State.Raw.IsNull() {
		state = &uploadRoleResourceModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
		if resp.Diagnostics.HasError() {
			return
		}
	}

	var statePrefix types.String
	if state != nil {
		statePrefix = state.NamePrefix
	}
	name, err := planIAMName(ctx, req.Config, plan.Name, statePrefix, plan.NamePrefix, state != nil)
	if err != nil {
		resp.Diagnostics.Append(planNameError(err))
		return
	}
	plan.Name = name
	if name.IsUnknown() {
		plan.ID, plan.ARN, plan.UniqueID = types.StringUnknown(), types.StringUnknown(), types.StringUnknown()
	}

	tagsAll, diags := planTagsAll(ctx, defaultTagsOf(r.pd), plan.Tags)
	resp.Diagnostics.Append(diags...)
	plan.TagsAll = tagsAll

	resp.Diagnostics.Append(r.checkPartition(plan.OIDCProviderARN)...)
	doc, trust, diags := r.documents(ctx, &plan)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.PolicyJSON, plan.TrustPolicyJSON = types.StringUnknown(), types.StringUnknown()
	if doc != "" {
		plan.PolicyJSON = types.StringValue(doc)
		if state != nil {
			plan.PolicyJSON = types.StringValue(policy.PreferEquivalent(doc, state.PolicyJSON.ValueString()))
		}
	}
	if trust != "" {
		plan.TrustPolicyJSON = types.StringValue(trust)
		if state != nil {
			plan.TrustPolicyJSON = types.StringValue(policy.PreferEquivalent(trust, state.TrustPolicyJSON.ValueString()))
		}
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

func (r *uploadRoleResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var data uploadRoleResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &data)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withTimeout(ctx, data.Timeouts.Create, 5*time.Minute, &resp.Diagnostics)
	defer cancel()
	if resp.Diagnostics.HasError() {
		return
	}

	name := iamNameToCreate(data.Name, data.NamePrefix)
	data.Name = types.StringValue(name)
	doc, trust, tagsAll, diags := r.desired(ctx, &data)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(r.checkOIDCProvider(ctx, data.OIDCProviderARN.ValueString(), data.Audience.ValueString())...)
	if resp.Diagnostics.HasError() {
		return
	}

	out, err := r.pd.iam.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String(name),
		Path:                     aws.String(data.Path.ValueString()),
		AssumeRolePolicyDocument: aws.String(trust),
		MaxSessionDuration:       aws.Int32(int32(data.MaxSessionDuration.ValueInt64())), //nolint:gosec // the schema bounds it to 3600..43200
		Tags:                     iamTags(tagsAll),
	})
	if err != nil {
		resp.Diagnostics.Append(createEntityError(iamEntity{"Role", name}, err))
		return
	}
	created, err := roleOf(out.Role)
	if err != nil {
		resp.Diagnostics.Append(createEntityAnswerError(iamEntity{"Role", name}, err))
		return
	}
	data.ID = types.StringValue(name)
	data.ARN = types.StringValue(aws.ToString(created.Arn))
	data.UniqueID = types.StringValue(aws.ToString(created.RoleId))
	data.TrustPolicyJSON = types.StringValue(trust)
	data.TagsAll = mapToTerraform(tagsAll)
	tflog.Debug(ctx, "created upload role", map[string]any{"role": name, "arn": data.ARN.ValueString()})

	if err := putRoleUploadPolicy(ctx, r.pd.iam, name, doc); err != nil {
		// Saving the role makes Terraform mark it tainted, so the next apply replaces it instead of leaving
		// an IAM role nobody tracks.
		data.PolicyJSON = types.StringValue("")
		resp.Diagnostics.Append(resp.State.Set(ctx, &data)...)
		resp.Diagnostics.Append(putPolicyAfterCreateError(iamEntity{"Role", name}, defaultUploadPolicyName, err))
		return
	}
	data.PolicyJSON = types.StringValue(doc)
	resp.Diagnostics.Append(resp.State.Set(ctx, &data)...)
}

func (r *uploadRoleResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var data uploadRoleResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &data)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withTimeout(ctx, data.Timeouts.Read, 2*time.Minute, &resp.Diagnostics)
	defer cancel()
	if resp.Diagnostics.HasError() {
		return
	}

	name := data.Name.ValueString()
	entity := iamEntity{"Role", name}
	role, err := findRole(ctx, r.pd.iam, name)
	if notFound(err) {
		tflog.Warn(ctx, "upload role is gone, removing it from state", map[string]any{"role": name})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.Append(readEntityError(entity, err))
		return
	}
	data.ID = types.StringValue(name)
	data.Path = types.StringValue(aws.ToString(role.Path))
	data.ARN = types.StringValue(aws.ToString(role.Arn))
	data.UniqueID = types.StringValue(aws.ToString(role.RoleId))
	data.MaxSessionDuration = types.Int64Value(int64(aws.ToInt32(role.MaxSessionDuration)))
	importing := data.Bucket.IsNull()

	remoteTrust, err := decodePolicyDocument(aws.ToString(role.AssumeRolePolicyDocument))
	if err != nil {
		resp.Diagnostics.Append(readTrustPolicyError(name, err))
		return
	}
	if importing {
		resp.Diagnostics.Append(recoverTrustInputs(ctx, &data, remoteTrust)...)
	}

	remoteTags, err := listRoleTags(ctx, r.pd.iam, name)
	if err != nil {
		resp.Diagnostics.Append(readTagsError(entity, err))
		return
	}
	var diags diag.Diagnostics
	data.Tags, data.TagsAll, diags = readTags(ctx, defaultTagsOf(r.pd), data.Tags, remoteTags)
	resp.Diagnostics.Append(diags...)

	remote, err := findRolePolicy(ctx, r.pd.iam, name, defaultUploadPolicyName)
	found := err == nil
	if err != nil && !notFound(err) {
		resp.Diagnostics.Append(readInlinePolicyError(entity, defaultUploadPolicyName, err))
		return
	}
	if found && importing {
		resp.Diagnostics.Append(recoverUploadInputs(ctx, remote, defaultUploadPolicyName, fmt.Sprintf("role %q", name),
			&data.Bucket, &data.KeyPrefix, &data.ExtraActions)...)
	}

	// Prefer the JSON already in state, then the documents the attributes describe, as long as AWS holds an
	// equivalent policy; AWS reformats documents, and a byte comparison would be a perpetual diff.
	doc, trust, _ := r.documents(ctx, &data)
	data.TrustPolicyJSON = types.StringValue(policy.PreferEquivalent(remoteTrust, data.TrustPolicyJSON.ValueString(), trust))
	if data.TrustPolicyJSON.ValueString() == remoteTrust {
		tflog.Info(ctx, "upload role's trust policy differs from the expected document", map[string]any{"role": name})
	}
	if !found {
		// An empty policy_json differs from the document ModifyPlan computes, so the plan shows the update that
		// puts the policy back.
		tflog.Warn(ctx, "upload role's policy is gone", map[string]any{"role": name, "policy": defaultUploadPolicyName})
		data.PolicyJSON = types.StringValue("")
	} else {
		data.PolicyJSON = types.StringValue(policy.PreferEquivalent(remote, data.PolicyJSON.ValueString(), doc))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &data)...)
}

func (r *uploadRoleResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state uploadRoleResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withTimeout(ctx, plan.Timeouts.Update, 5*time.Minute, &resp.Diagnostics)
	defer cancel()
	if resp.Diagnostics.HasError() {
		return
	}

	name := plan.Name.ValueString()
	doc, trust, tagsAll, diags := r.desired(ctx, &plan)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}

	if trust != state.TrustPolicyJSON.ValueString() {
		if !plan.OIDCProviderARN.Equal(state.OIDCProviderARN) || !plan.Audience.Equal(state.Audience) {
			resp.Diagnostics.Append(r.checkOIDCProvider(ctx, plan.OIDCProviderARN.ValueString(), plan.Audience.ValueString())...)
			if resp.Diagnostics.HasError() {
				return
			}
		}
		_, err := r.pd.iam.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(name), PolicyDocument: aws.String(trust)})
		if err != nil {
			resp.Diagnostics.Append(updateTrustPolicyError(name, err))
			return
		}
	}
	if !plan.MaxSessionDuration.Equal(state.MaxSessionDuration) {
		_, err := r.pd.iam.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String(name), MaxSessionDuration: aws.Int32(int32(plan.MaxSessionDuration.ValueInt64()))}) //nolint:gosec // the schema bounds it to 3600..43200
		if err != nil {
			resp.Diagnostics.Append(updateRoleSessionError(name, plan.MaxSessionDuration.ValueInt64(), err))
			return
		}
	}
	if doc != state.PolicyJSON.ValueString() {
		if err := putRoleUploadPolicy(ctx, r.pd.iam, name, doc); err != nil {
			resp.Diagnostics.Append(putPolicyError(iamEntity{"Role", name}, defaultUploadPolicyName, err))
			return
		}
	}
	if plan.TagsAll.IsUnknown() || !plan.TagsAll.Equal(state.TagsAll) {
		entity := iamEntity{"Role", name}
		if err := updateIAMTags(ctx, r.pd.iam, entity, state.TagsAll, tagsAll); err != nil {
			resp.Diagnostics.Append(updateTagsError(entity, err))
			return
		}
	}

	role, err := findRole(ctx, r.pd.iam, name)
	if err != nil {
		resp.Diagnostics.Append(refreshAfterUpdateError(iamEntity{"Role", name}, err))
		return
	}
	plan.ID = types.StringValue(name)
	plan.ARN = types.StringValue(aws.ToString(role.Arn))
	plan.UniqueID = types.StringValue(aws.ToString(role.RoleId))
	plan.PolicyJSON = types.StringValue(doc)
	plan.TrustPolicyJSON = types.StringValue(trust)
	plan.TagsAll = mapToTerraform(tagsAll)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *uploadRoleResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var data uploadRoleResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &data)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withTimeout(ctx, data.Timeouts.Delete, 5*time.Minute, &resp.Diagnostics)
	defer cancel()
	if resp.Diagnostics.HasError() {
		return
	}

	name := data.Name.ValueString()
	_, err := r.pd.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(defaultUploadPolicyName)})
	if err != nil && !isNotFound(err) {
		resp.Diagnostics.Append(deletePolicyError(iamEntity{"Role", name}, defaultUploadPolicyName, err))
		return
	}
	_, err = r.pd.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(name)})
	switch {
	case err == nil, isNotFound(err):
	case isAPIError(err, errCodeDeleteConflict):
		resp.Diagnostics.Append(deleteConflictError(iamEntity{"Role", name}, err, "The role still has something this resource does not manage "+
			"(other inline or attached policies, or an instance profile). Remove it, then retry the destroy."))
	default:
		resp.Diagnostics.Append(deleteEntityError(iamEntity{"Role", name}, err))
	}
}

// ImportState takes the role name. bucket, key_prefix and extra_actions are recovered from the inline policy,
// oidc_provider_arn, audience and subjects from the trust policy, by Read.
func (r *uploadRoleResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name_prefix"), namePrefixFromName(req.ID))...)
}
