package testbed

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresInstallHint says how to get initdb and postgres on PATH.
const PostgresInstallHint = "apt-get install postgresql-15 and put /usr/lib/postgresql/15/bin on PATH"

// Postgres is a throwaway PostgreSQL cluster on 127.0.0.1 with trust authentication: the DSN
// carries no password.
type Postgres struct {
	DSN      string // postgres://staticmedia@127.0.0.1:PORT/staticmedia?sslmode=disable
	Port     int
	User     string // "staticmedia", the cluster's superuser
	Database string // "staticmedia"

	postgresBin string
	dataDir     string
	socketDir   string
	base        string
	cred        *syscall.Credential // nil unless we run as root
	proc        *process            // nil while stopped
}

// StartPostgres creates a new cluster with initdb in a temporary directory, starts postgres on a
// free port and creates the database "staticmedia". t.Cleanup stops the server and removes the
// directory.
//
// initdb and postgres refuse to run as root, so when the tests run as root (CI containers) both
// run as the "postgres" user, or "nobody" when there is none, in a directory that user owns.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	initdb := Require(t, "initdb", PostgresInstallHint)
	p := &Postgres{User: "staticmedia", Database: "staticmedia", postgresBin: Require(t, "postgres", PostgresInstallHint)}

	cred, err := unprivilegedCredential()
	if err != nil {
		t.Fatalf("testbed: postgres: %v", err)
	}
	p.cred = cred
	// Not t.TempDir: its parent is private to root, and the server's user must reach the data and
	// socket directories. This cleanup is registered first, so it runs after the server is stopped.
	base, err := os.MkdirTemp("", "testbed-postgres-")
	if err != nil {
		t.Fatalf("testbed: postgres: temporary directory: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	p.base = base
	p.dataDir = filepath.Join(base, "data")
	p.socketDir = filepath.Join(base, "sock")
	if err := os.Mkdir(p.socketDir, 0o700); err != nil {
		t.Fatalf("testbed: postgres: %v", err)
	}
	if err := p.handOver(base, p.socketDir); err != nil {
		t.Fatalf("testbed: postgres: %v", err)
	}

	if err := p.initdb(initdb); err != nil {
		t.Fatalf("testbed: postgres: %v", err)
	}
	t.Cleanup(func() {
		if p.proc != nil {
			stopOrFail(t, p.proc, syscall.SIGINT, 15*time.Second)
		}
	})

	if err := retryOnNewPort(func() (bool, error) { p.setPort(FreePort(t)); return p.start() }); err != nil {
		t.Fatalf("testbed: postgres did not start: %v", err)
	}
	if err := p.createDatabase(p.Database); err != nil {
		t.Fatalf("testbed: postgres: %v", err)
	}
	t.Logf("testbed: postgres on 127.0.0.1:%d (pid %d, data %s)", p.Port, p.proc.pid(), p.dataDir)
	return p
}

// Stop shuts the server down (fast shutdown: open sessions are ended) and waits for it to exit.
// Connections to DSN are refused until Start.
func (p *Postgres) Stop(t testing.TB) {
	t.Helper()
	if p.proc == nil {
		t.Fatalf("testbed: postgres: Stop called while stopped")
	}
	if err := p.proc.stop(syscall.SIGINT, 15*time.Second); err != nil {
		t.Fatalf("testbed: postgres: %v", err)
	}
	p.proc = nil
}

// Start restarts a stopped server on the same port and data directory, so DSN stays valid.
func (p *Postgres) Start(t testing.TB) {
	t.Helper()
	if p.proc != nil {
		t.Fatalf("testbed: postgres: Start called while running (pid %d)", p.proc.pid())
	}
	if _, err := p.start(); err != nil {
		t.Fatalf("testbed: postgres did not restart on port %d: %v", p.Port, err)
	}
}

// CreateDatabase creates a new, empty database and returns its DSN.
func (p *Postgres) CreateDatabase(t testing.TB, name string) string {
	t.Helper()
	if err := p.createDatabase(name); err != nil {
		t.Fatalf("testbed: postgres: %v", err)
	}
	return p.dsn(name)
}

func (p *Postgres) createDatabase(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.exec(ctx, "postgres", "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("creating database %q: %w", name, err)
	}
	return nil
}

func (p *Postgres) setPort(port int) {
	p.Port = port
	p.DSN = p.dsn(p.Database)
}

func (p *Postgres) dsn(database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(p.User),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(p.Port)),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// initdb creates the cluster: trust authentication, superuser "staticmedia", no fsync.
func (p *Postgres) initdb(bin string) error {
	cmd := exec.Command(bin, "-D", p.dataDir, "--auth=trust", "-U", p.User,
		"--encoding=UTF8", "--no-locale", "--no-sync", "--no-instructions")
	cmd.Dir = p.base
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	proc, err := startProcess("initdb", cmd)
	if err != nil {
		return err
	}
	select {
	case <-proc.done:
	case <-time.After(2 * time.Minute):
		_ = proc.stop(syscall.SIGKILL, 0)
		return fmt.Errorf("initdb did not finish in 2m\n%s", proc.describe())
	}
	if proc.err != nil {
		return fmt.Errorf("initdb failed\n%s", proc.describe())
	}
	return nil
}

// start runs postgres in the foreground as our child (not pg_ctl, which daemonizes it out of
// reach of our cleanup) and waits until it answers SELECT 1. On failure p.proc is nil again, and
// exitedEarly says the server quit by itself, which is how a port taken by someone else shows.
func (p *Postgres) start() (exitedEarly bool, err error) {
	cmd := exec.Command(p.postgresBin, "-D", p.dataDir, "-k", p.socketDir, "-p", strconv.Itoa(p.Port),
		"-c", "listen_addresses=127.0.0.1",
		// Durability is worthless for a throwaway cluster; speed is not.
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		// Many clusters may run at once on a small machine.
		"-c", "shared_buffers=16MB", "-c", "max_connections=50")
	cmd.Dir = p.base
	// The server's auxiliary processes and backends start sessions of their own, so killing our
	// process group does not reach them; they exit by themselves when the postmaster dies, and
	// Stop's SIGINT (fast shutdown) has the postmaster stop and reap them first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	proc, err := startProcess("postgres", cmd)
	if err != nil {
		return false, err
	}
	p.proc = proc
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p.Port))
	err = waitReady(proc, func(ctx context.Context) error {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		_ = c.Close()
		return p.exec(ctx, "postgres", "SELECT 1")
	})
	if err != nil {
		p.proc = nil
	}
	return proc.failed(err)
}

