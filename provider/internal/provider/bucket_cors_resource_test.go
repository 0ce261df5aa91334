package provider

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
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

const bucketCORSAddr = "staticmedia_bucket_cors.test"

func testAccBucketCORSConfig(provider, bucket, body string) string {
	return provider + fmt.Sprintf(`
resource "staticmedia_bucket_cors" "test" {
  bucket = %q
%s
}
`, bucket, body)
}

// checkStoredCORS asserts the engine holds exactly the one rule want.
func checkStoredCORS(client *s3.Client, bucket string, want s3types.CORSRule) resource.TestCheckFunc {
	return func(*terraform.State) error {
		rules, err := getBucketCORS(context.Background(), client, bucket)
		if err != nil {
			return fmt.Errorf("read stored CORS: %w", err)
		}
		if len(rules) != 1 {
			return fmt.Errorf("bucket %s has %d CORS rules, want 1: %+v", bucket, len(rules), rules)
		}
		got := rules[0]
		norm := func(ss []string) string { s := slices.Clone(ss); slices.Sort(s); return strings.Join(s, ",") }
		if norm(got.AllowedOrigins) != norm(want.AllowedOrigins) || norm(got.AllowedMethods) != norm(want.AllowedMethods) ||
			norm(got.AllowedHeaders) != norm(want.AllowedHeaders) || norm(got.ExposeHeaders) != norm(want.ExposeHeaders) ||
			aws.ToInt32(got.MaxAgeSeconds) != aws.ToInt32(want.MaxAgeSeconds) {
			return fmt.Errorf("stored rule = %+v, want %+v", got, want)
		}
		return nil
	}
}

// preflight sends the OPTIONS request a browser sends before a cross-origin request to the bucket.
func preflight(endpoint, bucket, origin, method string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodOptions, endpoint+"/"+bucket, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", method)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	return resp, nil
}

// checkPreflight asserts that the engine answers a browser's preflight the way the rules say: the allowed
// origin gets 200 with the CORS headers, a foreign origin 403.
func checkPreflight(endpoint, bucket, allowed, foreign string, wantMaxAge string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		resp, err := preflight(endpoint, bucket, allowed, http.MethodPost)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("preflight from %s: status %d, want 200", allowed, resp.StatusCode)
		}
		for header, want := range map[string]string{
			"Access-Control-Allow-Origin":   allowed,
			"Access-Control-Allow-Methods":  "POST",
			"Access-Control-Expose-Headers": "ETag",
			"Access-Control-Max-Age":        wantMaxAge,
		} {
			if got := resp.Header.Get(header); got != want {
				return fmt.Errorf("preflight from %s: %s = %q, want %q", allowed, header, got, want)
			}
		}
		resp, err = preflight(endpoint, bucket, foreign, http.MethodPost)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusForbidden {
			return fmt.Errorf("preflight from the foreign origin %s: status %d, want 403", foreign, resp.StatusCode)
		}
		return nil
	}
}

