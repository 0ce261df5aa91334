package provider

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/staticmedia/staticmedia/internal/testbed"
)

func TestBucketAddressesFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, bucket, region, endpoint string
		want                           bucketAddresses
	}{
		{
			name: "aws us-east-1", bucket: "media", region: "us-east-1",
			want: bucketAddresses{
				arn:                "arn:aws:s3:::media",
				regionalDomainName: "media.s3.us-east-1.amazonaws.com",
				publicBaseURL:      "https://media.s3.us-east-1.amazonaws.com/",
			},
		},
		{
			name: "aws eu-west-1", bucket: "my-media", region: "eu-west-1",
			want: bucketAddresses{
				arn:                "arn:aws:s3:::my-media",
				regionalDomainName: "my-media.s3.eu-west-1.amazonaws.com",
				publicBaseURL:      "https://my-media.s3.eu-west-1.amazonaws.com/",
			},
		},
		{
			name: "china uses its own partition and domain", bucket: "media", region: "cn-north-1",
			want: bucketAddresses{
				arn:                "arn:aws-cn:s3:::media",
				regionalDomainName: "media.s3.cn-north-1.amazonaws.com.cn",
				publicBaseURL:      "https://media.s3.cn-north-1.amazonaws.com.cn/",
			},
		},
		{
			name: "govcloud keeps amazonaws.com", bucket: "media", region: "us-gov-west-1",
			want: bucketAddresses{
				arn:                "arn:aws-us-gov:s3:::media",
				regionalDomainName: "media.s3.us-gov-west-1.amazonaws.com",
				publicBaseURL:      "https://media.s3.us-gov-west-1.amazonaws.com/",
			},
		},
		{
			name: "a dotted name gets a path-style https URL", bucket: "media.example.com", region: "eu-west-1",
			want: bucketAddresses{
				arn:                "arn:aws:s3:::media.example.com",
				regionalDomainName: "media.example.com.s3.eu-west-1.amazonaws.com",
				publicBaseURL:      "https://s3.eu-west-1.amazonaws.com/media.example.com/",
			},
		},
		{
			name: "a dotted name in China", bucket: "media.example.cn", region: "cn-north-1",
			want: bucketAddresses{
				arn:                "arn:aws-cn:s3:::media.example.cn",
				regionalDomainName: "media.example.cn.s3.cn-north-1.amazonaws.com.cn",
				publicBaseURL:      "https://s3.cn-north-1.amazonaws.com.cn/media.example.cn/",
			},
		},
		{
			name: "endpoint override gives a path-style URL", bucket: "media", region: "us-east-1", endpoint: "http://127.0.0.1:9000",
			want: bucketAddresses{
				arn:                "arn:aws:s3:::media",
				regionalDomainName: "media.s3.us-east-1.amazonaws.com",
				publicBaseURL:      "http://127.0.0.1:9000/media/",
				endpoint:           "http://127.0.0.1:9000",
			},
		},
		{
			name: "trailing slashes on the endpoint are not doubled", bucket: "media", region: "eu-west-1", endpoint: "https://s3.example.test/base//",
			want: bucketAddresses{
				arn:                "arn:aws:s3:::media",
				regionalDomainName: "media.s3.eu-west-1.amazonaws.com",
				publicBaseURL:      "https://s3.example.test/base/media/",
				endpoint:           "https://s3.example.test/base//",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := bucketAddressesFor(tt.bucket, tt.region, tt.endpoint); got != tt.want {
				t.Errorf("bucketAddressesFor(%q, %q, %q)\n got %+v\nwant %+v", tt.bucket, tt.region, tt.endpoint, got, tt.want)
			}
		})
	}
}

