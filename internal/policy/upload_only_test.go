package policy

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestUploadOnly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     UploadOnlyInput
		golden string
		// The explicit expectations below keep -update from blessing a wrong policy unnoticed.
		wantActions []string
		wantObjects string
		wantListARN string
	}{
		{
			name:        "seed",
			in:          UploadOnlyInput{Bucket: "bucketname"},
			golden:      "upload_only_seed.json",
			wantActions: []string{"s3:PutObject"},
			wantObjects: "arn:aws:s3:::bucketname/*",
			wantListARN: "arn:aws:s3:::*",
		},
		{
			name:        "folder prefix",
			in:          UploadOnlyInput{Bucket: "bucketname", KeyPrefix: "media/"},
			golden:      "upload_only_prefix_folder.json",
			wantActions: []string{"s3:PutObject"},
			wantObjects: "arn:aws:s3:::bucketname/media/*",
			wantListARN: "arn:aws:s3:::*",
		},
		{
			name:        "prefix without slash is used verbatim",
			in:          UploadOnlyInput{Bucket: "bucketname", KeyPrefix: "media"},
			golden:      "upload_only_prefix_verbatim.json",
			wantActions: []string{"s3:PutObject"},
			wantObjects: "arn:aws:s3:::bucketname/media*",
			wantListARN: "arn:aws:s3:::*",
		},
		{
			name:        "prefix with non-ASCII and ampersand",
			in:          UploadOnlyInput{Bucket: "bucketname", KeyPrefix: "fotos/größe & co/"},
			golden:      "upload_only_prefix_unicode.json",
			wantActions: []string{"s3:PutObject"},
			wantObjects: "arn:aws:s3:::bucketname/fotos/größe & co/*",
			wantListARN: "arn:aws:s3:::*",
		},
		{
			name:        "aws-cn partition",
			in:          UploadOnlyInput{Partition: "aws-cn", Bucket: "bucketname"},
			golden:      "upload_only_aws_cn.json",
			wantActions: []string{"s3:PutObject"},
			wantObjects: "arn:aws-cn:s3:::bucketname/*",
			wantListARN: "arn:aws-cn:s3:::*",
		},
		{
			name:        "aws-us-gov partition with prefix",
			in:          UploadOnlyInput{Partition: "aws-us-gov", Bucket: "media.example.org", KeyPrefix: "u/"},
			golden:      "upload_only_aws_us_gov_prefix.json",
			wantActions: []string{"s3:PutObject"},
			wantObjects: "arn:aws-us-gov:s3:::media.example.org/u/*",
			wantListARN: "arn:aws-us-gov:s3:::*",
		},
		{
			name: "extra actions sorted and deduplicated",
			in: UploadOnlyInput{Bucket: "bucketname", ExtraActions: []string{
				"s3:PutObjectTagging", "s3:AbortMultipartUpload", "s3:PutObjectTagging",
				"s3:putobject", "s3:abortmultipartupload", "s3:PutObject",
			}},
			golden:      "upload_only_extra_actions.json",
			wantActions: []string{"s3:PutObject", "s3:AbortMultipartUpload", "s3:PutObjectTagging"},
			wantObjects: "arn:aws:s3:::bucketname/*",
			wantListARN: "arn:aws:s3:::*",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc, err := UploadOnly(tt.in)
			if err != nil {
				t.Fatalf("UploadOnly() error = %v", err)
			}
			assertGolden(t, tt.golden, doc)

			if doc.Version != "2012-10-17" || doc.ID != "" || len(doc.Statement) != 2 {
				t.Fatalf("document = %+v, want Version 2012-10-17, no Id, two statements", doc)
			}
			put, list := doc.Statement[0], doc.Statement[1]
			if put.Sid != "PutObjectsInBucket" || put.Effect != "Allow" || put.Principal != nil || put.Condition != nil {
				t.Errorf("first statement = %+v", put)
			}
			if got, ok := put.Action.([]string); !ok || !slices.Equal(got, tt.wantActions) {
				t.Errorf("actions = %#v, want %q", put.Action, tt.wantActions)
			}
			bucketARN := strings.TrimSuffix(tt.wantListARN, "*") + tt.in.Bucket
			if got, ok := put.Resource.([]string); !ok || !slices.Equal(got, []string{bucketARN, tt.wantObjects}) {
				t.Errorf("resources = %#v, want [%q %q]", put.Resource, bucketARN, tt.wantObjects)
			}
			if list.Sid != "ListAllMyBucketsForPreflight" || list.Effect != "Allow" || list.Action != "s3:ListAllMyBuckets" || list.Resource != tt.wantListARN {
				t.Errorf("second statement = %+v, want ListAllMyBuckets on %s", list, tt.wantListARN)
			}
		})
	}
}

