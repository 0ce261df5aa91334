package testbed

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// MySQLInstallHint says how to get mariadbd and mariadb-install-db.
const MySQLInstallHint = "apt-get install mariadb-server (mariadbd and mariadb-install-db on PATH or in /usr/sbin)"

// MySQL is a throwaway MariaDB server on 127.0.0.1 with one user, "staticmedia", who has every
// privilege and a random password, and a database of the same name.
type MySQL struct {
	DSN      string // mysql://staticmedia:PASSWORD@127.0.0.1:PORT/staticmedia
	Port     int
	User     string
	Password string
	Database string

	proc *process
}

// StartMySQL creates a data directory with mariadb-install-db in a temporary directory, starts
// mariadbd on a free port and waits until the user can connect. t.Cleanup stops the server and
// removes the directory.
//
// mariadbd refuses to run as root, so when the tests run as root both programs run as the
// "mysql" user (which the Debian package creates), else "nobody", in a directory that user owns.
func StartMySQL(t testing.TB) *MySQL {
	t.Helper()
	installDB := requireSbin(t, "mariadb-install-db")
	server := requireSbin(t, "mariadbd")
	m := &MySQL{User: "staticmedia", Password: randomHex(t, 12), Database: "staticmedia"}

	cred, err := mysqlCredential()
	if err != nil {
		t.Fatalf("testbed: mysql: %v", err)
	}
	// Not t.TempDir: its parent is private to root. The socket path must stay short (108 bytes).
	base, err := os.MkdirTemp("", "testbed-mysql-")
	if err != nil {
		t.Fatalf("testbed: mysql: temporary directory: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	// The server creates the user and database at every start; IF NOT EXISTS keeps restarts
	// working.
	initSQL := filepath.Join(base, "init.sql")
	init := fmt.Sprintf("CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY '%s';\nGRANT ALL ON *.* TO '%s'@'%%';\nCREATE DATABASE IF NOT EXISTS `%s`;\n",
		m.User, m.Password, m.User, m.Database)
	if err := os.WriteFile(initSQL, []byte(init), 0o600); err != nil {
		t.Fatalf("testbed: mysql: %v", err)
	}
	if err := handOverTo(cred, base, initSQL); err != nil {
		t.Fatalf("testbed: mysql: %v", err)
	}
	dataDir := filepath.Join(base, "data")

	cmd := exec.Command(installDB, "--no-defaults", "--datadir="+dataDir, "--auth-root-authentication-method=normal",
		"--skip-test-db", "--skip-name-resolve")
	cmd.Dir = base
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	install, err := startProcess("mariadb-install-db", cmd)
	if err != nil {
		t.Fatalf("testbed: mysql: %v", err)
	}
	select {
	case <-install.done:
	case <-time.After(2 * time.Minute):
		_ = install.stop(syscall.SIGKILL, 0)
		t.Fatalf("testbed: mysql: mariadb-install-db did not finish in 2m\n%s", install.describe())
	}
	if install.err != nil {
		t.Fatalf("testbed: mysql: mariadb-install-db failed\n%s", install.describe())
	}

	start := func() (bool, error) {
		m.Port = FreePort(t)
		m.DSN = (&url.URL{Scheme: "mysql", User: url.UserPassword(m.User, m.Password),
			Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(m.Port)), Path: "/" + m.Database}).String()
		cmd := exec.Command(server, "--no-defaults", "--datadir="+dataDir,
			"--socket="+filepath.Join(base, "sock"), "--pid-file="+filepath.Join(base, "pid"),
			"--port="+strconv.Itoa(m.Port), "--bind-address=127.0.0.1", "--skip-name-resolve",
			"--init-file="+initSQL,
			// Durability is worthless for a throwaway server; memory and speed are not.
			"--innodb-buffer-pool-size=16M", "--innodb-flush-log-at-trx-commit=2", "--innodb-doublewrite=0",
			"--skip-log-bin", "--performance-schema=OFF", "--max-connections=60")
		cmd.Dir = base
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		p, err := startProcess("mariadbd", cmd)
		if err != nil {
			return false, err
		}
		m.proc = p
		err = waitReady(p, func(ctx context.Context) error {
			db, err := m.open("")
			if err != nil {
				return err
			}
			defer db.Close()
			return db.PingContext(ctx)
		})
		return p.failed(err)
	}
	if err := retryOnNewPort(start); err != nil {
		t.Fatalf("testbed: mysql did not start: %v", err)
	}
	// SIGTERM is a clean shutdown; the cleanup registered after RemoveAll runs before it.
	t.Cleanup(func() { stopOrFail(t, m.proc, syscall.SIGTERM, 15*time.Second) })
	t.Logf("testbed: mysql (%s) on 127.0.0.1:%d (pid %d)", filepath.Base(server), m.Port, m.proc.pid())
	return m
}

// CreateDatabase creates a new, empty database and returns its DSN.
func (m *MySQL) CreateDatabase(t testing.TB, name string) string {
	t.Helper()
	db, err := m.open("")
	if err != nil {
		t.Fatalf("testbed: mysql: %v", err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE `" + strings.ReplaceAll(name, "`", "``") + "`"); err != nil {
		t.Fatalf("testbed: mysql: creating database %q: %v", name, err)
	}
	u, _ := url.Parse(m.DSN)
	u.Path = "/" + name
	return u.String()
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

// requireSbin is Require for the MariaDB programs, which Debian installs in /usr/sbin and
// /usr/bin, not always on a test's PATH.
func requireSbin(t testing.TB, name string) string {
	t.Helper()
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"} {
		if p, err := lookAbs(filepath.Join(dir, name)); err == nil {
			return p
		}
	}
	return Require(t, name, MySQLInstallHint)
}

// mysqlCredential is who runs MariaDB: nil (ourselves) unless we are root, then "mysql" if it
// exists, else whoever runs PostgreSQL.
func mysqlCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	if u, err := user.Lookup("mysql"); err == nil {
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 == nil && err2 == nil {
			return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
		}
	}
	return unprivilegedCredential()
}

// handOverTo gives cred's user the paths when we run as root, after checking that the user can
// reach the first one through its ancestors.
func handOverTo(cred *syscall.Credential, paths ...string) error {
	if cred == nil {
		return nil
	}
	for _, p := range paths {
		if err := os.Chown(p, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("giving %s to uid %d: %w", p, cred.Uid, err)
		}
	}
	for d := filepath.Dir(paths[0]); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%s is not searchable by uid %d, which runs the server; point TMPDIR at a world-searchable directory such as /tmp", d, cred.Uid)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}
