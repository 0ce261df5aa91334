package provider

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/staticmedia/staticmedia/internal/awsconfig"
)

const (
	// keyPropagationSuccesses is how many GetCallerIdentity calls in a row must succeed with a new key
	// before it counts as usable: IAM is eventually consistent, and one success may come from a
	// replica that already knows the key while the next request lands on one that does not.
	keyPropagationSuccesses = 3
	keyPropagationInterval  = time.Second
	keyStatusActive         = string(iamtypes.StatusTypeActive)
	keyStatusInactive       = string(iamtypes.StatusTypeInactive)
)

var _ resource.ResourceWithImportState = (*uploadAccessKeyResource)(nil)

// NewUploadAccessKeyResource returns the staticmedia_upload_access_key resource.
func NewUploadAccessKeyResource() resource.Resource {
	return &uploadAccessKeyResource{}
}

// uploadAccessKeyResource is an access key of the upload user.
type uploadAccessKeyResource struct {
	pd *providerData
}

type uploadAccessKeyResourceModel struct {
	ID                 types.String   `tfsdk:"id"`
	User               types.String   `tfsdk:"user"`
	Status             types.String   `tfsdk:"status"`
	RotationTriggers   types.Map      `tfsdk:"rotation_triggers"`
	WaitForPropagation types.Bool     `tfsdk:"wait_for_propagation"`
	Secret             types.String   `tfsdk:"secret"`
	CreateDate         types.String   `tfsdk:"create_date"`
	Timeouts           timeouts.Value `tfsdk:"timeouts"`
}

func (r *uploadAccessKeyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_upload_access_key"
}

func (r *uploadAccessKeyResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "An access key for an upload user. The secret is stored in Terraform state (mark outputs that " +
			"carry it `sensitive`) and can only be read when the key is created: an imported key has no `secret`.\n\n" +
			"To rotate without downtime, change a value in `rotation_triggers` with `lifecycle { create_before_destroy = true }`: " +
			"the new key is created, and waited for, before the old one is deleted. IAM allows two keys per user.\n\n" +
			"Terraform carries `create_before_destroy` to everything the key depends on. The user then cannot be " +
			"replaced under the same name (IAM names are unique), and if the user's `bucket` references a " +
			"`staticmedia_bucket`, neither can the bucket: give the user the bucket's name as a value or variable " +
			"instead, as `examples/quickstart` does.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The access key ID (`AKIA...`).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"user": schema.StringAttribute{
				MarkdownDescription: "Name of the IAM user the key belongs to: `staticmedia_upload_user.<name>.id`, which is " +
					"unknown while the user is being replaced, so the key is replaced with it in the same apply (with `.name` " +
					"the user's deletion would fail, as IAM cannot delete a user that has keys). Changing it replaces the key.",
				Required:      true,
				Validators:    []validator.String{stringvalidator.LengthBetween(1, 64), stringvalidator.RegexMatches(iamNamePattern, "must be an IAM user name")},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"status": schema.StringAttribute{
				MarkdownDescription: "`Active` or `Inactive`. Defaults to `Active`. Deactivating a key before deleting it is a " +
					"safe way to find out whether anything still uses it.",
				Optional:   true,
				Computed:   true,
				Default:    stringdefault.StaticString(keyStatusActive),
				Validators: []validator.String{stringvalidator.OneOf(keyStatusActive, keyStatusInactive)},
			},
			"rotation_triggers": schema.MapAttribute{
				MarkdownDescription: "Arbitrary values; changing any of them replaces the key. Use a date or a counter to rotate, " +
					"together with `lifecycle { create_before_destroy = true }`.",
				ElementType:   types.StringType,
				Optional:      true,
				PlanModifiers: []planmodifier.Map{mapplanmodifier.RequiresReplace()},
			},
			"wait_for_propagation": schema.BoolAttribute{
				MarkdownDescription: fmt.Sprintf("After creating the key, wait until it authenticates (STS GetCallerIdentity "+
					"signed with it succeeds %d times in a row), bounded by the create timeout. IAM keys are eventually "+
					"consistent, and a tool that runs right after `apply` would otherwise fail. Defaults to `true`; skipped "+
					"when `status` is `Inactive`.", keyPropagationSuccesses),
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(true),
			},
			"secret": schema.StringAttribute{
				MarkdownDescription: "The secret access key. Only known for keys created by Terraform; null after import.",
				Computed:            true,
				Sensitive:           true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"create_date": schema.StringAttribute{
				MarkdownDescription: "When the key was created, RFC 3339.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}),
		},
	}
}

