package provider

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	s3controltypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	fwresource "github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/staticmedia/staticmedia/internal/awsconfig"
	"github.com/staticmedia/staticmedia/internal/policy"
	"github.com/staticmedia/staticmedia/internal/testbed"
)

const refererPolicyAddr = "staticmedia_referer_policy.test"

func testAccRefererPolicyConfig(provider, bucket, body string) string {
	return provider + fmt.Sprintf(`
resource "staticmedia_referer_policy" "test" {
  bucket = %q
%s
}
`, bucket, body)
}

// wantRefererPolicy is the document the resource must store, built by the pure package.
func wantRefererPolicy(t *testing.T, bucket string, referers []string, allowEmpty bool) string {
	t.Helper()
	doc, err := policy.RefererRead(policy.RefererReadInput{Bucket: bucket, Referers: referers, AllowEmptyReferer: allowEmpty})
	return mustPolicyJSON(t, doc, err)
}

// refererTestBucket makes the bucket the way staticmedia_bucket does: Block Public Access all on.
func refererTestBucket(t *testing.T, client *s3.Client, bucket string, blockPublicAccess bool) {
	t.Helper()
	ctx := context.Background()
	createTestBucket(t, client, bucket)
	if !blockPublicAccess {
		return
	}
	cfg := fullBlock()
	if _, err := client.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(bucket), PublicAccessBlockConfiguration: &cfg}); err != nil {
		t.Fatalf("block public access on %s: %v", bucket, err)
	}
}

// checkRefererPolicyStored asserts the engine holds a policy equivalent to want.
func checkRefererPolicyStored(client *s3.Client, bucket string, want func() string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		got, err := findBucketPolicy(context.Background(), client, bucket)
		if err != nil {
			return fmt.Errorf("read stored policy: %w", err)
		}
		eq, err := policy.Equivalent(want(), got)
		if err != nil {
			return err
		}
		if !eq {
			return fmt.Errorf("stored policy differs\n--- got\n%s\n--- want\n%s", got, want())
		}
		return nil
	}
}

// checkRefererBucketBPA asserts the bucket's four Block Public Access settings.
func checkRefererBucketBPA(client *s3.Client, bucket string, want s3types.PublicAccessBlockConfiguration) error {
	out, err := client.GetPublicAccessBlock(context.Background(), &s3.GetPublicAccessBlockInput{Bucket: aws.String(bucket)})
	if err != nil {
		return fmt.Errorf("read block public access of %s: %w", bucket, err)
	}
	got := out.PublicAccessBlockConfiguration
	pairs := []struct {
		name      string
		got, want *bool
	}{
		{"BlockPublicAcls", got.BlockPublicAcls, want.BlockPublicAcls},
		{"IgnorePublicAcls", got.IgnorePublicAcls, want.IgnorePublicAcls},
		{"BlockPublicPolicy", got.BlockPublicPolicy, want.BlockPublicPolicy},
		{"RestrictPublicBuckets", got.RestrictPublicBuckets, want.RestrictPublicBuckets},
	}
	for _, p := range pairs {
		if aws.ToBool(p.got) != aws.ToBool(p.want) {
			return fmt.Errorf("bucket %s: %s = %v, want %v", bucket, p.name, aws.ToBool(p.got), aws.ToBool(p.want))
		}
	}
	return nil
}

