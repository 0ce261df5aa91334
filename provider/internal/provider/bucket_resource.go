package provider

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
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

	"github.com/staticmedia/staticmedia/internal/awsconfig"
	"github.com/staticmedia/staticmedia/internal/policy"
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
	timeout, diags := data.Timeouts.Create(ctx, 10*time.Minute)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	bucket := data.Bucket.ValueString()
	want, diags := r.desiredSettings(ctx, data)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}

	if err := createBucketIfFree(ctx, r.pd.s3, bucket, r.pd.region); err != nil {
		var exists *bucketExistsError
		if errors.As(err, &exists) {
			resp.Diagnostics.AddAttributeError(path.Root("bucket"), "Bucket Already Exists", err.Error())
			return
		}
		resp.Diagnostics.AddError("Unable to Create Bucket",
			fmt.Sprintf("Creating S3 bucket %q in %s failed: %v\n\nCheck the name and that these credentials may s3:CreateBucket, then apply again.",
				bucket, r.pd.region, err))
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
		resp.Diagnostics.AddWarning("Bucket Settings Not Supported by This Endpoint", unsupportedWarning(bucket, r.endpoint(), unsupported))
		resp.Diagnostics.Append(storeUnsupported(ctx, resp.Private, unsupported)...)
	}
	if err != nil {
		resp.Diagnostics.AddError("Unable to Configure Bucket",
			fmt.Sprintf("S3 bucket %q was created but configuring it failed: %v\n\nThe bucket is marked tainted; "+
				"fix the cause and apply again to replace it.", bucket, err))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &data)...)
}

