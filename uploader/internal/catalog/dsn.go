package catalog

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver
)

// redacted replaces passwords in DSNs and errors.
const redacted = "xxxxx"

// supportedSchemes is named in the error for an unknown DSN.
const supportedSchemes = "postgres://, postgresql://, mysql://, sqlite:PATH"

// passwordParam matches password=VALUE (or pgx's sslpassword=, the client key's passphrase) in a
// URL query or a key=value connection string.
var passwordParam = regexp.MustCompile(`(?i)(\b(?:ssl)?password=)('[^']*'|[^&\s]*)`)

// RedactDSN returns dsn with its password replaced by "xxxxx", for logs and errors. It
// covers URL user-info (scheme://user:pass@host), password=... and sslpassword=... parameters and the
// go-sql-driver form user:pass@tcp(host)/db. When in doubt it redacts too much rather
// than too little.
func RedactDSN(dsn string) string {
	s := dsn
	if i := strings.Index(s, "://"); i >= 0 {
		rest := s[i+3:]
		// The user-info ends at the last '@': passwords often hold unescaped '@' or '/',
		// so the authority cannot be trusted to end at the first '/'.
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if c := strings.Index(rest[:at], ":"); c >= 0 {
				s = s[:i+3] + rest[:c+1] + redacted + rest[at:]
			}
		}
	} else if at := lastIndexAny(s, "@tcp(", "@unix(", "@tcp6("); at >= 0 {
		if c := strings.Index(s[:at], ":"); c >= 0 {
			s = s[:c+1] + redacted + s[at:]
		}
	}
	return passwordParam.ReplaceAllString(s, "${1}"+redacted)
}

func lastIndexAny(s string, subs ...string) int {
	best := -1
	for _, sub := range subs {
		if i := strings.LastIndex(s, sub); i > best {
			best = i
		}
	}
	return best
}

// database is a parsed DSN: how to open it and what must never be printed.
type database struct {
	dialect    dialect
	driverName string // for sql.Open; empty when mysqlConfig is set
	dataSource string
	mysql      *mysql.Config
	sqlitePath string // the database file, for the overlap lock
	password   string // scrubbed from every error
}

// parseDSN recognises the supported schemes.
func parseDSN(dsn string) (database, error) {
	scheme, _, _ := strings.Cut(dsn, ":")
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		u, err := url.Parse(dsn)
		if err != nil {
			return database{}, unparsableDSN("postgres", dsn)
		}
		pw, _ := u.User.Password()
		if pw == "" {
			pw = u.Query().Get("password")
		}
		return database{dialect: postgresDialect, driverName: "pgx", dataSource: dsn, password: pw}, nil
	case "mysql":
		u, err := url.Parse(dsn)
		if err != nil {
			return database{}, unparsableDSN("mysql", dsn)
		}
		cfg, err := mysqlConfig(u)
		if err != nil {
			return database{}, err
		}
		return database{dialect: mysqlDialect, mysql: cfg, password: cfg.Passwd}, nil
	case "sqlite":
		path := strings.TrimPrefix(dsn[len(scheme)+1:], "//")
		if path == "" {
			return database{}, errors.New("sqlite dsn has no file path: use sqlite:PATH")
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return database{}, fmt.Errorf("sqlite database %s: %w", path, err)
		}
		if _, err := os.Stat(abs); err != nil {
			// Opening would silently create an empty database; the table is never in it.
			return database{}, fmt.Errorf("sqlite database %s cannot be used (give the application's database file; the uploader never creates one): %w", abs, err)
		}
		return database{dialect: sqliteDialect, driverName: "sqlite", dataSource: sqliteDataSource(abs), sqlitePath: abs}, nil
	}
	return database{}, fmt.Errorf("unsupported database dsn %q: use one of %s", RedactDSN(dsn), supportedSchemes)
}

// unparsableDSN is the error for a DSN that is not a URL. net/url's own error is left out: it
// quotes the text before a '#' and the "port" it found, which are pieces of an unescaped
// password (a base64 password holds '/' and '+').
func unparsableDSN(kind, dsn string) error {
	return fmt.Errorf("invalid %s dsn %q: it does not parse as a URL; percent-encode any '/', '?', '#', '@', '%%', '\"' or space in the user name and password", kind, RedactDSN(dsn))
}

// sqliteDataSource builds a modernc.org/sqlite DSN for the application's database. The path
// goes into a file: URI, escaped, so names with '?' or '#' cannot be mistaken for parameters.
// busy_timeout makes either side wait for the other's write instead of failing; an immediate
// transaction takes the write lock up front, so a transaction never has to upgrade (which
// fails at once when busy). The journal mode is the application's and stays as it is: WAL is
// persistent, breaks on network file systems and changes what a copy of the file backs up.
func sqliteDataSource(abs string) string {
	u := url.URL{Path: filepath.ToSlash(abs)}
	return "file:" + u.EscapedPath() + "?_pragma=busy_timeout(5000)&_txlock=immediate"
}

// ledgerDataSource is sqliteDataSource for the uploader's own ledger, in WAL mode, so a
// verify can read it while a migrate writes.
func ledgerDataSource(abs string) string {
	return sqliteDataSource(abs) + "&_pragma=journal_mode(WAL)"
}

// sqliteReadOnlyDataSource opens the SQLite file at abs for reading only.
func sqliteReadOnlyDataSource(abs string) string {
	u := url.URL{Path: filepath.ToSlash(abs)}
	return "file:" + u.EscapedPath() + "?mode=ro&_pragma=busy_timeout(5000)"
}

// mysqlConfig turns mysql://user:pass@host:port/db?params into the driver's
// configuration, which formats as user:pass@tcp(host:port)/db?parseTime=true.
func mysqlConfig(u *url.URL) (*mysql.Config, error) {
	if u.Host == "" {
		return nil, fmt.Errorf("mysql dsn %q has no host: use mysql://user:pass@host:port/db", RedactDSN(u.String()))
	}
	cfg := mysql.NewConfig()
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net = "tcp"
	cfg.Addr = u.Host
	if u.Port() == "" {
		cfg.Addr = net.JoinHostPort(u.Hostname(), "3306")
	}
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	if cfg.DBName == "" {
		return nil, fmt.Errorf("mysql dsn %q has no database name: use mysql://user:pass@host:port/db", RedactDSN(u.String()))
	}
	if u.RawQuery != "" {
		// The driver knows its own parameters (tls, timeout, charset...); let it parse them.
		parsed, err := mysql.ParseDSN(cfg.FormatDSN() + "?" + u.RawQuery)
		if err != nil {
			return nil, fmt.Errorf("mysql dsn %q: %s", RedactDSN(u.String()), scrub(err.Error(), cfg.Passwd))
		}
		cfg = parsed
	}
	cfg.ParseTime = true
	return cfg, nil
}

// scrub removes secret from s.
func scrub(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, redacted)
}

// redactedError hides a password that a driver might have put into an error message,
// while keeping the original error reachable for errors.Is and errors.As.
type redactedError struct {
	err    error
	secret string
}

func (e *redactedError) Error() string { return scrub(e.err.Error(), e.secret) }
func (e *redactedError) Unwrap() error { return e.err }

// redactErr wraps err so its message never shows secret.
func redactErr(err error, secret string) error {
	if err == nil || secret == "" {
		return err
	}
	return &redactedError{err: err, secret: secret}
}
