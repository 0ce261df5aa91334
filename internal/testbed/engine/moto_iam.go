package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/staticmedia/staticmedia/internal/awsconfig"
)

// MotoAdminUser is the IAM user EnableIAMEnforcement creates and switches the Moto credentials to.
const MotoAdminUser = "testbed-admin"

// EnableIAMEnforcement makes moto evaluate IAM identity policies, the way AWS does, from now on.
//
// It creates the IAM user "testbed-admin" with an inline policy allowing every action on every
// resource, gives it an access key, switches m.AccessKey/m.SecretKey to that key, then posts "0" to
// /moto-api/reset-auth and checks that enforcement is on.
//
// How moto 5.2 behaves (checked by TestMotoEnforcement):
//   - Before reset-auth moto authenticates nothing: any key, "testing"/"testing" or made up, is
//     accepted with full rights, and STS GetCallerIdentity answers
//     "arn:aws:sts::123456789012:user/moto" whatever the key.
//   - reset-auth with body N lets the next N requests through unauthenticated and authenticates
//     every one after; "0" means from the very next request.
//   - After it, only access keys of IAM users that exist in moto are accepted. "testing" stops
//     working, like any unknown key: S3 answers 403 InvalidAccessKeyId, IAM and STS 403
//     InvalidClientTokenId. A known key with a wrong secret gets SignatureDoesNotMatch. Re-read
//     m.Options() after this call.
//   - A user's requests are allowed only by its identity policies; a user with none gets
//     AccessDenied from S3 and IAM. STS GetCallerIdentity needs no permission (as on AWS) and
//     returns "arn:aws:iam::123456789012:user/NAME" for any valid key.
//   - Bucket policy conditions and Block Public Access are not evaluated.
//   - Enforcement is server-wide and stays on; tests that need it should start their own moto.
func (m *Moto) EnableIAMEnforcement(ctx context.Context) error {
	opts := m.Options()
	cfg, err := awsconfig.Load(ctx, opts)
	if err != nil {
		return fmt.Errorf("moto: configuration: %w", err)
	}
	client := opts.IAM(cfg)
	if _, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(MotoAdminUser)}); err != nil {
		return fmt.Errorf("moto: creating IAM user %s: %w", MotoAdminUser, err)
	}
	const allowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	if _, err := client.PutUserPolicy(ctx, &iam.PutUserPolicyInput{
		UserName:       aws.String(MotoAdminUser),
		PolicyName:     aws.String("testbed-allow-all"),
		PolicyDocument: aws.String(allowAll),
	}); err != nil {
		return fmt.Errorf("moto: putting the allow-all policy on %s: %w", MotoAdminUser, err)
	}
	key, err := client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(MotoAdminUser)})
	if err != nil {
		return fmt.Errorf("moto: creating an access key for %s: %w", MotoAdminUser, err)
	}
	m.AccessKey = aws.ToString(key.AccessKey.AccessKeyId)
	m.SecretKey = aws.ToString(key.AccessKey.SecretAccessKey)

	status, body, err := httpCall(ctx, http.MethodPost, m.Endpoint+"/moto-api/reset-auth", "text/plain", "0")
	if err != nil {
		return fmt.Errorf("moto: POST /moto-api/reset-auth: %w", err)
	}
	if status != http.StatusOK {
		return fmt.Errorf("moto: POST /moto-api/reset-auth: status %d, body %q", status, body)
	}
	if err := m.checkEnforcement(ctx); err != nil {
		return fmt.Errorf("moto: IAM enforcement is not in effect: %w\n%s", err, m.proc.Describe())
	}
	return nil
}

// checkEnforcement proves both halves: the admin key works and an unknown key is refused.
func (m *Moto) checkEnforcement(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := m.CallerIdentity(ctx, m.AccessKey, m.SecretKey); err != nil {
		return fmt.Errorf("the %s key was refused: %w", MotoAdminUser, err)
	}
	_, err := m.CallerIdentity(ctx, "AKIATESTBEDUNKNOWN00", "not-a-real-secret")
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return fmt.Errorf("a request signed with an unknown key was not refused (error: %w)", err)
	}
	return nil
}

// CallerIdentity calls STS GetCallerIdentity with the given key and returns the caller's ARN.
func (m *Moto) CallerIdentity(ctx context.Context, accessKey, secretKey string) (string, error) {
	opts := m.Options()
	opts.AccessKey, opts.SecretKey = accessKey, secretKey
	opts.MaxRetries = 1
	cfg, err := awsconfig.Load(ctx, opts)
	if err != nil {
		return "", err
	}
	out, err := opts.STS(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.Arn), nil
}
