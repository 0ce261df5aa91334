package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/staticmedia/staticmedia/internal/policy"
)

var (
	_ resource.ResourceWithConfigure      = (*refererPolicyResource)(nil)
	_ resource.ResourceWithImportState    = (*refererPolicyResource)(nil)
	_ resource.ResourceWithValidateConfig = (*refererPolicyResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*refererPolicyResource)(nil)
)

// Default timeouts. Create and update retry the eventual consistency that follows CreateBucket and a
// Block Public Access change; read makes one call.
const (
	refererPolicyCreateTimeout = 5 * time.Minute
	refererPolicyReadTimeout   = 2 * time.Minute
	refererPolicyUpdateTimeout = 5 * time.Minute
	refererPolicyDeleteTimeout = 5 * time.Minute

	// refererPolicySettleTime is how long errors that usually mean "not consistent yet" are retried:
	// NoSuchBucket right after CreateBucket, MalformedPolicy while a new bucket's ARN propagates, and
	// AccessDenied while the bucket's Block Public Access change takes effect. Past it they are real
	// (a wrong bucket name, a missing permission) and waiting for the whole timeout would only hide them.
	refererPolicySettleTime = 45 * time.Second
)

// NewRefererPolicyResource returns the staticmedia_referer_policy resource.
func NewRefererPolicyResource() resource.Resource {
	return &refererPolicyResource{}
}

type refererPolicyResource struct {
	pd *providerData
}

type refererPolicyResourceModel struct {
	ID                types.String   `tfsdk:"id"`
	Bucket            types.String   `tfsdk:"bucket"`
	AllowedReferers   types.Set      `tfsdk:"allowed_referers"`
	AllowedDomains    types.Set      `tfsdk:"allowed_domains"`
	AllowEmptyReferer types.Bool     `tfsdk:"allow_empty_referer"`
	RefererPatterns   types.List     `tfsdk:"referer_patterns"`
	PolicyJSON        types.String   `tfsdk:"policy_json"`
	BlockPublicPolicy types.Bool     `tfsdk:"block_public_policy"`
	RestrictPublic    types.Bool     `tfsdk:"restrict_public_buckets"`
	Timeouts          timeouts.Value `tfsdk:"timeouts"`
}

func (r *refererPolicyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_referer_policy"
}

