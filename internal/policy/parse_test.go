package policy

import (
	"fmt"
	"testing"
)

func TestParseUploadOnly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		file    string // testdata input; doc is used when empty
		doc     string
		want    UploadOnlyInput
		wantErr bool
	}{
		{name: "our seed document", file: "upload_only_seed.json", want: UploadOnlyInput{Partition: "aws", Bucket: "bucketname"}},
		{name: "our folder prefix", file: "upload_only_prefix_folder.json", want: UploadOnlyInput{Partition: "aws", Bucket: "bucketname", KeyPrefix: "media/"}},
		{name: "our verbatim prefix", file: "upload_only_prefix_verbatim.json", want: UploadOnlyInput{Partition: "aws", Bucket: "bucketname", KeyPrefix: "media"}},
		{name: "our unicode prefix", file: "upload_only_prefix_unicode.json", want: UploadOnlyInput{Partition: "aws", Bucket: "bucketname", KeyPrefix: "fotos/größe & co/"}},
		{name: "our aws-us-gov document", file: "upload_only_aws_us_gov_prefix.json", want: UploadOnlyInput{Partition: "aws-us-gov", Bucket: "media.example.org", KeyPrefix: "u/"}},
		{
			name: "our extra actions, sorted",
			file: "upload_only_extra_actions.json",
			want: UploadOnlyInput{Partition: "aws", Bucket: "bucketname", ExtraActions: []string{"s3:AbortMultipartUpload", "s3:PutObjectTagging"}},
		},
		{name: "the blog post's document", file: "seed_upload_only.json", want: UploadOnlyInput{Partition: "aws", Bucket: "bucketname"}},
		{name: "reformatted: lists everywhere, objects ARN first", file: "parse_upload_only_reformatted.json", want: UploadOnlyInput{Partition: "aws", Bucket: "bucketname", KeyPrefix: "media/"}},
		{
			name: "built prefix and extras in aws-cn",
			doc: mustJSON(t, UploadOnlyInput{Partition: "aws-cn", Bucket: "media", KeyPrefix: "a/b-",
				ExtraActions: []string{"s3:PutObjectTagging", "s3:AbortMultipartUpload"}}),
			want: UploadOnlyInput{Partition: "aws-cn", Bucket: "media", KeyPrefix: "a/b-", ExtraActions: []string{"s3:AbortMultipartUpload", "s3:PutObjectTagging"}},
		},
		{
			name: "single statement object, string action",
			doc: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:PutObject",` +
				`"Resource":["arn:aws:s3:::bucketname","arn:aws:s3:::bucketname/*"]}}`,
			want: UploadOnlyInput{Partition: "aws", Bucket: "bucketname"},
		},
		{
			name: "objects only",
			doc:  `{"Statement":[{"Effect":"Allow","Action":["s3:PutObject"],"Resource":"arn:aws:s3:::media/up/*"}]}`,
			want: UploadOnlyInput{Partition: "aws", Bucket: "media", KeyPrefix: "up/"},
		},
		{name: "two buckets", doc: `{"Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":["arn:aws:s3:::a","arn:aws:s3:::b/*"]}]}`, wantErr: true},
		{name: "two partitions", doc: `{"Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":["arn:aws:s3:::a","arn:aws-cn:s3:::a/*"]}]}`, wantErr: true},
		{name: "no put", doc: `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::a/*"}]}`, wantErr: true},
		{name: "deny", doc: `{"Statement":[{"Effect":"Deny","Action":"s3:PutObject","Resource":"arn:aws:s3:::a/*"}]}`, wantErr: true},
		{name: "wildcard resource", doc: `{"Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}`, wantErr: true},
		{name: "not json", doc: `nope`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseUploadOnly(docOrFile(t, tt.doc, tt.file))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error %v (got %+v)", err, tt.wantErr, got)
			}
			if !tt.wantErr && fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestParseUploadOnlyRoundTrip checks that what UploadOnly writes, ParseUploadOnly reads back whole.
func TestParseUploadOnlyRoundTrip(t *testing.T) {
	t.Parallel()
	in := UploadOnlyInput{Partition: "aws-cn", Bucket: "media", KeyPrefix: "in/", ExtraActions: []string{"s3:AbortMultipartUpload"}}
	got, err := ParseUploadOnly(mustJSON(t, in))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", in) {
		t.Errorf("round trip gave %+v, want %+v", got, in)
	}
}

func TestParseRefererRead(t *testing.T) {
	t.Parallel()
	seed := []string{"http://*.example.com/*", "http://example.com/*"}
	tests := []struct {
		name           string
		file           string // testdata input; doc is used when empty
		doc            string
		wantReferers   []string
		wantAllowEmpty bool
		wantErr        bool
	}{
		{name: "our document", file: "referer_read_seed.json", wantReferers: seed, wantAllowEmpty: true},
		{name: "our document without the empty branch", file: "referer_read_no_empty.json", wantReferers: seed},
		{name: "only the empty branch", file: "referer_read_only_empty.json", wantAllowEmpty: true},
		{name: "the blog post's document (boolean true)", file: "seed_referer_read.json", wantReferers: seed, wantAllowEmpty: true},
		{name: "MinIO's rewritten form ({\"AWS\":[\"*\"]}, lists, [true])", file: "parse_referer_read_minio.json", wantReferers: seed, wantAllowEmpty: true},
		{
			name: "the blog post's boolean and single statement object",
			doc: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",` +
				`"Resource":"arn:aws:s3:::b/*","Condition":{"Null":{"aws:Referer":true}}}}`,
			wantAllowEmpty: true,
		},
		{
			name: "a single pattern string",
			doc: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*",` +
				`"Condition":{"StringLike":{"aws:Referer":"https://example.com/*"}}}]}`,
			wantReferers: []string{"https://example.com/*"},
		},
		{
			name: "Deny statements and Null false are not grants",
			doc: `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*",` +
				`"Condition":{"StringLike":{"aws:Referer":"https://evil.test/*"}}},{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",` +
				`"Resource":"arn:aws:s3:::b/*","Condition":{"Null":{"aws:Referer":"false"}}}]}`,
		},
		{name: "not JSON", doc: `{"Statement":`, wantErr: true},
		{name: "odd condition value", doc: `{"Statement":[{"Effect":"Allow","Condition":{"StringLike":{"aws:Referer":{"a":1}}}}]}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseRefererRead(docOrFile(t, tt.doc, tt.file))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error %v", err, tt.wantErr)
			}
			if fmt.Sprint(got.Referers) != fmt.Sprint(tt.wantReferers) || got.AllowEmptyReferer != tt.wantAllowEmpty {
				t.Errorf("got %q, %v; want %q, %v", got.Referers, got.AllowEmptyReferer, tt.wantReferers, tt.wantAllowEmpty)
			}
		})
	}
}

// mustJSON renders the upload-only policy for in.
func mustJSON(t *testing.T, in UploadOnlyInput) string {
	t.Helper()
	doc, err := UploadOnly(in)
	if err != nil {
		t.Fatal(err)
	}
	s, err := doc.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// docOrFile is doc, or the contents of testdata/file when file is set.
func docOrFile(t *testing.T, doc, file string) string {
	t.Helper()
	if file != "" {
		return readTestdata(t, file)
	}
	return doc
}
