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

// functionTest is one provider function call: its result must equal internal/policy's golden file, or
// the call must fail with wantErr.
type functionTest struct {
	name    string
	call    string // after provider::staticmedia::
	golden  string // file in internal/policy/testdata
	wantErr *regexp.Regexp
}

// run evaluates the call in an output with Terraform (>= 1.8, which has provider functions). The golden
// files are internal/policy's: the functions must return exactly what the pure package is tested to produce.
func (tt functionTest) run(t *testing.T) {
	t.Helper()
	step := resource.TestStep{
		Config:      fmt.Sprintf(`output "policy" { value = provider::staticmedia::%s }`, tt.call),
		ExpectError: tt.wantErr,
	}
	if tt.wantErr == nil {
		b, err := os.ReadFile(filepath.Join(testbed.RepoRoot(t), "internal", "policy", "testdata", tt.golden))
		if err != nil {
			t.Fatalf("read golden policy: %v", err)
		}
		step.ConfigStateChecks = []statecheck.StateCheck{
			statecheck.ExpectKnownOutputValue("policy", knownvalue.StringExact(strings.TrimSuffix(string(b), "\n"))),
		}
	}
	resource.UnitTest(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_8_0)},
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps:                    []resource.TestStep{step},
	})
}

func TestRefererPolicyFunction(t *testing.T) {
	t.Parallel()
	tests := []functionTest{
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
		{
			name:   "aws-cn partition",
			call:   `referer_policy("bucketname", ["https://example.cn/*"], true, "aws-cn")`,
			golden: "referer_read_aws_cn.json",
		},
		{
			name:    "not a partition",
			call:    `referer_policy("bucketname", ["https://example.cn/*"], true, "cn")`,
			wantErr: regexp.MustCompile(`(?s)Invalid value for "partition" parameter.*"cn"\s+is\s+not\s+an\s+AWS\s+partition\s+name`),
		},
		{
			name:    "bad bucket",
			call:    `referer_policy("Bucket_Name", ["https://example.com/*"], true)`,
			wantErr: regexp.MustCompile(`(?s)Invalid value for "bucket" parameter.*Bucket_Name`),
		},
		{
			name:    "pattern without scheme",
			call:    `referer_policy("bucketname", ["https://example.com/*", "example.com/*"], true)`,
			wantErr: regexp.MustCompile(`(?s)Invalid value for "referers" parameter.*"example.com/\*".*http://`),
		},
		{
			name:    "nothing allowed",
			call:    `referer_policy("bucketname", [], false)`,
			wantErr: regexp.MustCompile(`(?s)Invalid value for "referers" parameter.*allow\s+nothing`),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t)
		})
	}
}
