package provider

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/staticmedia/staticmedia/internal/testbed"
)

// TestAccProvider_unknownSettings sets each provider setting from a terraform_data output, which is unknown
// while the first plan is made. Each must fail the plan with an error on that setting that says how to fix it,
// instead of being read as unset (an endpoint would then plan addresses on AWS) or failing a value conversion.
// No engine is contacted: the errors come before any request.
func TestAccProvider_unknownSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, input, settings string
		want                  *regexp.Regexp
	}{
		{"endpoints.s3", `"http://127.0.0.1:9"`, "endpoints {\n    s3 = terraform_data.later.output\n  }",
			regexp.MustCompile(`(?s)Unknown\s+S3\s+Endpoint.*endpoints\.s3\s+depends\s+on\s+a\s+value\s+that\s+is\s+only\s+known\s+after\s+apply.*-target`)},
		{"endpoints.sts", `"http://127.0.0.1:9"`, "endpoints {\n    sts = terraform_data.later.output\n  }",
			regexp.MustCompile(`(?s)Unknown\s+STS\s+Endpoint.*endpoints\.sts\s+depends\s+on\s+a\s+value`)},
		{"endpoints.iam", `"http://127.0.0.1:9"`, "endpoints {\n    iam = terraform_data.later.output\n  }",
			regexp.MustCompile(`(?s)Unknown\s+IAM\s+Endpoint.*endpoints\.iam\s+depends\s+on\s+a\s+value`)},
		{"endpoints.s3control", `"http://127.0.0.1:9"`, "endpoints {\n    s3control = terraform_data.later.output\n  }",
			regexp.MustCompile(`(?s)Unknown\s+S3\s+Control\s+Endpoint.*endpoints\.s3control\s+depends\s+on\s+a\s+value`)},
		{"default tag value", `"platform"`, "default_tags {\n    tags = { team = terraform_data.later.output }\n  }",
			regexp.MustCompile(`(?s)Unknown\s+Default\s+Tag.*default_tags\.tags\["team"\]\s+depends\s+on\s+a\s+value`)},
		{"default tags map", `{ team = "platform" }`, "default_tags {\n    tags = terraform_data.later.output\n  }",
			regexp.MustCompile(`(?s)Unknown\s+Default\s+Tags.*default_tags\.tags\s+depends\s+on\s+a\s+value`)},
		{"max_retries", `3`, "max_retries = terraform_data.later.output",
			regexp.MustCompile(`(?s)Unknown\s+Max\s+Retries.*max_retries\s+depends\s+on\s+a\s+value`)},
		{"s3_use_path_style", `true`, "s3_use_path_style = terraform_data.later.output",
			regexp.MustCompile(`(?s)Unknown\s+S3\s+Path-Style\s+Setting.*s3_use_path_style\s+depends\s+on\s+a\s+value`)},
		{"profile", `"media"`, "profile = terraform_data.later.output",
			regexp.MustCompile(`(?s)Unknown\s+Profile.*profile\s+depends\s+on\s+a\s+value`)},
		{"access and secret key", `"AKIAEXAMPLEEXAMPLE00"`, "access_key = terraform_data.later.output\n  secret_key = terraform_data.later.output",
			regexp.MustCompile(`(?s)Unknown\s+Access\s+Key.*access_key\s+depends\s+on\s+a\s+value.*Unknown\s+Secret\s+Key`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: fmt.Sprintf(`
resource "terraform_data" "later" {
  input = %s
}

provider "staticmedia" {
  region                      = "us-east-1"
  skip_credentials_validation = true
  %s
}

resource "staticmedia_bucket" "test" {
  bucket = "never-created"
}
`, tt.input, tt.settings),
					PlanOnly:    true,
					ExpectError: tt.want,
				}},
			})
		})
	}
}