func TestAccRefererPolicyResource_basic(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	admin := adminS3(t, m)
	const bucket = "referer-basic"
	seed := []string{"http://*.example.com/*", "http://example.com/*"}
	// The update: one explicit https pattern plus a domain, and no empty-Referer branch.
	updated := append([]string{"https://example.com/*"}, refererExpand(t, "example.org")...)
	updatedConfig := testAccRefererPolicyConfig(testAccMotoConfig(m), bucket, `
  allowed_referers    = ["https://example.com/*"]
  allowed_domains     = ["example.org"]
  allow_empty_referer = false`)
	stringsExact := func(ss []string) knownvalue.Check {
		checks := make([]knownvalue.Check, len(ss))
		for i, s := range ss {
			checks[i] = knownvalue.StringExact(s)
		}
		return knownvalue.ListExact(checks)
	}

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			_, err := findBucketPolicy(context.Background(), admin, bucket)
			if !isAPIError(err, "NoSuchBucketPolicy") {
				return fmt.Errorf("after destroy GetBucketPolicy = %w, want NoSuchBucketPolicy", err)
			}
			return checkRefererBucketBPA(admin, bucket, fullBlock())
		},
		Steps: []resource.TestStep{
			{
				PreConfig: func() { refererTestBucket(t, admin, bucket, true) },
				Config: testAccRefererPolicyConfig(testAccMotoConfig(m), bucket, `
  allowed_referers = ["http://*.example.com/*", "http://example.com/*"]`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(refererPolicyAddr, plancheck.ResourceActionCreate),
						// The document is known at plan time, so reviewers see it before apply.
						plancheck.ExpectKnownValue(refererPolicyAddr, tfjsonpath.New("policy_json"),
							knownvalue.StringExact(wantRefererPolicy(t, bucket, seed, true))),
						plancheck.ExpectKnownValue(refererPolicyAddr, tfjsonpath.New("referer_patterns"), stringsExact(seed)),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(refererPolicyAddr, tfjsonpath.New("id"), knownvalue.StringExact(bucket)),
					statecheck.ExpectKnownValue(refererPolicyAddr, tfjsonpath.New("allow_empty_referer"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(refererPolicyAddr, tfjsonpath.New("policy_json"),
						knownvalue.StringExact(wantRefererPolicy(t, bucket, seed, true))),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkRefererPolicyStored(admin, bucket, func() string { return wantRefererPolicy(t, bucket, seed, true) }),
					func(*terraform.State) error { return checkRefererBucketBPA(admin, bucket, publicPolicyAllowed()) },
				),
			},
			{
				ResourceName:      refererPolicyAddr,
				ImportState:       true,
				ImportStateId:     bucket,
				ImportStateVerify: true,
			},
			{
				Config: updatedConfig,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(refererPolicyAddr, plancheck.ResourceActionUpdate),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					// The explicit pattern first, then the domain's four, as the policy lists them.
					statecheck.ExpectKnownValue(refererPolicyAddr, tfjsonpath.New("referer_patterns"), stringsExact(updated)),
					statecheck.ExpectKnownValue(refererPolicyAddr, tfjsonpath.New("allow_empty_referer"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(refererPolicyAddr, tfjsonpath.New("policy_json"),
						knownvalue.StringExact(wantRefererPolicy(t, bucket, updated, false))),
				},
				Check: checkRefererPolicyStored(admin, bucket, func() string { return wantRefererPolicy(t, bucket, updated, false) }),
			},
			{
				Config: updatedConfig,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				// Drift: the policy deleted out of band is recreated.
				PreConfig: func() {
					if _, err := admin.DeleteBucketPolicy(context.Background(), &s3.DeleteBucketPolicyInput{Bucket: aws.String(bucket)}); err != nil {
						t.Fatalf("delete policy out of band: %v", err)
					}
				},
				Config: updatedConfig,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(refererPolicyAddr, plancheck.ResourceActionCreate),
					},
				},
				Check: checkRefererPolicyStored(admin, bucket, func() string { return wantRefererPolicy(t, bucket, updated, false) }),
			},
			{
				// Drift: a policy edited out of band (here: only the empty-Referer branch) is put back.
				PreConfig: func() {
					if _, err := admin.PutBucketPolicy(context.Background(), &s3.PutBucketPolicyInput{
						Bucket: aws.String(bucket), Policy: aws.String(wantRefererPolicy(t, bucket, nil, true)),
					}); err != nil {
						t.Fatalf("edit policy out of band: %v", err)
					}
				},
				Config: updatedConfig,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(refererPolicyAddr, plancheck.ResourceActionUpdate),
					},
				},
				Check: checkRefererPolicyStored(admin, bucket, func() string { return wantRefererPolicy(t, bucket, updated, false) }),
			},
		},
	})
}