func (r *uploadAccessKeyResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.pd = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *uploadAccessKeyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var data uploadAccessKeyResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &data)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withTimeout(ctx, data.Timeouts.Create, 5*time.Minute, &resp.Diagnostics)
	defer cancel()
	if resp.Diagnostics.HasError() {
		return
	}

	user := data.User.ValueString()
	key, err := createAccessKey(ctx, r.pd.iam, user)
	if err != nil {
		resp.Diagnostics.Append(createAccessKeyError(user, err))
		return
	}
	id := aws.ToString(key.AccessKeyId)
	data.ID = types.StringValue(id)
	data.Secret = types.StringValue(aws.ToString(key.SecretAccessKey))
	data.CreateDate = types.StringValue(formatKeyDate(key.CreateDate))
	tflog.Debug(ctx, "created access key", map[string]any{"user": user, "access_key_id": id})

	// From here on the key exists: every failure saves it first, so Terraform marks it tainted and the
	// next apply deletes it rather than leaving a working key nobody tracks.
	failSaved := func(d diag.Diagnostic) {
		resp.Diagnostics.Append(resp.State.Set(ctx, &data)...)
		resp.Diagnostics.Append(d)
	}
	status := data.Status.ValueString()
	if data.WaitForPropagation.ValueBool() && status == keyStatusActive {
		if err := r.waitForKey(ctx, id, aws.ToString(key.SecretAccessKey)); err != nil {
			failSaved(accessKeyNotUsableError(id, user, err))
			return
		}
	}
	if status != keyStatusActive {
		if err := updateAccessKeyStatus(ctx, r.pd.iam, user, id, status); err != nil {
			failSaved(setNewAccessKeyStatusError(id, user, status, err))
			return
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &data)...)
}

func (r *uploadAccessKeyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var data uploadAccessKeyResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &data)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withTimeout(ctx, data.Timeouts.Read, 2*time.Minute, &resp.Diagnostics)
	defer cancel()
	if resp.Diagnostics.HasError() {
		return
	}

	user, id := data.User.ValueString(), data.ID.ValueString()
	meta, err := findAccessKey(ctx, r.pd.iam, user, id)
	if notFound(err) {
		tflog.Warn(ctx, "access key is gone, removing it from state", map[string]any{"user": user, "access_key_id": id})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.Append(readAccessKeyError(user, err))
		return
	}
	data.Status = types.StringValue(string(meta.Status))
	data.CreateDate = types.StringValue(formatKeyDate(meta.CreateDate))
	resp.Diagnostics.Append(resp.State.Set(ctx, &data)...)
}

// Update changes the status; the other in-place changes (wait_for_propagation, timeouts) only concern
// Terraform.
func (r *uploadAccessKeyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state uploadAccessKeyResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withTimeout(ctx, plan.Timeouts.Update, 2*time.Minute, &resp.Diagnostics)
	defer cancel()
	if resp.Diagnostics.HasError() {
		return
	}

	if !plan.Status.Equal(state.Status) {
		user, id, status := state.User.ValueString(), state.ID.ValueString(), plan.Status.ValueString()
		if err := updateAccessKeyStatus(ctx, r.pd.iam, user, id, status); err != nil {
			resp.Diagnostics.Append(updateAccessKeyError(id, user, status, err))
			return
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *uploadAccessKeyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var data uploadAccessKeyResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &data)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withTimeout(ctx, data.Timeouts.Delete, 2*time.Minute, &resp.Diagnostics)
	defer cancel()
	if resp.Diagnostics.HasError() {
		return
	}

	user, id := data.User.ValueString(), data.ID.ValueString()
	_, err := r.pd.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(id)})
	if err != nil && !isNotFound(err) {
		resp.Diagnostics.Append(deleteAccessKeyError(id, user, err))
	}
}

// ImportState accepts "USER/ACCESS_KEY_ID" or the bare key ID, whose user IAM GetAccessKeyLastUsed names.
// The secret cannot be imported: AWS returns it only from CreateAccessKey.
func (r *uploadAccessKeyResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	user, id, hasUser := strings.Cut(req.ID, "/")
	if !hasUser {
		user, id = "", req.ID
	}
	if id == "" || (hasUser && user == "") {
		resp.Diagnostics.Append(accessKeyImportIDError(req.ID))
		return
	}
	if !hasUser {
		owner, err := accessKeyOwner(ctx, r.pd.iam, id)
		if err != nil {
			resp.Diagnostics.Append(accessKeyOwnerError(id, err))
			return
		}
		user = owner
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), id)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("user"), user)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("wait_for_propagation"), true)...)
}

// waitForKey polls STS GetCallerIdentity signed with the new key until it succeeds
// keyPropagationSuccesses times in a row, or ctx (the create timeout) ends. The configuration is
// the provider's own (endpoints, region, profile) with only the credentials swapped.
func (r *uploadAccessKeyResource) waitForKey(ctx context.Context, id, secret string) error {
	opts := r.pd.opts
	opts.AccessKey, opts.SecretKey, opts.SessionToken = id, secret, ""
	opts.Region = r.pd.region
	cfg, err := awsconfig.Load(ctx, opts)
	if err != nil {
		return fmt.Errorf("configuring a client with the new key: %w", err)
	}
	client := opts.STS(cfg)
	successes, attempts := 0, 0
	delay := keyPropagationInterval
	var lastErr error
	for {
		attempts++
		_, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		wait := keyPropagationInterval
		switch {
		case err == nil:
			successes++
			if successes >= keyPropagationSuccesses {
				tflog.Debug(ctx, "new access key authenticates", map[string]any{"access_key_id": id, "attempts": attempts})
				return nil
			}
		case isKeyPropagationError(err):
			successes, lastErr = 0, err
			wait, delay = delay, min(delay*2, 5*time.Second)
		default:
			return fmt.Errorf("STS GetCallerIdentity with the new key: %w", err)
		}
		select {
		case <-ctx.Done():
			if lastErr == nil {
				lastErr = ctx.Err()
			}
			return fmt.Errorf("after %d attempts the key had not authenticated %d times in a row: %w", attempts, keyPropagationSuccesses, lastErr)
		case <-time.After(wait):
		}
	}
}

func formatKeyDate(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
