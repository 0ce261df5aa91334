package policy

import (
	"strings"
	"testing"
)

func TestValidateBucketName(t *testing.T) {
	t.Parallel()
	valid := []string{
		"bucketname",
		"abc",
		strings.Repeat("a", 63),
		"my-bucket.example.com",
		"123bucket",
		"bucket123",
		"1.2.3",                           // three numbers are not an IPv4 address
		"1.2.3.4a",                        // neither is this
		"axn--bucket",                     // xn-- only matters as a prefix
		"sthree",                          // sthree- is the reserved prefix, not sthree
		"bucket-s3alias-x",                // reserved suffixes only matter at the end
		"amzn-s3-demo",                    // the reserved prefix ends with a hyphen
		"media-123456789012-us-west-2-an", // account regional namespace names
	}
	for _, name := range valid {
		t.Run("valid "+name, func(t *testing.T) {
			t.Parallel()
			if err := ValidateBucketName(name); err != nil {
				t.Errorf("ValidateBucketName(%q) = %v, want nil", name, err)
			}
		})
	}

	invalid := []struct {
		name string
		want string
	}{
		{"", "3 to 63"},
		{"ab", "3 to 63"},
		{strings.Repeat("a", 64), "3 to 63"},
		{"Bucket", `'B'`},
		{"bucket_name", `'_'`},
		{"bucket name", `' '`},
		{"bücket", `'ü'`},
		{"-bucket", "begin and end"},
		{"bucket-", "begin and end"},
		{".bucket", "begin and end"},
		{"bucket.", "begin and end"},
		{"my..bucket", "two adjacent dots"},
		{"192.168.5.4", "IP address"},
		{"999.999.999.999", "IP address"},
		{"xn--bucket", `"xn--"`},
		{"sthree-bucket", `"sthree-"`},
		{"sthree-configurator-x", `"sthree-"`},
		{"amzn-s3-demo-bucket", `"amzn-s3-demo-"`},
		{"bucket-s3alias", `"-s3alias"`},
		{"bucket--ol-s3", `"--ol-s3"`},
		{"bucket.mrap", `".mrap"`},
		{"bucket--usw2-az1--x-s3", `"--x-s3"`},
		{"bucket--table-s3", `"--table-s3"`},
	}
	for _, tt := range invalid {
		t.Run("invalid "+tt.name, func(t *testing.T) {
			t.Parallel()
			wantErrContaining(t, ValidateBucketName(tt.name), tt.want)
		})
	}
}
