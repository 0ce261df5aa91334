package catalog

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/staticmedia/staticmedia/internal/testbed"
)

func TestRedactDSN(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dsn, want string
	}{
		{"postgres://app:s3cret@db.example:5432/media?sslmode=require", "postgres://app:xxxxx@db.example:5432/media?sslmode=require"},
		{"postgresql://app:p%40ss%2Fword@db/media", "postgresql://app:xxxxx@db/media"},
		// Unescaped '@' and '/' in the password: the user-info ends at the last '@'.
		{"postgres://app:p@ss/w@db/media", "postgres://app:xxxxx@db/media"},
		{"postgres://app@db/media?password=s3cret&sslmode=disable", "postgres://app@db/media?password=xxxxx&sslmode=disable"},
		{"postgres://app@db/media", "postgres://app@db/media"},
		{"mysql://app:s3cret@db:3306/media", "mysql://app:xxxxx@db:3306/media"},
		{"app:s3cret@tcp(db:3306)/media?parseTime=true", "app:xxxxx@tcp(db:3306)/media?parseTime=true"},
		{"host=db user=app password=s3cret dbname=media", "host=db user=app password=xxxxx dbname=media"},
		{"host=db password='s3 cret' dbname=media", "host=db password=xxxxx dbname=media"},
		{"sqlite:/var/lib/app/app.db", "sqlite:/var/lib/app/app.db"},
		// pgx's passphrase of an encrypted client key.
		{"postgres://app@db/media?sslkey=/k.pem&sslpassword=s3cret", "postgres://app@db/media?sslkey=/k.pem&sslpassword=xxxxx"},
		{"host=db sslpassword=s3cret dbname=media", "host=db sslpassword=xxxxx dbname=media"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			got := RedactDSN(tt.dsn)
			if got != tt.want {
				t.Errorf("RedactDSN(...) = %q, want %q", got, tt.want)
			}
			for _, secret := range []string{"s3cret", "p@ss", "p%40ss", "s3 cret"} {
				if strings.Contains(got, secret) {
					t.Errorf("RedactDSN(...) = %q still contains %q", got, secret)
				}
			}
		})
	}
}

func TestMySQLConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dsn, want string
	}{
		{"mysql://app:s3cret@db.example:3307/media", "app:s3cret@tcp(db.example:3307)/media?parseTime=true"},
		{"mysql://app:s3cret@db.example/media", "app:s3cret@tcp(db.example:3306)/media?parseTime=true"},
		{"mysql://app:p%40ss%3Aw@[::1]:3306/media", "app:p@ss:w@tcp([::1]:3306)/media?parseTime=true"},
		{"mysql://app@127.0.0.1:3306/media?timeout=5s&tls=skip-verify", "app@tcp(127.0.0.1:3306)/media?parseTime=true&timeout=5s&tls=skip-verify"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			u, err := url.Parse(tt.dsn)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := mysqlConfig(u)
			if err != nil {
				t.Fatalf("mysqlConfig: %v", err)
			}
			if got := cfg.FormatDSN(); got != tt.want {
				t.Errorf("FormatDSN() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseDSN(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "app ?#.db")
	if err := os.WriteFile(dbPath, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		dsn     string
		dialect string
		wantErr string
	}{
		{"postgres", "postgres://app:s3cret@db/media", "postgres", ""},
		{"postgresql", "postgresql://app@db/media", "postgres", ""},
		{"mysql", "mysql://app:s3cret@db:3306/media", "mysql", ""},
		{"sqlite", "sqlite:" + dbPath, "sqlite", ""},
		{"sqlite slashes", "sqlite://" + dbPath, "sqlite", ""},
		{"sqlite missing file", "sqlite:" + filepath.Join(dir, "nope.db"), "", "nope.db"},
		{"sqlite no path", "sqlite:", "", "sqlite:PATH"},
		{"mysql without database", "mysql://app:s3cret@db:3306", "", "no database name"},
		{"mysql bad parameter", "mysql://app:s3cret@db:3306/media?timeout=soon", "", "mysql dsn"},
		{"unknown scheme", "oracle://app:s3cret@db/media", "", supportedSchemes},
		{"no scheme", "/var/lib/app.db", "", supportedSchemes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseDSN(tt.dsn)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("parseDSN(%q) succeeded, want an error containing %q", RedactDSN(tt.dsn), tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q does not contain %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error %q reveals the password", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseDSN: %v", err)
			}
			if got.dialect.name != tt.dialect {
				t.Errorf("dialect = %s, want %s", got.dialect.name, tt.dialect)
			}
		})
	}
}

func TestRedactedErrorKeepsChain(t *testing.T) {
	t.Parallel()
	base := os.ErrNotExist
	err := redactErr(&os.PathError{Op: "open", Path: "/x/s3cret", Err: base}, "s3cret")
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("redacted error %q reveals the secret", err)
	}
	if !strings.Contains(err.Error(), "/x/xxxxx") {
		t.Errorf("redacted error %q lost its message", err)
	}
	if !errors.Is(err, base) {
		t.Error("redacted error no longer wraps the original")
	}
}

// TestOpenTableUnreachable opens each network engine on a closed port: the error says what
// failed and never shows the password. It is the MySQL driver path's only test when no
// MariaDB server is installed.
func TestOpenTableUnreachable(t *testing.T) {
	t.Parallel()
	const password = "Unreachable-s3cret"
	port := testbed.FreePort(t)
	for _, scheme := range []string{"mysql", "postgres"} {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			dsn := fmt.Sprintf("%s://app:%s@127.0.0.1:%d/media", scheme, password, port)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			tbl, err := OpenTable(ctx, TableConfig{DSN: dsn, Table: "media", PathColumn: "file_path", FlagColumn: "hosted"})
			if err == nil {
				tbl.Close()
				t.Fatal("OpenTable succeeded against a closed port")
			}
			want := fmt.Sprintf("connect to %s://app:xxxxx@127.0.0.1:%d/media", scheme, port)
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("error reveals the password: %q", err)
			}
		})
	}
}

// A DSN that does not parse as a URL, most often for an unescaped character in the password
// (a base64 password holds '/' and '+'), must not quote any part of the password: net/url's
// errors quote the text before a '#' and the "port" it found in the password.
func TestParseDSNUnparsableHidesPassword(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ dsn, secret string }{
		{"postgres://app:ab/cd@db/media", "ab"},
		{"postgres://app:s3cr#et@db:5432/media", "s3cr"},
		{"mysql://app:pa?ss@db:3306/media", "pa"},
		{`postgres://app:pa"s%zz@db/media`, `pa\"s`},
	} {
		_, err := OpenTable(context.Background(), TableConfig{DSN: tt.dsn, Table: "photos", PathColumn: "path", FlagColumn: "uploaded"})
		if err == nil {
			t.Fatalf("OpenTable(%q) succeeded", RedactDSN(tt.dsn))
		}
		if strings.Contains(err.Error(), ":"+tt.secret) || strings.Contains(err.Error(), tt.secret+"\"") {
			t.Errorf("error %q reveals part of the password %q", err, tt.secret)
		}
		if !strings.Contains(err.Error(), "percent-encode") {
			t.Errorf("error %q does not say how to fix the DSN", err)
		}
		var ce *ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("error %q is not a ConfigError", err)
		}
	}
}