func (r *refererPolicyResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Attaches a bucket policy that lets anyone `GET` objects when the HTTP `Referer` header matches " +
			"your site, and, by default, when there is no `Referer` at all (the policy from the blog post this project " +
			"started from). Listing the bucket stays denied.\n\n" +
			"~> **Referer checks are hotlink protection, not access control.** Any client can send any `Referer` " +
			"header, so this keeps other sites from embedding your images, not people from downloading them. Do not " +
			"put private objects in a bucket with this policy.\n\n" +
			"AWS counts a `Principal \"*\"` policy as public even with a condition, so before `PutBucketPolicy` this " +
			"resource turns the bucket's Block Public Access settings `BlockPublicPolicy` and `RestrictPublicBuckets` " +
			"off (the ACL blocks stay on), and on destroy it deletes the policy and turns all four settings back on. " +
			"It owns those two settings and the bucket policy: do not manage them elsewhere. It reads them back, so a " +
			"switch turned on outside Terraform (which makes every image answer 403) shows in the plan and the next apply " +
			"turns it off again. If the account-level Block Public Access still denies the policy, the error says which " +
			"setting to change.\n\n" +
			"S3-compatible engines without the Block Public Access API (MinIO) fail with an error that names the provider " +
			"setting `skip_unsupported_bucket_apis`; with it set, they get a warning and the policy is applied anyway.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The bucket name.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"bucket": schema.StringAttribute{
				MarkdownDescription: "Name of an existing bucket. Changing it moves the policy to the new bucket (replacement). " +
					"With `staticmedia_bucket`, use its `id` (`staticmedia_bucket.NAME.id`): it is unknown while the bucket is " +
					"being replaced, so the policy is put on the new bucket in the same apply.",
				Required:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:    []validator.String{bucketNameValidator{}},
			},
			"allowed_referers": schema.SetAttribute{
				MarkdownDescription: "`aws:Referer` `StringLike` patterns, for example `https://example.com/*` and " +
					"`https://*.example.com/*`. Each must start with `http://` or `https://` and have a path (a `Referer` " +
					"always has at least `/`). `*` matches any run of characters, `?` one character; the match is " +
					"case-sensitive and `http` and `https` are different patterns. A set: condition values have no order " +
					"to S3, so the policy lists them sorted and reordering them changes nothing.",
				ElementType: types.StringType,
				Optional:    true,
				Validators: []validator.Set{setvalidator.ValueStringsAre(
					stringCheck{summary: "Invalid Referer Pattern", description: "must be an http:// or https:// Referer pattern with a path", check: policy.ValidateReferer},
				)},
			},
			"allowed_domains": schema.SetAttribute{
				MarkdownDescription: "Shorthand for sites: each bare domain, such as `example.com`, allows " +
					"`http://example.com/*`, `https://example.com/*`, `http://*.example.com/*` and `https://*.example.com/*`. " +
					"Combined with `allowed_referers`. Import recovers a domain wherever the policy holds all four of its " +
					"patterns, and puts the other patterns in `allowed_referers`.",
				ElementType: types.StringType,
				Optional:    true,
				Validators: []validator.Set{setvalidator.ValueStringsAre(
					stringCheck{summary: "Invalid Domain", description: "must be a bare domain name such as example.com", check: func(d string) error {
						_, err := policy.ExpandDomains([]string{d})
						return err
					}},
				)},
			},
			"allow_empty_referer": schema.BoolAttribute{
				MarkdownDescription: "Also allow `GET` requests that carry no `Referer` (direct visits, apps, browsers " +
					"with strict referrer policies), through a second statement with a `Null` condition. Defaults to `true`.",
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(true),
			},
			"referer_patterns": schema.ListAttribute{
				MarkdownDescription: "Every `Referer` pattern the policy allows, in policy order: `allowed_referers` sorted, " +
					"then the patterns `allowed_domains` expands to (domains sorted), without duplicates (empty when only requests without a " +
					"`Referer` are allowed). Put it in the uploader's output as `allowed_referers`: `uploader verify` " +
					"derives its default `--referer` from the first. Known at plan time when the inputs are.",
				ElementType: types.StringType,
				Computed:    true,
			},
			"policy_json": schema.StringAttribute{
				MarkdownDescription: "The bucket policy document as applied. Known at plan time when the inputs are.",
				Computed:            true,
			},
			"block_public_policy": schema.BoolAttribute{
				MarkdownDescription: "Always `false`: the bucket's Block Public Access switch `BlockPublicPolicy`, which " +
					"would refuse this policy. Read back so that a change made outside Terraform shows in the plan and the " +
					"next apply restores it.",
				Computed: true,
				Default:  booldefault.StaticBool(false),
			},
			"restrict_public_buckets": schema.BoolAttribute{
				MarkdownDescription: "Always `false`: the bucket's Block Public Access switch `RestrictPublicBuckets`, which " +
					"would make S3 ignore this policy's public grants (every image answers 403). Read back so that a change " +
					"made outside Terraform shows in the plan and the next apply restores it.",
				Computed: true,
				Default:  booldefault.StaticBool(false),
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}),
		},
	}
}

func (r *refererPolicyResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.pd = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig checks what the attribute validators cannot: that the policy allows something.
func (r *refererPolicyResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var data refererPolicyResourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &data)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if data.AllowedReferers.IsUnknown() || data.AllowedDomains.IsUnknown() || data.AllowEmptyReferer.IsUnknown() {
		return // an element count is only known once the lists are
	}
	if len(data.AllowedReferers.Elements())+len(data.AllowedDomains.Elements()) > 0 {
		return
	}
	// A null allow_empty_referer means the default, true.
	if data.AllowEmptyReferer.IsNull() || data.AllowEmptyReferer.ValueBool() {
		resp.Diagnostics.AddAttributeWarning(path.Root("allowed_referers"), "Only Requests Without a Referer Are Allowed",
			"Neither allowed_referers nor allowed_domains lists anything, so the policy only allows GET requests that carry "+
				"no Referer header; browsers showing your pages will usually send one and be denied. Add your site's patterns "+
				"or domains, or keep this if it is really what you want.")
		return
	}
	resp.Diagnostics.AddAttributeError(path.Root("allowed_referers"), "Referer Policy Allows Nothing",
		"With no allowed_referers, no allowed_domains and allow_empty_referer = false the policy would allow no request. "+
			"Add at least one pattern (\"https://example.com/*\") or domain (\"example.com\"), or set allow_empty_referer = true.")
}

