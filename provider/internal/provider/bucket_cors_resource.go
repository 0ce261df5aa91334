package provider

import (
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/staticmedia/staticmedia/internal/policy"
)

var (
	_ resource.ResourceWithConfigure      = (*bucketCORSResource)(nil)
	_ resource.ResourceWithImportState    = (*bucketCORSResource)(nil)
	_ resource.ResourceWithValidateConfig = (*bucketCORSResource)(nil)
)

// Default timeouts. Create retries NoSuchBucket for bucketCORSSettleTime after a bucket was created in the
// same apply; the others make one call each.
const (
	bucketCORSCreateTimeout = 5 * time.Minute
	bucketCORSReadTimeout   = 2 * time.Minute
	bucketCORSUpdateTimeout = 5 * time.Minute
	bucketCORSDeleteTimeout = 5 * time.Minute
	bucketCORSSettleTime    = 45 * time.Second
)

// corsMethods are the methods a rule may allow: what a browser uploads or reads with. DELETE is left out on
// purpose: no page of the site needs to delete objects with a browser.
var corsMethods = []string{"GET", "HEAD", "POST", "PUT"}

// NewBucketCORSResource returns the staticmedia_bucket_cors resource.
func NewBucketCORSResource() resource.Resource {
	return &bucketCORSResource{}
}

type bucketCORSResource struct {
	pd *providerData
}

type bucketCORSResourceModel struct {
	ID             types.String   `tfsdk:"id"`
	Bucket         types.String   `tfsdk:"bucket"`
	AllowedOrigins types.Set      `tfsdk:"allowed_origins"`
	AllowedMethods types.Set      `tfsdk:"allowed_methods"`
	AllowedHeaders types.Set      `tfsdk:"allowed_headers"`
	ExposeHeaders  types.Set      `tfsdk:"expose_headers"`
	MaxAgeSeconds  types.Int64    `tfsdk:"max_age_seconds"`
	Timeouts       timeouts.Value `tfsdk:"timeouts"`
}

func (r *bucketCORSResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_bucket_cors"
}

func stringSet(ss ...string) types.Set {
	vals := make([]attr.Value, len(ss))
	for i, s := range ss {
		vals[i] = types.StringValue(s)
	}
	return types.SetValueMust(types.StringType, vals)
}

func (r *bucketCORSResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The bucket's CORS configuration: which web pages may upload to the bucket from a browser " +
			"(a presigned POST form, see the direct uploads guide) and read the answer. It is the only writer of the " +
			"bucket's CORS configuration (like `aws_s3_bucket_cors_configuration`): it writes one rule, reads the whole " +
			"configuration back so that a rule changed or added outside Terraform shows in the plan and the next apply " +
			"puts the one rule back, and deletes the configuration on destroy. Do not manage the bucket's CORS elsewhere.\n\n" +
			"CORS is not access control: it only decides which pages a browser lets read the answer. What a form may " +
			"upload is decided by the form's signed conditions.\n\n" +
			"MinIO ignores bucket CORS (its CORS is the server-wide `MINIO_API_CORS_ALLOW_ORIGIN` setting) and refuses " +
			"this resource with an error saying so.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The bucket name.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"bucket": schema.StringAttribute{
				MarkdownDescription: "Name of an existing bucket; with `staticmedia_bucket`, use its `id`. Changing it moves " +
					"the configuration to the new bucket (replacement).",
				Required:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:    []validator.String{bucketNameValidator{}},
			},
			"allowed_origins": schema.SetAttribute{
				MarkdownDescription: "The origins of the pages that upload, exactly as a browser sends them in `Origin`: " +
					"`https://www.example.com`, or with a port, `http://127.0.0.1:8080`. Scheme and host in lower case, no " +
					"path, no trailing `/`, no default port (`:443`, `:80`), an internationalized host in its punycode form. Wildcards, `*` alone included, are refused: the site's origins are known, and " +
					"`*` would let every page on the web read the answers to uploads made with a form it got hold of.",
				ElementType: types.StringType,
				Required:    true,
				Validators: []validator.Set{
					setvalidator.SizeAtLeast(1),
					setvalidator.ValueStringsAre(stringCheck{summary: "Invalid Origin",
						description: "must be an origin such as https://www.example.com (scheme, host, optional port)", check: validateOrigin}),
				},
			},
			"allowed_methods": schema.SetAttribute{
				MarkdownDescription: "HTTP methods pages may use: `POST` (a presigned form, the default), `PUT` " +
					"(a presigned URL), `GET` and `HEAD`.",
				ElementType: types.StringType,
				Optional:    true,
				Computed:    true,
				Default:     setdefault.StaticValue(stringSet("POST")),
				Validators: []validator.Set{
					setvalidator.SizeAtLeast(1),
					setvalidator.ValueStringsAre(stringvalidator.OneOf(corsMethods...)),
				},
			},
			"allowed_headers": schema.SetAttribute{
				MarkdownDescription: "Request headers a preflight may ask for (`Access-Control-Request-Headers`). A form " +
					"posted with `fetch` and `FormData` sends none that need it, so the default is none; a client that sets " +
					"its own headers (`x-amz-*` for a presigned `PUT`) lists them here. Compared case-insensitively by S3; " +
					"write them in lower case.",
				ElementType: types.StringType,
				Optional:    true,
				Computed:    true,
				Default:     setdefault.StaticValue(stringSet()),
				Validators: []validator.Set{setvalidator.ValueStringsAre(stringCheck{summary: "Invalid Header Name",
					description: "must be a lower-case HTTP header name", check: validateHeaderName})},
			},
			"expose_headers": schema.SetAttribute{
				MarkdownDescription: "Response headers the page may read. Must include `ETag` (the default is just " +
					"`ETag`): the page reads it from the upload's answer to tell the app which version it uploaded.",
				ElementType: types.StringType,
				Optional:    true,
				Computed:    true,
				Default:     setdefault.StaticValue(stringSet("ETag")),
			},
			"max_age_seconds": schema.Int64Attribute{
				MarkdownDescription: "How long a browser may cache a preflight answer, in seconds. Defaults to `3000`; " +
					"browsers cap it (Chromium at 7200).",
				Optional:   true,
				Computed:   true,
				Default:    int64default.StaticInt64(3000),
				Validators: []validator.Int64{int64validator.Between(0, 86400)},
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}),
		},
	}
}

