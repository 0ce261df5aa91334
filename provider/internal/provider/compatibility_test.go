package provider

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/staticmedia/staticmedia/internal/testbed"
)

// testAccMinIOStrictConfig is testAccMinIOConfig without skip_unsupported_bucket_apis: the provider's default.
func testAccMinIOStrictConfig(t *testing.T, m *testbed.MinIO) string {
	t.Helper()
	const setting = "  skip_unsupported_bucket_apis = true\n"
	c := testAccMinIOConfig(m)
	if !strings.Contains(c, setting) {
		t.Fatalf("testAccMinIOConfig no longer sets skip_unsupported_bucket_apis:\n%s", c)
	}
	return strings.Replace(c, setting, "", 1)
}

// fixNamesSetting is the part of the strict errors that tells the user what to do.
var fixNamesSetting = phrase("set skip_unsupported_bucket_apis = true in the provider block")

// TestAccBucketResource_minioStrict checks that an endpoint override alone no longer turns the bucket APIs
// MinIO lacks into warnings: by default they are errors that name skip_unsupported_bucket_apis; with it the
// bucket applies (with warnings) and plans empty; and turning it off again makes the refresh fail rather than
// stop checking those settings.
func TestAccBucketResource_minioStrict(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMinIO(t)
	admin := adminS3(t, m)
	const bucket = "staticmedia-strict"
	resourceBlock := fmt.Sprintf("resource \"staticmedia_bucket\" \"test\" {\n  bucket        = %q\n  force_destroy = true\n}\n", bucket)
	strict := testAccMinIOStrictConfig(t, m) + resourceBlock
	relaxed := testAccMinIOConfig(m) + resourceBlock

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkBucketGone(admin, bucket),
		Steps: []resource.TestStep{
			{
				Config:      strict,
				ExpectError: fixNamesSetting,
			},
			{
				// The failed create left the bucket tainted; with the setting it is replaced and configured.
				Config: relaxed,
			},
			{
				Config: relaxed,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				Config:      strict,
				PlanOnly:    true,
				ExpectError: phrase("set skip_unsupported_bucket_apis = true in the provider block: the bucket then does without them"),
			},
		},
	})
}

// TestAccRefererPolicyResource_minioStrict checks the same for the Block Public Access switches the Referer
// policy needs: by default an error that names the setting, and no policy is put.
func TestAccRefererPolicyResource_minioStrict(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMinIO(t)
	admin := adminS3(t, m)
	const bucket = "referer-strict"
	body := `
  allowed_referers = ["https://example.com/*"]`

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig:   func() { refererTestBucket(t, admin, bucket, false) },
				Config:      testAccRefererPolicyConfig(testAccMinIOStrictConfig(t, m), bucket, body),
				ExpectError: fixNamesSetting,
			},
			{
				Config: testAccRefererPolicyConfig(testAccMinIOConfig(m), bucket, body),
				Check: checkRefererPolicyStored(admin, bucket, func() string {
					return wantRefererPolicy(t, bucket, []string{"https://example.com/*"}, true)
				}),
			},
			{
				Config: testAccRefererPolicyConfig(testAccMinIOConfig(m), bucket, body),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}