// TestAccRefererPolicyResource_withBucket checks that staticmedia_bucket (Block Public Access all on at
// creation) and this resource (which opens two of the settings) do not fight: no diff after apply, and
// destroy removes both in order.
func TestAccRefererPolicyResource_withBucket(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	admin := adminS3(t, m)
	const bucket = "referer-with-bucket"
	config := testAccMotoConfig(m) + fmt.Sprintf(`
resource "staticmedia_bucket" "media" {
  bucket = %q
}

resource "staticmedia_referer_policy" "test" {
  bucket          = staticmedia_bucket.media.bucket
  allowed_domains = ["example.com"]
}
`, bucket)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			_, err := admin.HeadBucket(context.Background(), &s3.HeadBucketInput{Bucket: aws.String(bucket)})
			if !isNotFound(err) {
				return fmt.Errorf("after destroy HeadBucket = %w, want not found", err)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						// The bucket name is known from configuration, so is the document.
						plancheck.ExpectKnownValue(refererPolicyAddr, tfjsonpath.New("policy_json"),
							knownvalue.StringExact(wantRefererPolicy(t, bucket, refererExpand(t, "example.com"), true))),
					},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkRefererPolicyStored(admin, bucket, func() string {
						return wantRefererPolicy(t, bucket, refererExpand(t, "example.com"), true)
					}),
					func(*terraform.State) error { return checkRefererBucketBPA(admin, bucket, publicPolicyAllowed()) },
				),
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

// TestAccRefererPolicyResource_bucketGone checks that a bucket deleted out of band shows as drift and that
// apply then names the missing bucket instead of hanging.
func TestAccRefererPolicyResource_bucketGone(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	admin := adminS3(t, m)
	const bucket = "referer-gone"
	config := testAccRefererPolicyConfig(testAccMotoConfig(m), bucket, `
  allowed_referers = ["https://example.com/*"]
  timeouts {
    create = "10s"
  }`)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig: func() { refererTestBucket(t, admin, bucket, true) },
				Config:    config,
			},
			{
				PreConfig: func() {
					ctx := context.Background()
					if _, err := admin.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(bucket)}); err != nil {
						t.Fatalf("delete policy: %v", err)
					}
					if _, err := admin.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)}); err != nil {
						t.Fatalf("delete bucket: %v", err)
					}
				},
				Config:             config,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				Config:      config,
				ExpectError: regexp.MustCompile(`(?s)Unable to Create Referer Policy.*` + bucket + `.*NoSuchBucket`),
			},
		},
	})
}

// TestAccRefererPolicyResource_validation checks the plan-time errors. No engine is contacted: validation
// and planning a new resource make no API calls.
func TestAccRefererPolicyResource_validation(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	provider := `
provider "staticmedia" {
  region                      = "us-east-1"
  access_key                  = "unused"
  secret_key                  = "unused"
  skip_credentials_validation = true
  endpoints {
    s3 = "http://127.0.0.1:9"
  }
}
`
	tests := []struct {
		name   string
		bucket string // "" means referer-validation
		body   string
		want   *regexp.Regexp
	}{
		{
			name: "pattern without scheme",
			body: `allowed_referers = ["https://example.com/*", "example.com/*"]`,
			want: regexp.MustCompile(`(?s)Invalid Referer Pattern.*allowed_referers.*"example.com/\*" must start with "http://" or\s+"https://"`),
		},
		{
			name: "ftp pattern",
			body: `allowed_referers = ["ftp://example.com/*"]`,
			want: regexp.MustCompile(`(?s)"ftp://example.com/\*" must start with`),
		},
		{
			name: "pattern without path",
			body: `allowed_referers = ["https://example.com"]`,
			want: regexp.MustCompile(`(?s)"https://example.com" has no path`),
		},
		{
			name: "domain with scheme",
			body: `allowed_domains = ["https://example.com"]`,
			want: regexp.MustCompile(`(?s)Invalid Domain.*allowed_domains.*has a scheme`),
		},
		{
			name: "nothing allowed",
			body: "allow_empty_referer = false",
			want: regexp.MustCompile(`Referer Policy Allows Nothing`),
		},
		{
			name: "empty lists and nothing else allowed",
			body: "allowed_referers = []\n  allowed_domains = []\n  allow_empty_referer = false",
			want: regexp.MustCompile(`Referer Policy Allows Nothing`),
		},
		{
			name:   "bad bucket name",
			bucket: "Bad_Bucket",
			body:   `allowed_referers = ["https://example.com/*"]`,
			want:   regexp.MustCompile(`(?s)Invalid Bucket Name.*bucket name "Bad_Bucket"`),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bucket := tt.bucket
			if bucket == "" {
				bucket = "referer-validation"
			}
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      testAccRefererPolicyConfig(provider, bucket, "  "+tt.body),
					PlanOnly:    true,
					ExpectError: tt.want,
				}},
			})
		})
	}
}

