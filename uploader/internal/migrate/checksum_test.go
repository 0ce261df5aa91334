package migrate

import (
	"context"
	"crypto/md5" //nolint:gosec // G501: the ETags under test are MD5s
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestRunChecksumMD5MinIO uploads with --checksum md5 and a storage class, a single PUT and a
// multipart upload: every PUT and part carries the Content-MD5 of its bytes and no additional
// checksum, the ETags are checked (an answer with another ETag fails the file), and the objects
// are stored with their bytes and the class.
func TestRunChecksumMD5MinIO(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	const bucket = "media"
	up, admin := minioBucket(t, bucket)
	files := map[string][]byte{"small.jpg": randomBytes(t, 5000), "big.mp4": randomBytes(t, 11<<20)}
	src := tree(t, files)
	rec := &recorder{}
	client := s3.New(up.Options(), func(o *s3.Options) {
		rec.next = o.HTTPClient
		o.HTTPClient = rec
	})
	cfg := Config{Bucket: bucket, Source: src, MultipartThreshold: 6 << 20, PartSize: 5 << 20,
		Checksum: ChecksumMD5, StorageClass: types.StorageClassReducedRedundancy}
	rep, err := Run(context.Background(), cfg, Deps{S3: client, Catalog: newMemCatalog("small.jpg", "big.mp4")})
	if err != nil || rep.Uploaded != 2 || rep.Failed != 0 {
		t.Fatalf("Run: %s, %v", brief(rep), err)
	}
	var md5s int
	for _, r := range rec.reqs {
		if r.method != http.MethodPut {
			continue
		}
		if r.header.Get("Content-MD5") != "" {
			md5s++
		}
		for name := range r.header {
			if l := strings.ToLower(name); strings.HasPrefix(l, "x-amz-checksum") || strings.HasPrefix(l, "x-amz-sdk-checksum") {
				t.Errorf("%s %s?%s sends %s with --checksum md5", r.method, r.path, r.query, name)
			}
		}
	}
	if md5s != 4 { // the small file and three parts
		t.Errorf("%d PUTs carried Content-MD5, want 4", md5s)
	}
	for name, data := range files {
		got, out := getObject(t, admin, bucket, name)
		if string(got) != string(data) {
			t.Errorf("%s: the object's bytes differ from the file's", name)
		}
		if out.StorageClass != types.StorageClassReducedRedundancy {
			t.Errorf("%s: storage class %q, want REDUCED_REDUNDANCY", name, out.StorageClass)
		}
	}
	sum := md5.Sum(files["small.jpg"]) //nolint:gosec // G401: the ETag is an MD5
	_, out := getObject(t, admin, bucket, "small.jpg")
	if want := fmt.Sprintf(`"%x"`, sum); aws.ToString(out.ETag) != want {
		t.Errorf("small.jpg ETag %s, want %s", aws.ToString(out.ETag), want)
	}
	_, out = getObject(t, admin, bucket, "big.mp4")
	if !strings.HasSuffix(aws.ToString(out.ETag), `-3"`) {
		t.Errorf("big.mp4 ETag %s, want a 3-part composite", aws.ToString(out.ETag))
	}

	// An ETag that is not the MD5 of what was sent fails the file, in each place it is checked.
	for _, tt := range []struct {
		name  string
		size  int
		match func(*http.Request) bool
		op    string
	}{
		{"put", 5000, func(r *http.Request) bool { return r.Method == http.MethodPut }, "put"},
		{"part", 11 << 20, func(r *http.Request) bool { return r.URL.Query().Get("partNumber") == "2" }, "upload-part"},
		{"complete", 11 << 20, func(r *http.Request) bool { return r.Method == http.MethodPost && r.URL.Query().Has("uploadId") }, "complete-multipart"},
	} {
		client := s3.New(up.Options(), func(o *s3.Options) {
			o.HTTPClient = &tamper{next: o.HTTPClient, match: tt.match, answer: func(r *http.Response) {
				if r.Header.Get("ETag") != "" {
					r.Header.Set("ETag", `"00000000000000000000000000000000"`)
				}
				replaceBody(r, func(b []byte) []byte {
					s := string(b)
					if i, j := strings.Index(s, "<ETag>"), strings.Index(s, "</ETag>"); i >= 0 && j > i {
						s = s[:i] + `<ETag>"00000000000000000000000000000000-3"</ETag>` + s[j+len("</ETag>"):]
					}
					return []byte(s)
				})
			}}
		})
		name := tt.name + ".bin"
		cat := newMemCatalog(name)
		rep, err := Run(context.Background(), Config{Bucket: bucket, Source: tree(t, map[string][]byte{name: randomBytes(t, tt.size)}),
			MultipartThreshold: 6 << 20, PartSize: 5 << 20, Checksum: ChecksumMD5}, Deps{S3: client, Catalog: cat})
		if err != nil || rep.Failed != 1 || len(cat.doneKeys()) != 0 {
			t.Fatalf("%s: %s, %v; want the file failed and not flagged", tt.name, brief(rep), err)
		}
		if e := rep.Errors[0]; e.Op != tt.op || !strings.Contains(e.Message, "the ETag is") {
			t.Errorf("%s: error %+v, want op %s and the ETag named", tt.name, e, tt.op)
		}
	}
}

func TestConfigChecksumAndStorageClass(t *testing.T) {
	t.Parallel()
	base := Config{Bucket: "media", Source: "/srv/media"}.WithDefaults()
	for _, c := range StorageClasses() {
		cfg := base
		cfg.StorageClass = c
		if err := cfg.Validate(); err != nil {
			t.Errorf("storage class %s: %v", c, err)
		}
	}
	for _, bad := range []types.StorageClass{"GLACIER", "DEEP_ARCHIVE", "standard", "COLD"} {
		cfg := base
		cfg.StorageClass = bad
		var ce *ConfigError
		if err := cfg.Validate(); !errors.As(err, &ce) || ce.Setting != "storage-class" || !strings.Contains(err.Error(), "STANDARD_IA") {
			t.Errorf("storage class %s: %v, want a ConfigError naming the valid ones", bad, err)
		}
	}
	cfg := base
	cfg.Checksum = "sha1"
	var ce *ConfigError
	if err := cfg.Validate(); !errors.As(err, &ce) || ce.Setting != "checksum" {
		t.Errorf("checksum sha1: %v, want a ConfigError", err)
	}
}
