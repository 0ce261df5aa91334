package catalog

import (
	"errors"
	"slices"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// ConfigError is a catalog setting that cannot work: a DSN that does not parse, a SQLite file
// that does not exist, a database, table or column that is not there, a flag column of the
// wrong type. The fix is in the settings, so a retry cannot help. Setting is the flag's name
// without dashes ("db", "table", "flag-column", ...). Its message may hold what a driver said:
// print the error OpenTable returned, which hides the password, rather than Err.
type ConfigError struct {
	Setting string
	Err     error
}

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// configErr wraps err as a problem of setting.
func configErr(setting string, err error) error { return &ConfigError{Setting: setting, Err: err} }

// SQL states and error numbers that say a named thing is not there or not allowed, as
// opposed to a connection or server failure.
var (
	// PostgreSQL: invalid_catalog_name (no such database), invalid_schema_name,
	// undefined_table, undefined_column, insufficient_privilege.
	pgMissing = []string{"3D000", "3F000", "42P01", "42703", "42501"}
	// MySQL/MariaDB: ER_BAD_DB_ERROR, ER_NO_SUCH_TABLE, ER_BAD_FIELD_ERROR,
	// ER_TABLEACCESS_DENIED_ERROR, ER_COLUMNACCESS_DENIED_ERROR.
	mysqlMissing = []uint16{1049, 1146, 1054, 1142, 1143}
)

// sqliteError is SQLite's generic SQL error code, which "no such table" and "no such column"
// carry (SQLITE_BUSY and I/O errors have their own codes).
const sqliteError = 1

// missingObject reports whether err says that a database, table or column does not exist or
// may not be read.
func missingObject(err error) bool {
	var (
		pe *pgconn.PgError
		me *mysql.MySQLError
		se *sqlite.Error
	)
	switch {
	case errors.As(err, &pe):
		return slices.Contains(pgMissing, pe.Code)
	case errors.As(err, &me):
		return slices.Contains(mysqlMissing, me.Number)
	case errors.As(err, &se):
		return se.Code()&0xff == sqliteError
	default:
		return false
	}
}

// unusableDSN reports whether a failed connection failed on the DSN itself: it does not parse,
// or names a database that does not exist.
func unusableDSN(err error) bool {
	var pce *pgconn.ParseConfigError
	if errors.As(err, &pce) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "3D000"
	}
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1049
}