func TestBucketAbortDaysFrom(t *testing.T) {
	t.Parallel()
	rule := func(id string, status s3types.ExpirationStatus, days int32) s3types.LifecycleRule {
		return s3types.LifecycleRule{
			ID: aws.String(id), Status: status,
			AbortIncompleteMultipartUpload: &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(days)},
		}
	}
	tests := []struct {
		name  string
		rules []s3types.LifecycleRule
		want  int32
	}{
		{"no rules", nil, 0},
		{"someone else's rule only", []s3types.LifecycleRule{rule("other", s3types.ExpirationStatusEnabled, 3)}, 0},
		{"ours among others", []s3types.LifecycleRule{rule("other", s3types.ExpirationStatusEnabled, 3), rule(abortMultipartRuleID, s3types.ExpirationStatusEnabled, 9)}, 9},
		{"ours disabled counts as missing", []s3types.LifecycleRule{rule(abortMultipartRuleID, s3types.ExpirationStatusDisabled, 9)}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := abortDaysFrom(tt.rules); got != tt.want {
				t.Errorf("abortDaysFrom = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestBucketReadSettings_unset reads a bucket that has none of the settings: every "not configured" error
// the engine answers must read as an empty value, not a failure.
func TestBucketReadSettings_unset(t *testing.T) {
	t.Parallel()
	m := testbed.StartMoto(t)
	ctx := context.Background()
	client := adminS3(t, m)
	createTestBucket(t, client, "bare")
	got, err := readBucketSettings(ctx, client, "bare")
	if err != nil {
		t.Fatalf("readBucketSettings on a bare bucket: %v", err)
	}
	if got.versioning || got.abortDays != 0 || len(got.tags) != 0 || got.tags == nil {
		t.Errorf("bare bucket read as %+v; want versioning off, no abort rule, an empty (non-nil) tag map", got)
	}
	if got.objectOwnership == unsupportedSetting || got.sseAlgorithm == unsupportedSetting {
		t.Errorf("moto implements ownership and encryption, but they read as unsupported: %+v", got)
	}

	if _, err := readBucketSettings(ctx, client, "does-not-exist"); !errors.Is(err, errBucketNotFound) {
		t.Errorf("reading a missing bucket: got %v, want errBucketNotFound", err)
	}
}

// TestBucketEmpty deletes versions and delete markers in small batches, so the loop runs several rounds.
func TestBucketEmpty(t *testing.T) {
	t.Parallel()
	m := testbed.StartMoto(t)
	ctx := context.Background()
	client := adminS3(t, m)
	const bucket = "versions"
	createTestBucket(t, client, bucket)
	if err := putVersioning(ctx, client, bucket, true); err != nil {
		t.Fatalf("enabling versioning: %v", err)
	}
	versions := putVersionsAndMarkers(t, client, bucket, 4, 2)

	deleted, err := emptyBucket(ctx, client, bucket, 3)
	if err != nil {
		t.Fatalf("emptyBucket: %v", err)
	}
	if deleted != versions {
		t.Errorf("emptyBucket deleted %d versions and markers, want %d", deleted, versions)
	}
	out, err := client.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("listing after emptying: %v", err)
	}
	if n := len(out.Versions) + len(out.DeleteMarkers); n != 0 {
		t.Errorf("%d versions or markers left after emptyBucket", n)
	}
	if _, err := client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Errorf("deleting the emptied bucket: %v", err)
	}
}

// putVersionsAndMarkers writes keys objects with writes versions each, then deletes every other key, which
// leaves a delete marker on top. It returns how many versions plus markers the bucket holds.
func putVersionsAndMarkers(t *testing.T, client *s3.Client, bucket string, keys, writes int) int {
	t.Helper()
	ctx := context.Background()
	total := 0
	for k := range keys {
		key := fmt.Sprintf("img/%d.jpg", k)
		for w := range writes {
			_, err := client.PutObject(ctx, &s3.PutObjectInput{
				Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(fmt.Sprintf("version %d", w)),
			})
			if err != nil {
				t.Fatalf("putting %s: %v", key, err)
			}
			total++
		}
		if k%2 == 1 {
			if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
				t.Fatalf("deleting %s: %v", key, err)
			}
			total++
		}
	}
	return total
}

func TestAccBucketResource_basic(t *testing.T) {
	t.Parallel()
	m := testbed.StartMoto(t)
	admin := adminS3(t, m)
	const bucket = "staticmedia-basic"
	const addr = "staticmedia_bucket.test"
	providerBlock := testAccMotoConfig(m, withDefaultTags(map[string]string{"env": "test", "team": "platform"}))
	suspended := fmt.Sprintf(`
resource "staticmedia_bucket" "test" {
  bucket     = %q
  versioning = false
}
`, bucket)

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkBucketGone(admin, bucket),
		Steps: []resource.TestStep{
			{
				Config: providerBlock + fmt.Sprintf(`
resource "staticmedia_bucket" "test" {
  bucket = %q
  tags = {
    team = "media"
    app  = "uploads"
  }
}
`, bucket),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						// Derived addresses are known at plan time, so other resources can use them.
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("public_base_url"), knownvalue.StringExact(m.Endpoint+"/"+bucket+"/")),
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("arn"), knownvalue.StringExact("arn:aws:s3:::"+bucket)),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact(bucket)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("arn"), knownvalue.StringExact("arn:aws:s3:::"+bucket)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("region"), knownvalue.StringExact("us-east-1")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("bucket_regional_domain_name"), knownvalue.StringExact(bucket+".s3.us-east-1.amazonaws.com")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("public_base_url"), knownvalue.StringExact(m.Endpoint+"/"+bucket+"/")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("endpoint"), knownvalue.StringExact(m.Endpoint)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("force_destroy"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("versioning"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("abort_incomplete_multipart_days"), knownvalue.Int64Exact(7)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("object_ownership"), knownvalue.StringExact("BucketOwnerEnforced")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("sse_algorithm"), knownvalue.StringExact("AES256")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("tags_all"), knownvalue.MapExact(map[string]knownvalue.Check{
						"env":  knownvalue.StringExact("test"),
						"team": knownvalue.StringExact("media"),
						"app":  knownvalue.StringExact("uploads"),
					})),
				},
				Check: checkBucketOnEngine(admin, bucket, engineBucket{
					versioning: "", abortDays: 7, blockPublicAccess: true,
					tags: map[string]string{"env": "test", "team": "media", "app": "uploads"},
				}),
			},
			{
				ResourceName:                         addr,
				ImportState:                          true,
				ImportStateId:                        bucket,
				ImportStateVerify:                    true,
				ImportStateVerifyIdentifierAttribute: "id",
				ImportStateVerifyIgnore:              []string{"force_destroy"},
			},
			{
				Config: providerBlock + fmt.Sprintf(`
resource "staticmedia_bucket" "test" {
  bucket                          = %q
  versioning                      = true
  abort_incomplete_multipart_days = 3
  tags = {
    app = "images"
  }
}
`, bucket),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("versioning"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("abort_incomplete_multipart_days"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("tags"), knownvalue.MapExact(map[string]knownvalue.Check{
						"app": knownvalue.StringExact("images"),
					})),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("tags_all"), knownvalue.MapExact(map[string]knownvalue.Check{
						"env":  knownvalue.StringExact("test"),
						"team": knownvalue.StringExact("platform"),
						"app":  knownvalue.StringExact("images"),
					})),
				},
				Check: checkBucketOnEngine(admin, bucket, engineBucket{
					versioning: "Enabled", abortDays: 3, blockPublicAccess: true,
					tags: map[string]string{"env": "test", "team": "platform", "app": "images"},
				}),
			},
			{
				// Versioning off on a versioned bucket means Suspended, and tags can all go.
				Config: providerBlock + suspended,
				Check: checkBucketOnEngine(admin, bucket, engineBucket{
					versioning: "Suspended", abortDays: 7, blockPublicAccess: true,
					tags: map[string]string{"env": "test", "team": "platform"},
				}),
			},
			{
				// A suspended bucket, with only default tags, reads back exactly as configured.
				Config: providerBlock + suspended,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

// TestAccBucketResource_drift changes every managed setting out of band and expects the plan to show it and
// the apply to restore it. It runs in eu-west-1 so CreateBucket sends a LocationConstraint.
func TestAccBucketResource_drift(t *testing.T) {
	t.Parallel()
	m := testbed.StartMoto(t)
	m.Region = "eu-west-1"
	admin := adminS3(t, m)
	const bucket = "staticmedia-drift"
	const addr = "staticmedia_bucket.test"
	config := testAccMotoConfig(m) + fmt.Sprintf(`
resource "staticmedia_bucket" "test" {
  bucket     = %q
  versioning = true
  tags = {
    app = "media"
  }
}
`, bucket)
	want := engineBucket{versioning: "Enabled", abortDays: 7, blockPublicAccess: true, tags: map[string]string{"app": "media"}}

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkBucketGone(admin, bucket),
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("region"), knownvalue.StringExact("eu-west-1")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("bucket_regional_domain_name"), knownvalue.StringExact(bucket+".s3.eu-west-1.amazonaws.com")),
				},
				Check: resource.ComposeTestCheckFunc(
					checkBucketOnEngine(admin, bucket, want),
					func(*terraform.State) error {
						out, err := admin.GetBucketLocation(context.Background(), &s3.GetBucketLocationInput{Bucket: aws.String(bucket)})
						if err != nil {
							return err
						}
						if out.LocationConstraint != "eu-west-1" {
							return fmt.Errorf("bucket location is %q, want eu-west-1", out.LocationConstraint)
						}
						return nil
					},
				),
			},
			{
				// Out of band: versioning suspended, our lifecycle rule replaced by someone else's, tags changed,
				// ACLs re-enabled, encryption switched to KMS.
				PreConfig: func() {
					ctx := context.Background()
					mustDo(t, "suspending versioning", putVersioning(ctx, admin, bucket, false))
					_, err := admin.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
						Bucket: aws.String(bucket),
						LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{{
							ID: aws.String("someone-elses"), Status: s3types.ExpirationStatusEnabled,
							Filter:     &s3types.LifecycleRuleFilter{Prefix: aws.String("tmp/")},
							Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(1)},
						}}},
					})
					mustDo(t, "replacing the lifecycle rules", err)
					mustDo(t, "changing tags", putTags(ctx, admin, bucket, map[string]string{"app": "other", "added": "by-hand"}))
					_, err = admin.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{
						Bucket: aws.String(bucket),
						OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{
							{ObjectOwnership: s3types.ObjectOwnershipObjectWriter},
						}},
					})
					mustDo(t, "re-enabling ACLs", err)
					_, err = admin.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
						Bucket: aws.String(bucket),
						ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
							ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms},
						}}},
					})
					mustDo(t, "switching encryption to KMS", err)
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("object_ownership"), knownvalue.StringExact("BucketOwnerEnforced")),
					},
				},
				Check: resource.ComposeTestCheckFunc(
					checkBucketOnEngine(admin, bucket, want),
					checkLifecycleRuleIDs(admin, bucket, "someone-elses", abortMultipartRuleID),
				),
			},
			{
				// Out of band: the bucket is deleted. The plan re-creates it.
				PreConfig: func() {
					ctx := context.Background()
					_, err := deleteBucket(ctx, admin, bucket, true)
					mustDo(t, "deleting the bucket out of band", err)
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate)},
				},
				Check: checkBucketOnEngine(admin, bucket, want),
			},
		},
	})
}

