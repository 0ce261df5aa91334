package provider

import (
	"context"
	"maps"
	"regexp"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/staticmedia/staticmedia/internal/policy"
)

// inputs reads allowed_referers and allowed_domains (nil when null), each sorted: both are sets, and a
// fixed order makes the document and referer_patterns the same however the configuration lists them.
func (m refererPolicyResourceModel) inputs(ctx context.Context) (referers, domains []string, diags diag.Diagnostics) {
	if !m.AllowedReferers.IsNull() {
		diags.Append(m.AllowedReferers.ElementsAs(ctx, &referers, false)...)
	}
	if !m.AllowedDomains.IsNull() {
		diags.Append(m.AllowedDomains.ElementsAs(ctx, &domains, false)...)
	}
	slices.Sort(referers)
	slices.Sort(domains)
	return referers, domains, diags
}

// policyJSON builds the document from the model's inputs.
func (m refererPolicyResourceModel) policyJSON(ctx context.Context, partition string) (string, diag.Diagnostics) {
	referers, domains, diags := m.inputs(ctx)
	if diags.HasError() {
		return "", diags
	}
	doc, err := buildRefererPolicy(partition, m.Bucket.ValueString(), referers, domains, m.AllowEmptyReferer.ValueBool())
	if err != nil {
		diags.Append(invalidRefererPolicyError(m.Bucket.ValueString(), err))
	}
	return doc, diags
}

// patterns is referer_patterns: allowed_referers, then the expanded allowed_domains, without duplicates,
// in the order the policy lists them.
func (m refererPolicyResourceModel) patterns(ctx context.Context) (types.List, diag.Diagnostics) {
	referers, domains, diags := m.inputs(ctx)
	if diags.HasError() {
		return types.ListUnknown(types.StringType), diags
	}
	all, err := refererPatternList(referers, domains)
	if err != nil {
		diags.Append(refererPatternsError(m.Bucket.ValueString(), err))
		return types.ListUnknown(types.StringType), diags
	}
	list, d := types.ListValueFrom(ctx, types.StringType, all)
	diags.Append(d...)
	return list, diags
}

// refererPatternList expands the domains and appends them to the patterns, dropping exact duplicates, as
// the policy document lists them.
func refererPatternList(referers, domains []string) ([]string, error) {
	expanded, err := policy.ExpandDomains(domains)
	if err != nil {
		return nil, err
	}
	all := make([]string, 0, len(referers)+len(expanded))
	seen := make(map[string]bool, cap(all))
	for _, p := range append(append([]string(nil), referers...), expanded...) {
		if !seen[p] {
			seen[p] = true
			all = append(all, p)
		}
	}
	return all, nil
}

// importFrom fills the inputs from a stored policy, in the canonical form a configuration describing it
// plans empty against: allowed_domains gets every domain whose four patterns (http and https, the domain
// and its subdomains) are all in the policy, allowed_referers the remaining StringLike aws:Referer
// patterns, each null when empty, and allow_empty_referer whether a Null aws:Referer statement exists.
// policy_json gets our canonical document when it is equivalent to the stored one (engines reformat what
// they store), else the stored text so the next plan shows the change.
func (m *refererPolicyResourceModel) importFrom(ctx context.Context, remote, partition string) diag.Diagnostics {
	var diags diag.Diagnostics
	parsed, err := policy.ParseRefererRead(remote)
	if err != nil {
		diags.Append(importRefererPolicyError(m.Bucket.ValueString(), err))
		return diags
	}
	referers, domains := splitDomains(parsed.Referers)
	allowEmpty := parsed.AllowEmptyReferer
	m.ID = m.Bucket
	m.AllowEmptyReferer = types.BoolValue(allowEmpty)
	m.AllowedReferers, m.AllowedDomains = types.SetNull(types.StringType), types.SetNull(types.StringType)
	var d diag.Diagnostics
	if len(referers) > 0 {
		m.AllowedReferers, d = types.SetValueFrom(ctx, types.StringType, referers)
		diags.Append(d...)
	}
	if len(domains) > 0 {
		m.AllowedDomains, d = types.SetValueFrom(ctx, types.StringType, domains)
		diags.Append(d...)
	}
	all, err := refererPatternList(referers, domains)
	if err != nil { // cannot happen: every domain came out of ExpandDomains
		diags.Append(importRefererPatternsError(err))
		return diags
	}
	m.RefererPatterns, d = types.ListValueFrom(ctx, types.StringType, all)
	diags.Append(d...)
	// A document that cannot be built comes back "" with the error, and "" is never preferred.
	doc, _ := buildRefererPolicy(partition, m.Bucket.ValueString(), referers, domains, allowEmpty)
	m.PolicyJSON = types.StringValue(policy.PreferEquivalent(remote, doc))
	return diags
}

// domainPattern is one of the four patterns ExpandDomains writes for a domain; the group is the domain.
var domainPattern = regexp.MustCompile(`^https?://(?:\*\.)?([^/*?]+)/\*$`)

// splitDomains takes apart what allowed_domains and allowed_referers put together: a domain whose four
// expanded patterns are all present becomes a domain, every other pattern stays a pattern. Both come back
// sorted and without duplicates, so an import is the same on every engine (MinIO reorders condition values
// on each read) and on every run.
func splitDomains(patterns []string) (referers, domains []string) {
	present := make(map[string]bool, len(patterns))
	for _, p := range patterns {
		present[p] = true
	}
	taken := map[string]bool{}
	for _, p := range slices.Sorted(maps.Keys(present)) {
		match := domainPattern.FindStringSubmatch(p)
		if match == nil || slices.Contains(domains, match[1]) {
			continue
		}
		expanded, err := policy.ExpandDomains([]string{match[1]})
		if err != nil || slices.ContainsFunc(expanded, func(e string) bool { return !present[e] }) {
			continue
		}
		domains = append(domains, match[1])
		for _, e := range expanded {
			taken[e] = true
		}
	}
	for _, p := range slices.Sorted(maps.Keys(present)) {
		if !taken[p] {
			referers = append(referers, p)
		}
	}
	slices.Sort(domains)
	return referers, domains
}

// buildRefererPolicy expands the domains, appends them to the patterns and renders the document.
func buildRefererPolicy(partition, bucket string, referers, domains []string, allowEmpty bool) (string, error) {
	all, err := refererPatternList(referers, domains)
	if err != nil {
		return "", err
	}
	doc, err := policy.RefererRead(policy.RefererReadInput{
		Partition:         partition,
		Bucket:            bucket,
		Referers:          all,
		AllowEmptyReferer: allowEmpty,
	})
	if err != nil {
		return "", err
	}
	return doc.JSON()
}
