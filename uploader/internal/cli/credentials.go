package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"

	"github.com/staticmedia/staticmedia/internal/awsconfig"
	"github.com/staticmedia/staticmedia/uploader/internal/tfoutput"
)

// webIdentityTokenEnv is the AWS SDK's variable naming the file with CI's OIDC token. The uploader
// reads it too when the output names a role and --web-identity-token-file is not given.
const webIdentityTokenEnv = "AWS_WEB_IDENTITY_TOKEN_FILE" //nolint:gosec // a variable's name, not a credential

// roleSessionName names the uploader's role sessions: CloudTrail shows it, and the session's
// ARN ends with it.
const roleSessionName = "staticmedia-uploader"

// uploadCredentials is how the uploader signs its S3 requests, described without secrets.
type uploadCredentials struct {
	// source is the startup line's "credentials" value.
	source string
	// webIdentity is set for a role assumed with CI's OIDC token.
	webIdentity *awsconfig.WebIdentity
	// identity is who S3 sees, for the preflight's error; empty for the default chain, which is
	// asked when needed.
	identity string
}

// credentials picks the credentials from the Terraform output and the flags: the output's role
// with the token file of --web-identity-token-file or AWS_WEB_IDENTITY_TOKEN_FILE, the output's
// access key, or else the SDK's default chain. A role without a readable token file is a usage
// error.
func (f *outputFlags) credentials(s tfoutput.Settings) (uploadCredentials, error) {
	flagGiven := f.webIdentityTokenFile != ""
	switch {
	case s.RoleARN != "":
		file, from := f.webIdentityTokenFile, "--web-identity-token-file"
		if !flagGiven {
			file, from = os.Getenv(webIdentityTokenEnv), webIdentityTokenEnv
		}
		if file == "" {
			return uploadCredentials{}, usagef("the Terraform output %q names role_arn: pass --web-identity-token-file FILE or set %s "+
				"to the file holding CI's OIDC token (see examples/ci)", f.tfOutputName, webIdentityTokenEnv)
		}
		if err := checkTokenFile(file); err != nil {
			return uploadCredentials{}, usagef("%s %s: %v; the CI job must write its OIDC token there before the run (see examples/ci)", from, file, err)
		}
		return uploadCredentials{
			source:      fmt.Sprintf("web identity: role %s, token file %s", s.RoleARN, file),
			webIdentity: &awsconfig.WebIdentity{RoleARN: s.RoleARN, TokenFile: file, SessionName: roleSessionName},
			identity:    fmt.Sprintf("role %s (session %s)", s.RoleARN, roleSessionName),
		}, nil
	case flagGiven && s.AccessKeyID != "":
		return uploadCredentials{}, usagef("--web-identity-token-file is for an output with role_arn, and the Terraform output %q has an access key: "+
			"drop the flag, or put the upload role's role_arn in the output instead of the key", f.tfOutputName)
	case flagGiven:
		return uploadCredentials{}, usagef("--web-identity-token-file needs role_arn in the Terraform output %q (staticmedia_upload_role's arn); "+
			"without it the default credential chain runs, which reads AWS_ROLE_ARN and %s", f.tfOutputName, webIdentityTokenEnv)
	case s.AccessKeyID != "":
		return uploadCredentials{
			source:   "static key " + s.AccessKeyID + " from the Terraform output",
			identity: "access key " + s.AccessKeyID + " from the Terraform output",
		}, nil
	}
	return uploadCredentials{source: defaultChainSource()}, nil
}

// checkTokenFile checks that the token file is a regular file that can be read and is not empty,
// without keeping or quoting the token. A pipe (`<(printf %s "$TOKEN")`) gives the token once: this
// check would drain it, and the exchange, and every renewal after it, would find nothing.
func checkTokenFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return errors.New("not a regular file, and the uploader reads it again whenever it renews the role's session: write the token to a file")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(data)) == "" {
		return errors.New("the file is empty")
	}
	return nil
}

// defaultChainSource describes the default chain with the settings of the environment it will
// find first, without secrets.
func defaultChainSource() string {
	switch {
	case os.Getenv("AWS_ACCESS_KEY_ID") != "":
		return "default chain: key " + os.Getenv("AWS_ACCESS_KEY_ID") + " from AWS_ACCESS_KEY_ID"
	case os.Getenv("AWS_ROLE_ARN") != "" && os.Getenv(webIdentityTokenEnv) != "":
		return fmt.Sprintf("default chain: web identity: role %s, token file %s (AWS_ROLE_ARN, %s)",
			os.Getenv("AWS_ROLE_ARN"), os.Getenv(webIdentityTokenEnv), webIdentityTokenEnv)
	case os.Getenv("AWS_PROFILE") != "":
		return "default chain: profile " + os.Getenv("AWS_PROFILE")
	}
	return "default chain"
}

// describeIdentity returns Deps.Identity: who S3 sees. For the default chain it asks the
// credentials the client holds (cached, so no new exchange) for their key ID and source.
func (c uploadCredentials) describeIdentity(creds aws.CredentialsProvider) func(context.Context) string {
	return func(ctx context.Context) string {
		if c.identity != "" {
			return c.identity
		}
		if creds == nil {
			return "the default credential chain (which found no credentials)"
		}
		v, err := creds.Retrieve(ctx)
		if err != nil {
			return "the default credential chain"
		}
		who := fmt.Sprintf("access key %s from the default credential chain (%s)", v.AccessKeyID, v.Source)
		if v.Source == stscreds.WebIdentityProviderName && os.Getenv("AWS_ROLE_ARN") != "" {
			who = fmt.Sprintf("role %s (AWS_ROLE_ARN), session key %s from the default credential chain", os.Getenv("AWS_ROLE_ARN"), v.AccessKeyID)
		}
		return who
	}
}
