package testbed

import (
	"context"
	"testing"

	"github.com/staticmedia/staticmedia/internal/testbed/engine"
)

// Postgres is a throwaway PostgreSQL cluster on 127.0.0.1 with trust authentication: the DSN
// carries no password (engine.Postgres's DSN, Port, User and Database: "staticmedia").
type Postgres struct {
	*engine.Postgres
}

// StartPostgres creates a new cluster with initdb in a temporary directory, starts postgres on a
// free port and creates the database "staticmedia". t.Cleanup stops the server and removes the
// directory.
//
// initdb and postgres refuse to run as root, so when the tests run as root (CI containers) both
// run as the "postgres" user, or "nobody" when there is none, in a directory that user owns.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	requireAll(t, PostgresInstallHint, "initdb", "postgres")
	p, err := engine.StartPostgres(context.Background(), engine.PostgresOptions{})
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	closeOnCleanup(t, "postgres", p)
	t.Logf("testbed: postgres on 127.0.0.1:%d (pid %d, data %s)", p.Port, p.Process().PID(), p.DataDir())
	return &Postgres{p}
}

// Stop shuts the server down (fast shutdown: open sessions are ended) and waits for it to exit.
// Connections to DSN are refused until Start.
func (p *Postgres) Stop(t testing.TB) {
	t.Helper()
	if err := p.Postgres.Stop(); err != nil {
		t.Fatalf("testbed: %v", err)
	}
}

// Start restarts a stopped server on the same port and data directory, so DSN stays valid.
func (p *Postgres) Start(t testing.TB) {
	t.Helper()
	if err := p.Postgres.Start(context.Background()); err != nil {
		t.Fatalf("testbed: %v", err)
	}
}

// CreateDatabase creates a new, empty database and returns its DSN.
func (p *Postgres) CreateDatabase(t testing.TB, name string) string {
	t.Helper()
	dsn, err := p.Postgres.CreateDatabase(context.Background(), name)
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	return dsn
}
