package testbed

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/staticmedia/staticmedia/internal/awsconfig"
	"github.com/staticmedia/staticmedia/internal/testbed/engine"
)

// Moto is a moto_server (S3, IAM, STS and S3 Control in one endpoint) on 127.0.0.1.
//
// AccessKey and SecretKey are the credentials tests should use as "the admin". They start as
// moto's conventional "testing"/"testing"; EnableIAMEnforcement replaces them with a real IAM
// user's key.
type Moto struct {
	*engine.Moto
}

// StartMoto starts a new moto_server for this test; t.Cleanup kills it.
func StartMoto(t testing.TB) *Moto {
	t.Helper()
	Require(t, "moto_server", MotoInstallHint)
	m, err := engine.StartMoto(context.Background())
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	closeOnCleanup(t, "moto_server", m)
	t.Logf("testbed: moto_server on %s (pid %d)", m.Endpoint, m.Process().PID())
	return &Moto{m}
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

// EnableIAMEnforcement makes moto evaluate IAM identity policies from now on, as
// engine.Moto.EnableIAMEnforcement describes; a failure ends the test. Re-read m.Options() or
// m.Config() after this call.
func (m *Moto) EnableIAMEnforcement(t testing.TB) {
	t.Helper()
	if err := m.Moto.EnableIAMEnforcement(context.Background()); err != nil {
		t.Fatalf("testbed: %v", err)
	}
}

// MotoAdminUser is the IAM user EnableIAMEnforcement creates and switches the Moto credentials to.
const MotoAdminUser = engine.MotoAdminUser
