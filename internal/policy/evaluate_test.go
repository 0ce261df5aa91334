package policy

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// This file holds a tiny evaluator for anonymous S3 requests against a bucket policy, written from
// the IAM policy evaluation rules, and uses it to check what the Referer policy actually allows.
//
// It is the coverage of the empty-Referer branch: MinIO evaluates StringLike aws:Referer like AWS,
// so the data-plane test against MinIO covers the matching and foreign cases, but MinIO's Null
// aws:Referer evaluation differs from AWS (it denies anonymous GETs without a Referer even with the
// Null statement), and moto does not evaluate bucket-policy conditions at all. No engine we can
// run reproduces AWS for a request without a Referer, so the rules are encoded here instead.
//
// It supports only what our documents use (Allow/Deny, Principal "*" or a Federated principal,
// Action, Resource, StringLike and Null on aws:Referer, StringEquals and StringLike on a web identity
// token's claims) and fails the test on anything else rather than guess.

// anonymousRequest is an unauthenticated S3 request as the policy evaluator sees it.
type anonymousRequest struct {
	action   string
	resource string
	referer  *string // nil: no Referer header, so aws:Referer is absent from the request context
}

// requestContext is what conditions are evaluated against: only aws:Referer, when present.
func (r anonymousRequest) requestContext() map[string]string {
	if r.referer == nil {
		return map[string]string{}
	}
	return map[string]string{"aws:Referer": *r.referer}
}

// evaluate reports whether policyJSON allows req: an explicit Deny wins, otherwise any matching
// Allow allows, otherwise the implicit deny applies.
func evaluate(t *testing.T, policyJSON string, req anonymousRequest) bool {
	t.Helper()
	var doc Document
	if err := json.Unmarshal([]byte(policyJSON), &doc); err != nil {
		t.Fatalf("evaluator: unmarshal policy: %v", err)
	}
	allowed := false
	for _, st := range doc.Statement {
		if !matchesAnonymous(t, st.Principal) {
			continue
		}
		// Action names are case-insensitive in IAM; resource ARNs are case-sensitive.
		if !anyGlob(lowerAll(policyValues(t, st.Action)), strings.ToLower(req.action)) {
			continue
		}
		if !anyGlob(policyValues(t, st.Resource), req.resource) {
			continue
		}
		if !conditionsHold(t, st.Condition, req.requestContext(), []string{"aws:Referer"}) {
			continue
		}
		switch st.Effect {
		case "Deny":
			return false
		case "Allow":
			allowed = true
		default:
			t.Fatalf("evaluator: unknown Effect %q", st.Effect)
		}
	}
	return allowed
}

// matchesAnonymous reports whether a Principal covers an anonymous caller: "*" or {"AWS": "*"}.
func matchesAnonymous(t *testing.T, principal any) bool {
	t.Helper()
	switch p := principal.(type) {
	case string:
		return p == "*"
	case map[string]any:
		for _, v := range policyValues(t, p["AWS"]) {
			if v == "*" {
				return true
			}
		}
		return false
	case nil:
		t.Fatal("evaluator: a bucket policy statement without Principal")
	default:
		t.Fatalf("evaluator: unsupported Principal %#v", principal)
	}
	return false
}

// conditionsHold ANDs every operator and every key; the values of one key are ORed. Condition keys are
// case-insensitive in IAM, values are compared case-sensitively. A key outside supported fails the test.
func conditionsHold(t *testing.T, conditions map[string]map[string]any, context map[string]string, supported []string) bool {
	t.Helper()
	for op, keys := range conditions {
		for key, raw := range keys {
			name := ""
			for _, k := range supported {
				if strings.EqualFold(k, key) {
					name = k
				}
			}
			if name == "" {
				t.Fatalf("evaluator: unsupported condition key %q", key)
			}
			actual, present := context[name]
			values := policyValues(t, raw)
			switch op {
			case "StringLike":
				// Without the key in the request context a StringLike or StringEquals condition is false
				// (only the ...IfExists variants would be true).
				if !present || !anyGlob(values, actual) {
					return false
				}
			case "StringEquals":
				if !present || !slices.Contains(values, actual) {
					return false
				}
			case "Null":
				if len(values) != 1 {
					t.Fatalf("evaluator: Null takes one value, got %q", values)
				}
				wantAbsent, err := strconv.ParseBool(values[0])
				if err != nil {
					t.Fatalf("evaluator: Null value %q is not a boolean", values[0])
				}
				if present == wantAbsent {
					return false
				}
			default:
				t.Fatalf("evaluator: unsupported condition operator %q", op)
			}
		}
	}
	return true
}