// ModifyPlan computes policy_json at plan time, so the plan shows the document, and keeps the state's
// string when it is equivalent: that is what keeps a policy the engine reformatted from showing a diff.
func (r *refererPolicyResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.pd == nil {
		return
	}
	var plan, state refererPolicyResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if !req.State.Raw.IsNull() {
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	if hasUnknown(plan.AllowedReferers, plan.AllowedDomains) {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("policy_json"), types.StringUnknown())...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("referer_patterns"), types.ListUnknown(types.StringType))...)
		return
	}
	// The patterns do not depend on the bucket: they stay known while a new bucket's id is not.
	patterns, diags := plan.patterns(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("referer_patterns"), patterns)...)
	if hasUnknown(plan.Bucket, plan.AllowEmptyReferer) {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("policy_json"), types.StringUnknown())...)
		return
	}
	doc, diags := plan.policyJSON(ctx, r.pd.partition)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if state.Bucket.Equal(plan.Bucket) {
		doc = policy.PreferEquivalent(doc, state.PolicyJSON.ValueString())
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("policy_json"), types.StringValue(doc))...)
}

func (r *refererPolicyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	r.put(ctx, req.Plan, &resp.State, &resp.Diagnostics, "Create")
}

func (r *refererPolicyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var data refererPolicyResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &data)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withTimeout(ctx, data.Timeouts.Read, refererPolicyReadTimeout, &resp.Diagnostics)
	defer cancel()
	if resp.Diagnostics.HasError() {
		return
	}

	bucket := data.Bucket.ValueString()
	remote, err := findBucketPolicy(ctx, r.pd.s3, bucket)
	if notFound(err) {
		tflog.Warn(ctx, "bucket policy or bucket is gone; removing it from state", map[string]any{"bucket": bucket, "error": err.Error()})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.Append(readBucketPolicyError(bucket, err))
		return
	}
	if err := r.readPublicPolicySwitches(ctx, &data); err != nil {
		resp.Diagnostics.Append(readPublicPolicySwitchesError(bucket, err))
		return
	}

	// A null policy_json means the state came from ImportState: rebuild the inputs from the document.
	if data.PolicyJSON.IsNull() {
		resp.Diagnostics.Append(data.importFrom(ctx, remote, r.pd.partition)...)
		if resp.Diagnostics.HasError() {
			return
		}
		resp.Diagnostics.Append(resp.State.Set(ctx, &data)...)
		return
	}

	// A policy that grants something else, or is not JSON we can compare, is recorded as is: the next plan
	// shows the document that apply puts back.
	stored := policy.PreferEquivalent(remote, data.PolicyJSON.ValueString())
	if stored == remote && remote != data.PolicyJSON.ValueString() {
		tflog.Warn(ctx, "bucket policy differs from the state", map[string]any{"bucket": bucket})
	}
	data.PolicyJSON = types.StringValue(stored)
	resp.Diagnostics.Append(resp.State.Set(ctx, &data)...)
}

func (r *refererPolicyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	r.put(ctx, req.Plan, &resp.State, &resp.Diagnostics, "Update")
}

func (r *refererPolicyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var data refererPolicyResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &data)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withTimeout(ctx, data.Timeouts.Delete, refererPolicyDeleteTimeout, &resp.Diagnostics)
	defer cancel()
	if resp.Diagnostics.HasError() {
		return
	}

	bucket := data.Bucket.ValueString()
	err := retryUntil(ctx, func(err error) bool { return isAPIError(err, errCodeOperationAborted) }, func(ctx context.Context) error {
		_, err := r.pd.s3.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(bucket)})
		return err
	})
	if isAPIError(err, errCodeNoSuchBucket) {
		return // the bucket went first; nothing left to protect
	}
	if err != nil && !isAPIError(err, errCodeNoSuchBucketPolicy) {
		resp.Diagnostics.Append(deleteBucketPolicyError(bucket, err))
		return
	}

	err = putPublicAccessBlock(ctx, r.pd.s3, bucket, fullBlock(), 0)
	switch {
	case errors.Is(err, errNoBlockPublicAccessAPI) && !r.pd.skipUnsupportedBucketAPIs:
		resp.Diagnostics.Append(restoreBlockPublicAccessNotSupportedError(bucket, err))
	case errors.Is(err, errNoBlockPublicAccessAPI):
		resp.Diagnostics.Append(restoreBlockPublicAccessSkippedWarning(bucket, err))
	case isAPIError(err, errCodeNoSuchBucket):
	case err != nil:
		resp.Diagnostics.Append(restoreBlockPublicAccessError(bucket, err))
	}
}

