// Package provider implements the staticmedia Terraform provider on terraform-plugin-framework.
package provider

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/staticmedia/staticmedia/internal/awsconfig"
)

// RegistryAddress is the provider's source address.
const RegistryAddress = "registry.terraform.io/staticmedia/staticmedia"

var (
	_ provider.Provider              = (*staticmediaProvider)(nil)
	_ provider.ProviderWithFunctions = (*staticmediaProvider)(nil)
)

// New returns a constructor for the provider, as providerserver.Serve and the acceptance tests expect.
func New(version string) func() provider.Provider {
	return func() provider.Provider {
		return &staticmediaProvider{version: version}
	}
}

type staticmediaProvider struct {
	version string
}

// providerModel is the provider block. Its attribute names follow the hashicorp/aws provider so users can copy
// their settings across.
type providerModel struct {
	Region                    types.String `tfsdk:"region"`
	Profile                   types.String `tfsdk:"profile"`
	AccessKey                 types.String `tfsdk:"access_key"`
	SecretKey                 types.String `tfsdk:"secret_key"`
	Token                     types.String `tfsdk:"token"`
	S3UsePathStyle            types.Bool   `tfsdk:"s3_use_path_style"`
	MaxRetries                types.Int64  `tfsdk:"max_retries"`
	SkipCredentialsValidation types.Bool   `tfsdk:"skip_credentials_validation"`
	SkipUnsupportedBucketAPIs types.Bool   `tfsdk:"skip_unsupported_bucket_apis"`
	Endpoints                 types.Object `tfsdk:"endpoints"`
	DefaultTags               types.Object `tfsdk:"default_tags"`
}

type endpointsModel struct {
	S3        types.String `tfsdk:"s3"`
	IAM       types.String `tfsdk:"iam"`
	STS       types.String `tfsdk:"sts"`
	S3Control types.String `tfsdk:"s3control"`
}

type defaultTagsModel struct {
	Tags types.Map `tfsdk:"tags"`
}

// providerData is what Configure hands to every resource: the service clients and the facts resources derive
// values from (partition for ARNs, the S3 endpoint for public URLs).
type providerData struct {
	cfg         aws.Config
	opts        awsconfig.Options
	s3          *s3.Client
	iam         *iam.Client
	sts         *sts.Client
	s3control   *s3control.Client
	region      string
	partition   string
	accountID   string // empty when skip_credentials_validation is set
	defaultTags map[string]string
	// skipUnsupportedBucketAPIs lets bucket settings the S3 endpoint does not implement be skipped with a
	// warning (skip_unsupported_bucket_apis); without it they are errors.
	skipUnsupportedBucketAPIs bool
}

func (p *staticmediaProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "staticmedia"
	resp.Version = p.version
}

func (p *staticmediaProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	endpoint := func(service string) schema.StringAttribute {
		return schema.StringAttribute{
			MarkdownDescription: fmt.Sprintf("Override the %s endpoint URL, for example `http://127.0.0.1:5000` for a local engine. "+
				"Defaults to the SDK's resolution, which honours `AWS_ENDPOINT_URL_%s` and `AWS_ENDPOINT_URL`.", service, envServiceName(service)),
			Optional:   true,
			Validators: []validator.String{stringvalidator.RegexMatches(endpointPattern, "must be an http:// or https:// URL")},
		}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "The staticmedia provider declares what you need to serve user-uploaded images from Amazon S3: " +
			"the bucket, an upload-only IAM user with its access key (or a role CI assumes with its OIDC token), and a bucket " +
			"policy that lets browsers fetch objects only " +
			"when the HTTP Referer is your site (or absent). Authentication follows the AWS SDK's default chain unless set here.",
		Attributes: map[string]schema.Attribute{
			"region": schema.StringAttribute{
				MarkdownDescription: "AWS region, for example `eu-west-1`. Defaults to `AWS_REGION` or the profile's region.",
				Optional:            true,
			},
			"profile": schema.StringAttribute{
				MarkdownDescription: "Named profile from the shared AWS config and credentials files.",
				Optional:            true,
			},
			"access_key": schema.StringAttribute{
				MarkdownDescription: "Access key ID. Prefer the environment (`AWS_ACCESS_KEY_ID`) or a profile over writing keys in configuration.",
				Optional:            true,
			},
			"secret_key": schema.StringAttribute{
				MarkdownDescription: "Secret access key; set together with `access_key`.",
				Optional:            true,
				Sensitive:           true,
			},
			"token": schema.StringAttribute{
				MarkdownDescription: "Session token for temporary credentials.",
				Optional:            true,
				Sensitive:           true,
			},
			"s3_use_path_style": schema.BoolAttribute{
				MarkdownDescription: "Address buckets as `https://host/bucket` instead of `https://bucket.host`. Implied when `endpoints.s3` is set.",
				Optional:            true,
			},
			"max_retries": schema.Int64Attribute{
				MarkdownDescription: "Maximum attempts per AWS request. Defaults to the SDK's standard retryer (3).",
				Optional:            true,
				Validators:          []validator.Int64{int64validator.Between(1, 25)},
			},
			"skip_credentials_validation": schema.BoolAttribute{
				MarkdownDescription: "Skip the STS GetCallerIdentity check at configuration time. Needed for S3-only engines such as MinIO.",
				Optional:            true,
			},
			"skip_unsupported_bucket_apis": schema.BoolAttribute{
				MarkdownDescription: "For S3-compatible engines that lack some bucket APIs, such as MinIO (Object Ownership, " +
					"Block Public Access, SSE-S3 without a KMS, a lifecycle rule that only aborts multipart uploads): when " +
					"`true`, a setting the endpoint answers as not implemented (`NotImplemented`, or MinIO's `MalformedXML` " +
					"and `InvalidArgument` to these calls) is skipped with a warning and no longer checked for drift. " +
					"Defaults to `false`: any such answer is an error, as it must be on AWS, where every one of these settings " +
					"protects the bucket. An endpoint override alone never relaxes anything.",
				Optional: true,
			},
		},
		Blocks: map[string]schema.Block{
			"endpoints": schema.SingleNestedBlock{
				MarkdownDescription: "Service endpoint overrides, in the hashicorp/aws provider's syntax.",
				Attributes: map[string]schema.Attribute{
					"s3":        endpoint("S3"),
					"iam":       endpoint("IAM"),
					"sts":       endpoint("STS"),
					"s3control": endpoint("S3 Control"),
				},
			},
			"default_tags": schema.SingleNestedBlock{
				MarkdownDescription: "Tags added to every taggable resource this provider creates; a resource's own `tags` win.",
				Attributes: map[string]schema.Attribute{
					"tags": schema.MapAttribute{
						MarkdownDescription: "Tag keys and values.",
						ElementType:         types.StringType,
						Optional:            true,
						Validators:          []validator.Map{tagsValidator{}},
					},
				},
			},
		},
	}
}

