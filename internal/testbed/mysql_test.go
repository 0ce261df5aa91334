package testbed

import (
	"database/sql"
	"net/url"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

func TestStartMySQL(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MariaDB")
	}
	t.Parallel()
	m := StartMySQL(t)
	dsn := m.CreateDatabase(t, "second")
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	if u.User.Username() != m.User || pw != m.Password || u.Path != "/second" || !strings.HasPrefix(m.DSN, "mysql://") {
		t.Fatalf("DSN %s does not name the user, password and database", dsn)
	}
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = m.User, m.Password, "tcp", u.Host, "second"
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	var version string
	if err := db.QueryRow("SELECT VERSION()").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE t (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	// A wrong password is refused: the server checks passwords.
	cfg.Passwd = m.Password + "x"
	bad, _ := mysql.NewConnector(cfg)
	badDB := sql.OpenDB(bad)
	defer badDB.Close()
	if err := badDB.Ping(); err == nil {
		t.Error("a wrong password was accepted")
	}
	t.Logf("%s", version)
}
