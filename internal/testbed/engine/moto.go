package engine

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"strconv"
	"syscall"

	"github.com/staticmedia/staticmedia/internal/awsconfig"
	"github.com/staticmedia/staticmedia/internal/testbed/proc"
)

// Moto is a moto_server (S3, IAM, STS and S3 Control in one endpoint) on 127.0.0.1.
//
// AccessKey and SecretKey are the credentials to use as "the admin": moto's conventional
// "testing"/"testing" until a caller switches them (testbed's EnableIAMEnforcement does).
type Moto struct {
	Endpoint  string // http://127.0.0.1:PORT
	Region    string // us-east-1
	AccessKey string
	SecretKey string

	proc *proc.Process
}

// StartMoto starts a new moto_server and waits until it answers HTTP. Close kills it.
func StartMoto(ctx context.Context) (*Moto, error) {
	bin, err := Find("moto_server")
	if err != nil {
		return nil, fmt.Errorf("moto: %w", err)
	}
	m := &Moto{Region: "us-east-1", AccessKey: "testing", SecretKey: "testing"}
	if err := retryOnNewPort(func() (bool, error) {
		port, err := FreePort()
		if err != nil {
			return false, err
		}
		return m.start(ctx, bin, port)
	}); err != nil {
		return nil, fmt.Errorf("moto_server did not start: %w", err)
	}
	return m, nil
}

// start runs moto_server on port and waits until it answers HTTP.
func (m *Moto) start(ctx context.Context, bin string, port int) (exitedEarly bool, err error) {
	m.Endpoint = "http://127.0.0.1:" + strconv.Itoa(port)
	p, err := proc.Start("moto_server", exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port)), nil)
	if err != nil {
		return false, err
	}
	m.proc = p
	err = waitReady(ctx, p, func(ctx context.Context) error {
		_, _, err := httpCall(ctx, http.MethodGet, m.Endpoint+"/moto-api/", "", "")
		return err
	})
	return failed(p, err)
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

// Process is the running server.
func (m *Moto) Process() *proc.Process { return m.proc }

// Close kills the server and waits for its exit.
func (m *Moto) Close() error {
	if m.proc == nil {
		return nil
	}
	return m.proc.Stop(syscall.SIGKILL, 0)
}
