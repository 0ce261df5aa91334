// Package awsconfig turns the few settings both binaries accept (region, profile, static keys,
// endpoint overrides, path-style addressing, retries) into an aws.Config and service clients.
//
// It exists so the provider and the uploader resolve credentials and endpoints the same way, and
// so both always use the SDK's buildable HTTP client: a bare *http.Client makes configuration
// loading fail when AWS_CA_BUNDLE is set.
package awsconfig

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
)

// Endpoints overrides the URL of each service, in the AWS provider's `endpoints` block terms.
// An empty field keeps the SDK's resolution (which honours AWS_ENDPOINT_URL and
// AWS_ENDPOINT_URL_<SERVICE>).
type Endpoints struct {
	S3        string
	IAM       string
	STS       string
	S3Control string
}

// Options are the settings that build a configuration. The zero value means "the SDK's defaults":
// the default credential chain, AWS_REGION / AWS_PROFILE, and the standard endpoints.
type Options struct {
	Region       string
	Profile      string
	AccessKey    string
	SecretKey    string
	SessionToken string
	// WebIdentity, when set, assumes a role with an OIDC token instead of using the keys or the
	// default chain (exclusive with AccessKey).
	WebIdentity *WebIdentity
	Endpoints   Endpoints
	// S3UsePathStyle forces path-style addressing (http://host/bucket/key). It is implied when
	// Endpoints.S3 is set, because local engines rarely resolve bucket subdomains.
	S3UsePathStyle bool
	// MaxRetries is the number of attempts per request; 0 keeps the SDK's default (3).
	MaxRetries int
	// Retryer replaces the standard retryer when set (the uploader tunes its own).
	Retryer func() aws.Retryer
	// AppID is added to the User-Agent so requests are attributable.
	AppID string
	// Transport tunes the buildable client's transport (connection pool sizes, for instance).
	Transport func(*http.Transport)
	// Timeout bounds each HTTP request end to end; 0 means no client-side bound.
	Timeout time.Duration
}

// WebIdentity is a role assumed with AssumeRoleWithWebIdentity: CI's OIDC token, read from
// TokenFile at each exchange (CI may refresh it), buys short-lived credentials for RoleARN. No
// long-lived secret is involved.
type WebIdentity struct {
	RoleARN   string
	TokenFile string
	// SessionName identifies the session in CloudTrail and in the assumed-role ARN.
	SessionName string
	// Timeout bounds one exchange, retries included; 0 means DefaultExchangeTimeout.
	Timeout time.Duration
}

// DefaultExchangeTimeout bounds an exchange of the token for a session. The SDK's credentials
// cache runs the exchange without its caller's cancellation, and every request waits for it: an
// STS endpoint that takes the request and never answers would otherwise hold the run forever.
const DefaultExchangeTimeout = time.Minute

// sessionRenewal is how long before its end a web identity session is renewed (the SDK's
// margin for container credentials). Used to its last second, a session signs requests that
// reach S3 after it ended, or that a clock behind S3's sends late, and S3 refuses them with
// ExpiredToken, which the retryer does not retry: a long run would lose files at each renewal.
const sessionRenewal = 5 * time.Minute

// WebIdentityError is a failed exchange of the token for the role's credentials: the token file
// unreadable, or STS refusing (trust policy, audience, unknown OIDC provider, expired token).
type WebIdentityError struct {
	RoleARN, TokenFile string
	Err                error
}

func (e *WebIdentityError) Error() string {
	return fmt.Sprintf("assuming role %s with the web identity token in %s: %v", e.RoleARN, e.TokenFile, e.Err)
}

func (e *WebIdentityError) Unwrap() error { return e.Err }

// tokenFile is stscreds.IdentityTokenFile with the file's error kept (wrapped), so a caller can
// tell an unreadable token file (errors.As *fs.PathError) from a refusal by STS. White space
// around the token is dropped: `echo "$TOKEN" > file` ends it with a line break, which STS
// would take as part of the token, and a JWT holds no white space.
type tokenFile string

func (f tokenFile) GetIdentityToken() ([]byte, error) {
	b, err := os.ReadFile(string(f))
	if err != nil {
		return nil, fmt.Errorf("reading the token file: %w", err)
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, errors.New("the token file is empty")
	}
	return b, nil
}

