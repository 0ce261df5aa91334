package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/staticmedia/staticmedia/internal/awsconfig"
	"github.com/staticmedia/staticmedia/internal/testbed"
)

const testAccessKey = "staticmedia_upload_access_key.test"

// testAccAccessKeyConfig is an upload user named user with one key; body goes inside the key's block.
func testAccAccessKeyConfig(m *testbed.Moto, user, body string) string {
	return testAccMotoConfig(m) + fmt.Sprintf(`
resource "staticmedia_upload_user" "test" {
  name   = %q
  bucket = "media"
}

resource "staticmedia_upload_access_key" "test" {
  user = staticmedia_upload_user.test.name
%s
}
`, user, body)
}

// checkUserKeys asserts the user's keys in IAM: exactly the key in state, with the given status.
func checkUserKeys(t *testing.T, m *testbed.Moto, user string, status iamtypes.StatusType) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		id, err := stateAttr(s, testAccessKey, "id")
		if err != nil {
			return err
		}
		out, err := adminIAM(t, m).ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String(user)})
		if err != nil {
			return err
		}
		if len(out.AccessKeyMetadata) != 1 {
			return fmt.Errorf("user %s has %d access keys, want 1", user, len(out.AccessKeyMetadata))
		}
		k := out.AccessKeyMetadata[0]
		if aws.ToString(k.AccessKeyId) != id || k.Status != status {
			return fmt.Errorf("user %s has key %s (%s), want %s (%s)", user, aws.ToString(k.AccessKeyId), k.Status, id, status)
		}
		return nil
	}
}

