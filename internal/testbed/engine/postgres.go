package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/staticmedia/staticmedia/internal/testbed/proc"
)

// PostgresOptions configure StartPostgres. The zero value is the test bed's cluster: superuser
// and database "staticmedia", durability off, small memory.
type PostgresOptions struct {
	User     string // the cluster's superuser; "" means "staticmedia"
	Database string // created at start; "" means "staticmedia"
	// Durable keeps PostgreSQL's own durability and memory settings (fsync, synchronous commit,
	// shared_buffers, max_connections), so writes cost what they cost in production: what a
	// benchmark wants. Tests leave it off; many clusters then fit on a small machine.
	Durable bool
	LogFile string // appended with the server's output when not ""
}

// Postgres is a throwaway PostgreSQL cluster on 127.0.0.1 with trust authentication: the DSN
// carries no password.
type Postgres struct {
	DSN      string // postgres://USER@127.0.0.1:PORT/DATABASE?sslmode=disable
	Port     int
	User     string
	Database string

	durable     bool
	postgresBin string
	dataDir     string
	socketDir   string
	base        string
	cred        *syscall.Credential // nil unless we run as root
	log         *os.File
	proc        *proc.Process // nil while stopped
}

// StartPostgres creates a new cluster with initdb in a temporary directory, starts postgres on a
// free port and creates the database. Close stops the server and removes the directory.
//
// initdb and postgres refuse to run as root, so when we run as root (CI containers) both run as
// the "postgres" user, or "nobody" when there is none, in a directory that user owns.
func StartPostgres(ctx context.Context, o PostgresOptions) (*Postgres, error) {
	initdb, err := Find("initdb")
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	server, err := Find("postgres")
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	p := &Postgres{User: o.User, Database: o.Database, durable: o.Durable, postgresBin: server}
	if p.User == "" {
		p.User = "staticmedia"
	}
	if p.Database == "" {
		p.Database = "staticmedia"
	}
	if err := p.create(ctx, initdb, o.LogFile); err != nil {
		_ = p.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := retryOnNewPort(func() (bool, error) {
		port, err := FreePort()
		if err != nil {
			return false, err
		}
		p.setPort(port)
		return p.start(ctx)
	}); err != nil {
		_ = p.Close()
		return nil, fmt.Errorf("postgres did not start: %w", err)
	}
	if err := p.createDatabase(ctx, p.Database); err != nil {
		_ = p.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return p, nil
}

// create makes the directories and runs initdb.
func (p *Postgres) create(ctx context.Context, initdb, logFile string) error {
	cred, err := unprivilegedCredential("postgres", "postgres", "nobody")
	if err != nil {
		return err
	}
	p.cred = cred
	// The server's user must reach the data and socket directories: os.TempDir() is
	// world-searchable, a test's t.TempDir() or a repository checkout under /root is not.
	if p.base, err = os.MkdirTemp("", "testbed-postgres-"); err != nil {
		return fmt.Errorf("temporary directory: %w", err)
	}
	p.dataDir = filepath.Join(p.base, "data")
	p.socketDir = filepath.Join(p.base, "sock")
	if err := os.Mkdir(p.socketDir, 0o700); err != nil {
		return err
	}
	if err := handOver(p.cred, p.base, p.socketDir); err != nil {
		return err
	}
	if p.log, err = openLog("postgres", logFile); err != nil {
		return err
	}
	// Trust authentication, the superuser named, no fsync of the new cluster.
	cmd := exec.Command(initdb, "-D", p.dataDir, "--auth=trust", "-U", p.User,
		"--encoding=UTF8", "--no-locale", "--no-sync", "--no-instructions")
	cmd.Dir = p.base
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	init, err := proc.Start("initdb", cmd, logWriter(p.log))
	if err != nil {
		return err
	}
	return waitExit(ctx, init, 2*time.Minute)
}

// Stop shuts the server down (fast shutdown: open sessions are ended) and waits for it to exit.
// Connections to DSN are refused until Start.
func (p *Postgres) Stop() error {
	if p.proc == nil {
		return errors.New("postgres: Stop called while stopped")
	}
	if err := p.proc.Stop(syscall.SIGINT, stopAfter); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	p.proc = nil
	return nil
}

// Start restarts a stopped server on the same port and data directory, so DSN stays valid.
func (p *Postgres) Start(ctx context.Context) error {
	if p.proc != nil {
		return fmt.Errorf("postgres: Start called while running (pid %d)", p.proc.PID())
	}
	if _, err := p.start(ctx); err != nil {
		return fmt.Errorf("postgres did not restart on port %d: %w", p.Port, err)
	}
	return nil
}

// Close stops the server if it runs and removes the cluster.
func (p *Postgres) Close() error {
	return closeAll(
		func() error {
			if p.proc == nil {
				return nil
			}
			return p.Stop()
		},
		func() error {
			if p.log == nil {
				return nil
			}
			return p.log.Close()
		},
		func() error {
			if p.base == "" {
				return nil
			}
			return os.RemoveAll(p.base)
		},
	)
}

// Process is the running server, nil while stopped.
func (p *Postgres) Process() *proc.Process { return p.proc }

// DataDir is the cluster's data directory.
func (p *Postgres) DataDir() string { return p.dataDir }

// CreateDatabase creates a new, empty database and returns its DSN.
func (p *Postgres) CreateDatabase(ctx context.Context, name string) (string, error) {
	if err := p.createDatabase(ctx, name); err != nil {
		return "", fmt.Errorf("postgres: %w", err)
	}
	return p.dsn(name), nil
}

func (p *Postgres) createDatabase(ctx context.Context, name string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
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

// start runs postgres in the foreground as our child (not pg_ctl, which daemonizes it out of
// reach of our cleanup) and waits until it answers SELECT 1. On failure p.proc is nil again, and
// exitedEarly says the server quit by itself, which is how a port taken by someone else shows.
func (p *Postgres) start(ctx context.Context) (exitedEarly bool, err error) {
	args := []string{"-D", p.dataDir, "-k", p.socketDir, "-p", strconv.Itoa(p.Port),
		"-c", "listen_addresses=127.0.0.1"}
	if !p.durable {
		args = append(args,
			// Durability is worthless for a throwaway cluster; speed is not.
			"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
			// Many clusters may run at once on a small machine.
			"-c", "shared_buffers=16MB", "-c", "max_connections=50")
	}
	cmd := exec.Command(p.postgresBin, args...)
	cmd.Dir = p.base
	// The server's auxiliary processes and backends start sessions of their own, so killing our
	// process group does not reach them; they exit by themselves when the postmaster dies, and
	// Stop's SIGINT (fast shutdown) has the postmaster stop and reap them first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	pr, err := proc.Start("postgres", cmd, logWriter(p.log))
	if err != nil {
		return false, err
	}
	p.proc = pr
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p.Port))
	err = waitReady(ctx, pr, func(ctx context.Context) error {
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
	return failed(pr, err)
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
