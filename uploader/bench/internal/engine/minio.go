// Package engine starts the servers the benchmark runs against (MinIO, PostgreSQL) as children
// of the harness, on free loopback ports, and stops them.
package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/staticmedia/staticmedia/internal/awsconfig"
	"github.com/staticmedia/staticmedia/uploader/bench/internal/proc"
)

// MinIO is a single-drive MinIO server on loopback.
type MinIO struct {
	Endpoint     string // http://127.0.0.1:PORT
	Region       string
	RootUser     string
	RootPassword string
	DataDir      string

	proc *proc.Background
}

// StartMinIO starts bin on a fresh data directory under workDir, waits until it is live and
// creates bucket.
func StartMinIO(ctx context.Context, bin, workDir, bucket string) (*MinIO, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	consolePort, err := FreePort()
	if err != nil {
		return nil, err
	}
	m := &MinIO{
		Endpoint:     "http://127.0.0.1:" + strconv.Itoa(port),
		Region:       "us-east-1",
		RootUser:     "benchadmin",
		RootPassword: randomHex(16),
		DataDir:      filepath.Join(workDir, "minio-data"),
	}
	if err := os.RemoveAll(m.DataDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(m.DataDir, 0o755); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "server", "--quiet", "--address", "127.0.0.1:"+strconv.Itoa(port),
		"--console-address", "127.0.0.1:"+strconv.Itoa(consolePort), m.DataDir)
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+m.RootUser,
		"MINIO_ROOT_PASSWORD="+m.RootPassword,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_REGION="+m.Region,
	)
	m.proc, err = proc.StartBackground("minio", cmd, filepath.Join(workDir, "minio.log"))
	if err != nil {
		return nil, err
	}
	// The health checks pass before the S3 API has loaded its IAM state (until then every call
	// answers 503 XMinioServerNotInitialized); an anonymous ListBuckets is refused with 403
	// only once it has.
	ready := []httpCheck{
		{m.Endpoint + "/minio/health/live", http.StatusOK},
		{m.Endpoint + "/minio/health/ready", http.StatusOK},
		{m.Endpoint + "/", http.StatusForbidden},
	}
	if err := waitHTTP(ctx, m.proc, ready, time.Minute); err != nil {
		m.Stop()
		return nil, err
	}
	cfg, err := awsconfig.Load(ctx, m.Options())
	if err != nil {
		m.Stop()
		return nil, err
	}
	if _, err := m.Options().S3(cfg).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		m.Stop()
		return nil, fmt.Errorf("minio: creating bucket %s: %w", bucket, err)
	}
	return m, nil
}

// Options are admin settings for the SDK.
func (m *MinIO) Options() awsconfig.Options {
	return awsconfig.Options{
		Region:    m.Region,
		AccessKey: m.RootUser,
		SecretKey: m.RootPassword,
		Endpoints: awsconfig.Endpoints{S3: m.Endpoint},
	}
}

// Stop ends MinIO and removes its data.
func (m *MinIO) Stop() {
	_ = m.proc.Stop(syscall.SIGTERM, 10*time.Second)
	_ = os.RemoveAll(m.DataDir)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port on 127.0.0.1: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// httpCheck is one readiness probe: a GET of url answered with status.
type httpCheck struct {
	url    string
	status int
}

// waitHTTP polls until every check passes in one round, the child exits, or the limit passes.
func waitHTTP(ctx context.Context, p *proc.Background, checks []httpCheck, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: 2 * time.Second}
	probe := func(c httpCheck) string {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
		if err != nil {
			return err.Error()
		}
		resp, err := client.Do(req)
		if err != nil {
			return err.Error()
		}
		resp.Body.Close()
		if resp.StatusCode != c.status {
			return fmt.Sprintf("GET %s: status %d, want %d", c.url, resp.StatusCode, c.status)
		}
		return ""
	}
	for {
		if done, err := p.Exited(); done {
			return fmt.Errorf("%s before it was ready: %w", p.Describe(), err)
		}
		last := ""
		for _, c := range checks {
			if last = probe(c); last != "" {
				break
			}
		}
		if last == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v: %s", p.Describe(), limit, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
