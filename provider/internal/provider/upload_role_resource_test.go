package provider

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/staticmedia/staticmedia/internal/awsconfig"
	"github.com/staticmedia/staticmedia/internal/policy"
	"github.com/staticmedia/staticmedia/internal/testbed"
)

const (
	testUploadRole    = "staticmedia_upload_role.test"
	githubIssuerURL   = "https://token.actions.githubusercontent.com"
	testGitHubOIDCARN = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
)

// createTestOIDCProvider creates an IAM OIDC provider out of band, as aws_iam_openid_connect_provider would,
// and returns its ARN.
func createTestOIDCProvider(t *testing.T, m *testbed.Moto, url string, clientIDs ...string) string {
	t.Helper()
	out, err := adminIAM(t, m).CreateOpenIDConnectProvider(context.Background(), &iam.CreateOpenIDConnectProviderInput{
		Url:            aws.String(url),
		ClientIDList:   clientIDs,
		ThumbprintList: []string{strings.Repeat("a", 40)},
	})
	mustDo(t, "creating the OIDC provider "+url, err)
	return aws.ToString(out.OpenIDConnectProviderArn)
}

// testAccUploadRoleConfig is a role trusting GitHub's OIDC provider, with extra HCL inside the resource block.
func testAccUploadRoleConfig(m *testbed.Moto, name, bucket, body string) string {
	return testAccMotoConfig(m) + fmt.Sprintf(`
resource "staticmedia_upload_role" "test" {
  name              = %q
  bucket            = %q
  oidc_provider_arn = %q
%s
}
`, name, bucket, testGitHubOIDCARN, body)
}

// expectedCITrust is the trust policy the resource must put, built by the same pure package.
func expectedCITrust(t *testing.T, in policy.CITrustInput) string {
	t.Helper()
	doc, err := policy.CITrust(in)
	return mustPolicyJSON(t, doc, err)
}

// checkRolePolicies asserts what moto holds: the trust policy and the inline policy upload-only are
// equivalent to the wanted ones, and the role has no other inline policy.
func checkRolePolicies(t *testing.T, m *testbed.Moto, role, wantTrust, wantPolicy string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		ctx := context.Background()
		client := adminIAM(t, m)
		out, err := client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role)})
		if err != nil {
			return fmt.Errorf("get role %s: %w", role, err)
		}
		trust, err := decodePolicyDocument(aws.ToString(out.Role.AssumeRolePolicyDocument))
		if err != nil {
			return err
		}
		if eq, err := policy.Equivalent(trust, wantTrust); err != nil || !eq {
			return fmt.Errorf("trust policy of %s is\n%s\nwant\n%s (err %w)", role, trust, wantTrust, err)
		}
		names, err := client.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(role)})
		if err != nil {
			return fmt.Errorf("list role policies: %w", err)
		}
		if len(names.PolicyNames) != 1 || names.PolicyNames[0] != "upload-only" {
			return fmt.Errorf("role %s has inline policies %v, want exactly [upload-only]", role, names.PolicyNames)
		}
		got, err := findRolePolicy(ctx, client, role, "upload-only")
		if err != nil {
			return fmt.Errorf("get role policy: %w", err)
		}
		if eq, err := policy.Equivalent(got, wantPolicy); err != nil || !eq {
			return fmt.Errorf("inline policy of %s is\n%s\nwant\n%s (err %w)", role, got, wantPolicy, err)
		}
		return nil
	}
}