// webIdentityRequest is an sts:AssumeRoleWithWebIdentity call as a role's trust policy sees it: the
// OIDC provider that verified the token, and the token's claims as condition keys (ISSUER:sub, ...).
type webIdentityRequest struct {
	provider string
	claims   map[string]string
}

// evaluateTrust reports whether a trust policy lets req assume the role. Like evaluate, an explicit
// Deny wins and the default is deny; the Principal must name the request's provider as Federated.
func evaluateTrust(t *testing.T, policyJSON string, req webIdentityRequest) bool {
	t.Helper()
	var doc Document
	if err := json.Unmarshal([]byte(policyJSON), &doc); err != nil {
		t.Fatalf("evaluator: unmarshal trust policy: %v", err)
	}
	supported := slices.Collect(maps.Keys(req.claims))
	allowed := false
	for _, st := range doc.Statement {
		if st.Resource != nil {
			t.Fatal("evaluator: a trust policy statement with a Resource, which IAM refuses")
		}
		principal, ok := st.Principal.(map[string]any)
		if !ok || len(principal) != 1 {
			t.Fatalf("evaluator: unsupported trust policy Principal %#v", st.Principal)
		}
		if !slices.Contains(policyValues(t, principal["Federated"]), req.provider) {
			continue
		}
		if !anyGlob(lowerAll(policyValues(t, st.Action)), "sts:assumerolewithwebidentity") {
			continue
		}
		if !conditionsHold(t, st.Condition, req.claims, supported) {
			continue
		}
		switch st.Effect {
		case "Deny":
			return false
		case "Allow":
			allowed = true
		default:
			t.Fatalf("evaluator: unknown Effect %q", st.Effect)
		}
	}
	return allowed
}

// policyValues reads a policy element that may be a string, a boolean or a list of them, the way
// IAM does (a JSON boolean true is the string "true").
func policyValues(t *testing.T, v any) []string {
	t.Helper()
	switch v := v.(type) {
	case string:
		return []string{v}
	case bool:
		return []string{strconv.FormatBool(v)}
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, policyValues(t, e)...)
		}
		return out
	default:
		t.Fatalf("evaluator: unsupported policy value %#v", v)
		return nil
	}
}

func lowerAll(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = strings.ToLower(s)
	}
	return out
}

func anyGlob(patterns []string, s string) bool {
	for _, p := range patterns {
		if glob(p, s) {
			return true
		}
	}
	return false
}

