// Package policy builds the IAM policy documents staticmedia ships and compares policies read
// back from AWS.
//
// The documents are the ones from the blog post the project started from: an identity policy that
// lets a dedicated IAM user upload into one bucket and nothing else (UploadOnly), and a bucket
// policy that lets anyone GET objects when the HTTP Referer is one of the site's pages or absent
// (RefererRead). A third is the trust policy of the upload role, which carries the first as its
// identity policy and which CI jobs assume with their OIDC token (CITrust). The Terraform resources
// and the provider functions call this package, so the JSON a user sees in `policy_json` and the
// JSON a function returns are byte-for-byte the same.
//
// The package is pure on purpose: no Terraform types and no AWS SDK types, so it can be
// golden-tested on its own and reused by anything that needs the same documents.
package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	awspolicy "github.com/hashicorp/awspolicyequivalence"
)

// Version is the policy language version every document uses. 2012-10-17 is the only version
// that understands policy variables, and AWS recommends it for every new policy.
const Version = "2012-10-17"

// DefaultPartition is the partition used when an input leaves Partition empty.
const DefaultPartition = "aws"

// Size limits AWS enforces when a policy is stored. Checking them here turns an apply-time
// LimitExceeded/MalformedPolicy into a plan-time error that names the cause.
const (
	// MaxBucketPolicyBytes is the largest bucket policy S3 accepts (20 KB).
	MaxBucketPolicyBytes = 20 * 1024
	// MaxUserInlinePolicyChars is the aggregate size IAM allows for a user's inline policies,
	// whitespace excluded. The upload user carries exactly one inline policy.
	MaxUserInlinePolicyChars = 2048
)

// Document is an IAM policy document. Field order matches the blog post so the generated JSON
// reads like the documents people already know.
type Document struct {
	Version   string      `json:"Version"`
	ID        string      `json:"Id,omitempty"`
	Statement []Statement `json:"Statement"`
}

// Statement is one policy statement. Principal, Action and Resource are `any` because the policy
// grammar allows either a single string or a list, and the documents we ship use both forms
// exactly as the blog post does (a list for the upload actions, a string for ListAllMyBuckets).
// Builders in this package only store string, []string or map[string]any values in them.
// Resource is left out when empty: a role's trust policy must not have one (IAM refuses it).
type Statement struct {
	Sid       string                    `json:"Sid,omitempty"`
	Effect    string                    `json:"Effect"`
	Principal any                       `json:"Principal,omitempty"`
	Action    any                       `json:"Action"`
	Resource  any                       `json:"Resource,omitempty"`
	Condition map[string]map[string]any `json:"Condition,omitempty"`
}

