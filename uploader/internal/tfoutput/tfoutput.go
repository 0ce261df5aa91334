// Package tfoutput reads the uploader's settings from `terraform output -json`.
//
// The root module defines one output (named "uploader" by default) whose value is an object with
// the bucket, region, the upload-only credentials (an access key, or the ARN of a role CI assumes
// with its OIDC token) and a few optional settings. Errors name the
// output and the key at fault and never contain a value: the object carries a secret key.
package tfoutput

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// DefaultName is the output the uploader reads unless told otherwise.
const DefaultName = "uploader"

// Settings is the value of the uploader output.
type Settings struct {
	Bucket          string
	Region          string
	AccessKeyID     string
	SecretAccessKey string
	// RoleARN is the upload-only role CI assumes with its OIDC token (AssumeRoleWithWebIdentity),
	// instead of an access key; the two are exclusive.
	RoleARN string
	// Endpoint overrides the S3 endpoint (local engines); empty means AWS's.
	Endpoint      string
	PublicBaseURL string
	KeyPrefix     string
	// AllowedReferers are the Referer patterns of the bucket's read policy, when the output
	// lists them (optional): verify derives its default --referer from the first.
	AllowedReferers []string
}

// String never prints the secret, so a Settings value is safe in a log line or a %v.
func (s Settings) String() string {
	secret := ""
	if s.SecretAccessKey != "" {
		secret = "(set)"
	}
	return fmt.Sprintf("bucket=%s region=%s access_key_id=%s secret_access_key=%s role_arn=%s endpoint=%s public_base_url=%s key_prefix=%q allowed_referers=%q",
		s.Bucket, s.Region, s.AccessKeyID, secret, s.RoleARN, s.Endpoint, s.PublicBaseURL, s.KeyPrefix, s.AllowedReferers)
}

// GoString keeps %#v as safe as %v.
func (s Settings) GoString() string { return "tfoutput.Settings{" + s.String() + "}" }

// output is one entry of `terraform output -json`.
type output struct {
	Sensitive bool            `json:"sensitive"`
	Type      json.RawMessage `json:"type"`
	Value     json.RawMessage `json:"value"`
}

// field describes one key of the output's value object.
type field struct {
	name     string
	required bool
	dst      func(*Settings) *string
}

var fields = []field{
	{"bucket", true, func(s *Settings) *string { return &s.Bucket }},
	{"region", true, func(s *Settings) *string { return &s.Region }},
	{"access_key_id", false, func(s *Settings) *string { return &s.AccessKeyID }},
	{"secret_access_key", false, func(s *Settings) *string { return &s.SecretAccessKey }},
	{"role_arn", false, func(s *Settings) *string { return &s.RoleARN }},
	{"endpoint", false, func(s *Settings) *string { return &s.Endpoint }},
	{"public_base_url", false, func(s *Settings) *string { return &s.PublicBaseURL }},
	{"key_prefix", false, func(s *Settings) *string { return &s.KeyPrefix }},
}

// Parse reads the JSON printed by `terraform output -json` and returns the settings in the output
// called name.
func Parse(r io.Reader, name string) (Settings, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return Settings{}, fmt.Errorf("reading terraform outputs: %w", err)
	}
	return ParseBytes(data, name)
}

