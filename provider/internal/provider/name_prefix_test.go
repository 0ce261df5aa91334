package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/staticmedia/staticmedia/internal/testbed"
)

func TestPrefixedUniqueName(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		name := prefixedUniqueName("up-")
		if seen[name] {
			t.Fatalf("prefixedUniqueName returned %q twice", name)
		}
		seen[name] = true
		if len(name) != len("up-")+uniqueSuffixLength {
			t.Fatalf("%q is not the prefix and a %d-character suffix", name, uniqueSuffixLength)
		}
		if got := namePrefixFromName(name); got.ValueString() != "up-" {
			t.Fatalf("namePrefixFromName(%q) = %v, want up-", name, got)
		}
	}
	for _, name := range []string{"media-uploader", "media-uploader-2024", ""} {
		if got := namePrefixFromName(name); !got.IsNull() {
			t.Errorf("namePrefixFromName(%q) = %v, want null: the name has no generated suffix", name, got)
		}
	}
}

// checkUserGone fails unless IAM answers NoSuchEntity for the user.
func checkUserGone(client *iam.Client, user *string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		_, err := client.GetUser(context.Background(), &iam.GetUserInput{UserName: user})
		var gone *iamtypes.NoSuchEntityException
		if !errors.As(err, &gone) {
			return fmt.Errorf("user %s: want NoSuchEntity, got %w", aws.ToString(user), err)
		}
		return nil
	}
}

// TestAccQuickstart_replaceUser replaces the quickstart's upload user (terraform apply -replace). The access key
// is create_before_destroy, which Terraform carries to the user, so the new user is created before the old one is
// deleted: with a fixed name that failed with "Upload User Already Exists". With name_prefix the new user gets a
// new name, the key is replaced with it, and the old user is gone after the one apply.
func TestAccQuickstart_replaceUser(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	admin := adminIAM(t, m)
	const userAddr = "staticmedia_upload_user.uploader[0]"
	const keyAddr = "staticmedia_upload_access_key.uploader[0]"
	// The flatmap state of terraform.State names counted instances with .N.
	const userState, keyState = "staticmedia_upload_user.uploader.0", "staticmedia_upload_access_key.uploader.0"
	hcl := quickstartConfig(t, testAccMotoConfig(m))
	vars := config.Variables{
		"bucket":       config.StringVariable("quickstart-replace-user"),
		"site_domains": config.ListVariable(config.StringVariable("example.com")),
	}
	var oldUser, oldKey string
	generated := regexp.MustCompile(`^media-uploader-\d{18}[0-9a-f]{8}$`)

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:          hcl,
				ConfigVariables: vars,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(userAddr, tfjsonpath.New("name"), knownvalue.StringRegexp(generated)),
					statecheck.ExpectKnownValue(userAddr, tfjsonpath.New("name_prefix"), knownvalue.StringExact("media-uploader-")),
				},
				Check: func(s *terraform.State) (err error) {
					if oldUser, err = stateAttr(s, userState, "name"); err != nil {
						return err
					}
					oldKey, err = stateAttr(s, keyState, "id")
					return err
				},
			},
			{
				Taint:           []string{userAddr},
				Config:          hcl,
				ConfigVariables: vars,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(userAddr, plancheck.ResourceActionCreateBeforeDestroy),
						plancheck.ExpectResourceAction(keyAddr, plancheck.ResourceActionCreateBeforeDestroy),
						plancheck.ExpectUnknownValue(userAddr, tfjsonpath.New("name")),
					},
				},
				Check: func(s *terraform.State) error {
					user, err := stateAttr(s, userState, "name")
					if err != nil {
						return err
					}
					if user == oldUser || !generated.MatchString(user) {
						return fmt.Errorf("the replacement user is %q, want a new generated name (the old one was %q)", user, oldUser)
					}
					key, _ := stateAttr(s, keyState, "id")
					if key == oldKey {
						return fmt.Errorf("the key %s survived the user's replacement", key)
					}
					keys, err := admin.ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String(user)})
					if err != nil {
						return err
					}
					if len(keys.AccessKeyMetadata) != 1 || aws.ToString(keys.AccessKeyMetadata[0].AccessKeyId) != key {
						return fmt.Errorf("user %s has keys %v, want exactly %s", user, keys.AccessKeyMetadata, key)
					}
					return resource.ComposeAggregateTestCheckFunc(
						checkUserGone(admin, aws.String(oldUser)),
						checkInlinePolicy(t, m, user, defaultUploadPolicyName, mustStateAttr(s, userState, "policy_json")),
					)(s)
				},
			},
			{
				Config:          hcl,
				ConfigVariables: vars,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

// TestAccUploadUserResource_namePrefixImport imports a user created with name_prefix by its full name: the
// imported state matches, and the configuration that created it plans no change (name_prefix is recovered from
// the name, so it does not plan a replacement).
func TestAccUploadUserResource_namePrefixImport(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	hcl := testAccMotoConfig(m) + `
resource "staticmedia_upload_user" "test" {
  name_prefix = "imported-"
  bucket      = "media"
}
`
	importID := func(s *terraform.State) (string, error) { return stateAttr(s, testUploadUser, "name") }
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: hcl,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testUploadUser, tfjsonpath.New("name"), knownvalue.StringRegexp(regexp.MustCompile(`^imported-\d{18}[0-9a-f]{8}$`))),
					statecheck.ExpectKnownValue(testUploadUser, tfjsonpath.New("name_prefix"), knownvalue.StringExact("imported-")),
				},
				Check: func(s *terraform.State) error {
					name, err := importID(s)
					if err != nil {
						return err
					}
					if id, _ := stateAttr(s, testUploadUser, "id"); id != name {
						return fmt.Errorf("id is %q, want the generated name %q", id, name)
					}
					if !strings.HasSuffix(mustStateAttr(s, testUploadUser, "arn"), ":user/"+name) {
						return fmt.Errorf("arn does not name the user %q", name)
					}
					return nil
				},
			},
			{
				ResourceName:      testUploadUser,
				ImportState:       true,
				ImportStateIdFunc: importID,
				ImportStateVerify: true,
			},
			{
				// An import {} block with the configuration that created the user: the plan must be a no-op import.
				Config:            hcl,
				ResourceName:      testUploadUser,
				ImportState:       true,
				ImportStateKind:   resource.ImportBlockWithID,
				ImportStateIdFunc: importID,
			},
		},
	})
}

