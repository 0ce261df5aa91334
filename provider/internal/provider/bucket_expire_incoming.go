package provider

import (
	"context"
	"regexp"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
)

// expireIncomingRuleID names the second lifecycle rule this resource owns: it expires browser uploads that were
// never confirmed (moved out of the incoming prefix) after some days.
const expireIncomingRuleID = "staticmedia-expire-incoming"

// expireIncoming is the expire_incoming setting: objects below prefix expire days after they were written.
type expireIncoming struct {
	prefix string
	days   int32
}

type expireIncomingModel struct {
	Prefix types.String `tfsdk:"prefix"`
	Days   types.Int64  `tfsdk:"days"`
}

var expireIncomingAttrTypes = map[string]attr.Type{"prefix": types.StringType, "days": types.Int64Type}

func expireIncomingAttribute() schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		MarkdownDescription: "Expire browser uploads left below a prefix: every object below `prefix` is deleted `days` " +
			"after it was written, through the lifecycle rule `" + expireIncomingRuleID + "`, which this resource owns " +
			"beside the multipart rule; other lifecycle rules are kept. Removing the attribute deletes only that rule.\n\n" +
			"S3 cannot tell a confirmed upload from an unconfirmed one: the rule deletes both. Set it only when the " +
			"application copies each confirmed upload to a key outside `prefix` (and links that copy) within `days`; in " +
			"the direct uploads guide's flow, where confirmed uploads keep their `incoming/` key, it would delete them. " +
			"With `versioning` on, an expired object only becomes a noncurrent version, which this rule does not remove.",
		Optional: true,
		Attributes: map[string]schema.Attribute{
			"prefix": schema.StringAttribute{
				MarkdownDescription: "Key prefix the browser uploads land under, ending with `/`, for example `incoming/`. Every object below it expires.",
				Required:            true,
				Validators: []validator.String{
					stringvalidator.LengthAtLeast(1),
					stringvalidator.RegexMatches(regexp.MustCompile(`/$`), `must end with "/", for example "incoming/"`),
					// A rule below "/incoming/" would never match: the signer refuses a key prefix with a leading slash.
					stringvalidator.RegexMatches(regexp.MustCompile(`^[^/]`), `must not start with "/": the signer never signs a key with a leading slash, so such a rule would expire nothing (write "incoming/")`),
				},
			},
			"days": schema.Int64Attribute{
				MarkdownDescription: "Days after which an object below `prefix` expires.",
				Required:            true,
				Validators:          []validator.Int64{int64validator.Between(1, 36500)},
			},
		},
	}
}

// expireIncomingFrom reads the planned attribute; nil when it is not set.
func expireIncomingFrom(ctx context.Context, v types.Object) (*expireIncoming, diag.Diagnostics) {
	if v.IsNull() || v.IsUnknown() {
		return nil, nil
	}
	var m expireIncomingModel
	diags := v.As(ctx, &m, basetypes.ObjectAsOptions{})
	if diags.HasError() {
		return nil, diags
	}
	return &expireIncoming{prefix: m.Prefix.ValueString(), days: int32(m.Days.ValueInt64())}, diags //nolint:gosec // G115: the schema validator bounds it
}

// expireIncomingValue is the attribute value of what was read: null when the bucket has no such rule.
func expireIncomingValue(e *expireIncoming) types.Object {
	if e == nil {
		return types.ObjectNull(expireIncomingAttrTypes)
	}
	return types.ObjectValueMust(expireIncomingAttrTypes, map[string]attr.Value{
		"prefix": types.StringValue(e.prefix),
		"days":   types.Int64Value(int64(e.days)),
	})
}

// expireIncomingIn finds our rule among the bucket's lifecycle rules; nil when it is missing, disabled or not
// an expiration by days below a prefix.
func expireIncomingIn(rules []s3types.LifecycleRule) *expireIncoming {
	for _, r := range rules {
		if aws.ToString(r.ID) != expireIncomingRuleID || r.Status != s3types.ExpirationStatusEnabled || r.Expiration == nil || r.Expiration.Days == nil {
			continue
		}
		prefix := aws.ToString(r.Prefix) //nolint:staticcheck // engines may still answer with the legacy top-level prefix
		if r.Filter != nil && r.Filter.Prefix != nil {
			prefix = aws.ToString(r.Filter.Prefix)
		}
		return &expireIncoming{prefix: prefix, days: aws.ToInt32(r.Expiration.Days)}
	}
	return nil
}

// putExpireIncomingRule writes (or, with e nil, removes) our expiration rule and keeps every other rule.
func putExpireIncomingRule(ctx context.Context, client *s3.Client, bucket string, e *expireIncoming) error {
	var rule *s3types.LifecycleRule
	if e != nil {
		rule = &s3types.LifecycleRule{
			ID:         aws.String(expireIncomingRuleID),
			Status:     s3types.ExpirationStatusEnabled,
			Filter:     &s3types.LifecycleRuleFilter{Prefix: aws.String(e.prefix)},
			Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(e.days)},
		}
	}
	return putLifecycleRule(ctx, client, bucket, expireIncomingRuleID, rule)
}

// putLifecycleRule replaces the lifecycle rule with the given ID by rule (nil removes it), keeping every other
// rule: PutBucketLifecycleConfiguration replaces the whole configuration, and rules someone else added are not
// ours to drop. The configuration's TransitionDefaultMinimumObjectSize is put back as read: left out, S3 resets
// it to its default, which changes when the other rules' transitions apply.
func putLifecycleRule(ctx context.Context, client *s3.Client, bucket, id string, rule *s3types.LifecycleRule) error {
	current, err := lifecycleConfiguration(ctx, client, bucket)
	if err != nil {
		return err
	}
	rules := current.Rules
	rules = slices.DeleteFunc(rules, func(r s3types.LifecycleRule) bool { return aws.ToString(r.ID) == id })
	if rule != nil {
		rules = append(rules, *rule)
	}
	if len(rules) == 0 {
		_, err = client.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: aws.String(bucket)})
		return err
	}
	_, err = client.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
		Bucket:                             aws.String(bucket),
		LifecycleConfiguration:             &s3types.BucketLifecycleConfiguration{Rules: rules},
		TransitionDefaultMinimumObjectSize: current.TransitionDefaultMinimumObjectSize,
	})
	return err
}
