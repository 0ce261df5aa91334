package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/staticmedia/staticmedia/internal/awsconfig"
	"github.com/staticmedia/staticmedia/internal/policy"
	"github.com/staticmedia/staticmedia/internal/testbed"
)

// githubIssuer is the OIDC issuer of GitHub Actions; the tests register it in moto as CI would.
const githubIssuer = "token.actions.githubusercontent.com"

// fakeOIDCToken returns a JWT-shaped token (moto does not check tokens) with the claims GitHub
// Actions would put in it. Its payload carries marker, for the test to look for in logs.
func fakeOIDCToken(marker string) string {
	enc := base64.RawURLEncoding.EncodeToString
	header := enc([]byte(`{"alg":"RS256","typ":"JWT","kid":"test"}`))
	payload := enc([]byte(fmt.Sprintf(`{"iss":"https://%s","aud":"sts.amazonaws.com","sub":"repo:example/site:ref:refs/heads/main","jti":%q,"exp":%d}`,
		githubIssuer, marker, time.Now().Add(time.Hour).Unix())))
	return header + "." + payload + "." + enc([]byte("not-a-real-signature-"+marker))
}

// stsResigner is a loopback proxy in front of moto's STS endpoint. moto, with IAM enforcement
// on, answers 500 to any unsigned request, and AssumeRoleWithWebIdentity is unsigned by design
// (the OIDC token is the caller's proof). So the proxy signs that one call with the admin's key
// (SigV4, the SDK's own signer) and passes everything else through untouched. The exchange the
// uploader makes is otherwise the real one: its SDK builds the request from the token file, and
// moto issues the session credentials and then enforces the role's policy on them. The proxy
// records the session credentials it handed out, for the test to look for in logs.
//
// Another way was considered and rejected: obtaining the session before enforcement is switched
// on would test the uploader with credentials made by the test, not with its own exchange.
type stsResigner struct {
	URL string

	target    *url.URL
	admin     aws.Credentials
	region    string
	transport *http.Transport

	mu        sync.Mutex
	exchanges int
	sessions  []stsCredentials
}

// stsCredentials are the credentials in an AssumeRoleWithWebIdentity answer.
type stsCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
}

func startSTSResigner(t *testing.T, m *testbed.Moto) *stsResigner {
	t.Helper()
	target, err := url.Parse(m.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stsResigner{
		URL:    "http://" + l.Addr().String(),
		target: target,
		admin:  aws.Credentials{AccessKeyID: m.AccessKey, SecretAccessKey: m.SecretKey},
		region: m.Region,
		// Its own transport, so no proxy setting from the environment applies.
		transport: &http.Transport{Proxy: nil},
	}
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() {
		_ = srv.Close()
		p.transport.CloseIdleConnections()
	})
	return p
}

func (p *stsResigner) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, p.target.String(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	out.URL = &url.URL{Scheme: p.target.Scheme, Host: p.target.Host, Path: r.URL.Path, RawQuery: r.URL.RawQuery}
	out.Header = r.Header.Clone()
	out.Header.Del("Connection")
	form, _ := url.ParseQuery(string(body))
	exchange := r.Method == http.MethodPost && form.Get("Action") == "AssumeRoleWithWebIdentity"
	if exchange {
		if out.Header.Get("Authorization") != "" {
			http.Error(w, "sts resigner: AssumeRoleWithWebIdentity arrived signed: the SDK should send it unsigned", http.StatusBadRequest)
			return
		}
		sum := sha256.Sum256(body)
		out.Host = p.target.Host
		if err := v4.NewSigner().SignHTTP(r.Context(), p.admin, out, hex.EncodeToString(sum[:]), "sts", p.region, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
	} else {
		out.Host = r.Host
	}
	resp, err := p.transport.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if exchange && resp.StatusCode == http.StatusOK {
		var parsed struct {
			Credentials stsCredentials `xml:"AssumeRoleWithWebIdentityResult>Credentials"`
		}
		if err := xml.Unmarshal(answer, &parsed); err == nil {
			p.mu.Lock()
			p.exchanges++
			p.sessions = append(p.sessions, parsed.Credentials)
			p.mu.Unlock()
		}
	}
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}

// issued returns the number of sessions moto issued through the proxy, and their credentials.
func (p *stsResigner) issued() (int, []stsCredentials) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exchanges, append([]stsCredentials(nil), p.sessions...)
}

