package policy

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// Identifiers of the Referer read policy. Like the upload policy's Sids they are part of the
// shipped contract, because Equivalent compares Id and Sid. The Id is the blog post's own.
const (
	RefererPolicyID     = "Permit GET requests with HTTP Referer validation"
	SidAllowedReferer   = "AllowGetWithAllowedReferer"
	SidWithoutReferer   = "AllowGetWithoutReferer"
	actionGetObject     = "s3:GetObject"
	conditionKeyReferer = "aws:Referer"
)

// RefererReadInput describes the Referer-restricted read policy.
type RefererReadInput struct {
	// Partition goes into the Resource ARN; "" means "aws".
	Partition string
	// Bucket is the bucket the policy is attached to.
	Bucket string
	// Referers are aws:Referer StringLike patterns, such as "https://*.example.com/*". They are
	// kept in the given order with exact duplicates removed; see ValidateReferer for the rules.
	Referers []string
	// AllowEmptyReferer adds the statement that allows GETs carrying no Referer at all (direct
	// visits, privacy-minded browsers, apps), as the blog post does.
	AllowEmptyReferer bool
}

// RefererRead builds the blog post's bucket policy: anyone may GET objects when the Referer
// matches one of the patterns, and, with AllowEmptyReferer, when there is no Referer.
//
// The two cases are two statements because conditions inside one statement are ANDed: a single
// statement with both StringLike and Null would require a Referer that is both present and absent.
//
// The Null condition's value is written as the string "true". The blog post writes a JSON boolean;
// IAM and S3 accept both, but condition values are strings in the policy grammar and strings are
// what AWS hands back when the policy is read, so what we write stays closer to what we read
// back. Equivalent treats true and "true" as equal, so neither form causes drift.
//
// With no patterns and AllowEmptyReferer set, the policy holds only the Null statement. With
// neither, it would grant nothing, which is an error.
func RefererRead(in RefererReadInput) (Document, error) {
	partition, err := resolveTarget(in.Partition, in.Bucket)
	if err != nil {
		return Document{}, err
	}
	patterns, err := refererPatterns(in.Referers)
	if err != nil {
		return Document{}, err
	}
	if len(patterns) == 0 && !in.AllowEmptyReferer {
		return Document{}, errors.New("the referer policy would allow nothing: give at least one referer pattern or domain, or allow requests without a Referer")
	}

	objects := ObjectsARN(partition, in.Bucket, "")
	doc := Document{Version: Version, ID: RefererPolicyID}
	if len(patterns) > 0 {
		doc.Statement = append(doc.Statement, Statement{
			Sid:       SidAllowedReferer,
			Effect:    "Allow",
			Principal: "*",
			Action:    actionGetObject,
			Resource:  objects,
			Condition: map[string]map[string]any{
				"StringLike": {conditionKeyReferer: patterns},
			},
		})
	}
	if in.AllowEmptyReferer {
		doc.Statement = append(doc.Statement, Statement{
			Sid:       SidWithoutReferer,
			Effect:    "Allow",
			Principal: "*",
			Action:    actionGetObject,
			Resource:  objects,
			Condition: map[string]map[string]any{
				"Null": {conditionKeyReferer: "true"},
			},
		})
	}
	if err := doc.checkSize(MaxBucketPolicyBytes, "referer bucket policy"); err != nil {
		return Document{}, err
	}
	return doc, nil
}

// refererPatterns validates every pattern, reporting all invalid ones at once, and returns them
// in the given order without exact duplicates.
func refererPatterns(in []string) ([]string, error) {
	return collectValid(in, func(p string) ([]string, error) {
		return []string{p}, ValidateReferer(p)
	})
}

