package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/staticmedia/staticmedia/internal/awsconfig"
	"github.com/staticmedia/staticmedia/uploader/internal/signserver"
	"github.com/staticmedia/staticmedia/uploader/signer"
)

// signerTokenEnv holds serve-signer's bearer token: never a flag, so it stays out of the process
// list and of --help.
const signerTokenEnv = "UPLOADER_SIGNER_TOKEN" //nolint:gosec // a variable's name, not a credential

// signerConfigErrorsHelp says what exit 2 covers for sign-post and serve-signer.
const signerConfigErrorsHelp = `  2  usage or configuration error, named with its fix: a flag (a --content-type outside
     the allowed raster types, a --max-bytes or --expires over the limits), the Terraform
     output, its credentials, ` + signerTokenEnv + ` (serve-signer), or the --listen address
`

// formFlags shape every form: the largest upload and how long the form is valid.
type formFlags struct {
	maxBytes byteSize
	expires  time.Duration
}

func (f *formFlags) add(fs *flag.FlagSet) {
	f.maxBytes = byteSize(signer.DefaultMaxBytes)
	fs.Var(&f.maxBytes, "max-bytes", "the largest upload a form admits, a `SIZE` (10MiB, 500KB, ...; at most 5GiB)")
	fs.DurationVar(&f.expires, "expires", signer.DefaultExpires, fmt.Sprintf("how long a form is valid, a `DURATION` (at most %s)", signer.MaxExpires))
}

// check checks the flags against the signer's limits, naming the flag.
func (f *formFlags) check() error {
	if f.maxBytes < 1 {
		return usagef("--max-bytes must be at least 1 byte, got %s: give the largest file the site accepts, e.g. 10MiB", f.maxBytes.String())
	}
	if f.expires <= 0 {
		return usagef("--expires must be positive, got %s: e.g. 5m", f.expires)
	}
	return f.config("check").Validate() // the bucket is not known yet: only the limits speak
}

// config is the signer's configuration for bucket and prefix.
func (f *formFlags) config(bucket string) signerConfig {
	return signerConfig{signer.Config{Bucket: bucket, MaxBytes: int64(f.maxBytes), Expires: f.expires}}
}

// signerConfig maps the signer's setting names to the flags.
type signerConfig struct{ signer.Config }

func (c signerConfig) Validate() error {
	err := c.Config.Validate()
	var ce *signer.ConfigError
	if errors.As(err, &ce) {
		switch ce.Setting {
		case "max_bytes":
			return usagef("--max-bytes %s", ce.Problem)
		case "expires":
			return usagef("--expires %s", ce.Problem)
		case "key_prefix":
			return usagef("the key prefix (--key-prefix or the output's key_prefix) %s", ce.Problem)
		case "bucket":
			return usagef("the Terraform output's bucket %s", ce.Problem)
		}
	}
	return err
}

// signerGroups are the flag groups sign-post and serve-signer share.
type signerGroups struct {
	outputFlags
	logFlags
	formFlags
}

func (f *signerGroups) add(fs *flag.FlagSet) {
	f.outputFlags.add(fs)
	f.logFlags.add(fs)
	f.formFlags.add(fs)
}

func (f *signerGroups) check(g given) error {
	return checkAll(func() error { return f.outputFlags.check(g) }, f.logFlags.check, f.formFlags.check)
}

