package provider

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

const (
	// abortMultipartRuleID names the one lifecycle rule this resource owns. Other rules on the bucket are kept.
	abortMultipartRuleID = "staticmedia-abort-incomplete-multipart"
	// defaultAbortIncompleteMultipartDays is how long abandoned multipart parts live. The upload key may
	// PutObject but not AbortMultipartUpload, so only a lifecycle rule can clean them up.
	defaultAbortIncompleteMultipartDays = 7
	// deleteBatchSize is the most keys S3 accepts in one DeleteObjects call.
	deleteBatchSize = 1000

	// enforcedObjectOwnership and enforcedSSEAlgorithm are not options: ACLs stay off and objects are
	// encrypted with S3-managed keys. They are read back so out-of-band changes show in the plan.
	enforcedObjectOwnership = string(s3types.ObjectOwnershipBucketOwnerEnforced)
	enforcedSSEAlgorithm    = string(s3types.ServerSideEncryptionAes256)

	// bucketSettleTime bounds how long NoSuchBucket is taken for S3's eventual consistency right after
	// CreateBucket. Past it, and at any time for a bucket that already existed, NoSuchBucket means the bucket
	// is gone: waiting for the whole resource timeout would only hide that.
	bucketSettleTime = 2 * time.Minute
)

var (
	_ resource.ResourceWithConfigure   = (*bucketResource)(nil)
	_ resource.ResourceWithImportState = (*bucketResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*bucketResource)(nil)
)

// NewBucketResource returns the staticmedia_bucket resource.
func NewBucketResource() resource.Resource {
	return &bucketResource{}
}

// bucketResource manages the S3 bucket that holds the uploaded media. It owns versioning, one lifecycle rule,
// tags, Object Ownership, default encryption and the two ACL switches of Block Public Access. It sets all four
// Block Public Access switches on at creation; afterwards staticmedia_referer_policy owns the two
// public-policy switches and the bucket policy, which this resource never reads or writes.
type bucketResource struct {
	pd *providerData
}

type bucketResourceModel struct {
	ID                           types.String   `tfsdk:"id"`
	Bucket                       types.String   `tfsdk:"bucket"`
	ForceDestroy                 types.Bool     `tfsdk:"force_destroy"`
	Versioning                   types.Bool     `tfsdk:"versioning"`
	AbortIncompleteMultipartDays types.Int64    `tfsdk:"abort_incomplete_multipart_days"`
	Tags                         types.Map      `tfsdk:"tags"`
	TagsAll                      types.Map      `tfsdk:"tags_all"`
	ObjectOwnership              types.String   `tfsdk:"object_ownership"`
	SSEAlgorithm                 types.String   `tfsdk:"sse_algorithm"`
	BlockPublicAcls              types.Bool     `tfsdk:"block_public_acls"`
	IgnorePublicAcls             types.Bool     `tfsdk:"ignore_public_acls"`
	ARN                          types.String   `tfsdk:"arn"`
	Region                       types.String   `tfsdk:"region"`
	BucketRegionalDomainName     types.String   `tfsdk:"bucket_regional_domain_name"`
	PublicBaseURL                types.String   `tfsdk:"public_base_url"`
	Endpoint                     types.String   `tfsdk:"endpoint"`
	ExpireIncoming               types.Object   `tfsdk:"expire_incoming"`
	Timeouts                     timeouts.Value `tfsdk:"timeouts"`
}

func (r *bucketResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_bucket"
}

