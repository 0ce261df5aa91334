package testbed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/jackc/pgx/v5"

	"github.com/staticmedia/staticmedia/internal/awsconfig"
	"github.com/staticmedia/staticmedia/internal/testbed/proc"
)

// runEngine runs body in a subtest, so the engine's cleanups have run when it returns, and then
// checks that the engine and its process group are gone. (Package engine's tests check that Close
// leaves no process of the engine's tree behind; here the point is that t.Cleanup calls it.)
func runEngine(t *testing.T, body func(t *testing.T) *proc.Process) {
	t.Helper()
	var p *proc.Process
	t.Run("engine", func(t *testing.T) { p = body(t) })
	if p == nil {
		return // skipped or failed before the engine started
	}
	if !p.Exited() {
		t.Errorf("%s (pid %d) still running after cleanup", p.Name(), p.PID())
	}
	if err := syscall.Kill(-p.PID(), 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process group %d of %s still has members after cleanup (kill -0: %v)", p.PID(), p.Name(), err)
	}
}

// apiErrorCode returns the AWS error code of err, or "" when err is not an API error.
func apiErrorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

func TestRepoRoot(t *testing.T) {
	root := RepoRoot(t)
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("RepoRoot() = %q has no go.mod: %v", root, err)
	}
	if wd, _ := os.Getwd(); !strings.HasPrefix(wd, root) {
		t.Errorf("RepoRoot() = %q is not above the working directory %q", root, wd)
	}
}

func TestFreePort(t *testing.T) {
	a, b := FreePort(t), FreePort(t)
	if a <= 0 || b <= 0 {
		t.Fatalf("FreePort() = %d, %d; want positive ports", a, b)
	}
}

func TestMoto(t *testing.T) {
	t.Parallel()
	runEngine(t, func(t *testing.T) *proc.Process {
		m := StartMoto(t)
		ctx := context.Background()
		opts := m.Options()
		cfg := m.Config(t)
		if _, err := opts.S3(cfg).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("testbed-bucket")}); err != nil {
			t.Fatalf("S3 CreateBucket: %v", err)
		}
		if _, err := opts.IAM(cfg).ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
			t.Fatalf("IAM ListUsers: %v", err)
		}
		out, err := opts.STS(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("STS GetCallerIdentity: %v", err)
		}
		if aws.ToString(out.Account) == "" {
			t.Errorf("GetCallerIdentity returned no account")
		}
		return m.Process()
	})
}

func TestMotoEnforcement(t *testing.T) {
	t.Parallel()
	runEngine(t, func(t *testing.T) *proc.Process {
		m := StartMoto(t)
		ctx := context.Background()
		m.EnableIAMEnforcement(t)
		if m.AccessKey == "testing" {
			t.Fatalf("EnableIAMEnforcement kept the testing key")
		}
		admin := m.Options()
		adminCfg := m.Config(t)

		// The admin creates a user with no policy at all.
		iamc := admin.IAM(adminCfg)
		if _, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("no-policy")}); err != nil {
			t.Fatalf("admin CreateUser: %v", err)
		}
		key, err := iamc.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("no-policy")})
		if err != nil {
			t.Fatalf("admin CreateAccessKey: %v", err)
		}
		if _, err := admin.S3(adminCfg).ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
			t.Fatalf("admin ListBuckets: %v", err)
		}
		arn, err := m.CallerIdentity(ctx, m.AccessKey, m.SecretKey)
		if err != nil || !strings.HasSuffix(arn, ":user/"+MotoAdminUser) {
			t.Errorf("admin GetCallerIdentity = %q, %v; want the %s user", arn, err, MotoAdminUser)
		}

		// As on AWS, GetCallerIdentity needs no permission: the user without a policy may call it.
		if arn, err := m.CallerIdentity(ctx, aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey)); err != nil || !strings.HasSuffix(arn, ":user/no-policy") {
			t.Errorf("no-policy GetCallerIdentity = %q, %v; want the no-policy user", arn, err)
		}

		tests := []struct {
			name, accessKey, secretKey string
			wantCode                   string
		}{
			{"user without policy", aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey), "AccessDenied"},
			{"old testing key", "testing", "testing", "InvalidAccessKeyId"},
			{"made-up key", "AKIATESTBEDMADEUP000", "not-a-secret", "InvalidAccessKeyId"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				o := m.Options()
				o.AccessKey, o.SecretKey = tt.accessKey, tt.secretKey
				o.MaxRetries = 1
				cfg, err := awsconfig.Load(ctx, o)
				if err != nil {
					t.Fatal(err)
				}
				_, err = o.S3(cfg).ListBuckets(ctx, &s3.ListBucketsInput{})
				if got := apiErrorCode(err); got != tt.wantCode {
					t.Errorf("ListBuckets error code = %q (%v), want %q", got, err, tt.wantCode)
				}
			})
		}
		return m.Process()
	})
}

