package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/staticmedia/staticmedia/internal/policy"
	"github.com/staticmedia/staticmedia/internal/testbed"
)

const testUploadUser = "staticmedia_upload_user.test"

// testAccUploadUserConfig is a user with optional extra HCL inside the resource block.
func testAccUploadUserConfig(m *testbed.Moto, name, bucket, body string) string {
	return testAccMotoConfig(m) + fmt.Sprintf(`
resource "staticmedia_upload_user" "test" {
  name   = %q
  bucket = %q
%s
}
`, name, bucket, body)
}

// expectedUploadPolicy is the document the resource must put, built by the same pure package.
func expectedUploadPolicy(t *testing.T, in policy.UploadOnlyInput) string {
	t.Helper()
	doc, err := policy.UploadOnly(in)
	return mustPolicyJSON(t, doc, err)
}

// checkInlinePolicy asserts what moto holds: the named inline policy is equivalent to want, and the user
// has no other inline policy.
func checkInlinePolicy(t *testing.T, m *testbed.Moto, user, name, want string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		ctx := context.Background()
		client := adminIAM(t, m)
		names, err := client.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String(user)})
		if err != nil {
			return fmt.Errorf("list user policies: %w", err)
		}
		if len(names.PolicyNames) != 1 || names.PolicyNames[0] != name {
			return fmt.Errorf("user %s has inline policies %v, want exactly [%s]", user, names.PolicyNames, name)
		}
		got, err := findUserPolicy(ctx, client, user, name)
		if err != nil {
			return fmt.Errorf("get user policy %s: %w", name, err)
		}
		eq, err := policy.Equivalent(got, want)
		if err != nil {
			return err
		}
		if !eq {
			return fmt.Errorf("inline policy %s is\n%s\nwant\n%s", name, got, want)
		}
		return nil
	}
}