func TestAccBucketResource_existingBucket(t *testing.T) {
	t.Parallel()
	m := testbed.StartMoto(t)
	admin := adminS3(t, m)
	const bucket = "staticmedia-existing"
	createTestBucket(t, admin, bucket)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      testAccMotoConfig(m) + fmt.Sprintf("resource \"staticmedia_bucket\" \"test\" {\n  bucket = %q\n}\n", bucket),
			ExpectError: phrase("already exists and is owned by you: import it with terraform import staticmedia_bucket.NAME " + bucket),
		}},
	})
}

// TestAccBucketResource_nameTaken uses IAM enforcement to get the 403 that HeadBucket answers for a bucket
// in another account.
func TestAccBucketResource_nameTaken(t *testing.T) {
	t.Parallel()
	m := testbed.StartMoto(t)
	ctx := context.Background()
	cfg := m.Config(t)
	const bucket = "staticmedia-taken"
	createTestBucket(t, m.Options().S3(cfg), bucket)
	iamClient := m.Options().IAM(cfg)
	if _, err := iamClient.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("outsider")}); err != nil {
		t.Fatalf("creating the outsider user: %v", err)
	}
	key, err := iamClient.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("outsider")})
	if err != nil {
		t.Fatalf("creating the outsider's key: %v", err)
	}
	m.EnableIAMEnforcement(t)
	outsider := *m
	outsider.AccessKey, outsider.SecretKey = aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey)

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      testAccMotoConfig(&outsider) + fmt.Sprintf("resource \"staticmedia_bucket\" \"test\" {\n  bucket = %q\n}\n", bucket),
			ExpectError: phrase("already exists and is owned by someone else"),
		}},
	})
}

