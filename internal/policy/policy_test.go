package policy

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// update rewrites the golden files instead of comparing against them:
// go test ./internal/policy/... -update. Review the diff before committing it.
var update = flag.Bool("update", false, "rewrite testdata/ golden files")

// assertGolden compares doc's JSON with testdata/name and returns the JSON.
func assertGolden(t *testing.T, name string, doc Document) string {
	t.Helper()
	got, err := doc.JSON()
	if err != nil {
		t.Fatalf("JSON() error = %v", err)
	}
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got+"\n"), 0o644); err != nil {
			t.Fatalf("write golden: %v", err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if got+"\n" != string(want) {
		t.Errorf("%s differs from the generated policy (run with -update if the change is intended)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
	return got
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// withoutSids re-renders a policy with every Sid removed. The blog post's Sids are free text
// ("Stmt1448143511000", "Allow get requests originating from example.com.") while ours are stable
// identifiers, and awspolicyequivalence compares Sids, so the seed comparison has to drop them.
func withoutSids(t *testing.T, policy string) string {
	t.Helper()
	var d Document
	if err := json.Unmarshal([]byte(policy), &d); err != nil {
		t.Fatalf("unmarshal policy: %v", err)
	}
	for i := range d.Statement {
		d.Statement[i].Sid = ""
	}
	out, err := d.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSeedPoliciesAreEquivalent proves that what we generate for the blog post's example grants
// exactly what the post's hand-written policies grant, despite different Sids, whitespace and the
// post's boolean true in the Null condition.
func TestSeedPoliciesAreEquivalent(t *testing.T) {
	t.Parallel()
	upload, err := UploadOnly(UploadOnlyInput{Bucket: "bucketname"})
	if err != nil {
		t.Fatal(err)
	}
	referer, err := RefererRead(RefererReadInput{
		Bucket:            "bucketname",
		Referers:          []string{"http://*.example.com/*", "http://example.com/*"},
		AllowEmptyReferer: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		doc  Document
		seed string
	}{
		{"upload only", upload, "seed_upload_only.json"},
		{"referer read", referer, "seed_referer_read.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ours, err := tt.doc.JSON()
			if err != nil {
				t.Fatal(err)
			}
			seed := readTestdata(t, tt.seed)

			// The library compares Sids, so the raw documents differ: this pins that finding.
			if eq, err := Equivalent(seed, ours); err != nil || eq {
				t.Errorf("Equivalent(seed, ours) with different Sids = %v, %v; want false, nil", eq, err)
			}
			if eq, err := Equivalent(withoutSids(t, seed), withoutSids(t, ours)); err != nil || !eq {
				t.Errorf("Equivalent without Sids = %v, %v; want true, nil\nseed:\n%s\nours:\n%s", eq, err, seed, ours)
			}
		})
	}
}

func TestEquivalent(t *testing.T) {
	t.Parallel()
	base := `{"Version":"2012-10-17","Id":"X","Statement":[
	  {"Sid":"A","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*",
	   "Condition":{"StringLike":{"aws:Referer":["http://a/*","http://b/*"]}}},
	  {"Sid":"B","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*",
	   "Condition":{"Null":{"aws:Referer":"true"}}}]}`
	tests := []struct {
		name  string
		other string
		want  bool
	}{
		{"itself", base, true},
		{"compact and reordered keys", `{"Statement":[{"Condition":{"StringLike":{"aws:Referer":["http://a/*","http://b/*"]}},"Resource":"arn:aws:s3:::b/*","Action":"s3:GetObject","Principal":"*","Effect":"Allow","Sid":"A"},{"Sid":"B","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"Null":{"aws:Referer":"true"}}}],"Id":"X","Version":"2012-10-17"}`, true},
		{"statements swapped", `{"Version":"2012-10-17","Id":"X","Statement":[
		  {"Sid":"B","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"Null":{"aws:Referer":"true"}}},
		  {"Sid":"A","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringLike":{"aws:Referer":["http://b/*","http://a/*"]}}}]}`, true},
		{"boolean Null value and single-element lists", `{"Version":"2012-10-17","Id":"X","Statement":[
		  {"Sid":"A","Effect":"Allow","Principal":"*","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::b/*"],"Condition":{"StringLike":{"aws:Referer":["http://a/*","http://b/*"]}}},
		  {"Sid":"B","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"Null":{"aws:Referer":[true]}}}]}`, true},
		{"principal as MinIO returns it", `{"Version":"2012-10-17","ID":"X","Statement":[
		  {"Sid":"A","Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::b/*"],"Condition":{"StringLike":{"aws:Referer":["http://a/*","http://b/*"]}}},
		  {"Sid":"B","Effect":"Allow","Principal":{"AWS":"*"},"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::b/*"],"Condition":{"Null":{"aws:Referer":[true]}}}]}`, true},
		{"Sid changed", strings.Replace(base, `"Sid":"B"`, `"Sid":"C"`, 1), false},
		{"Id changed", strings.Replace(base, `"Id":"X"`, `"Id":"Y"`, 1), false},
		{"referer added", strings.Replace(base, `"http://b/*"]`, `"http://b/*","http://c/*"]`, 1), false},
		{"Null flipped", strings.Replace(base, `"Null":{"aws:Referer":"true"}`, `"Null":{"aws:Referer":"false"}`, 1), false},
		{"resource widened", strings.Replace(base, `"arn:aws:s3:::b/*"`, `"arn:aws:s3:::*"`, 1), false},
		{"principal narrowed", strings.Replace(base, `"Principal":"*"`, `"Principal":{"AWS":"arn:aws:iam::123456789012:root"}`, 1), false},
		{"empty-referer statement removed", `{"Version":"2012-10-17","Id":"X","Statement":[
		  {"Sid":"A","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringLike":{"aws:Referer":["http://a/*","http://b/*"]}}}]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, pair := range [][2]string{{base, tt.other}, {tt.other, base}} {
				got, err := Equivalent(pair[0], pair[1])
				if err != nil {
					t.Fatalf("Equivalent() error = %v", err)
				}
				if got != tt.want {
					t.Errorf("Equivalent() = %v, want %v\na: %s\nb: %s", got, tt.want, pair[0], pair[1])
				}
			}
		})
	}
}

func TestEquivalentInvalidJSON(t *testing.T) {
	t.Parallel()
	valid := `{"Version":"2012-10-17","Statement":[]}`
	for _, pair := range [][2]string{{`{"Version":`, valid}, {valid, `{nope}`}, {valid, `"just a string"`}} {
		if eq, err := Equivalent(pair[0], pair[1]); err == nil || eq {
			t.Errorf("Equivalent(%q, %q) = %v, %v; want false and an error", pair[0], pair[1], eq, err)
		}
	}
}

// TestJSONIsDeterministic renders a document with several map entries many times: Go randomises
// map iteration, so any ordering leak would show as a difference.
func TestJSONIsDeterministic(t *testing.T) {
	t.Parallel()
	doc := Document{Version: Version, Statement: []Statement{{
		Effect: "Allow", Principal: map[string]any{"AWS": "*", "Service": "s3.amazonaws.com"},
		Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*",
		Condition: map[string]map[string]any{
			"StringLike":   {"aws:Referer": []string{"http://a/*"}, "s3:prefix": "x"},
			"Null":         {"aws:Referer": "false"},
			"IpAddress":    {"aws:SourceIp": "192.0.2.0/24"},
			"StringEquals": {"aws:SourceVpce": "vpce-1", "aws:SourceAccount": "123456789012"},
		},
	}}}
	first, err := doc.JSON()
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if got, _ := doc.JSON(); got != first {
			t.Fatalf("JSON() changed between calls:\n%s\n---\n%s", first, got)
		}
	}
	if i, j := strings.Index(first, `"IpAddress"`), strings.Index(first, `"StringLike"`); i < 0 || j < 0 || i > j {
		t.Errorf("condition operators are not sorted:\n%s", first)
	}
}

// TestJSONRoundTrip checks that a generated policy parsed back into a Document (as the provider
// does with policy_json from state) renders to the same bytes.
func TestJSONRoundTrip(t *testing.T) {
	t.Parallel()
	doc, err := RefererRead(RefererReadInput{Bucket: "bucketname", Referers: []string{"https://a.example/?x=1&y=<2>"}, AllowEmptyReferer: true})
	if err != nil {
		t.Fatal(err)
	}
	first, err := doc.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(first, "x=1&y=<2>") {
		t.Errorf("JSON() escaped HTML characters; AWS returns them verbatim:\n%s", first)
	}
	var back Document
	if err := json.Unmarshal([]byte(first), &back); err != nil {
		t.Fatal(err)
	}
	second, err := back.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if first != second {
		t.Errorf("round trip changed the JSON:\n%s\n---\n%s", first, second)
	}
}

func TestJSONUnsupportedValue(t *testing.T) {
	t.Parallel()
	doc := Document{Version: Version, Statement: []Statement{{Effect: "Allow", Action: func() {}, Resource: "*"}}}
	if _, err := doc.JSON(); err == nil {
		t.Error("JSON() of a statement holding a func succeeded, want an error")
	}
}

func TestARNs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, partition, bucket, prefix string
		wantBucket, wantObjects         string
	}{
		{"default partition", "", "media", "", "arn:aws:s3:::media", "arn:aws:s3:::media/*"},
		{"explicit aws", "aws", "media", "img/", "arn:aws:s3:::media", "arn:aws:s3:::media/img/*"},
		{"china", "aws-cn", "media", "", "arn:aws-cn:s3:::media", "arn:aws-cn:s3:::media/*"},
		{"govcloud prefix without slash", "aws-us-gov", "media", "img", "arn:aws-us-gov:s3:::media", "arn:aws-us-gov:s3:::media/img*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := BucketARN(tt.partition, tt.bucket); got != tt.wantBucket {
				t.Errorf("BucketARN() = %q, want %q", got, tt.wantBucket)
			}
			if got := ObjectsARN(tt.partition, tt.bucket, tt.prefix); got != tt.wantObjects {
				t.Errorf("ObjectsARN() = %q, want %q", got, tt.wantObjects)
			}
		})
	}
}

// wantErrContaining checks that err is non-nil and mentions every fragment.
func wantErrContaining(t *testing.T, err error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("error = nil, want one mentioning %q", fragments)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not mention %q", err, f)
		}
	}
}

func TestPreferEquivalent(t *testing.T) {
	t.Parallel()
	const (
		pretty  = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": [\"s3:PutObject\"], \"Resource\": \"arn:aws:s3:::b/*\"}]\n}"
		compact = `{"Statement":[{"Resource":["arn:aws:s3:::b/*"],"Action":"s3:PutObject","Effect":"Allow"}],"Version":"2012-10-17"}`
		other   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`
	)
	tests := []struct {
		name       string
		target     string
		candidates []string
		want       string
	}{
		{"no candidates", compact, nil, compact},
		{"equivalent candidate is kept", compact, []string{pretty}, pretty},
		{"different candidate gives target", other, []string{pretty}, other},
		{"empty candidate is skipped", compact, []string{"", pretty}, pretty},
		{"first equivalent wins", compact, []string{other, compact, pretty}, compact},
		{"invalid candidate gives target", compact, []string{"{not json"}, compact},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := PreferEquivalent(tt.target, tt.candidates...); got != tt.want {
				t.Errorf("PreferEquivalent = %q, want %q", got, tt.want)
			}
		})
	}
}