// TestAccBucketCORSResource_basic creates the rule and checks a real preflight, imports it, repairs an
// out-of-band change and an out-of-band deletion, updates in place and deletes the configuration on destroy.
func TestAccBucketCORSResource_basic(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	admin := adminS3(t, m)
	const bucket = "cors-basic"
	const site, foreign = "http://127.0.0.1:8080", "http://127.0.0.2:8080"
	config := testAccBucketCORSConfig(testAccMotoConfig(m), bucket, fmt.Sprintf(`  allowed_origins = [%q]`, site))
	want := s3types.CORSRule{AllowedOrigins: []string{site}, AllowedMethods: []string{"POST"}, ExposeHeaders: []string{"ETag"}, MaxAgeSeconds: aws.Int32(3000)}
	updated := s3types.CORSRule{AllowedOrigins: []string{site, "https://www.example.com"}, AllowedMethods: []string{"POST", "PUT"},
		AllowedHeaders: []string{"x-amz-date"}, ExposeHeaders: []string{"ETag", "x-amz-version-id"}, MaxAgeSeconds: aws.Int32(600)}

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			_, err := getBucketCORS(context.Background(), admin, bucket)
			if !isAPIError(err, "NoSuchCORSConfiguration") {
				return fmt.Errorf("after destroy GetBucketCors = %w, want NoSuchCORSConfiguration", err)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				PreConfig: func() { createTestBucket(t, admin, bucket) },
				Config:    config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(bucketCORSAddr, tfjsonpath.New("id"), knownvalue.StringExact(bucket)),
					statecheck.ExpectKnownValue(bucketCORSAddr, tfjsonpath.New("allowed_methods"), knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact("POST")})),
					statecheck.ExpectKnownValue(bucketCORSAddr, tfjsonpath.New("expose_headers"), knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact("ETag")})),
					statecheck.ExpectKnownValue(bucketCORSAddr, tfjsonpath.New("allowed_headers"), knownvalue.SetSizeExact(0)),
					statecheck.ExpectKnownValue(bucketCORSAddr, tfjsonpath.New("max_age_seconds"), knownvalue.Int64Exact(3000)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkStoredCORS(admin, bucket, want),
					checkPreflight(m.Endpoint, bucket, site, foreign, "3000"),
				),
			},
			{
				ResourceName:            bucketCORSAddr,
				ImportState:             true,
				ImportStateId:           bucket,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts"},
			},
			{
				// Out of band: a second rule opens the bucket to a foreign origin. The plan shows it; apply puts the one rule back.
				PreConfig: func() {
					_, err := admin.PutBucketCors(context.Background(), &s3.PutBucketCorsInput{Bucket: aws.String(bucket),
						CORSConfiguration: &s3types.CORSConfiguration{CORSRules: []s3types.CORSRule{
							want, {AllowedOrigins: []string{foreign}, AllowedMethods: []string{"POST"}},
						}}})
					mustDo(t, "adding a CORS rule out of band", err)
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(bucketCORSAddr, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkStoredCORS(admin, bucket, want),
					checkPreflight(m.Endpoint, bucket, site, foreign, "3000"),
				),
			},
			{
				// Out of band: the configuration is deleted. The plan creates it again.
				PreConfig: func() {
					_, err := admin.DeleteBucketCors(context.Background(), &s3.DeleteBucketCorsInput{Bucket: aws.String(bucket)})
					mustDo(t, "deleting the CORS configuration out of band", err)
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(bucketCORSAddr, plancheck.ResourceActionCreate)},
				},
				Check: checkStoredCORS(admin, bucket, want),
			},
			{
				Config: testAccBucketCORSConfig(testAccMotoConfig(m), bucket, fmt.Sprintf(`
  allowed_origins = [%q, "https://www.example.com"]
  allowed_methods = ["POST", "PUT"]
  allowed_headers = ["x-amz-date"]
  expose_headers  = ["ETag", "x-amz-version-id"]
  max_age_seconds = 600`, site)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(bucketCORSAddr, plancheck.ResourceActionUpdate)},
				},
				Check: checkStoredCORS(admin, bucket, updated),
			},
		},
	})
}

// TestAccBucketCORSResource_import imports rules written outside Terraform: a configuration describing them
// then plans nothing.
func TestAccBucketCORSResource_import(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	admin := adminS3(t, m)
	const bucket = "cors-import"
	config := testAccBucketCORSConfig(testAccMotoConfig(m), bucket, `
  allowed_origins = ["https://www.example.com", "https://example.com"]
  allowed_methods = ["POST", "GET"]
  max_age_seconds = 120`)

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					createTestBucket(t, admin, bucket)
					_, err := admin.PutBucketCors(context.Background(), &s3.PutBucketCorsInput{Bucket: aws.String(bucket),
						CORSConfiguration: &s3types.CORSConfiguration{CORSRules: []s3types.CORSRule{{
							AllowedOrigins: []string{"https://www.example.com", "https://example.com"},
							AllowedMethods: []string{"GET", "POST"}, ExposeHeaders: []string{"ETag"}, MaxAgeSeconds: aws.Int32(120),
						}}}})
					mustDo(t, "writing CORS out of band", err)
				},
				Config:             config,
				ResourceName:       bucketCORSAddr,
				ImportState:        true,
				ImportStateId:      bucket,
				ImportStatePersist: true,
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

// TestAccBucketCORSResource_bucketGone removes the resource from state when its bucket was deleted outside
// Terraform: the plan then creates it again instead of failing on refresh.
func TestAccBucketCORSResource_bucketGone(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	admin := adminS3(t, m)
	const bucket = "cors-gone"
	config := testAccBucketCORSConfig(testAccMotoConfig(m), bucket, `  allowed_origins = ["https://www.example.com"]`)

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig: func() { createTestBucket(t, admin, bucket) },
				Config:    config,
			},
			{
				PreConfig: func() {
					_, err := admin.DeleteBucket(context.Background(), &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
					mustDo(t, "deleting the bucket out of band", err)
				},
				Config:   config,
				PlanOnly: true,
				// Refresh drops the resource; the plan wants to create it again.
				ExpectNonEmptyPlan: true,
			},
			{
				// Destroy must not fail on the missing bucket either.
				PreConfig: func() { createTestBucket(t, admin, bucket) },
				Config:    config,
			},
		},
	})
}