// ciRole creates, with the admin's key, the role CI assumes: trusted by the GitHub OIDC provider
// for one repository's main branch, with policyJSON as its inline policy (none when empty). It
// returns the role's ARN.
func ciRole(t *testing.T, iamc *iam.Client, providerARN, name, policyJSON string) string {
	t.Helper()
	ctx := context.Background()
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":%q},`+
		`"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"%s:aud":"sts.amazonaws.com"},`+
		`"StringLike":{"%s:sub":"repo:example/site:ref:refs/heads/main"}}}]}`, providerARN, githubIssuer, githubIssuer)
	out, err := iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatalf("CreateRole %s: %v", name, err)
	}
	if policyJSON != "" {
		if _, err := iamc.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("upload-only"), PolicyDocument: aws.String(policyJSON)}); err != nil {
			t.Fatalf("PutRolePolicy %s: %v", name, err)
		}
	}
	return aws.ToString(out.Role.Arn)
}

// TestMigrateWebIdentityMoto runs `uploader migrate` (the built binary, so the environment is
// its own) with an output carrying role_arn and a token file, on moto with IAM enforcement:
// the uploader exchanges the token for the role's session, whose only rights are the upload-only
// policy built by internal/policy, and uploads with it. A role without that policy fails the
// preflight with an error naming the role. No secret of the session, nor the token, reaches the
// log.
func TestMigrateWebIdentityMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs moto")
	}
	const bucket = "media"
	m, admin := enforcingMotoWithBucket(t, bucket)
	ctx := context.Background()
	iamc := m.Options().IAM(m.Config(t))
	provider, err := iamc.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
		Url:            aws.String("https://" + githubIssuer),
		ClientIDList:   []string{"sts.amazonaws.com"},
		ThumbprintList: []string{"6938fd4d98bab03faadb97b34396831e3780aea1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := policy.UploadOnly(policy.UploadOnlyInput{Bucket: bucket})
	if err != nil {
		t.Fatal(err)
	}
	docJSON, err := doc.JSON()
	if err != nil {
		t.Fatal(err)
	}
	providerARN := aws.ToString(provider.OpenIDConnectProviderArn)
	uploadRole := ciRole(t, iamc, providerARN, "media-upload", docJSON)
	bareRole := ciRole(t, iamc, providerARN, "no-policy", "")
	sts := startSTSResigner(t, m)

	fx := newFixture(t, map[string][]byte{
		"photos/cat.jpg":  randomContent(t, 40<<10),
		"photos/dog.png":  randomContent(t, 3000),
		"docs/readme.txt": []byte("hello"),
	})
	paths := []string{"photos/cat.jpg", "photos/dog.png", "docs/readme.txt"}
	dsn, db := appTable(t, paths)
	dir := t.TempDir()
	token := fakeOIDCToken("tokenMARKER7f3a")
	tokenFile := writeFile(t, filepath.Join(dir, "oidc-token"), token)
	output := func(name, roleARN string) string {
		return writeFile(t, filepath.Join(dir, name+".json"), tfOutputJSON(t, map[string]any{
			"bucket": bucket, "region": m.Region, "role_arn": roleARN, "endpoint": m.Endpoint,
			"public_base_url": m.Endpoint + "/" + bucket + "/",
		}))
	}
	reportFile := filepath.Join(dir, "report.json")
	args := func(out string, extra ...string) []string {
		return append([]string{"migrate", "--tf-output", out, "--source", fx.src,
			"--db", dsn, "--table", "photos", "--path-column", "file", "--flag-column", "on_s3",
			"--report", reportFile, "--progress", "never"}, extra...)
	}
	// The SDK's standard variable points STS at the proxy; S3 is the output's endpoint.
	env := withEnv("AWS_ENDPOINT_URL_STS=" + sts.URL)
	noSecrets := func(t *testing.T, log string) {
		t.Helper()
		_, sessions := sts.issued()
		for _, s := range sessions {
			if strings.Contains(log, s.SecretAccessKey) || strings.Contains(log, s.SessionToken) {
				t.Error("the log contains the session's secret key or session token")
			}
		}
		if strings.Contains(log, token) || strings.Contains(log, "tokenMARKER7f3a") || strings.Contains(log, strings.Split(token, ".")[1]) {
			t.Error("the log contains the OIDC token")
		}
	}

	t.Run("upload with the role", func(t *testing.T) {
		code, _, stderr := runUploader(t, 2*time.Minute, args(output("role", uploadRole), "--web-identity-token-file", tokenFile), env)
		if code != ExitOK {
			t.Fatalf("exit code %d, want 0; stderr:\n%s", code, stderr)
		}
		noSecrets(t, stderr)
		want := fmt.Sprintf(`credentials="web identity: role %s, token file %s"`, uploadRole, tokenFile)
		if !strings.Contains(stderr, want) {
			t.Errorf("the startup line does not contain %s:\n%s", want, stderr)
		}
		if rep := readReport(t, reportFile); rep.Uploaded != 3 || rep.Flagged != 3 || rep.Failed != 0 {
			t.Fatalf("report = %+v", rep)
		}
		for p, got := range flags(t, db) {
			if got[0] != "true" {
				t.Errorf("row %q is not flagged", p)
			}
		}
		checkObjects(t, admin, bucket, "", fx.files, nil)

		// The uploader made the exchange, and the session it got is the role's: moto enforces
		// the upload-only policy on it, so it may not read an object back.
		n, sessions := sts.issued()
		if n == 0 {
			t.Fatal("no AssumeRoleWithWebIdentity went through the proxy")
		}
		s := sessions[len(sessions)-1]
		sessOpts := awsconfig.Options{Region: m.Region, AccessKey: s.AccessKeyID, SecretKey: s.SecretAccessKey, SessionToken: s.SessionToken,
			Endpoints: awsconfig.Endpoints{S3: m.Endpoint}, MaxRetries: 1}
		sessCfg, err := awsconfig.Load(ctx, sessOpts)
		if err != nil {
			t.Fatal(err)
		}
		_, err = sessOpts.S3(sessCfg).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("photos/cat.jpg")})
		var apiErr smithy.APIError
		if err == nil || !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDenied" {
			t.Errorf("the role's session read an object back (error %v): it is not upload-only", err)
		}
	})

	t.Run("token file from AWS_WEB_IDENTITY_TOKEN_FILE", func(t *testing.T) {
		code, _, stderr := runUploader(t, 2*time.Minute, args(output("role", uploadRole)), env, withEnv(webIdentityTokenEnv+"="+tokenFile))
		if code != ExitOK {
			t.Fatalf("exit code %d, want 0; stderr:\n%s", code, stderr)
		}
		if want := "token file " + tokenFile; !strings.Contains(stderr, want) {
			t.Errorf("the startup line does not name %s:\n%s", want, stderr)
		}
		noSecrets(t, stderr)
		if rep := readReport(t, reportFile); rep.Uploaded != 0 || rep.Failed != 0 {
			t.Fatalf("rerun report = %+v, want nothing to do", rep)
		}
	})

	t.Run("a role without the upload policy fails the preflight", func(t *testing.T) {
		_, err := db.Exec(`UPDATE photos SET on_s3 = NULL`)
		if err != nil {
			t.Fatal(err)
		}
		code, _, stderr := runUploader(t, 2*time.Minute, args(output("bare", bareRole), "--web-identity-token-file", tokenFile), env)
		if code != ExitFatal {
			t.Fatalf("exit code %d, want %d; stderr:\n%s", code, ExitFatal, stderr)
		}
		for _, want := range []string{
			fmt.Sprintf("as role %s (session %s)", bareRole, roleSessionName),
			"may not list buckets", "s3:ListAllMyBuckets", "AccessDenied",
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("the preflight error does not contain %q:\n%s", want, stderr)
			}
		}
		noSecrets(t, stderr)
		for p, got := range flags(t, db) {
			if got[0] == "true" {
				t.Errorf("row %q was flagged by a run that failed its preflight", p)
			}
		}
	})

	t.Run("the default chain's refused identity is named", func(t *testing.T) {
		// A user without any policy, whose key the default chain finds in the environment.
		if _, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("no-rights")}); err != nil {
			t.Fatal(err)
		}
		key, err := iamc.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("no-rights")})
		if err != nil {
			t.Fatal(err)
		}
		keyID, secret := aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey)
		out := writeFile(t, filepath.Join(dir, "default.json"), tfOutputJSON(t, map[string]any{"bucket": bucket, "region": m.Region, "endpoint": m.Endpoint}))
		code, _, stderr := runUploader(t, 2*time.Minute, args(out), withEnv("AWS_ACCESS_KEY_ID="+keyID, "AWS_SECRET_ACCESS_KEY="+secret))
		if code != ExitFatal {
			t.Fatalf("exit code %d, want %d; stderr:\n%s", code, ExitFatal, stderr)
		}
		want := "as access key " + keyID + " from the default credential chain (EnvConfigCredentials)"
		if !strings.Contains(stderr, want) || !strings.Contains(stderr, "s3:ListAllMyBuckets") {
			t.Errorf("the preflight error does not contain %q and the permission:\n%s", want, stderr)
		}
		if strings.Contains(stderr, secret) {
			t.Error("the log contains the secret key")
		}

		// The same key in the environment does not displace the output's role: CI often
		// leaves another job's key there (Terraform's), and the uploader must hold only the
		// upload role's session.
		if _, err := db.Exec(`UPDATE photos SET on_s3 = NULL`); err != nil {
			t.Fatal(err)
		}
		roleArgs := args(output("role", uploadRole), "--web-identity-token-file", tokenFile)
		code, _, stderr = runUploader(t, 2*time.Minute, roleArgs, env, withEnv("AWS_ACCESS_KEY_ID="+keyID, "AWS_SECRET_ACCESS_KEY="+secret))
		if code != ExitOK {
			t.Fatalf("with a key in the environment: exit code %d, want 0 (the role signs); stderr:\n%s", code, stderr)
		}
		if want := "web identity: role " + uploadRole; !strings.Contains(stderr, want) {
			t.Errorf("the startup line does not name %s:\n%s", want, stderr)
		}
		if rep := readReport(t, reportFile); rep.Uploaded != 3 || rep.Failed != 0 {
			t.Fatalf("with a key in the environment: report = %+v, want the 3 files uploaded by the role", rep)
		}

		// A profile the machine does not define stops the run, as the SDK wants, with the fix.
		code, _, stderr = runUploader(t, 2*time.Minute, roleArgs, env, withEnv("AWS_PROFILE=no-such-profile-here"))
		if code != ExitUsage {
			t.Fatalf("with AWS_PROFILE naming no profile: exit code %d, want %d; stderr:\n%s", code, ExitUsage, stderr)
		}
		for _, want := range []string{`profile \"no-such-profile-here\"`, "AWS_PROFILE", "unset AWS_PROFILE"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("the error does not contain %s:\n%s", want, stderr)
			}
		}
	})
}