func (p *staticmediaProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var data providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &data)...)
	if resp.Diagnostics.HasError() {
		return
	}
	endpoints, defaultTags := checkKnownSettings(ctx, &data, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}

	opts := awsconfig.Options{
		Region:         data.Region.ValueString(),
		Profile:        data.Profile.ValueString(),
		AccessKey:      data.AccessKey.ValueString(),
		SecretKey:      data.SecretKey.ValueString(),
		SessionToken:   data.Token.ValueString(),
		S3UsePathStyle: data.S3UsePathStyle.ValueBool(),
		MaxRetries:     int(data.MaxRetries.ValueInt64()),
		AppID:          "terraform-provider-staticmedia/" + p.version,
		Endpoints: awsconfig.Endpoints{
			S3:        endpoints.S3.ValueString(),
			IAM:       endpoints.IAM.ValueString(),
			STS:       endpoints.STS.ValueString(),
			S3Control: endpoints.S3Control.ValueString(),
		},
	}
	if (opts.AccessKey == "") != (opts.SecretKey == "") {
		attr := "secret_key"
		if opts.AccessKey == "" {
			attr = "access_key"
		}
		resp.Diagnostics.AddAttributeError(path.Root(attr), "Incomplete Static Credentials",
			"access_key and secret_key must be set together. Set both, or neither to use the AWS SDK's default credential chain (environment, profile, instance role).")
		return
	}

	cfg, err := awsconfig.Load(ctx, opts)
	if err != nil {
		resp.Diagnostics.Append(loadAWSConfigError(err))
		return
	}
	pd := &providerData{
		cfg:       cfg,
		opts:      opts,
		s3:        opts.S3(cfg),
		iam:       opts.IAM(cfg),
		sts:       opts.STS(cfg),
		s3control: opts.S3Control(cfg),
		region:    cfg.Region,
		partition: awsconfig.Partition(cfg.Region),

		skipUnsupportedBucketAPIs: data.SkipUnsupportedBucketAPIs.ValueBool(),
	}
	// A null value in default_tags means "no such tag", as in a resource's tags: it is dropped, never sent as "".
	pd.defaultTags, _, _ = mapFromTerraform(ctx, defaultTags.Tags)

	if !data.SkipCredentialsValidation.ValueBool() {
		accountID, partition, err := validateCredentials(ctx, pd.sts)
		if err != nil {
			resp.Diagnostics.Append(invalidCredentialsError(err))
			return
		}
		pd.accountID = accountID
		// The caller's own ARN names the partition for certain; the region only suggests it (and an
		// endpoint override can point a commercial region name at a China or GovCloud endpoint).
		if partition != "" {
			pd.partition = partition
		}
	}
	tflog.Debug(ctx, "configured staticmedia provider", map[string]any{
		"region":          pd.region,
		"account_id":      pd.accountID,
		"endpoint_s3":     opts.Endpoints.S3,
		"endpoint_iam":    opts.Endpoints.IAM,
		"static_keys":     opts.AccessKey != "",
		"skip_validation": data.SkipCredentialsValidation.ValueBool(),
	})

	resp.ResourceData = pd
	resp.DataSourceData = pd
}