// TestAccRefererPolicyResource_accountBlockExplained checks the diagnostic for a PutBucketPolicy denied by the
// account-level Block Public Access, reading the setting from moto's S3 Control API. moto stores the setting but
// does not enforce it, so a fault proxy in front of moto's S3 answers PutBucketPolicy with AWS's AccessDenied;
// everything else (the bucket's own Block Public Access, the account setting) is moto's.
func TestAccRefererPolicyResource_accountBlockExplained(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	opts := m.Options()
	control := opts.S3Control(m.Config(t))
	const account = "123456789012" // moto's default account
	ctx := context.Background()

	cfg, err := accountPublicAccessBlock(ctx, control, account)
	if err != nil || cfg != nil {
		t.Fatalf("before any setting: accountPublicAccessBlock = %v, %v; want nil, nil", cfg, err)
	}
	if got := explainAccountBlock(account, cfg); !strings.Contains(got, "s3:PutBucketPolicy") {
		t.Errorf("without an account block the advice should be about the permission, got %q", got)
	}

	if _, err := control.PutPublicAccessBlock(ctx, &s3control.PutPublicAccessBlockInput{
		AccountId: aws.String(account),
		PublicAccessBlockConfiguration: &s3controltypes.PublicAccessBlockConfiguration{
			BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true),
			BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true),
		},
	}); err != nil {
		t.Fatalf("put account-level block public access: %v", err)
	}
	cfg, err = accountPublicAccessBlock(ctx, control, account)
	if err != nil || cfg == nil {
		t.Fatalf("accountPublicAccessBlock = %v, %v", cfg, err)
	}
	got := explainAccountBlock(account, cfg)
	for _, want := range []string{"Account 123456789012", "BlockPublicPolicy on", "--account-id 123456789012", "BlockPublicPolicy=false,RestrictPublicBuckets=false"} {
		if !strings.Contains(got, want) {
			t.Errorf("explanation lacks %q:\n%s", want, got)
		}
	}

	// The whole path: apply, the bucket's own settings opened, PutBucketPolicy denied, the advice in the error.
	const bucket = "referer-account-block"
	refererTestBucket(t, opts.S3(m.Config(t)), bucket, true)
	proxy := testbed.StartFaultProxy(t, m.Endpoint, 0)
	proxy.SetFaults(testbed.Faults{
		Error: 1,
		Reply: testbed.S3Error{Status: 403, Code: "AccessDenied", Message: "Access Denied"},
		Match: func(r *http.Request) bool { return r.Method == http.MethodPut && r.URL.Query().Has("policy") },
	})
	provider := testAccProviderConfig(motoKeys(m), proxy.URL, m.Endpoint)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: testAccRefererPolicyConfig(provider, bucket, `  allowed_referers = ["https://example.com/*"]`),
			ExpectError: regexp.MustCompile(`(?s)Unable to Create Referer Policy.*AccessDenied.*Account 123456789012.*` +
				`BlockPublicPolicy on.*BlockPublicPolicy=false,RestrictPublicBuckets=false`),
		}},
	})
	// One attempt: with the account's BlockPublicPolicy on, retrying for the settle time cannot help.
	if n := proxy.Count(func(e testbed.Exchange) bool { return e.Fault == testbed.FaultError }); n != 1 {
		t.Errorf("PutBucketPolicy was denied %d times, want exactly once (0: the denial was not what failed the apply)", n)
	}
}