func TestAccUploadAccessKeyResource_basic(t *testing.T) {
	t.Parallel()
	m := testbed.StartMoto(t)
	importIgnore := []string{"secret", "wait_for_propagation", "rotation_triggers"}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: testAccAccessKeyConfig(m, "uploader", ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testAccessKey, tfjsonpath.New("id"), knownvalue.StringRegexp(regexp.MustCompile(`^AKIA[A-Z0-9]{16}$`))),
					statecheck.ExpectKnownValue(testAccessKey, tfjsonpath.New("secret"), knownvalue.StringRegexp(regexp.MustCompile(`^\S{40}$`))),
					statecheck.ExpectKnownValue(testAccessKey, tfjsonpath.New("status"), knownvalue.StringExact("Active")),
					statecheck.ExpectKnownValue(testAccessKey, tfjsonpath.New("wait_for_propagation"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(testAccessKey, tfjsonpath.New("create_date"),
						knownvalue.StringRegexp(regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`))),
					statecheck.ExpectSensitiveValue(testAccessKey, tfjsonpath.New("secret")),
				},
				Check: checkUserKeys(t, m, "uploader", iamtypes.StatusTypeActive),
			},
			{
				ResourceName: testAccessKey,
				ImportState:  true,
				ImportStateIdFunc: func(s *terraform.State) (string, error) {
					id, err := stateAttr(s, testAccessKey, "id")
					return "uploader/" + id, err
				},
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: importIgnore,
			},
			{
				// The bare key ID: the user is found through GetAccessKeyLastUsed.
				ResourceName:            testAccessKey,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: importIgnore,
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					if len(states) != 1 || states[0].Attributes["user"] != "uploader" {
						return fmt.Errorf("import by key ID found user %q, want uploader", states[0].Attributes["user"])
					}
					if s, ok := states[0].Attributes["secret"]; ok && s != "" {
						return errors.New("an imported key has a secret")
					}
					return nil
				},
			},
			{
				ResourceName:  testAccessKey,
				ImportState:   true,
				ImportStateId: "uploader/",
				ExpectError:   regexp.MustCompile(`Invalid Import ID`),
			},
			{
				Config: testAccAccessKeyConfig(m, "uploader", `  status = "Inactive"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(testAccessKey, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testAccessKey, tfjsonpath.New("status"), knownvalue.StringExact("Inactive")),
				},
				Check: checkUserKeys(t, m, "uploader", iamtypes.StatusTypeInactive),
			},
			{
				Config:           testAccAccessKeyConfig(m, "uploader", `  status = "Inactive"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

// TestAccUploadAccessKeyResource_createInactive creates a key that starts inactive (no propagation wait).
func TestAccUploadAccessKeyResource_createInactive(t *testing.T) {
	t.Parallel()
	m := testbed.StartMoto(t)
	config := testAccAccessKeyConfig(m, "standby", `  status = "Inactive"`)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: config, Check: checkUserKeys(t, m, "standby", iamtypes.StatusTypeInactive)},
			{Config: config, ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}},
		},
	})
}

// TestAccUploadAccessKeyResource_drift deletes and re-activates the key behind Terraform's back.
func TestAccUploadAccessKeyResource_drift(t *testing.T) {
	t.Parallel()
	m := testbed.StartMoto(t)
	ctx := context.Background()
	config := testAccAccessKeyConfig(m, "drifter", "")
	ids := statecheck.CompareValue(compare.ValuesDiffer())
	var keyID string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:            config,
				ConfigStateChecks: []statecheck.StateCheck{ids.AddStateValue(testAccessKey, tfjsonpath.New("id"))},
				Check: func(s *terraform.State) error {
					var err error
					keyID, err = stateAttr(s, testAccessKey, "id")
					return err
				},
			},
			{
				PreConfig: func() {
					if _, err := adminIAM(t, m).UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{
						UserName: aws.String("drifter"), AccessKeyId: aws.String(keyID), Status: iamtypes.StatusTypeInactive,
					}); err != nil {
						t.Fatalf("out-of-band UpdateAccessKey: %v", err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(testAccessKey, plancheck.ResourceActionUpdate)},
				},
				Check: checkUserKeys(t, m, "drifter", iamtypes.StatusTypeActive),
			},
			{
				PreConfig: func() {
					if _, err := adminIAM(t, m).DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{
						UserName: aws.String("drifter"), AccessKeyId: aws.String(keyID),
					}); err != nil {
						t.Fatalf("out-of-band DeleteAccessKey: %v", err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(testAccessKey, plancheck.ResourceActionCreate),
						plancheck.ExpectResourceAction(testUploadUser, plancheck.ResourceActionNoop),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{ids.AddStateValue(testAccessKey, tfjsonpath.New("id"))},
				Check:             checkUserKeys(t, m, "drifter", iamtypes.StatusTypeActive),
			},
			{
				// The user deleted out of band, after its key and policy as IAM requires: both come back.
				PreConfig: func() {
					client := adminIAM(t, m)
					keys, err := listAccessKeyIDs(ctx, client, "drifter")
					if err != nil {
						t.Fatal(err)
					}
					for _, id := range keys {
						if _, err := client.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("drifter"), AccessKeyId: aws.String(id)}); err != nil {
							t.Fatal(err)
						}
					}
					if _, err := client.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("drifter"), PolicyName: aws.String("upload-only")}); err != nil {
						t.Fatal(err)
					}
					if _, err := client.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("drifter")}); err != nil {
						t.Fatal(err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(testUploadUser, plancheck.ResourceActionCreate),
						plancheck.ExpectResourceAction(testAccessKey, plancheck.ResourceActionCreate),
					},
				},
				Check: checkUserKeys(t, m, "drifter", iamtypes.StatusTypeActive),
			},
			{
				Config:           config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

// TestAccUploadAccessKeyResource_rotation changes rotation_triggers under create_before_destroy: a new
// key is created before the old one goes, and only the new one remains.
func TestAccUploadAccessKeyResource_rotation(t *testing.T) {
	t.Parallel()
	m := testbed.StartMoto(t)
	config := func(generation string) string {
		return testAccAccessKeyConfig(m, "rotator", fmt.Sprintf(`
  rotation_triggers = { generation = %q }
  lifecycle {
    create_before_destroy = true
  }
`, generation))
	}
	ids := statecheck.CompareValue(compare.ValuesDiffer())
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:            config("2024-01"),
				ConfigStateChecks: []statecheck.StateCheck{ids.AddStateValue(testAccessKey, tfjsonpath.New("id"))},
				Check:             checkUserKeys(t, m, "rotator", iamtypes.StatusTypeActive),
			},
			{
				Config: config("2024-07"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(testAccessKey, plancheck.ResourceActionCreateBeforeDestroy),
						plancheck.ExpectResourceAction(testUploadUser, plancheck.ResourceActionNoop),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{ids.AddStateValue(testAccessKey, tfjsonpath.New("id"))},
				Check:             checkUserKeys(t, m, "rotator", iamtypes.StatusTypeActive),
			},
			{
				Config:           config("2024-07"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

// TestAccUploadAccessKeyResource_leastPrivilege is the seed's point, proven on an engine that enforces
// IAM: the key the provider creates can upload into its bucket (below the prefix) and list buckets,
// and can do nothing else.
func TestAccUploadAccessKeyResource_leastPrivilege(t *testing.T) {
	t.Parallel()
	m := testbed.StartMoto(t)
	ctx := context.Background()
	const bucket, other = "media-least-privilege", "someone-elses-bucket"

	config := testAccMotoConfig(m) + fmt.Sprintf(`
resource "staticmedia_bucket" "media" {
  bucket        = %q
  force_destroy = true
}

resource "staticmedia_upload_user" "test" {
  name       = "uploader"
  bucket     = staticmedia_bucket.media.bucket
  key_prefix = "uploads/"
}

resource "staticmedia_upload_access_key" "test" {
  user = staticmedia_upload_user.test.name
}
`, bucket)

	admin := adminS3(t, m)
	createTestBucket(t, admin, other)

	check := func(s *terraform.State) (err error) {
		id, err := stateAttr(s, testAccessKey, "id")
		if err != nil {
			return err
		}
		secret, err := stateAttr(s, testAccessKey, "secret")
		if err != nil {
			return err
		}
		// An object the upload key must not be able to read, list, head or delete.
		if _, err := admin.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String("uploads/existing.txt"), Body: strings.NewReader("existing"),
		}); err != nil {
			return fmt.Errorf("admin PutObject: %w", err)
		}

		m.EnableIAMEnforcement(t)
		// Terraform's provider block still holds moto's default key, which enforcement refuses; turn
		// enforcement off again so the test can destroy what it created.
		defer func() {
			if derr := disableMotoIAMEnforcement(m); derr != nil && err == nil {
				err = derr
			}
		}()

		return checkUploadOnly(ctx, m, awsconfig.Options{AccessKey: id, SecretKey: secret}, "the upload key", bucket, "uploads/", other)
	}

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: config, Check: check},
		},
	})
}

// disableMotoIAMEnforcement lets every later request through unauthenticated again: reset-auth takes
// the number of requests to let through, and moto parses it as a float, so "inf" means all of them.
func disableMotoIAMEnforcement(m *testbed.Moto) error {
	resp, err := http.Post(m.Endpoint+"/moto-api/reset-auth", "text/plain", strings.NewReader("inf"))
	if err != nil {
		return fmt.Errorf("turning moto IAM enforcement off: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("turning moto IAM enforcement off: status %d: %s", resp.StatusCode, body)
	}
	return nil
}

// checkUploadOnly proves on moto with IAM enforcement on that creds (an access key, or a role's session) may
// upload into bucket below prefix and list buckets, and may not read, head, list or delete the object
// prefix+"existing.txt" (which must exist), upload outside prefix, or upload into other.
func checkUploadOnly(ctx context.Context, m *testbed.Moto, creds awsconfig.Options, who, bucket, prefix, other string) error {
	opts := awsconfig.Options{Region: m.Region, AccessKey: creds.AccessKey, SecretKey: creds.SecretKey, SessionToken: creds.SessionToken,
		Endpoints: awsconfig.Endpoints{S3: m.Endpoint}}
	cfg, err := awsconfig.Load(ctx, opts)
	if err != nil {
		return err
	}
	upload := opts.S3(cfg, func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	put := func(b, key string) error {
		_, err := upload.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: strings.NewReader("image bytes")})
		return err
	}
	existing := aws.String(prefix + "existing.txt")

	var errs []error
	allowed := map[string]error{
		"PutObject " + prefix + "photo.jpg": put(bucket, prefix+"photo.jpg"),
		"ListBuckets": func() error {
			_, err := upload.ListBuckets(ctx, &s3.ListBucketsInput{})
			return err
		}(),
	}
	for op, err := range allowed {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s with %s failed, want success: %w", op, who, err))
		}
	}
	denied := map[string]error{
		"GetObject": func() error {
			_, err := upload.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: existing})
			return err
		}(),
		"HeadObject": func() error {
			_, err := upload.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: existing})
			return err
		}(),
		"ListObjectsV2": func() error {
			_, err := upload.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
			return err
		}(),
		"DeleteObject": func() error {
			_, err := upload.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: existing})
			return err
		}(),
		"PutObject outside the key prefix": put(bucket, "elsewhere/photo.jpg"),
		"PutObject into another bucket":    put(other, prefix+"photo.jpg"),
	}
	for op, err := range denied {
		var apiErr smithy.APIError
		switch {
		case !errors.As(err, &apiErr):
			errs = append(errs, fmt.Errorf("%s with %s: got %w, want AccessDenied", op, who, err))
		// HEAD responses carry no body, so S3 clients only see the status: 403 Forbidden.
		case op == "HeadObject" && apiErr.ErrorCode() == "Forbidden":
		case apiErr.ErrorCode() != "AccessDenied":
			errs = append(errs, fmt.Errorf("%s with %s: got error code %s, want AccessDenied", op, who, apiErr.ErrorCode()))
		}
	}
	return errors.Join(errs...)
}

// TestAccUploadAccessKeyResource_waitForKey drives the propagation wait against an enforcing engine: a
// key that authenticates passes after keyPropagationSuccesses calls in a row, and a key that never does
// is retried until the deadline and then reported with the engine's error.
func TestAccUploadAccessKeyResource_waitForKey(t *testing.T) {
	t.Parallel()
	m := testbed.StartMoto(t)
	m.EnableIAMEnforcement(t)
	r := &uploadAccessKeyResource{pd: &providerData{opts: m.Options(), region: m.Region}}

	start := time.Now()
	if err := r.waitForKey(context.Background(), m.AccessKey, m.SecretKey); err != nil {
		t.Fatalf("waiting for a working key: %v", err)
	}
	if elapsed, floor := time.Since(start), (keyPropagationSuccesses-1)*keyPropagationInterval; elapsed < floor {
		t.Errorf("a working key passed after %v, want at least %v (%d successes in a row)", elapsed, floor, keyPropagationSuccesses)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	err := r.waitForKey(ctx, "AKIAUNKNOWNKEY000000", "not-the-secret")
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidClientTokenId" {
		t.Fatalf("waiting for an unknown key: got %v, want InvalidClientTokenId after the deadline", err)
	}
	if !strings.Contains(err.Error(), "had not authenticated") || ctx.Err() == nil {
		t.Errorf("the wait for an unknown key ended before its deadline: %v", err)
	}
}
