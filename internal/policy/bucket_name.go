package policy

import (
	"fmt"
	"regexp"
	"strings"
)

// Reserved bucket-name affixes, from the S3 general purpose bucket naming rules. S3 refuses to
// create such buckets; checking here turns the apply-time InvalidBucketName into a plan-time error.
var (
	reservedBucketPrefixes = []string{"xn--", "sthree-", "amzn-s3-demo-"}
	reservedBucketSuffixes = []string{
		"-s3alias",   // access point aliases
		"--ol-s3",    // Object Lambda access point aliases
		".mrap",      // Multi-Region Access Points
		"--x-s3",     // directory buckets
		"--table-s3", // table buckets
	}
	ipLikeRE = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$`)
)

// ValidateBucketName checks a name against the S3 naming rules for general purpose buckets:
// 3 to 63 characters of lower-case letters, digits, dots and hyphens; a letter or digit first and
// last; no two adjacent dots; not shaped like an IPv4 address; none of the reserved prefixes
// (xn--, sthree-, amzn-s3-demo-) or suffixes (-s3alias, --ol-s3, .mrap, --x-s3, --table-s3).
// Legacy us-east-1 names with capitals or underscores are refused: S3 no longer creates them and
// they cannot be addressed virtual-hosted style.
func ValidateBucketName(name string) error {
	if n := len(name); n < 3 || n > 63 {
		return fmt.Errorf("bucket name %q is %d characters long: S3 bucket names are 3 to 63 characters", name, n)
	}
	for _, r := range name {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '.' && r != '-' {
			return fmt.Errorf("bucket name %q contains %q: use only lower-case letters, digits, dots and hyphens", name, r)
		}
	}
	if !isLowerAlnum(name[0]) || !isLowerAlnum(name[len(name)-1]) {
		return fmt.Errorf("bucket name %q must begin and end with a lower-case letter or a digit", name)
	}
	if strings.Contains(name, "..") {
		return fmt.Errorf("bucket name %q contains two adjacent dots", name)
	}
	if ipLikeRE.MatchString(name) {
		return fmt.Errorf("bucket name %q is formatted like an IP address, which S3 does not allow", name)
	}
	for _, p := range reservedBucketPrefixes {
		if strings.HasPrefix(name, p) {
			return fmt.Errorf("bucket name %q starts with %q, a prefix S3 reserves", name, p)
		}
	}
	for _, s := range reservedBucketSuffixes {
		if strings.HasSuffix(name, s) {
			return fmt.Errorf("bucket name %q ends with %q, a suffix S3 reserves", name, s)
		}
	}
	return nil
}

func isLowerAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}