func (r *bucketResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var data bucketResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &data)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := data.Timeouts.Read(ctx, 5*time.Minute)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

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
		resp.Diagnostics.AddError("Bucket Is in Another Region",
			fmt.Sprintf("%s.\n\nManage the bucket with a provider configured for its region: add a provider \"staticmedia\" block "+
				"with an alias and region = %q, and set provider = staticmedia.ALIAS on this resource (import it with that "+
				"provider too), or set region = %q on this provider.", regionErr, region, region))
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Unable to Read Bucket",
			fmt.Sprintf("Reading S3 bucket %q failed: %v\n\nCheck that these credentials may read the bucket's settings, then retry.", bucket, err))
		return
	}

	data.ID = types.StringValue(bucket)
	data.Bucket = types.StringValue(bucket)
	if data.ForceDestroy.IsNull() {
		data.ForceDestroy = types.BoolValue(false)
	}
	data.Versioning = types.BoolValue(got.versioning)
	if lacking := got.notImplemented(); len(lacking) > 0 && !r.pd.skipUnsupportedBucketAPIs {
		resp.Diagnostics.AddError("Bucket Settings Not Supported by This Endpoint", notImplementedError(bucket, r.endpoint(), lacking))
		return
	}
	// Settings the endpoint refused as not implemented keep their state value: there is nothing to compare.
	// Only with skip_unsupported_bucket_apis: without it the record is ignored, so the plan shows them and the
	// apply fails on them with the error that names the setting.
	unsupported := unsupportedSettings{}
	if r.pd.skipUnsupportedBucketAPIs {
		unsupported, diags = loadUnsupported(ctx, req.Private)
		resp.Diagnostics.Append(diags...)
	}
	if !unsupported[settingAbortDays] || data.AbortIncompleteMultipartDays.IsNull() {
		data.AbortIncompleteMultipartDays = types.Int64Value(int64(got.abortDays))
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
	timeout, diags := plan.Timeouts.Update(ctx, 10*time.Minute)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	bucket := plan.Bucket.ValueString()
	want, diags := r.desiredSettings(ctx, plan)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	changes := bucketChanges{
		versioning:      !plan.Versioning.Equal(state.Versioning),
		abortDays:       !plan.AbortIncompleteMultipartDays.Equal(state.AbortIncompleteMultipartDays),
		tags:            !plan.TagsAll.Equal(state.TagsAll),
		objectOwnership: !plan.ObjectOwnership.Equal(state.ObjectOwnership),
		sseAlgorithm:    !plan.SSEAlgorithm.Equal(state.SSEAlgorithm),
		aclBlocks:       !plan.BlockPublicAcls.Equal(state.BlockPublicAcls) || !plan.IgnorePublicAcls.Equal(state.IgnorePublicAcls),
	}
	// The bucket existed when the plan was made, so NoSuchBucket is not retried: it was deleted since.
	unsupported, err := applySettings(ctx, r.pd.s3, bucket, want, changes, settingsOptions{tolerateUnsupported: r.pd.skipUnsupportedBucketAPIs})
	if len(unsupported) > 0 {
		resp.Diagnostics.AddWarning("Bucket Settings Not Supported by This Endpoint", unsupportedWarning(bucket, r.endpoint(), unsupported))
		known, diags := loadUnsupported(ctx, req.Private)
		resp.Diagnostics.Append(diags...)
		maps.Copy(known, unsupported)
		resp.Diagnostics.Append(storeUnsupported(ctx, resp.Private, known)...)
	}
	if errors.Is(err, errBucketNotFound) {
		resp.Diagnostics.AddError("Bucket Deleted Outside Terraform",
			fmt.Sprintf("S3 bucket %q no longer exists: it was deleted outside Terraform after the plan was made (%v).\n\n"+
				"Run terraform apply again: its refresh removes the bucket from the state and the plan creates it anew, "+
				"empty. To keep it deleted, remove the resource from the configuration.", bucket, err))
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Unable to Update Bucket",
			fmt.Sprintf("Updating S3 bucket %q failed: %v\n\nCheck that these credentials may change the bucket's settings, then apply again.", bucket, err))
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
	timeout, diags := data.Timeouts.Delete(ctx, 60*time.Minute)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	bucket := data.Bucket.ValueString()
	deleted, err := deleteBucket(ctx, r.pd.s3, bucket, data.ForceDestroy.ValueBool())
	if errors.Is(err, errBucketNotEmpty) {
		resp.Diagnostics.AddError("Bucket Not Empty",
			fmt.Sprintf("S3 bucket %q still holds objects, so it was not deleted. To delete it with every object version "+
				"in it, set force_destroy = true, run terraform apply (the value in the state is the one that counts), "+
				"then destroy again. Or empty the bucket yourself first.", bucket))
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Unable to Delete Bucket",
			fmt.Sprintf("Deleting S3 bucket %q failed after deleting %d object versions: %v\n\nCheck that these credentials may "+
				"s3:DeleteBucket (and s3:ListBucketVersions, s3:DeleteObjectVersion with force_destroy), then retry.", bucket, deleted, err))
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
	return bucketSettings{
		versioning: data.Versioning.ValueBool(),
		abortDays:  int32(data.AbortIncompleteMultipartDays.ValueInt64()), //nolint:gosec // G115: the schema validator bounds it
		tags:       tags,
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

// bucketAddresses are the names a bucket is reached by.
type bucketAddresses struct {
	arn                string
	regionalDomainName string
	publicBaseURL      string
	endpoint           string
}

// bucketAddressesFor derives a bucket's addresses. s3Endpoint is the endpoint override in effect, "" on AWS;
// with one, the public URL is path-style because local engines rarely resolve bucket subdomains.
func bucketAddressesFor(bucket, region, s3Endpoint string) bucketAddresses {
	partition := awsconfig.Partition(region)
	domain := bucket + ".s3." + region + "." + dnsSuffix(partition)
	a := bucketAddresses{
		arn:                "arn:" + partition + ":s3:::" + bucket,
		regionalDomainName: domain,
		publicBaseURL:      "https://" + domain + "/",
		endpoint:           s3Endpoint,
	}
	switch {
	case s3Endpoint != "":
		a.publicBaseURL = strings.TrimRight(s3Endpoint, "/") + "/" + bucket + "/"
	case strings.Contains(bucket, "."):
		// S3's wildcard certificate (*.s3.REGION.amazonaws.com) covers one label only, so a browser refuses
		// https://my.media.s3...; the path-style URL is served under S3's own name and works.
		a.publicBaseURL = "https://s3." + region + "." + dnsSuffix(partition) + "/" + bucket + "/"
	}
	return a
}

// dnsSuffix is the domain AWS serves a partition's endpoints under.
func dnsSuffix(partition string) string {
	switch partition {
	case "aws-cn":
		return "amazonaws.com.cn"
	case "aws-iso":
		return "c2s.ic.gov"
	case "aws-iso-b":
		return "sc2s.sgov.gov"
	case "aws-iso-e":
		return "cloud.adc-e.uk"
	case "aws-iso-f":
		return "csp.hci.ic.gov"
	default:
		return "amazonaws.com"
	}
}

// bucketNameValidator checks S3's general purpose bucket naming rules at plan time, so a bad name fails
// before anything is created.
type bucketNameValidator struct{}

func (bucketNameValidator) Description(context.Context) string {
	return "must be a valid S3 bucket name"
}

func (v bucketNameValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (bucketNameValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := policy.ValidateBucketName(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Bucket Name", err.Error())
	}
}

// ---- S3 calls. Helpers below return errors; only the framework methods above make diagnostics. ----

var (
	errBucketNotFound = errors.New("bucket not found")
	errBucketNotEmpty = errors.New("bucket not empty")
)

// unsupportedSetting marks a setting the endpoint does not implement (MinIO has no Object Ownership, and no
// SSE-S3 without a KMS). Read keeps the enforced value for it, so such engines show no perpetual diff.
const unsupportedSetting = "\x00unsupported"

// readBack is the value to store for a setting read from the bucket: what was read, or the enforced value
// when the endpoint does not implement the setting (nothing to compare, so nothing to show).
func readBack(got, enforced string) string {
	if got == unsupportedSetting {
		return enforced
	}
	return got
}

// bucketExistsError is returned when the name is taken before we create it. The message says what to do.
type bucketExistsError struct {
	bucket     string
	ownedByYou bool
	region     string
}

func (e *bucketExistsError) Error() string {
	if e.ownedByYou {
		where := ""
		if e.region != "" {
			where = " (in " + e.region + ")"
		}
		return fmt.Sprintf("S3 bucket %q already exists%s and is owned by you: import it with "+
			"terraform import staticmedia_bucket.NAME %s (or an import block) instead of creating it", e.bucket, where, e.bucket)
	}
	return fmt.Sprintf("S3 bucket %q already exists and is owned by someone else (HeadBucket answered 403 Forbidden): "+
		"bucket names are global, choose another name. If the bucket is yours, these credentials lack s3:ListBucket on it.", e.bucket)
}

// bucketRegionError is S3's 301 answer to a request sent to another region than the bucket's: on AWS a
// client signs for one region, so a provider configured for another one cannot manage the bucket.
type bucketRegionError struct {
	bucket       string
	bucketRegion string // from the x-amz-bucket-region header; "" when S3 did not send it
	clientRegion string
	err          error
}

func (e *bucketRegionError) Error() string {
	where := "another region"
	if e.bucketRegion != "" {
		where = e.bucketRegion
	}
	return fmt.Sprintf("S3 bucket %q is in %s, the provider is configured for %s (HeadBucket answered 301 Moved Permanently)",
		e.bucket, where, e.clientRegion)
}

func (e *bucketRegionError) Unwrap() error { return e.err }

// bucketRegionHeader returns the region S3 names in the x-amz-bucket-region header of an error response.
func bucketRegionHeader(err error) string {
	var respErr *smithyhttp.ResponseError
	if !errors.As(err, &respErr) || respErr.Response == nil || respErr.Response.Response == nil {
		return ""
	}
	return respErr.Response.Header.Get("X-Amz-Bucket-Region")
}

// bucketSettings are the settings this resource manages, as applied or as read back.
type bucketSettings struct {
	region          string
	versioning      bool
	abortDays       int32 // 0: our lifecycle rule is missing or disabled
	tags            map[string]string
	objectOwnership string // "" when unset, unsupportedSetting when the endpoint lacks the API
	sseAlgorithm    string // likewise
	// blockPublicAcls and ignorePublicAcls are the two Block Public Access switches this resource owns;
	// false when the bucket has no Block Public Access configuration.
	blockPublicAcls, ignorePublicAcls bool
	blockPublicAccessUnsupported      bool // the endpoint does not implement GetPublicAccessBlock
}

// notImplemented lists the settings the endpoint answered as not implemented when they were read.
func (s bucketSettings) notImplemented() unsupportedSettings {
	u := unsupportedSettings{}
	if s.objectOwnership == unsupportedSetting {
		u[settingObjectOwnership] = true
	}
	if s.sseAlgorithm == unsupportedSetting {
		u[settingSSEAlgorithm] = true
	}
	if s.blockPublicAccessUnsupported {
		u[settingBlockPublicAccess] = true
	}
	return u
}

// retryableAfterCreate are the errors AWS documents as transient around bucket creation and deletion.
func retryableAfterCreate(err error) bool {
	return isAPIError(err, "NoSuchBucket", "OperationAborted")
}

// isUnsupported reports that an S3-compatible engine does not implement a call. MinIO answers
// NotImplemented (501) for Get of Object Ownership and Block Public Access and for SSE-S3 without a KMS,
// MalformedXML for their Put, and InvalidArgument for a lifecycle rule whose only action is aborting
// multipart uploads. Callers tolerate it only with skip_unsupported_bucket_apis; otherwise it fails with
// unsupportedSettingError, whose message names that setting.
func isUnsupported(err error) bool {
	return isNotImplemented(err) || isAPIError(err, "MalformedXML", "InvalidArgument")
}

// isNotImplemented is the unambiguous form: the engine says so itself.
func isNotImplemented(err error) bool {
	return isAPIError(err, "NotImplemented", "XNotImplemented") || httpStatus(err) == http.StatusNotImplemented
}

// createBucketIfFree creates the bucket after making sure the name is not already in use: us-east-1 answers
// CreateBucket on a bucket you own with success, which would silently adopt it.
func createBucketIfFree(ctx context.Context, client *s3.Client, bucket, region string) error {
	_, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	switch {
	case err == nil:
		return &bucketExistsError{bucket: bucket, ownedByYou: true}
	case httpStatus(err) == http.StatusForbidden:
		return &bucketExistsError{bucket: bucket}
	case httpStatus(err) == http.StatusMovedPermanently:
		// The bucket exists in another region; CreateBucket tells whose it is.
	case !isNotFound(err):
		return fmt.Errorf("checking whether the name is free (HeadBucket): %w", err)
	}

	in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
	if region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{
			LocationConstraint: s3types.BucketLocationConstraint(region),
		}
	}
	err = retryUntil(ctx, func(err error) bool { return isAPIError(err, "OperationAborted") }, func(ctx context.Context) error {
		_, err := client.CreateBucket(ctx, in)
		return err
	})
	switch {
	case isAPIError(err, "BucketAlreadyOwnedByYou"):
		return &bucketExistsError{bucket: bucket, ownedByYou: true}
	case isAPIError(err, "BucketAlreadyExists"):
		return &bucketExistsError{bucket: bucket}
	case err != nil:
		return err
	}
	// S3 is eventually consistent: the new bucket can answer NoSuchBucket (or a bare 404) for a moment.
	ctx, cancel := context.WithTimeout(ctx, bucketSettleTime)
	defer cancel()
	return retryUntil(ctx, func(err error) bool { return isNotFound(err) || retryableAfterCreate(err) }, func(ctx context.Context) error {
		_, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
		if err != nil {
			return fmt.Errorf("waiting for the new bucket to appear: %w", err)
		}
		return nil
	})
}

// bucketChanges says which settings to put. blockPublicAccess, all four switches on, is only ever set at
// creation; aclBlocks turns the two ACL switches back on and leaves the public-policy ones as they are.
type bucketChanges struct {
	objectOwnership, sseAlgorithm, blockPublicAccess, aclBlocks, versioning, abortDays, tags bool
}

// createChanges are the settings a new bucket gets: all of them, except versioning and tags when there are
// none to set.
func createChanges(want bucketSettings) bucketChanges {
	return bucketChanges{
		objectOwnership: true, sseAlgorithm: true, blockPublicAccess: true, abortDays: true,
		versioning: want.versioning, tags: len(want.tags) > 0,
	}
}

// Attribute names of the settings an endpoint may lack, as kept in unsupportedSettings.
const (
	settingObjectOwnership   = "object_ownership"
	settingSSEAlgorithm      = "sse_algorithm"
	settingBlockPublicAccess = "block_public_access"
	settingAbortDays         = "abort_incomplete_multipart_days"
)

// unsupportedSettings are the settings an S3-compatible engine refused as not implemented (MinIO: Object
// Ownership, Block Public Access, SSE-S3 without a KMS, a lifecycle rule with only an abort action). They
// are kept in the resource's private state so Read does not report them as drift on every plan.
type unsupportedSettings map[string]bool

// privateUnsupportedKey is the private state key of unsupportedSettings.
const privateUnsupportedKey = "unsupported_settings"

type privateStateGetter interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
}

type privateStateSetter interface {
	SetKey(ctx context.Context, key string, value []byte) diag.Diagnostics
}

func loadUnsupported(ctx context.Context, private privateStateGetter) (unsupportedSettings, diag.Diagnostics) {
	raw, diags := private.GetKey(ctx, privateUnsupportedKey)
	u := unsupportedSettings{}
	if len(raw) == 0 || diags.HasError() {
		return u, diags
	}
	if err := json.Unmarshal(raw, &u); err != nil {
		diags.AddWarning("Unreadable Private State", "The record of settings this endpoint lacks could not be read and is reset: "+err.Error())
		return unsupportedSettings{}, diags
	}
	return u, diags
}

func storeUnsupported(ctx context.Context, private privateStateSetter, u unsupportedSettings) diag.Diagnostics {
	raw, err := json.Marshal(u)
	if err != nil {
		var diags diag.Diagnostics
		diags.AddError("Unable to Record Unsupported Settings",
			"Recording the settings this endpoint lacks failed: "+err.Error()+". This is a bug in the provider; please report it.")
		return diags
	}
	return private.SetKey(ctx, privateUnsupportedKey, raw)
}

// settingsOptions say how applySettings treats errors.
type settingsOptions struct {
	// tolerateUnsupported skips, instead of failing, an enforced setting the engine does not implement.
	tolerateUnsupported bool
	// settle is how long NoSuchBucket is retried: bucketSettleTime after CreateBucket, 0 for a bucket that
	// already existed.
	settle time.Duration
}

// applySettings puts the settings marked in changes, retrying the errors S3 documents as transient:
// OperationAborted, and NoSuchBucket for opts.settle. A bucket still missing after that fails with
// errBucketNotFound. With opts.tolerateUnsupported, an enforced setting the engine does not implement is
// skipped and returned in the set instead of failing.
func applySettings(ctx context.Context, client *s3.Client, bucket string, want bucketSettings, changes bucketChanges, opts settingsOptions) (unsupportedSettings, error) {
	type step struct {
		do      bool
		setting string // non-empty when an engine may lack it
		what    string
		call    func(context.Context) error
	}
	steps := []step{
		{changes.objectOwnership, settingObjectOwnership, "Object Ownership", func(ctx context.Context) error {
			return putObjectOwnership(ctx, client, bucket)
		}},
		{changes.sseAlgorithm, settingSSEAlgorithm, "default encryption", func(ctx context.Context) error {
			return putEncryption(ctx, client, bucket)
		}},
		{changes.blockPublicAccess, settingBlockPublicAccess, "Block Public Access", func(ctx context.Context) error {
			return putBlockPublicAccess(ctx, client, bucket)
		}},
		{changes.aclBlocks, settingBlockPublicAccess, "the Block Public Access ACL switches", func(ctx context.Context) error {
			return putACLBlocks(ctx, client, bucket)
		}},
		{changes.versioning, "", "versioning", func(ctx context.Context) error {
			return putVersioning(ctx, client, bucket, want.versioning)
		}},
		{changes.abortDays, settingAbortDays, "the lifecycle rule " + abortMultipartRuleID, func(ctx context.Context) error {
			return putAbortRule(ctx, client, bucket, want.abortDays)
		}},
		{changes.tags, "", "tags", func(ctx context.Context) error {
			return putTags(ctx, client, bucket, want.tags)
		}},
	}
	start := time.Now()
	retryable := func(err error) bool {
		return isAPIError(err, "OperationAborted") || (isAPIError(err, "NoSuchBucket") && time.Since(start) < opts.settle)
	}
	unsupported := unsupportedSettings{}
	for _, s := range steps {
		if !s.do {
			continue
		}
		err := retryUntil(ctx, retryable, s.call)
		if err != nil && s.setting != "" && isUnsupported(err) {
			if !opts.tolerateUnsupported {
				return unsupported, fmt.Errorf("setting %s: %w", s.what, &unsupportedSettingError{setting: s.setting, err: err})
			}
			unsupported[s.setting] = true
			continue
		}
		if isAPIError(err, "NoSuchBucket") {
			return unsupported, fmt.Errorf("setting %s: %w: %w", s.what, errBucketNotFound, err)
		}
		if err != nil {
			return unsupported, fmt.Errorf("setting %s: %w", s.what, err)
		}
	}
	return unsupported, nil
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

// unsupportedSettingError reports a setting the endpoint refused as not implemented while
// skip_unsupported_bucket_apis is off. Its message names the setting to change.
type unsupportedSettingError struct {
	setting string
	err     error
}

func (e *unsupportedSettingError) Error() string {
	return fmt.Sprintf("the S3 endpoint refused %s as not implemented or not understood (%v); if the endpoint is an "+
		"S3-compatible engine that lacks this API, such as MinIO, set skip_unsupported_bucket_apis = true in the "+
		"provider block to do without it", e.setting, e.err)
}

func (e *unsupportedSettingError) Unwrap() error { return e.err }

// putACLBlocks turns the two ACL switches of Block Public Access on and keeps the two public-policy switches
// as they are: those belong to staticmedia_referer_policy while it exists.
func putACLBlocks(ctx context.Context, client *s3.Client, bucket string) error {
	var cfg s3types.PublicAccessBlockConfiguration
	out, err := client.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(bucket)})
	switch {
	case isAPIError(err, "NoSuchPublicAccessBlockConfiguration"):
		// No configuration means all four off; the public-policy ones stay so.
	case err != nil:
		return err
	case out.PublicAccessBlockConfiguration != nil:
		cfg = *out.PublicAccessBlockConfiguration
	}
	cfg.BlockPublicAcls, cfg.IgnorePublicAcls = aws.Bool(true), aws.Bool(true)
	cfg.BlockPublicPolicy, cfg.RestrictPublicBuckets = aws.Bool(aws.ToBool(cfg.BlockPublicPolicy)), aws.Bool(aws.ToBool(cfg.RestrictPublicBuckets))
	_, err = client.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(bucket), PublicAccessBlockConfiguration: &cfg})
	return err
}

