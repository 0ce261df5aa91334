package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

func TestUploadPolicyFunction_golden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		call   string
		golden string
	}{
		{name: "seed", call: `upload_policy("bucketname", "")`, golden: "upload_only_seed.json"},
		{name: "folder prefix", call: `upload_policy("bucketname", "media/")`, golden: "upload_only_prefix_folder.json"},
		{name: "prefix used verbatim", call: `upload_policy("bucketname", "media")`, golden: "upload_only_prefix_verbatim.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resource.UnitTest(t, resource.TestCase{
				TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_8_0)},
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: fmt.Sprintf(`output "policy" { value = provider::staticmedia::%s }`, tt.call),
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownOutputValue("policy", knownvalue.StringExact(functionPolicyGolden(t, tt.golden))),
					},
				}},
			})
		})
	}
}

func TestUploadPolicyFunction_argumentErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		call string
		want *regexp.Regexp
	}{
		{
			name: "bad bucket",
			call: `upload_policy("no", "")`,
			want: regexp.MustCompile(`(?s)Invalid value for "bucket" parameter.*"no"`),
		},
		{
			name: "wildcard prefix",
			call: `upload_policy("bucketname", "media/*")`,
			want: regexp.MustCompile(`(?s)Invalid value for "key_prefix" parameter.*wildcards`),
		},
		{
			name: "leading slash",
			call: `upload_policy("bucketname", "/media/")`,
			want: regexp.MustCompile(`(?s)Invalid value for "key_prefix" parameter.*leading slash`),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resource.UnitTest(t, resource.TestCase{
				TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_8_0)},
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      fmt.Sprintf(`output "policy" { value = provider::staticmedia::%s }`, tt.call),
					ExpectError: tt.want,
				}},
			})
		})
	}
}
