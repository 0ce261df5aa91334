package provider

import (
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

func TestCITrustPolicyFunction(t *testing.T) {
	t.Parallel()
	const github = `"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"`
	const gitlab = `"arn:aws:iam::123456789012:oidc-provider/gitlab.com"`
	tests := []functionTest{
		{name: "github", call: `ci_trust_policy(` + github + `, ["repo:octo-org/site:ref:refs/heads/main"])`, golden: "ci_trust_github.json"},
		{
			name:   "github subjects sorted and deduplicated",
			call:   `ci_trust_policy(` + github + `, ["repo:octo-org/site:environment:production", "repo:octo-org/media:*", "repo:octo-org/site:environment:production"])`,
			golden: "ci_trust_github_subjects.json",
		},
		{
			name:   "gitlab with its audience",
			call:   `ci_trust_policy(` + gitlab + `, ["project_path:media-team/site:ref_type:branch:ref:main"], "https://gitlab.com")`,
			golden: "ci_trust_gitlab.json",
		},
		{
			name:    "not an OIDC provider ARN",
			call:    `ci_trust_policy("arn:aws:iam::123456789012:role/ci", ["repo:octo-org/site:*"])`,
			wantErr: regexp.MustCompile(`(?s)Invalid value for "oidc_provider_arn" parameter.*aws_iam_openid_connect_provider`),
		},
		{
			name:    "star",
			call:    `ci_trust_policy(` + github + `, ["*"])`,
			wantErr: regexp.MustCompile(`(?s)Invalid value for "subjects" parameter.*begins with a\s+wildcard`),
		},
		{
			name:    "repo star",
			call:    `ci_trust_policy(` + github + `, ["repo:*"])`,
			wantErr: regexp.MustCompile(`(?s)Invalid value for "subjects" parameter.*repo:OWNER/NAME:ref:refs/heads/BRANCH`),
		},
		{
			name:    "gitlab without project_path",
			call:    `ci_trust_policy(` + gitlab + `, ["ref_type:branch:ref:main"])`,
			wantErr: regexp.MustCompile(`(?s)Invalid value for "subjects" parameter.*project_path:GROUP/`),
		},
		{
			name:    "no subjects",
			call:    `ci_trust_policy(` + github + `, [])`,
			wantErr: regexp.MustCompile(`(?s)Invalid value for "subjects" parameter.*no CI subjects given`),
		},
		{
			name:    "null subject",
			call:    `ci_trust_policy(` + github + `, ["repo:octo-org/site:*", null])`,
			wantErr: regexp.MustCompile(`(?s)Invalid value for "subjects" parameter.*null`),
		},
		{
			name:    "wildcard audience",
			call:    `ci_trust_policy(` + github + `, ["repo:octo-org/site:*"], "sts.*")`,
			wantErr: regexp.MustCompile(`(?s)Invalid value for "audience" parameter.*StringEquals`),
		},
		{
			name:    "two audiences",
			call:    `ci_trust_policy(` + github + `, ["repo:octo-org/site:*"], "a", "b")`,
			wantErr: regexp.MustCompile(`(?s)Invalid value for "audience" parameter.*at most one audience`),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t)
		})
	}
}

// TestCITrustPolicyFunction_unknownProviderARN: the ARN of an OIDC provider created in the same apply is unknown at
// plan, and so may be a subject; the known subjects are still checked then, as staticmedia_upload_role checks them,
// and the apply renders the same document as with a known ARN.
func TestCITrustPolicyFunction_unknownProviderARN(t *testing.T) {
	t.Parallel()
	golden, err := os.ReadFile(filepath.Join(testbed.RepoRoot(t), "internal", "policy", "testdata", "ci_trust_github.json"))
	if err != nil {
		t.Fatalf("read golden policy: %v", err)
	}
	config := func(subjects string) string {
		return `
resource "terraform_data" "oidc" {
  input = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
}

output "policy" {
  value = provider::staticmedia::ci_trust_policy(terraform_data.oidc.output, ` + subjects + `)
}
`
	}
	resource.UnitTest(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_8_0)},
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      config(`["repo:octo-org/site:*", "repo:*"]`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Invalid value for "subjects" parameter.*"repo:\*"`),
			},
			{
				// A subject from a resource of the same apply does not hide the known one beside it.
				Config:      config(`["repo:octo-org/*", terraform_data.oidc.id]`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Invalid value for "subjects" parameter.*"repo:octo-org/\*"`),
			},
			{
				Config: config(`["repo:octo-org/site:ref:refs/heads/main"]`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownOutputValue("policy", knownvalue.StringExact(strings.TrimSuffix(string(golden), "\n"))),
				},
			},
		},
	})
}