func (r *bucketResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	stable := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "An S3 bucket for user-uploaded media, with safe settings that are not options: Object Ownership " +
			"`BucketOwnerEnforced` (ACLs off), default encryption with S3-managed keys (SSE-S3), and S3 Block Public Access " +
			"all on at creation. A lifecycle rule aborts incomplete multipart uploads, because the upload-only key cannot.\n\n" +
			"Block Public Access is switched all on when the bucket is created. Afterwards this resource owns the two ACL " +
			"switches (`block_public_acls`, `ignore_public_acls`): it reads them, so a change made outside Terraform shows " +
			"in the plan, and the next apply turns them back on. The two public-policy switches belong to " +
			"`staticmedia_referer_policy`, which opens them for its policy, so the two resources never fight. " +
			"This resource never touches the bucket policy.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The bucket name, known once the bucket exists. Reference `id`, not `bucket`, from " +
					"resources that live in the bucket, such as `staticmedia_referer_policy` " +
					"(`bucket = staticmedia_bucket.NAME.id`): when the bucket is replaced, `id` is unknown until the new " +
					"bucket exists, so Terraform replaces them with it in the same apply. `bucket` stays the same and would " +
					"leave them deleted with the old bucket until the next apply.",
				Computed:      true,
				PlanModifiers: stable,
			},
			"bucket": schema.StringAttribute{
				MarkdownDescription: "Bucket name: 3 to 63 lower-case letters, digits, hyphens and dots, starting and ending with " +
					"a letter or digit, not an IP address, and unique across all AWS accounts in the partition. " +
					"Avoid dots if the bucket is served over HTTPS with virtual-hosted URLs. Changing it replaces the bucket.",
				Required:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:    []validator.String{bucketNameValidator{}},
			},
			"force_destroy": schema.BoolAttribute{
				MarkdownDescription: "When `true`, destroying the resource first deletes every object version and delete marker " +
					"in the bucket. When `false` (the default), destroying a non-empty bucket fails. Set it and apply before " +
					"destroying: the value in the state is the one that counts.",
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
			},
			"versioning": schema.BoolAttribute{
				MarkdownDescription: "Keep every version of every object. Turning it off later suspends versioning; " +
					"S3 cannot return a bucket to the never-versioned state. Defaults to `false`.",
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
			},
			"abort_incomplete_multipart_days": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Days after which S3 aborts an incomplete multipart upload and deletes its parts, "+
					"through the lifecycle rule `%s`. The upload-only key cannot abort uploads itself. Other lifecycle rules on "+
					"the bucket are left as they are. Defaults to `%d`.", abortMultipartRuleID, defaultAbortIncompleteMultipartDays),
				Optional:   true,
				Computed:   true,
				Default:    int64default.StaticInt64(defaultAbortIncompleteMultipartDays),
				Validators: []validator.Int64{int64validator.Between(1, 36500)},
			},
			"expire_incoming": expireIncomingAttribute(),
			"tags": schema.MapAttribute{
				MarkdownDescription: "Tags for the bucket. They are merged over the provider's `default_tags`; a key set here wins.",
				ElementType:         types.StringType,
				Optional:            true,
				Validators:          []validator.Map{tagsValidator{}},
			},
			"tags_all": schema.MapAttribute{
				MarkdownDescription: "All tags on the bucket: the provider's `default_tags` merged with `tags`.",
				ElementType:         types.StringType,
				Computed:            true,
			},
			"object_ownership": schema.StringAttribute{
				MarkdownDescription: "Always `BucketOwnerEnforced` (ACLs disabled). Read back so that a change made outside " +
					"Terraform shows in the plan and the next apply restores it.",
				Computed: true,
				Default:  stringdefault.StaticString(enforcedObjectOwnership),
			},
			"sse_algorithm": schema.StringAttribute{
				MarkdownDescription: "Always `AES256` (SSE-S3 default encryption). Read back so that a change made outside " +
					"Terraform shows in the plan and the next apply restores it.",
				Computed: true,
				Default:  stringdefault.StaticString(enforcedSSEAlgorithm),
			},
			"block_public_acls": schema.BoolAttribute{
				MarkdownDescription: "Always `true`: the Block Public Access switch `BlockPublicAcls`. Read back so that a " +
					"change made outside Terraform shows in the plan and the next apply restores it.",
				Computed: true,
				Default:  booldefault.StaticBool(true),
			},
			"ignore_public_acls": schema.BoolAttribute{
				MarkdownDescription: "Always `true`: the Block Public Access switch `IgnorePublicAcls`. Read back so that a " +
					"change made outside Terraform shows in the plan and the next apply restores it.",
				Computed: true,
				Default:  booldefault.StaticBool(true),
			},
			"arn": schema.StringAttribute{
				MarkdownDescription: "The bucket ARN, `arn:PARTITION:s3:::BUCKET`.",
				Computed:            true,
				PlanModifiers:       stable,
			},
			"region": schema.StringAttribute{
				MarkdownDescription: "The region the bucket lives in: the provider's region at creation.",
				Computed:            true,
				PlanModifiers:       stable,
			},
			"bucket_regional_domain_name": schema.StringAttribute{
				MarkdownDescription: "The AWS regional domain name, `BUCKET.s3.REGION.amazonaws.com` " +
					"(`amazonaws.com.cn` in China). It keeps the AWS form when an S3 endpoint override is set.",
				Computed:      true,
				PlanModifiers: stable,
			},
			"public_base_url": schema.StringAttribute{
				MarkdownDescription: "The URL objects are fetched from, ending in `/`: append the object key. On AWS the " +
					"virtual-hosted form `https://BUCKET.s3.REGION.amazonaws.com/`, or for a bucket name with dots (which S3's " +
					"certificate cannot match) the path-style `https://s3.REGION.amazonaws.com/BUCKET/`; with `endpoints.s3` " +
					"set, the path-style form `ENDPOINT/BUCKET/`.",
				Computed:      true,
				PlanModifiers: stable,
			},
			"endpoint": schema.StringAttribute{
				MarkdownDescription: "The S3 endpoint override in effect (`endpoints.s3` or `AWS_ENDPOINT_URL_S3`); empty on AWS.",
				Computed:            true,
				PlanModifiers:       stable,
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}),
		},
	}
}