func (r *bucketCORSResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.pd = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig requires ETag among the exposed headers: without it the page cannot read which version it
// uploaded, the mistake direct-upload users make most.
func (r *bucketCORSResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var data bucketCORSResourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &data)...)
	if resp.Diagnostics.HasError() || data.ExposeHeaders.IsNull() || data.ExposeHeaders.IsUnknown() {
		return
	}
	// An element known only at apply may be ETag: the check waits for it (validation runs again then).
	var expose []types.String
	resp.Diagnostics.Append(data.ExposeHeaders.ElementsAs(ctx, &expose, false)...)
	if resp.Diagnostics.HasError() || slices.ContainsFunc(expose, func(h types.String) bool {
		return h.IsUnknown() || strings.EqualFold(h.ValueString(), "ETag")
	}) {
		return
	}
	resp.Diagnostics.AddAttributeError(path.Root("expose_headers"), "ETag Not Exposed",
		"expose_headers must include \"ETag\": a page cannot read the upload answer's ETag otherwise. Add \"ETag\" to the set, "+
			"or leave expose_headers out for the default [\"ETag\"].")
}

func (r *bucketCORSResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	r.apply(ctx, req.Plan, &resp.State, &resp.Diagnostics, "Create")
}

func (r *bucketCORSResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var data bucketCORSResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &data)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withTimeout(ctx, data.Timeouts.Read, bucketCORSReadTimeout, &resp.Diagnostics)
	defer cancel()
	if resp.Diagnostics.HasError() {
		return
	}

	bucket := data.Bucket.ValueString()
	rules, err := getBucketCORS(ctx, r.pd.s3, bucket)
	if isAPIError(err, errCodeNoSuchCORSConfiguration, errCodeNoSuchBucket) {
		tflog.Warn(ctx, "bucket CORS configuration or bucket is gone; removing it from state", map[string]any{"bucket": bucket, "error": err.Error()})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.Append(readBucketCORSError(bucket, err))
		return
	}
	data.ID = data.Bucket
	resp.Diagnostics.Append(data.fromRules(ctx, rules)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &data)...)
}

func (r *bucketCORSResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	r.apply(ctx, req.Plan, &resp.State, &resp.Diagnostics, "Update")
}

func (r *bucketCORSResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var data bucketCORSResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &data)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withTimeout(ctx, data.Timeouts.Delete, bucketCORSDeleteTimeout, &resp.Diagnostics)
	defer cancel()
	if resp.Diagnostics.HasError() {
		return
	}

	bucket := data.Bucket.ValueString()
	err := retryUntil(ctx, func(err error) bool { return isAPIError(err, errCodeOperationAborted) }, func(ctx context.Context) error {
		_, err := r.pd.s3.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: aws.String(bucket)})
		return err
	})
	if err != nil && !isAPIError(err, errCodeNoSuchBucket, errCodeNoSuchCORSConfiguration) {
		resp.Diagnostics.Append(deleteBucketCORSError(bucket, err))
	}
}

// ImportState takes the bucket name; Read fills the rest from the stored rules.
func (r *bucketCORSResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if err := policy.ValidateBucketName(req.ID); err != nil {
		resp.Diagnostics.Append(bucketCORSImportIDError(err))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("bucket"), req.ID)...)
}

