package testbed

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/staticmedia/staticmedia/internal/awsconfig"
)

// MinIOInstallHint says how to install MinIO into RepoRoot/.bin.
const MinIOInstallHint = "make engines (builds the MinIO pinned in .ci/versions and links it as .bin/minio), or set STATICMEDIA_MINIO"

// MinIO is a single-drive MinIO server on 127.0.0.1, reached with its root credentials.
type MinIO struct {
	Endpoint     string // http://127.0.0.1:PORT
	Region       string // us-east-1
	RootUser     string
	RootPassword string

	env  []string // extra server settings, after the testbed's own
	proc *process
}

// StartMinIO starts a new MinIO server with fresh random root credentials and an empty data
// directory; t.Cleanup kills it. env adds server settings, such as MINIO_API_CORS_ALLOW_ORIGIN=ORIGIN
// (MinIO's CORS is this one server-wide setting: it ignores bucket CORS).
func StartMinIO(t testing.TB, env ...string) *MinIO {
	t.Helper()
	bin := Require(t, "minio", MinIOInstallHint)
	m := &MinIO{Region: "us-east-1", RootUser: "testbed-" + randomHex(t, 6), RootPassword: randomHex(t, 16), env: env}
	if err := retryOnNewPort(func() (bool, error) { return m.start(t, bin, FreePort(t), FreePort(t)) }); err != nil {
		t.Fatalf("testbed: minio did not start: %v", err)
	}
	t.Logf("testbed: minio on %s (pid %d)", m.Endpoint, m.proc.pid())
	return m
}

// start runs MinIO on port (and its console on consolePort) and waits until it reports itself
// live and ready and its S3 API answers.
func (m *MinIO) start(t testing.TB, bin string, port, consolePort int) (exitedEarly bool, err error) {
	dir := t.TempDir()
	m.Endpoint = "http://127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(bin, "server", filepath.Join(dir, "data"),
		"--address", "127.0.0.1:"+strconv.Itoa(port),
		"--console-address", "127.0.0.1:"+strconv.Itoa(consolePort),
		// Without --certs-dir MinIO creates ~/.minio/certs.
		"--certs-dir", filepath.Join(dir, "certs"),
		"--quiet")
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+m.RootUser,
		"MINIO_ROOT_PASSWORD="+m.RootPassword,
		"MINIO_BROWSER=off",
		"MINIO_SITE_REGION="+m.Region,
		// No update checks or phoning home: there is no network, and waiting on it is slow.
		"MINIO_UPDATE=off",
		"MINIO_CALLHOME_ENABLE=off",
	)
	cmd.Env = append(cmd.Env, m.env...)
	p, err := startProcess("minio", cmd)
	if err != nil {
		return false, err
	}
	t.Cleanup(func() { stopOrFail(t, p, syscall.SIGKILL, 0) })
	m.proc = p
	err = waitReady(p, func(ctx context.Context) error {
		for _, path := range []string{"/minio/health/live", "/minio/health/ready"} {
			status, _, err := httpCall(ctx, http.MethodGet, m.Endpoint+path, "", "")
			if err != nil {
				return err
			}
			if status != http.StatusOK {
				return fmt.Errorf("GET %s: status %d", path, status)
			}
		}
		// The health checks pass before the S3 API has loaded its IAM state: until then every
		// call answers 503 XMinioServerNotInitialized (seen with six MinIOs starting at once).
		// An anonymous ListBuckets is refused with 403 only once the server is initialized.
		status, _, err := httpCall(ctx, http.MethodGet, m.Endpoint+"/", "", "")
		if err != nil {
			return err
		}
		if status != http.StatusForbidden {
			return fmt.Errorf("anonymous GET /: status %d, want 403 once the S3 API is initialized", status)
		}
		return nil
	})
	return p.failed(err)
}

// Options are root options for S3 calls, with path-style addressing.
func (m *MinIO) Options() awsconfig.Options {
	return awsconfig.Options{
		Region:         m.Region,
		AccessKey:      m.RootUser,
		SecretKey:      m.RootPassword,
		Endpoints:      awsconfig.Endpoints{S3: m.Endpoint},
		S3UsePathStyle: true,
	}
}

// Config loads an aws.Config from Options.
func (m *MinIO) Config(t testing.TB) aws.Config {
	t.Helper()
	return loadConfig(t, "minio", m.Options())
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("testbed: random bytes: %v", err)
	}
	return hex.EncodeToString(b)
}
