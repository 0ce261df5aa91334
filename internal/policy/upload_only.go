package policy

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Statement ids of the upload-only policy. They are part of the shipped contract: Equivalent
// compares Sids, so changing one shows as drift on every existing user.
const (
	SidPutObjects      = "PutObjectsInBucket"
	SidListAllBuckets  = "ListAllMyBucketsForPreflight"
	actionPutObject    = "s3:PutObject"
	actionListBuckets  = "s3:ListAllMyBuckets"
	maxKeyPrefixLength = 1024 // S3's limit for a whole key, in UTF-8 bytes.
)

// UploadOnlyInput describes the upload-only identity policy.
type UploadOnlyInput struct {
	// Partition goes into every ARN; "" means "aws".
	Partition string
	// Bucket is the only bucket the user may write to.
	Bucket string
	// KeyPrefix narrows uploads to keys starting with it ("" = the whole bucket). It is used
	// verbatim: "media/" keeps uploads inside media/, "media" also allows "media-old/...".
	KeyPrefix string
	// ExtraActions are further S3 actions granted on the same resources, for explicit opt-in only
	// (for example s3:AbortMultipartUpload for multipart uploads).
	ExtraActions []string
}

// UploadOnly builds the blog post's identity policy for the upload user: s3:PutObject on the
// bucket and its objects, plus s3:ListAllMyBuckets on every bucket. The second statement is the
// one the blog's author was missing: tools that list buckets before writing, like the post's
// migration script, fail with Access Denied without it.
func UploadOnly(in UploadOnlyInput) (Document, error) {
	partition, err := resolveTarget(in.Partition, in.Bucket)
	if err != nil {
		return Document{}, err
	}
	if err := validateKeyPrefix(in.KeyPrefix); err != nil {
		return Document{}, err
	}
	actions, err := uploadActions(in.ExtraActions)
	if err != nil {
		return Document{}, err
	}
	doc := Document{
		Version: Version,
		Statement: []Statement{
			{
				Sid:    SidPutObjects,
				Effect: "Allow",
				Action: actions,
				Resource: []string{
					BucketARN(partition, in.Bucket),
					ObjectsARN(partition, in.Bucket, in.KeyPrefix),
				},
			},
			{
				Sid:      SidListAllBuckets,
				Effect:   "Allow",
				Action:   actionListBuckets,
				Resource: BucketARN(partition, "*"),
			},
		},
	}
	if err := doc.checkSize(MaxUserInlinePolicyChars, "upload-only policy"); err != nil {
		return Document{}, fmt.Errorf("%w (IAM counts all inline policies of a user together)", err)
	}
	return doc, nil
}

// actionRE is the shape of one S3 action: the service prefix and a name without wildcards.
// Wildcards are refused because the point of ExtraActions is an explicit, reviewable grant.
var actionRE = regexp.MustCompile(`^s3:[A-Za-z][A-Za-z0-9]*$`)

// uploadActions returns s3:PutObject followed by the extra actions, sorted and deduplicated.
// IAM action names are case-insensitive, so "s3:putobject" counts as a duplicate of s3:PutObject.
func uploadActions(extra []string) ([]string, error) {
	seen := map[string]bool{strings.ToLower(actionPutObject): true}
	var errs []error
	var added []string
	for _, a := range extra {
		if !actionRE.MatchString(a) {
			errs = append(errs, fmt.Errorf("extra action %q is not an S3 action name: write it as s3:Name, for example s3:AbortMultipartUpload (no wildcards)", a))
			continue
		}
		key := strings.ToLower(a)
		if seen[key] {
			continue
		}
		seen[key] = true
		added = append(added, a)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.SortFunc(added, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return append([]string{actionPutObject}, added...), nil
}

// validateKeyPrefix rejects prefixes that would put something other than a literal key prefix
// into the Resource ARN.
func validateKeyPrefix(p string) error {
	switch {
	case p == "":
		return nil
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("key prefix %q starts with \"/\": S3 keys have no leading slash, write %q", p, strings.TrimLeft(p, "/"))
	case len(p) > maxKeyPrefixLength:
		return fmt.Errorf("key prefix is %d bytes long, over S3's key limit of %d", len(p), maxKeyPrefixLength)
	case !utf8.ValidString(p):
		return fmt.Errorf("key prefix %q is not valid UTF-8", p)
	case strings.ContainsAny(p, "*?"):
		// In a Resource ARN * and ? are wildcards, so they would widen the grant beyond the prefix.
		return fmt.Errorf("key prefix %q contains * or ?, which IAM treats as wildcards: use a literal prefix", p)
	case strings.Contains(p, "${"):
		// Version 2012-10-17 substitutes ${...} policy variables inside Resource values.
		return fmt.Errorf("key prefix %q contains \"${\", which IAM reads as a policy variable: use a literal prefix", p)
	case strings.ContainsFunc(p, unicode.IsControl):
		return fmt.Errorf("key prefix %q contains a control character", p)
	}
	return nil
}