func TestUploadOnlyErrors(t *testing.T) {
	t.Parallel()
	manyActions := make([]string, 150)
	for i := range manyActions {
		manyActions[i] = fmt.Sprintf("s3:SomeRatherLongActionName%03d", i)
	}
	tests := []struct {
		name string
		in   UploadOnlyInput
		want []string // fragments the error must contain
	}{
		{"empty bucket", UploadOnlyInput{}, []string{`bucket name ""`, "3 to 63"}},
		{"upper-case bucket", UploadOnlyInput{Bucket: "Bucket"}, []string{`"Bucket"`, "lower-case"}},
		{"prefix with leading slash", UploadOnlyInput{Bucket: "bucketname", KeyPrefix: "/media/"}, []string{`"/media/"`, `write "media/"`}},
		{"prefix with star", UploadOnlyInput{Bucket: "bucketname", KeyPrefix: "media/*"}, []string{"wildcards"}},
		{"prefix with question mark", UploadOnlyInput{Bucket: "bucketname", KeyPrefix: "a?b/"}, []string{"wildcards"}},
		{"prefix with policy variable", UploadOnlyInput{Bucket: "bucketname", KeyPrefix: "${aws:username}/"}, []string{"policy variable"}},
		{"prefix with control character", UploadOnlyInput{Bucket: "bucketname", KeyPrefix: "a\nb/"}, []string{"control character"}},
		{"prefix not UTF-8", UploadOnlyInput{Bucket: "bucketname", KeyPrefix: "a\xffb/"}, []string{"UTF-8"}},
		{"prefix too long", UploadOnlyInput{Bucket: "bucketname", KeyPrefix: strings.Repeat("a", 1025)}, []string{"1025 bytes", "1024"}},
		{"wildcard action", UploadOnlyInput{Bucket: "bucketname", ExtraActions: []string{"s3:*"}}, []string{`"s3:*"`, "s3:Name"}},
		{"partial wildcard action", UploadOnlyInput{Bucket: "bucketname", ExtraActions: []string{"s3:Get*"}}, []string{`"s3:Get*"`}},
		{"action without service", UploadOnlyInput{Bucket: "bucketname", ExtraActions: []string{"PutObject"}}, []string{`"PutObject"`}},
		{"action of another service", UploadOnlyInput{Bucket: "bucketname", ExtraActions: []string{"iam:PassRole"}}, []string{`"iam:PassRole"`}},
		{"every invalid action is named", UploadOnlyInput{Bucket: "bucketname", ExtraActions: []string{"s3:GetObject", "bad one", "iam:*"}}, []string{`"bad one"`, `"iam:*"`}},
		{"unknown partition", UploadOnlyInput{Partition: "azure", Bucket: "bucketname"}, []string{`partition "azure"`}},
		{"upper-case partition", UploadOnlyInput{Partition: "AWS", Bucket: "bucketname"}, []string{`partition "AWS"`}},
		{"over the IAM size limit", UploadOnlyInput{Bucket: "bucketname", ExtraActions: manyActions}, []string{"2048", "inline policies"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc, err := UploadOnly(tt.in)
			wantErrContaining(t, err, tt.want...)
			if len(doc.Statement) != 0 {
				t.Errorf("UploadOnly() returned a document with an error: %+v", doc)
			}
		})
	}
}

// TestUploadOnlyLongestValidPrefix checks that the size limit does not reject real inputs: the
// longest bucket name with S3's longest key prefix still fits in an inline policy.
func TestUploadOnlyLongestValidPrefix(t *testing.T) {
	t.Parallel()
	_, err := UploadOnly(UploadOnlyInput{Bucket: strings.Repeat("b", 63), KeyPrefix: strings.Repeat("p", 1024), ExtraActions: []string{"s3:AbortMultipartUpload"}})
	if err != nil {
		t.Fatalf("UploadOnly() error = %v", err)
	}
}