func TestAccUploadRoleResource_basic(t *testing.T) {
	t.Parallel()
	m := testbed.StartMoto(t)
	createTestOIDCProvider(t, m, githubIssuerURL, "sts.amazonaws.com")
	firstTrust := expectedCITrust(t, policy.CITrustInput{OIDCProviderARN: testGitHubOIDCARN, Subjects: []string{"repo:octo-org/site:ref:refs/heads/main"}})
	firstPolicy := expectedUploadPolicy(t, policy.UploadOnlyInput{Bucket: "media-one"})
	secondTrust := expectedCITrust(t, policy.CITrustInput{OIDCProviderARN: testGitHubOIDCARN, Subjects: []string{
		"repo:octo-org/site:ref:refs/heads/main", "repo:octo-org/site:environment:production",
	}})
	secondPolicy := expectedUploadPolicy(t, policy.UploadOnlyInput{Bucket: "media-one", KeyPrefix: "uploads/", ExtraActions: []string{"s3:PutObjectTagging"}})
	updated := testAccUploadRoleConfig(m, "uploader-ci", "media-one", `
  subjects             = ["repo:octo-org/site:environment:production", "repo:octo-org/site:ref:refs/heads/main"]
  key_prefix           = "uploads/"
  extra_actions        = ["s3:PutObjectTagging"]
  max_session_duration = 7200
  tags                 = { team = "media" }
`)

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			_, err := adminIAM(t, m).GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String("uploader-ci")})
			if !isNotFound(err) {
				return fmt.Errorf("role uploader-ci still exists after destroy (err %w)", err)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: testAccUploadRoleConfig(m, "uploader-ci", "media-one", `  subjects = ["repo:octo-org/site:ref:refs/heads/main"]`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testUploadRole, tfjsonpath.New("id"), knownvalue.StringExact("uploader-ci")),
					statecheck.ExpectKnownValue(testUploadRole, tfjsonpath.New("arn"), knownvalue.StringExact("arn:aws:iam::123456789012:role/uploader-ci")),
					statecheck.ExpectKnownValue(testUploadRole, tfjsonpath.New("unique_id"), knownvalue.StringRegexp(regexp.MustCompile(`^[A-Za-z0-9]{16,128}$`))),
					statecheck.ExpectKnownValue(testUploadRole, tfjsonpath.New("audience"), knownvalue.StringExact("sts.amazonaws.com")),
					statecheck.ExpectKnownValue(testUploadRole, tfjsonpath.New("max_session_duration"), knownvalue.Int64Exact(3600)),
					statecheck.ExpectKnownValue(testUploadRole, tfjsonpath.New("path"), knownvalue.StringExact("/")),
					statecheck.ExpectKnownValue(testUploadRole, tfjsonpath.New("policy_json"), knownvalue.StringExact(firstPolicy)),
					statecheck.ExpectKnownValue(testUploadRole, tfjsonpath.New("trust_policy_json"), knownvalue.StringExact(firstTrust)),
				},
				Check: checkRolePolicies(t, m, "uploader-ci", firstTrust, firstPolicy),
			},
			{
				ResourceName:      testUploadRole,
				ImportState:       true,
				ImportStateId:     "uploader-ci",
				ImportStateVerify: true,
			},
			{
				Config: updated,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(testUploadRole, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(testUploadRole, tfjsonpath.New("trust_policy_json"), knownvalue.StringExact(secondTrust)),
						plancheck.ExpectKnownValue(testUploadRole, tfjsonpath.New("policy_json"), knownvalue.StringExact(secondPolicy)),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testUploadRole, tfjsonpath.New("max_session_duration"), knownvalue.Int64Exact(7200)),
					statecheck.ExpectKnownValue(testUploadRole, tfjsonpath.New("tags_all"), knownvalue.MapExact(map[string]knownvalue.Check{
						"team": knownvalue.StringExact("media"),
					})),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkRolePolicies(t, m, "uploader-ci", secondTrust, secondPolicy),
					func(*terraform.State) error {
						out, err := adminIAM(t, m).GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String("uploader-ci")})
						if err != nil {
							return err
						}
						if got := aws.ToInt32(out.Role.MaxSessionDuration); got != 7200 {
							return fmt.Errorf("MaxSessionDuration = %d, want 7200", got)
						}
						return nil
					},
				),
			},
			{
				ResourceName:      testUploadRole,
				ImportState:       true,
				ImportStateId:     "uploader-ci",
				ImportStateVerify: true,
			},
			{
				Config:           updated,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

// TestAccUploadRoleResource_drift rewrites the trust policy and the inline policy behind Terraform's back;
// each must show in the plan and be repaired by the apply, while an equivalent rewrite must not.
func TestAccUploadRoleResource_drift(t *testing.T) {
	t.Parallel()
	m := testbed.StartMoto(t)
	createTestOIDCProvider(t, m, githubIssuerURL, "sts.amazonaws.com")
	ctx := context.Background()
	wantTrust := expectedCITrust(t, policy.CITrustInput{OIDCProviderARN: testGitHubOIDCARN, Subjects: []string{"repo:octo-org/site:ref:refs/heads/main"}})
	wantPolicy := expectedUploadPolicy(t, policy.UploadOnlyInput{Bucket: "media", KeyPrefix: "in/"})
	config := testAccUploadRoleConfig(m, "drifter", "media", `
  subjects   = ["repo:octo-org/site:ref:refs/heads/main"]
  key_prefix = "in/"
`)
	putTrust := func(doc string) {
		t.Helper()
		_, err := adminIAM(t, m).UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("drifter"), PolicyDocument: aws.String(doc)})
		mustDo(t, "out-of-band UpdateAssumeRolePolicy", err)
	}
	putPolicy := func(doc string) {
		t.Helper()
		_, err := adminIAM(t, m).PutRolePolicy(ctx, &iam.PutRolePolicyInput{
			RoleName: aws.String("drifter"), PolicyName: aws.String("upload-only"), PolicyDocument: aws.String(doc),
		})
		mustDo(t, "out-of-band PutRolePolicy", err)
	}
	update := resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
		plancheck.ExpectResourceAction(testUploadRole, plancheck.ResourceActionUpdate),
		plancheck.ExpectKnownValue(testUploadRole, tfjsonpath.New("trust_policy_json"), knownvalue.StringExact(wantTrust)),
		plancheck.ExpectKnownValue(testUploadRole, tfjsonpath.New("policy_json"), knownvalue.StringExact(wantPolicy)),
	}}
	repaired := checkRolePolicies(t, m, "drifter", wantTrust, wantPolicy)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: config, Check: repaired},
			{
				// The trust policy widened out of band to every repository on GitHub: the plan narrows it again.
				PreConfig: func() {
					putTrust(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + testGitHubOIDCARN + `"},` +
						`"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:*"}}}]}`)
				},
				Config:           config,
				ConfigPlanChecks: update,
				Check:            repaired,
			},
			{
				// A wider inline policy put out of band: the plan narrows it again.
				PreConfig: func() {
					putPolicy(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)
				},
				Config:           config,
				ConfigPlanChecks: update,
				Check:            repaired,
			},
			{
				// The inline policy deleted out of band: the plan puts it back.
				PreConfig: func() {
					_, err := adminIAM(t, m).DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("drifter"), PolicyName: aws.String("upload-only")})
					mustDo(t, "out-of-band DeleteRolePolicy", err)
				},
				Config:           config,
				ConfigPlanChecks: update,
				Check:            repaired,
			},
			{
				// The same grants, compact and reordered the way AWS stores documents: no diff.
				PreConfig: func() {
					putTrust(`{"Statement":[{"Condition":{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:octo-org/site:ref:refs/heads/main"},` +
						`"StringEquals":{"token.actions.githubusercontent.com:aud":["sts.amazonaws.com"]}},"Action":["sts:AssumeRoleWithWebIdentity"],` +
						`"Principal":{"Federated":"` + testGitHubOIDCARN + `"},"Effect":"Allow","Sid":"AssumeUploadRoleFromCI"}],"Version":"2012-10-17"}`)
					putPolicy(strings.Join(strings.Fields(wantPolicy), ""))
				},
				Config:           config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testUploadRole, tfjsonpath.New("trust_policy_json"), knownvalue.StringExact(wantTrust)),
					statecheck.ExpectKnownValue(testUploadRole, tfjsonpath.New("policy_json"), knownvalue.StringExact(wantPolicy)),
				},
			},
			{
				// The role deleted out of band (IAM needs its policy gone first): the plan re-creates it.
				PreConfig: func() {
					client := adminIAM(t, m)
					_, err := client.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("drifter"), PolicyName: aws.String("upload-only")})
					mustDo(t, "out-of-band DeleteRolePolicy", err)
					_, err = client.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("drifter")})
					mustDo(t, "out-of-band DeleteRole", err)
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(testUploadRole, plancheck.ResourceActionCreate)},
				},
				Check: repaired,
			},
			{
				Config:           config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

// TestAccUploadRoleResource_chinaPartition: in a China region the OIDC provider, the role and the upload policy are all
// aws-cn ARNs, and the partition check does not refuse them.
func TestAccUploadRoleResource_chinaPartition(t *testing.T) {
	t.Parallel()
	m := testbed.StartMoto(t)
	m.Region = "cn-north-1"
	arn := createTestOIDCProvider(t, m, githubIssuerURL, "sts.amazonaws.com")
	wantTrust := expectedCITrust(t, policy.CITrustInput{OIDCProviderARN: arn, Subjects: []string{"repo:octo-org/site:ref:refs/heads/main"}})
	wantPolicy := expectedUploadPolicy(t, policy.UploadOnlyInput{Bucket: "media", Partition: "aws-cn"})
	config := testAccMotoConfig(m) + fmt.Sprintf(`
resource "staticmedia_upload_role" "test" {
  name              = "uploader-cn"
  bucket            = "media"
  oidc_provider_arn = %q
  subjects          = ["repo:octo-org/site:ref:refs/heads/main"]
}
`, arn)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testUploadRole, tfjsonpath.New("arn"), knownvalue.StringExact("arn:aws-cn:iam::123456789012:role/uploader-cn")),
				},
				Check: checkRolePolicies(t, m, "uploader-cn", wantTrust, wantPolicy),
			},
			{
				Config:           config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

// TestAccUploadRoleResource_oidcProvider: a role naming an OIDC provider IAM does not have fails with an
// error naming the fix, and an audience the provider does not list is a warning.
func TestAccUploadRoleResource_oidcProvider(t *testing.T) {
	t.Parallel()
	m := testbed.StartMoto(t)
	r := &uploadRoleResource{pd: &providerData{iam: adminIAM(t, m)}}
	// The bound only ends the wait for a provider that never appears; the first call answers in milliseconds.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	diags := r.checkOIDCProvider(ctx, testGitHubOIDCARN, "sts.amazonaws.com")
	if !diags.HasError() || !strings.Contains(diags[0].Summary(), "OIDC Provider Not Found") || !strings.Contains(diags[0].Detail(), "aws_iam_openid_connect_provider") {
		t.Fatalf("a missing OIDC provider gave %v, want the OIDC Provider Not Found error", diags)
	}

	createTestOIDCProvider(t, m, githubIssuerURL, "https://github.com/octo-org")
	diags = r.checkOIDCProvider(context.Background(), testGitHubOIDCARN, "sts.amazonaws.com")
	if diags.HasError() || diags.WarningsCount() != 1 || !strings.Contains(diags[0].Detail(), `Add "sts.amazonaws.com" to the provider's client_id_list`) {
		t.Fatalf("an audience the provider does not list gave %v, want one warning", diags)
	}
	if diags := r.checkOIDCProvider(context.Background(), testGitHubOIDCARN, "https://github.com/octo-org"); len(diags) != 0 {
		t.Fatalf("a listed audience gave %v, want nothing", diags)
	}
}

// TestAccUploadRoleResource_assumeWithWebIdentity is the keyless point, proven on an engine that enforces
// IAM: a CI session of the role can upload into its bucket below the prefix, and can do nothing else. moto
// issues the session without checking the token (the trust conditions are proven by the evaluator in
// internal/policy), and the exchange is unsigned, so it happens before enforcement is switched on.
func TestAccUploadRoleResource_assumeWithWebIdentity(t *testing.T) {
	t.Parallel()
	m := testbed.StartMoto(t) // of its own: enforcement is server-wide
	createTestOIDCProvider(t, m, githubIssuerURL, "sts.amazonaws.com")
	ctx := context.Background()
	const bucket, other = "media-keyless", "someone-elses-bucket"
	config := testAccMotoConfig(m) + fmt.Sprintf(`
resource "staticmedia_bucket" "media" {
  bucket        = %q
  force_destroy = true
}

resource "staticmedia_upload_role" "test" {
  name              = "uploader-ci"
  bucket            = staticmedia_bucket.media.bucket
  key_prefix        = "uploads/"
  oidc_provider_arn = %q
  subjects          = ["repo:octo-org/site:ref:refs/heads/main"]
}
`, bucket, testGitHubOIDCARN)

	admin := adminS3(t, m)
	createTestBucket(t, admin, other)

	check := func(s *terraform.State) (err error) {
		roleARN, err := stateAttr(s, testUploadRole, "arn")
		if err != nil {
			return err
		}
		if _, err := admin.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String("uploads/existing.txt"), Body: strings.NewReader("existing"),
		}); err != nil {
			return fmt.Errorf("admin PutObject: %w", err)
		}
		session, err := m.Options().STS(m.Config(t)).AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
			RoleArn:          aws.String(roleARN),
			RoleSessionName:  aws.String("github-actions"),
			WebIdentityToken: aws.String("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm9jdG8tb3JnL3NpdGU6cmVmOnJlZnMvaGVhZHMvbWFpbiJ9.c2ln"),
		})
		if err != nil {
			return fmt.Errorf("AssumeRoleWithWebIdentity: %w", err)
		}
		if got := aws.ToString(session.AssumedRoleUser.Arn); !strings.Contains(got, "assumed-role/uploader-ci/github-actions") {
			return fmt.Errorf("the session is %s, want an assumed-role session of uploader-ci", got)
		}

		m.EnableIAMEnforcement(t)
		// Terraform's provider block still holds moto's default key, which enforcement refuses; turn
		// enforcement off again so the test can destroy what it created.
		defer func() {
			if derr := disableMotoIAMEnforcement(m); derr != nil && err == nil {
				err = derr
			}
		}()

		c := session.Credentials
		creds := awsconfig.Options{AccessKey: aws.ToString(c.AccessKeyId), SecretKey: aws.ToString(c.SecretAccessKey), SessionToken: aws.ToString(c.SessionToken)}
		return checkUploadOnly(ctx, m, creds, "the role's session", bucket, "uploads/", other)
	}

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps:                    []resource.TestStep{{Config: config, Check: check}},
	})
}