func putBlockPublicAccess(ctx context.Context, client *s3.Client, bucket string) error {
	cfg := fullBlock()
	_, err := client.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(bucket), PublicAccessBlockConfiguration: &cfg})
	return err
}

func putObjectOwnership(ctx context.Context, client *s3.Client, bucket string) error {
	_, err := client.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{
		Bucket: aws.String(bucket),
		OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{
			{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced},
		}},
	})
	return err
}

func putEncryption(ctx context.Context, client *s3.Client, bucket string) error {
	_, err := client.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
		Bucket: aws.String(bucket),
		ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256},
		}}},
	})
	return err
}

// putVersioning enables or suspends versioning. S3 cannot return a bucket to "never versioned".
func putVersioning(ctx context.Context, client *s3.Client, bucket string, enabled bool) error {
	status := s3types.BucketVersioningStatusSuspended
	if enabled {
		status = s3types.BucketVersioningStatusEnabled
	}
	_, err := client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket:                  aws.String(bucket),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: status},
	})
	return err
}

// putAbortRule writes our lifecycle rule and keeps every other rule: PutBucketLifecycleConfiguration replaces
// the whole configuration, and rules someone else added are not ours to drop.
func putAbortRule(ctx context.Context, client *s3.Client, bucket string, days int32) error {
	rules, err := lifecycleRules(ctx, client, bucket)
	if err != nil {
		return err
	}
	rules = slices.DeleteFunc(rules, func(r s3types.LifecycleRule) bool { return aws.ToString(r.ID) == abortMultipartRuleID })
	if days > 0 {
		rules = append(rules, s3types.LifecycleRule{
			ID:                             aws.String(abortMultipartRuleID),
			Status:                         s3types.ExpirationStatusEnabled,
			Filter:                         &s3types.LifecycleRuleFilter{Prefix: aws.String("")},
			AbortIncompleteMultipartUpload: &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(days)},
		})
	}
	if len(rules) == 0 {
		_, err = client.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: aws.String(bucket)})
		return err
	}
	_, err = client.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
		Bucket:                 aws.String(bucket),
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: rules},
	})
	return err
}

