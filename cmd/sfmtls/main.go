// Command sfmtls makes the keys, certificate requests and keystores a
// Salesforce mutual TLS integration needs, inspects keystores, and tests
// connections made with mutual TLS and the OAuth 2.0 JWT bearer flow.
//
//	sfmtls csr --cn NAME (--key-file FILE | --keystore FILE) [flags]
//	sfmtls jwt-cert --cn NAME --keystore FILE [flags]
//	sfmtls keystore create --keystore FILE --cert FILE [--chain FILE] [--key-file FILE] [--ca-file FILE] [flags]
//	sfmtls keystore convert --in-keystore FILE --keystore FILE [--ca-file FILE] [flags]
//	sfmtls inspect --keystore FILE [--json] [--alias NAME] [--password-file FILE] [--key-password-file FILE] [--key-file FILE]
//	sfmtls export-cert --keystore FILE [--chain] [--alias NAME] [--password-file FILE] [--key-password-file FILE] [--key-file FILE]
//	sfmtls check [--json] [connection flags]
//	sfmtls token [--show-token] [connection flags]
//	sfmtls query [-o json|csv|table] [connection flags] SOQL
//	sfmtls listen [--replay new|all|ID] [-o json] [connection flags] CHANNEL
//	sfmtls publish --data JSON [connection flags] /event/NAME__e
//	sfmtls fake-org [--dir DIR] [--session-lifetime D] [--api-limit N] [--seed FILE] [--bulk-store-max N] [--env-file FILE] [--force]
//	sfmtls bulk ingest --object NAME --operation OP [--external-id FIELD] [--failed FILE] [--unprocessed FILE] [--force] FILE.csv|-
//	sfmtls bulk query [--all] [--out FILE] [--force] SOQL
//	sfmtls bulk status JOB
//	sfmtls bulk abort JOB
//	sfmtls bulk results JOB [--successful FILE] [--failed FILE] [--unprocessed FILE] [--force]
//	sfmtls version (or sfmtls --version)
//	sfmtls completion bash|zsh|fish|powershell
//	sfmtls help [COMMAND]
//
// Flags are GNU-style (--name VALUE or --name=VALUE) and may follow the
// arguments. Connection flags --x-y each have the environment variable SF_X_Y
// (see sfmtls help check). Passwords never come from a flag's value: a keystore
// command reads the store password from --password-file or SF_KEYSTORE_PASSWORD,
// the key password from --key-password-file or SF_KEY_PASSWORD (default: the
// store password), and when neither is set and standard input is a terminal,
// sfmtls asks without echo; the connection commands read
// SF_MTLS_KEYSTORE_PASSWORD and the like, or --…-password-file.
//
// Help goes to standard output with exit status 0. Exit status: 0 success,
// 1 failure (the reason on standard error), 2 wrong usage (the reason and the
// usage line on standard error), 130 after Ctrl-C: the first one cancels the
// command, which says what happened to its job (see bulk status, abort and
// results); a second exits at once with 128 plus the signal's number.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/redis/go-redis/v9"
	"golang.org/x/term"
)

func main() {
	// The first Ctrl-C ends ctx, the second exits at once.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, stop := interruptContext(context.Background(), sigs, os.Stderr, os.Exit)
	defer stop()
	// go-redis logs its own dial failures to stderr; the token cache already
	// warns once when the Redis store fails, in the tool's format.
	redis.SetLogger(discardLog{})
	os.Exit(run(os.Args[1:], &env{
		ctx:    ctx,
		stdin:  os.Stdin,
		stdout: os.Stdout,
		stderr: os.Stderr,
		getenv: os.Getenv,
		prompt: terminalPrompt,
	}))
}

// discardLog drops go-redis's log lines.
type discardLog struct{}

func (discardLog) Printf(context.Context, string, ...any) {}

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
