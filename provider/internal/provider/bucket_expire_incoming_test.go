package provider

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
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

// checkLifecycle asserts the bucket's lifecycle rules by ID: our expiration rule with want (nil: absent), and
// every rule of the others list present.
func checkLifecycle(client *s3.Client, bucket string, want *expireIncoming, others ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		rules, err := lifecycleRules(context.Background(), client, bucket)
		if err != nil {
			return err
		}
		got := expireIncomingIn(rules)
		switch {
		case want == nil && got != nil:
			return fmt.Errorf("bucket %s still has the rule %s: %+v", bucket, expireIncomingRuleID, *got)
		case want != nil && (got == nil || *got != *want):
			return fmt.Errorf("bucket %s: rule %s is %+v, want %+v", bucket, expireIncomingRuleID, got, *want)
		}
		for _, id := range others {
			found := false
			for _, r := range rules {
				found = found || aws.ToString(r.ID) == id
			}
			if !found {
				return fmt.Errorf("bucket %s lost the lifecycle rule %s", bucket, id)
			}
		}
		return nil
	}
}

// TestAccBucketResource_expireIncoming creates the expiration rule beside the multipart rule, repairs it after an
// out-of-band change while keeping a foreign rule, and removes only it when the attribute goes.
func TestAccBucketResource_expireIncoming(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	admin := adminS3(t, m)
	const bucket = "expire-incoming"
	const addr = "staticmedia_bucket.test"
	const foreign = "someone-elses-rule"
	cfg := func(body string) string {
		return testAccMotoConfig(m) + fmt.Sprintf("resource \"staticmedia_bucket\" \"test\" {\n  bucket = %q\n%s\n}\n", bucket, body)
	}
	with := cfg(`  expire_incoming = { prefix = "incoming/", days = 2 }`)
	want := &expireIncoming{prefix: "incoming/", days: 2}
	drift := func() error {
		// Out of band: our rule now says 9 days, and someone adds a rule of their own.
		ctx := context.Background()
		if err := putExpireIncomingRule(ctx, admin, bucket, &expireIncoming{prefix: "incoming/", days: 9}); err != nil {
			return err
		}
		return putLifecycleRule(ctx, admin, bucket, foreign, &s3types.LifecycleRule{
			ID: aws.String(foreign), Status: s3types.ExpirationStatusEnabled,
			Filter:     &s3types.LifecycleRuleFilter{Prefix: aws.String("tmp/")},
			Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(30)},
		})
	}

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkBucketGone(admin, bucket),
		Steps: []resource.TestStep{
			{
				Config: with,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("expire_incoming"), knownvalue.ObjectExact(map[string]knownvalue.Check{
						"prefix": knownvalue.StringExact("incoming/"), "days": knownvalue.Int64Exact(2),
					})),
				},
				Check: checkLifecycle(admin, bucket, want, abortMultipartRuleID),
			},
			{
				PreConfig: func() {
					if err := drift(); err != nil {
						t.Fatalf("changing the lifecycle rules out of band: %v", err)
					}
				},
				Config: with,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
				Check: checkLifecycle(admin, bucket, want, abortMultipartRuleID, foreign),
			},
			{
				ResourceName:            addr,
				ImportState:             true,
				ImportStateId:           bucket,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"force_destroy"},
			},
			{
				Config: cfg(""),
				Check:  checkLifecycle(admin, bucket, nil, abortMultipartRuleID, foreign),
			},
			{
				Config: cfg(""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

func TestBucketResource_expireIncomingValidation(t *testing.T) {
	t.Parallel()
	provider := `
provider "staticmedia" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  endpoints {
    s3 = "http://127.0.0.1:9"
  }
}
`
	for _, tc := range []struct {
		name, body string
		want       *regexp.Regexp
	}{
		{"no trailing slash", `expire_incoming = { prefix = "incoming", days = 2 }`, regexp.MustCompile(`must end with "/"`)},
		{"empty prefix", `expire_incoming = { prefix = "", days = 2 }`, regexp.MustCompile(`(?s)prefix.*length`)},
		{"leading slash", `expire_incoming = { prefix = "/incoming/", days = 2 }`, regexp.MustCompile(`must not start with "/"`)},
		{"zero days", `expire_incoming = { prefix = "incoming/", days = 0 }`, regexp.MustCompile(`(?s)days.*between`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      provider + fmt.Sprintf("resource \"staticmedia_bucket\" \"test\" {\n  bucket = \"media\"\n  %s\n}\n", tc.body),
					PlanOnly:    true,
					ExpectError: tc.want,
				}},
			})
		})
	}
}

