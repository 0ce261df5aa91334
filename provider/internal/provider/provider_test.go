package provider

import (
	"context"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/staticmedia/staticmedia/internal/awsconfig"
	"github.com/staticmedia/staticmedia/internal/policy"
	"github.com/staticmedia/staticmedia/internal/testbed"
)

// testAccProtoV6ProviderFactories runs the provider in-process for acceptance tests.
var testAccProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"staticmedia": providerserver.NewProtocol6WithError(New("test")()),
}

// testAccPreCheck fails loudly when the acceptance environment is incomplete.
func testAccPreCheck(t *testing.T) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance tests need TF_ACC=1 (make testacc)")
	}
	testbed.Require(t, "terraform", "install terraform >= 1.11 and put it on PATH")
}

// providerConfigOption adds to the provider block testAccMotoConfig writes.
type providerConfigOption func(*strings.Builder)

// withDefaultTags adds a default_tags block.
func withDefaultTags(tags map[string]string) providerConfigOption {
	return func(b *strings.Builder) {
		b.WriteString("  default_tags {\n    tags = {\n")
		for _, k := range slices.Sorted(maps.Keys(tags)) {
			fmt.Fprintf(b, "      %s = %q\n", k, tags[k])
		}
		b.WriteString("    }\n  }\n")
	}
}

// testAccMotoConfig is the provider block pointing every service at a moto server.
func testAccMotoConfig(m *testbed.Moto, opts ...providerConfigOption) string {
	var extra strings.Builder
	for _, o := range opts {
		o(&extra)
	}
	return testAccProviderConfig(motoKeys(m)+extra.String(), m.Endpoint, m.Endpoint)
}

// motoKeys are the provider settings for moto's region and admin keys, for testAccProviderConfig.
func motoKeys(m *testbed.Moto) string {
	return fmt.Sprintf("  region     = %q\n  access_key = %q\n  secret_key = %q\n", m.Region, m.AccessKey, m.SecretKey)
}

// testAccProviderConfig is a provider block with settings (lines written before its endpoints block),
// S3 at s3 and IAM, STS and S3 Control at others: a fault proxy passed as s3 watches or faults S3 alone.
func testAccProviderConfig(settings, s3, others string) string {
	return fmt.Sprintf(`
provider "staticmedia" {
%[1]s  endpoints {
    s3        = %[2]q
    iam       = %[3]q
    sts       = %[3]q
    s3control = %[3]q
  }
}
`, settings, s3, others)
}

// testAccMinIOConfig is the provider block for MinIO, which has no STS GetCallerIdentity and no IAM, and
// lacks some bucket APIs (skip_unsupported_bucket_apis).
func testAccMinIOConfig(m *testbed.MinIO) string {
	return fmt.Sprintf(`
provider "staticmedia" {
  region                       = %[1]q
  access_key                   = %[2]q
  secret_key                   = %[3]q
  skip_credentials_validation  = true
  skip_unsupported_bucket_apis = true
  endpoints {
    s3 = %[4]q
  }
}
`, m.Region, m.RootUser, m.RootPassword, m.Endpoint)
}

// testEngine is what testbed.Moto and testbed.MinIO share: admin options and a config built from them.
type testEngine interface {
	Options() awsconfig.Options
	Config(t testing.TB) aws.Config
}

// adminS3 is an S3 client with the engine's admin credentials, for setting up and checking behind the
// provider's back.
func adminS3(t *testing.T, e testEngine) *s3.Client {
	t.Helper()
	return e.Options().S3(e.Config(t))
}

// adminIAM is an IAM client with moto's admin credentials.
func adminIAM(t *testing.T, m *testbed.Moto) *iam.Client {
	t.Helper()
	return m.Options().IAM(m.Config(t))
}

// createTestBucket creates a bucket out of band, in the client's region.
func createTestBucket(t *testing.T, client *s3.Client, bucket string) {
	t.Helper()
	in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
	if region := client.Options().Region; region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
	}
	if _, err := client.CreateBucket(context.Background(), in); err != nil {
		t.Fatalf("creating bucket %s out of band: %v", bucket, err)
	}
}

// stateAttr returns one attribute of a resource in the state.
func stateAttr(s *terraform.State, address, attr string) (string, error) {
	rs, ok := s.RootModule().Resources[address]
	if !ok {
		return "", fmt.Errorf("%s is not in state", address)
	}
	v, ok := rs.Primary.Attributes[attr]
	if !ok {
		return "", fmt.Errorf("%s has no attribute %s", address, attr)
	}
	return v, nil
}

// phrase matches text the way Terraform prints it: wrapped at any space.
func phrase(text string) *regexp.Regexp {
	words := strings.Fields(text)
	for i, w := range words {
		words[i] = regexp.QuoteMeta(w)
	}
	return regexp.MustCompile(strings.Join(words, `\s+`))
}

// mustDo fails the test when an out-of-band setup step failed.
func mustDo(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// mustPolicyJSON renders the expected policy a builder of the pure package returned.
func mustPolicyJSON(t *testing.T, doc policy.Document, err error) string {
	t.Helper()
	if err != nil {
		t.Fatalf("building the expected policy: %v", err)
	}
	s, err := doc.JSON()
	if err != nil {
		t.Fatalf("rendering the expected policy: %v", err)
	}
	return s
}
