package provider

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/staticmedia/staticmedia/internal/policy"
)

// Name rules IAM documents for users and policies, paths, and the action names extra_actions accepts.
var (
	iamNamePattern  = regexp.MustCompile(`^[\w+=,.@-]+$`)
	iamPathPattern  = regexp.MustCompile(`^/([\x21-\x7E]*/)?$`)
	s3ActionPattern = regexp.MustCompile(`^s3:[A-Za-z][A-Za-z0-9]*$`)
)

const (
	defaultUploadPolicyName = "upload-only"
	// iamPropagationBound caps retries of IAM calls that fail only because a just-created user has not
	// propagated yet. AWS documents propagation in seconds; minutes means something else is wrong.
	iamPropagationBound = 2 * time.Minute
)

var (
	_ resource.ResourceWithImportState    = (*uploadUserResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*uploadUserResource)(nil)
	_ resource.ResourceWithValidateConfig = (*uploadUserResource)(nil)
)

// NewUploadUserResource returns the staticmedia_upload_user resource.
func NewUploadUserResource() resource.Resource {
	return &uploadUserResource{}
}

// uploadUserResource is an IAM user whose only permission is the upload-only inline policy.
type uploadUserResource struct {
	pd *providerData
}

type uploadUserResourceModel struct {
	ID           types.String   `tfsdk:"id"`
	Name         types.String   `tfsdk:"name"`
	NamePrefix   types.String   `tfsdk:"name_prefix"`
	Path         types.String   `tfsdk:"path"`
	Bucket       types.String   `tfsdk:"bucket"`
	KeyPrefix    types.String   `tfsdk:"key_prefix"`
	ExtraActions types.Set      `tfsdk:"extra_actions"`
	PolicyName   types.String   `tfsdk:"policy_name"`
	Tags         types.Map      `tfsdk:"tags"`
	TagsAll      types.Map      `tfsdk:"tags_all"`
	ForceDestroy types.Bool     `tfsdk:"force_destroy"`
	ARN          types.String   `tfsdk:"arn"`
	UniqueID     types.String   `tfsdk:"unique_id"`
	PolicyJSON   types.String   `tfsdk:"policy_json"`
	Timeouts     timeouts.Value `tfsdk:"timeouts"`
}

func (r *uploadUserResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_upload_user"
}

func (r *uploadUserResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	iamName := stringvalidator.RegexMatches(iamNamePattern, "may contain only letters, digits and + = , . @ _ -")
	nameAttr, namePrefixAttr := iamNameAttributes("user")
	resp.Schema = schema.Schema{
		MarkdownDescription: "An IAM user that exists only to upload files into one bucket. Its single inline policy allows " +
			"`s3:PutObject` on the bucket (optionally below `key_prefix`) and `s3:ListAllMyBuckets`, which upload tools " +
			"call before writing; it cannot read, list or delete objects. Create its key with `staticmedia_upload_access_key`.\n\n" +
			"The inline policy is compared semantically when read back, so formatting changes made by AWS never show as a diff, " +
			"while a policy edited or deleted outside Terraform does and is restored by the next apply.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The user name, known once the user exists. Reference `id`, not `name`, from its access " +
					"keys (`user = staticmedia_upload_user.NAME.id`): when the user is replaced, `id` is unknown until the new " +
					"user exists, so Terraform replaces the keys with it in the same apply (IAM cannot delete a user that " +
					"still has keys).",
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name":        nameAttr,
			"name_prefix": namePrefixAttr,
			"path": schema.StringAttribute{
				MarkdownDescription: "IAM path of the user, starting and ending with `/`. Defaults to `/`.",
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString("/"),
				Validators: []validator.String{
					stringvalidator.LengthBetween(1, 512),
					stringvalidator.RegexMatches(iamPathPattern, "must start and end with / and contain only printable ASCII characters"),
				},
			},
			"bucket": schema.StringAttribute{
				MarkdownDescription: "The bucket the user may upload into. Changing it rewrites the inline policy in place.",
				Required:            true,
			},
			"key_prefix":    keyPrefixAttribute(),
			"extra_actions": extraActionsAttribute(),
			"policy_name": schema.StringAttribute{
				MarkdownDescription: "Name of the inline policy. Defaults to `upload-only`. Changing it puts the policy under the " +
					"new name, then deletes the old one.",
				Optional:   true,
				Computed:   true,
				Default:    stringdefault.StaticString(defaultUploadPolicyName),
				Validators: []validator.String{stringvalidator.LengthBetween(1, 128), iamName},
			},
			"tags": schema.MapAttribute{
				MarkdownDescription: "Tags for the user. They override the provider's `default_tags` with the same key.",
				ElementType:         types.StringType,
				Optional:            true,
				Validators:          []validator.Map{tagsValidator{}},
			},
			"tags_all": schema.MapAttribute{
				MarkdownDescription: "All tags on the user: the provider's `default_tags` merged with `tags`.",
				ElementType:         types.StringType,
				Computed:            true,
			},
			"force_destroy": schema.BoolAttribute{
				MarkdownDescription: "When destroying, first delete what IAM refuses to delete a user with and that this resource " +
					"does not manage: access keys, other inline policies, attached managed policies, group memberships, the " +
					"console password, MFA devices, signing certificates and SSH keys. Defaults to `false`, in which case a " +
					"user that still has access keys fails to destroy with an error.",
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
			},
			"arn": schema.StringAttribute{
				MarkdownDescription: "ARN of the user.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"unique_id": schema.StringAttribute{
				MarkdownDescription: "The stable unique ID IAM assigns to the user (`AIDA...`).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"policy_json": schema.StringAttribute{
				MarkdownDescription: "The inline policy document. Empty when the policy was deleted outside Terraform; the next " +
					"apply puts it back.",
				Computed: true,
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}),
		},
	}
}

