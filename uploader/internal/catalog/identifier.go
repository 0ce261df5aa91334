package catalog

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// maxIdentifierLen is PostgreSQL's limit (NAMEDATALEN-1); MySQL allows 64 and SQLite more,
// so names that pass here work everywhere.
const maxIdentifierLen = 63

// ValidateIdentifier reports whether name is a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*,
// at most 63 characters), optionally schema-qualified as "schema.table". Only such names
// are ever put into SQL, and they are quoted as well, so a table or column name cannot
// inject SQL.
func ValidateIdentifier(name string) error {
	if name == "" {
		return errors.New("identifier is empty")
	}
	parts := strings.Split(name, ".")
	if len(parts) > 2 {
		return fmt.Errorf("identifier %q has more than one dot: use name or schema.name", name)
	}
	for _, p := range parts {
		if err := validateName(p); err != nil {
			return fmt.Errorf("identifier %q: %w", name, err)
		}
	}
	return nil
}

// validateColumn is ValidateIdentifier for column names, which are never qualified.
func validateColumn(name string) error {
	if strings.Contains(name, ".") {
		return fmt.Errorf("column name %q must not contain a dot", name)
	}
	return ValidateIdentifier(name)
}

func validateName(p string) error {
	if p == "" {
		return errors.New("empty name part")
	}
	if len(p) > maxIdentifierLen {
		return fmt.Errorf("name part is %d characters long, the limit is %d", len(p), maxIdentifierLen)
	}
	for i, c := range p {
		letter := c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
		digit := c >= '0' && c <= '9'
		if !letter && (!digit || i == 0) {
			return fmt.Errorf("character %q at position %d is not allowed: only letters, digits and _ (not first)", c, i)
		}
	}
	return nil
}

// dialect holds what differs between the SQL engines: quoting and placeholders.
type dialect struct {
	name     string // "postgres", "mysql" or "sqlite"
	quote    byte   // identifier quote character
	numbered bool   // $1, $2 placeholders instead of ?
}

var (
	postgresDialect = dialect{name: "postgres", quote: '"', numbered: true}
	mysqlDialect    = dialect{name: "mysql", quote: '`'}
	sqliteDialect   = dialect{name: "sqlite", quote: '"'}
)

// ident quotes a validated identifier, part by part for schema.table. The quote character
// is doubled as well, although validation already rules it out, so quoting alone is safe.
func (d dialect) ident(name string) string {
	q := string(d.quote)
	parts := strings.Split(name, ".")
	for i, p := range parts {
		parts[i] = q + strings.ReplaceAll(p, q, q+q) + q
	}
	return strings.Join(parts, ".")
}

// param returns the placeholder for the n-th (1-based) argument.
func (d dialect) param(n int) string {
	if d.numbered {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}
