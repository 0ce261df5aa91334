package provider

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/staticmedia/staticmedia/internal/testbed"
)

// refererImportBody is a policy in the form users write: explicit patterns not in sorted order, and a
// domain, whose four patterns the policy holds expanded.
const refererImportBody = `
  allowed_referers    = ["https://www.example.net/*", "http://*.cdn.example.org/*", "https://static.example.de/img/*"]
  allowed_domains     = ["example.com", "example.de"]
  allow_empty_referer = false`

// TestAccRefererPolicyResource_importRoundTrip imports a policy created from refererImportBody, with
// `terraform import` (ImportStateVerify, nothing ignored), then removes it from state and imports it again
// with an import block: the configuration that describes the policy must plan empty, before and after.
func TestAccRefererPolicyResource_importRoundTrip(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	admin := adminS3(t, m)
	const bucket = "referer-import"
	config := testAccRefererPolicyConfig(testAccMotoConfig(m), bucket, refererImportBody)
	importBlock := fmt.Sprintf("\nimport {\n  to = %s\n  id = %q\n}\n", refererPolicyAddr, bucket)

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig: func() { refererTestBucket(t, admin, bucket, true) },
				Config:    config,
			},
			{
				ResourceName:      refererPolicyAddr,
				ImportState:       true,
				ImportStateId:     bucket,
				ImportStateVerify: true,
			},
			{
				// Forget the resource (the policy stays in moto), then import it with an import block.
				Config: testAccMotoConfig(m) + fmt.Sprintf("\nremoved {\n  from = %s\n  lifecycle {\n    destroy = false\n  }\n}\n", refererPolicyAddr),
			},
			{
				Config: config + importBlock,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
	if _, err := admin.GetBucketPolicy(context.Background(), &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)}); !isNotFound(err) {
		t.Errorf("after destroy GetBucketPolicy = %v, want NoSuchBucketPolicy", err)
	}
}

// TestSplitDomains checks how import tells domains from patterns: a domain only when all four of its
// patterns are there; everything sorted.
func TestSplitDomains(t *testing.T) {
	t.Parallel()
	expand := func(d string) []string { return refererExpand(t, d) }
	tests := []struct {
		name                   string
		patterns               []string
		wantReferers, wantDoms []string
	}{
		{"nothing", nil, nil, nil},
		{"a domain in another order", []string{"https://*.example.com/*", "http://example.com/*", "https://example.com/*", "http://*.example.com/*"}, nil, []string{"example.com"}},
		{"three of four stay patterns", expand("example.com")[1:], slices.Sorted(slices.Values(expand("example.com")[1:])), nil},
		{"patterns and domains", append([]string{"https://z.example.net/*", "http://a.example.org/x*"}, append(expand("b.example"), expand("a.example")...)...),
			[]string{"http://a.example.org/x*", "https://z.example.net/*"}, []string{"a.example", "b.example"}},
		{"upper case is a pattern", []string{"http://Example.com/*", "https://Example.com/*", "http://*.Example.com/*", "https://*.Example.com/*"},
			[]string{"http://*.Example.com/*", "http://Example.com/*", "https://*.Example.com/*", "https://Example.com/*"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			referers, domains := splitDomains(tt.patterns)
			if !slices.Equal(referers, tt.wantReferers) || !slices.Equal(domains, tt.wantDoms) {
				t.Errorf("splitDomains(%q) = %q, %q; want %q, %q", tt.patterns, referers, domains, tt.wantReferers, tt.wantDoms)
			}
		})
	}
}

// TestRefererPolicyResource_listStateUpgrades reads a state written when allowed_referers was a list: the
// same JSON array must load as the set it is now, with no upgrade step and no error.
func TestRefererPolicyResource_listStateUpgrades(t *testing.T) {
	t.Parallel()
	server, err := testAccProtoV6ProviderFactories["staticmedia"]()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := server.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{}); err != nil {
		t.Fatal(err)
	}
	const old = `{"id":"media","bucket":"media","allowed_referers":["https://www.example.net/*","http://example.com/*"],` +
		`"allowed_domains":null,"allow_empty_referer":true,"referer_patterns":["https://www.example.net/*","http://example.com/*"],` +
		`"policy_json":"{}","timeouts":null}`
	resp, err := server.UpgradeResourceState(ctx, &tfprotov6.UpgradeResourceStateRequest{
		TypeName: "staticmedia_referer_policy",
		Version:  0,
		RawState: &tfprotov6.RawState{JSON: []byte(old)},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range resp.Diagnostics {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			t.Fatalf("upgrading a list state: %s: %s", d.Summary, d.Detail)
		}
	}
	if resp.UpgradedState == nil {
		t.Fatal("no upgraded state")
	}
}