// putTags replaces the bucket's tag set; an empty set is a delete, since S3 rejects an empty PutBucketTagging.
func putTags(ctx context.Context, client *s3.Client, bucket string, tags map[string]string) error {
	if len(tags) == 0 {
		_, err := client.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: aws.String(bucket)})
		return err
	}
	tagSet := make([]s3types.Tag, 0, len(tags))
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		tagSet = append(tagSet, s3types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	_, err := client.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{
		Bucket:  aws.String(bucket),
		Tagging: &s3types.Tagging{TagSet: tagSet},
	})
	return err
}

// lifecycleRules returns the bucket's lifecycle rules; none is an empty list, not an error.
func lifecycleRules(ctx context.Context, client *s3.Client, bucket string) ([]s3types.LifecycleRule, error) {
	out, err := client.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(bucket)})
	if isAPIError(err, "NoSuchLifecycleConfiguration") {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return out.Rules, nil
}

// readBucketSettings reads back every setting the resource manages. Settings that were never set read as
// their empty value; errBucketNotFound means the bucket is gone.
func readBucketSettings(ctx context.Context, client *s3.Client, bucket string) (bucketSettings, error) {
	var got bucketSettings
	head, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	if isNotFound(err) {
		// HeadBucket's 404 has no body, so no error code: a wrong endpoint or a misrouting proxy answers the
		// same. Only a GET's NoSuchBucket proves the bucket is gone.
		_, err = client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
		if isAPIError(err, "NoSuchBucket") {
			return got, errBucketNotFound
		}
		return got, fmt.Errorf("HeadBucket answered 404 Not Found, but GetBucketVersioning did not say NoSuchBucket: %w", cmp.Or(err, errors.New("it succeeded")))
	}
	if httpStatus(err) == http.StatusMovedPermanently {
		return got, &bucketRegionError{bucket: bucket, bucketRegion: bucketRegionHeader(err), clientRegion: client.Options().Region, err: err}
	}
	if err != nil {
		return got, fmt.Errorf("HeadBucket: %w", err)
	}
	got.region = aws.ToString(head.BucketRegion)

	reads := []struct {
		what string
		call func(context.Context) error
	}{
		{"versioning", func(ctx context.Context) error {
			out, err := client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
			if err == nil {
				got.versioning = out.Status == s3types.BucketVersioningStatusEnabled
			}
			return err
		}},
		{"lifecycle rules", func(ctx context.Context) error {
			rules, err := lifecycleRules(ctx, client, bucket)
			got.abortDays = abortDaysFrom(rules)
			return err
		}},
		{"tags", func(ctx context.Context) error {
			out, err := client.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(bucket)})
			if isAPIError(err, "NoSuchTagSet", "NoSuchTagSetError") {
				got.tags = map[string]string{}
				return nil
			}
			if err == nil {
				got.tags = make(map[string]string, len(out.TagSet))
				for _, t := range out.TagSet {
					got.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
				}
			}
			return err
		}},
		{"Object Ownership", func(ctx context.Context) error {
			out, err := client.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String(bucket)})
			switch {
			case isAPIError(err, "OwnershipControlsNotFoundError"):
				return nil
			case isNotImplemented(err):
				got.objectOwnership = unsupportedSetting
				return nil
			case err != nil:
				return err
			}
			if out.OwnershipControls != nil && len(out.OwnershipControls.Rules) > 0 {
				got.objectOwnership = string(out.OwnershipControls.Rules[0].ObjectOwnership)
			}
			return nil
		}},
		{"Block Public Access", func(ctx context.Context) error {
			out, err := client.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(bucket)})
			switch {
			case isAPIError(err, "NoSuchPublicAccessBlockConfiguration"):
				return nil
			case isNotImplemented(err):
				got.blockPublicAccessUnsupported = true
				return nil
			case err != nil:
				return err
			}
			if c := out.PublicAccessBlockConfiguration; c != nil {
				got.blockPublicAcls, got.ignorePublicAcls = aws.ToBool(c.BlockPublicAcls), aws.ToBool(c.IgnorePublicAcls)
			}
			return nil
		}},
		{"default encryption", func(ctx context.Context) error {
			out, err := client.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(bucket)})
			switch {
			case isAPIError(err, "ServerSideEncryptionConfigurationNotFoundError"):
				return nil
			case isNotImplemented(err):
				got.sseAlgorithm = unsupportedSetting
				return nil
			case err != nil:
				return err
			}
			if c := out.ServerSideEncryptionConfiguration; c != nil && len(c.Rules) > 0 && c.Rules[0].ApplyServerSideEncryptionByDefault != nil {
				got.sseAlgorithm = string(c.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm)
			}
			return nil
		}},
	}
	for _, r := range reads {
		err := r.call(ctx)
		if isAPIError(err, "NoSuchBucket") {
			return got, errBucketNotFound
		}
		if err != nil {
			return got, fmt.Errorf("reading %s: %w", r.what, err)
		}
	}
	return got, nil
}