// TestMigrateCredentialSourceLine runs migrate with each credential source against moto (without
// IAM enforcement, which accepts any key) and checks that the startup line names it, without a
// secret.
func TestMigrateCredentialSourceLine(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs moto")
	}
	m := testbed.StartMoto(t)
	ctx := context.Background()
	const bucket = "media"
	if _, err := m.Options().S3(m.Config(t)).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	src, _ := mediaTree(t, 2)
	dir := t.TempDir()
	const roleARN = "arn:aws:iam::123456789012:role/media-upload"
	const keyID, secret = "AKIAOUTPUTKEY0000001", "outputSECRETdoNotLeak0123456789abcdefgh"
	const envKeyID, envSecret = "AKIAENVIRONMENTKEY01", "envSECRETdoNotLeak0123456789abcdefghijk"
	token := fakeOIDCToken("lineMARKER9c1d")
	tokenFile := writeFile(t, filepath.Join(dir, "oidc-token"), token)
	output := func(name string, creds map[string]any) string {
		value := map[string]any{"bucket": bucket, "region": m.Region, "endpoint": m.Endpoint}
		for k, v := range creds {
			value[k] = v
		}
		return writeFile(t, filepath.Join(dir, name+".json"), tfOutputJSON(t, value))
	}
	tests := []struct {
		name  string
		out   string
		extra []string
		env   []string
		want  string
	}{
		{name: "static key", out: output("key", map[string]any{"access_key_id": keyID, "secret_access_key": secret}),
			want: `credentials="static key ` + keyID + ` from the Terraform output"`},
		{name: "web identity", out: output("role", map[string]any{"role_arn": roleARN}), extra: []string{"--web-identity-token-file", tokenFile},
			env:  []string{"AWS_ENDPOINT_URL_STS=" + m.Endpoint},
			want: `credentials="web identity: role ` + roleARN + `, token file ` + tokenFile + `"`},
		{name: "default chain", out: output("default", nil),
			env:  []string{"AWS_ACCESS_KEY_ID=" + envKeyID, "AWS_SECRET_ACCESS_KEY=" + envSecret},
			want: `credentials="default chain: key ` + envKeyID + ` from AWS_ACCESS_KEY_ID"`},
		{name: "default chain with web identity", out: output("default", nil),
			env:  []string{"AWS_ROLE_ARN=" + roleARN, webIdentityTokenEnv + "=" + tokenFile, "AWS_ENDPOINT_URL_STS=" + m.Endpoint},
			want: `credentials="default chain: web identity: role ` + roleARN + `, token file ` + tokenFile + ` (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE)"`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"migrate", "--tf-output", tt.out, "--source", src, "--progress", "never",
				"--ledger", filepath.Join(dir, fmt.Sprintf("ledger-%d.db", i)), "--key-prefix", fmt.Sprintf("run%d/", i)}, tt.extra...)
			code, _, stderr := runUploader(t, 2*time.Minute, args, withEnv(tt.env...))
			if code != ExitOK {
				t.Fatalf("exit code %d, want 0; stderr:\n%s", code, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("the log does not contain %s:\n%s", tt.want, stderr)
			}
			if !strings.Contains(stderr, "uploaded=2") {
				t.Errorf("the run did not upload both files:\n%s", stderr)
			}
			for _, s := range []string{secret, envSecret, token, "lineMARKER9c1d"} {
				if strings.Contains(stderr, s) {
					t.Errorf("the log contains a secret or the token (%.12s...)", s)
				}
			}
		})
	}
}