func TestAccBucketResource_invalidName(t *testing.T) {
	t.Parallel()
	m := testbed.StartMoto(t)
	names := []string{"ab", "Media", "media_uploads", "media..uploads", "-media", "media-", "192.168.10.20", "xn--media", "media-s3alias", strings.Repeat("a", 64)}
	steps := make([]resource.TestStep, 0, len(names))
	for _, name := range names {
		steps = append(steps, resource.TestStep{
			Config:      testAccMotoConfig(m) + fmt.Sprintf("resource \"staticmedia_bucket\" \"test\" {\n  bucket = %q\n}\n", name),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`Invalid Bucket Name`),
		})
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps:                    steps,
	})
	// Nothing may have been created: the names fail at plan time.
	out, err := adminS3(t, m).ListBuckets(context.Background(), &s3.ListBucketsInput{})
	if err != nil {
		t.Fatalf("listing buckets: %v", err)
	}
	if len(out.Buckets) != 0 {
		t.Errorf("invalid names created %d buckets", len(out.Buckets))
	}
}

// TestAccBucketResource_forceDestroy destroys a versioned bucket holding object versions and a delete marker:
// refused without force_destroy, done with it.
func TestAccBucketResource_forceDestroy(t *testing.T) {
	t.Parallel()
	m := testbed.StartMoto(t)
	admin := adminS3(t, m)
	const bucket = "staticmedia-force"
	config := func(force bool) string {
		return testAccMotoConfig(m) + fmt.Sprintf(`
resource "staticmedia_bucket" "test" {
  bucket        = %q
  versioning    = true
  force_destroy = %t
}
`, bucket, force)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkBucketGone(admin, bucket),
		Steps: []resource.TestStep{
			{
				Config: config(false),
				Check: func(*terraform.State) error {
					putVersionsAndMarkers(t, admin, bucket, 3, 2)
					return nil
				},
			},
			{
				Config:      config(false),
				Destroy:     true,
				ExpectError: phrase("still holds objects, so it was not deleted. To delete it with every object version in it, set force_destroy = true"),
			},
			{
				Config: config(false),
				Check: func(*terraform.State) error {
					// The refused destroy must not have deleted anything.
					out, err := admin.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
					if err != nil {
						return err
					}
					if n := len(out.Versions) + len(out.DeleteMarkers); n != 7 {
						return fmt.Errorf("bucket holds %d versions and markers after the refused destroy, want 7", n)
					}
					return nil
				},
			},
			{
				// force_destroy must be in the state before the destroy; the final destroy of the test case
				// then empties and deletes the bucket, and CheckDestroy confirms it is gone.
				Config: config(true),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("staticmedia_bucket.test", tfjsonpath.New("force_destroy"), knownvalue.Bool(true)),
				},
			},
		},
	})
}

