package provider

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/staticmedia/staticmedia/internal/testbed"
)

// awsEnvironment is every variable through which the environment could change what the SDK resolves in
// these tests: credentials, profile, region, endpoints, retries, CA bundle.
var awsEnvironment = []string{
	"AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_SESSION_TOKEN",
	"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
	"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_STS",
	"AWS_ENDPOINT_URL_S3_CONTROL", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_USE_FIPS_ENDPOINT",
	"AWS_USE_DUALSTACK_ENDPOINT", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", "AWS_CA_BUNDLE",
	"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
}

// isolateAWSEnv unsets the AWS environment and points the shared config and credentials files into an
// empty directory, which it returns, so that a test sees only the settings it makes. The in-process
// provider reads this process's environment. It uses t.Setenv: the test cannot be parallel.
func isolateAWSEnv(t *testing.T) string {
	t.Helper()
	for _, k := range awsEnvironment {
		unsetenv(t, k)
	}
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	// Without credentials the default chain would otherwise end by probing the instance metadata service.
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return dir
}

// unsetenv removes k for the rest of the test; t.Setenv restores it afterwards. Unset, not empty: the SDK
// tells a service's endpoint variable set to "" from one that is absent.
func unsetenv(t *testing.T, k string) {
	t.Helper()
	t.Setenv(k, "")
	if err := os.Unsetenv(k); err != nil {
		t.Fatalf("unsetting %s: %v", k, err)
	}
}

// captureError is a TestCase.ErrorCheck that keeps the failed step's error, the whole of what Terraform
// printed, for assertions that ExpectError's single regexp cannot make (such as "this is NOT in it"), and
// lets the test case go on. The test must itself check that *got was set.
func captureError(got *error) resource.ErrorCheckFunc {
	return func(err error) error {
		*got = err
		return nil
	}
}

// canary is a recognisable secret value for leak checks.
func canary(kind string) string {
	return fmt.Sprintf("staticmedia-canary-%s-%016x", kind, rand.Uint64())
}

// TestAccProvider_invalidCredentials configures the provider with keys moto rejects once it enforces IAM.
// Configure's GetCallerIdentity must fail the run with "Invalid AWS Credentials", name the AWS error, create
// nothing, and never print the secret key.
func TestAccProvider_invalidCredentials(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	m.EnableIAMEnforcement(t)
	admin := adminS3(t, m)

	tests := []struct {
		name, accessKey, wantCode string
	}{
		{"unknown access key", "AKIASTATICMEDIANOKEY", "InvalidClientTokenId"},
		{"known access key, wrong secret", m.AccessKey, "SignatureDoesNotMatch"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			secret := canary("secret")
			bad := *m
			bad.AccessKey, bad.SecretKey = tt.accessKey, secret
			bucket := fmt.Sprintf("bad-credentials-%d", i)
			var got error
			resource.Test(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				ErrorCheck:               captureError(&got),
				Steps: []resource.TestStep{{
					Config: testAccMotoConfig(&bad) + fmt.Sprintf("resource \"staticmedia_bucket\" \"test\" {\n  bucket = %q\n}\n", bucket),
				}},
			})
			if got == nil {
				t.Fatal("apply with bad credentials succeeded")
			}
			out := got.Error()
			for _, want := range []*regexp.Regexp{
				phrase("Error: Invalid AWS Credentials"),
				phrase("STS GetCallerIdentity failed"),
				regexp.MustCompile(tt.wantCode),
				phrase("Check the access key, profile or environment credentials."),
			} {
				if !want.MatchString(out) {
					t.Errorf("the error output does not match %q:\n%s", want, strings.ReplaceAll(out, secret, "<SECRET>"))
				}
			}
			if strings.Contains(out, secret) {
				t.Errorf("the error output contains the secret key (shown as <SECRET>):\n%s", strings.ReplaceAll(out, secret, "<SECRET>"))
			}
			if _, err := admin.HeadBucket(context.Background(), &s3.HeadBucketInput{Bucket: aws.String(bucket)}); !isNotFound(err) {
				t.Errorf("HeadBucket %s = %v, want not found: nothing may be created with bad credentials", bucket, err)
			}
		})
	}
}

