package provider

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/staticmedia/staticmedia/internal/testbed"
)

// TestAccQuickstart_defaults applies examples/quickstart as it is shipped, with only its required variables
// and the local endpoints set: every other variable keeps its default (key_prefix = "", the whole bucket).
// The upload policy must cover the whole bucket, and the next plan must be empty.
func TestAccQuickstart_defaults(t *testing.T) {
	testAccPreCheck(t)
	m := startMotoForExample(t)
	const bucket = "quickstart-defaults"
	vars := config.Variables{
		"bucket":       config.StringVariable(bucket),
		"site_domains": config.ListVariable(config.StringVariable("example.com")),
		"s3_endpoint":  config.StringVariable(m.Endpoint),
		"iam_endpoint": config.StringVariable(m.Endpoint),
	}
	dir := config.StaticDirectory("../../../examples/quickstart")
	resource.Test(t, resource.TestCase{
		PreCheck:     func() { testAccPreCheck(t) },
		CheckDestroy: checkBucketGone(adminS3(t, m), bucket),
		Steps: []resource.TestStep{
			{
				// At the step level: the quickstart's own required_providers block counts as providers too.
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				ConfigDirectory:          dir,
				ConfigVariables:          vars,
				Check: func(s *terraform.State) error {
					user, err := stateAttr(s, "staticmedia_upload_user.uploader.0", "name")
					if err != nil {
						return err
					}
					out, err := adminIAM(t, m).GetUserPolicy(context.Background(), &iam.GetUserPolicyInput{
						UserName: aws.String(user), PolicyName: aws.String(defaultUploadPolicyName),
					})
					if err != nil {
						return fmt.Errorf("the quickstart's upload policy is not in moto: %w", err)
					}
					doc, err := decodePolicyDocument(aws.ToString(out.PolicyDocument))
					if err != nil {
						return err
					}
					if want := `"arn:aws:s3:::` + bucket + `/*"`; !strings.Contains(doc, want) {
						return fmt.Errorf("the upload policy does not cover the whole bucket (%s):\n%s", want, doc)
					}
					return nil
				},
			},
			{
				// At the step level: the quickstart's own required_providers block counts as providers too.
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				ConfigDirectory:          dir,
				ConfigVariables:          vars,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

// startMotoForExample starts moto for a test that applies one of examples/ as shipped. Not parallel: t.Setenv.
// The examples require staticmedia/staticmedia, so the in-process provider is attached under that namespace, and
// it takes credentials from the environment as a user's would.
func startMotoForExample(t *testing.T) *testbed.Moto {
	t.Helper()
	m := testbed.StartMoto(t)
	isolateAWSEnv(t)
	t.Setenv("TF_ACC_PROVIDER_NAMESPACE", "staticmedia")
	t.Setenv("AWS_ACCESS_KEY_ID", m.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", m.SecretKey)
	return m
}
