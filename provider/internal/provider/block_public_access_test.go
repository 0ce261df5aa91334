package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/staticmedia/staticmedia/internal/testbed"
)

// setBlockPublicAccess changes the bucket's Block Public Access behind the provider's back: change edits the
// configuration the bucket has now.
func setBlockPublicAccess(t *testing.T, client *s3.Client, bucket string, change func(*s3types.PublicAccessBlockConfiguration)) {
	t.Helper()
	ctx := context.Background()
	out, err := client.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(bucket)})
	mustDo(t, "reading Block Public Access", err)
	cfg := *out.PublicAccessBlockConfiguration
	change(&cfg)
	_, err = client.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(bucket), PublicAccessBlockConfiguration: &cfg})
	mustDo(t, "changing Block Public Access out of band", err)
}

// TestAccBucketResource_blockPublicAccessDrift turns the ACL switches of Block Public Access off out of band:
// the bucket owns them, so the plan must show it and the apply turn them back on, without touching the two
// public-policy switches (all on here, as creation left them).
func TestAccBucketResource_blockPublicAccessDrift(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	admin := adminS3(t, m)
	const bucket = "staticmedia-bpa-drift"
	const addr = "staticmedia_bucket.test"
	config := testAccMotoConfig(m) + fmt.Sprintf("resource \"staticmedia_bucket\" \"test\" {\n  bucket = %q\n}\n", bucket)
	allOn := func(*terraform.State) error { return checkRefererBucketBPA(admin, bucket, fullBlock()) }

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkBucketGone(admin, bucket),
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("block_public_acls"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("ignore_public_acls"), knownvalue.Bool(true)),
				},
				Check: allOn,
			},
			{
				PreConfig: func() {
					setBlockPublicAccess(t, admin, bucket, func(c *s3types.PublicAccessBlockConfiguration) {
						c.BlockPublicAcls = aws.Bool(false)
					})
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("block_public_acls"), knownvalue.Bool(true)),
					},
				},
				Check: allOn,
			},
			{
				// No configuration at all reads as every switch off.
				PreConfig: func() {
					_, err := admin.DeletePublicAccessBlock(context.Background(), &s3.DeletePublicAccessBlockInput{Bucket: aws.String(bucket)})
					mustDo(t, "deleting Block Public Access out of band", err)
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("ignore_public_acls"), knownvalue.Bool(true)),
					},
				},
				// The public-policy switches are not the bucket's: they stay as they were found, off.
				Check: func(*terraform.State) error {
					return checkRefererBucketBPA(admin, bucket, s3types.PublicAccessBlockConfiguration{
						BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true),
						BlockPublicPolicy: aws.Bool(false), RestrictPublicBuckets: aws.Bool(false),
					})
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
}

// TestAccRefererPolicyResource_blockPublicAccessDrift turns switches on and off out of band with the bucket
// and the policy in place. BlockPublicPolicy or RestrictPublicBuckets on makes every image 403 on AWS: the
// policy owns them, so its plan shows the change; an ACL switch off is the bucket's. One apply repairs both.
func TestAccRefererPolicyResource_blockPublicAccessDrift(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	admin := adminS3(t, m)
	const bucket = "referer-bpa-drift"
	const bucketAddr = "staticmedia_bucket.media"
	config := testAccMotoConfig(m) + fmt.Sprintf(`
resource "staticmedia_bucket" "media" {
  bucket = %q
}

resource "staticmedia_referer_policy" "test" {
  bucket          = staticmedia_bucket.media.id
  allowed_domains = ["example.com"]
}
`, bucket)
	policyOpen := func(*terraform.State) error { return checkRefererBucketBPA(admin, bucket, publicPolicyAllowed()) }
	policyStored := checkRefererPolicyStored(admin, bucket, func() string {
		return wantRefererPolicy(t, bucket, refererExpand(t, "example.com"), true)
	})

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkBucketGone(admin, bucket),
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(refererPolicyAddr, tfjsonpath.New("block_public_policy"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(refererPolicyAddr, tfjsonpath.New("restrict_public_buckets"), knownvalue.Bool(false)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(policyOpen, policyStored),
			},
			{
				PreConfig: func() {
					setBlockPublicAccess(t, admin, bucket, func(c *s3types.PublicAccessBlockConfiguration) {
						c.BlockPublicPolicy = aws.Bool(true)
					})
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(refererPolicyAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(refererPolicyAddr, tfjsonpath.New("block_public_policy"), knownvalue.Bool(false)),
						plancheck.ExpectResourceAction(bucketAddr, plancheck.ResourceActionNoop),
					},
				},
				Check: resource.ComposeAggregateTestCheckFunc(policyOpen, policyStored),
			},
			{
				PreConfig: func() {
					setBlockPublicAccess(t, admin, bucket, func(c *s3types.PublicAccessBlockConfiguration) {
						c.RestrictPublicBuckets = aws.Bool(true)
						c.IgnorePublicAcls = aws.Bool(false)
					})
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(refererPolicyAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(refererPolicyAddr, tfjsonpath.New("restrict_public_buckets"), knownvalue.Bool(false)),
						plancheck.ExpectResourceAction(bucketAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(bucketAddr, tfjsonpath.New("ignore_public_acls"), knownvalue.Bool(true)),
					},
				},
				Check: resource.ComposeAggregateTestCheckFunc(policyOpen, policyStored),
			},
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}
