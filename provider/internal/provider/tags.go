package provider

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Tags work as in the hashicorp/aws provider: a resource's `tags` are what its configuration says, and the
// computed `tags_all` is the provider's default_tags overlaid with them, which is what the resource puts on
// AWS. Every taggable resource goes through the helpers below so the rules are the same everywhere.

// defaultTagsOf returns the provider's default tags; nil before the provider is configured (Terraform
// validates and plans some resources before Configure has run).
func defaultTagsOf(pd *providerData) map[string]string {
	if pd == nil {
		return nil
	}
	return pd.defaultTags
}

// planTagsAll is the tags_all a plan shows for the configured tags: the merge once every tag is known,
// unknown until then.
func planTagsAll(ctx context.Context, defaults map[string]string, tags types.Map) (types.Map, diag.Diagnostics) {
	own, known, diags := mapFromTerraform(ctx, tags)
	if !known || diags.HasError() {
		return types.MapUnknown(types.StringType), diags
	}
	all := mergeTags(defaults, own)
	if len(all) > maxTags && len(own) > 0 {
		// Each map passed tagsValidator; the merge is what AWS receives.
		diags.AddAttributeError(path.Root("tags"), "Too Many Tags",
			fmt.Sprintf("%d tags are set on this resource with the provider's default_tags (%d here, %d there, %d keys in both); "+
				"AWS accepts at most %d per resource. Remove some here or in default_tags.",
				len(all), len(own), len(defaults), len(own)+len(defaults)-len(all), maxTags))
		return types.MapUnknown(types.StringType), diags
	}
	return mapToTerraform(all), diags
}

// desiredTagsAll is the tag set apply puts on AWS for the configured tags.
func desiredTagsAll(ctx context.Context, defaults map[string]string, tags types.Map) (map[string]string, diag.Diagnostics) {
	own, _, diags := mapFromTerraform(ctx, tags)
	return mergeTags(defaults, own), diags
}

// readTags splits the tags read from AWS into `tags` and `tags_all`. configured is the `tags` value in the
// state before the read: it stays null when it was null and nothing but default tags is on the resource,
// so a configuration without `tags` shows no diff.
func readTags(ctx context.Context, defaults map[string]string, configured types.Map, remote map[string]string) (tags, tagsAll types.Map, diags diag.Diagnostics) {
	prior, _, diags := mapFromTerraform(ctx, configured)
	if diags.HasError() {
		return configured, types.MapNull(types.StringType), diags
	}
	own := ownTags(remote, defaults, prior)
	tags = configured
	if len(own) > 0 || !configured.IsNull() {
		tags = withNullTags(own, configured)
	}
	return tags, mapToTerraform(remote), diags
}

// withNullTags converts own into a Terraform map and puts back the keys that configured holds with a null
// value. A null tag value means "no such tag": it is never sent, so AWS cannot return it, but the state
// must keep it as the configuration wrote it or every plan would show it being added again.
func withNullTags(own map[string]string, configured types.Map) types.Map {
	elems := make(map[string]attr.Value, len(own))
	for k, v := range own {
		elems[k] = types.StringValue(v)
	}
	if !configured.IsNull() && !configured.IsUnknown() {
		for k, v := range configured.Elements() {
			if _, set := own[k]; !set && v.IsNull() {
				elems[k] = types.StringNull()
			}
		}
	}
	return types.MapValueMust(types.StringType, elems)
}

// mergeTags returns the provider's default tags overlaid with the resource's own.
func mergeTags(defaults, own map[string]string) map[string]string {
	all := make(map[string]string, len(defaults)+len(own))
	maps.Copy(all, defaults)
	maps.Copy(all, own)
	return all
}

// ownTags splits a resource's tags read from AWS back into its `tags`: a tag that a default tag explains
// (same key and value) belongs to tags_all only, unless the configuration also set it (prior), so neither
// side shows a perpetual diff.
func ownTags(remote, defaults, prior map[string]string) map[string]string {
	own := make(map[string]string, len(remote))
	for k, v := range remote {
		if d, ok := defaults[k]; ok && d == v {
			if _, configured := prior[k]; !configured {
				continue
			}
		}
		own[k] = v
	}
	return own
}

