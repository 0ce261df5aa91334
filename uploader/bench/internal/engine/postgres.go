package engine

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/staticmedia/staticmedia/uploader/bench/internal/proc"
)

// Postgres is a throwaway PostgreSQL cluster on loopback with trust authentication.
type Postgres struct {
	DSN string // postgres://bench@127.0.0.1:PORT/bench?sslmode=disable

	base string
	proc *proc.Background
}

// StartPostgres initialises a cluster in a new temporary directory and starts it. PostgreSQL
// refuses to run as root, so under root the server runs as the "postgres" account (Debian's
// packages create it). Durability settings are PostgreSQL's defaults: the uploader's flag
// updates are measured with the fsyncs a production database makes.
func StartPostgres(ctx context.Context, logDir string) (*Postgres, error) {
	initdb, err := exec.LookPath("initdb")
	if err != nil {
		return nil, errors.New("postgres: initdb not on PATH: install postgresql-15 and add /usr/lib/postgresql/15/bin to PATH")
	}
	server, err := exec.LookPath("postgres")
	if err != nil {
		return nil, errors.New("postgres: postgres not on PATH: install postgresql-15 and add /usr/lib/postgresql/15/bin to PATH")
	}
	cred, err := unprivileged()
	if err != nil {
		return nil, err
	}
	// Not under the repository: the server's account must be able to reach the directory.
	base, err := os.MkdirTemp("", "bench-postgres-")
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	p := &Postgres{base: base}
	if cred != nil {
		if err := os.Chown(base, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(base)
			return nil, fmt.Errorf("postgres: handing %s to the postgres account: %w", base, err)
		}
	}
	data := filepath.Join(base, "data")
	cmd := exec.CommandContext(ctx, initdb, "-D", data, "--auth=trust", "-U", "bench", "--encoding=UTF8",
		"--no-locale", "--no-instructions")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	cmd.Dir = base
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(base)
		return nil, fmt.Errorf("postgres: initdb: %w\n%s", err, out)
	}
	port, err := FreePort()
	if err != nil {
		os.RemoveAll(base)
		return nil, err
	}
	cmd = exec.Command(server, "-D", data, "-k", base, "-p", strconv.Itoa(port), "-c", "listen_addresses=127.0.0.1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	cmd.Dir = base
	p.proc, err = proc.StartBackground("postgres", cmd, filepath.Join(logDir, "postgres.log"))
	if err != nil {
		os.RemoveAll(base)
		return nil, err
	}
	admin := dsn(port, "postgres")
	if err := waitSQL(ctx, p.proc, admin, time.Minute); err != nil {
		p.Stop()
		return nil, err
	}
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		p.Stop()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE bench"); err != nil {
		p.Stop()
		return nil, fmt.Errorf("postgres: creating database bench: %w", err)
	}
	p.DSN = dsn(port, "bench")
	return p, nil
}

// Stop shuts the server down (fast shutdown) and removes the cluster.
func (p *Postgres) Stop() {
	_ = p.proc.Stop(syscall.SIGINT, 15*time.Second)
	_ = os.RemoveAll(p.base)
}

func dsn(port int, database string) string {
	u := url.URL{Scheme: "postgres", User: url.User("bench"), Host: "127.0.0.1:" + strconv.Itoa(port),
		Path: "/" + database, RawQuery: "sslmode=disable"}
	return u.String()
}

// unprivileged returns the credential of the postgres account when running as root, nil
// otherwise (the server then runs as the current user).
func unprivileged() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("postgres: running as root and there is no postgres account to run the server as: %w", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func waitSQL(ctx context.Context, p *proc.Background, dsn string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		if done, err := p.Exited(); done {
			return fmt.Errorf("%s before it was ready: %w", p.Describe(), err)
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(cctx, dsn)
		if err == nil {
			_, err = conn.Exec(cctx, "SELECT 1")
			conn.Close(cctx)
		}
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v: %w", p.Describe(), limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
