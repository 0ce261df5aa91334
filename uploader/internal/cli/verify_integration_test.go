package cli

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/staticmedia/staticmedia/internal/policy"
	"github.com/staticmedia/staticmedia/internal/testbed"
	"github.com/staticmedia/staticmedia/uploader/internal/verify"
)

// The site the test bucket's Referer policy allows, and a page of it.
const (
	sitePattern = "http://www.example.test/*"
	sitePage    = "http://www.example.test/gallery/page.html"
)

// refererBucket starts MinIO with a bucket carrying the provider's Referer policy (allowed
// site plus the empty-Referer statement), applied with the root client as the provider does.
// MinIO ignores PutPublicAccessBlock, so nothing else is needed for anonymous GETs.
func refererBucket(t *testing.T, bucket string) (*testbed.MinIO, *s3.Client) {
	t.Helper()
	m, admin := minioWithBucket(t, bucket)
	doc, err := policy.RefererRead(policy.RefererReadInput{Bucket: bucket, Referers: []string{sitePattern}, AllowEmptyReferer: true})
	if err != nil {
		t.Fatal(err)
	}
	js, err := doc.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.PutBucketPolicy(context.Background(), &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(js)}); err != nil {
		t.Fatalf("PutBucketPolicy: %v", err)
	}
	return m, admin
}

// site is a media tree migrated with the real `uploader migrate` into the bucket, from an
// application table in SQLite.
type site struct {
	fx      fixture
	dsn     string
	db      *sql.DB
	outFile string
	bucket  string
	prefix  string
}

// migrateSite writes files, lists them (plus extra paths) in a new table and migrates them
// under prefix. It checks that migrate uploaded every file.
func migrateSite(t *testing.T, m *testbed.MinIO, bucket, prefix string, files map[string][]byte, extra ...string) site {
	t.Helper()
	fx := newFixture(t, files)
	var paths []string
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	dsn, db := appTable(t, append(paths, extra...))
	outFile := writeFile(t, filepath.Join(t.TempDir(), "out.json"), tfOutputJSON(t, map[string]any{
		"bucket": bucket, "region": m.Region, "access_key_id": m.RootUser, "secret_access_key": m.RootPassword,
		"endpoint": m.Endpoint, "public_base_url": m.Endpoint + "/" + bucket + "/", "key_prefix": prefix,
	}))
	s := site{fx: fx, dsn: dsn, db: db, outFile: outFile, bucket: bucket, prefix: prefix}
	code, _, stderr := run(t, "", "migrate", "--tf-output", outFile, "--source", fx.src, "--db", dsn, "--table", "photos",
		"--path-column", "file", "--flag-column", "on_s3", "--progress", "never")
	if code != ExitOK {
		t.Fatalf("migrate: exit code %d; stderr:\n%s", code, stderr)
	}
	return s
}

// args are the command's arguments for this site's table, with the allowed Referer.
func (s site) args(command, report string, extra ...string) []string {
	return append([]string{command, "--tf-output", s.outFile, "--source", s.fx.src, "--db", s.dsn, "--table", "photos",
		"--path-column", "file", "--flag-column", "on_s3", "--referer", sitePage, "--report", report}, extra...)
}

// imageSignatures are the first bytes of each raster type, which verify checks.
var imageSignatures = map[string]string{
	".jpg": "\xFF\xD8\xFF", ".png": "\x89PNG\r\n\x1a\n", ".gif": "GIF89a", ".webp": "RIFF\x00\x00\x00\x00WEBP",
}

// imageContent is n bytes that start as a file of ext's type and go on at random.
func imageContent(t *testing.T, ext string, n int) []byte {
	t.Helper()
	sig := imageSignatures[ext]
	if sig == "" || n < len(sig) {
		t.Fatalf("imageContent(%s, %d): no signature, or too short for it", ext, n)
	}
	return append([]byte(sig), randomContent(t, n-len(sig))...)
}

func readJSON[T any](t *testing.T, path string) T {
	t.Helper()
	var v T
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, data)
	}
	return v
}

// problemPaths lists the paths of the report's problems with their outcomes.
func problemPaths(rs []verify.Result) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Path+" "+r.Outcome)
	}
	return out
}