// collectValid runs each over every input and returns the outputs in input order without exact
// duplicates. Every failing input is reported, so one plan shows all the mistakes at once.
func collectValid(in []string, each func(string) ([]string, error)) ([]string, error) {
	var errs []error
	var out []string
	seen := make(map[string]bool, len(in))
	for _, item := range in {
		vals, err := each(item)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, v := range vals {
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// ValidateReferer checks one aws:Referer StringLike pattern. AWS accepts any string there, but most
// strings can never match what a browser sends, and some match far more than intended, so the
// rules are about the Referer header browsers actually send: an absolute URL with a lower-case
// scheme and host, a path of at least "/", and no fragment.
//
//   - It must start with "http://" or "https://" (lower case: StringLike is case-sensitive).
//   - The host part (up to the first "/") must be non-empty and lower-case, made of letters,
//     digits, ".", "-", "_", ":" (port), "[" "]" (IPv6) and the wildcards "*" and "?".
//   - A path must follow the host: "http://example.com" never matches (the header is
//     "http://example.com/"), and "http://example.com*" would also match
//     "http://example.com.attacker.net/".
//   - No whitespace, control characters or "#", and no "${", which IAM reads as a policy variable.
//
// Note that "*" also matches "/", so "http://*.example.com/*" matches
// "http://attacker.net/x.example.com/"; Referer checks are hotlink protection, not access control.
func ValidateReferer(pattern string) error {
	if pattern == "" {
		return errors.New("referer pattern is empty: write a URL pattern such as \"https://example.com/*\"")
	}
	if strings.ContainsFunc(pattern, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return fmt.Errorf("referer pattern %q contains whitespace or a control character, which a Referer header never does", pattern)
	}
	var rest string
	switch {
	case strings.HasPrefix(pattern, "http://"):
		rest = strings.TrimPrefix(pattern, "http://")
	case strings.HasPrefix(pattern, "https://"):
		rest = strings.TrimPrefix(pattern, "https://")
	case hasPrefixFold(pattern, "http://") || hasPrefixFold(pattern, "https://"):
		return fmt.Errorf("referer pattern %q must start with a lower-case \"http://\" or \"https://\": browsers send lower-case schemes and StringLike is case-sensitive", pattern)
	default:
		return fmt.Errorf("referer pattern %q must start with \"http://\" or \"https://\", for example \"https://example.com/*\"", pattern)
	}
	host, _, hasPath := strings.Cut(rest, "/")
	if host == "" {
		return fmt.Errorf("referer pattern %q has an empty host part: write the host after the scheme, for example \"https://example.com/*\"", pattern)
	}
	if !hasPath {
		return fmt.Errorf("referer pattern %q has no path: a Referer always carries one (at least \"/\"), so write %q", pattern, strings.TrimRight(pattern, "*")+"/*")
	}
	for _, r := range host {
		switch {
		case r >= 'A' && r <= 'Z':
			return fmt.Errorf("referer pattern %q has upper-case letters in its host part: browsers send lower-case host names and StringLike is case-sensitive, write %q", pattern, strings.Replace(pattern, host, strings.ToLower(host), 1))
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', strings.ContainsRune(".-_:[]*?", r):
		default:
			return fmt.Errorf("referer pattern %q has %q in its host part: a host name has only letters, digits, dots, hyphens and an optional :port", pattern, r)
		}
	}
	if strings.Contains(pattern, "#") {
		return fmt.Errorf("referer pattern %q contains \"#\": browsers never send the fragment in a Referer", pattern)
	}
	if strings.Contains(pattern, "${") {
		return fmt.Errorf("referer pattern %q contains \"${\", which IAM reads as a policy variable", pattern)
	}
	return nil
}

// ExpandDomains turns bare domains into Referer patterns: "example.com" becomes
// "http://example.com/*", "https://example.com/*", "http://*.example.com/*" and
// "https://*.example.com/*", in that order, domain by domain, without duplicates. Domains are
// lower-cased because DNS is case-insensitive and browsers send lower-case hosts. A domain must be
// a plain host name: no scheme, path, port, wildcard or trailing dot (use explicit referer
// patterns for anything else), and internationalised names must be given in punycode (xn--...),
// the form browsers put in the Referer header.
func ExpandDomains(domains []string) ([]string, error) {
	return collectValid(domains, func(d string) ([]string, error) {
		d = strings.ToLower(d)
		if err := validateDomain(d); err != nil {
			return nil, err
		}
		return []string{"http://" + d + "/*", "https://" + d + "/*", "http://*." + d + "/*", "https://*." + d + "/*"}, nil
	})
}

// validateDomain checks a lower-cased domain for ExpandDomains.
func validateDomain(d string) error {
	switch {
	case d == "":
		return errors.New("domain is empty: write a host name such as \"example.com\"")
	case strings.Contains(d, "://"):
		return fmt.Errorf("domain %q has a scheme: give the bare host name (\"example.com\"); both http and https patterns are generated", d)
	case strings.Contains(d, "*"):
		return fmt.Errorf("domain %q has a wildcard: give the bare host name, the *. subdomain pattern is generated", d)
	case strings.HasSuffix(d, "."):
		return fmt.Errorf("domain %q ends with a dot, which browsers do not send: remove it", d)
	case len(d) > 253:
		return fmt.Errorf("domain %q is longer than 253 characters", d)
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("domain %q has an empty or over-long label: labels are 1 to 63 characters between dots", d)
		}
		for _, r := range label {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			case r > unicode.MaxASCII:
				return fmt.Errorf("domain %q is not ASCII: give internationalised names in punycode (xn--...), the form browsers send", d)
			default:
				return fmt.Errorf("domain %q contains %q: give a bare host name (letters, digits, hyphens and dots), or use an explicit referer pattern for ports and paths", d, r)
			}
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("domain %q has a label that starts or ends with a hyphen", d)
		}
	}
	return nil
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