// tagChanges is what turns old into new for APIs that tag and untag by key (IAM): the keys to remove, in
// no particular order, and the tags to add or change.
func tagChanges(old, new map[string]string) (removed []string, changed map[string]string) {
	for k := range old {
		if _, ok := new[k]; !ok {
			removed = append(removed, k)
		}
	}
	changed = map[string]string{}
	for k, v := range new {
		if o, ok := old[k]; !ok || o != v {
			changed[k] = v
		}
	}
	return removed, changed
}

// mapFromTerraform converts a map of strings; known is false when the map or a value is not known yet.
// Null values are dropped: a tag set to null is a tag not set.
func mapFromTerraform(ctx context.Context, m types.Map) (map[string]string, bool, diag.Diagnostics) {
	if m.IsNull() {
		return nil, true, nil
	}
	if m.IsUnknown() {
		return nil, false, nil
	}
	var elems map[string]types.String
	diags := m.ElementsAs(ctx, &elems, false)
	if diags.HasError() {
		return nil, false, diags
	}
	out := make(map[string]string, len(elems))
	for k, v := range elems {
		if v.IsUnknown() {
			return nil, false, diags
		}
		if v.IsNull() {
			continue
		}
		out[k] = v.ValueString()
	}
	return out, true, diags
}

// mapToTerraform converts a map of strings into a known Terraform map; nil becomes an empty map.
func mapToTerraform(m map[string]string) types.Map {
	elems := make(map[string]attr.Value, len(m))
	for k, v := range m {
		elems[k] = types.StringValue(v)
	}
	return types.MapValueMust(types.StringType, elems)
}

// AWS's tag limits, the same for S3 buckets and IAM users: keys and values count Unicode characters.
const (
	maxTags           = 50
	maxTagKeyLength   = 128
	maxTagValueLength = 256
)

// tagsValidator checks a tags map against the rules S3 and IAM both enforce, so every taggable resource and
// default_tags refuse the same maps at plan time: at most 50 tags, keys of 1 to 128 characters that do not
// start with the reserved "aws:", values of at most 256 characters. Null values are not tags and not counted.
type tagsValidator struct{}

var _ validator.Map = tagsValidator{}

func (tagsValidator) Description(context.Context) string {
	return fmt.Sprintf("at most %d tags; keys of 1 to %d characters not starting with \"aws:\"; values of at most %d characters",
		maxTags, maxTagKeyLength, maxTagValueLength)
}

func (v tagsValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (tagsValidator) ValidateMap(_ context.Context, req validator.MapRequest, resp *validator.MapResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	elems := req.ConfigValue.Elements()
	count := 0
	for _, k := range slices.Sorted(maps.Keys(elems)) {
		v := elems[k]
		if v.IsNull() {
			continue
		}
		count++
		p := req.Path.AtMapKey(k)
		switch n := utf8.RuneCountInString(k); {
		case n == 0 || n > maxTagKeyLength:
			resp.Diagnostics.AddAttributeError(p, "Invalid Tag Key",
				fmt.Sprintf("Tag key %q is %d characters long; AWS accepts 1 to %d. Shorten it.", k, n, maxTagKeyLength))
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			resp.Diagnostics.AddAttributeError(p, "Reserved Tag Key",
				fmt.Sprintf("Tag key %q starts with \"aws:\", which AWS reserves for its own tags. Choose another key.", k))
		}
		if s, ok := v.(types.String); ok && !s.IsUnknown() {
			if n := utf8.RuneCountInString(s.ValueString()); n > maxTagValueLength {
				resp.Diagnostics.AddAttributeError(p, "Invalid Tag Value",
					fmt.Sprintf("The value of tag %q is %d characters long; AWS accepts at most %d. Shorten it.", k, n, maxTagValueLength))
			}
		}
	}
	if count > maxTags {
		resp.Diagnostics.AddAttributeError(req.Path, "Too Many Tags",
			fmt.Sprintf("%d tags are set; AWS accepts at most %d per resource. Remove some.", count, maxTags))
	}
}
