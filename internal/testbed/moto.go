package testbed

import (
	"context"
	"net/http"
	"os/exec"
	"strconv"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/staticmedia/staticmedia/internal/awsconfig"
)

// MotoInstallHint says how to install moto's server.
const MotoInstallHint = `pip install 'moto[server]'`

// Moto is a moto_server (S3, IAM, STS and S3 Control in one endpoint) on 127.0.0.1.
//
// AccessKey and SecretKey are the credentials tests should use as "the admin". They start as
// moto's conventional "testing"/"testing"; EnableIAMEnforcement replaces them with a real IAM
// user's key.
type Moto struct {
	Endpoint  string // http://127.0.0.1:PORT
	Region    string // us-east-1
	AccessKey string
	SecretKey string

	proc *process
}

// StartMoto starts a new moto_server for this test; t.Cleanup kills it.
func StartMoto(t testing.TB) *Moto {
	t.Helper()
	bin := Require(t, "moto_server", MotoInstallHint)
	m := &Moto{Region: "us-east-1", AccessKey: "testing", SecretKey: "testing"}
	if err := retryOnNewPort(func() (bool, error) { return m.start(t, bin, FreePort(t)) }); err != nil {
		t.Fatalf("testbed: moto_server did not start: %v", err)
	}
	t.Logf("testbed: moto_server on %s (pid %d)", m.Endpoint, m.proc.pid())
	return m
}

// start runs moto_server on port and waits until it answers HTTP.
func (m *Moto) start(t testing.TB, bin string, port int) (exitedEarly bool, err error) {
	m.Endpoint = "http://127.0.0.1:" + strconv.Itoa(port)
	p, err := startProcess("moto_server", exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port)))
	if err != nil {
		return false, err
	}
	t.Cleanup(func() { stopOrFail(t, p, syscall.SIGKILL, 0) })
	m.proc = p
	err = waitReady(p, func(ctx context.Context) error {
		_, _, err := httpCall(ctx, http.MethodGet, m.Endpoint+"/moto-api/", "", "")
		return err
	})
	return p.failed(err)
}

// Options are admin options for the provider or the uploader: every endpoint is this server.
func (m *Moto) Options() awsconfig.Options {
	return awsconfig.Options{
		Region:    m.Region,
		AccessKey: m.AccessKey,
		SecretKey: m.SecretKey,
		Endpoints: awsconfig.Endpoints{S3: m.Endpoint, IAM: m.Endpoint, STS: m.Endpoint, S3Control: m.Endpoint},
	}
}

// Config loads an aws.Config from Options.
func (m *Moto) Config(t testing.TB) aws.Config {
	t.Helper()
	return loadConfig(t, "moto", m.Options())
}

// loadConfig is awsconfig.Load for a test: a configuration that does not load ends it.
func loadConfig(t testing.TB, engine string, o awsconfig.Options) aws.Config {
	t.Helper()
	cfg, err := awsconfig.Load(context.Background(), o)
	if err != nil {
		t.Fatalf("testbed: %s configuration: %v", engine, err)
	}
	return cfg
}