// TestUploadRoleResource_validation covers the plan-time checks; no engine is contacted.
func TestUploadRoleResource_validation(t *testing.T) {
	t.Parallel()
	provider := `
provider "staticmedia" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  endpoints {
    iam = "http://127.0.0.1:9"
  }
}
`
	const gitlabARN = "arn:aws:iam::123456789012:oidc-provider/gitlab.com"
	for _, tc := range []struct {
		name, arn, body string
		want            *regexp.Regexp
	}{
		{"star", testGitHubOIDCARN, `subjects = ["*"]`, regexp.MustCompile(`(?s)Invalid CI Subject.*begins with a\s+wildcard`)},
		{"repo star", testGitHubOIDCARN, `subjects = ["repo:*"]`, regexp.MustCompile(`(?s)Invalid CI Subject.*"repo:\*".*repo:OWNER/NAME:ref:refs/heads/BRANCH`)},
		{"repo star owner", testGitHubOIDCARN, `subjects = ["repo:*/site:ref:refs/heads/main"]`, regexp.MustCompile(`(?s)Invalid CI Subject.*other\s+owners'`)},
		{"github without repo", testGitHubOIDCARN, `subjects = ["ref:refs/heads/main"]`, regexp.MustCompile(`(?s)Invalid CI Subject.*repo:OWNER/NAME:`)},
		{"one bad among good", testGitHubOIDCARN, `subjects = ["repo:octo-org/site:*", "repo:octo-org/*"]`, regexp.MustCompile(`(?s)Invalid CI Subject.*"repo:octo-org/\*"`)},
		{"gitlab without project_path", gitlabARN, `subjects = ["ref_type:branch:ref:main"]`, regexp.MustCompile(`(?s)Invalid CI Subject.*project_path:GROUP/`)},
		{"gitlab project_path star", gitlabARN, `subjects = ["project_path:*"]`, regexp.MustCompile(`(?s)Invalid CI Subject.*project_path:GROUP/`)},
		{"no subjects", testGitHubOIDCARN, `subjects = []`, regexp.MustCompile(`set must contain at least 1 elements`)},
		{"not an OIDC provider ARN", "arn:aws:iam::123456789012:role/ci", `subjects = ["repo:octo-org/site:*"]`, regexp.MustCompile(`(?s)Invalid OIDC Provider ARN.*aws_iam_openid_connect_provider`)},
		{"OIDC provider in another partition", "arn:aws-cn:iam::123456789012:oidc-provider/token.actions.githubusercontent.com", `subjects = ["repo:octo-org/site:*"]`, regexp.MustCompile(`(?s)OIDC Provider in Another Partition.*"aws-cn".*"aws"`)},
		{"wildcard audience", testGitHubOIDCARN, "subjects = [\"repo:octo-org/site:*\"]\naudience = \"sts.*\"", regexp.MustCompile(`(?s)Invalid CI Audience.*StringEquals`)},
		{"short session", testGitHubOIDCARN, "subjects = [\"repo:octo-org/site:*\"]\nmax_session_duration = 900", regexp.MustCompile(`between 3600 and 43200`)},
		{"wildcard prefix", testGitHubOIDCARN, "subjects = [\"repo:octo-org/site:*\"]\nkey_prefix = \"in*\"", regexp.MustCompile(`(?s)Invalid Key Prefix.*wildcards`)},
		{"bucket name", testGitHubOIDCARN, "subjects = [\"repo:octo-org/site:*\"]\nbucket = \"Not_A_Bucket\"", regexp.MustCompile(`Invalid Bucket Name`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bucket := `bucket = "media"`
			if strings.Contains(tc.body, "bucket =") {
				bucket = ""
			}
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: provider + fmt.Sprintf("resource \"staticmedia_upload_role\" \"test\" {\nname = \"v\"\noidc_provider_arn = %q\n%s\n%s\n}\n",
						tc.arn, bucket, tc.body),
					PlanOnly:    true,
					ExpectError: tc.want,
				}},
			})
		})
	}
}