// webIdentityProvider gives the exchange's errors their type, so a caller can tell them from the
// errors of the request the credentials were for.
type webIdentityProvider struct {
	next aws.CredentialsProvider
	w    WebIdentity
}

func (p webIdentityProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	timeout := p.w.Timeout
	if timeout == 0 {
		timeout = DefaultExchangeTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := p.next.Retrieve(ctx)
	if err != nil {
		return aws.Credentials{}, &WebIdentityError{RoleARN: p.w.RoleARN, TokenFile: p.w.TokenFile, Err: err}
	}
	return c, nil
}

// Validate reports settings that cannot work, naming the setting and the fix.
func (o Options) Validate() error {
	if (o.AccessKey == "") != (o.SecretKey == "") {
		return errors.New("access_key and secret_key must be set together (or neither, to use the default credential chain)")
	}
	if w := o.WebIdentity; w != nil {
		switch {
		case o.AccessKey != "":
			return errors.New("an access key and a web identity role are exclusive: pass one")
		case w.RoleARN == "":
			return errors.New("web identity: the role ARN is empty")
		case w.TokenFile == "":
			return errors.New("web identity: the token file is empty")
		}
	}
	for name, raw := range map[string]string{"s3": o.Endpoints.S3, "iam": o.Endpoints.IAM, "sts": o.Endpoints.STS, "s3control": o.Endpoints.S3Control} {
		if raw == "" {
			continue
		}
		if err := validateEndpoint(raw); err != nil {
			return fmt.Errorf("endpoint %s: %w", name, err)
		}
	}
	if o.MaxRetries < 0 {
		return fmt.Errorf("max_retries must be 0 or more, got %d", o.MaxRetries)
	}
	return nil
}

func validateEndpoint(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q must start with http:// or https://", raw)
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", raw)
	}
	return nil
}

// Load resolves the configuration. It never logs credentials.
func Load(ctx context.Context, o Options) (aws.Config, error) {
	if err := o.Validate(); err != nil {
		return aws.Config{}, err
	}
	client := awshttp.NewBuildableClient()
	if o.Transport != nil {
		client = client.WithTransportOptions(o.Transport)
	}
	if o.Timeout > 0 {
		client = client.WithTimeout(o.Timeout)
	}
	loaders := []func(*config.LoadOptions) error{config.WithHTTPClient(client)}
	if o.Region != "" {
		loaders = append(loaders, config.WithRegion(o.Region))
	}
	if o.Profile != "" {
		loaders = append(loaders, config.WithSharedConfigProfile(o.Profile))
	}
	switch {
	case o.AccessKey != "":
		loaders = append(loaders, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(o.AccessKey, o.SecretKey, o.SessionToken)))
	case o.WebIdentity != nil:
		// Replaced below, once the STS client exists. Without a provider the SDK would resolve
		// its default chain now, which fails when the environment holds half of its own web
		// identity settings (AWS_WEB_IDENTITY_TOKEN_FILE without AWS_ROLE_ARN).
		loaders = append(loaders, config.WithCredentialsProvider(aws.AnonymousCredentials{}))
	}
	switch {
	case o.Retryer != nil:
		loaders = append(loaders, config.WithRetryer(o.Retryer))
	case o.MaxRetries > 0:
		max := o.MaxRetries
		loaders = append(loaders, config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) { so.MaxAttempts = max })
		}))
	}
	if o.AppID != "" {
		loaders = append(loaders, config.WithAppID(o.AppID))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loaders...)
	var noProfile config.SharedConfigProfileNotExistError
	if errors.As(err, &noProfile) {
		// The SDK refuses a named profile it cannot find even when nothing is taken from it
		// (a key or a role given here), and its message does not say where the name came from.
		return aws.Config{}, fmt.Errorf("loading AWS configuration: the profile %q (AWS_PROFILE, or the profile setting) is in no shared config file: "+
			"unset AWS_PROFILE or name an existing profile: %w", noProfile.Profile, err)
	}
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, errors.New("no AWS region: set region (or AWS_REGION / a profile with a region)")
	}
	if w := o.WebIdentity; w != nil {
		// AssumeRoleWithWebIdentity is unsigned: the STS client needs no credentials of its own.
		// It keeps the SDK's standard retryer: the requests the credentials are for retry with
		// the caller's, and the two would multiply.
		stsClient := o.STS(cfg, func(so *sts.Options) { so.Retryer = retry.NewStandard() })
		provider := stscreds.NewWebIdentityRoleProvider(stsClient, w.RoleARN, tokenFile(w.TokenFile),
			func(wo *stscreds.WebIdentityRoleOptions) { wo.RoleSessionName = w.SessionName })
		cfg.Credentials = aws.NewCredentialsCache(webIdentityProvider{next: provider, w: *w},
			func(co *aws.CredentialsCacheOptions) { co.ExpiryWindow = sessionRenewal })
	}
	return cfg, nil
}