func (r *bucketResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.pd = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ModifyPlan fills tags_all and, once the bucket name is known, the addresses derived from it, so the plan
// shows the ARN and public URL other resources will get instead of "known after apply". id stays unknown
// for a new bucket, a replacement included: resources that reference it are then replaced with the bucket,
// where the unchanged name would leave them planned as they are, and deleted with the old bucket.
func (r *bucketResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.pd == nil {
		return
	}
	var plan bucketResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}

	tagsAll, diags := planTagsAll(ctx, r.pd.defaultTags, plan.Tags)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.TagsAll = tagsAll

	if !plan.Bucket.IsUnknown() {
		region := r.pd.region
		if !req.State.Raw.IsNull() {
			var state bucketResourceModel
			resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
			if resp.Diagnostics.HasError() {
				return
			}
			// A replacement creates the new bucket in the provider's region; an update keeps the old one's.
			if state.Bucket.Equal(plan.Bucket) && state.Region.ValueString() != "" {
				region = state.Region.ValueString()
			}
		}
		r.setAddresses(&plan, region)
		if req.State.Raw.IsNull() {
			plan.ID = types.StringUnknown()
		}
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

func (r *bucketResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var data bucketResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &data)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withTimeout(ctx, data.Timeouts.Create, 10*time.Minute, &resp.Diagnostics)
	defer cancel()
	if resp.Diagnostics.HasError() {
		return
	}

	bucket := data.Bucket.ValueString()
	want, diags := r.desiredSettings(ctx, data)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}

	if err := createBucketIfFree(ctx, r.pd.s3, bucket, r.pd.region); err != nil {
		var exists *bucketExistsError
		if errors.As(err, &exists) {
			resp.Diagnostics.Append(bucketAlreadyExistsError(exists))
			return
		}
		resp.Diagnostics.Append(createBucketError(bucket, r.pd.region, err))
		return
	}
	tflog.Info(ctx, "created S3 bucket", map[string]any{"bucket": bucket, "region": r.pd.region})

	data.ID = types.StringValue(bucket)
	r.setAddresses(&data, r.pd.region)
	// From here on the bucket exists: on failure the state is still saved, so Terraform marks it tainted and
	// replaces it on the next apply instead of forgetting a bucket it created.
	unsupported, err := applySettings(ctx, r.pd.s3, bucket, want, createChanges(want), settingsOptions{
		tolerateUnsupported: r.pd.skipUnsupportedBucketAPIs,
		settle:              bucketSettleTime,
	})
	if len(unsupported) > 0 {
		resp.Diagnostics.Append(bucketSettingsSkippedWarning(bucket, r.endpoint(), unsupported))
		resp.Diagnostics.Append(storeUnsupported(ctx, resp.Private, unsupported)...)
	}
	if err != nil {
		resp.Diagnostics.Append(configureNewBucketError(bucket, err))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &data)...)
}