func (r *uploadUserResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.pd = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig reports policy problems at plan time on the attribute that causes them, instead of a
// MalformedPolicyDocument at apply time.
func (r *uploadUserResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var data uploadUserResourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &data)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(validateUploadPolicyConfig(ctx, data.Bucket, data.KeyPrefix, data.ExtraActions)...)
}

// ModifyPlan computes tags_all and policy_json at plan time. Computing policy_json here is what makes
// drift visible: Read stores "" (or the policy AWS holds) and the plan shows the document that apply
// will put back.
func (r *uploadUserResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan uploadUserResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var state *uploadUserResourceModel
	if !req.State.Raw.IsNull() {
		state = &uploadUserResourceModel{}
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

	in, known, diags := uploadPolicyInput(ctx, plan.Bucket, plan.KeyPrefix, plan.ExtraActions, r.partition())
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.PolicyJSON = types.StringUnknown()
	if known {
		doc, err := buildUploadPolicy(in)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("bucket"), "Invalid Upload Policy", err.Error())
			return
		}
		plan.PolicyJSON = types.StringValue(doc)
		if state != nil {
			plan.PolicyJSON = types.StringValue(policy.PreferEquivalent(doc, state.PolicyJSON.ValueString()))
		}
	}

	// The ARN embeds the path, so a path change gives the user a new ARN.
	if state != nil && !plan.Path.Equal(state.Path) {
		plan.ARN = types.StringUnknown()
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

func (r *uploadUserResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var data uploadUserResourceModel
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
	doc, tagsAll, diags := r.desired(ctx, &data)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}

	out, err := r.pd.iam.CreateUser(ctx, &iam.CreateUserInput{
		UserName: aws.String(name),
		Path:     aws.String(data.Path.ValueString()),
		Tags:     iamTags(tagsAll),
	})
	if isAPIError(err, errCodeEntityAlreadyExists) {
		resp.Diagnostics.Append(userAlreadyExistsError(name, err))
		return
	}
	if err != nil {
		resp.Diagnostics.Append(createEntityError(iamEntity{"User", name}, err))
		return
	}
	created, err := userOf(out.User)
	if err != nil {
		resp.Diagnostics.Append(createEntityAnswerError(iamEntity{"User", name}, err))
		return
	}
	data.ID = types.StringValue(name)
	data.ARN = types.StringValue(aws.ToString(created.Arn))
	data.UniqueID = types.StringValue(aws.ToString(created.UserId))
	data.TagsAll = mapToTerraform(tagsAll)
	tflog.Debug(ctx, "created upload user", map[string]any{"user": name, "arn": data.ARN.ValueString()})

	if err := putUploadPolicy(ctx, r.pd.iam, name, data.PolicyName.ValueString(), doc); err != nil {
		// Saving the user makes Terraform mark it tainted, so the next apply replaces it instead of
		// leaving an IAM user nobody tracks.
		data.PolicyJSON = types.StringValue("")
		resp.Diagnostics.Append(resp.State.Set(ctx, &data)...)
		resp.Diagnostics.Append(putPolicyAfterCreateError(iamEntity{"User", name}, data.PolicyName.ValueString(), err))
		return
	}
	data.PolicyJSON = types.StringValue(doc)
	resp.Diagnostics.Append(resp.State.Set(ctx, &data)...)
}

