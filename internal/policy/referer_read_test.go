package policy

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestRefererRead(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     RefererReadInput
		golden string
		// Explicit expectations, so -update cannot bless a wrong policy unnoticed.
		wantPatterns []string // nil: no StringLike statement
		wantNull     bool
		wantResource string
	}{
		{
			name: "seed",
			in: RefererReadInput{
				Bucket:            "bucketname",
				Referers:          []string{"http://*.example.com/*", "http://example.com/*"},
				AllowEmptyReferer: true,
			},
			golden:       "referer_read_seed.json",
			wantPatterns: []string{"http://*.example.com/*", "http://example.com/*"},
			wantNull:     true,
			wantResource: "arn:aws:s3:::bucketname/*",
		},
		{
			name: "without the empty-referer branch",
			in: RefererReadInput{
				Bucket:   "bucketname",
				Referers: []string{"http://*.example.com/*", "http://example.com/*"},
			},
			golden:       "referer_read_no_empty.json",
			wantPatterns: []string{"http://*.example.com/*", "http://example.com/*"},
			wantResource: "arn:aws:s3:::bucketname/*",
		},
		{
			name:         "only the empty-referer branch",
			in:           RefererReadInput{Bucket: "bucketname", AllowEmptyReferer: true},
			golden:       "referer_read_only_empty.json",
			wantNull:     true,
			wantResource: "arn:aws:s3:::bucketname/*",
		},
		{
			name: "duplicates removed, given order kept",
			in: RefererReadInput{
				Bucket:            "bucketname",
				Referers:          []string{"https://b.example/*", "https://a.example/*", "https://b.example/*", "https://a.example/*"},
				AllowEmptyReferer: true,
			},
			golden:       "referer_read_dedupe.json",
			wantPatterns: []string{"https://b.example/*", "https://a.example/*"},
			wantNull:     true,
			wantResource: "arn:aws:s3:::bucketname/*",
		},
		{
			name: "aws-cn partition",
			in: RefererReadInput{
				Partition:         "aws-cn",
				Bucket:            "bucketname",
				Referers:          []string{"https://example.cn/*"},
				AllowEmptyReferer: true,
			},
			golden:       "referer_read_aws_cn.json",
			wantPatterns: []string{"https://example.cn/*"},
			wantNull:     true,
			wantResource: "arn:aws-cn:s3:::bucketname/*",
		},
		{
			name: "query string, port and IPv6 patterns",
			in: RefererReadInput{
				Bucket:   "bucketname",
				Referers: []string{"https://example.com/page?a=1&b=2", "http://localhost:8080/*", "http://[::1]:3000/*"},
			},
			golden:       "referer_read_special_characters.json",
			wantPatterns: []string{"https://example.com/page?a=1&b=2", "http://localhost:8080/*", "http://[::1]:3000/*"},
			wantResource: "arn:aws:s3:::bucketname/*",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc, err := RefererRead(tt.in)
			if err != nil {
				t.Fatalf("RefererRead() error = %v", err)
			}
			assertGolden(t, tt.golden, doc)

			if doc.Version != "2012-10-17" || doc.ID != "Permit GET requests with HTTP Referer validation" {
				t.Errorf("Version, Id = %q, %q", doc.Version, doc.ID)
			}
			var want []Statement
			if tt.wantPatterns != nil {
				want = append(want, Statement{
					Sid: "AllowGetWithAllowedReferer", Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: tt.wantResource,
					Condition: map[string]map[string]any{"StringLike": {"aws:Referer": tt.wantPatterns}},
				})
			}
			if tt.wantNull {
				want = append(want, Statement{
					Sid: "AllowGetWithoutReferer", Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: tt.wantResource,
					Condition: map[string]map[string]any{"Null": {"aws:Referer": "true"}},
				})
			}
			if got, wantS := fmt.Sprintf("%#v", doc.Statement), fmt.Sprintf("%#v", want); got != wantS {
				t.Errorf("statements =\n%s\nwant\n%s", got, wantS)
			}
		})
	}
}