// TestAccRefererPolicyResource_minioReferer applies the policy on MinIO, which evaluates bucket policies,
// and checks what anonymous browsers get.
func TestAccRefererPolicyResource_minioReferer(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMinIO(t)
	admin := adminS3(t, m)
	const bucket, key = "referer-minio", "images/cat.jpg"
	body := []byte("not really a jpeg, but bytes to compare")
	config := testAccRefererPolicyConfig(testAccMinIOConfig(m), bucket, `
  allowed_referers = ["http://*.example.com/*", "http://example.com/*"]`)

	get := func(path, referer string) (int, []byte, error) {
		req, err := http.NewRequest(http.MethodGet, m.Endpoint+"/"+path, nil)
		if err != nil {
			return 0, nil, err
		}
		if referer != "" {
			req.Header.Set("Referer", referer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	checkGets := func(*terraform.State) error {
		tests := []struct {
			name, path, referer string
			want                int
		}{
			{"matching apex referer", bucket + "/" + key, "http://example.com/page", http.StatusOK},
			{"matching subdomain referer", bucket + "/" + key, "http://www.example.com/x", http.StatusOK},
			{"foreign referer", bucket + "/" + key, "http://evil.test/", http.StatusForbidden},
			{"https referer when only http is listed", bucket + "/" + key, "https://example.com/page", http.StatusForbidden},
			{"anonymous list", bucket + "/", "http://example.com/page", http.StatusForbidden},
			// No Referer: AWS answers 200 here because of the Null statement (allow_empty_referer = true),
			// but MinIO evaluates Null aws:Referer differently and denies it. The AWS behaviour of that
			// branch is covered by internal/policy's evaluator unit tests.
			{"no referer (MinIO differs from AWS)", bucket + "/" + key, "", http.StatusForbidden},
		}
		var errs []error
		for _, tt := range tests {
			status, got, err := get(tt.path, tt.referer)
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("%s: %w", tt.name, err))
			case status != tt.want:
				errs = append(errs, fmt.Errorf("%s: GET /%s with Referer %q = %d, want %d", tt.name, tt.path, tt.referer, status, tt.want))
			case status == http.StatusOK && !bytes.Equal(got, body):
				errs = append(errs, fmt.Errorf("%s: body %q, want %q", tt.name, got, body))
			}
		}
		return errors.Join(errs...)
	}

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			ctx := context.Background()
			if _, err := findBucketPolicy(ctx, admin, bucket); !isAPIError(err, "NoSuchBucketPolicy") {
				return fmt.Errorf("after destroy GetBucketPolicy = %w, want NoSuchBucketPolicy", err)
			}
			// Destroy must leave the bucket and its objects alone (MinIO would delete an empty bucket on
			// DeletePublicAccessBlock, which is why restoring uses PutPublicAccessBlock).
			if _, err := admin.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
				return fmt.Errorf("object gone after destroy: %w", err)
			}
			if status, _, err := get(bucket+"/"+key, "http://example.com/page"); err != nil || status != http.StatusForbidden {
				return fmt.Errorf("after destroy an anonymous GET = %d, %w; want 403", status, err)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					// MinIO has no Block Public Access API to set, so the bucket is only created.
					refererTestBucket(t, admin, bucket, false)
					if _, err := admin.PutObject(context.Background(), &s3.PutObjectInput{
						Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
					}); err != nil {
						t.Fatalf("put object: %v", err)
					}
					if status, _, err := get(bucket+"/"+key, "http://example.com/page"); err != nil || status != http.StatusForbidden {
						t.Fatalf("before the policy an anonymous GET = %d, %v; want 403", status, err)
					}
				},
				Config: config,
				Check:  checkGets,
			},
			{
				// MinIO stores the policy reformatted (Principal {"AWS":["*"]}, lists everywhere); no diff.
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				// Import rebuilds the inputs from MinIO's reformatted document.
				ResourceName:      refererPolicyAddr,
				ImportState:       true,
				ImportStateId:     bucket,
				ImportStateVerify: true,
			},
		},
	})
}

