package testbed

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/staticmedia/staticmedia/internal/testbed/engine"
)

// MinIO is a single-drive MinIO server on 127.0.0.1, reached with its root credentials
// (engine.MinIO's Endpoint, Region, RootUser, RootPassword and Options).
type MinIO struct {
	*engine.MinIO
}

// StartMinIO starts a new MinIO server with fresh random root credentials and an empty data
// directory; t.Cleanup kills it. env adds server settings, such as MINIO_API_CORS_ALLOW_ORIGIN=ORIGIN
// (MinIO's CORS is this one server-wide setting: it ignores bucket CORS).
func StartMinIO(t testing.TB, env ...string) *MinIO {
	t.Helper()
	bin := Require(t, "minio", MinIOInstallHint)
	m, err := engine.StartMinIO(context.Background(), engine.MinIOOptions{Bin: bin, Env: env})
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	closeOnCleanup(t, "minio", m)
	t.Logf("testbed: minio on %s (pid %d)", m.Endpoint, m.Process().PID())
	return &MinIO{m}
}

// Config loads an aws.Config from Options.
func (m *MinIO) Config(t testing.TB) aws.Config {
	t.Helper()
	return loadConfig(t, "minio", m.Options())
}