// TestVerifyMinIO runs `uploader verify` against MinIO with the provider's Referer policy.
//
// The policy has the empty-Referer statement (Null aws:Referer = true), so AWS answers 200 to a
// GET without a Referer. MinIO evaluates that Null condition differently and answers 403, so
// these runs pass --expect-no-referer 403; the 200 branch is covered by the verify package's
// unit tests.
func TestVerifyMinIO(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	const bucket = "media"
	m, admin := refererBucket(t, bucket)
	files := map[string][]byte{
		"photos/cat.jpg":      imageContent(t, ".jpg", 70<<10),
		"sp ace/photo 1.jpg":  imageContent(t, ".jpg", 2048),
		"ünïcødé/日本語.png":     imageContent(t, ".png", 100),
		"a+b/c+d.gif":         imageContent(t, ".gif", 10),
		"hash#tag.jpg":        imageContent(t, ".jpg", 10),
		"100%/50%20off.webp":  imageContent(t, ".webp", 12),
		"q?uery&x=y;z.jpg":    imageContent(t, ".jpg", 10),
		"zero.bin":            {},
		"deep/1/2/3/leaf.txt": []byte("leaf"),
	}
	ctx := context.Background()
	put := func(t *testing.T, s site, name string, data []byte) {
		t.Helper()
		if _, err := admin.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(s.prefix + name), Body: bytes.NewReader(data)}); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name     string
		extra    []string               // more verify flags
		mutate   func(*testing.T, site) // after the migration
		wantCode int
		want     verify.Report // the counters compared
		// wantProblems are "path outcome" of the listed problems; wantText must appear in one.
		wantProblems []string
		wantText     string
	}{
		{
			name:     "every copy verifies",
			extra:    []string{"--expect-no-referer", "403", "--concurrency", "3", "--batch-size", "2"},
			wantCode: ExitOK,
			want:     verify.Report{Flagged: 9, Checked: 9, OK: 9, Bytes: 70<<10 + 2048 + 100 + 10*4 + 2 + 4},
		},
		{
			name:  "tampered copies are mismatches",
			extra: []string{"--expect-no-referer", "403"},
			mutate: func(t *testing.T, s site) {
				put(t, s, "photos/cat.jpg", randomContent(t, 70<<10)) // same size, other bytes
				put(t, s, "a+b/c+d.gif", []byte("longer than ten bytes"))
			},
			wantCode:     ExitFailed,
			want:         verify.Report{Flagged: 9, Checked: 9, OK: 7, Mismatched: 2, Bytes: 70<<10 + 2048 + 100 + 10*3 + 2 + 21 + 4},
			wantProblems: []string{"a+b/c+d.gif mismatch", "photos/cat.jpg mismatch"},
			wantText:     "content: the public copy's MD5",
		},
		{
			name:  "a deleted object is a mismatch",
			extra: []string{"--expect-no-referer", "403"},
			mutate: func(t *testing.T, s site) {
				if _, err := admin.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(s.prefix + "hash#tag.jpg")}); err != nil {
					t.Fatal(err)
				}
			},
			wantCode:     ExitFailed,
			want:         verify.Report{Flagged: 9, Checked: 9, OK: 8, Mismatched: 1, Bytes: 70<<10 + 2048 + 100 + 10*3 + 2 + 4},
			wantProblems: []string{"hash#tag.jpg mismatch"},
			wantText:     "GET with the allowed Referer " + sitePage + " answered",
		},
		{
			name:  "a pruned file is checked by status only",
			extra: []string{"--expect-no-referer", "403"},
			mutate: func(t *testing.T, s site) {
				if err := os.Remove(filepath.Join(s.fx.src, "photos", "cat.jpg")); err != nil {
					t.Fatal(err)
				}
			},
			wantCode: ExitOK,
			want:     verify.Report{Flagged: 9, Checked: 9, OK: 8, NoLocalFile: 1, Bytes: 2048 + 100 + 10*4 + 2 + 4},
		},
		{
			// MinIO denies GETs without a Referer (see above), so expecting AWS's 200 fails
			// every record: the no-Referer GET really is made and checked.
			name:     "the no-Referer expectation is checked",
			extra:    []string{"--expect-no-referer", "200", "--sample", "2"},
			wantCode: ExitFailed,
			want:     verify.Report{Flagged: 9, Checked: 2, Mismatched: 2, Sample: 2},
			wantText: "GET without a Referer answered 403 AccessDenied, want 200",
		},
		{
			// A "foreign" Referer the policy allows is served: verify reports the open door.
			name:     "a foreign Referer that is served is a mismatch",
			extra:    []string{"--expect-no-referer", "skip", "--foreign-referer", "http://www.example.test/other/", "--sample", "1"},
			wantCode: ExitFailed,
			want:     verify.Report{Flagged: 9, Checked: 1, Mismatched: 1, Sample: 1},
			wantText: "the bucket serves any Referer",
		},
		{
			name:     "a Referer the policy does not allow fails every record",
			extra:    []string{"--expect-no-referer", "skip", "--referer", "http://elsewhere.test/", "--sample", "3"},
			wantCode: ExitFailed,
			want:     verify.Report{Flagged: 9, Checked: 3, Mismatched: 3, Sample: 3},
			wantText: "answered 403 AccessDenied, want 200: the object is missing",
		},
		{
			name:     "a sample checks that many records",
			extra:    []string{"--expect-no-referer", "403", "--sample", "4", "--seed", "7"},
			wantCode: ExitOK,
			want:     verify.Report{Flagged: 9, Checked: 4, OK: 4, Sample: 4, Seed: 7},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := migrateSite(t, m, bucket, "case"+string(rune('a'+i))+"/", files)
			if tt.mutate != nil {
				tt.mutate(t, s)
			}
			report := filepath.Join(t.TempDir(), "verify.json")
			code, _, stderr := run(t, "", s.args("verify", report, tt.extra...)...)
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, tt.wantCode, stderr)
			}
			rep := readJSON[verify.Report](t, report)
			got := verify.Report{Flagged: rep.Flagged, Checked: rep.Checked, OK: rep.OK, NoLocalFile: rep.NoLocalFile,
				Mismatched: rep.Mismatched, Invalid: rep.Invalid, Failed: rep.Failed, Sample: rep.Sample}
			want := tt.want
			if want.Bytes != 0 {
				got.Bytes = rep.Bytes
			}
			if want.Seed != 0 {
				got.Seed = rep.Seed
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("report counters = %+v\nwant %+v\nproblems: %q\nstderr:\n%s", got, want, problemPaths(rep.Problems), stderr)
			}
			if tt.wantProblems != nil && !slices.Equal(problemPaths(rep.Problems), tt.wantProblems) {
				t.Errorf("problems = %q, want %q", problemPaths(rep.Problems), tt.wantProblems)
			}
			if tt.wantText != "" {
				data, _ := os.ReadFile(report)
				if !strings.Contains(string(data), jsonEscape(tt.wantText)) {
					t.Errorf("the report does not say %q:\n%s", tt.wantText, data)
				}
			}
			if strings.Contains(stderr, m.RootPassword) {
				t.Error("the log contains the secret key")
			}
		})
	}

	t.Run("every probe answers as the policy says", func(t *testing.T) {
		// One record, looked at closely: the statuses of the three GETs and the ETag.
		s := migrateSite(t, m, bucket, "probes/", map[string][]byte{"a+b c.jpg": []byte("probe me")})
		put(t, s, "a+b c.jpg", []byte("tampered"))
		report := filepath.Join(t.TempDir(), "verify.json")
		code, _, stderr := run(t, "", s.args("verify", report, "--expect-no-referer", "403")...)
		if code != ExitFailed {
			t.Fatalf("exit code %d, want 1; stderr:\n%s", code, stderr)
		}
		rep := readJSON[verify.Report](t, report)
		if len(rep.Problems) != 1 {
			t.Fatalf("problems = %+v", rep.Problems)
		}
		p := rep.Problems[0]
		var statuses []int
		for _, pr := range p.Probes {
			statuses = append(statuses, pr.Status)
		}
		if !slices.Equal(statuses, []int{http.StatusOK, http.StatusForbidden, http.StatusForbidden}) {
			t.Errorf("statuses (allowed, foreign, none) = %v, want [200 403 403]", statuses)
		}
		if p.URL != m.Endpoint+"/"+bucket+"/probes/a%2Bb%20c.jpg" {
			t.Errorf("URL = %q: the key must be escaped with %%2B and %%20", p.URL)
		}
		wantProblems := []string{"content: the public copy's MD5", "etag: the public copy's ETag"}
		for i, w := range wantProblems {
			if i >= len(p.Problems) || !strings.HasPrefix(p.Problems[i], w) {
				t.Errorf("problems = %q, want ones starting with %q", p.Problems, wantProblems)
				break
			}
		}
	})

	t.Run("ledger mode", func(t *testing.T) {
		fx := newFixture(t, files)
		ledger := filepath.Join(t.TempDir(), "ledger.db")
		outFile := writeFile(t, filepath.Join(t.TempDir(), "out.json"), tfOutputJSON(t, map[string]any{
			"bucket": bucket, "region": m.Region, "access_key_id": m.RootUser, "secret_access_key": m.RootPassword,
			"endpoint": m.Endpoint, "public_base_url": m.Endpoint + "/" + bucket, "key_prefix": "ledger/",
		}))
		common := []string{"--tf-output", outFile, "--source", fx.src, "--ledger", ledger}
		if code, _, stderr := run(t, "", append([]string{"migrate", "--progress", "never"}, common...)...); code != ExitOK {
			t.Fatalf("migrate: exit code %d; stderr:\n%s", code, stderr)
		}
		report := filepath.Join(t.TempDir(), "verify.json")
		code, _, stderr := run(t, "", append(append([]string{"verify"}, common...), "--referer", sitePage, "--expect-no-referer", "403", "--report", report)...)
		rep := readJSON[verify.Report](t, report)
		if code != ExitOK || rep.Checked != int64(len(files)) || rep.OK != int64(len(files)) {
			t.Fatalf("exit code %d, report %+v; stderr:\n%s", code, rep, stderr)
		}
	})
}

// jsonEscape is s as it appears inside a JSON string.
func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}
