package tfoutput

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/staticmedia/staticmedia/internal/testbed"
)

// secret is the secret access key written in testdata; no error may ever contain it.
const secret = "SECRETdoNotLeak/0123456789abcdefghijklmn"

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file    string
		name    string
		want    Settings
		wantErr []string // substrings the error must contain
	}{
		{file: "full.json", name: "uploader", want: Settings{
			Bucket: "media", Region: "us-east-1", AccessKeyID: "AKIAEXAMPLEUPLOADER1", SecretAccessKey: secret,
			Endpoint: "http://127.0.0.1:9000", PublicBaseURL: "https://media.s3.us-east-1.amazonaws.com/", KeyPrefix: "media/",
			AllowedReferers: []string{"https://www.example.com/*", "https://*.example.com/*"},
		}},
		{file: "minimal.json", name: "uploader", want: Settings{Bucket: "media", Region: "eu-west-3"}},
		// OpenTofu prints CLI warnings on stdout, before output -json's document.
		{file: "tofu_warning_first.txt", name: "uploader", want: Settings{Bucket: "media", Region: "eu-west-3"}},
		{file: "nulls.json", name: "uploader", want: Settings{Bucket: "media", Region: "us-east-1"}},
		{file: "other_name.json", name: "media_uploader", want: Settings{Bucket: "photos", Region: "us-west-2"}},
		{file: "other_name.json", name: "uploader", wantErr: []string{`"uploader" not found`, "present: media_uploader, site_url", "--tf-output-name"}},
		{file: "empty_object.json", name: "uploader", wantErr: []string{`"uploader" not found`, "there are none"}},
		{file: "missing_region.json", name: "uploader", wantErr: []string{`has no "region"`}},
		{file: "wrong_type.json", name: "uploader", wantErr: []string{`key "region" must be a string, got a number`}},
		{file: "not_object.json", name: "uploader", wantErr: []string{"must be an object", "but is a string"}},
		{file: "half_key.json", name: "uploader", wantErr: []string{"both access_key_id and secret_access_key, or neither"}},
		{file: "plain_output.txt", name: "uploader", wantErr: []string{"not valid JSON", "terraform output -json"}},
		{file: "truncated.json", name: "uploader", wantErr: []string{"not valid JSON"}},
		{file: "null_value.json", name: "uploader", wantErr: []string{"has no value", "terraform apply"}},
		{file: "referers_not_list.json", name: "uploader", wantErr: []string{`key "allowed_referers" must be a list of strings, got a string`}},
		{file: "referers_not_strings.json", name: "uploader", wantErr: []string{`key "allowed_referers" must be a list of strings, got a list with an element that is not a string`}},
		{file: "referers_empty_pattern.json", name: "uploader", wantErr: []string{`key "allowed_referers" has an empty pattern at index 1`}},
		{file: "role.json", name: "uploader", want: Settings{Bucket: "media", Region: "us-east-1", RoleARN: "arn:aws:iam::123456789012:role/ci/staticmedia-upload"}},
		{file: "role_arn_china.json", name: "uploader", want: Settings{Bucket: "media", Region: "cn-north-1", RoleARN: "arn:aws-cn:iam::123456789012:role/upload"}},
		{file: "role_and_key.json", name: "uploader", wantErr: []string{"both role_arn and an access key", "keep one", "OIDC token"}},
		{file: "role_arn_secret.json", name: "uploader", wantErr: []string{`key "role_arn" is not an IAM role ARN`, "six colon-separated parts", "arn:PARTITION:iam::ACCOUNT:role/NAME"}},
		{file: "role_arn_user.json", name: "uploader", wantErr: []string{`key "role_arn" is not an IAM role ARN`, "names no role", "staticmedia_upload_role"}},
		{file: "role_arn_account.json", name: "uploader", wantErr: []string{`key "role_arn" is not an IAM role ARN`, "account is not 12 digits"}},
		{file: "role_arn_service.json", name: "uploader", wantErr: []string{`key "role_arn" is not an IAM role ARN`, "service is not iam"}},
		{file: "role_arn_region.json", name: "uploader", wantErr: []string{`key "role_arn" is not an IAM role ARN`, "no region"}},
		{file: "role_arn_no_name.json", name: "uploader", wantErr: []string{`key "role_arn" is not an IAM role ARN`, "role name is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := os.Open(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := Parse(f, tt.name)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("Parse() = %v, want an error", got)
				}
				for _, sub := range tt.wantErr {
					if !strings.Contains(err.Error(), sub) {
						t.Errorf("error %q does not contain %q", err, sub)
					}
				}
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error leaks the secret: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse() error = %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse() = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestParseEmptyInput(t *testing.T) {
	t.Parallel()
	_, err := Parse(strings.NewReader("  \n"), DefaultName)
	if err == nil || !strings.Contains(err.Error(), "terraform output -json") {
		t.Fatalf("Parse(empty) error = %v, want a hint about terraform output -json", err)
	}
}

// TestSettingsFormattingHidesSecret guards against a Settings value reaching a log line.
func TestSettingsFormattingHidesSecret(t *testing.T) {
	t.Parallel()
	s := Settings{Bucket: "media", Region: "us-east-1", AccessKeyID: "AKIA", SecretAccessKey: secret}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(verb, s)
		if strings.Contains(out, secret) {
			t.Errorf("%s prints the secret: %s", verb, out)
		}
		if !strings.Contains(out, "bucket=media") {
			t.Errorf("%s lost the bucket: %s", verb, out)
		}
	}
}

// TestFromDir runs the real terraform binary on a module whose only content is outputs, so no
// provider is needed.
func TestFromDir(t *testing.T) {
	if _, err := exec.LookPath("terraform"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("terraform is not on PATH")
		}
		t.Skip("SKIPPING: terraform is not on PATH")
	}
	t.Parallel()
	dir := t.TempDir()
	mod := `output "uploader" {
  sensitive = true
  value = {
    bucket            = "media"
    region            = "us-east-1"
    access_key_id     = "AKIAEXAMPLEUPLOADER1"
    secret_access_key = "` + secret + `"
    endpoint          = null
    key_prefix        = "img/"
    allowed_referers  = ["https://example.com/*", "https://*.example.com/*"]
  }
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(mod), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	bin, err := FindBinary("terraform")
	if err != nil {
		t.Fatal(err)
	}
	// Before apply there is no state: terraform prints {} and the error says so.
	if _, err := FromDir(ctx, bin, dir, DefaultName); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("FromDir before apply: error = %v, want output not found", err)
	}
	apply := exec.CommandContext(ctx, "terraform", "-chdir="+dir, "apply", "-auto-approve", "-input=false", "-no-color")
	apply.Env = append(os.Environ(), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
	if out, err := apply.CombinedOutput(); err != nil {
		t.Fatalf("terraform apply: %v\n%s", err, out)
	}
	got, err := FromDir(ctx, bin, dir, DefaultName)
	if err != nil {
		t.Fatalf("FromDir: %v", err)
	}
	want := Settings{Bucket: "media", Region: "us-east-1", AccessKeyID: "AKIAEXAMPLEUPLOADER1", SecretAccessKey: secret, KeyPrefix: "img/",
		AllowedReferers: []string{"https://example.com/*", "https://*.example.com/*"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FromDir = %#v, want %#v", got, want)
	}

	_, err = FromDir(ctx, bin, filepath.Join(dir, "does-not-exist"), DefaultName)
	if err == nil || !strings.Contains(err.Error(), "terraform -chdir=") {
		t.Fatalf("FromDir(missing dir) error = %v, want the failed command named", err)
	}
}

// TestFindBinary runs --tf-dir's client choice against real PATHs: terraform when it is there,
// else tofu (here a symlink to the terraform binary, which prints the same `output -json`), else
// an error naming both.
func TestFindBinary(t *testing.T) {
	terraform, err := exec.LookPath("terraform")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("terraform is not on PATH")
		}
		t.Skip("SKIPPING: terraform is not on PATH")
	}
	// A module with only outputs, applied once with the real terraform.
	mod := t.TempDir()
	if err := os.WriteFile(filepath.Join(mod, "main.tf"), []byte(`output "uploader" {
  value = { bucket = "media", region = "us-east-1", role_arn = "arn:aws:iam::123456789012:role/upload" }
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	apply := exec.Command(terraform, "-chdir="+mod, "apply", "-auto-approve", "-input=false", "-no-color")
	apply.Env = append(os.Environ(), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
	if out, err := apply.CombinedOutput(); err != nil {
		t.Fatalf("terraform apply: %v\n%s", err, out)
	}
	want := Settings{Bucket: "media", Region: "us-east-1", RoleARN: "arn:aws:iam::123456789012:role/upload"}

	// pathWith returns a PATH directory holding symlinks to terraform under the given names.
	pathWith := func(names ...string) string {
		dir := t.TempDir()
		for _, n := range names {
			if err := os.Symlink(terraform, filepath.Join(dir, n)); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	// A real OpenTofu (make engines builds one into .bin/) reads the same state as well, also when
	// TF_CLI_CONFIG_FILE names a missing file and tofu prints its warning on stdout before the JSON.
	t.Run("real tofu", func(t *testing.T) {
		tofu := testbed.Require(t, "tofu", "make engines (builds the OpenTofu pinned in .ci/versions into .bin/)")
		t.Setenv("TF_CLI_CONFIG_FILE", filepath.Join(t.TempDir(), "missing.tfrc"))
		got, err := FromDir(context.Background(), tofu, mod, DefaultName)
		if err != nil {
			t.Fatalf("FromDir with %s: %v", tofu, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("FromDir with %s = %#v, want %#v", tofu, got, want)
		}
	})
	onlyTofu := pathWith("tofu")
	both := pathWith("terraform", "tofu")
	neither := pathWith()

	tests := []struct {
		name, path, flag string
		want             string   // the binary chosen
		wantErr          []string // substrings of the error
	}{
		{name: "only tofu on PATH", path: onlyTofu, want: filepath.Join(onlyTofu, "tofu")},
		{name: "both on PATH", path: both, want: filepath.Join(both, "terraform")},
		{name: "neither on PATH", path: neither, wantErr: []string{"terraform or tofu", "neither is on PATH", "--tf-binary PATH", "--tf-output -"}},
		{name: "--tf-binary tofu", path: both, flag: "tofu", want: filepath.Join(both, "tofu")},
		{name: "--tf-binary as a path", path: neither, flag: filepath.Join(onlyTofu, "tofu"), want: filepath.Join(onlyTofu, "tofu")},
		{name: "--tf-binary not found", path: both, flag: "tofu-1.12", wantErr: []string{"--tf-binary tofu-1.12"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PATH", tt.path)
			bin, err := FindBinary(tt.flag)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("FindBinary(%q) = %s, want an error", tt.flag, bin)
				}
				for _, sub := range tt.wantErr {
					if !strings.Contains(err.Error(), sub) {
						t.Errorf("error %q does not contain %q", err, sub)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("FindBinary(%q): %v", tt.flag, err)
			}
			if bin != tt.want {
				t.Fatalf("FindBinary(%q) = %s, want %s", tt.flag, bin, tt.want)
			}
			got, err := FromDir(context.Background(), bin, mod, DefaultName)
			if err != nil {
				t.Fatalf("FromDir with %s: %v", bin, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("FromDir with %s = %#v, want %#v", bin, got, want)
			}
			// A failure names the client that ran.
			_, err = FromDir(context.Background(), bin, filepath.Join(mod, "missing"), DefaultName)
			if err == nil || !strings.HasPrefix(err.Error(), filepath.Base(bin)+" -chdir=") {
				t.Errorf("FromDir(missing dir) with %s: error = %v, want it to name %s", bin, err, filepath.Base(bin))
			}
		})
	}
}