func TestRefererReadDoesNotAliasInput(t *testing.T) {
	t.Parallel()
	referers := []string{"https://a.example/*"}
	doc, err := RefererRead(RefererReadInput{Bucket: "bucketname", Referers: referers})
	if err != nil {
		t.Fatal(err)
	}
	referers[0] = "https://changed.example/*"
	got := doc.Statement[0].Condition["StringLike"]["aws:Referer"].([]string)
	if got[0] != "https://a.example/*" {
		t.Errorf("document changed with the caller's slice: %q", got)
	}
}

func TestRefererReadErrors(t *testing.T) {
	t.Parallel()
	many := make([]string, 800)
	for i := range many {
		many[i] = fmt.Sprintf("https://site%04d.example.com/*", i)
	}
	tests := []struct {
		name string
		in   RefererReadInput
		want []string
	}{
		{"nothing allowed", RefererReadInput{Bucket: "bucketname"}, []string{"would allow nothing"}},
		{"empty referer list, no empty branch", RefererReadInput{Bucket: "bucketname", Referers: []string{}}, []string{"would allow nothing"}},
		{"invalid patterns are all named", RefererReadInput{
			Bucket:            "bucketname",
			Referers:          []string{"http://ok.example/*", "example.com/*", "https:///x", "ftp://example.com/*"},
			AllowEmptyReferer: true,
		}, []string{`"example.com/*"`, `"https:///x"`, `"ftp://example.com/*"`}},
		{"invalid bucket", RefererReadInput{Bucket: "bucket_name", AllowEmptyReferer: true}, []string{`"bucket_name"`}},
		{"invalid partition", RefererReadInput{Partition: "gcp", Bucket: "bucketname", AllowEmptyReferer: true}, []string{`"gcp"`}},
		{"over the bucket policy size limit", RefererReadInput{Bucket: "bucketname", Referers: many}, []string{"20480"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc, err := RefererRead(tt.in)
			wantErrContaining(t, err, tt.want...)
			if len(doc.Statement) != 0 {
				t.Errorf("RefererRead() returned a document with an error: %+v", doc)
			}
		})
	}
	t.Run("valid pattern is not named", func(t *testing.T) {
		t.Parallel()
		_, err := RefererRead(RefererReadInput{Bucket: "bucketname", Referers: []string{"http://ok.example/*", "nope"}})
		wantErrContaining(t, err, `"nope"`)
		if strings.Contains(err.Error(), "ok.example") {
			t.Errorf("error names a valid pattern: %v", err)
		}
	})
}

func TestValidateReferer(t *testing.T) {
	t.Parallel()
	valid := []string{
		"http://example.com/*",
		"https://example.com/*",
		"http://*.example.com/*",
		"https://www.example.com/gallery/",
		"https://example.com/page?a=1&b=2",
		"http://localhost:8080/*",
		"http://127.0.0.1/*",
		"http://[::1]:3000/*",
		"https://ex?mple.com/*",
		"https://my_host.internal/*",
		"http://*/*",
		"https://example.com/Path/With/Capitals*",
		"https://xn--bcher-kva.example/*",
	}
	for _, p := range valid {
		t.Run("valid "+p, func(t *testing.T) {
			t.Parallel()
			if err := ValidateReferer(p); err != nil {
				t.Errorf("ValidateReferer(%q) = %v, want nil", p, err)
			}
		})
	}
	invalid := []struct {
		pattern string
		want    string
	}{
		{"", "empty"},
		{"example.com/*", `must start with "http://" or "https://"`},
		{"//example.com/*", `must start with "http://" or "https://"`},
		{"ftp://example.com/*", `must start with "http://" or "https://"`},
		{"*://example.com/*", `must start with "http://" or "https://"`},
		{"HTTP://example.com/*", "lower-case"},
		{"Https://example.com/*", "lower-case"},
		{"http://", "empty host part"},
		{"https:///path", "empty host part"},
		{"http://example.com", `write "http://example.com/*"`},
		{"http://example.com*", `write "http://example.com/*"`},
		{"https://Example.com/*", `write "https://example.com/*"`},
		{"http://exa mple.com/*", "whitespace"},
		{" http://example.com/*", "whitespace"},
		{"http://example.com/*\n", "whitespace"},
		{"http://example.com/\x00", "control character"},
		{"http://user@example.com/*", `'@'`},
		{"http://bücher.example/*", `'ü'`},
		{"http://example.com/#top", `"#"`},
		{"http://example.com/${aws:username}/*", "policy variable"},
	}
	for _, tt := range invalid {
		t.Run(fmt.Sprintf("invalid %q", tt.pattern), func(t *testing.T) {
			t.Parallel()
			err := ValidateReferer(tt.pattern)
			wantErrContaining(t, err, tt.want)
		})
	}
}