// JSON renders the document indented by two spaces. The output is deterministic: struct fields
// keep their declared order and encoding/json sorts map keys (Condition operators and keys).
// HTML escaping is off so a Referer pattern containing & or < stays readable and identical to
// what AWS returns when the policy is read back.
func (d Document) JSON() (string, error) {
	b, err := d.encode("  ")
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// encode marshals the document without HTML escaping; indent "" means compact.
func (d Document) encode(indent string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("encode policy document: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// checkSize returns an error when the compact document is longer than limit. Compact JSON has no
// whitespace outside strings, which is how both S3 and IAM measure policies.
func (d Document) checkSize(limit int, what string) error {
	b, err := d.encode("")
	if err != nil {
		return err
	}
	if len(b) > limit {
		return fmt.Errorf("the %s is %d characters long, over the AWS limit of %d: use fewer or shorter values", what, len(b), limit)
	}
	return nil
}

// Equivalent reports whether two policy JSON strings grant the same thing, the way Terraform
// providers decide whether a policy read back from AWS has drifted. AWS reformats stored policies
// (compact JSON, reordered keys, single-element lists collapsed, booleans returned as strings),
// so a byte comparison would show a perpetual diff.
//
// It relies on github.com/hashicorp/awspolicyequivalence, which ignores whitespace, key order,
// statement order, the order inside Action/Resource/condition value lists, "x" versus ["x"], and
// true versus "true". It does NOT ignore Sid, Id or Version: a statement whose Sid changed is
// reported as different. That is deliberate for drift detection (AWS returns Sids verbatim).
//
// On top of the library, Principal "*" and {"AWS": "*"} are treated as equal: AWS documents them
// as equivalent, and S3-compatible engines such as MinIO return the second form for a policy
// written with the first.
func Equivalent(a, b string) (bool, error) {
	na, err := normalizePrincipals(a)
	if err != nil {
		return false, fmt.Errorf("first policy is not valid JSON: %w", err)
	}
	nb, err := normalizePrincipals(b)
	if err != nil {
		return false, fmt.Errorf("second policy is not valid JSON: %w", err)
	}
	eq, err := awspolicy.PoliciesAreEquivalent(na, nb)
	if err != nil {
		return false, fmt.Errorf("compare policies: %w", err)
	}
	return eq, nil
}

// PreferEquivalent returns the first non-empty candidate that grants the same as target, or target
// when none does or a candidate cannot be compared. Providers use it to keep the policy string already in
// the state (or the canonical rendering) when AWS hands back a reformatted but equivalent document, so
// plans show a change only when the grant changed.
func PreferEquivalent(target string, candidates ...string) string {
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if eq, err := Equivalent(c, target); err == nil && eq {
			return c
		}
	}
	return target
}

// normalizePrincipals rewrites Principal/NotPrincipal "*" as {"AWS": "*"} in every statement.
// Input that is not a JSON object (the library also accepts a one-element JSON list, and treats
// "" as {}) is passed through unchanged for the library to judge.
func normalizePrincipals(doc string) (string, error) {
	trimmed := strings.TrimSpace(doc)
	if !strings.HasPrefix(trimmed, "{") {
		return doc, nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(trimmed), &m); err != nil {
		return "", err
	}
	changed := false
	rewrite := func(st any) {
		s, ok := st.(map[string]any)
		if !ok {
			return
		}
		for _, k := range []string{"Principal", "NotPrincipal"} {
			if v, ok := s[k].(string); ok && v == "*" {
				s[k] = map[string]any{"AWS": "*"}
				changed = true
			}
		}
	}
	switch st := m["Statement"].(type) {
	case []any:
		for _, s := range st {
			rewrite(s)
		}
	case map[string]any:
		rewrite(st)
	}
	if !changed {
		return doc, nil
	}
	out, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// partitionRE accepts every current AWS partition name (aws, aws-cn, aws-us-gov, aws-iso-b, ...)
// without pinning a list that would go stale when AWS adds one.
var partitionRE = regexp.MustCompile(`^aws(-[a-z0-9]+)*$`)

// ValidatePartition checks an explicit partition name ("aws", "aws-cn", "aws-us-gov", ...).
func ValidatePartition(p string) error {
	if !partitionRE.MatchString(p) {
		return fmt.Errorf("partition %q is not an AWS partition name: use aws, aws-cn, aws-us-gov or another partition's name", p)
	}
	return nil
}

// resolvePartition returns the partition to put in ARNs, defaulting to "aws".
func resolvePartition(p string) (string, error) {
	if p == "" {
		return DefaultPartition, nil
	}
	if err := ValidatePartition(p); err != nil {
		return "", fmt.Errorf("%w, or leave it empty for aws", err)
	}
	return p, nil
}

// resolveTarget validates the bucket and returns the partition both documents put in their ARNs.
func resolveTarget(partition, bucket string) (string, error) {
	p, err := resolvePartition(partition)
	if err != nil {
		return "", err
	}
	if err := ValidateBucketName(bucket); err != nil {
		return "", err
	}
	return p, nil
}

// BucketARN returns the ARN of a bucket. An empty partition means "aws". It does not validate:
// callers that take user input go through UploadOnly/RefererRead or ValidateBucketName.
func BucketARN(partition, bucket string) string {
	if partition == "" {
		partition = DefaultPartition
	}
	return "arn:" + partition + ":s3:::" + bucket
}

// ObjectsARN returns the ARN pattern matching every object whose key starts with keyPrefix
// ("arn:aws:s3:::bucket/*" when the prefix is empty). The prefix is used verbatim, so "uploads"
// also matches "uploads-old/x"; pass "uploads/" to stay inside the folder.
func ObjectsARN(partition, bucket, keyPrefix string) string {
	return BucketARN(partition, bucket) + "/" + keyPrefix + "*"
}