func (r *uploadUserResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var data uploadUserResourceModel
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
	entity := iamEntity{"User", name}
	user, err := findUser(ctx, r.pd.iam, name)
	if notFound(err) {
		tflog.Warn(ctx, "upload user is gone, removing it from state", map[string]any{"user": name})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.Append(readEntityError(entity, err))
		return
	}
	data.ID = types.StringValue(name)
	data.Path = types.StringValue(aws.ToString(user.Path))
	data.ARN = types.StringValue(aws.ToString(user.Arn))
	data.UniqueID = types.StringValue(aws.ToString(user.UserId))

	remoteTags, err := listUserTags(ctx, r.pd.iam, name)
	if err != nil {
		resp.Diagnostics.Append(readTagsError(entity, err))
		return
	}
	var diags diag.Diagnostics
	data.Tags, data.TagsAll, diags = readTags(ctx, defaultTagsOf(r.pd), data.Tags, remoteTags)
	resp.Diagnostics.Append(diags...)

	importing := data.Bucket.IsNull()
	// "" and null both meant the whole bucket before key_prefix defaulted to ""; a state written then is
	// brought to the one form here, so the plan does not show null becoming "".
	if data.KeyPrefix.IsNull() {
		data.KeyPrefix = types.StringValue("")
	}
	if data.PolicyName.IsNull() {
		data.PolicyName = types.StringValue(defaultUploadPolicyName)
	}
	remote, err := findUserPolicy(ctx, r.pd.iam, name, data.PolicyName.ValueString())
	if notFound(err) && importing {
		// An imported user may carry the policy under another name; take it when it is the only one.
		other, lerr := soleInlinePolicyName(ctx, r.pd.iam, name)
		if lerr != nil {
			err = lerr
		} else if other != "" {
			data.PolicyName = types.StringValue(other)
			remote, err = findUserPolicy(ctx, r.pd.iam, name, other)
		}
	}
	if err != nil && !notFound(err) {
		resp.Diagnostics.Append(readInlinePolicyError(entity, data.PolicyName.ValueString(), err))
		return
	}
	if notFound(err) {
		// An empty policy_json differs from the document ModifyPlan computes, so the plan shows the update
		// that puts the policy back.
		tflog.Warn(ctx, "upload policy is gone", map[string]any{"user": name, "policy": data.PolicyName.ValueString()})
		data.PolicyJSON = types.StringValue("")
		resp.Diagnostics.Append(resp.State.Set(ctx, &data)...)
		return
	}

	if importing {
		resp.Diagnostics.Append(recoverUploadInputs(ctx, remote, data.PolicyName.ValueString(), fmt.Sprintf("user %q", name),
			&data.Bucket, &data.KeyPrefix, &data.ExtraActions)...)
	}

	// Prefer the JSON already in state, then the document the attributes describe, as long as AWS holds
	// an equivalent policy; AWS reformats documents, and a byte comparison would be a perpetual diff.
	candidates := []string{data.PolicyJSON.ValueString()}
	if in, known, _ := uploadPolicyInput(ctx, data.Bucket, data.KeyPrefix, data.ExtraActions, r.partition()); known {
		if doc, err := buildUploadPolicy(in); err == nil {
			candidates = append(candidates, doc)
		}
	}
	stored := policy.PreferEquivalent(remote, candidates...)
	if stored == remote {
		tflog.Info(ctx, "upload policy differs from the expected document", map[string]any{"user": name})
	}
	data.PolicyJSON = types.StringValue(stored)
	resp.Diagnostics.Append(resp.State.Set(ctx, &data)...)
}