func TestExpandDomains(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		domains []string
		want    []string
	}{
		{"none", nil, nil},
		{"one", []string{"example.com"}, []string{
			"http://example.com/*", "https://example.com/*", "http://*.example.com/*", "https://*.example.com/*",
		}},
		{"two in given order", []string{"b.example", "a.example"}, []string{
			"http://b.example/*", "https://b.example/*", "http://*.b.example/*", "https://*.b.example/*",
			"http://a.example/*", "https://a.example/*", "http://*.a.example/*", "https://*.a.example/*",
		}},
		{"case folded and deduplicated", []string{"Example.COM", "example.com"}, []string{
			"http://example.com/*", "https://example.com/*", "http://*.example.com/*", "https://*.example.com/*",
		}},
		{"single label and punycode", []string{"localhost", "xn--bcher-kva.example"}, []string{
			"http://localhost/*", "https://localhost/*", "http://*.localhost/*", "https://*.localhost/*",
			"http://xn--bcher-kva.example/*", "https://xn--bcher-kva.example/*", "http://*.xn--bcher-kva.example/*", "https://*.xn--bcher-kva.example/*",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ExpandDomains(tt.domains)
			if err != nil {
				t.Fatalf("ExpandDomains() error = %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ExpandDomains() = %q, want %q", got, tt.want)
			}
			// Every expansion must be a pattern RefererRead accepts.
			for _, p := range got {
				if err := ValidateReferer(p); err != nil {
					t.Errorf("expanded pattern %q is invalid: %v", p, err)
				}
			}
		})
	}

	invalid := []struct {
		domain string
		want   string
	}{
		{"", "empty"},
		{"https://example.com", "scheme"},
		{"*.example.com", "wildcard"},
		{"example.com.", "ends with a dot"},
		{"example.com/path", `'/'`},
		{"example.com:8080", `':'`},
		{"exa mple.com", `' '`},
		{"a..b", "empty or over-long label"},
		{".example.com", "empty or over-long label"},
		{strings.Repeat("a", 64) + ".com", "empty or over-long label"},
		{strings.Repeat("abcdefghi.", 26) + "com", "longer than 253"},
		{"-example.com", "hyphen"},
		{"example-.com", "hyphen"},
		{"bücher.example", "punycode"},
		{"under_score.example", `'_'`},
	}
	for _, tt := range invalid {
		t.Run(fmt.Sprintf("invalid %q", tt.domain), func(t *testing.T) {
			t.Parallel()
			got, err := ExpandDomains([]string{"ok.example", tt.domain})
			wantErrContaining(t, err, tt.want)
			if got != nil {
				t.Errorf("ExpandDomains() = %q alongside an error", got)
			}
		})
	}
	t.Run("every invalid domain is named", func(t *testing.T) {
		t.Parallel()
		_, err := ExpandDomains([]string{"http://a.example", "ok.example", "*.b.example"})
		wantErrContaining(t, err, `"http://a.example"`, `"*.b.example"`)
	})
}