// TestUploadRoleResource_unknownProviderARN: an OIDC provider created in the same apply has no ARN at plan;
// the subjects are still checked for wildcards in front and repo:* at plan.
func TestUploadRoleResource_unknownProviderARN(t *testing.T) {
	t.Parallel()
	config := `
provider "staticmedia" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  endpoints {
    iam = "http://127.0.0.1:9"
  }
}

resource "terraform_data" "oidc" {
  input = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
}

resource "staticmedia_upload_role" "test" {
  name              = "v"
  bucket            = "media"
  oidc_provider_arn = terraform_data.oidc.output
  subjects          = ["repo:*"]
}
`
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      config,
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)Invalid CI Subject.*"repo:\*"`),
		}},
	})
}

// TestUploadRoleResource_partlyUnknownSubjects: a subject taken from another resource has no value at plan;
// the subjects written out beside it are still checked at plan, and a null one is an error on the attribute.
func TestUploadRoleResource_partlyUnknownSubjects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, subjects string
		want           *regexp.Regexp
	}{
		{"repo star beside an unknown", `["repo:*", terraform_data.subject.output]`, regexp.MustCompile(`(?s)Invalid CI Subject.*"repo:\*"`)},
		{"star beside an unknown", `[terraform_data.subject.output, "*"]`, regexp.MustCompile(`(?s)Invalid CI Subject.*begins with a\s+wildcard`)},
		{"null", `["repo:octo-org/site:*", null]`, regexp.MustCompile(`Null Set Value`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: fmt.Sprintf(`
