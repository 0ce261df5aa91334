package engine

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/staticmedia/staticmedia/internal/testbed/proc"
)

// MySQL is a throwaway MariaDB server on 127.0.0.1 with one user, "staticmedia", who has every
// privilege and a random password, and a database of the same name.
type MySQL struct {
	DSN      string // mysql://staticmedia:PASSWORD@127.0.0.1:PORT/staticmedia
	Port     int
	User     string
	Password string
	Database string
	Server   string // the mariadbd binary

	base string
	proc *proc.Process
}

// StartMySQL creates a data directory with mariadb-install-db in a temporary directory, starts
// mariadbd on a free port and waits until the user can connect. Close stops the server and
// removes the directory.
//
// mariadbd refuses to run as root, so when we run as root both programs run as the "mysql" user
// (which the Debian package creates), else "postgres" or "nobody", in a directory that user owns.
func StartMySQL(ctx context.Context) (*MySQL, error) {
	installDB, err := Find("mariadb-install-db")
	if err != nil {
		return nil, fmt.Errorf("mysql: %w", err)
	}
	server, err := Find("mariadbd")
	if err != nil {
		return nil, fmt.Errorf("mysql: %w", err)
	}
	password, err := randomHex(12)
	if err != nil {
		return nil, fmt.Errorf("mysql: %w", err)
	}
	m := &MySQL{User: "staticmedia", Password: password, Database: "staticmedia", Server: server}
	if err := m.create(ctx, installDB); err != nil {
		_ = m.Close()
		return nil, fmt.Errorf("mysql: %w", err)
	}
	return m, nil
}

func (m *MySQL) create(ctx context.Context, installDB string) error {
	cred, err := unprivilegedCredential("mariadbd", "mysql", "postgres", "nobody")
	if err != nil {
		return err
	}
	// Not under a test's t.TempDir: its parent is private to root. The socket path must stay
	// short (108 bytes).
	if m.base, err = os.MkdirTemp("", "testbed-mysql-"); err != nil {
		return fmt.Errorf("temporary directory: %w", err)
	}
	// The server creates the user and database at every start; IF NOT EXISTS keeps restarts
	// working.
	initSQL := filepath.Join(m.base, "init.sql")
	init := fmt.Sprintf("CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY '%s';\nGRANT ALL ON *.* TO '%s'@'%%';\nCREATE DATABASE IF NOT EXISTS `%s`;\n",
		m.User, m.Password, m.User, m.Database)
	if err := os.WriteFile(initSQL, []byte(init), 0o600); err != nil {
		return err
	}
	if err := handOver(cred, m.base, initSQL); err != nil {
		return err
	}
	dataDir := filepath.Join(m.base, "data")

	cmd := exec.Command(installDB, "--no-defaults", "--datadir="+dataDir, "--auth-root-authentication-method=normal",
		"--skip-test-db", "--skip-name-resolve")
	cmd.Dir = m.base
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	install, err := proc.Start("mariadb-install-db", cmd, nil)
	if err != nil {
		return err
	}
	if err := waitExit(ctx, install, 2*time.Minute); err != nil {
		return err
	}

	start := func() (bool, error) {
		port, err := FreePort()
		if err != nil {
			return false, err
		}
		m.Port = port
		m.DSN = (&url.URL{Scheme: "mysql", User: url.UserPassword(m.User, m.Password),
			Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(m.Port)), Path: "/" + m.Database}).String()
		cmd := exec.Command(m.Server, "--no-defaults", "--datadir="+dataDir,
			"--socket="+filepath.Join(m.base, "sock"), "--pid-file="+filepath.Join(m.base, "pid"),
			"--port="+strconv.Itoa(m.Port), "--bind-address=127.0.0.1", "--skip-name-resolve",
			"--init-file="+initSQL,
			// Durability is worthless for a throwaway server; memory and speed are not.
			"--innodb-buffer-pool-size=16M", "--innodb-flush-log-at-trx-commit=2", "--innodb-doublewrite=0",
			"--skip-log-bin", "--performance-schema=OFF", "--max-connections=60")
		cmd.Dir = m.base
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		p, err := proc.Start("mariadbd", cmd, nil)
		if err != nil {
			return false, err
		}
		m.proc = p
		err = waitReady(ctx, p, func(ctx context.Context) error {
			db, err := m.open("")
			if err != nil {
				return err
			}
			defer db.Close()
			return db.PingContext(ctx)
		})
		return failed(p, err)
	}
	if err := retryOnNewPort(start); err != nil {
		return fmt.Errorf("mariadbd did not start: %w", err)
	}
	return nil
}

// CreateDatabase creates a new, empty database and returns its DSN.
func (m *MySQL) CreateDatabase(ctx context.Context, name string) (string, error) {
	db, err := m.open("")
	if err != nil {
		return "", fmt.Errorf("mysql: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE `"+strings.ReplaceAll(name, "`", "``")+"`"); err != nil {
		return "", fmt.Errorf("mysql: creating database %q: %w", name, err)
	}
	u, err := url.Parse(m.DSN)
	if err != nil {
		return "", fmt.Errorf("mysql: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// open connects as the user to database ("" for none), in the driver's own DSN form.
func (m *MySQL) open(database string) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd = m.User, m.Password
	cfg.Net, cfg.Addr = "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(m.Port))
	cfg.DBName = database
	cfg.Timeout = 2 * time.Second
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(connector), nil
}

// Process is the running server.
func (m *MySQL) Process() *proc.Process { return m.proc }

// Close shuts the server down (SIGTERM is a clean shutdown), waits for its exit and removes its
// directory.
func (m *MySQL) Close() error {
	return closeAll(
		func() error {
			if m.proc == nil {
				return nil
			}
			return m.proc.Stop(syscall.SIGTERM, stopAfter)
		},
		func() error {
			if m.base == "" {
				return nil
			}
			return os.RemoveAll(m.base)
		},
	)
}