// ParseBytes is Parse on a byte slice.
func ParseBytes(data []byte, name string) (Settings, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return Settings{}, errors.New("terraform outputs are empty: pass the JSON printed by `terraform output -json` (was the configuration applied?)")
	}
	var outputs map[string]output
	if err := json.Unmarshal(skipCLIWarnings(data), &outputs); err != nil {
		// The decoder's message can quote input text; only its position is kept, since the
		// input holds a secret.
		return Settings{}, fmt.Errorf("terraform outputs are not valid JSON (%s): pass the JSON printed by `terraform output -json`, not `terraform output`", jsonErrorPosition(err))
	}
	out, ok := outputs[name]
	if !ok {
		names := make([]string, 0, len(outputs))
		for n := range outputs {
			names = append(names, n)
		}
		slices.Sort(names)
		present := "there are none: was the configuration applied?"
		if len(names) > 0 {
			present = "present: " + strings.Join(names, ", ")
		}
		return Settings{}, fmt.Errorf("terraform output %q not found (%s); define it in the root module (see examples/quickstart/outputs.tf) or pick another with --tf-output-name", name, present)
	}
	if len(out.Value) == 0 || string(out.Value) == "null" {
		return Settings{}, fmt.Errorf("terraform output %q has no value: run terraform apply first", name)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(out.Value, &obj); err != nil {
		return Settings{}, fmt.Errorf("terraform output %q must be an object with bucket, region, ... but is %s", name, jsonKind(out.Value))
	}
	var s Settings
	for _, f := range fields {
		raw, present := obj[f.name]
		if !present || string(raw) == "null" {
			if f.required {
				return Settings{}, fmt.Errorf("terraform output %q has no %q: add it to the output's value object", name, f.name)
			}
			continue
		}
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return Settings{}, fmt.Errorf("terraform output %q key %q must be a string, got %s", name, f.name, jsonKind(raw))
		}
		if f.required && strings.TrimSpace(v) == "" {
			return Settings{}, fmt.Errorf("terraform output %q key %q is empty", name, f.name)
		}
		*f.dst(&s) = v
	}
	if raw, ok := obj["allowed_referers"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &s.AllowedReferers); err != nil {
			got := jsonKind(raw)
			if got == "a list" {
				got = "a list with an element that is not a string"
			}
			return Settings{}, fmt.Errorf("terraform output %q key %q must be a list of strings, got %s", name, "allowed_referers", got)
		}
		for i, p := range s.AllowedReferers {
			if strings.TrimSpace(p) == "" {
				return Settings{}, fmt.Errorf("terraform output %q key %q has an empty pattern at index %d", name, "allowed_referers", i)
			}
		}
	}
	if (s.AccessKeyID == "") != (s.SecretAccessKey == "") {
		return Settings{}, fmt.Errorf("terraform output %q must have both access_key_id and secret_access_key, or neither (to use role_arn or the default AWS credential chain)", name)
	}
	if s.RoleARN != "" {
		if s.AccessKeyID != "" {
			return Settings{}, fmt.Errorf("terraform output %q has both role_arn and an access key (access_key_id, secret_access_key): keep one, "+
				"role_arn for CI that assumes the upload role with its OIDC token (no long-lived secret), or the key", name)
		}
		if err := checkRoleARN(s.RoleARN); err != nil {
			return Settings{}, fmt.Errorf("terraform output %q key %q is not an IAM role ARN: %w; expected arn:PARTITION:iam::ACCOUNT:role/NAME, "+
				"as staticmedia_upload_role's arn attribute", name, "role_arn", err)
		}
	}
	return s, nil
}

// checkRoleARN checks the shape arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME. Its errors describe
// the part at fault without quoting it: a value in the wrong key could be a secret.
func checkRoleARN(arn string) error {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return errors.New("it does not start with arn: and have six colon-separated parts")
	}
	partition, service, region, account, resource := parts[1], parts[2], parts[3], parts[4], parts[5]
	switch {
	case partition == "":
		return errors.New("its partition is empty")
	case service != "iam":
		return errors.New("its service is not iam")
	case region != "":
		return errors.New("IAM ARNs have no region")
	case len(account) != 12 || strings.Trim(account, "0123456789") != "":
		return errors.New("its account is not 12 digits")
	case !strings.HasPrefix(resource, "role/"):
		return errors.New("it names no role (the resource must start with role/)")
	case strings.HasSuffix(resource, "/") || strings.ContainsAny(resource, " \t\n"):
		return errors.New("its role name is empty or has white space")
	}
	return nil
}

// FindBinary returns the path of the Terraform client to run: name (a command on PATH or a path)
// when given, else terraform if it is on PATH, else tofu (OpenTofu prints the same
// `output -json`).
func FindBinary(name string) (string, error) {
	if name != "" {
		bin, err := exec.LookPath(name)
		if err != nil {
			return "", fmt.Errorf("--tf-binary %s: %w", name, err)
		}
		return bin, nil
	}
	for _, candidate := range []string{"terraform", "tofu"} {
		if bin, err := exec.LookPath(candidate); err == nil {
			return bin, nil
		}
	}
	return "", errors.New("--tf-dir runs terraform or tofu, and neither is on PATH: install one, pass --tf-binary PATH, " +
		"or pipe `terraform output -json` into --tf-output -")
}

// FromDir runs `BIN -chdir=dir output -json` (bin is terraform or tofu, see FindBinary) and parses
// its output.
func FromDir(ctx context.Context, bin, dir, name string) (Settings, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "-chdir="+dir, "output", "-json")
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		// The client's stderr describes the problem (no state, not initialised) and holds no output values.
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = "no message"
		}
		return Settings{}, fmt.Errorf("%s -chdir=%s output -json failed: %w: %s", filepath.Base(bin), dir, err, msg)
	}
	return ParseBytes(stdout.Bytes(), name)
}

// skipCLIWarnings drops what the CLI printed before the JSON document. OpenTofu writes its
// warnings (such as "Unable to open CLI configuration file" when TF_CLI_CONFIG_FILE names a missing
// file) to stdout ahead of `output -json`'s object, so a pipe from tofu carries them; the document
// itself starts on a line of its own with '{'. Input without such a line is returned unchanged and
// fails as before.
func skipCLIWarnings(data []byte) []byte {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] == '{' {
		return data
	}
	if i := bytes.Index(data, []byte("\n{")); i >= 0 {
		return data[i+1:]
	}
	return data
}

// jsonKind names the JSON type of a raw value for "expected X, got Y" messages, without the value.
func jsonKind(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "nothing"
	}
	switch t[0] {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "a bool"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

func jsonErrorPosition(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return fmt.Sprintf("expected an object of outputs, got a JSON %s", typ.Value)
	}
	return "unexpected end of input"
}
