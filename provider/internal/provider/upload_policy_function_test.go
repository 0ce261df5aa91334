package provider

import (
	"regexp"
	"testing"
)

func TestUploadPolicyFunction(t *testing.T) {
	t.Parallel()
	tests := []functionTest{
		{name: "seed", call: `upload_policy("bucketname", "")`, golden: "upload_only_seed.json"},
		{name: "folder prefix", call: `upload_policy("bucketname", "media/")`, golden: "upload_only_prefix_folder.json"},
		{name: "prefix used verbatim", call: `upload_policy("bucketname", "media")`, golden: "upload_only_prefix_verbatim.json"},
		{name: "aws-cn partition", call: `upload_policy("bucketname", "", "aws-cn")`, golden: "upload_only_aws_cn.json"},
		{name: "aws-us-gov partition", call: `upload_policy("media.example.org", "u/", "aws-us-gov")`, golden: "upload_only_aws_us_gov_prefix.json"},
		{name: "aws partition named", call: `upload_policy("bucketname", "", "aws")`, golden: "upload_only_seed.json"},
		{
			name:    "not a partition",
			call:    `upload_policy("bucketname", "", "china")`,
			wantErr: regexp.MustCompile(`(?s)Invalid value for "partition" parameter.*"china"\s+is\s+not\s+an\s+AWS\s+partition\s+name`),
		},
		{
			name:    "two partitions",
			call:    `upload_policy("bucketname", "", "aws", "aws-cn")`,
			wantErr: regexp.MustCompile(`(?s)2\s+partition\s+arguments\s+given;\s+pass\s+at\s+most\s+one`),
		},
		{
			name:    "bad bucket",
			call:    `upload_policy("no", "")`,
			wantErr: regexp.MustCompile(`(?s)Invalid value for "bucket" parameter.*"no"`),
		},
		{
			name:    "wildcard prefix",
			call:    `upload_policy("bucketname", "media/*")`,
			wantErr: regexp.MustCompile(`(?s)Invalid value for "key_prefix" parameter.*wildcards`),
		},
		{
			name:    "leading slash",
			call:    `upload_policy("bucketname", "/media/")`,
			wantErr: regexp.MustCompile(`(?s)Invalid value for "key_prefix" parameter.*leading slash`),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t)
		})
	}
}