func (r *refererPolicyResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if err := policy.ValidateBucketName(req.ID); err != nil {
		resp.Diagnostics.Append(refererPolicyImportIDError(err))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("bucket"), req.ID)...)
}

// put is Create and Update, which do the same thing: read the plan, apply it within the timeout, save it.
func (r *refererPolicyResource) put(ctx context.Context, plan tfsdk.Plan, state *tfsdk.State, diags *diag.Diagnostics, verb string) {
	var data refererPolicyResourceModel
	diags.Append(plan.Get(ctx, &data)...)
	if diags.HasError() {
		return
	}
	timeoutFor, fallback := data.Timeouts.Update, refererPolicyUpdateTimeout
	if verb == "Create" {
		timeoutFor, fallback = data.Timeouts.Create, refererPolicyCreateTimeout
	}
	ctx, cancel := withTimeout(ctx, timeoutFor, fallback, diags)
	defer cancel()
	if diags.HasError() {
		return
	}

	diags.Append(r.planToBucket(ctx, &data, verb)...)
	if diags.HasError() {
		return
	}
	diags.Append(state.Set(ctx, &data)...)
}

// planToBucket is the body Create and Update share below put: it builds the document, applies it with apply, and
// turns apply's outcome into diagnostics. It fills data.ID and data.PolicyJSON (keeping the planned string, which
// ModifyPlan may have taken from state).
func (r *refererPolicyResource) planToBucket(ctx context.Context, data *refererPolicyResourceModel, verb string) diag.Diagnostics {
	var diags diag.Diagnostics
	doc, d := data.policyJSON(ctx, r.pd.partition)
	diags.Append(d...)
	if diags.HasError() {
		return diags
	}
	bucket := data.Bucket.ValueString()
	out, err := r.apply(ctx, bucket, doc)
	if out.noBlockPublicAccess != nil {
		diags.Append(blockPublicAccessSkippedWarning(bucket, out.noBlockPublicAccess))
	}
	if err != nil {
		diags.Append(refererPolicyPutError(ctx, r, verb, bucket, err))
		return diags
	}
	if out.accountRestricts != "" {
		diags.Append(anonymousStillBlockedWarning(out.accountRestricts))
	}

	data.ID = types.StringValue(bucket)
	if data.PolicyJSON.IsNull() || data.PolicyJSON.IsUnknown() {
		data.PolicyJSON = types.StringValue(doc)
	}
	if data.RefererPatterns.IsNull() || data.RefererPatterns.IsUnknown() {
		patterns, d := data.patterns(ctx)
		diags.Append(d...)
		data.RefererPatterns = patterns
	}
	return diags
}

// refererApplyOutcome is what apply observed besides failure.
type refererApplyOutcome struct {
	// noBlockPublicAccess is the endpoint's answer when it lacks Block Public Access and
	// skip_unsupported_bucket_apis let the policy go on without it.
	noBlockPublicAccess error
	// accountRestricts explains an account-level setting that still blocks anonymous requests, or is "".
	accountRestricts string
}

// refererStepError says which of apply's two steps failed.
type refererStepError struct {
	step string // refererStepBlockPublicAccess or refererStepPolicy
	err  error
}

const (
	refererStepBlockPublicAccess = "block public access"
	refererStepPolicy            = "bucket policy"
)

func (e *refererStepError) Error() string { return e.step + ": " + e.err.Error() }
func (e *refererStepError) Unwrap() error { return e.err }

// apply opens the bucket's Block Public Access for policies and puts the policy document.
func (r *refererPolicyResource) apply(ctx context.Context, bucket, doc string) (refererApplyOutcome, error) {
	var out refererApplyOutcome
	err := putPublicAccessBlock(ctx, r.pd.s3, bucket, publicPolicyAllowed(), refererPolicySettleTime)
	switch {
	case errors.Is(err, errNoBlockPublicAccessAPI) && r.pd.skipUnsupportedBucketAPIs:
		out.noBlockPublicAccess = err
	case err != nil:
		return out, &refererStepError{step: refererStepBlockPublicAccess, err: err}
	}
	if err := putBucketPolicyUnless(ctx, r.pd.s3, bucket, doc, refererPolicySettleTime, r.accountBlocksPublicPolicies); err != nil {
		return out, &refererStepError{step: refererStepPolicy, err: err}
	}
	if out.noBlockPublicAccess == nil {
		out.accountRestricts = r.accountRestrictsPublicBuckets(ctx)
	}
	return out, nil
}