func (r *bucketResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var data bucketResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &data)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withTimeout(ctx, data.Timeouts.Read, 5*time.Minute, &resp.Diagnostics)
	defer cancel()
	if resp.Diagnostics.HasError() {
		return
	}

	bucket := data.Bucket.ValueString()
	if bucket == "" { // import: only the id is known
		bucket = data.ID.ValueString()
	}
	got, err := readBucketSettings(ctx, r.pd.s3, bucket)
	if errors.Is(err, errBucketNotFound) {
		tflog.Warn(ctx, "S3 bucket is gone; removing it from the state", map[string]any{"bucket": bucket})
		resp.State.RemoveResource(ctx)
		return
	}
	var regionErr *bucketRegionError
	if errors.As(err, &regionErr) {
		region := cmp.Or(regionErr.bucketRegion, "BUCKET_REGION")
		resp.Diagnostics.Append(bucketInAnotherRegionError(regionErr, region))
		return
	}
	if err != nil {
		resp.Diagnostics.Append(readBucketError(bucket, err))
		return
	}

	data.ID = types.StringValue(bucket)
	data.Bucket = types.StringValue(bucket)
	if data.ForceDestroy.IsNull() {
		data.ForceDestroy = types.BoolValue(false)
	}
	data.Versioning = types.BoolValue(got.versioning)
	if lacking := got.notImplemented(); len(lacking) > 0 && !r.pd.skipUnsupportedBucketAPIs {
		resp.Diagnostics.Append(bucketSettingsNotSupportedError(bucket, r.endpoint(), lacking))
		return
	}
	// Settings the endpoint refused as not implemented keep their state value: there is nothing to compare.
	// Only with skip_unsupported_bucket_apis: without it the record is ignored, so the plan shows them and the
	// apply fails on them with the error that names the setting.
	unsupported := unsupportedSettings{}
	var diags diag.Diagnostics
	if r.pd.skipUnsupportedBucketAPIs {
		unsupported, diags = loadUnsupported(ctx, req.Private)
		resp.Diagnostics.Append(diags...)
	}
	// An endpoint without the lifecycle API has no rules to compare: both lifecycle settings keep their state.
	if (!unsupported[settingAbortDays] && !got.lifecycleUnsupported) || data.AbortIncompleteMultipartDays.IsNull() {
		data.AbortIncompleteMultipartDays = types.Int64Value(int64(got.abortDays))
	}
	if !got.lifecycleUnsupported {
		data.ExpireIncoming = expireIncomingValue(got.expireIncoming)
	}
	if !unsupported[settingObjectOwnership] || data.ObjectOwnership.IsNull() {
		data.ObjectOwnership = types.StringValue(readBack(got.objectOwnership, enforcedObjectOwnership))
	}
	if !unsupported[settingSSEAlgorithm] || data.SSEAlgorithm.IsNull() {
		data.SSEAlgorithm = types.StringValue(readBack(got.sseAlgorithm, enforcedSSEAlgorithm))
	}
	if got.blockPublicAccessUnsupported || unsupported[settingBlockPublicAccess] {
		// Nothing to compare: keep the state's values, or the enforced ones after an import.
		data.BlockPublicAcls = types.BoolValue(data.BlockPublicAcls.IsNull() || data.BlockPublicAcls.ValueBool())
		data.IgnorePublicAcls = types.BoolValue(data.IgnorePublicAcls.IsNull() || data.IgnorePublicAcls.ValueBool())
	} else {
		data.BlockPublicAcls = types.BoolValue(got.blockPublicAcls)
		data.IgnorePublicAcls = types.BoolValue(got.ignorePublicAcls)
	}

	data.Tags, data.TagsAll, diags = readTags(ctx, r.pd.defaultTags, data.Tags, got.tags)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}

	region := got.region
	if region == "" {
		region = data.Region.ValueString()
	}
	if region == "" {
		region = r.pd.region
	}
	r.setAddresses(&data, region)
	resp.Diagnostics.Append(resp.State.Set(ctx, &data)...)
}