// validateCredentials makes one bounded GetCallerIdentity call: a bad key must fail fast with a clear message,
// not after a stack of retries. It returns the account ID and the partition of the caller's ARN ("" when the
// answer has no parsable ARN).
func validateCredentials(ctx context.Context, client *sts.Client) (accountID, partition string, err error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, func(o *sts.Options) {
		o.RetryMaxAttempts = 2
	})
	if err != nil {
		return "", "", err
	}
	if aws.ToString(out.Account) == "" {
		return "", "", errors.New("the response named no account")
	}
	if caller, err := arn.Parse(aws.ToString(out.Arn)); err == nil {
		partition = caller.Partition
	}
	return aws.ToString(out.Account), partition, nil
}

// checkKnownSettings reports every provider setting that is unknown at plan time (set from a resource
// attribute that only apply will know) on its own path, and returns the endpoints and default_tags blocks.
// Unknown settings are errors rather than planned-as-unknown results: the provider talks to AWS while
// planning (refresh, the credential check), so it must know where and as whom before any plan is right.
func checkKnownSettings(ctx context.Context, data *providerModel, diags *diag.Diagnostics) (endpointsModel, defaultTagsModel) {
	unknown := func(p path.Path, title string) {
		diags.AddAttributeError(p, "Unknown "+title,
			fmt.Sprintf("The provider cannot be configured: %s depends on a value that is only known after apply (such as "+
				"another resource's attribute), and the provider needs it while planning to read resources and build "+
				"their plans. Set it from a value known at plan time (a literal, a variable, a local or a data source), "+
				"or create what it depends on first with `terraform apply -target=<that resource>`, then apply the rest.", p))
	}
	for _, s := range []struct {
		name, title string
		value       attr.Value
	}{
		{"region", "Region", data.Region},
		{"profile", "Profile", data.Profile},
		{"access_key", "Access Key", data.AccessKey},
		{"secret_key", "Secret Key", data.SecretKey},
		{"token", "Session Token", data.Token},
		{"s3_use_path_style", "S3 Path-Style Setting", data.S3UsePathStyle},
		{"max_retries", "Max Retries", data.MaxRetries},
		{"skip_credentials_validation", "Credentials Validation Setting", data.SkipCredentialsValidation},
		{"skip_unsupported_bucket_apis", "Unsupported Bucket APIs Setting", data.SkipUnsupportedBucketAPIs},
		{"endpoints", "Endpoints", data.Endpoints},
		{"default_tags", "Default Tags", data.DefaultTags},
	} {
		if s.value.IsUnknown() {
			unknown(path.Root(s.name), s.title)
		}
	}
	var endpoints endpointsModel
	if !data.Endpoints.IsNull() && !data.Endpoints.IsUnknown() {
		diags.Append(data.Endpoints.As(ctx, &endpoints, basetypes.ObjectAsOptions{})...)
		for _, e := range []struct {
			name, title string
			value       types.String
		}{
			{"s3", "S3 Endpoint", endpoints.S3}, {"iam", "IAM Endpoint", endpoints.IAM},
			{"sts", "STS Endpoint", endpoints.STS}, {"s3control", "S3 Control Endpoint", endpoints.S3Control},
		} {
			if e.value.IsUnknown() {
				unknown(path.Root("endpoints").AtName(e.name), e.title)
			}
		}
	}
	defaultTags := defaultTagsModel{Tags: types.MapNull(types.StringType)}
	if !data.DefaultTags.IsNull() && !data.DefaultTags.IsUnknown() {
		diags.Append(data.DefaultTags.As(ctx, &defaultTags, basetypes.ObjectAsOptions{})...)
		tagsPath := path.Root("default_tags").AtName("tags")
		switch {
		case defaultTags.Tags.IsUnknown():
			unknown(tagsPath, "Default Tags")
		default:
			for _, k := range slices.Sorted(maps.Keys(defaultTags.Tags.Elements())) {
				if defaultTags.Tags.Elements()[k].IsUnknown() {
					unknown(tagsPath.AtMapKey(k), "Default Tag")
				}
			}
		}
	}
	return endpoints, defaultTags
}

func (p *staticmediaProvider) Resources(_ context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		// One line per resource; each lives in its own <name>_resource.go.
		NewRefererPolicyResource,
		NewBucketCORSResource,
		NewBucketResource,
		NewUploadUserResource,
		NewUploadAccessKeyResource,
		NewUploadRoleResource,
	}
}

func (p *staticmediaProvider) DataSources(_ context.Context) []func() datasource.DataSource {
	return nil
}

func (p *staticmediaProvider) Functions(_ context.Context) []func() function.Function {
	return []func() function.Function{
		// One line per function; each lives in its own <name>_function.go.
		NewUploadPolicyFunction,
		NewRefererPolicyFunction,
		NewCITrustPolicyFunction,
	}
}
