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