// abortDaysFrom finds our rule among the bucket's lifecycle rules; 0 when it is missing or disabled.
func abortDaysFrom(rules []s3types.LifecycleRule) int32 {
	for _, r := range rules {
		if aws.ToString(r.ID) != abortMultipartRuleID || r.Status != s3types.ExpirationStatusEnabled || r.AbortIncompleteMultipartUpload == nil {
			continue
		}
		return aws.ToInt32(r.AbortIncompleteMultipartUpload.DaysAfterInitiation)
	}
	return 0
}

// deleteBucket deletes the bucket, first emptying it when force is set. A bucket already gone is success.
// It returns how many object versions it deleted.
func deleteBucket(ctx context.Context, client *s3.Client, bucket string, force bool) (int, error) {
	deleted := 0
	err := retryUntil(ctx, func(err error) bool {
		// With force, objects written while we emptied the bucket make it non-empty again: empty it again.
		return isAPIError(err, "OperationAborted") || (force && errors.Is(err, errBucketNotEmpty))
	}, func(ctx context.Context) error {
		if force {
			n, err := emptyBucket(ctx, client, bucket, deleteBatchSize)
			deleted += n
			if err != nil {
				return err
			}
		}
		_, err := client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
		if isAPIError(err, "BucketNotEmpty") {
			return fmt.Errorf("%w: %w", errBucketNotEmpty, err)
		}
		return err
	})
	if isNotFound(err) {
		return deleted, nil
	}
	return deleted, err
}

