package verify

import (
	"fmt"
	"strings"
)

// RefererFromPattern turns a Referer pattern of the bucket policy (aws:Referer with StringLike:
// "*" any run of characters, "?" one) into a page URL the pattern matches, for verify's default
// --referer. A host label of only "*" becomes "www" ("https://*.example.com/*" gives
// "https://www.example.com/"); any other "*" matches nothing and "?" the letter "a". Patterns
// that are not absolute http(s) URLs with a host give an error asking for --referer.
func RefererFromPattern(pattern string) (string, error) {
	fail := func(why string) (string, error) {
		return "", fmt.Errorf("cannot derive a page URL from the Referer pattern %q (%s): pass --referer URL, a page of the site the policy allows", pattern, why)
	}
	scheme, rest, ok := strings.Cut(pattern, "://")
	if !ok || (!strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "https")) {
		return fail("it does not start with http:// or https://")
	}
	host, path, hasPath := strings.Cut(rest, "/")
	wildcards := strings.NewReplacer("*", "", "?", "a")
	labels := strings.Split(host, ".")
	for i, l := range labels {
		if l != "" && strings.Trim(l, "*") == "" {
			labels[i] = "www"
			continue
		}
		labels[i] = wildcards.Replace(l)
		if labels[i] == "" {
			return fail("its host has an empty label")
		}
	}
	out := strings.ToLower(scheme) + "://" + strings.Join(labels, ".")
	if hasPath {
		out += "/" + wildcards.Replace(path)
	}
	return out, nil
}
