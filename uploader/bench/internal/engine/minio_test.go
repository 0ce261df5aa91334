package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/staticmedia/staticmedia/internal/awsconfig"
	"github.com/staticmedia/staticmedia/internal/testbed"
)

// TestStartMinIO starts the bench's MinIO the way make bench does and uses it at once: the
// readiness checks must hold back until the S3 API answers, not only the health endpoints.
func TestStartMinIO(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	bin := testbed.Require(t, "minio", testbed.MinIOInstallHint)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	m, err := StartMinIO(ctx, bin, t.TempDir(), "bench")
	if err != nil {
		t.Fatalf("StartMinIO: %v", err)
	}
	defer m.Stop()
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
}