// newSigner reads the Terraform output and builds the signer with the output's credentials (its
// access key, or its role assumed with CI's token, or the default chain), as migrate does. The
// exit code says what failed.
func (f *signerGroups) newSigner(ctx context.Context, log hclog.Logger) (*signer.Signer, int, error) {
	settings, err := f.read(ctx)
	if err != nil {
		return nil, ExitUsage, fmt.Errorf("cannot read the Terraform output: %w", err)
	}
	cfg := f.config(settings.Bucket)
	cfg.KeyPrefix = f.prefix(settings)
	if err := cfg.Validate(); err != nil {
		return nil, ExitUsage, err
	}
	creds, err := f.credentials(settings)
	if err != nil {
		return nil, ExitUsage, err
	}
	opts := awsconfig.Options{
		Region: settings.Region, AccessKey: settings.AccessKeyID, SecretKey: settings.SecretAccessKey,
		WebIdentity: creds.webIdentity, Endpoints: awsconfig.Endpoints{S3: settings.Endpoint}, AppID: "staticmedia-uploader",
	}
	awsCfg, err := awsconfig.Load(ctx, opts)
	if err != nil {
		return nil, ExitUsage, fmt.Errorf("cannot configure the S3 client: %w", err)
	}
	s, err := signer.New(opts.S3(awsCfg), cfg.Config)
	if err != nil {
		return nil, ExitUsage, err
	}
	log.Info("signer", "bucket", settings.Bucket, "region", settings.Region, "endpoint", settings.Endpoint,
		"key_prefix", cfg.KeyPrefix, "max_bytes", s.Config().MaxBytes, "expires", s.Config().Expires.String(),
		"credentials", creds.source)
	return s, ExitOK, nil
}

// signPostFlags are the flags of `uploader sign-post`.
type signPostFlags struct {
	signerGroups
	contentType string
}

func newSignPostFlagSet(f *signPostFlags, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("uploader sign-post", flag.ContinueOnError)
	fs.SetOutput(out)
	f.add(fs)
	fs.StringVar(&f.contentType, "content-type", "", "the file's `TYPE`: "+strings.Join(signer.ContentTypes(), ", ")+" (required)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: uploader sign-post --tf-output FILE|- --content-type TYPE [flags]

Prints a presigned POST form for one direct browser upload, as one JSON object:
  {"url": ..., "fields": {...}, "key": ..., "expires": ...}
The browser posts the fields, then the file as the last field "file", as multipart/form-data
to url. The key is chosen here, at random under the output's key_prefix; the form admits
exactly --content-type, 1 byte to --max-bytes, until expires, and S3 answers 201 with the
ETag. It is signed with the Terraform output's credentials (an access key, or role_arn with
CI's OIDC token), which should only put objects under the prefix.

Example:
  terraform output -json | uploader sign-post --tf-output - --content-type image/jpeg --max-bytes 5MiB

Flags:
`)
		printFlags(fs)
		fmt.Fprint(fs.Output(), `
Exit codes:
  0  the form was printed
  1  the form could not be signed (the credentials could not be obtained)
`+signerConfigErrorsHelp)
	}
	return fs
}

func runSignPost(ctx context.Context, args []string, s streams, _ string) int {
	f := &signPostFlags{signerGroups: signerGroups{outputFlags: outputFlags{stdin: s.stdin}}}
	var out strings.Builder
	fs := newSignPostFlagSet(f, &out)
	g, err := parseFlagSet(fs, &out, args, s)
	if err == nil {
		err = checkAll(func() error { return f.signerGroups.check(g) }, f.check)
	}
	if err != nil {
		return flagError("sign-post", err, s.stderr)
	}
	logger := f.logger(s.stderr)
	sgn, code, err := f.newSigner(ctx, logger)
	if err != nil {
		logger.Error("cannot sign", "error", err)
		return code
	}
	form, err := sgn.Sign(ctx, signer.Request{ContentType: f.contentType})
	if err != nil {
		logger.Error("cannot sign", "error", err)
		return ExitFailed
	}
	data, err := json.Marshal(form)
	if err != nil {
		logger.Error("cannot encode the form", "error", err)
		return ExitFailed
	}
	if _, err := fmt.Fprintf(s.stdout, "%s\n", data); err != nil {
		logger.Error("cannot write the form", "error", err)
		return ExitFailed
	}
	logger.Debug("signed", "key", form.Key, "expires", form.Expires)
	return ExitOK
}

// check refuses a type the signer would refuse, before any I/O.
func (f *signPostFlags) check() error {
	if f.contentType == "" {
		return usagef("--content-type TYPE is required: the file's type, one of %s", strings.Join(signer.ContentTypes(), ", "))
	}
	if _, err := signer.CanonicalContentType(f.contentType); err != nil {
		var re *signer.RefusedError
		if errors.As(err, &re) {
			return usagef("--content-type %s", re.Problem)
		}
		return err
	}
	return nil
}

// serveSignerFlags are the flags of `uploader serve-signer`.
type serveSignerFlags struct {
	signerGroups
	listen string
}

func newServeSignerFlagSet(f *serveSignerFlags, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("uploader serve-signer", flag.ContinueOnError)
	fs.SetOutput(out)
	f.add(fs)
	fs.StringVar(&f.listen, "listen", signserver.DefaultListen, "`ADDR` to listen on: HOST:PORT, or unix:PATH for a unix socket only this user may use (mode 0600)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: UPLOADER_SIGNER_TOKEN=... uploader serve-signer --tf-output FILE|- [--listen ADDR] [flags]

Serves presigned POST forms to the application, which asks for one after its own check that
its user may upload, and hands it to the browser:

  POST /sign
  Authorization: Bearer $UPLOADER_SIGNER_TOKEN
  Content-Type: application/json

  {"content_type": "image/jpeg", "size": 123456}

answers {"url": ..., "fields": {...}, "key": ..., "expires": ...} (see uploader sign-post), or
{"error": ..., "field": ...} with 400 for a refused type or size, 401 without the token, 405,
415 or 413 for a request of the wrong shape. The token (at least 32 characters: openssl rand
-hex 32) comes from UPLOADER_SIGNER_TOKEN and is never logged. Listen on loopback or a unix
socket: the token travels in clear text. SIGINT or SIGTERM stops the server once the requests
in flight are answered.

Flags:
`)
		printFlags(fs)
		fmt.Fprint(fs.Output(), `
Exit codes:
  0  stopped by SIGINT or SIGTERM
  1  the server failed while serving
`+signerConfigErrorsHelp)
	}
	return fs
}

