package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// TestAccExample_directUploads applies examples/direct-uploads as it is shipped, with only its required variables
// and the local endpoints set: the bucket's CORS rule for the site's origin, the expiry rule for what stays below
// incoming/ (2 days by default, beside the multipart abort rule), and a signer whose policy covers incoming/ only.
// The next plan must be empty.
func TestAccExample_directUploads(t *testing.T) {
	testAccPreCheck(t)
	m := startMotoForExample(t)
	const bucket = "direct-uploads-example"
	vars := config.Variables{
		"bucket":       config.StringVariable(bucket),
		"site_origins": config.ListVariable(config.StringVariable("https://www.example.com")),
		"site_domains": config.ListVariable(config.StringVariable("example.com")),
		"s3_endpoint":  config.StringVariable(m.Endpoint),
		"iam_endpoint": config.StringVariable(m.Endpoint),
	}
	client := adminS3(t, m)
	resource.Test(t, resource.TestCase{
		PreCheck:     func() { testAccPreCheck(t) },
		CheckDestroy: checkBucketGone(client, bucket),
		Steps: []resource.TestStep{{
			ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
			ConfigDirectory:          config.StaticDirectory("../../../examples/direct-uploads"),
			ConfigVariables:          vars,
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("staticmedia_upload_user.signer", "key_prefix", "incoming/"),
				resource.TestCheckResourceAttr("staticmedia_bucket.media", "expire_incoming.prefix", "incoming/"),
				resource.TestCheckResourceAttr("staticmedia_bucket.media", "expire_incoming.days", "2"),
				func(*terraform.State) error {
					ctx := context.Background()
					lc, err := client.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(bucket)})
					if err != nil {
						return fmt.Errorf("the example's lifecycle rules are not in moto: %w", err)
					}
					ids := map[string]bool{}
					for _, r := range lc.Rules {
						ids[aws.ToString(r.ID)] = true
					}
					if !ids[expireIncomingRuleID] || !ids[abortMultipartRuleID] {
						return fmt.Errorf("lifecycle rules %v: want %s and %s", ids, expireIncomingRuleID, abortMultipartRuleID)
					}
					cors, err := client.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String(bucket)})
					if err != nil {
						return fmt.Errorf("the example's CORS rule is not in moto: %w", err)
					}
					if len(cors.CORSRules) != 1 || len(cors.CORSRules[0].AllowedOrigins) != 1 || cors.CORSRules[0].AllowedOrigins[0] != "https://www.example.com" {
						return fmt.Errorf("CORS rules %+v: want one rule for https://www.example.com", cors.CORSRules)
					}
					return nil
				},
			),
		}},
	})
}
