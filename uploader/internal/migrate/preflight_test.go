package migrate

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/staticmedia/staticmedia/internal/awsconfig"
)

// TestPreflightWebIdentityTokenUnreadable runs the real exchange with a token file that is gone
// (CI did not write it, or a step removed it): the preflight says so before any request.
func TestPreflightWebIdentityTokenUnreadable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	missing := filepath.Join(t.TempDir(), "token")
	client, err := NewS3Client(ctx, ClientConfig{
		Region: "us-east-1", Endpoint: "http://127.0.0.1:9", MaxAttempts: 1,
		WebIdentity: &awsconfig.WebIdentity{RoleARN: "arn:aws:iam::123456789012:role/upload", TokenFile: missing, SessionName: "test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	err = Preflight(ctx, client, "media")
	var pe *PreflightError
	if !errors.As(err, &pe) {
		t.Fatalf("Preflight error = %v, want a PreflightError", err)
	}
	for _, want := range []string{"web identity token file cannot be read", "must write its OIDC token", "arn:aws:iam::123456789012:role/upload", missing} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

// TestExplainWebIdentity maps STS's refusals of the token to what to check. The errors are built
// as the SDK wraps them: the API error inside the provider's error inside WebIdentityError.
func TestExplainWebIdentity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code string
		want []string
	}{
		{"AccessDenied", []string{"STS refused the role to this token", "trust policy", "sub claim"}},
		{"InvalidIdentityToken", []string{"STS rejected the token", "IAM OIDC provider", "sts.amazonaws.com"}},
		{"ExpiredTokenException", []string{"the OIDC token expired", "fetch it right before the run"}},
		{"IDPCommunicationError", []string{"could not verify the token with its issuer"}},
		{"SomethingNew", []string{"the web identity exchange failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			t.Parallel()
			apiErr := &smithy.GenericAPIError{Code: tt.code, Message: "refused"}
			err := explainListBuckets(fmt.Errorf("get identity: %w", &awsconfig.WebIdentityError{
				RoleARN: "arn:aws:iam::123456789012:role/upload", TokenFile: "/tmp/token",
				Err: fmt.Errorf("failed to retrieve credentials, %w", apiErr),
			}))
			for _, want := range append(tt.want, "arn:aws:iam::123456789012:role/upload", tt.code) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "may not list buckets") {
				t.Errorf("a refused exchange is explained as an S3 denial: %q", err)
			}
		})
	}
}