// TestMigrateWebIdentityUsageErrors checks the credential settings that exit 2 before any
// request: a role without a readable token file, and a token file without a role.
func TestMigrateWebIdentityUsageErrors(t *testing.T) {
	t.Setenv(webIdentityTokenEnv, "") // the machine's own setting must not leak in
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	const roleARN = "arn:aws:iam::123456789012:role/media-upload"
	role := writeFile(t, filepath.Join(dir, "role.json"), tfOutputJSON(t, map[string]any{"bucket": "media", "region": "us-east-1", "role_arn": roleARN}))
	key := writeFile(t, filepath.Join(dir, "key.json"), tfOutputJSON(t, map[string]any{"bucket": "media", "region": "us-east-1",
		"access_key_id": "AKIAOUTPUTKEY0000001", "secret_access_key": "SECRETdoNotLeak/0123456789abcdefghijklmn"}))
	none := writeFile(t, filepath.Join(dir, "none.json"), tfOutputJSON(t, map[string]any{"bucket": "media", "region": "us-east-1"}))
	token := writeFile(t, filepath.Join(dir, "token"), fakeOIDCToken("usageMARKER"))
	empty := writeFile(t, filepath.Join(dir, "empty-token"), "\n")
	missing := filepath.Join(dir, "no-such-token")
	// A pipe, as `--web-identity-token-file <(printf %s "$TOKEN")` passes: it holds the token
	// once, and the exchange would find it empty.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pr.Close() })
	if _, err := pw.WriteString(fakeOIDCToken("usageMARKER")); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	pipe := fmt.Sprintf("/dev/fd/%d", pr.Fd())
	tests := []struct {
		name  string
		out   string
		extra []string
		env   string // AWS_WEB_IDENTITY_TOKEN_FILE
		want  []string
	}{
		{name: "role without a token file", out: role,
			want: []string{`names role_arn`, "--web-identity-token-file FILE", webIdentityTokenEnv, "examples/ci"}},
		{name: "flag names a missing file", out: role, extra: []string{"--web-identity-token-file", missing},
			want: []string{"--web-identity-token-file " + missing, "no such file", "the CI job must write its OIDC token there"}},
		{name: "variable names a missing file", out: role, env: missing,
			want: []string{webIdentityTokenEnv + " " + missing, "no such file"}},
		{name: "empty token file", out: role, extra: []string{"--web-identity-token-file", empty},
			want: []string{"--web-identity-token-file " + empty, "the file is empty"}},
		{name: "token file is a pipe", out: role, extra: []string{"--web-identity-token-file", pipe},
			want: []string{"--web-identity-token-file " + pipe, "not a regular file", "renews the role's session", "write the token to a file"}},
		{name: "token file is a directory", out: role, extra: []string{"--web-identity-token-file", dir},
			want: []string{"--web-identity-token-file " + dir, "not a regular file"}},
		{name: "token file with an access key", out: key, extra: []string{"--web-identity-token-file", token},
			want: []string{"--web-identity-token-file is for an output with role_arn", "has an access key"}},
		{name: "token file without a role", out: none, extra: []string{"--web-identity-token-file", token},
			want: []string{"--web-identity-token-file needs role_arn", "AWS_ROLE_ARN"}},
		{name: "--tf-binary without --tf-dir", out: role, extra: []string{"--tf-binary", "tofu"},
			want: []string{"--tf-binary is the client --tf-dir runs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(webIdentityTokenEnv, tt.env)
			args := append([]string{"migrate", "--tf-output", tt.out, "--source", src, "--progress", "never",
				"--ledger", filepath.Join(dir, "ledger.db")}, tt.extra...)
			code, _, stderr := run(t, "", args...)
			if code != ExitUsage {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", code, ExitUsage, stderr)
			}
			for _, want := range tt.want {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr does not contain %q:\n%s", want, stderr)
				}
			}
			if strings.Contains(stderr, "usageMARKER") || strings.Contains(stderr, "SECRETdoNotLeak") {
				t.Error("stderr contains the token or the secret key")
			}
			if _, err := os.Stat(filepath.Join(dir, "ledger.db")); err == nil {
				t.Error("the ledger was created by a run that had a usage error")
			}
		})
	}
}
