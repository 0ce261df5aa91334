package testbed

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/staticmedia/staticmedia/internal/testbed/engine"
)

// MySQL is a throwaway MariaDB server on 127.0.0.1 with one user, "staticmedia", who has every
// privilege and a random password, and a database of the same name (engine.MySQL's DSN, Port,
// User, Password and Database).
type MySQL struct {
	*engine.MySQL
}

// StartMySQL creates a data directory with mariadb-install-db in a temporary directory, starts
// mariadbd on a free port and waits until the user can connect. t.Cleanup stops the server and
// removes the directory.
//
// mariadbd refuses to run as root, so when the tests run as root both programs run as the
// "mysql" user (which the Debian package creates), else "nobody", in a directory that user owns.
func StartMySQL(t testing.TB) *MySQL {
	t.Helper()
	requireAll(t, MySQLInstallHint, "mariadb-install-db", "mariadbd")
	m, err := engine.StartMySQL(context.Background())
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	closeOnCleanup(t, "mariadbd", m)
	t.Logf("testbed: mysql (%s) on 127.0.0.1:%d (pid %d)", filepath.Base(m.Server), m.Port, m.Process().PID())
	return &MySQL{m}
}

// CreateDatabase creates a new, empty database and returns its DSN.
func (m *MySQL) CreateDatabase(t testing.TB, name string) string {
	t.Helper()
	dsn, err := m.MySQL.CreateDatabase(context.Background(), name)
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	return dsn
}