// testRefererProviderData is what Configure would build, for calling the resource's helpers directly.
func testRefererProviderData(t *testing.T, opts awsconfig.Options, accountID string) *providerData {
	t.Helper()
	cfg, err := awsconfig.Load(context.Background(), opts)
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	return &providerData{cfg: cfg, opts: opts, s3: opts.S3(cfg), s3control: opts.S3Control(cfg), region: cfg.Region, partition: "aws", accountID: accountID}
}

// TestAccRefererPolicyResource_warnings checks the two warnings Terraform runs cannot assert: an engine
// without Block Public Access (MinIO), and an account-level RestrictPublicBuckets that makes the policy moot.
func TestAccRefererPolicyResource_warnings(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	ctx := context.Background()
	model := func(bucket string) *refererPolicyResourceModel {
		return &refererPolicyResourceModel{
			Bucket:            types.StringValue(bucket),
			AllowedReferers:   types.SetValueMust(types.StringType, []attr.Value{types.StringValue("https://example.com/*")}),
			AllowedDomains:    types.SetNull(types.StringType),
			AllowEmptyReferer: types.BoolValue(true),
			PolicyJSON:        types.StringUnknown(),
		}
	}
	hasWarning := func(diags diag.Diagnostics, summary string) bool {
		for _, d := range diags.Warnings() {
			if d.Summary() == summary {
				return true
			}
		}
		return false
	}

	t.Run("minio", func(t *testing.T) {
		t.Parallel()
		m := testbed.StartMinIO(t)
		pd := testRefererProviderData(t, m.Options(), "")
		const bucket = "referer-warn-minio"
		refererTestBucket(t, pd.s3, bucket, false)
		r := &refererPolicyResource{pd: pd}
		// Without skip_unsupported_bucket_apis the missing API is an error that names the setting.
		diags := r.planToBucket(ctx, model(bucket), "Create")
		if !diags.HasError() || !strings.Contains(diags.Errors()[0].Detail(), "skip_unsupported_bucket_apis = true") {
			t.Fatalf("apply on MinIO without skip_unsupported_bucket_apis: want an error naming it, got %v", diags)
		}
		if _, err := findBucketPolicy(ctx, pd.s3, bucket); !isAPIError(err, "NoSuchBucketPolicy") {
			t.Fatalf("the refused apply must not put the policy: GetBucketPolicy = %v", err)
		}
		pd.skipUnsupportedBucketAPIs = true
		data := model(bucket)
		diags = r.planToBucket(ctx, data, "Create")
		if diags.HasError() || !hasWarning(diags, "Block Public Access Not Supported") {
			t.Fatalf("apply on MinIO: want only the Block Public Access warning, got %v", diags)
		}
		checkPolicy := checkRefererPolicyStored(pd.s3, bucket, data.PolicyJSON.ValueString)
		if err := checkPolicy(nil); err != nil {
			t.Fatalf("the policy must go on despite the warning: %v", err)
		}
		// Restoring Block Public Access at destroy reports the same, and leaves the (empty) bucket alone.
		if err := putPublicAccessBlock(ctx, pd.s3, bucket, fullBlock(), 0); !errors.Is(err, errNoBlockPublicAccessAPI) {
			t.Errorf("putPublicAccessBlock on MinIO = %v, want errNoBlockPublicAccessAPI", err)
		}
		if _, err := pd.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
			t.Errorf("bucket gone after putPublicAccessBlock: %v", err)
		}
	})

	t.Run("moto account restricts public buckets", func(t *testing.T) {
		t.Parallel()
		m := testbed.StartMoto(t)
		const account = "123456789012" // moto's default account
		pd := testRefererProviderData(t, m.Options(), account)
		const bucket = "referer-warn-account"
		refererTestBucket(t, pd.s3, bucket, true)
		r := &refererPolicyResource{pd: pd}

		if diags := r.planToBucket(ctx, model(bucket), "Create"); diags.HasError() || diags.WarningsCount() != 0 {
			t.Fatalf("apply without account-level settings: want no diagnostics, got %v", diags)
		}
		if _, err := pd.s3control.PutPublicAccessBlock(ctx, &s3control.PutPublicAccessBlockInput{
			AccountId: aws.String(account),
			PublicAccessBlockConfiguration: &s3controltypes.PublicAccessBlockConfiguration{
				BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true),
				BlockPublicPolicy: aws.Bool(false), RestrictPublicBuckets: aws.Bool(true),
			},
		}); err != nil {
			t.Fatalf("put account-level block public access: %v", err)
		}
		diags := r.planToBucket(ctx, model(bucket), "Update")
		if diags.HasError() || !hasWarning(diags, "Anonymous Requests Are Still Blocked") {
			t.Fatalf("apply with account-level RestrictPublicBuckets: want its warning, got %v", diags)
		}
	})
}