// S3 returns an S3 client with the endpoint override and addressing style applied.
func (o Options) S3(cfg aws.Config, optFns ...func(*s3.Options)) *s3.Client {
	fns := []func(*s3.Options){func(so *s3.Options) {
		if o.Endpoints.S3 != "" {
			so.BaseEndpoint = aws.String(o.Endpoints.S3)
			so.UsePathStyle = true
		}
		if o.S3UsePathStyle {
			so.UsePathStyle = true
		}
	}}
	return s3.NewFromConfig(cfg, append(fns, optFns...)...)
}

// IAM returns an IAM client with the endpoint override applied.
func (o Options) IAM(cfg aws.Config, optFns ...func(*iam.Options)) *iam.Client {
	fns := []func(*iam.Options){func(io *iam.Options) {
		if o.Endpoints.IAM != "" {
			io.BaseEndpoint = aws.String(o.Endpoints.IAM)
		}
	}}
	return iam.NewFromConfig(cfg, append(fns, optFns...)...)
}

// STS returns an STS client with the endpoint override applied.
func (o Options) STS(cfg aws.Config, optFns ...func(*sts.Options)) *sts.Client {
	fns := []func(*sts.Options){func(so *sts.Options) {
		if o.Endpoints.STS != "" {
			so.BaseEndpoint = aws.String(o.Endpoints.STS)
		}
	}}
	return sts.NewFromConfig(cfg, append(fns, optFns...)...)
}

// S3Control returns an S3 Control client (account-level Block Public Access). Without an explicit
// s3control endpoint it falls back to the S3 endpoint override, which is where local engines that
// implement it (moto) serve it. An overridden endpoint (Endpoints, or a non-AWS one from the
// environment) is used verbatim: the SDK's endpoint rules would put the account ID in front of the
// host ("123456789012.127.0.0.1:5000"), which resolves on AWS but not for a local engine or a proxy.
func (o Options) S3Control(cfg aws.Config, optFns ...func(*s3control.Options)) *s3control.Client {
	fns := []func(*s3control.Options){func(so *s3control.Options) {
		ep := o.Endpoints.S3Control
		if ep == "" {
			ep = o.Endpoints.S3
		}
		// An endpoint from the environment or the shared config (AWS_ENDPOINT_URL_S3_CONTROL,
		// AWS_ENDPOINT_URL) too, unless it is AWS's own, where the account prefix is right.
		if ep == "" && so.BaseEndpoint != nil && !isAWSEndpoint(*so.BaseEndpoint) {
			ep = *so.BaseEndpoint
		}
		if u, err := url.Parse(ep); ep != "" && err == nil {
			so.EndpointResolverV2 = verbatimEndpoint{uri: *u}
		}
	}}
	return s3control.NewFromConfig(cfg, append(fns, optFns...)...)
}

// isAWSEndpoint reports whether raw is a URL on one of AWS's own domains.
func isAWSEndpoint(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	for _, domain := range []string{".amazonaws.com", ".amazonaws.com.cn", ".api.aws", ".c2s.ic.gov", ".sc2s.sgov.gov"} {
		if strings.HasSuffix(host, domain) {
			return true
		}
	}
	return false
}

// verbatimEndpoint resolves every S3 Control operation to one URL.
type verbatimEndpoint struct{ uri url.URL }

func (e verbatimEndpoint) ResolveEndpoint(context.Context, s3control.EndpointParameters) (smithyendpoints.Endpoint, error) {
	return smithyendpoints.Endpoint{URI: e.uri}, nil
}

// Partition returns the ARN partition of a region ("aws", "aws-cn", "aws-us-gov", ...).
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	case strings.HasPrefix(region, "eu-isoe-"):
		return "aws-iso-e"
	case strings.HasPrefix(region, "us-isof-"):
		return "aws-iso-f"
	default:
		return "aws"
	}
}
