package catalog

import (
	"strings"
	"testing"
)

func TestValidateIdentifier(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ok   bool
	}{
		{"media", true},
		{"_private", true},
		{"Media_Files2", true},
		{"app.media", true},
		{strings.Repeat("a", 63), true},
		{"app." + strings.Repeat("a", 63), true},

		{"", false},
		{strings.Repeat("a", 64), false},
		{"2media", false},
		{"media files", false},
		{"média", false},
		{"a.b.c", false},
		{".media", false},
		{"app.", false},
		{`x"; DROP TABLE t; --`, false},
		{"x`; DROP TABLE t; --", false},
		{"x'", false},
		{"x;", false},
		{"x--", false},
		{"x\x00", false},
		{"media\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateIdentifier(tt.name)
			if tt.ok && err != nil {
				t.Fatalf("ValidateIdentifier(%q) = %v, want nil", tt.name, err)
			}
			if !tt.ok && err == nil {
				t.Fatalf("ValidateIdentifier(%q) = nil, want an error", tt.name)
			}
		})
	}
}

func TestValidateColumnRejectsQualifiedNames(t *testing.T) {
	t.Parallel()
	if err := validateColumn("media.path"); err == nil {
		t.Fatal("validateColumn accepted a qualified name")
	}
	if err := validateColumn("file_path"); err != nil {
		t.Fatalf("validateColumn(file_path) = %v", err)
	}
}

func TestDialectQuoting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dialect dialect
		name    string
		want    string
		params  string
	}{
		{postgresDialect, "media", `"media"`, "$1 $2"},
		{postgresDialect, "app.Media", `"app"."Media"`, "$1 $2"},
		{sqliteDialect, "order", `"order"`, "? ?"},
		{mysqlDialect, "media", "`media`", "? ?"},
		{mysqlDialect, "shop.media", "`shop`.`media`", "? ?"},
		// Validation rejects these names; quoting still doubles the quote character, so
		// the name stays one identifier even if validation were bypassed.
		{postgresDialect, `x"y`, `"x""y"`, "$1 $2"},
		{mysqlDialect, "x`y", "`x``y`", "? ?"},
	}
	for _, tt := range tests {
		t.Run(tt.dialect.name+"/"+tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.dialect.ident(tt.name); got != tt.want {
				t.Errorf("ident(%q) = %s, want %s", tt.name, got, tt.want)
			}
			if got := tt.dialect.param(1) + " " + tt.dialect.param(2); got != tt.params {
				t.Errorf("params = %q, want %q", got, tt.params)
			}
		})
	}
}