// glob matches IAM's StringLike and ARN wildcards: * is any run of characters (including "/"
// and none at all), ? is exactly one character, everything else matches itself, case-sensitively.
func glob(pattern, s string) bool {
	p, str := []rune(pattern), []rune(s)
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(str) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == str[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			// Let the last * swallow one more character and retry from there.
			mark++
			pi, si = star+1, mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

func TestGlob(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"http://example.com/*", "http://example.com/", true},
		{"http://example.com/*", "http://example.com/a/b?c=d", true},
		{"http://example.com/*", "http://example.com", false},
		{"http://example.com/*", "https://example.com/", false},
		{"http://example.com/*", "HTTP://example.com/", false},
		{"http://*.example.com/*", "http://www.example.com/x", true},
		{"http://*.example.com/*", "http://a.b.example.com/", true},
		{"http://*.example.com/*", "http://example.com/", false},
		{"http://*.example.com/*", "http://notexample.com/", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a?c", "aüc", true},
		{"*", "", true},
		{"", "", true},
		{"", "a", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/k", true},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::bb/k", false},
	}
	for _, tt := range tests {
		if got := glob(tt.pattern, tt.s); got != tt.want {
			t.Errorf("glob(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func ref(s string) *string { return &s }

// TestRefererPolicyEvaluation evaluates the generated Referer policies, and the blog post's own
// policy, for matching, foreign and absent Referers.
func TestRefererPolicyEvaluation(t *testing.T) {
	t.Parallel()
	seedReferers := []string{"http://*.example.com/*", "http://example.com/*"}
	build := func(t *testing.T, in RefererReadInput) string {
		t.Helper()
		doc, err := RefererRead(in)
		if err != nil {
			t.Fatal(err)
		}
		js, err := doc.JSON()
		if err != nil {
			t.Fatal(err)
		}
		return js
	}
	withEmpty := build(t, RefererReadInput{Bucket: "bucketname", Referers: seedReferers, AllowEmptyReferer: true})
	withoutEmpty := build(t, RefererReadInput{Bucket: "bucketname", Referers: seedReferers})
	onlyEmpty := build(t, RefererReadInput{Bucket: "bucketname", AllowEmptyReferer: true})
	seed := readTestdata(t, "seed_referer_read.json") // boolean true in its Null condition

	get := func(referer *string) anonymousRequest {
		return anonymousRequest{action: "s3:GetObject", resource: "arn:aws:s3:::bucketname/img/cat.jpg", referer: referer}
	}
	tests := []struct {
		name    string
		req     anonymousRequest
		allowed map[string]bool // policy name -> expected decision
	}{
		{"matching subdomain Referer", get(ref("http://www.example.com/gallery/1")),
			map[string]bool{"with empty": true, "without empty": true, "only empty": false, "seed": true}},
		{"matching apex Referer", get(ref("http://example.com/")),
			map[string]bool{"with empty": true, "without empty": true, "only empty": false, "seed": true}},
		{"foreign Referer", get(ref("http://hotlinker.example.net/page")),
			map[string]bool{"with empty": false, "without empty": false, "only empty": false, "seed": false}},
		{"look-alike host", get(ref("http://example.com.hotlinker.net/")),
			map[string]bool{"with empty": false, "without empty": false, "only empty": false, "seed": false}},
		{"https Referer when only http patterns are listed", get(ref("https://example.com/")),
			map[string]bool{"with empty": false, "without empty": false, "only empty": false, "seed": false}},
		{"absent Referer", get(nil),
			map[string]bool{"with empty": true, "without empty": false, "only empty": true, "seed": true}},
		// "*" crosses "/", so a foreign page whose path contains ".example.com/" matches
		// "http://*.example.com/*". This is inherent to StringLike (the seed allows it too) and is
		// why the docs call Referer checks hotlink protection, not access control.
		{"foreign Referer with the domain in its path", get(ref("http://hotlinker.net/x.example.com/")),
			map[string]bool{"with empty": true, "without empty": true, "only empty": false, "seed": true}},
		{"other bucket", anonymousRequest{action: "s3:GetObject", resource: "arn:aws:s3:::otherbucket/a", referer: ref("http://example.com/")},
			map[string]bool{"with empty": false, "without empty": false, "only empty": false, "seed": false}},
		{"upload", anonymousRequest{action: "s3:PutObject", resource: "arn:aws:s3:::bucketname/a", referer: nil},
			map[string]bool{"with empty": false, "without empty": false, "only empty": false, "seed": false}},
		{"listing", anonymousRequest{action: "s3:ListBucket", resource: "arn:aws:s3:::bucketname", referer: ref("http://example.com/")},
			map[string]bool{"with empty": false, "without empty": false, "only empty": false, "seed": false}},
	}
	policies := map[string]string{"with empty": withEmpty, "without empty": withoutEmpty, "only empty": onlyEmpty, "seed": seed}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if len(tt.allowed) != len(policies) {
				t.Fatalf("test case lists %d policies, want %d", len(tt.allowed), len(policies))
			}
			for name, want := range tt.allowed {
				if got := evaluate(t, policies[name], tt.req); got != want {
					t.Errorf("policy %q: allowed = %v, want %v", name, got, want)
				}
			}
		})
	}
}

// TestUploadPolicyEvaluation checks the upload-only policy's grants with the same evaluator,
// treating it as if attached to the caller (the Principal check does not apply to identity
// policies, so the statements are evaluated with Principal "*").
func TestUploadPolicyEvaluation(t *testing.T) {
	t.Parallel()
	doc, err := UploadOnly(UploadOnlyInput{Bucket: "bucketname", KeyPrefix: "media/"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range doc.Statement {
		doc.Statement[i].Principal = "*"
	}
	js, err := doc.JSON()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		action, resource string
		want             bool
	}{
		{"s3:PutObject", "arn:aws:s3:::bucketname/media/a.jpg", true},
		{"s3:PutObject", "arn:aws:s3:::bucketname/other/a.jpg", false},
		{"s3:PutObject", "arn:aws:s3:::otherbucket/media/a.jpg", false},
		{"s3:ListAllMyBuckets", "arn:aws:s3:::*", true},
		{"s3:GetObject", "arn:aws:s3:::bucketname/media/a.jpg", false},
		{"s3:DeleteObject", "arn:aws:s3:::bucketname/media/a.jpg", false},
		{"s3:ListBucket", "arn:aws:s3:::bucketname", false},
	}
	for _, tt := range tests {
		if got := evaluate(t, js, anonymousRequest{action: tt.action, resource: tt.resource}); got != tt.want {
			t.Errorf("%s on %s: allowed = %v, want %v", tt.action, tt.resource, got, tt.want)
		}
	}
}