func refererExpand(t *testing.T, domains ...string) []string {
	t.Helper()
	out, err := policy.ExpandDomains(domains)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRefererPolicyResource_validateConfig covers the cross-attribute rule, including the warning that a
// Terraform run cannot assert.
func TestRefererPolicyResource_validateConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := &refererPolicyResource{}
	var sresp fwresource.SchemaResponse
	r.Schema(ctx, fwresource.SchemaRequest{}, &sresp)
	objType := sresp.Schema.Type().TerraformType(ctx).(tftypes.Object)
	strSet := tftypes.Set{ElementType: tftypes.String}
	list := func(vs ...string) tftypes.Value {
		var elems []tftypes.Value
		for _, v := range vs {
			elems = append(elems, tftypes.NewValue(tftypes.String, v))
		}
		return tftypes.NewValue(strSet, elems)
	}

	tests := []struct {
		name         string
		attrs        map[string]tftypes.Value
		wantError    bool
		wantWarnings int
	}{
		{name: "patterns", attrs: map[string]tftypes.Value{"allowed_referers": list("https://example.com/*")}},
		{name: "domains only", attrs: map[string]tftypes.Value{
			"allowed_referers": list(),
			"allowed_domains":  tftypes.NewValue(strSet, []tftypes.Value{tftypes.NewValue(tftypes.String, "example.com")}),
		}},
		{name: "nothing, default allow_empty_referer", wantWarnings: 1},
		{name: "nothing, allow_empty_referer true", attrs: map[string]tftypes.Value{
			"allow_empty_referer": tftypes.NewValue(tftypes.Bool, true),
		}, wantWarnings: 1},
		{name: "nothing, allow_empty_referer false", attrs: map[string]tftypes.Value{
			"allow_empty_referer": tftypes.NewValue(tftypes.Bool, false),
		}, wantError: true},
		{name: "unknown list", attrs: map[string]tftypes.Value{
			"allowed_referers":    tftypes.NewValue(strSet, tftypes.UnknownValue),
			"allow_empty_referer": tftypes.NewValue(tftypes.Bool, false),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			vals := map[string]tftypes.Value{}
			for name, typ := range objType.AttributeTypes {
				vals[name] = tftypes.NewValue(typ, nil)
			}
			vals["bucket"] = tftypes.NewValue(tftypes.String, "bucketname")
			for k, v := range tt.attrs {
				vals[k] = v
			}
			req := fwresource.ValidateConfigRequest{Config: tfsdk.Config{Schema: sresp.Schema, Raw: tftypes.NewValue(objType, vals)}}
			var resp fwresource.ValidateConfigResponse
			r.ValidateConfig(ctx, req, &resp)
			if got := resp.Diagnostics.HasError(); got != tt.wantError {
				t.Errorf("HasError = %v, want %v: %v", got, tt.wantError, resp.Diagnostics)
			}
			if got := resp.Diagnostics.WarningsCount(); got != tt.wantWarnings {
				t.Errorf("warnings = %d, want %d: %v", got, tt.wantWarnings, resp.Diagnostics)
			}
		})
	}
}