func (r *uploadUserResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state uploadUserResourceModel
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
	doc, tagsAll, diags := r.desired(ctx, &plan)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}

	if !plan.Path.Equal(state.Path) {
		_, err := r.pd.iam.UpdateUser(ctx, &iam.UpdateUserInput{UserName: aws.String(name), NewPath: aws.String(plan.Path.ValueString())})
		if err != nil {
			resp.Diagnostics.Append(updateUserPathError(name, plan.Path.ValueString(), err))
			return
		}
	}

	newName, oldName := plan.PolicyName.ValueString(), state.PolicyName.ValueString()
	if newName != oldName || doc != state.PolicyJSON.ValueString() {
		// The new policy goes on before the old one comes off, so uploads never lose their permission
		// halfway through a rename.
		if err := putUploadPolicy(ctx, r.pd.iam, name, newName, doc); err != nil {
			resp.Diagnostics.Append(putPolicyError(iamEntity{"User", name}, newName, err))
			return
		}
		if newName != oldName && oldName != "" {
			_, err := r.pd.iam.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String(oldName)})
			if err != nil && !isAPIError(err, errCodeNoSuchEntity) {
				resp.Diagnostics.Append(deleteOldUserPolicyError(name, newName, oldName, err))
				return
			}
		}
	}

	if plan.TagsAll.IsUnknown() || !plan.TagsAll.Equal(state.TagsAll) {
		entity := iamEntity{"User", name}
		if err := updateIAMTags(ctx, r.pd.iam, entity, state.TagsAll, tagsAll); err != nil {
			resp.Diagnostics.Append(updateTagsError(entity, err))
			return
		}
	}

	user, err := findUser(ctx, r.pd.iam, name)
	if err != nil {
		resp.Diagnostics.Append(refreshAfterUpdateError(iamEntity{"User", name}, err))
		return
	}
	plan.ID = types.StringValue(name)
	plan.ARN = types.StringValue(aws.ToString(user.Arn))
	plan.UniqueID = types.StringValue(aws.ToString(user.UserId))
	plan.PolicyJSON = types.StringValue(doc)
	plan.TagsAll = mapToTerraform(tagsAll)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *uploadUserResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var data uploadUserResourceModel
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
	if data.ForceDestroy.ValueBool() {
		if err := deleteUserDependencies(ctx, r.pd.iam, name); err != nil {
			resp.Diagnostics.Append(forceDestroyUserError(name, err))
			return
		}
	} else {
		// IAM refuses to delete a user that has access keys, but not every engine does (moto deletes it);
		// checking first gives the same clear answer everywhere and leaves the user untouched.
		keys, err := listAccessKeyIDs(ctx, r.pd.iam, name)
		if err != nil && !isNotFound(err) {
			resp.Diagnostics.Append(listUserKeysError(name, err))
			return
		}
		if len(keys) > 0 {
			resp.Diagnostics.Append(userHasAccessKeysError(name, keys))
			return
		}
	}

	_, err := r.pd.iam.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String(data.PolicyName.ValueString())})
	if err != nil && !isNotFound(err) {
		resp.Diagnostics.Append(deletePolicyError(iamEntity{"User", name}, data.PolicyName.ValueString(), err))
		return
	}
	_, err = r.pd.iam.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String(name)})
	switch {
	case err == nil, isNotFound(err):
	case isAPIError(err, errCodeDeleteConflict):
		resp.Diagnostics.Append(deleteConflictError(iamEntity{"User", name}, err, "The user still has something this resource does not manage "+
			"(access keys, other inline or attached policies, groups, a console password, MFA devices, certificates or "+
			"SSH keys). Remove it, or set force_destroy = true on this user and apply before destroying."))
	default:
		resp.Diagnostics.Append(deleteEntityError(iamEntity{"User", name}, err))
	}
}

// ImportState takes the user name. bucket, key_prefix and extra_actions are recovered from the inline
// policy by Read.
func (r *uploadUserResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name_prefix"), namePrefixFromName(req.ID))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("force_destroy"), false)...)
}