// TestAccBucketResource_expireIncomingKeepsTransitionMinimumSize adds the expiration rule to a bucket whose
// lifecycle configuration another tool wrote. PutBucketLifecycleConfiguration replaces the configuration's
// TransitionDefaultMinimumObjectSize too (a header beside the rules; left out, S3 resets it to
// all_storage_classes_128K), so the put must carry what the bucket had. moto answers every GET with
// all_storage_classes_128K; a proxy in front of it records what each PUT sends.
func TestAccBucketResource_expireIncomingKeepsTransitionMinimumSize(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	admin := adminS3(t, m)
	const bucket = "expire-min-size"
	ctx := context.Background()
	createTestBucket(t, admin, bucket)
	_, err := admin.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
		Bucket: aws.String(bucket),
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{{
			ID: aws.String("archive"), Status: s3types.ExpirationStatusEnabled,
			Filter:      &s3types.LifecycleRuleFilter{Prefix: aws.String("old/")},
			Transitions: []s3types.Transition{{Days: aws.Int32(40), StorageClass: s3types.TransitionStorageClassGlacier}},
		}}},
		TransitionDefaultMinimumObjectSize: s3types.TransitionDefaultMinimumObjectSizeVariesByStorageClass,
	})
	mustDo(t, "writing another tool's lifecycle configuration", err)
	out, err := admin.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(bucket)})
	mustDo(t, "reading it back", err)
	had := string(out.TransitionDefaultMinimumObjectSize)
	if had == "" {
		t.Fatal("the engine names no TransitionDefaultMinimumObjectSize; this test needs one")
	}

	var sent []string
	proxy := startInterceptProxy(t, m.Endpoint, func(r *http.Request, _ []byte, _ http.ResponseWriter) bool {
		if _, ok := r.URL.Query()["lifecycle"]; ok && r.Method == http.MethodPut {
			sent = append(sent, r.Header.Get("X-Amz-Transition-Default-Minimum-Object-Size"))
		}
		return false
	}, nil)
	config := testAccProviderConfig(motoKeys(m), proxy.URL, m.Endpoint) + fmt.Sprintf(`
resource "staticmedia_bucket" "test" {
  bucket          = %q
  expire_incoming = { prefix = "incoming/", days = 3 }
}
`, bucket)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				ResourceName: "staticmedia_bucket.test", Config: config,
				ImportState: true, ImportStateId: bucket, ImportStatePersist: true,
			},
			{
				Config: config,
				Check: func(*terraform.State) error {
					if len(sent) == 0 {
						return fmt.Errorf("no PutBucketLifecycleConfiguration went through the proxy")
					}
					for _, v := range sent {
						if v != had {
							return fmt.Errorf("a PutBucketLifecycleConfiguration sent TransitionDefaultMinimumObjectSize %q, want the bucket's %q", v, had)
						}
					}
					return nil
				},
			},
		},
	})
}

// TestAccBucketResource_noLifecycleAPI runs the bucket on an engine without the lifecycle API (every lifecycle
// call answers 501 NotImplemented, as a proxy in front of moto makes it) with skip_unsupported_bucket_apis: the
// multipart rule is skipped with a warning, and the refresh that follows must not fail on the missing API
// (it failed with "reading lifecycle rules"), nor show drift on the next plan. expire_incoming, an explicit
// choice, still fails there with the error that names it.
func TestAccBucketResource_noLifecycleAPI(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	proxy := startInterceptProxy(t, m.Endpoint, func(r *http.Request, _ []byte, w http.ResponseWriter) bool {
		if _, ok := r.URL.Query()["lifecycle"]; !ok {
			return false
		}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusNotImplemented)
		_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code>` +
			`<Message>A header you provided implies functionality that is not implemented</Message></Error>`))
		return true
	}, nil)
	const bucket = "no-lifecycle-api"
	cfg := func(body string) string {
		return testAccProviderConfig(motoKeys(m)+"  skip_unsupported_bucket_apis = true\n", proxy.URL, m.Endpoint) +
			fmt.Sprintf("resource \"staticmedia_bucket\" \"test\" {\n  bucket = %q\n  force_destroy = true\n%s\n}\n", bucket, body)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg("")},
			{
				Config: cfg(""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				Config:      cfg(`  expire_incoming = { prefix = "incoming/", days = 2 }`),
				ExpectError: regexp.MustCompile(`staticmedia-expire-incoming`),
			},
		},
	})
}