// engineBucket is what the engine should hold, read with the admin client straight from the S3 API.
type engineBucket struct {
	versioning        string // "", "Enabled" or "Suspended"
	abortDays         int32
	blockPublicAccess bool
	tags              map[string]string
}

// checkBucketOnEngine asserts the bucket's real settings, independently of the provider's own reader.
func checkBucketOnEngine(client *s3.Client, bucket string, want engineBucket) resource.TestCheckFunc {
	return func(*terraform.State) error {
		ctx := context.Background()
		b := aws.String(bucket)
		var errs []error

		ver, err := client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b})
		if err != nil {
			return fmt.Errorf("GetBucketVersioning: %w", err)
		}
		if string(ver.Status) != want.versioning {
			errs = append(errs, fmt.Errorf("versioning is %q, want %q", ver.Status, want.versioning))
		}

		own, err := client.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: b})
		if err != nil {
			return fmt.Errorf("GetBucketOwnershipControls: %w", err)
		}
		if got := own.OwnershipControls.Rules[0].ObjectOwnership; got != s3types.ObjectOwnershipBucketOwnerEnforced {
			errs = append(errs, fmt.Errorf("object ownership is %q, want BucketOwnerEnforced", got))
		}

		enc, err := client.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b})
		if err != nil {
			return fmt.Errorf("GetBucketEncryption: %w", err)
		}
		if got := enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm; got != s3types.ServerSideEncryptionAes256 {
			errs = append(errs, fmt.Errorf("default encryption is %q, want AES256", got))
		}

		if want.blockPublicAccess {
			bpa, err := client.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b})
			if err != nil {
				return fmt.Errorf("GetPublicAccessBlock: %w", err)
			}
			c := bpa.PublicAccessBlockConfiguration
			if !aws.ToBool(c.BlockPublicAcls) || !aws.ToBool(c.IgnorePublicAcls) || !aws.ToBool(c.BlockPublicPolicy) || !aws.ToBool(c.RestrictPublicBuckets) {
				errs = append(errs, fmt.Errorf("block public access is %+v, want all on", *c))
			}
		}

		lc, err := client.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: b})
		if err != nil {
			return fmt.Errorf("GetBucketLifecycleConfiguration: %w", err)
		}
		if got := abortDaysFrom(lc.Rules); got != want.abortDays {
			errs = append(errs, fmt.Errorf("abort-incomplete-multipart rule says %d days, want %d", got, want.abortDays))
		}

		tags := map[string]string{}
		tg, err := client.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b})
		switch {
		case isAPIError(err, "NoSuchTagSet"):
		case err != nil:
			return fmt.Errorf("GetBucketTagging: %w", err)
		default:
			for _, t := range tg.TagSet {
				tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
		}
		if !maps.Equal(tags, want.tags) {
			errs = append(errs, fmt.Errorf("tags are %v, want %v", tags, want.tags))
		}
		return errors.Join(errs...)
	}
}