// emptyBucket deletes every object version and delete marker, at most batch keys per DeleteObjects call.
// It lists from the start each round, deleting what it finds, until a listing comes back empty; objects
// written meanwhile are caught by a later round.
func emptyBucket(ctx context.Context, client *s3.Client, bucket string, batch int) (int, error) {
	deleted := 0
	for {
		out, err := client.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{
			Bucket:  aws.String(bucket),
			MaxKeys: aws.Int32(int32(min(batch, 1000))), //nolint:gosec // G115: at most 1000
		})
		if err != nil {
			return deleted, fmt.Errorf("listing object versions: %w", err)
		}
		ids := make([]s3types.ObjectIdentifier, 0, len(out.Versions)+len(out.DeleteMarkers))
		for _, v := range out.Versions {
			ids = append(ids, s3types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
		}
		for _, m := range out.DeleteMarkers {
			ids = append(ids, s3types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
		}
		if len(ids) == 0 {
			return deleted, nil
		}
		for chunk := range slices.Chunk(ids, batch) {
			res, err := client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
				Bucket: aws.String(bucket),
				Delete: &s3types.Delete{Objects: chunk, Quiet: aws.Bool(true)},
			})
			if err != nil {
				return deleted, fmt.Errorf("deleting %d object versions: %w", len(chunk), err)
			}
			if len(res.Errors) > 0 {
				e := res.Errors[0]
				return deleted, fmt.Errorf("deleting %d object versions: %d failed, the first %q (version %s): %s: %s",
					len(chunk), len(res.Errors), aws.ToString(e.Key), aws.ToString(e.VersionId), aws.ToString(e.Code), aws.ToString(e.Message))
			}
			deleted += len(chunk)
		}
	}
}
