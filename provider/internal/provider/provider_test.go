package provider

import (
	"fmt"
	"os"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

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

// testAccMotoConfig is the provider block pointing every service at a moto server.
func testAccMotoConfig(m *testbed.Moto) string {
	return fmt.Sprintf(`
provider "staticmedia" {
  region     = %[1]q
  access_key = %[2]q
  secret_key = %[3]q
  endpoints {
    s3        = %[4]q
    iam       = %[4]q
    sts       = %[4]q
    s3control = %[4]q
  }
}
`, m.Region, m.AccessKey, m.SecretKey, m.Endpoint)
}

// testAccMinIOConfig is the provider block for MinIO, which has no STS GetCallerIdentity and no IAM.
func testAccMinIOConfig(m *testbed.MinIO) string {
	return fmt.Sprintf(`
provider "staticmedia" {
  region                      = %[1]q
  access_key                  = %[2]q
  secret_key                  = %[3]q
  skip_credentials_validation = true
  endpoints {
    s3 = %[4]q
  }
}
`, m.Region, m.RootUser, m.RootPassword, m.Endpoint)
}
