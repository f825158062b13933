// Command sfmtls inspects keystores and tests Salesforce connections made with
// mutual TLS and the OAuth 2.0 JWT bearer flow.
//
//	sfmtls inspect [--json] [--alias A] [--password-file F] [--key-file K] FILE
//	sfmtls export-cert [--chain] [--alias A] [--password-file F] FILE
//	sfmtls check [connection flags]
//	sfmtls token [--show-token] [connection flags]
//	sfmtls query [connection flags] SOQL
//	sfmtls fake-org [--dir DIR] [--session-lifetime D] [--api-limit N] [--seed FILE]
//	sfmtls bulk ingest --object NAME --operation OP [--external-id FIELD] [--failed FILE] [--unprocessed FILE] FILE.csv|-
//	sfmtls bulk query [--all] [--out FILE] SOQL
//
// Connection flags --x-y each have the environment variable SF_X_Y (see
// sfmtls check -h). Passwords never come from a flag's value: for inspect and
// export-cert the store password comes from --password-file or
// SF_KEYSTORE_PASSWORD, the key password from --key-password-file or
// SF_KEY_PASSWORD (default: the store password), and when neither is set and
// standard input is a terminal, sfmtls asks without echo; the connection
// commands read SF_MTLS_KEYSTORE_PASSWORD and the like, or --…-password-file.
//
// Exit status: 0 success, 1 failure (one line on standard error), 2 wrong usage.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(os.Args[1:], &env{
		ctx:    ctx,
		stdin:  os.Stdin,
		stdout: os.Stdout,
		stderr: os.Stderr,
		getenv: os.Getenv,
		prompt: terminalPrompt,
	}))
}

// env is what a command may touch of the outside world, so tests can supply it.
type env struct {
	ctx            context.Context // ends on Ctrl-C
	stdin          io.Reader       // nil: os.Stdin
	stdout, stderr io.Writer
	getenv         func(string) string
	// prompt asks for a secret without echo; nil, or ok=false, when there is no terminal.
	prompt func(label string) (secret string, ok bool, err error)
}

const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

const usage = `usage: sfmtls COMMAND [flags] ARGS

commands:
  inspect      show every entry of a keystore, with warnings for Salesforce mutual TLS
  export-cert  print the certificate to upload to Salesforce as Mutual Authentication Certificate
  check        test the connection step by step: keystores, TLS handshake, JWT token, REST API
  token        print the token response as JSON (the access token redacted unless --show-token)
  query        run a SOQL query and print the records as JSON lines, all pages
  fake-org     run a fake org on loopback and print the SF_* settings to reach it
  bulk         Bulk API 2.0: ingest a CSV (insert, update, upsert, delete, hardDelete) or query to CSV

Run 'sfmtls COMMAND -h' for a command's flags.
`

func run(args []string, e *env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "inspect":
		return cmdInspect(args[1:], e)
	case "export-cert":
		return cmdExportCert(args[1:], e)
	case "check":
		return cmdCheck(args[1:], e)
	case "token":
		return cmdToken(args[1:], e)
	case "query":
		return cmdQuery(args[1:], e)
	case "fake-org":
		return cmdFakeOrg(args[1:], e)
	case "bulk":
		return cmdBulk(args[1:], e)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(e.stdout, usage)
		return exitOK
	}
	fmt.Fprintf(e.stderr, "sfmtls: unknown command %q\n%s", args[0], usage)
	return exitUsage
}

func terminalPrompt(label string) (string, bool, error) {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return "", false, nil
	}
	fmt.Fprint(os.Stderr, label)
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	return string(b), true, err
}