// apply is Create and Update, which do the same thing: read the plan, write the rule within the timeout, save it.
func (r *bucketCORSResource) apply(ctx context.Context, plan tfsdk.Plan, state *tfsdk.State, diags *diag.Diagnostics, op string) {
	var data bucketCORSResourceModel
	diags.Append(plan.Get(ctx, &data)...)
	if diags.HasError() {
		return
	}
	timeoutFor, fallback := timeoutFunc(data.Timeouts.Update), bucketCORSUpdateTimeout
	if op == "Create" {
		timeoutFor, fallback = data.Timeouts.Create, bucketCORSCreateTimeout
	}
	ctx, cancel := withTimeout(ctx, timeoutFor, fallback, diags)
	defer cancel()
	if diags.HasError() {
		return
	}
	diags.Append(r.put(ctx, &data, op)...)
	if diags.HasError() {
		return
	}
	diags.Append(state.Set(ctx, &data)...)
}

// put writes the one rule the model describes.
func (r *bucketCORSResource) put(ctx context.Context, data *bucketCORSResourceModel, op string) diag.Diagnostics {
	var diags diag.Diagnostics
	rule, d := data.rule(ctx)
	diags.Append(d...)
	if diags.HasError() {
		return diags
	}
	bucket := data.Bucket.ValueString()
	err := putBucketCORS(ctx, r.pd.s3, bucket, rule, bucketCORSSettleTime)
	switch {
	case isNotImplemented(err):
		diags.Append(bucketCORSNotImplementedError(op, bucket, err))
		return diags
	case err != nil:
		diags.Append(putBucketCORSError(op, bucket, err))
		return diags
	}
	data.ID = data.Bucket
	return diags
}

// rule is the CORS rule the model describes, every list sorted so that what is written is the same each time.
func (m *bucketCORSResourceModel) rule(ctx context.Context) (s3types.CORSRule, diag.Diagnostics) {
	var diags diag.Diagnostics
	var origins, methods, headers, expose []string
	diags.Append(m.AllowedOrigins.ElementsAs(ctx, &origins, false)...)
	diags.Append(m.AllowedMethods.ElementsAs(ctx, &methods, false)...)
	diags.Append(m.AllowedHeaders.ElementsAs(ctx, &headers, false)...)
	diags.Append(m.ExposeHeaders.ElementsAs(ctx, &expose, false)...)
	for _, s := range [][]string{origins, methods, headers, expose} {
		slices.Sort(s)
	}
	rule := s3types.CORSRule{AllowedOrigins: origins, AllowedMethods: methods, ExposeHeaders: expose}
	if len(headers) > 0 {
		rule.AllowedHeaders = headers
	}
	if !m.MaxAgeSeconds.IsNull() {
		rule.MaxAgeSeconds = aws.Int32(int32(m.MaxAgeSeconds.ValueInt64())) //nolint:gosec // G115: validated to 0..86400
	}
	return rule, diags
}

// fromRules records what the bucket holds. One rule is recorded as it is. Several (added outside Terraform)
// are merged so that the plan shows every difference that matters: origins, methods and headers are the union
// of what the rules allow, exposed headers what all of them expose (S3 applies the first matching rule, so a
// rule that hides ETag counts), and the maximum age the first rule's. When the merge equals the configuration,
// no rule grants more than the configuration does.
func (m *bucketCORSResourceModel) fromRules(ctx context.Context, rules []s3types.CORSRule) diag.Diagnostics {
	var diags diag.Diagnostics
	var origins, methods, headers, expose []string
	for i, r := range rules {
		origins = append(origins, r.AllowedOrigins...)
		methods = append(methods, r.AllowedMethods...)
		headers = append(headers, r.AllowedHeaders...)
		if i == 0 {
			expose = append([]string(nil), r.ExposeHeaders...)
		} else {
			expose = slices.DeleteFunc(expose, func(h string) bool { return !slices.Contains(r.ExposeHeaders, h) })
		}
	}
	set := func(ss []string) types.Set {
		slices.Sort(ss)
		ss = append([]string{}, slices.Compact(ss)...) // empty, not null: a nil slice makes a null set
		v, d := types.SetValueFrom(ctx, types.StringType, ss)
		diags.Append(d...)
		return v
	}
	m.AllowedOrigins, m.AllowedMethods, m.AllowedHeaders, m.ExposeHeaders = set(origins), set(methods), set(headers), set(expose)
	m.MaxAgeSeconds = types.Int64Null()
	if len(rules) > 0 && rules[0].MaxAgeSeconds != nil {
		m.MaxAgeSeconds = types.Int64Value(int64(*rules[0].MaxAgeSeconds))
	}
	return diags
}