// TestAccProvider_nullTags applies null tag values in default_tags and in a resource's tags. Null means "no
// such tag": moto must hold only the set tags (nothing sent as ""), and the next plan must be empty.
func TestAccProvider_nullTags(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	admin, adminUsers := adminS3(t, m), adminIAM(t, m)
	const bucket, user = "null-tags", "null-tags-uploader"
	config := testAccProviderConfig(motoKeys(m)+`  default_tags {
    tags = {
      team = null
      env  = "prod"
    }
  }
`, m.Endpoint, m.Endpoint) + fmt.Sprintf(`
resource "staticmedia_bucket" "test" {
  bucket = %q
  tags = {
    owner = null
    app   = "media"
  }
}

resource "staticmedia_upload_user" "test" {
  name   = %q
  bucket = staticmedia_bucket.test.bucket
  tags = {
    owner = null
    app   = "uploader"
  }
}
`, bucket, user)
	checkTags := func(what string, got, want map[string]string) error {
		if !maps.Equal(got, want) {
			return fmt.Errorf("%s tags in moto = %v, want %v", what, got, want)
		}
		return nil
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: func(*terraform.State) error {
					ctx := context.Background()
					out, err := admin.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(bucket)})
					if err != nil {
						return err
					}
					bucketTags := map[string]string{}
					for _, tag := range out.TagSet {
						bucketTags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
					}
					if err := checkTags("bucket", bucketTags, map[string]string{"env": "prod", "app": "media"}); err != nil {
						return err
					}
					userTags, err := listUserTags(ctx, adminUsers, user)
					if err != nil {
						return err
					}
					return checkTags("user", userTags, map[string]string{"env": "prod", "app": "uploader"})
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

// TestAccProvider_tagRules checks that every taggable resource and default_tags refuse the same tags at plan
// time, by the limits S3 and IAM share. No engine is contacted.
func TestAccProvider_tagRules(t *testing.T) {
	t.Parallel()
	many := make([]string, 51)
	for i := range many {
		many[i] = fmt.Sprintf("k%d = \"v\"", i)
	}
	cases := []struct {
		name, tags string
		want       *regexp.Regexp
	}{
		{"aws: prefix", `{ "aws:cloudformation:stack" = "x" }`, regexp.MustCompile(`(?s)Reserved\s+Tag\s+Key.*starts\s+with\s+"aws:"`)},
		{"AWS: prefix in capitals", `{ "AWS:owner" = "x" }`, regexp.MustCompile(`(?s)Reserved\s+Tag\s+Key`)},
		{"key of 129 characters", fmt.Sprintf(`{ %q = "x" }`, strings.Repeat("k", 129)), regexp.MustCompile(`(?s)Invalid\s+Tag\s+Key.*129\s+characters\s+long;\s+AWS\s+accepts\s+1\s+to\s+128`)},
		{"value of 257 characters", fmt.Sprintf(`{ k = %q }`, strings.Repeat("v", 257)), regexp.MustCompile(`(?s)Invalid\s+Tag\s+Value.*257\s+characters\s+long;\s+AWS\s+accepts\s+at\s+most\s+256`)},
		{"51 tags", "{\n" + strings.Join(many, "\n") + "\n}", regexp.MustCompile(`(?s)Too\s+Many\s+Tags.*51\s+tags\s+are\s+set;\s+AWS\s+accepts\s+at\s+most\s+50`)},
	}
	places := []struct {
		name   string
		config func(tags string) string
	}{
		{"staticmedia_bucket", func(tags string) string {
			return "resource \"staticmedia_bucket\" \"test\" {\n  bucket = \"never-created\"\n  tags = " + tags + "\n}\n"
		}},
		{"staticmedia_upload_user", func(tags string) string {
			return "resource \"staticmedia_upload_user\" \"test\" {\n  name   = \"never-created\"\n  bucket = \"never-created\"\n  tags = " + tags + "\n}\n"
		}},
	}
	for _, p := range places {
		for _, c := range cases {
			t.Run(p.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				resource.UnitTest(t, resource.TestCase{
					ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
					Steps: []resource.TestStep{{
						Config: `
provider "staticmedia" {
  region                      = "us-east-1"
  skip_credentials_validation = true
}
` + p.config(c.tags),
						PlanOnly:    true,
						ExpectError: c.want,
					}},
				})
			})
		}
	}
	for _, c := range cases {
		t.Run("default_tags/"+c.name, func(t *testing.T) {
			t.Parallel()
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: `
provider "staticmedia" {
  region                      = "us-east-1"
  skip_credentials_validation = true
  default_tags {
    tags = ` + c.tags + `
  }
}

resource "staticmedia_bucket" "test" {
  bucket = "never-created"
}
`,
					PlanOnly:    true,
					ExpectError: c.want,
				}},
			})
		})
	}
}