// readPublicPolicySwitches fills block_public_policy and restrict_public_buckets from the bucket's Block
// Public Access. No configuration at all means both off. An endpoint without the API keeps the state's values
// (false after an import) when skip_unsupported_bucket_apis allows it, and is an error (wrapping
// errNoBlockPublicAccessAPI) otherwise.
func (r *refererPolicyResource) readPublicPolicySwitches(ctx context.Context, data *refererPolicyResourceModel) error {
	bucket := data.Bucket.ValueString()
	out, err := r.pd.s3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(bucket)})
	switch {
	case isAPIError(err, errCodeNoSuchPublicAccessBlockConfiguration):
		data.BlockPublicPolicy, data.RestrictPublic = types.BoolValue(false), types.BoolValue(false)
	case isNotImplemented(err) && r.pd.skipUnsupportedBucketAPIs:
		data.BlockPublicPolicy = types.BoolValue(data.BlockPublicPolicy.ValueBool())
		data.RestrictPublic = types.BoolValue(data.RestrictPublic.ValueBool())
	case isNotImplemented(err):
		return fmt.Errorf("%w: %w", errNoBlockPublicAccessAPI, err)
	case err != nil:
		return err
	default:
		c := out.PublicAccessBlockConfiguration
		if c == nil {
			c = &s3types.PublicAccessBlockConfiguration{}
		}
		data.BlockPublicPolicy = types.BoolValue(aws.ToBool(c.BlockPublicPolicy))
		data.RestrictPublic = types.BoolValue(aws.ToBool(c.RestrictPublicBuckets))
	}
	return nil
}

// accountBlocksPublicPolicies reports whether the account-level BlockPublicPolicy is on, which denies every
// public bucket policy however long one waits. Unknown (no account ID, the setting unreadable) counts as no.
func (r *refererPolicyResource) accountBlocksPublicPolicies(ctx context.Context) bool {
	if r.pd.accountID == "" {
		return false
	}
	cfg, err := accountPublicAccessBlock(ctx, r.pd.s3control, r.pd.accountID)
	if err != nil {
		tflog.Debug(ctx, "could not read account-level Block Public Access", map[string]any{"error": err.Error()})
		return false
	}
	return cfg != nil && aws.ToBool(cfg.BlockPublicPolicy)
}

// explainAccessDenied turns a denied PutBucketPolicy into the next step. The usual cause, once the bucket's
// own settings are open, is the account-level Block Public Access, which overrides every bucket.
func (r *refererPolicyResource) explainAccessDenied(ctx context.Context) string {
	if r.pd.accountID == "" {
		return "The account-level Block Public Access settings could not be checked because the account ID is unknown " +
			"(skip_credentials_validation is set). If BlockPublicPolicy is on for the account, turn it off; otherwise grant s3:PutBucketPolicy."
	}
	cfg, err := accountPublicAccessBlock(ctx, r.pd.s3control, r.pd.accountID)
	if err != nil {
		return fmt.Sprintf("Reading the account-level Block Public Access of account %s to explain this failed too (%s). "+
			"If BlockPublicPolicy is on for the account, turn it off; otherwise grant s3:PutBucketPolicy.", r.pd.accountID, err)
	}
	return explainAccountBlock(r.pd.accountID, cfg)
}

// accountRestrictsPublicBuckets returns a warning when the account-level RestrictPublicBuckets is on: the
// policy is stored, but S3 ignores its public grants, so browsers get 403. Failures to read the setting are
// only logged; the apply itself worked.
func (r *refererPolicyResource) accountRestrictsPublicBuckets(ctx context.Context) string {
	if r.pd.accountID == "" {
		return ""
	}
	cfg, err := accountPublicAccessBlock(ctx, r.pd.s3control, r.pd.accountID)
	if err != nil {
		tflog.Debug(ctx, "could not read account-level Block Public Access", map[string]any{"error": err.Error()})
		return ""
	}
	if cfg == nil || !aws.ToBool(cfg.RestrictPublicBuckets) {
		return ""
	}
	return fmt.Sprintf("The policy was applied, but account %s has the account-level Block Public Access setting "+
		"RestrictPublicBuckets on, so S3 ignores the policy's public grants and browsers get 403. %s",
		r.pd.accountID, accountBlockFix(r.pd.accountID))
}