func TestMinIO(t *testing.T) {
	t.Parallel()
	runEngine(t, func(t *testing.T) *proc.Process {
		m := StartMinIO(t)
		ctx := context.Background()
		opts := m.Options()
		client := opts.S3(m.Config(t))
		bucket := aws.String("testbed-bucket")
		if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
			t.Fatalf("CreateBucket: %v", err)
		}
		const body = "hello from testbed"
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("a/b.txt"), Body: strings.NewReader(body)}); err != nil {
			t.Fatalf("PutObject: %v", err)
		}
		out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("a/b.txt")})
		if err != nil {
			t.Fatalf("GetObject: %v", err)
		}
		defer out.Body.Close()
		got, err := io.ReadAll(out.Body)
		if err != nil || string(got) != body {
			t.Errorf("GetObject body = %q, %v; want %q", got, err, body)
		}
		return m.Process()
	})
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	runEngine(t, func(t *testing.T) *proc.Process {
		pg := StartPostgres(t)
		ctx := context.Background()
		selectOne := func(dsn string) error {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				return err
			}
			defer conn.Close(ctx)
			var one int
			if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
				return err
			}
			if one != 1 {
				return fmt.Errorf("SELECT 1 returned %d", one)
			}
			return nil
		}
		if err := selectOne(pg.DSN); err != nil {
			t.Fatalf("SELECT 1 on %s: %v", pg.Database, err)
		}
		// The tests' clusters trade durability for speed (engine.PostgresOptions.Durable is off).
		if conn, err := pgx.Connect(ctx, pg.DSN); err != nil {
			t.Fatal(err)
		} else {
			var fsync string
			if err := conn.QueryRow(ctx, "SHOW fsync").Scan(&fsync); err != nil || fsync != "off" {
				t.Errorf("SHOW fsync = %q, %v; want off", fsync, err)
			}
			conn.Close(ctx)
		}
		first := pg.Process()

		pg.Stop(t)
		if err := selectOne(pg.DSN); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("after Stop, connecting: %v; want connection refused", err)
		}
		if err := syscall.Kill(-first.PID(), 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("after Stop, process group %d still has members (kill -0: %v)", first.PID(), err)
		}

		pg.Start(t)
		if err := selectOne(pg.DSN); err != nil {
			t.Fatalf("after Start, SELECT 1: %v", err)
		}

		dsn := pg.CreateDatabase(t, "second")
		if !strings.Contains(dsn, "/second?") {
			t.Errorf("CreateDatabase DSN %q does not name the database", dsn)
		}
		if err := selectOne(dsn); err != nil {
			t.Fatalf("SELECT 1 on the new database: %v", err)
		}
		return pg.Process()
	})
}

// recordingTB captures Fatalf and Skipf instead of ending the test, so Require's verdict can be
// checked. Everything else goes to the real test.
type recordingTB struct {
	testing.TB
	fatal, skip string
}

func (r *recordingTB) Helper()                           {}
func (r *recordingTB) Fatalf(format string, args ...any) { r.fatal = fmt.Sprintf(format, args...) }
func (r *recordingTB) Skipf(format string, args ...any)  { r.skip = fmt.Sprintf(format, args...) }

func TestRequire(t *testing.T) {
	// Not parallel: t.Setenv.
	executable := filepath.Join(t.TempDir(), "fake-minio")
	if err := os.WriteFile(executable, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, binary, ci, minioEnv string
		wantPath                   string // "" when the test must end
		wantFatal, wantSkip        bool
	}{
		{name: "missing under CI fails", binary: "testbed-no-such-binary", ci: "true", wantFatal: true},
		{name: "missing outside CI skips", binary: "testbed-no-such-binary", ci: "", wantSkip: true},
		{name: "CI=1 is not CI=true", binary: "testbed-no-such-binary", ci: "1", wantSkip: true},
		{name: "found on PATH", binary: "sh", ci: "true", wantPath: "/sh"},
		{name: "STATICMEDIA_MINIO wins", binary: "minio", minioEnv: executable, wantPath: executable},
		{name: "broken STATICMEDIA_MINIO fails even outside CI", binary: "minio", minioEnv: executable + ".missing", wantFatal: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			t.Setenv("STATICMEDIA_MINIO", tt.minioEnv)
			rec := &recordingTB{TB: t}
			got := Require(rec, tt.binary, "the install hint")
			if tt.wantPath != "" && (!strings.HasSuffix(got, tt.wantPath) || !filepath.IsAbs(got)) {
				t.Errorf("Require = %q, want an absolute path ending in %q", got, tt.wantPath)
			}
			if (rec.fatal != "") != tt.wantFatal || (rec.skip != "") != tt.wantSkip {
				t.Fatalf("Require: fatal=%q skip=%q; want fatal %v, skip %v", rec.fatal, rec.skip, tt.wantFatal, tt.wantSkip)
			}
			if msg := rec.fatal + rec.skip; tt.binary != "minio" && msg != "" &&
				(!strings.Contains(msg, tt.binary) || !strings.Contains(msg, "the install hint")) {
				t.Errorf("message %q does not name the binary and the install hint", msg)
			}
		})
	}
}