// TestAccProvider_endpointsFromEnvironment configures no endpoints block: the SDK's endpoint variables alone
// must lead STS (Configure's credential check), S3 and IAM to moto. Nothing else could reach moto, and the
// default AWS endpoints are not reachable with these keys.
func TestAccProvider_endpointsFromEnvironment(t *testing.T) {
	testAccPreCheck(t)
	// Not parallel: t.Setenv.
	tests := []struct {
		name string
		env  func(endpoint string) map[string]string
	}{
		{"per-service variables", func(ep string) map[string]string {
			return map[string]string{"AWS_ENDPOINT_URL_S3": ep, "AWS_ENDPOINT_URL_IAM": ep, "AWS_ENDPOINT_URL_STS": ep}
		}},
		{"AWS_ENDPOINT_URL", func(ep string) map[string]string {
			return map[string]string{"AWS_ENDPOINT_URL": ep}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testbed.StartMoto(t)
			admin := adminS3(t, m)
			isolateAWSEnv(t)
			for k, v := range tt.env(m.Endpoint) {
				t.Setenv(k, v)
			}
			const bucket, user = "env-endpoints", "env-uploader"
			config := fmt.Sprintf(`
provider "staticmedia" {
  region     = %[1]q
  access_key = %[2]q
  secret_key = %[3]q
}

resource "staticmedia_bucket" "media" {
  bucket = %[4]q
}

resource "staticmedia_upload_user" "uploader" {
  name   = %[5]q
  bucket = staticmedia_bucket.media.bucket
}
`, m.Region, m.AccessKey, m.SecretKey, bucket, user)

			resource.Test(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				CheckDestroy:             checkBucketGone(admin, bucket),
				Steps: []resource.TestStep{{
					Config: config,
					ConfigStateChecks: []statecheck.StateCheck{
						// The resolved endpoint counts as an override: addresses point at it, not at amazonaws.com.
						statecheck.ExpectKnownValue("staticmedia_bucket.media", tfjsonpath.New("endpoint"), knownvalue.StringExact(m.Endpoint)),
						statecheck.ExpectKnownValue("staticmedia_bucket.media", tfjsonpath.New("public_base_url"), knownvalue.StringExact(m.Endpoint+"/"+bucket+"/")),
					},
					Check: func(*terraform.State) error {
						ctx := context.Background()
						if _, err := admin.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
							return fmt.Errorf("bucket %s is not in moto: %w", bucket, err)
						}
						if _, err := adminIAM(t, m).GetUser(ctx, &iam.GetUserInput{UserName: aws.String(user)}); err != nil {
							return fmt.Errorf("user %s is not in moto: %w", user, err)
						}
						return nil
					},
				}},
			})
		})
	}
}