func TestAccUploadUserResource_basic(t *testing.T) {
	t.Parallel()
	m := testbed.StartMoto(t)
	first := expectedUploadPolicy(t, policy.UploadOnlyInput{Bucket: "media-one"})
	second := expectedUploadPolicy(t, policy.UploadOnlyInput{
		Bucket: "media-two", KeyPrefix: "uploads/", ExtraActions: []string{"s3:PutObjectTagging"},
	})
	// Bucket, prefix, extra action, policy name, path and tags all change in place.
	updated := testAccUploadUserConfig(m, "uploader", "media-two", `
  key_prefix    = "uploads/"
  extra_actions = ["s3:PutObjectTagging"]
  policy_name   = "media-upload"
  path          = "/staticmedia/"
  tags          = { team = "media", env = "test" }
`)

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			_, err := adminIAM(t, m).GetUser(context.Background(), &iam.GetUserInput{UserName: aws.String("uploader")})
			if !isNotFound(err) {
				return fmt.Errorf("user uploader still exists after destroy (err %w)", err)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: testAccUploadUserConfig(m, "uploader", "media-one", `  tags = { team = "web" }`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testUploadUser, tfjsonpath.New("id"), knownvalue.StringExact("uploader")),
					statecheck.ExpectKnownValue(testUploadUser, tfjsonpath.New("path"), knownvalue.StringExact("/")),
					statecheck.ExpectKnownValue(testUploadUser, tfjsonpath.New("arn"), knownvalue.StringExact("arn:aws:iam::123456789012:user/uploader")),
					statecheck.ExpectKnownValue(testUploadUser, tfjsonpath.New("unique_id"), knownvalue.StringRegexp(regexp.MustCompile(`^[A-Za-z0-9]{16,128}$`))),
					statecheck.ExpectKnownValue(testUploadUser, tfjsonpath.New("policy_name"), knownvalue.StringExact("upload-only")),
					statecheck.ExpectKnownValue(testUploadUser, tfjsonpath.New("policy_json"), knownvalue.StringExact(first)),
					statecheck.ExpectKnownValue(testUploadUser, tfjsonpath.New("key_prefix"), knownvalue.StringExact("")),
					statecheck.ExpectKnownValue(testUploadUser, tfjsonpath.New("force_destroy"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(testUploadUser, tfjsonpath.New("tags_all"), knownvalue.MapExact(map[string]knownvalue.Check{
						"team": knownvalue.StringExact("web"),
					})),
				},
				Check: checkInlinePolicy(t, m, "uploader", "upload-only", first),
			},
			{
				ResourceName:      testUploadUser,
				ImportState:       true,
				ImportStateId:     "uploader",
				ImportStateVerify: true,
			},
			{
				Config: updated,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(testUploadUser, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(testUploadUser, tfjsonpath.New("policy_json"), knownvalue.StringExact(second)),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testUploadUser, tfjsonpath.New("arn"), knownvalue.StringExact("arn:aws:iam::123456789012:user/staticmedia/uploader")),
					statecheck.ExpectKnownValue(testUploadUser, tfjsonpath.New("policy_json"), knownvalue.StringExact(second)),
					statecheck.ExpectKnownValue(testUploadUser, tfjsonpath.New("tags_all"), knownvalue.MapExact(map[string]knownvalue.Check{
						"team": knownvalue.StringExact("media"),
						"env":  knownvalue.StringExact("test"),
					})),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkInlinePolicy(t, m, "uploader", "media-upload", second),
					checkUserTags(t, m, "uploader", map[string]string{"team": "media", "env": "test"}),
				),
			},
			{
				ResourceName:      testUploadUser,
				ImportState:       true,
				ImportStateId:     "uploader",
				ImportStateVerify: true,
			},
			{
				Config: updated,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

func checkUserTags(t *testing.T, m *testbed.Moto, user string, want map[string]string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		got, err := listUserTags(context.Background(), adminIAM(t, m), user)
		if err != nil {
			return err
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("user %s has tags %v, want %v", user, got, want)
		}
		return nil
	}
}

// TestAccUploadUserResource_defaultTags checks that provider default tags reach IAM and tags_all without
// showing up in tags, and that a resource tag wins over a default with the same key.
func TestAccUploadUserResource_defaultTags(t *testing.T) {
	t.Parallel()
	m := testbed.StartMoto(t)
	config := testAccMotoConfig(m, withDefaultTags(map[string]string{"owner": "platform", "team": "default"})) + `
resource "staticmedia_upload_user" "test" {
  name   = "tagged"
  bucket = "media"
  tags   = { team = "media" }
}
`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testUploadUser, tfjsonpath.New("tags"), knownvalue.MapExact(map[string]knownvalue.Check{
						"team": knownvalue.StringExact("media"),
					})),
					statecheck.ExpectKnownValue(testUploadUser, tfjsonpath.New("tags_all"), knownvalue.MapExact(map[string]knownvalue.Check{
						"owner": knownvalue.StringExact("platform"),
						"team":  knownvalue.StringExact("media"),
					})),
				},
				Check: checkUserTags(t, m, "tagged", map[string]string{"owner": "platform", "team": "media"}),
			},
			{
				Config:           config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

// TestAccUploadUserResource_drift deletes or rewrites the user and its policy behind Terraform's back;
// each must show in the plan and be repaired by the apply, while an equivalent rewrite must not.
func TestAccUploadUserResource_drift(t *testing.T) {
	t.Parallel()
	m := testbed.StartMoto(t)
	ctx := context.Background()
	want := expectedUploadPolicy(t, policy.UploadOnlyInput{Bucket: "media", KeyPrefix: "in/"})
	config := testAccUploadUserConfig(m, "drifter", "media", `  key_prefix = "in/"`)
	put := func(doc string) {
		t.Helper()
		_, err := adminIAM(t, m).PutUserPolicy(ctx, &iam.PutUserPolicyInput{
			UserName: aws.String("drifter"), PolicyName: aws.String("upload-only"), PolicyDocument: aws.String(doc),
		})
		if err != nil {
			t.Fatalf("out-of-band PutUserPolicy: %v", err)
		}
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: config, Check: checkInlinePolicy(t, m, "drifter", "upload-only", want)},
			{
				// The policy deleted out of band: the plan puts it back.
				PreConfig: func() {
					_, err := adminIAM(t, m).DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{
						UserName: aws.String("drifter"), PolicyName: aws.String("upload-only"),
					})
					if err != nil {
						t.Fatalf("out-of-band DeleteUserPolicy: %v", err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(testUploadUser, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(testUploadUser, tfjsonpath.New("policy_json"), knownvalue.StringExact(want)),
					},
				},
				Check: checkInlinePolicy(t, m, "drifter", "upload-only", want),
			},
			{
				// A wider policy put out of band: the plan narrows it again.
				PreConfig: func() {
					put(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(testUploadUser, plancheck.ResourceActionUpdate)},
				},
				Check: checkInlinePolicy(t, m, "drifter", "upload-only", want),
			},
			{
				// The same grants, reformatted and reordered the way AWS stores documents: no diff.
				PreConfig: func() {
					put(`{"Statement":[{"Sid":"ListAllMyBucketsForPreflight","Resource":"arn:aws:s3:::*","Action":["s3:ListAllMyBuckets"],"Effect":"Allow"},` +
						`{"Sid":"PutObjectsInBucket","Effect":"Allow","Action":"s3:PutObject","Resource":["arn:aws:s3:::media/in/*","arn:aws:s3:::media"]}],"Version":"2012-10-17"}`)
				},
				Config:           config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testUploadUser, tfjsonpath.New("policy_json"), knownvalue.StringExact(want)),
				},
			},
			{
				// The user deleted out of band (IAM needs its policy gone first): the plan re-creates it.
				PreConfig: func() {
					client := adminIAM(t, m)
					if _, err := client.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("drifter"), PolicyName: aws.String("upload-only")}); err != nil {
						t.Fatalf("out-of-band DeleteUserPolicy: %v", err)
					}
					if _, err := client.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("drifter")}); err != nil {
						t.Fatalf("out-of-band DeleteUser: %v", err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(testUploadUser, plancheck.ResourceActionCreate)},
				},
				Check: checkInlinePolicy(t, m, "drifter", "upload-only", want),
			},
			{
				Config:           config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

// TestAccUploadUserResource_forceDestroy: a key created outside Terraform blocks destroy with an error
// naming force_destroy; with force_destroy set, destroy removes the key and the user.
func TestAccUploadUserResource_forceDestroy(t *testing.T) {
	t.Parallel()
	m := testbed.StartMoto(t)
	ctx := context.Background()
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			_, err := adminIAM(t, m).GetUser(ctx, &iam.GetUserInput{UserName: aws.String("keeper")})
			if !isNotFound(err) {
				return fmt.Errorf("user keeper still exists after destroy (err %w)", err)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: testAccUploadUserConfig(m, "keeper", "media", ""),
				Check: func(*terraform.State) error {
					client := adminIAM(t, m)
					if _, err := client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("keeper")}); err != nil {
						return err
					}
					managed, err := client.CreatePolicy(ctx, &iam.CreatePolicyInput{
						PolicyName:     aws.String("read-only"),
						PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`),
					})
					if err != nil {
						return err
					}
					_, err = client.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("keeper"), PolicyArn: managed.Policy.Arn})
					return err
				},
			},
			{
				Config:      testAccUploadUserConfig(m, "keeper", "media", ""),
				Destroy:     true,
				ExpectError: regexp.MustCompile(`(?s)still has access keys.*force_destroy = true`),
			},
			{
				Config: testAccUploadUserConfig(m, "keeper", "media", `  force_destroy = true`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(testUploadUser, plancheck.ResourceActionUpdate)},
				},
			},
		},
	})
}

// TestAccUploadUserResource_importOtherPolicyName imports a user whose only inline policy has a
// non-default name and a key prefix, as someone who wrote the seed's policy by hand would have it.
func TestAccUploadUserResource_importOtherPolicyName(t *testing.T) {
	t.Parallel()
	m := testbed.StartMoto(t)
	ctx := context.Background()
	doc := expectedUploadPolicy(t, policy.UploadOnlyInput{Bucket: "legacy", KeyPrefix: "img/", ExtraActions: []string{"s3:AbortMultipartUpload"}})
	config := testAccUploadUserConfig(m, "legacy", "legacy", `
  key_prefix    = "img/"
  extra_actions = ["s3:AbortMultipartUpload"]
  policy_name   = "hand-written"
`)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					client := adminIAM(t, m)
					if _, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("legacy")}); err != nil {
						t.Fatalf("create user: %v", err)
					}
					// IAM returns documents URL-encoded; store one compact so the import has to decode and compare.
					compact := strings.Join(strings.Fields(doc), "")
					if _, err := client.PutUserPolicy(ctx, &iam.PutUserPolicyInput{
						UserName: aws.String("legacy"), PolicyName: aws.String("hand-written"), PolicyDocument: aws.String(compact),
					}); err != nil {
						t.Fatalf("put user policy: %v", err)
					}
				},
				Config:             config,
				ResourceName:       testUploadUser,
				ImportState:        true,
				ImportStateId:      "legacy",
				ImportStatePersist: true,
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					if len(states) != 1 {
						return fmt.Errorf("imported %d resources, want 1", len(states))
					}
					a := states[0].Attributes
					for k, want := range map[string]string{
						"bucket": "legacy", "key_prefix": "img/", "policy_name": "hand-written",
						"extra_actions.#": "1", "extra_actions.0": "s3:AbortMultipartUpload", "policy_json": doc,
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

// TestUploadUserResource_validation covers the plan-time checks; no engine is contacted.
func TestUploadUserResource_validation(t *testing.T) {
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
	for _, tc := range []struct {
		name, body string
		want       *regexp.Regexp
	}{
		{"bucket name", `bucket = "Not_A_Bucket"`, regexp.MustCompile(`Invalid Bucket Name`)},
		{"leading slash", "bucket = \"media\"\nkey_prefix = \"/in\"", regexp.MustCompile(`(?s)Invalid Key Prefix.*leading slash`)},
		{"wildcard prefix", "bucket = \"media\"\nkey_prefix = \"in*\"", regexp.MustCompile(`(?s)Invalid Key Prefix.*wildcards`)},
		{"wildcard action", "bucket = \"media\"\nextra_actions = [\"s3:*\"]", regexp.MustCompile(`full S3 action name`)},
		{"user name", "bucket = \"media\"\nname = \"has space\"", regexp.MustCompile(`may contain only letters`)},
		{"path", "bucket = \"media\"\npath = \"nopath\"", regexp.MustCompile(`must start and end with /`)},
		{"name and name_prefix", "bucket = \"media\"\nname = \"a\"\nname_prefix = \"a-\"", regexp.MustCompile(`(?s)Invalid Attribute Combination.*name_prefix`)},
		{"neither name nor name_prefix", "bucket = \"media\"\nname = null", regexp.MustCompile(`(?s)Invalid Attribute Combination.*name_prefix`)},
		{"long name_prefix", "bucket = \"media\"\nname = null\nname_prefix = \"" + strings.Repeat("p", 39) + "\"", regexp.MustCompile(`(?s)name_prefix.*length`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			name := `name = "v"`
			if strings.Contains(tc.body, "name =") {
				name = ""
			}
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      provider + fmt.Sprintf("resource \"staticmedia_upload_user\" \"test\" {\n%s\n%s\n}\n", name, tc.body),
					PlanOnly:    true,
					ExpectError: tc.want,
				}},
			})
		})
	}
}

func TestDecodePolicyDocument(t *testing.T) {
	t.Parallel()
	raw := `{"Statement":[{"Resource":"arn:aws:s3:::m/100%25 a+b*"}]}`
	for _, tc := range []struct{ name, in, want string }{
		{"encoded by IAM", url.PathEscape(raw), raw},
		{"query-style encoding", strings.ReplaceAll(url.QueryEscape(`{"a":"b c"}`), "+", "%20"), `{"a":"b c"}`},
		{"raw JSON passes through", raw, raw},
		{"raw JSON with leading space", "  " + raw, "  " + raw},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodePolicyDocument(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := decodePolicyDocument("%zz"); err == nil {
		t.Error("a malformed escape was accepted")
	}
}

// TestAccUploadUserResource_userMissingFromAnswer puts a proxy in front of moto's IAM that drops the <User>
// element from GetUser answers. The refresh after create must fail with a diagnostic that names the user,
// not dereference the missing element and crash the provider.
func TestAccUploadUserResource_userMissingFromAnswer(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	userElement := regexp.MustCompile(`(?s)<User>.*</User>`)
	proxy := startInterceptProxy(t, m.Endpoint, nil, func(r *http.Request, body, response []byte) []byte {
		if queryAction(r, body) != "GetUser" {
			return response
		}
		return userElement.ReplaceAll(response, nil)
	})
	const name = "answer-without-user"
	config := testAccProviderConfig(motoKeys(m), m.Endpoint, m.Endpoint) + fmt.Sprintf(`
resource "staticmedia_upload_user" "test" {
  name          = %q
  bucket        = "some-bucket"
  force_destroy = true
}
`, name)
	config = strings.Replace(config, fmt.Sprintf("iam       = %q", m.Endpoint), fmt.Sprintf("iam       = %q", proxy.URL), 1)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      config,
			ExpectError: regexp.MustCompile(`(?s)Unable to Read Upload User.*"answer-without-user" answered without the user`),
		}},
	})
}
