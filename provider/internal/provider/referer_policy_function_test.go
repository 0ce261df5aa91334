package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/staticmedia/staticmedia/internal/testbed"
)

// functionPolicyGolden reads one of internal/policy's golden documents: the functions must return exactly what
// the pure package is tested to produce.
func functionPolicyGolden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testbed.RepoRoot(t), "internal", "policy", "testdata", name))
	if err != nil {
		t.Fatalf("read golden policy: %v", err)
	}
	return strings.TrimSuffix(string(b), "\n")
}

func TestRefererPolicyFunction_golden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		call   string
		golden string
	}{
		{
			name:   "seed",
			call:   `referer_policy("bucketname", ["http://*.example.com/*", "http://example.com/*"], true)`,
			golden: "referer_read_seed.json",
		},
		{
			name:   "without the empty-referer branch",
			call:   `referer_policy("bucketname", ["http://*.example.com/*", "http://example.com/*"], false)`,
			golden: "referer_read_no_empty.json",
		},
		{
			name:   "only the empty-referer branch",
			call:   `referer_policy("bucketname", [], true)`,
			golden: "referer_read_only_empty.json",
		},
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

func TestRefererPolicyFunction_argumentErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		call string
		want *regexp.Regexp
	}{
		{
			name: "bad bucket",
			call: `referer_policy("Bucket_Name", ["https://example.com/*"], true)`,
			want: regexp.MustCompile(`(?s)Invalid value for "bucket" parameter.*Bucket_Name`),
		},
		{
			name: "pattern without scheme",
			call: `referer_policy("bucketname", ["https://example.com/*", "example.com/*"], true)`,
			want: regexp.MustCompile(`(?s)Invalid value for "referers" parameter.*"example.com/\*".*http://`),
		},
		{
			name: "nothing allowed",
			call: `referer_policy("bucketname", [], false)`,
			want: regexp.MustCompile(`(?s)Invalid value for "referers" parameter.*allow\s+nothing`),
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