// TestAccProvider_s3UsePathStyle sets the S3 endpoint by host name through the environment, where path-style
// addressing is not implied (it is for an endpoints block, and the SDK chooses it by itself for an IP
// address). With s3_use_path_style every S3 request must name the bucket in the path, as the fault proxy in
// front of moto records; without it the SDK would send them to bucket.localhost.
func TestAccProvider_s3UsePathStyle(t *testing.T) {
	testAccPreCheck(t)
	// Not parallel: t.Setenv.
	m := testbed.StartMoto(t)
	admin := adminS3(t, m)
	proxy := testbed.StartFaultProxy(t, m.Endpoint, 1)
	isolateAWSEnv(t)
	s3URL := strings.Replace(proxy.URL, "127.0.0.1", "localhost", 1)
	t.Setenv("AWS_ENDPOINT_URL_S3", s3URL)
	t.Setenv("AWS_ENDPOINT_URL_STS", m.Endpoint)
	const bucket = "path-style"

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkBucketGone(admin, bucket),
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
provider "staticmedia" {
  region            = %[1]q
  access_key        = %[2]q
  secret_key        = %[3]q
  s3_use_path_style = true
}

resource "staticmedia_bucket" "media" {
  bucket = %[4]q
}
`, m.Region, m.AccessKey, m.SecretKey, bucket),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("staticmedia_bucket.media", tfjsonpath.New("public_base_url"), knownvalue.StringExact(s3URL+"/"+bucket+"/")),
			},
			Check: func(*terraform.State) error {
				exchanges := proxy.Exchanges()
				if len(exchanges) == 0 {
					return fmt.Errorf("no S3 request went through %s", s3URL)
				}
				for _, e := range exchanges {
					if e.Path != "/"+bucket && !strings.HasPrefix(e.Path, "/"+bucket+"/") {
						return fmt.Errorf("%s %s?%s does not name bucket %s in the path", e.Method, e.Path, e.Query, bucket)
					}
				}
				_, err := admin.HeadBucket(context.Background(), &s3.HeadBucketInput{Bucket: aws.String(bucket)})
				return err
			},
		}},
	})
}

// TestAccProvider_profile reads credentials and region from a named profile in temporary shared files. moto
// enforces IAM, so only the profile's key can create the bucket, and the profile's region is one no other
// setting names. A profile that is not in the files fails configuration with its name in the message.
func TestAccProvider_profile(t *testing.T) {
	testAccPreCheck(t)
	// Not parallel: t.Setenv.
	m := testbed.StartMoto(t)
	m.EnableIAMEnforcement(t)
	admin := adminS3(t, m)
	dir := isolateAWSEnv(t)
	const profile, region, bucket = "staticmedia-media", "eu-west-1", "from-profile"
	writeFile := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeFile("config", fmt.Sprintf("[profile %s]\nregion = %s\n", profile, region))
	writeFile("credentials", fmt.Sprintf("[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n", profile, m.AccessKey, m.SecretKey))

	config := func(profile string) string {
		return testAccProviderConfig(fmt.Sprintf("  profile = %q\n", profile), m.Endpoint, m.Endpoint) + fmt.Sprintf(`
resource "staticmedia_bucket" "media" {
  bucket = %q
}
`, bucket)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkBucketGone(admin, bucket),
		Steps: []resource.TestStep{
			{
				Config:      config("staticmedia-no-such-profile"),
				ExpectError: regexp.MustCompile(`(?s)Unable to Configure AWS.*staticmedia-no-such-profile`),
			},
			{
				Config: config(profile),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("staticmedia_bucket.media", tfjsonpath.New("region"), knownvalue.StringExact(region)),
				},
				Check: func(*terraform.State) error {
					_, err := admin.HeadBucket(context.Background(), &s3.HeadBucketInput{Bucket: aws.String(bucket)})
					return err
				},
			},
		},
	})
}

// TestAccProvider_credentialsNotLogged applies with TRACE logging to a file (TF_ACC_LOG_PATH, which
// terraform-plugin-testing hands to Terraform and to the in-process provider's log sink alike) and a
// recognisable secret key and session token, given in the provider block or in the environment. The log
// must hold Terraform's and the provider's own lines, and neither secret.
func TestAccProvider_credentialsNotLogged(t *testing.T) {
	testAccPreCheck(t)
	// Not parallel: t.Setenv.
	tests := []struct {
		name string
		// configure returns the provider block's credential lines, or sets the environment and returns "".
		configure func(t *testing.T, accessKey, secret, token string) string
	}{
		{"provider block", func(_ *testing.T, accessKey, secret, token string) string {
			return fmt.Sprintf("access_key = %q\n  secret_key = %q\n  token      = %q", accessKey, secret, token)
		}},
		{"environment", func(t *testing.T, accessKey, secret, token string) string {
			t.Setenv("AWS_ACCESS_KEY_ID", accessKey)
			t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
			t.Setenv("AWS_SESSION_TOKEN", token)
			return ""
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testbed.StartMoto(t) // not enforcing: it accepts any key, so the canary secrets work
			isolateAWSEnv(t)
			logFile := filepath.Join(t.TempDir(), "terraform.log")
			unsetenv(t, "TF_LOG_PATH_MASK") // it would take precedence over TF_ACC_LOG_PATH
			unsetenv(t, "TF_ACC_LOG")
			t.Setenv("TF_ACC_LOG_PATH", logFile)
			t.Setenv("TF_LOG", "TRACE")
			secret, token := canary("secret"), canary("token")
			credentials := tt.configure(t, "AKIASTATICMEDIALOGS0", secret, token)
			bucket := fmt.Sprintf("quiet-credentials-%d", i)

			resource.Test(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				CheckDestroy:             checkBucketGone(adminS3(t, m), bucket),
				Steps: []resource.TestStep{{
					Config: testAccProviderConfig(fmt.Sprintf("  region = %q\n  %s\n", m.Region, credentials), m.Endpoint, m.Endpoint) + fmt.Sprintf(`
resource "staticmedia_bucket" "media" {
  bucket = %q
}
`, bucket),
				}},
			})

			raw, err := os.ReadFile(logFile)
			if err != nil {
				t.Fatalf("reading the log: %v", err)
			}
			log := withoutHarnessConfigEcho(string(raw))
			// Without these the file would prove nothing: Terraform's calls to the provider, the framework's TRACE
			// lines, the provider's Configure line and its bucket creation.
			for _, want := range []string{
				"[TRACE] GRPCProvider.v6:", "[TRACE] sdk.framework:",
				"staticmedia: configured staticmedia provider", "staticmedia: created S3 bucket",
			} {
				if !strings.Contains(log, want) {
					t.Errorf("the %d-byte log has no %q", len(log), want)
				}
			}
			for name, value := range map[string]string{"secret key": secret, "session token": token} {
				if at := strings.Index(log, value); at >= 0 {
					line := log[strings.LastIndex(log[:at], "\n")+1:]
					line, _, _ = strings.Cut(line, "\n")
					t.Errorf("the log contains the %s %d times, first in:\n%s", name, strings.Count(log, value), strings.ReplaceAll(line, value, "<SECRET>"))
				}
			}
		})
	}
}

// logEntryStart matches the first line of an hclog entry.
var logEntryStart = regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT\S+ \[[A-Z]+\] `)