func mustStateAttr(s *terraform.State, address, attr string) string {
	v, _ := stateAttr(s, address, attr)
	return v
}

// TestAccUploadRoleResource_namePrefix creates a role from name_prefix, imports it by its generated name with the
// same configuration (a no-op import), and keeps the name on the next plan.
func TestAccUploadRoleResource_namePrefix(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	createTestOIDCProvider(t, m, githubIssuerURL, "sts.amazonaws.com")
	hcl := testAccMotoConfig(m) + fmt.Sprintf(`
resource "staticmedia_upload_role" "test" {
  name_prefix       = "ci-"
  bucket            = "media"
  oidc_provider_arn = %q
  subjects          = ["repo:octo-org/site:ref:refs/heads/main"]
}
`, testGitHubOIDCARN)
	importID := func(s *terraform.State) (string, error) { return stateAttr(s, testUploadRole, "name") }
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: hcl,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testUploadRole, tfjsonpath.New("name"), knownvalue.StringRegexp(regexp.MustCompile(`^ci-\d{18}[0-9a-f]{8}$`))),
					statecheck.ExpectKnownValue(testUploadRole, tfjsonpath.New("name_prefix"), knownvalue.StringExact("ci-")),
				},
			},
			{
				Config:            hcl,
				ResourceName:      testUploadRole,
				ImportState:       true,
				ImportStateKind:   resource.ImportBlockWithID,
				ImportStateIdFunc: importID,
			},
			{
				Config: hcl,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

// TestAccUploadUserResource_importFixedNameLikeGenerated imports a user whose fixed name happens to end like a
// generated one (a name taken over from aws_iam_role's or this provider's name_prefix and now pinned with name).
// Import recovers a name_prefix from such a name; with name in the configuration, that recovered name_prefix
// must not plan a replacement (which deletes the user and its keys): the entity keeps its name.
func TestAccUploadUserResource_importFixedNameLikeGenerated(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	hcl := testAccMotoConfig(m) + `
resource "staticmedia_upload_user" "test" {
  name   = "pinned-20240101000000000000000001"
  bucket = "media"
}
`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: hcl},
			{
				Config:          hcl,
				ResourceName:    testUploadUser,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithID,
				ImportStateId:   "pinned-20240101000000000000000001",
			},
		},
	})
}