// TestAccProvider_partitionFromCaller answers GetCallerIdentity with an aws-cn ARN (a proxy in front of moto's
// STS rewrites moto's), in a region name that suggests the aws partition. The upload user's policy must use
// the caller's partition.
func TestAccProvider_partitionFromCaller(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	arnElement := regexp.MustCompile(`<Arn>arn:aws:`)
	sts := startInterceptProxy(t, m.Endpoint, nil, func(r *http.Request, body, response []byte) []byte {
		if queryAction(r, body) != "GetCallerIdentity" {
			return response
		}
		return arnElement.ReplaceAll(response, []byte("<Arn>arn:aws-cn:"))
	})
	config := fmt.Sprintf(`
provider "staticmedia" {
%s  endpoints {
    s3        = %[2]q
    iam       = %[2]q
    sts       = %[3]q
    s3control = %[2]q
  }
}

resource "staticmedia_upload_user" "test" {
  name   = "china-uploader"
  bucket = "media-cn"
}
`, motoKeys(m), m.Endpoint, sts.URL)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: config,
			Check: func(s *terraform.State) error {
				doc, err := stateAttr(s, "staticmedia_upload_user.test", "policy_json")
				if err != nil {
					return err
				}
				if !strings.Contains(doc, `"arn:aws-cn:s3:::media-cn"`) || strings.Contains(doc, "arn:aws:") {
					return fmt.Errorf("policy_json does not use the aws-cn partition:\n%s", doc)
				}
				out, err := adminIAM(t, m).GetUserPolicy(context.Background(), &iam.GetUserPolicyInput{
					UserName: aws.String("china-uploader"), PolicyName: aws.String(defaultUploadPolicyName),
				})
				if err != nil {
					return err
				}
				stored, err := decodePolicyDocument(aws.ToString(out.PolicyDocument))
				if err != nil {
					return err
				}
				if !strings.Contains(stored, "arn:aws-cn:s3:::media-cn/*") {
					return fmt.Errorf("the policy in moto does not use the aws-cn partition:\n%s", stored)
				}
				return nil
			},
		}},
	})
}

// TestAccBucketResource_partitionFromCaller answers GetCallerIdentity with an aws-cn ARN in a region name that
// suggests the aws partition, as TestAccProvider_partitionFromCaller does. The bucket's arn, which other
// policies are written with, must name the same partition as the Referer policy the provider puts on it.
func TestAccBucketResource_partitionFromCaller(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	arnElement := regexp.MustCompile(`<Arn>arn:aws:`)
	sts := startInterceptProxy(t, m.Endpoint, nil, func(r *http.Request, body, response []byte) []byte {
		if queryAction(r, body) != "GetCallerIdentity" {
			return response
		}
		return arnElement.ReplaceAll(response, []byte("<Arn>arn:aws-cn:"))
	})
	config := fmt.Sprintf(`
provider "staticmedia" {
%s  endpoints {
    s3        = %[2]q
    iam       = %[2]q
    sts       = %[3]q
    s3control = %[2]q
  }
}

resource "staticmedia_bucket" "test" {
  bucket = "media-cn"
}

resource "staticmedia_referer_policy" "test" {
  bucket          = staticmedia_bucket.test.id
  allowed_domains = ["example.com"]
}
`, motoKeys(m), m.Endpoint, sts.URL)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: config,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("staticmedia_bucket.test", tfjsonpath.New("arn"), knownvalue.StringExact("arn:aws-cn:s3:::media-cn")),
			},
			Check: func(s *terraform.State) error {
				doc, err := stateAttr(s, "staticmedia_referer_policy.test", "policy_json")
				if err != nil {
					return err
				}
				if !strings.Contains(doc, `"arn:aws-cn:s3:::media-cn/*"`) {
					return fmt.Errorf("the Referer policy does not use the aws-cn partition:\n%s", doc)
				}
				return nil
			},
		}},
	})
}

// TestAccProvider_mergedTagsCount gives default_tags 30 tags and a resource 30 others: each map is within
// AWS's 50, but tags_all, which apply puts on the bucket or user, is 60, which S3 and IAM refuse. The plan
// must say so, not the apply after it has created the resource. No engine is contacted.
func TestAccProvider_mergedTagsCount(t *testing.T) {
	t.Parallel()
	tags := func(prefix string) string {
		lines := make([]string, 30)
		for i := range lines {
			lines[i] = fmt.Sprintf("    %s%d = \"v\"", prefix, i)
		}
		return "{\n" + strings.Join(lines, "\n") + "\n  }"
	}
	for _, r := range []string{
		"resource \"staticmedia_bucket\" \"test\" {\n  bucket = \"never-created\"\n  tags = " + tags("own") + "\n}\n",
		"resource \"staticmedia_upload_user\" \"test\" {\n  name   = \"never-created\"\n  bucket = \"never-created\"\n  tags = " + tags("own") + "\n}\n",
	} {
		resource.UnitTest(t, resource.TestCase{
			ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
			Steps: []resource.TestStep{{
				Config: `
provider "staticmedia" {
  region                      = "us-east-1"
  skip_credentials_validation = true
  default_tags {
    tags = ` + tags("default") + `
  }
}
` + r,
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Too\s+Many\s+Tags.*60\s+tags.*default_tags`),
			}},
		})
	}
}