// withoutHarnessConfigEcho drops the log entries in which terraform-plugin-testing prints the test step's
// configuration (the HCL this test wrote, secrets included). They come from the test harness, not from
// Terraform or the provider; outside tests that configuration is the user's own file.
func withoutHarnessConfigEcho(log string) string {
	starts := logEntryStart.FindAllStringIndex(log, -1)
	if len(starts) == 0 {
		return log
	}
	var b strings.Builder
	b.WriteString(log[:starts[0][0]])
	for i, s := range starts {
		end := len(log)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		entry := log[s[0]:end]
		if strings.Contains(entry, "sdk.helper_resource: Setting Terraform configuration:") {
			continue
		}
		b.WriteString(entry)
	}
	return b.String()
}

// TestAccProvider_invalidSettings checks the provider block's plan-time errors. No engine is contacted.
func TestAccProvider_invalidSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, settings string
		want           *regexp.Regexp
	}{
		{"max_retries zero", "max_retries = 0", phrase("Attribute max_retries value must be between 1 and 25, got: 0")},
		{"max_retries negative", "max_retries = -1", phrase("Attribute max_retries value must be between 1 and 25, got: -1")},
		{"max_retries too many", "max_retries = 26", phrase("Attribute max_retries value must be between 1 and 25, got: 26")},
		{"s3_use_path_style not a bool", `s3_use_path_style = "sometimes"`, regexp.MustCompile(`(?s)Incorrect attribute value type.*s3_use_path_style.*a bool is required`)},
		{"endpoint without scheme", "endpoints {\n    s3 = \"127.0.0.1:9000\"\n  }", phrase("Attribute endpoints.s3 must be an http:// or https:// URL")},
		{"endpoint with another scheme", "endpoints {\n    sts = \"ftp://127.0.0.1:9\"\n  }", phrase("Attribute endpoints.sts must be an http:// or https:// URL")},
		{"access key without secret key", `access_key = "AKIAONLYTHEKEY000000"`, regexp.MustCompile(`(?s)Incomplete Static Credentials.*access_key and secret_key must be set together`)},
		{"secret key without access key", `secret_key = "only-the-secret"`, regexp.MustCompile(`(?s)Incomplete Static Credentials.*access_key and secret_key must be set together`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: fmt.Sprintf(`
provider "staticmedia" {
  region                      = "us-east-1"
  skip_credentials_validation = true
  %s
}

resource "staticmedia_bucket" "test" {
  bucket = "never-created"
}
`, tt.settings),
					PlanOnly:    true,
					ExpectError: tt.want,
				}},
			})
		})
	}
}

// isCreateBucket reports whether a request is CreateBucket: a PUT on the bucket with no subresource.
func isCreateBucket(method, path, rawQuery string) bool {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return false
	}
	q.Del("x-id")
	return method == http.MethodPut && strings.Count(strings.TrimSuffix(path, "/"), "/") == 1 && len(q) == 0
}

// TestAccProvider_maxRetries checks that max_retries is the SDK's attempts per request: the fault proxy
// answers every CreateBucket with S3's 503 SlowDown, which the SDK retries, and counts the attempts.
func TestAccProvider_maxRetries(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	proxy := testbed.StartFaultProxy(t, m.Endpoint, 1)
	proxy.SetFaults(testbed.Faults{
		SlowDown: 1,
		Match:    func(r *http.Request) bool { return isCreateBucket(r.Method, r.URL.Path, r.URL.RawQuery) },
	})
	tests := []struct {
		name, setting string
		wantAttempts  int
	}{
		{"one", "max_retries = 1", 1},
		{"two", "max_retries = 2", 2},
		{"unset is the SDK default", "", 3},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bucket := fmt.Sprintf("max-retries-%d", i)
			resource.Test(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: testAccProviderConfig(motoKeys(m)+"  "+tt.setting+"\n", proxy.URL, m.Endpoint) + fmt.Sprintf(`
resource "staticmedia_bucket" "test" {
  bucket = %q
}
`, bucket),
					ExpectError: regexp.MustCompile(`(?s)Unable to Create Bucket.*SlowDown`),
				}},
			})
			got := proxy.Count(func(e testbed.Exchange) bool {
				return isCreateBucket(e.Method, e.Path, e.Query) && strings.Trim(e.Path, "/") == bucket
			})
			if got != tt.wantAttempts {
				t.Errorf("the proxy saw %d CreateBucket attempts, want %d", got, tt.wantAttempts)
			}
		})
	}
}