// exec runs one statement on database over a fresh connection.
func (p *Postgres) exec(ctx context.Context, database, sql string) error {
	conn, err := pgx.Connect(ctx, p.dsn(database))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// handOver gives the server's user ownership of dirs when we run as root.
func (p *Postgres) handOver(dirs ...string) error {
	if p.cred == nil {
		return nil
	}
	for _, d := range dirs {
		if err := os.Chown(d, int(p.cred.Uid), int(p.cred.Gid)); err != nil {
			return fmt.Errorf("giving %s to uid %d: %w", d, p.cred.Uid, err)
		}
	}
	// Every ancestor must be searchable by that user, or initdb fails with a puzzling error.
	for d := filepath.Dir(dirs[0]); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%s is not searchable by uid %d, which runs postgres; point TMPDIR at a world-searchable directory such as /tmp", d, p.cred.Uid)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// unprivilegedCredential returns who runs initdb and postgres: nil (ourselves) unless we are
// root, then the "postgres" user, else "nobody".
func unprivilegedCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	var errs []error
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			errs = append(errs, fmt.Errorf("user %s has a non-numeric uid/gid", name))
			continue
		}
		// An empty Groups list drops root's supplementary groups.
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
	}
	return nil, fmt.Errorf("running as root and no unprivileged user to run postgres as (create a postgres user): %w", errors.Join(errs...))
}