// TestAccBucketCORSResource_validation refuses what a browser would never match and a rule hiding ETag, at
// plan time.
func TestAccBucketCORSResource_validation(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	for _, tc := range []struct {
		name, body string
		want       *regexp.Regexp
	}{
		{"wildcard", `  allowed_origins = ["*"]`, phrase("has a wildcard")},
		{"subdomain wildcard", `  allowed_origins = ["https://*.example.com"]`, phrase("has a wildcard")},
		{"path", `  allowed_origins = ["https://www.example.com/"]`, phrase("an Origin header has no path")},
		{"not an origin", `  allowed_origins = ["www.example.com"]`, phrase("is not an origin")},
		{"upper case", `  allowed_origins = ["https://WWW.example.com"]`, phrase("browsers send origins in lower case")},
		{"delete method", "  allowed_origins = [\"https://www.example.com\"]\n  allowed_methods = [\"DELETE\"]", phrase("value must be one of")},
		{"etag hidden", "  allowed_origins = [\"https://www.example.com\"]\n  expose_headers = [\"x-amz-version-id\"]", phrase("must include \"ETag\"")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      testAccBucketCORSConfig(testAccMotoConfig(m), "cors-validation", tc.body),
					PlanOnly:    true,
					ExpectError: tc.want,
				}},
			})
		})
	}
}

func TestValidateOrigin(t *testing.T) {
	t.Parallel()
	for origin, ok := range map[string]bool{
		"https://www.example.com":  true,
		"http://127.0.0.1:8080":    true,
		"http://[::1]:8080":        true,
		"*":                        false,
		"https://www.example.com/": false,
		"https://example.com?x":    false,
		"ftp://example.com":        false,
		"https://user@example.com": false,
		"null":                     false,
	} {
		if err := validateOrigin(origin); (err == nil) != ok {
			t.Errorf("validateOrigin(%q) = %v, want ok=%v", origin, err, ok)
		}
	}
}

// TestAccBucketCORSResource_minIO fails with an error that says what to do instead: MinIO has no bucket CORS,
// only its server-wide MINIO_API_CORS_ALLOW_ORIGIN.
func TestAccBucketCORSResource_minIO(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMinIO(t)
	admin := adminS3(t, m)
	const bucket = "cors-minio"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			PreConfig:   func() { createTestBucket(t, admin, bucket) },
			Config:      testAccBucketCORSConfig(testAccMinIOConfig(m), bucket, `  allowed_origins = ["https://www.example.com"]`),
			ExpectError: phrase("MINIO_API_CORS_ALLOW_ORIGIN"),
		}},
	})
}

// TestValidateOriginAsSent refuses origins a browser never sends, which S3 (comparing strings)
// would never match: the rule would be applied and every upload's answer unreadable.
func TestValidateOriginAsSent(t *testing.T) {
	t.Parallel()
	for origin, want := range map[string]string{
		"https://www.example.com:":      "empty port",
		"https://www.example.com:443":   "write https://www.example.com",
		"http://www.example.com:80":     "write http://www.example.com",
		"http://127.0.0.1:08080":        "write http://127.0.0.1:8080",
		"http://127.0.0.1:0":            "port",
		"http://127.0.0.1:65536":        "port",
		"https://bücher.example":        "punycode",
		"http://[0:0:0:0:0:0:0:1]:8080": "write http://[::1]:8080",
	} {
		err := validateOrigin(origin)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("validateOrigin(%q) = %v, want an error with %q", origin, err, want)
		}
	}
	for _, origin := range []string{"https://www.example.com:8443", "http://127.0.0.1:8080", "http://[::1]", "https://xn--bcher-kva.example"} {
		if err := validateOrigin(origin); err != nil {
			t.Errorf("validateOrigin(%q) = %v, want ok", origin, err)
		}
	}
}

// TestAccBucketCORSResource_unknownExposeHeader plans a set of exposed headers with an element known only at
// apply: whether ETag is among them cannot be told yet, so validation must not fail (it is checked again at apply,
// when every value is known).
func TestAccBucketCORSResource_unknownExposeHeader(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: `resource "terraform_data" "header" {
  input = "ETag"
}
` + testAccBucketCORSConfig(testAccMotoConfig(m), "cors-unknown", `  allowed_origins = ["https://www.example.com"]
  expose_headers  = [terraform_data.header.output, "x-amz-version-id"]`),
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		}},
	})
}

// TestAccBucketCORSResource_unknownExposeHeaderNoETag: the exposed headers known only at apply still must
// include ETag; the apply refuses them before writing.
func TestAccBucketCORSResource_unknownExposeHeaderNoETag(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	admin := adminS3(t, m)
	const bucket = "cors-unknown-noetag"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			PreConfig: func() { createTestBucket(t, admin, bucket) },
			Config: `resource "terraform_data" "header" {
  input = "x-amz-version-id"
}
` + testAccBucketCORSConfig(testAccMotoConfig(m), bucket, `  allowed_origins = ["https://www.example.com"]
  expose_headers  = [terraform_data.header.output]`),
			ExpectError: phrase("must include \"ETag\""),
		}},
	})
	if _, err := getBucketCORS(context.Background(), admin, bucket); err == nil {
		t.Error("a rule without ETag was written")
	}
}