func checkLifecycleRuleIDs(client *s3.Client, bucket string, want ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		rules, err := lifecycleRules(context.Background(), client, bucket)
		if err != nil {
			return err
		}
		var ids []string
		for _, r := range rules {
			ids = append(ids, aws.ToString(r.ID))
		}
		slices.Sort(ids)
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			return fmt.Errorf("lifecycle rule IDs are %v, want %v", ids, want)
		}
		return nil
	}
}

// checkBucketGone is a CheckDestroy: the bucket must no longer exist.
func checkBucketGone(client *s3.Client, bucket string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		_, err := client.HeadBucket(context.Background(), &s3.HeadBucketInput{Bucket: aws.String(bucket)})
		if err == nil {
			return fmt.Errorf("bucket %s still exists after destroy", bucket)
		}
		if !isNotFound(err) {
			return fmt.Errorf("checking bucket %s: %w", bucket, err)
		}
		return nil
	}
}

// TestAccBucketResource_minio runs the life cycle on MinIO, which lacks Object Ownership, Block Public
// Access, SSE-S3 without a KMS, and lifecycle rules that only abort multipart uploads. The resource must warn,
// record what the engine lacks, and then read back without a perpetual diff, update, and force-destroy.
func TestAccBucketResource_minio(t *testing.T) {
	t.Parallel()
	m := testbed.StartMinIO(t)
	admin := adminS3(t, m)
	const bucket = "staticmedia-minio"
	const addr = "staticmedia_bucket.test"
	config := func(versioning bool, app string) string {
		return testAccMinIOConfig(m) + fmt.Sprintf(`
resource "staticmedia_bucket" "test" {
  bucket        = %q
  versioning    = %t
  force_destroy = true
  tags = {
    app = %q
  }
}
`, bucket, versioning, app)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkBucketGone(admin, bucket),
		Steps: []resource.TestStep{
			{
				Config: config(true, "media"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("public_base_url"), knownvalue.StringExact(m.Endpoint+"/"+bucket+"/")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("versioning"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("tags_all"), knownvalue.MapExact(map[string]knownvalue.Check{
						"app": knownvalue.StringExact("media"),
					})),
				},
				Check: func(*terraform.State) error {
					ver, err := admin.GetBucketVersioning(context.Background(), &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
					if err != nil {
						return err
					}
					if ver.Status != s3types.BucketVersioningStatusEnabled {
						return fmt.Errorf("versioning is %q on MinIO, want Enabled", ver.Status)
					}
					putVersionsAndMarkers(t, admin, bucket, 2, 2)
					return nil
				},
			},
			{
				// What MinIO cannot store reads back as missing after an import, which has no record of what the
				// engine lacks; TestAccBucketResource_minioImport covers what happens next.
				ResourceName:            addr,
				ImportState:             true,
				ImportStateId:           bucket,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"force_destroy", "sse_algorithm", "abort_incomplete_multipart_days"},
			},
			{
				Config: config(false, "images"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
				Check: checkBucketOnEngineTags(admin, bucket, map[string]string{"app": "images"}),
			},
			{
				Config: config(false, "images"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

// TestAccBucketResource_minioImport imports a MinIO bucket made outside Terraform. The first apply tries the
// settings MinIO lacks, records them, and from then on the plan is empty.
func TestAccBucketResource_minioImport(t *testing.T) {
	t.Parallel()
	m := testbed.StartMinIO(t)
	admin := adminS3(t, m)
	const bucket = "staticmedia-minio-import"
	const addr = "staticmedia_bucket.test"
	createTestBucket(t, admin, bucket)
	config := testAccMinIOConfig(m) + fmt.Sprintf(`
resource "staticmedia_bucket" "test" {
  bucket        = %q
  force_destroy = true
  tags = {
    app = "media"
  }
}
`, bucket)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkBucketGone(admin, bucket),
		Steps: []resource.TestStep{
			{
				Config:             config,
				ResourceName:       addr,
				ImportState:        true,
				ImportStateId:      bucket,
				ImportStatePersist: true,
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					if len(states) != 1 || states[0].Attributes["sse_algorithm"] != "" || states[0].Attributes["abort_incomplete_multipart_days"] != "0" {
						return fmt.Errorf("imported MinIO bucket should read no encryption and no abort rule, got %v", states)
					}
					return nil
				},
			},
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("sse_algorithm"), knownvalue.StringExact("AES256")),
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("abort_incomplete_multipart_days"), knownvalue.Int64Exact(7)),
					},
				},
				Check: checkBucketOnEngineTags(admin, bucket, map[string]string{"app": "media"}),
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

func checkBucketOnEngineTags(client *s3.Client, bucket string, want map[string]string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		out, err := client.GetBucketTagging(context.Background(), &s3.GetBucketTaggingInput{Bucket: aws.String(bucket)})
		if err != nil {
			return fmt.Errorf("GetBucketTagging: %w", err)
		}
		got := map[string]string{}
		for _, t := range out.TagSet {
			got[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		if !maps.Equal(got, want) {
			return fmt.Errorf("tags are %v, want %v", got, want)
		}
		return nil
	}
}

// TestBucketRegionError covers S3's answer to a HeadBucket sent to the wrong region on AWS: 301 with the
// bucket's region in x-amz-bucket-region. moto answers such a request with 200 (see
// TestBucketReadSettings_otherRegionOnMoto), so the 301 is built here as the SDK returns it.
func TestBucketRegionError(t *testing.T) {
	t.Parallel()
	moved := func(header http.Header) error {
		return &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: http.StatusMovedPermanently, Header: header}},
			Err:      errors.New("api error 301: Moved Permanently"),
		}
	}
	tests := []struct {
		name       string
		err        error
		wantRegion string
		wantMsg    string
	}{
		{
			name:       "header names the region",
			err:        moved(http.Header{"X-Amz-Bucket-Region": {"eu-west-1"}}),
			wantRegion: "eu-west-1",
			wantMsg:    `S3 bucket "media" is in eu-west-1, the provider is configured for us-east-1 (HeadBucket answered 301 Moved Permanently)`,
		},
		{
			name:    "no header",
			err:     moved(http.Header{}),
			wantMsg: `S3 bucket "media" is in another region, the provider is configured for us-east-1 (HeadBucket answered 301 Moved Permanently)`,
		},
		{name: "not a response error", err: errors.New("dial tcp: refused")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			region := bucketRegionHeader(fmt.Errorf("HeadBucket: %w", tt.err))
			if region != tt.wantRegion {
				t.Errorf("bucketRegionHeader = %q, want %q", region, tt.wantRegion)
			}
			if tt.wantMsg == "" {
				return
			}
			e := &bucketRegionError{bucket: "media", bucketRegion: region, clientRegion: "us-east-1", err: tt.err}
			if e.Error() != tt.wantMsg {
				t.Errorf("Error() = %q, want %q", e.Error(), tt.wantMsg)
			}
			if httpStatus(e) != http.StatusMovedPermanently {
				t.Errorf("the wrapped 301 is lost: httpStatus = %d", httpStatus(e))
			}
		})
	}
}

// TestBucketReadSettings_otherRegionOnMoto reads an eu-west-1 bucket with a us-east-1 client. moto answers
// HeadBucket with 200 and the bucket's region instead of AWS's 301, so Read takes the bucket's region.
func TestBucketReadSettings_otherRegionOnMoto(t *testing.T) {
	t.Parallel()
	m := testbed.StartMoto(t)
	eu := m.Options().S3(m.Config(t), func(o *s3.Options) { o.Region = "eu-west-1" })
	createTestBucket(t, eu, "far-away")
	got, err := readBucketSettings(context.Background(), adminS3(t, m), "far-away")
	if err != nil {
		t.Fatalf("readBucketSettings from us-east-1: %v", err)
	}
	if got.region != "eu-west-1" {
		t.Errorf("region = %q, want eu-west-1", got.region)
	}
}
