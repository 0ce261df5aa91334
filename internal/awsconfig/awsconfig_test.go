package awsconfig_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/staticmedia/staticmedia/internal/awsconfig"
	"github.com/staticmedia/staticmedia/internal/testbed"
)

const account = "123456789012" // moto's default account

// errStop ends a request before it is sent, once its URL has been seen.
var errStop = errors.New("stopped before sending")

// s3ControlHost returns the host an S3 Control request is sent to, without sending it.
func s3ControlHost(t *testing.T, o awsconfig.Options) string {
	t.Helper()
	cfg, err := awsconfig.Load(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	var host string
	client := o.S3Control(cfg, func(so *s3control.Options) {
		so.APIOptions = append(so.APIOptions, func(stack *middleware.Stack) error {
			return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("captureHost",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					if req, ok := in.Request.(*smithyhttp.Request); ok {
						host = req.URL.Host
					}
					return middleware.FinalizeOutput{}, middleware.Metadata{}, errStop
				}), middleware.After)
		})
		so.RetryMaxAttempts = 1
	})
	_, err = client.GetPublicAccessBlock(context.Background(), &s3control.GetPublicAccessBlockInput{AccountId: aws.String(account)})
	if !errors.Is(err, errStop) {
		t.Fatalf("GetPublicAccessBlock: %v, want the capture to stop it", err)
	}
	return host
}

// TestS3ControlEndpointFromEnvironment checks that an S3 Control endpoint from the environment that is
// not AWS's is used verbatim (the SDK's rules would prefix the account ID to a loopback host), against
// moto, while AWS's own endpoints keep the account prefix.
func TestS3ControlEndpointFromEnvironment(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs moto")
	}
	m := testbed.StartMoto(t)
	keys := awsconfig.Options{Region: m.Region, AccessKey: m.AccessKey, SecretKey: m.SecretKey}
	for _, name := range []string{"AWS_ENDPOINT_URL_S3_CONTROL", "AWS_ENDPOINT_URL"} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("AWS_ENDPOINT_URL_S3_CONTROL", "")
			t.Setenv("AWS_ENDPOINT_URL", "")
			t.Setenv(name, m.Endpoint)
			cfg, err := awsconfig.Load(context.Background(), keys)
			if err != nil {
				t.Fatal(err)
			}
			_, err = keys.S3Control(cfg).GetPublicAccessBlock(context.Background(), &s3control.GetPublicAccessBlockInput{AccountId: aws.String(account)})
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "NoSuchPublicAccessBlockConfiguration" {
				t.Fatalf("GetPublicAccessBlock through %s = %v; want moto's NoSuchPublicAccessBlockConfiguration", name, err)
			}
		})
	}

	t.Run("AWS's own endpoint keeps the account prefix", func(t *testing.T) {
		t.Setenv("AWS_ENDPOINT_URL", "")
		t.Setenv("AWS_ENDPOINT_URL_S3_CONTROL", "https://s3-control.us-east-1.amazonaws.com")
		if got, want := s3ControlHost(t, keys), account+".s3-control.us-east-1.amazonaws.com"; got != want {
			t.Errorf("request host = %q, want %q", got, want)
		}
	})
	t.Run("the endpoints setting wins", func(t *testing.T) {
		t.Setenv("AWS_ENDPOINT_URL", "")
		t.Setenv("AWS_ENDPOINT_URL_S3_CONTROL", "http://127.0.0.2:9")
		o := keys
		o.Endpoints.S3Control = m.Endpoint
		if got, want := s3ControlHost(t, o), m.Endpoint[len("http://"):]; got != want {
			t.Errorf("request host = %q, want %q", got, want)
		}
	})
}

// TestWebIdentityValidate checks the web identity settings that cannot work.
func TestWebIdentityValidate(t *testing.T) {
	t.Parallel()
	role := &awsconfig.WebIdentity{RoleARN: "arn:aws:iam::" + account + ":role/upload", TokenFile: "/run/token"}
	tests := []struct {
		name string
		o    awsconfig.Options
		want string // "" = valid
	}{
		{"role", awsconfig.Options{WebIdentity: role}, ""},
		{"role and key", awsconfig.Options{WebIdentity: role, AccessKey: "AKIA", SecretKey: "s"}, "an access key and a web identity role are exclusive"},
		{"no role ARN", awsconfig.Options{WebIdentity: &awsconfig.WebIdentity{TokenFile: "/run/token"}}, "the role ARN is empty"},
		{"no token file", awsconfig.Options{WebIdentity: &awsconfig.WebIdentity{RoleARN: role.RoleARN}}, "the token file is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.o.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