provider "staticmedia" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  endpoints {
    iam = "http://127.0.0.1:9"
  }
}

resource "terraform_data" "subject" {
  input = "repo:octo-org/site:ref:refs/heads/main"
}

resource "staticmedia_upload_role" "test" {
  name              = "v"
  bucket            = "media"
  oidc_provider_arn = %q
  subjects          = %s
}
`, testGitHubOIDCARN, tc.subjects),
					PlanOnly:    true,
					ExpectError: tc.want,
				}},
			})
		})
	}
}

// TestAccUploadRoleResource_importHandMade imports a role built by hand the way AWS stores it (compact JSON,
// one-element lists, a GitLab provider with its own audience): every argument is recovered from the two
// policies, and the configuration that describes it plans nothing.
func TestAccUploadRoleResource_importHandMade(t *testing.T) {
	t.Parallel()
	m := testbed.StartMoto(t)
	ctx := context.Background()
	gitlab := createTestOIDCProvider(t, m, "https://gitlab.com", "https://gitlab.com")
	doc := expectedUploadPolicy(t, policy.UploadOnlyInput{Bucket: "legacy", KeyPrefix: "img/", ExtraActions: []string{"s3:AbortMultipartUpload"}})
	trust := `{"Version":"2012-10-17","Statement":[{"Sid":"AssumeUploadRoleFromCI","Effect":"Allow","Principal":{"Federated":["` + gitlab + `"]},` +
		`"Action":["sts:AssumeRoleWithWebIdentity"],"Condition":{"StringEquals":{"gitlab.com:aud":["https://gitlab.com"]},` +
		`"StringLike":{"gitlab.com:sub":["project_path:media-team/site:ref_type:branch:ref:main"]}}}]}`
	config := testAccMotoConfig(m) + fmt.Sprintf(`