func (r *bucketResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state bucketResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withTimeout(ctx, plan.Timeouts.Update, 10*time.Minute, &resp.Diagnostics)
	defer cancel()
	if resp.Diagnostics.HasError() {
		return
	}

	bucket := plan.Bucket.ValueString()
	want, diags := r.desiredSettings(ctx, plan)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	changes := bucketChanges{
		versioning:      !plan.Versioning.Equal(state.Versioning),
		abortDays:       !plan.AbortIncompleteMultipartDays.Equal(state.AbortIncompleteMultipartDays),
		expireIncoming:  !plan.ExpireIncoming.Equal(state.ExpireIncoming),
		tags:            !plan.TagsAll.Equal(state.TagsAll),
		objectOwnership: !plan.ObjectOwnership.Equal(state.ObjectOwnership),
		sseAlgorithm:    !plan.SSEAlgorithm.Equal(state.SSEAlgorithm),
		aclBlocks:       !plan.BlockPublicAcls.Equal(state.BlockPublicAcls) || !plan.IgnorePublicAcls.Equal(state.IgnorePublicAcls),
	}
	// The bucket existed when the plan was made, so NoSuchBucket is not retried: it was deleted since.
	unsupported, err := applySettings(ctx, r.pd.s3, bucket, want, changes, settingsOptions{tolerateUnsupported: r.pd.skipUnsupportedBucketAPIs})
	if len(unsupported) > 0 {
		resp.Diagnostics.Append(bucketSettingsSkippedWarning(bucket, r.endpoint(), unsupported))
		known, diags := loadUnsupported(ctx, req.Private)
		resp.Diagnostics.Append(diags...)
		maps.Copy(known, unsupported)
		resp.Diagnostics.Append(storeUnsupported(ctx, resp.Private, known)...)
	}
	if errors.Is(err, errBucketNotFound) {
		resp.Diagnostics.Append(bucketDeletedOutsideError(bucket, err))
		return
	}
	if err != nil {
		resp.Diagnostics.Append(updateBucketError(bucket, err))
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *bucketResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var data bucketResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &data)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withTimeout(ctx, data.Timeouts.Delete, 60*time.Minute, &resp.Diagnostics)
	defer cancel()
	if resp.Diagnostics.HasError() {
		return
	}

	bucket := data.Bucket.ValueString()
	deleted, err := deleteBucket(ctx, r.pd.s3, bucket, data.ForceDestroy.ValueBool())
	if errors.Is(err, errBucketNotEmpty) {
		resp.Diagnostics.Append(bucketNotEmptyError(bucket))
		return
	}
	if err != nil {
		resp.Diagnostics.Append(deleteBucketError(bucket, deleted, err))
		return
	}
	tflog.Info(ctx, "deleted S3 bucket", map[string]any{"bucket": bucket, "objects_deleted": deleted})
}

func (r *bucketResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	// Read fills everything else from the bucket name; force_destroy starts false, as for a new resource.
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}

// desiredSettings turns a planned model into the settings to apply.
func (r *bucketResource) desiredSettings(ctx context.Context, data bucketResourceModel) (bucketSettings, diag.Diagnostics) {
	tags, _, diags := mapFromTerraform(ctx, data.TagsAll)
	expire, d := expireIncomingFrom(ctx, data.ExpireIncoming)
	diags.Append(d...)
	return bucketSettings{
		versioning:     data.Versioning.ValueBool(),
		abortDays:      int32(data.AbortIncompleteMultipartDays.ValueInt64()), //nolint:gosec // G115: the schema validator bounds it
		expireIncoming: expire,
		tags:           tags,
	}, diags
}

// endpoint is the S3 endpoint override in effect (endpoints.s3, or AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL as
// resolved by the SDK); "" on AWS.
func (r *bucketResource) endpoint() string {
	return aws.ToString(r.pd.s3.Options().BaseEndpoint)
}

// setAddresses fills the attributes derived from the bucket name, its region and the provider's S3 endpoint.
func (r *bucketResource) setAddresses(data *bucketResourceModel, region string) {
	a := bucketAddressesFor(data.Bucket.ValueString(), region, r.endpoint())
	// The ARN names the partition the policies are written for: the caller's, which the region name only suggests.
	a.arn = "arn:" + r.pd.partition + ":s3:::" + data.Bucket.ValueString()
	data.ID = types.StringValue(data.Bucket.ValueString())
	data.ARN = types.StringValue(a.arn)
	data.Region = types.StringValue(region)
	data.BucketRegionalDomainName = types.StringValue(a.regionalDomainName)
	data.PublicBaseURL = types.StringValue(a.publicBaseURL)
	data.Endpoint = types.StringValue(a.endpoint)
}
