// Package cli is the uploader's command layer: it parses a subcommand's flags (in the groups of
// flag_groups.go) once into a plain configuration, builds the collaborators (S3 client,
// catalog, logger, progress display), runs the engine and turns the outcome into a report and
// an exit code. Nothing below it prints or exits; DESIGN.md says why.
package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Exit codes, as documented in the usage text.
const (
	ExitOK     = 0 // all pending work done (missing/invalid files allowed unless --strict)
	ExitFailed = 1 // some files failed, or the run was interrupted; a rerun continues
	ExitUsage  = 2 // usage or configuration error
	ExitFatal  = 3 // preflight failed, catalog unreachable or failing mid-run
)

// streams are the process's standard streams, passed down to the commands.
type streams struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, s streams, version string) int
}

// commands lists the subcommands in the order help shows them.
func commands() []command {
	return []command{
		{name: "migrate", summary: "upload pending files and flag their records once S3 confirmed them", run: runMigrate},
		{name: "verify", summary: "GET flagged files' public copies as a browser would and compare them with the local files", run: runVerify},
		{name: "prune", summary: "delete local files whose record is flagged and whose public copy verifies (dry run without --yes)", run: runPrune},
		{name: "sign-post", summary: "print a presigned POST form (JSON) for one direct browser upload", run: runSignPost},
		{name: "serve-signer", summary: "serve presigned POST forms to the application: POST /sign with a bearer token", run: runServeSigner},
		{name: "version", summary: "print the version", run: func(_ context.Context, _ []string, s streams, version string) int {
			fmt.Fprintln(s.stdout, "uploader", version)
			return ExitOK
		}},
		{name: "help", summary: "show help for a command: uploader help migrate", run: runHelp},
	}
}

// Run runs the uploader with args (without the program name) and returns the exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, version string) int {
	s := streams{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		usage(s.stderr)
		return ExitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "-h", "-help", "--help":
		usage(s.stdout)
		return ExitOK
	case "-version", "--version":
		name = "version"
	}
	i := slices.IndexFunc(commands(), func(c command) bool { return c.name == name })
	if i < 0 {
		fmt.Fprintf(s.stderr, "uploader: unknown command %q\n\n", name)
		usage(s.stderr)
		return ExitUsage
	}
	return commands()[i].run(ctx, rest, s, version)
}

func runHelp(ctx context.Context, args []string, s streams, version string) int {
	if len(args) == 0 {
		usage(s.stdout)
		return ExitOK
	}
	if args[0] == "help" || args[0] == "version" {
		usage(s.stdout)
		return ExitOK
	}
	return Run(ctx, []string{args[0], "--help"}, s.stdin, s.stdout, s.stderr, version)
}

func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("Usage: uploader <command> [flags]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-12s %s\n", c.name, c.summary)
	}
	b.WriteString(`
Run "uploader <command> --help" for a command's flags and the details of its exit codes.

Exit codes:
  0  done (migrate: missing or invalid files allowed unless --strict)
  1  some files failed or did not verify, or the run was interrupted; a rerun continues
  2  usage or configuration error (a flag, the Terraform output or the catalog's settings)
  3  fatal: preflight failed, the catalog is unreachable or failed mid-run, or another
     uploader holds the SQLite table's or ledger's lock (--lock-wait waits for it)
`)
	_, _ = io.WriteString(w, b.String())
}

// configErrorsHelp says what exit 2 covers, in every command's help.
const configErrorsHelp = `  2  usage or configuration error, named with its fix: a flag, the Terraform output, or the
     catalog (a DSN that does not parse or names no database, a sqlite: file that does not
     exist, a table or column that is not there or may not be read)
`

const exitCodesHelp = `
Exit codes:
  0  all pending work done: missing or invalid files are allowed unless --strict, and rows
     the application changed during the run are left for the next one
  1  some files failed (or, with --strict, are missing or invalid), or the run was
     interrupted; the rest finished and a rerun continues
` + configErrorsHelp + `  3  fatal, a retry may help: preflight failed (S3 refused the key or the bucket), the
     database is unreachable or failed mid-run, another uploader holds the SQLite table's
     or ledger's lock (--lock-wait waits for it), or the report could not be written
A second SIGINT or SIGTERM ends the run at once, without the report.
`