resource "staticmedia_upload_role" "test" {
  name                 = "legacy-ci"
  bucket               = "legacy"
  key_prefix           = "img/"
  extra_actions        = ["s3:AbortMultipartUpload"]
  oidc_provider_arn    = %q
  audience             = "https://gitlab.com"
  subjects             = ["project_path:media-team/site:ref_type:branch:ref:main"]
  max_session_duration = 7200
}
`, gitlab)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					client := adminIAM(t, m)
					_, err := client.CreateRole(ctx, &iam.CreateRoleInput{
						RoleName: aws.String("legacy-ci"), AssumeRolePolicyDocument: aws.String(trust), MaxSessionDuration: aws.Int32(7200),
					})
					mustDo(t, "create role", err)
					_, err = client.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
						RoleName: aws.String("legacy-ci"), PolicyName: aws.String("upload-only"), PolicyDocument: aws.String(strings.Join(strings.Fields(doc), "")),
					})
					mustDo(t, "put role policy", err)
				},
				Config:             config,
				ResourceName:       testUploadRole,
				ImportState:        true,
				ImportStateId:      "legacy-ci",
				ImportStatePersist: true,
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					if len(states) != 1 {
						return fmt.Errorf("imported %d resources, want 1", len(states))
					}
					a := states[0].Attributes
					for k, want := range map[string]string{
						"bucket": "legacy", "key_prefix": "img/", "extra_actions.#": "1", "extra_actions.0": "s3:AbortMultipartUpload",
						"oidc_provider_arn": gitlab, "audience": "https://gitlab.com", "subjects.#": "1",
						"subjects.0": "project_path:media-team/site:ref_type:branch:ref:main", "max_session_duration": "7200", "policy_json": doc,
					} {
						if a[k] != want {
							return fmt.Errorf("imported %s = %q, want %q", k, a[k], want)
						}
					}
					return nil
				},
			},
			{
				Config:           config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

// TestAccUploadRoleResource_importWiderTrust imports a role whose trust policy has, besides the statement the
// resource writes, one it cannot represent (another account may assume the role): the arguments are recovered
// from the CI statement, but the plan must not be empty while the wider trust is in place, and the apply
// narrows it to the CI statement alone.
func TestAccUploadRoleResource_importWiderTrust(t *testing.T) {
	t.Parallel()
	m := testbed.StartMoto(t)
	ctx := context.Background()
	createTestOIDCProvider(t, m, githubIssuerURL, "sts.amazonaws.com")
	in := policy.CITrustInput{OIDCProviderARN: testGitHubOIDCARN, Subjects: []string{"repo:octo-org/site:ref:refs/heads/main"}}
	wantTrust := expectedCITrust(t, in)
	wantPolicy := expectedUploadPolicy(t, policy.UploadOnlyInput{Bucket: "media"})
	ciStatement, err := policy.CITrust(in)
	mustDo(t, "building the CI statement", err)
	wider := ciStatement
	wider.Statement = append(wider.Statement, policy.Statement{
		Effect: "Allow", Principal: map[string]any{"AWS": "arn:aws:iam::999999999999:root"}, Action: "sts:AssumeRole",
	})
	widerJSON, err := wider.JSON()
	mustDo(t, "rendering the wider trust policy", err)
	config := testAccUploadRoleConfig(m, "wider", "media", `  subjects = ["repo:octo-org/site:ref:refs/heads/main"]`)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					client := adminIAM(t, m)
					_, err := client.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("wider"), AssumeRolePolicyDocument: aws.String(widerJSON)})
					mustDo(t, "create role", err)
					_, err = client.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
						RoleName: aws.String("wider"), PolicyName: aws.String("upload-only"), PolicyDocument: aws.String(wantPolicy),
					})
					mustDo(t, "put role policy", err)
				},
				Config:             config,
				ResourceName:       testUploadRole,
				ImportState:        true,
				ImportStateId:      "wider",
				ImportStatePersist: true,
			},
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testUploadRole, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(testUploadRole, tfjsonpath.New("trust_policy_json"), knownvalue.StringExact(wantTrust)),
				}},
				Check: checkRolePolicies(t, m, "wider", wantTrust, wantPolicy),
			},
			{
				Config:           config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

// TestAccUploadRoleResource_roleMissingFromAnswer puts a proxy in front of moto's IAM that drops the <Role>
// element from CreateRole, then GetRole, answers. Each must fail with a diagnostic that names the role, not
// dereference the missing element and crash the provider (the upload user's answers are checked the same way).
func TestAccUploadRoleResource_roleMissingFromAnswer(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	createTestOIDCProvider(t, m, githubIssuerURL, "sts.amazonaws.com")
	roleElement := regexp.MustCompile(`(?s)<Role>.*</Role>`)
	var dropFrom atomic.Value
	dropFrom.Store("CreateRole")
	proxy := startInterceptProxy(t, m.Endpoint, nil, func(r *http.Request, body, response []byte) []byte {
		if queryAction(r, body) != dropFrom.Load() {
			return response
		}
		return roleElement.ReplaceAll(response, nil)
	})
	const name = "answer-without-role"
	config := testAccProviderConfig(motoKeys(m), m.Endpoint, m.Endpoint) + fmt.Sprintf(`
resource "staticmedia_upload_role" "test" {
  name              = %q
  bucket            = "some-bucket"
  oidc_provider_arn = %q
  subjects          = ["repo:octo-org/site:ref:refs/heads/main"]
}
`, name, testGitHubOIDCARN)
	config = strings.Replace(config, fmt.Sprintf("iam       = %q", m.Endpoint), fmt.Sprintf("iam       = %q", proxy.URL), 1)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      config,
				ExpectError: regexp.MustCompile(`(?s)Unable to Create Upload Role.*"answer-without-role".*answered without the role`),
			},
			{
				// The failed create left the role in IAM untracked; with it gone, the create succeeds and the
				// refresh after it meets a GetRole answer without the role.
				PreConfig: func() {
					_, err := adminIAM(t, m).DeleteRole(context.Background(), &iam.DeleteRoleInput{RoleName: aws.String(name)})
					mustDo(t, "deleting the role the failed create left", err)
					dropFrom.Store("GetRole")
				},
				Config:      config,
				ExpectError: regexp.MustCompile(`(?s)Unable to Read Upload Role.*"answer-without-role".*answered without the role`),
			},
			{
				PreConfig: func() { dropFrom.Store("") },
				Config:    config,
			},
		},
	})
}
