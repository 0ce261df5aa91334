package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/staticmedia/staticmedia/internal/awsconfig"
	"github.com/staticmedia/staticmedia/internal/testbed/proc"
)

// MinIOOptions configure StartMinIO. The zero value is a MinIO found by Find, in a new directory
// under os.TempDir(), with no buckets.
type MinIOOptions struct {
	Bin     string   // the minio binary; "" means Find("minio")
	Dir     string   // where its temporary directory goes; "" means os.TempDir()
	Buckets []string // created once the server is ready
	LogFile string   // appended with the server's output when not ""
	// Env adds server settings after the engine's own, such as MINIO_API_CORS_ALLOW_ORIGIN=ORIGIN
	// (MinIO's CORS is this one server-wide setting: it ignores bucket CORS).
	Env []string
}

// MinIO is a single-drive MinIO server on 127.0.0.1, reached with its root credentials.
type MinIO struct {
	Endpoint     string // http://127.0.0.1:PORT
	Region       string // us-east-1
	RootUser     string
	RootPassword string

	dir  string
	log  *os.File
	env  []string
	proc *proc.Process
}

// StartMinIO starts a new MinIO server with fresh random root credentials and an empty data
// directory, waits until its S3 API answers and creates o.Buckets. Close stops it.
func StartMinIO(ctx context.Context, o MinIOOptions) (*MinIO, error) {
	bin := o.Bin
	if bin == "" {
		var err error
		if bin, err = Find("minio"); err != nil {
			return nil, fmt.Errorf("minio: %w", err)
		}
	}
	user, err := randomHex(6)
	if err != nil {
		return nil, fmt.Errorf("minio: %w", err)
	}
	password, err := randomHex(16)
	if err != nil {
		return nil, fmt.Errorf("minio: %w", err)
	}
	m := &MinIO{Region: "us-east-1", RootUser: "testbed-" + user, RootPassword: password, env: o.Env}
	if m.dir, err = os.MkdirTemp(o.Dir, "testbed-minio-"); err != nil {
		return nil, fmt.Errorf("minio: temporary directory: %w", err)
	}
	if m.log, err = openLog("minio", o.LogFile); err != nil {
		_ = m.Close()
		return nil, err
	}
	err = retryOnNewPort(func() (bool, error) {
		port, err := FreePort()
		if err != nil {
			return false, err
		}
		consolePort, err := FreePort()
		if err != nil {
			return false, err
		}
		return m.start(ctx, bin, port, consolePort)
	})
	if err != nil {
		_ = m.Close()
		return nil, fmt.Errorf("minio did not start: %w", err)
	}
	if len(o.Buckets) > 0 {
		cfg, err := awsconfig.Load(ctx, m.Options())
		if err != nil {
			_ = m.Close()
			return nil, fmt.Errorf("minio: configuration: %w", err)
		}
		client := m.Options().S3(cfg)
		for _, b := range o.Buckets {
			if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
				_ = m.Close()
				return nil, fmt.Errorf("minio: creating bucket %s: %w", b, err)
			}
		}
	}
	return m, nil
}

// start runs MinIO on port (and its console on consolePort) in a fresh data directory and waits
// until it reports itself live and ready and its S3 API answers.
func (m *MinIO) start(ctx context.Context, bin string, port, consolePort int) (exitedEarly bool, err error) {
	attempt, err := os.MkdirTemp(m.dir, "run-")
	if err != nil {
		return false, err
	}
	m.Endpoint = "http://127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(bin, "server", filepath.Join(attempt, "data"),
		"--address", "127.0.0.1:"+strconv.Itoa(port),
		"--console-address", "127.0.0.1:"+strconv.Itoa(consolePort),
		// Without --certs-dir MinIO creates ~/.minio/certs.
		"--certs-dir", filepath.Join(attempt, "certs"),
		"--quiet")
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+m.RootUser,
		"MINIO_ROOT_PASSWORD="+m.RootPassword,
		"MINIO_BROWSER=off",
		// MINIO_REGION is the deprecated spelling.
		"MINIO_SITE_REGION="+m.Region,
		// No update checks or phoning home: there is no network, and waiting on it is slow.
		"MINIO_UPDATE=off",
		"MINIO_CALLHOME_ENABLE=off",
	)
	cmd.Env = append(cmd.Env, m.env...)
	p, err := proc.Start("minio", cmd, logWriter(m.log))
	if err != nil {
		return false, err
	}
	m.proc = p
	err = waitReady(ctx, p, func(ctx context.Context) error {
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
		return m.probeIAM(ctx)
	})
	return failed(p, err)
}

// probeIAM checks that the IAM subsystem answers: a request signed with an unknown key is
// refused as InvalidAccessKeyId. The anonymous check passes earlier, while such a request still
// answers 503 XMinioIAMNotInitialized (seen on a busy CI machine, failing a test of that answer).
func (m *MinIO) probeIAM(ctx context.Context) error {
	o := m.Options()
	o.AccessKey, o.SecretKey = "TESTBEDPROBEUNKNOWNKEY", "testbed-probe-unknown-secret"
	o.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	cfg, err := awsconfig.Load(ctx, o)
	if err != nil {
		return err
	}
	_, err = o.S3(cfg).ListBuckets(ctx, &s3.ListBucketsInput{})
	var apiErr smithy.APIError
	switch {
	case err == nil:
		return errors.New("ListBuckets with an unknown key succeeded")
	case errors.As(err, &apiErr) && apiErr.ErrorCode() == "InvalidAccessKeyId":
		return nil
	default:
		return fmt.Errorf("ListBuckets with an unknown key: %w; want InvalidAccessKeyId once IAM is initialized", err)
	}
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

// Process is the running server.
func (m *MinIO) Process() *proc.Process { return m.proc }

// Close kills the server, waits for its exit and removes its data. MinIO keeps nothing worth a
// clean shutdown.
func (m *MinIO) Close() error {
	return closeAll(
		func() error {
			if m.proc == nil {
				return nil
			}
			return m.proc.Stop(syscall.SIGKILL, 0)
		},
		func() error {
			if m.log == nil {
				return nil
			}
			return m.log.Close()
		},
		func() error { return os.RemoveAll(m.dir) },
	)
}