func runServeSigner(ctx context.Context, args []string, s streams, version string) int {
	f := &serveSignerFlags{signerGroups: signerGroups{outputFlags: outputFlags{stdin: s.stdin}}}
	var out strings.Builder
	fs := newServeSignerFlagSet(f, &out)
	g, err := parseFlagSet(fs, &out, args, s)
	if err == nil {
		err = f.check(g)
	}
	if err != nil {
		return flagError("serve-signer", err, s.stderr)
	}
	token := os.Getenv(signerTokenEnv)
	if err := signserver.CheckToken(token); err != nil {
		return flagError("serve-signer", usagef("%s: %v; the application sends it as Authorization: Bearer", signerTokenEnv, err), s.stderr)
	}
	logger := f.logger(s.stderr)
	sgn, code, err := f.newSigner(ctx, logger)
	if err != nil {
		logger.Error("cannot start the signer", "error", err)
		return code
	}
	handler, err := signserver.New(sgn, token, logger.Named("http"))
	if err != nil {
		logger.Error("cannot start the signer", "error", err)
		return ExitUsage
	}
	l, err := signserver.Listen(ctx, f.listen)
	if err != nil {
		logger.Error("cannot start the signer", "error", err)
		return ExitUsage
	}
	if !signserver.IsLoopback(l) {
		logger.Warn("listening on an address other hosts can reach: the bearer token travels in clear text; put TLS in front or listen on loopback or a unix socket",
			"address", l.Addr().String())
	}
	logger.Info("listening", "version", version, "address", l.Addr().String(), "path", signserver.Path)
	if err := signserver.Serve(ctx, l, handler, logger); err != nil {
		logger.Error("the signer stopped", "error", err)
		return ExitFailed
	}
	logger.Info("stopped")
	return ExitOK
}