// bucketCORSAPI is the part of *s3.Client this resource uses.
type bucketCORSAPI interface {
	PutBucketCors(context.Context, *s3.PutBucketCorsInput, ...func(*s3.Options)) (*s3.PutBucketCorsOutput, error)
	GetBucketCors(context.Context, *s3.GetBucketCorsInput, ...func(*s3.Options)) (*s3.GetBucketCorsOutput, error)
}

// putBucketCORS replaces the bucket's CORS configuration with the one rule. NoSuchBucket is retried for settle
// (a bucket created moments ago), OperationAborted until ctx ends.
func putBucketCORS(ctx context.Context, client bucketCORSAPI, bucket string, rule s3types.CORSRule, settle time.Duration) error {
	start := time.Now()
	return retryUntil(ctx, func(err error) bool {
		return isAPIError(err, errCodeOperationAborted) || (isAPIError(err, errCodeNoSuchBucket) && time.Since(start) < settle)
	}, func(ctx context.Context) error {
		_, err := client.PutBucketCors(ctx, &s3.PutBucketCorsInput{
			Bucket:            aws.String(bucket),
			CORSConfiguration: &s3types.CORSConfiguration{CORSRules: []s3types.CORSRule{rule}},
		})
		return err
	})
}

// getBucketCORS returns the bucket's CORS rules.
func getBucketCORS(ctx context.Context, client bucketCORSAPI, bucket string) ([]s3types.CORSRule, error) {
	out, err := client.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String(bucket)})
	if err != nil {
		return nil, err
	}
	return out.CORSRules, nil
}

// validateOrigin accepts what a browser sends in Origin: http or https, a lower-case host, an optional port,
// nothing else.
func validateOrigin(origin string) error {
	if strings.Contains(origin, "*") {
		return fmt.Errorf("%q has a wildcard; list each origin of the site, such as https://www.example.com", origin)
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an origin; write scheme and host, such as https://www.example.com", origin)
	}
	if u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || strings.HasSuffix(origin, "?") || strings.HasSuffix(origin, "#") {
		return fmt.Errorf("%q has more than scheme, host and port; an Origin header has no path (write %s://%s)", origin, u.Scheme, u.Host)
	}
	if origin != strings.ToLower(origin) {
		return fmt.Errorf("%q has upper-case letters; browsers send origins in lower case (write %s)", origin, strings.ToLower(origin))
	}
	// S3 compares the Origin header with each allowed origin as strings, so an origin must be
	// written as browsers serialize it, or no browser's request ever matches it.
	host, port := u.Hostname(), u.Port()
	if port == "" && strings.HasSuffix(u.Host, ":") {
		return fmt.Errorf("%q has an empty port; write %s://%s", origin, u.Scheme, strings.TrimSuffix(u.Host, ":"))
	}
	hostPart := u.Host
	if port != "" {
		hostPart = strings.TrimSuffix(u.Host, ":"+port)
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		switch {
		case err != nil || n < 1 || n > 65535:
			return fmt.Errorf("%q: the port must be between 1 and 65535", origin)
		case n == 443 && u.Scheme == "https" || n == 80 && u.Scheme == "http":
			return fmt.Errorf("%q names the scheme's default port, which browsers leave out of Origin: write %s://%s", origin, u.Scheme, hostPart)
		case strconv.Itoa(n) != port:
			return fmt.Errorf("%q: browsers send the port without leading zeros: write %s://%s:%d", origin, u.Scheme, hostPart, n)
		}
	}
	if strings.ContainsFunc(host, func(r rune) bool { return r > unicode.MaxASCII }) {
		return fmt.Errorf("%q: browsers send an internationalized host in its ASCII (punycode, xn--...) form: write that form", origin)
	}
	if strings.HasPrefix(u.Host, "[") {
		if a, err := netip.ParseAddr(host); err == nil && !a.Is4In6() && a.Zone() == "" && a.String() != host {
			canonical := "[" + a.String() + "]"
			if port != "" {
				canonical += ":" + port
			}
			return fmt.Errorf("%q: browsers send IPv6 addresses in their shortest form: write %s://%s", origin, u.Scheme, canonical)
		}
	}
	return nil
}

// validateHeaderName accepts a lower-case HTTP header name (RFC 9110 token characters).
func validateHeaderName(h string) error {
	if h == "" {
		return fmt.Errorf("a header name cannot be empty")
	}
	if h != strings.ToLower(h) {
		return fmt.Errorf("%q: write header names in lower case (%s)", h, strings.ToLower(h))
	}
	for _, c := range h {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && !strings.ContainsRune("!#$%&'*+-.^_`|~", c) {
			return fmt.Errorf("%q is not an HTTP header name (character %q)", h, c)
		}
	}
	return nil
}