// TestRefererPolicyResource_importOrder checks that import gives the same inputs whatever order the engine
// stores the condition values in (MinIO reorders them on each read).
func TestRefererPolicyResource_importOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const bucket = "import-order"
	canonical, err := buildRefererPolicy("aws", bucket, []string{"http://*.example.com/*", "http://example.com/*"}, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	reversed, err := buildRefererPolicy("aws", bucket, []string{"http://example.com/*", "http://*.example.com/*"}, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, remote string }{
		{"stored in sorted order", canonical},
		{"stored in another order", reversed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := refererPolicyResourceModel{Bucket: types.StringValue(bucket)}
			if diags := m.importFrom(ctx, tt.remote, "aws"); diags.HasError() {
				t.Fatalf("importFrom: %v", diags)
			}
			var got []string
			if diags := m.AllowedReferers.ElementsAs(ctx, &got, false); diags.HasError() {
				t.Fatalf("allowed_referers: %v", diags)
			}
			if want := []string{"http://*.example.com/*", "http://example.com/*"}; !slices.Equal(got, want) {
				t.Errorf("allowed_referers = %q, want %q", got, want)
			}
			if m.PolicyJSON.ValueString() != canonical {
				t.Errorf("policy_json = %s\nwant the canonical document\n%s", m.PolicyJSON.ValueString(), canonical)
			}
			if !m.AllowEmptyReferer.ValueBool() || m.ID.ValueString() != bucket {
				t.Errorf("allow_empty_referer = %v, id = %v", m.AllowEmptyReferer, m.ID)
			}
			var patterns []string
			if diags := m.RefererPatterns.ElementsAs(ctx, &patterns, false); diags.HasError() || !slices.Equal(patterns, got) {
				t.Errorf("referer_patterns = %q (%v), want allowed_referers %q", patterns, diags, got)
			}
		})
	}
}

// TestRefererPatternList checks referer_patterns: explicit patterns first, then each domain's four, in
// order, without the duplicates the policy document also drops.
func TestRefererPatternList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name              string
		referers, domains []string
		want              []string
		wantErr           string
	}{
		{name: "none", want: []string{}},
		{name: "patterns only", referers: []string{"https://b.example/*", "https://a.example/*"}, want: []string{"https://b.example/*", "https://a.example/*"}},
		{name: "domain only", domains: []string{"example.com"},
			want: []string{"http://example.com/*", "https://example.com/*", "http://*.example.com/*", "https://*.example.com/*"}},
		{name: "overlap kept once, in first position", referers: []string{"https://example.com/*", "https://example.com/*"}, domains: []string{"Example.com"},
			want: []string{"https://example.com/*", "http://example.com/*", "http://*.example.com/*", "https://*.example.com/*"}},
		{name: "bad domain", domains: []string{"https://example.com"}, wantErr: "has a scheme"},
	}
	for _, tt := range tests {
		got, err := refererPatternList(tt.referers, tt.domains)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error = %v, want one containing %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s: refererPatternList = %q, %v; want %q", tt.name, got, err, tt.want)
		}
		// The document lists exactly these patterns.
		if len(got) > 0 {
			doc, err := buildRefererPolicy("aws", "bucketname", tt.referers, tt.domains, false)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := policy.ParseRefererRead(doc)
			if err != nil || !slices.Equal(parsed.Referers, got) {
				t.Errorf("%s: the policy lists %q (%v), referer_patterns %q", tt.name, parsed.Referers, err, got)
			}
		}
	}
}
