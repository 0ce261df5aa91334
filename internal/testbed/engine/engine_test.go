package engine

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"

	"github.com/staticmedia/staticmedia/internal/awsconfig"
	"github.com/staticmedia/staticmedia/internal/testbed/proc"
)

// need skips the test (or fails it under CI=true) when binary is not installed. It is
// testbed.Require, which this package cannot import.
func need(t *testing.T, binary string) {
	t.Helper()
	_, err := Find(binary)
	var notFound *NotFoundError
	switch {
	case err == nil:
	case !errors.As(err, &notFound):
		t.Fatal(err)
	case os.Getenv("CI") == "true":
		t.Fatalf("%v (CI=true, so this is a failure)", err)
	default:
		t.Skipf("SKIPPING: %v", err)
	}
}

// engineUnderTest is what every engine offers Close-wise.
type engineUnderTest interface {
	Process() *proc.Process
	Close() error
}

// TestCloseLeavesNothing starts each engine, uses it, closes it, and checks that the engine,
// every process it started and its directory are gone. Checking the process group is not
// enough: PostgreSQL's auxiliary processes each start a session of their own.
func TestCloseLeavesNothing(t *testing.T) {
	tests := []struct {
		name     string
		binaries []string
		start    func(ctx context.Context) (engineUnderTest, string, error) // the engine and its directory
	}{
		{"moto", []string{"moto_server"}, func(ctx context.Context) (engineUnderTest, string, error) {
			m, err := StartMoto(ctx)
			return m, "", err
		}},
		{"minio", []string{"minio"}, func(ctx context.Context) (engineUnderTest, string, error) {
			m, err := StartMinIO(ctx, MinIOOptions{})
			if m == nil {
				return nil, "", err
			}
			return m, m.dir, err
		}},
		{"postgres", []string{"initdb", "postgres"}, func(ctx context.Context) (engineUnderTest, string, error) {
			p, err := StartPostgres(ctx, PostgresOptions{})
			if p == nil {
				return nil, "", err
			}
			return p, p.base, err
		}},
		{"mysql", []string{"mariadb-install-db", "mariadbd"}, func(ctx context.Context) (engineUnderTest, string, error) {
			m, err := StartMySQL(ctx)
			if m == nil {
				return nil, "", err
			}
			return m, m.base, err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if testing.Short() {
				t.Skip("integration test: starts " + tt.name)
			}
			t.Parallel()
			for _, b := range tt.binaries {
				need(t, b)
			}
			e, dir, err := tt.start(t.Context())
			if err != nil {
				t.Fatalf("start: %v", err)
			}
			p := e.Process()
			tree := append([]int{p.PID()}, descendants(t, p.PID())...)
			if len(tree) < 2 && tt.name == "postgres" {
				t.Errorf("postgres has no child processes: the check below would prove nothing")
			}
			if err := e.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if !p.Exited() {
				t.Errorf("%s (pid %d) still running after Close", p.Name(), p.PID())
			}
			if err := syscall.Kill(-p.PID(), 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("process group %d of %s still has members after Close (kill -0: %v)", p.PID(), p.Name(), err)
			}
			for _, pid := range tree {
				if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
					t.Errorf("pid %d, started by %s, still exists after Close (kill -0: %v)", pid, p.Name(), err)
				}
			}
			if dir != "" {
				if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("directory %s still there after Close (stat: %v)", dir, err)
				}
			}
			if err := e.Close(); err != nil {
				t.Errorf("a second Close: %v", err)
			}
		})
	}
}

// descendants lists the processes below pid, read from /proc.
func descendants(t *testing.T, pid int) []int {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	children := map[int][]int{}
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // exited meanwhile
		}
		// "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses.
		fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		child, err1 := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		parent, err2 := strconv.Atoi(fields[1])
		if err1 == nil && err2 == nil {
			children[parent] = append(children[parent], child)
		}
	}
	var out []int
	for queue := children[pid]; len(queue) > 0; queue = queue[1:] {
		out = append(out, queue[0])
		queue = append(queue, children[queue[0]]...)
	}
	return out
}

