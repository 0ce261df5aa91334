package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/staticmedia/staticmedia/uploader/internal/prune"
)

// TestPruneMinIO runs `uploader prune` against MinIO with the provider's Referer policy, on a
// tree where only some files may go: prune must never delete a file whose copy is missing or
// differs, whose record is not flagged, that is a symlink, or that lies outside --source.
func TestPruneMinIO(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	const bucket = "media"
	m, admin := refererBucket(t, bucket)
	ctx := context.Background()
	put := func(t *testing.T, key string, data []byte) {
		t.Helper()
		if _, err := admin.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data)}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("only verified flagged regular files go", func(t *testing.T) {
		files := map[string][]byte{
			"ok.jpg":          randomContent(t, 3000),
			"sp ace/ok 2.jpg": randomContent(t, 500),
			"real.jpg":        randomContent(t, 70),
			"tampered.jpg":    randomContent(t, 100),
			"gone.jpg":        randomContent(t, 100),
		}
		// link.jpg is a symlink to real.jpg inside the source: migrate follows it and flags
		// it, prune must not. linkdir is a symlinked directory pointing outside the source and
		// dir.jpg a directory: migrate calls both invalid, and they are flagged by hand below.
		s := migrateSite(t, m, bucket, "tree/", files, "link.jpg")
		base := filepath.Dir(s.fx.src)
		if err := os.Symlink("real.jpg", filepath.Join(s.fx.src, "link.jpg")); err != nil {
			t.Fatal(err)
		}
		if code, _, stderr := run(t, "", "migrate", "--tf-output", s.outFile, "--source", s.fx.src, "--db", s.dsn, "--table", "photos",
			"--path-column", "file", "--flag-column", "on_s3", "--progress", "never"); code != ExitOK {
			t.Fatalf("migrate of link.jpg: exit code %d; stderr:\n%s", code, stderr)
		}
		outsideDir := filepath.Join(base, "elsewhere")
		outside := writeFile(t, filepath.Join(outsideDir, "outside.jpg"), "outside the source")
		if err := os.Symlink(outsideDir, filepath.Join(s.fx.src, "linkdir")); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(filepath.Join(s.fx.src, "dir.jpg"), 0o755); err != nil {
			t.Fatal(err)
		}
		put(t, "tree/linkdir/outside.jpg", []byte("outside the source"))
		pending := []byte("not flagged, although its copy is perfect")
		writeFile(t, filepath.Join(s.fx.src, "pending.jpg"), string(pending))
		put(t, "tree/pending.jpg", pending)
		for _, q := range []string{
			`INSERT INTO photos (file, on_s3) VALUES ('linkdir/outside.jpg', 1), ('dir.jpg', 1), ('pending.jpg', NULL)`,
		} {
			if _, err := s.db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		put(t, "tree/tampered.jpg", randomContent(t, 100))
		if _, err := admin.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("tree/gone.jpg")}); err != nil {
			t.Fatal(err)
		}

		verified := []string{"ok.jpg", "real.jpg", "sp ace/ok 2.jpg"}
		verifiedBytes := int64(3000 + 70 + 500)
		kept := []string{"gone.jpg", "link.jpg", "pending.jpg", "tampered.jpg"}
		wantProblems := []string{"dir.jpg skipped", "gone.jpg unverified", "link.jpg skipped", "linkdir/outside.jpg skipped", "tampered.jpg unverified"}
		runs := []struct {
			name    string
			extra   []string
			want    prune.Report // counters compared
			deleted bool         // whether the verified files are gone afterwards
			stdout  string
		}{
			{
				name: "dry run deletes nothing", extra: nil,
				want:   prune.Report{DryRun: true, Flagged: 8, WouldDelete: 3, WouldFreeBytes: verifiedBytes, Skipped: 3, Unverified: 2},
				stdout: "dry run: would delete 3 files, freeing 3570 bytes",
			},
			{
				name: "explicit dry run", extra: []string{"--dry-run"},
				want:   prune.Report{DryRun: true, Flagged: 8, WouldDelete: 3, WouldFreeBytes: verifiedBytes, Skipped: 3, Unverified: 2},
				stdout: "would delete " + filepath.Join(s.fx.src, "sp ace", "ok 2.jpg") + " (500 bytes)",
			},
			{
				name: "--yes deletes the verified files", extra: []string{"--yes", "--concurrency", "2", "--batch-size", "3"},
				want:    prune.Report{Flagged: 8, Deleted: 3, FreedBytes: verifiedBytes, Skipped: 3, Unverified: 2},
				deleted: true,
				stdout:  "deleted 3 files, freed 3570 bytes",
			},
			{
				name: "a rerun finds nothing more to delete", extra: []string{"--yes"},
				// link.jpg now dangles: still a symlink, still skipped.
				want:    prune.Report{Flagged: 8, NoLocalFile: 3, Skipped: 3, Unverified: 2},
				deleted: true,
				stdout:  "deleted 0 files, freed 0 bytes",
			},
		}
		for _, r := range runs {
			t.Run(r.name, func(t *testing.T) {
				report := filepath.Join(t.TempDir(), "prune.json")
				code, stdout, stderr := run(t, "", s.args("prune", report, r.extra...)...)
				if code != ExitFailed {
					t.Fatalf("exit code %d, want 1 (two copies do not verify); stderr:\n%s", code, stderr)
				}
				rep := readJSON[prune.Report](t, report)
				got := prune.Report{DryRun: rep.DryRun, Flagged: rep.Flagged, Deleted: rep.Deleted, FreedBytes: rep.FreedBytes,
					WouldDelete: rep.WouldDelete, WouldFreeBytes: rep.WouldFreeBytes, NoLocalFile: rep.NoLocalFile,
					Skipped: rep.Skipped, Unverified: rep.Unverified, Failed: rep.Failed}
				if got.DryRun != r.want.DryRun || got.Flagged != r.want.Flagged || got.Deleted != r.want.Deleted ||
					got.FreedBytes != r.want.FreedBytes || got.WouldDelete != r.want.WouldDelete ||
					got.WouldFreeBytes != r.want.WouldFreeBytes || got.NoLocalFile != r.want.NoLocalFile ||
					got.Skipped != r.want.Skipped || got.Unverified != r.want.Unverified || got.Failed != r.want.Failed {
					t.Errorf("report counters = %+v\nwant %+v\nproblems %q\nstderr:\n%s", got, r.want, problemPaths(rep.Problems), stderr)
				}
				if got := problemPaths(rep.Problems); !slices.Equal(got, wantProblems) {
					t.Errorf("problems = %q, want %q", got, wantProblems)
				}
				if !strings.Contains(stdout, r.stdout) {
					t.Errorf("stdout does not say %q:\n%s", r.stdout, stdout)
				}
				for _, name := range verified {
					_, err := os.Lstat(filepath.Join(s.fx.src, name))
					if exists := err == nil; exists == r.deleted {
						t.Errorf("%s exists = %v after this run, want %v", name, exists, !r.deleted)
					}
				}
				for _, name := range kept {
					if _, err := os.Lstat(filepath.Join(s.fx.src, name)); err != nil {
						t.Errorf("%s was deleted: %v", name, err)
					}
				}
				if fi, err := os.Lstat(filepath.Join(s.fx.src, "link.jpg")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
					t.Errorf("link.jpg is no longer a symlink: %v", err)
				}
				if data, err := os.ReadFile(outside); err != nil || string(data) != "outside the source" {
					t.Errorf("the file outside the source changed: %q, %v", data, err)
				}
				if fi, err := os.Stat(filepath.Join(s.fx.src, "dir.jpg")); err != nil || !fi.IsDir() {
					t.Errorf("dir.jpg is gone: %v", err)
				}
			})
		}
	})

	t.Run("everything verified exits 0", func(t *testing.T) {
		files := map[string][]byte{"a.jpg": imageContent(t, ".jpg", 10), "ünï/b+c#d.png": imageContent(t, ".png", 20), "zero.bin": {}}
		s := migrateSite(t, m, bucket, "clean/", files)
		report := filepath.Join(t.TempDir(), "prune.json")
		code, stdout, stderr := run(t, "", s.args("prune", report, "--yes")...)
		rep := readJSON[prune.Report](t, report)
		if code != ExitOK || rep.Deleted != 3 || rep.FreedBytes != 30 || len(rep.Problems) != 0 {
			t.Fatalf("exit code %d, report %+v; stdout:\n%s\nstderr:\n%s", code, rep, stdout, stderr)
		}
		for name := range files {
			if _, err := os.Lstat(filepath.Join(s.fx.src, name)); err == nil {
				t.Errorf("%s still exists", name)
			}
		}
		// Nothing deleted on S3: verify still finds every copy, by status.
		vreport := filepath.Join(t.TempDir(), "verify.json")
		if code, _, stderr := run(t, "", s.args("verify", vreport, "--expect-no-referer", "403")...); code != ExitOK {
			t.Fatalf("verify after prune: exit code %d; stderr:\n%s", code, stderr)
		}
	})
}