// TestStartMissingBinary checks that an engine that is not installed is an error naming the
// program and how to install it, before anything starts.
func TestStartMissingBinary(t *testing.T) {
	// Not parallel: t.Setenv and t.Chdir. Outside the repository there is no .bin to look in.
	t.Chdir(t.TempDir())
	t.Setenv("PATH", t.TempDir())
	t.Setenv("STATICMEDIA_MINIO", "")
	ctx := t.Context()
	tests := []struct {
		name  string
		start func() error
		want  []string
	}{
		{"minio", func() error { _, err := StartMinIO(ctx, MinIOOptions{}); return err }, []string{"minio not found", "make engines"}},
		{"moto", func() error { _, err := StartMoto(ctx); return err }, []string{"moto_server not found", "pip install"}},
		{"postgres", func() error { _, err := StartPostgres(ctx, PostgresOptions{}); return err }, []string{"initdb not found", "postgresql-15"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.start()
			var notFound *NotFoundError
			if !errors.As(err, &notFound) {
				t.Fatalf("start = %v, want a *NotFoundError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}

	t.Run("broken STATICMEDIA_MINIO", func(t *testing.T) {
		t.Setenv("STATICMEDIA_MINIO", "/nonexistent/minio")
		_, err := StartMinIO(ctx, MinIOOptions{})
		var notFound *NotFoundError
		if err == nil || errors.As(err, &notFound) || !strings.Contains(err.Error(), "STATICMEDIA_MINIO") {
			t.Fatalf("start = %v, want an error about STATICMEDIA_MINIO that is not a NotFoundError (not a reason to skip)", err)
		}
	})
}

// TestFindMinIOIsPinned checks the MinIO the tests and the benchmark find against .ci/versions,
// and that a MinIO of another version is refused with the fix.
func TestFindMinIOIsPinned(t *testing.T) {
	need(t, "minio")
	bin, err := Find("minio")
	if err != nil {
		t.Fatal(err)
	}
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	pins, err := PinnedVersions(root)
	if err != nil {
		t.Fatal(err)
	}
	if pins["MINIO_MODULE"] == "" || pins["MINIO_VERSION"] == "" {
		t.Fatalf("PinnedVersions = %v: no MINIO_MODULE and MINIO_VERSION", pins)
	}
	if err := checkPinnedIn(pins, "minio", bin); err != nil {
		t.Fatalf("the MinIO found (%s) is not the pinned one: %v", bin, err)
	}
	other := map[string]string{"MINIO_MODULE": pins["MINIO_MODULE"], "MINIO_VERSION": "v0.0.0-19700101000000-000000000000"}
	err = checkPinnedIn(other, "minio", bin)
	if os.Getenv("STATICMEDIA_MINIO") == "" && (err == nil || !strings.Contains(err.Error(), "make engines")) {
		t.Errorf("against another pinned version: %v, want an error saying make engines", err)
	}
}

// TestFindPostgresIsPinned checks the PostgreSQL major version against .ci/versions, with the
// real programs and with a stand-in that reports another major.
func TestFindPostgresIsPinned(t *testing.T) {
	need(t, "postgres")
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	pins, err := PinnedVersions(root)
	if err != nil {
		t.Fatal(err)
	}
	if pins["POSTGRES_MAJOR"] == "" {
		t.Fatalf("PinnedVersions = %v: no POSTGRES_MAJOR", pins)
	}
	for _, b := range []string{"initdb", "postgres"} {
		if _, err := Find(b); err != nil {
			t.Errorf("Find(%s): %v", b, err)
		}
	}
	other := filepath.Join(t.TempDir(), "postgres")
	if err := os.WriteFile(other, []byte("#!/bin/sh\necho 'postgres (PostgreSQL) 99.1'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	err = checkPinnedIn(pins, "postgres", other)
	if err == nil || !strings.Contains(err.Error(), "99.1") || !strings.Contains(err.Error(), "POSTGRES_MAJOR="+pins["POSTGRES_MAJOR"]) {
		t.Errorf("a PostgreSQL 99: %v, want an error naming 99.1 and the pinned major", err)
	}
}

// TestPortTaken checks what the retry in the Start functions relies on: an engine whose port is
// already taken exits by itself, and the error quotes its output.
func TestPortTaken(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts engines")
	}
	t.Parallel()
	tests := []struct {
		name     string
		binaries []string
		start    func(t *testing.T, port int) (exitedEarly bool, err error)
	}{
		{"moto", []string{"moto_server"}, func(t *testing.T, port int) (bool, error) {
			bin, _ := Find("moto_server")
			m := &Moto{Region: "us-east-1"}
			t.Cleanup(func() { _ = m.Close() })
			return m.start(t.Context(), bin, port)
		}},
		{"minio", []string{"minio"}, func(t *testing.T, port int) (bool, error) {
			bin, _ := Find("minio")
			m := &MinIO{Region: "us-east-1", RootUser: "testbed-user", RootPassword: "testbed-password", dir: t.TempDir()}
			t.Cleanup(func() { _ = m.Close() })
			consolePort, err := FreePort()
			if err != nil {
				t.Fatal(err)
			}
			return m.start(t.Context(), bin, port, consolePort)
		}},
		{"postgres", []string{"initdb", "postgres"}, func(t *testing.T, port int) (bool, error) {
			pg, err := StartPostgres(t.Context(), PostgresOptions{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = pg.Close() })
			if err := pg.Stop(); err != nil {
				t.Fatal(err)
			}
			pg.setPort(port)
			return pg.start(t.Context())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, b := range tt.binaries {
				need(t, b)
			}
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			exitedEarly, err := tt.start(t, l.Addr().(*net.TCPAddr).Port)
			if err == nil {
				t.Fatalf("start on a taken port succeeded")
			}
			t.Logf("start on a taken port: %v", err)
			if !exitedEarly {
				t.Errorf("start on a taken port: exitedEarly = false, want true; error: %v", err)
			}
			if !strings.Contains(strings.ToLower(err.Error()), "in use") {
				t.Errorf("error does not quote the engine's complaint about the port:\n%v", err)
			}
		})
	}
}

// TestRetryOnNewPort checks the retry itself: a start that loses its port is tried again, up to
// three times; any other failure is returned at once.
func TestRetryOnNewPort(t *testing.T) {
	tests := []struct {
		name      string
		failures  int  // how many starts fail
		early     bool // whether they fail by exiting early
		wantCalls int
		wantErr   bool
	}{
		{"first start works", 0, true, 1, false},
		{"port lost twice", 2, true, 3, false},
		{"port lost every time", 5, true, 3, true},
		{"other failure is not retried", 5, false, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			err := retryOnNewPort(func() (bool, error) {
				calls++
				if calls <= tt.failures {
					return tt.early, errors.New("address already in use")
				}
				return false, nil
			})
			if calls != tt.wantCalls || (err != nil) != tt.wantErr {
				t.Errorf("calls = %d, err = %v; want %d calls, error %v", calls, err, tt.wantCalls, tt.wantErr)
			}
		})
	}
}

// TestStartMinIOForTheBench starts MinIO the way the benchmark does (its own directory, a bucket,
// a log file) and uses it at once: the readiness checks must hold back until the S3 API answers,
// not only the health endpoints.
func TestStartMinIOForTheBench(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts MinIO")
	}
	t.Parallel()
	need(t, "minio")
	ctx := t.Context()
	dir := t.TempDir()
	logFile := filepath.Join(dir, "minio.log")
	m, err := StartMinIO(ctx, MinIOOptions{Dir: dir, Buckets: []string{"bench"}, LogFile: logFile})
	if err != nil {
		t.Fatalf("StartMinIO: %v", err)
	}
	defer m.Close()
	if filepath.Dir(m.dir) != dir {
		t.Errorf("data directory %s is not under Dir %s", m.dir, dir)
	}
	cfg, err := awsconfig.Load(ctx, m.Options())
	if err != nil {
		t.Fatal(err)
	}
	client := m.Options().S3(cfg)
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String("a/b.jpg"), Body: strings.NewReader("x")}); err != nil {
		t.Fatalf("PutObject right after the start: %v", err)
	}
	out, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bench")})
	if err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	if len(out.Contents) != 1 {
		t.Fatalf("ListObjectsV2: %d objects, want the one just put", len(out.Contents))
	}
	// --certs-dir keeps MinIO out of ~/.minio (the bench's old copy of this code lacked it).
	if certs, _ := filepath.Glob(filepath.Join(m.dir, "*", "certs")); len(certs) != 1 {
		t.Errorf("certs directories under %s: %v, want one", m.dir, certs)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(logFile); err != nil || !bytes.Contains(b, []byte("minio server")) {
		t.Errorf("log file %s: %q, %v; want the command line", logFile, b, err)
	}
}

// TestStartPostgresForTheBench starts PostgreSQL the way the benchmark does: its own user and
// database, durable settings, a log file.
func TestStartPostgresForTheBench(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts PostgreSQL")
	}
	t.Parallel()
	need(t, "initdb")
	need(t, "postgres")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	logFile := filepath.Join(t.TempDir(), "postgres.log")
	pg, err := StartPostgres(ctx, PostgresOptions{User: "bench", Database: "bench", Durable: true, LogFile: logFile})
	if err != nil {
		t.Fatalf("StartPostgres: %v", err)
	}
	defer pg.Close()
	if !strings.HasPrefix(pg.DSN, "postgres://bench@127.0.0.1:") || !strings.Contains(pg.DSN, "/bench?") {
		t.Errorf("DSN %s does not name the user and database bench", pg.DSN)
	}
	conn, err := pgx.Connect(ctx, pg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for setting, want := range map[string]string{"fsync": "on", "synchronous_commit": "on", "max_connections": "100"} {
		var got string
		if err := conn.QueryRow(ctx, "SHOW "+setting).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("SHOW %s = %s, want PostgreSQL's default %s", setting, got, want)
		}
	}
	if b, err := os.ReadFile(logFile); err != nil || len(b) == 0 {
		t.Errorf("log file %s: %d bytes, %v; want the server's output", logFile, len(b), err)
	}
}

// TestStartCancelled checks that a start honours its context: a cancelled start returns at once
// with the context's error (the failed start stops the engine, as any failed start does).
func TestStartCancelled(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts moto")
	}
	t.Parallel()
	need(t, "moto_server")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	m, err := StartMoto(ctx)
	if err == nil {
		_ = m.Close()
		t.Fatal("StartMoto with a cancelled context succeeded")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("StartMoto = %v, want context.Canceled in the chain", err)
	}
}
