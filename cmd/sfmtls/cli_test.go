package main

import (
	"context"
	"io"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// allCommands walks the command tree a run builds.
func allCommands(c *cobra.Command) []*cobra.Command {
	out := []*cobra.Command{c}
	for _, s := range c.Commands() {
		out = append(out, allCommands(s)...)
	}
	return out
}

func newTestRoot() *cobra.Command {
	return newRoot(&env{ctx: context.Background(), stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }})
}

// Issue 14.5: help on standard output with exit 0, for every way of asking,
// and a command's own help, not the general one.
func TestHelpGoesToStdoutWithExitZero(t *testing.T) {
	for _, args := range [][]string{
		{"help"}, {"--help"}, {"-h"},
		{"help", "check"}, {"check", "-h"}, {"check", "--help"},
		{"help", "keystore", "create"}, {"keystore", "create", "--help"},
		{"help", "csr"}, {"jwt-cert", "-h"}, {"help", "keystore"}, {"inspect", "--help"},
	} {
		r := sfmtls(t, nil, nil, args...)
		assert.Equal(t, 0, r.code, "%v", args)
		assert.Empty(t, r.stderr, "%v", args)
		assert.Contains(t, r.stdout, "usage: sfmtls", "%v", args)
	}
	check := sfmtls(t, nil, nil, "help", "check")
	assert.Contains(t, check.stdout, "usage: sfmtls check [")
	assert.Contains(t, check.stdout, "--login-url URL")
	assert.NotContains(t, check.stdout, "commands:", "help check is check's help, not the general one")
	general := sfmtls(t, nil, nil, "help")
	for _, name := range []string{"csr", "jwt-cert", "keystore create", "keystore convert", "inspect", "export-cert", "check", "token", "query", "fake-org", "bulk ingest", "bulk query", "version", "completion"} {
		assert.Regexp(t, `(?m)^  `+name+` `, general.stdout, name)
	}
}

// Issue 14.5: every flag in the help; issue 20.4: the usage line names the
// required flags without brackets and the rest as [flags].
func TestEveryFlagIsInTheHelp(t *testing.T) {
	for _, c := range allCommands(newTestRoot()) {
		if c.Hidden || c.HasAvailableSubCommands() {
			continue
		}
		var help strings.Builder
		printHelp(c, &help)
		line := synopsis(c)
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if f.Name == "help" {
				return
			}
			if f.Deprecated != "" {
				assert.NotContains(t, help.String(), "--"+f.Name+" ", "%s: a deprecated spelling stays out of the help", c.CommandPath())
				return
			}
			assert.Contains(t, help.String(), "--"+f.Name, c.CommandPath())
			if f.Annotations[requiredFlag] != nil {
				assert.Contains(t, line, " --"+f.Name+" ", c.CommandPath())
				assert.Contains(t, f.Usage, "required", "%s --%s", c.CommandPath(), f.Name)
			} else if !strings.Contains(c.Annotations[requiredOneOf], "--"+f.Name+" ") {
				assert.NotContains(t, line, "--"+f.Name+" ", "%s: only required flags in the line", c.CommandPath())
			}
		})
		assert.NotContains(t, help.String(), " string ", "a value named by its meaning, not its type")
	}
	assert.Equal(t, "sfmtls inspect --keystore FILE [flags]", synopsis(findCommand(t, "inspect")))
	assert.Equal(t, "sfmtls keystore create --cert FILE --keystore FILE [flags]", synopsis(findCommand(t, "keystore", "create")))
	assert.Equal(t, "sfmtls csr --cn NAME (--key-file FILE | --keystore FILE) [flags]", synopsis(findCommand(t, "csr")))
	assert.Equal(t, "sfmtls bulk ingest --object NAME --operation OP [flags] FILE.csv|-", synopsis(findCommand(t, "bulk", "ingest")))
	assert.Equal(t, "sfmtls version", synopsis(findCommand(t, "version")))
}

func findCommand(t *testing.T, path ...string) *cobra.Command {
	t.Helper()
	c, rest, err := newTestRoot().Find(path)
	require.NoError(t, err)
	require.Empty(t, rest)
	return c
}

// Issue 14.5: wrong usage on standard error, with the usage line, exit 2.
func TestUsageErrorsGoToStderrWithExitTwo(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{}, "a command is needed"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"inpsect", "x"}, "inspect"}, // suggested
		{[]string{"help", "nope"}, `no command "nope"`},
		{[]string{"inspect"}, "--keystore FILE is required"},
		{[]string{"inspect", "--keystore", "a.jks", "b.jks"}, "two keystores"},
		{[]string{"inspect", "-json", "x"}, "unknown shorthand flag"},
		{[]string{"check", "extra"}, `unexpected argument "extra"`},
		{[]string{"keystore"}, "create or convert"},
		{[]string{"keystore", "nope"}, `unknown command "nope"`},
		{[]string{"csr", "--keystore", "x.jks"}, "--cn is required"},
		{[]string{"csr", "--cn", "x"}, "give --key-file FILE"},
		{[]string{"csr", "--cn", "x", "--key-file", "k", "--keystore", "s.jks"}, "choose one"},
		{[]string{"csr", "--cn", "x", "--key-type", "rsa1024", "--key-file", "k"}, "rsa2048, rsa3072, rsa4096, p256, p384"},
		{[]string{"csr", "--cn", "x", "--keystore", "x.bin"}, "--store-type"},
		{[]string{"jwt-cert", "--cn", "x", "--key-type", "p256", "--keystore", "m.jks"}, "RS256"},
		{[]string{"jwt-cert", "--cn", "x"}, "--keystore FILE is required"},
		{[]string{"jwt-cert", "--cn", "x", "--keystore", "m.jks", "--days", "0"}, "--days"},
		{[]string{"keystore", "create", "--cert", "c.crt"}, "--keystore FILE and --cert FILE are required"},
		{[]string{"keystore", "convert", "--in-keystore", "a.jks", "--keystore", "b.txt"}, "--store-type"},
		{[]string{"keystore", "convert", "--in-keystore", "a.jks", "--keystore", "b.p12", "--unencrypted-key"}, "PEM output only"},
		{[]string{"version", "x"}, "unexpected argument"},
	} {
		r := sfmtls(t, nil, nil, c.args...)
		assert.Equal(t, exitUsage, r.code, "%v: %s", c.args, r.stderr)
		assert.Empty(t, r.stdout, "%v", c.args)
		assert.Contains(t, r.stderr, c.want, "%v", c.args)
		assert.Contains(t, r.stderr, "\nusage: sfmtls", "%v", c.args)
	}
}

// Issue 14.5: sfmtls version from the build information.
func TestVersion(t *testing.T) {
	r := sfmtls(t, nil, nil, "version")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `^sfmtls \S+ .*`+regexp.QuoteMeta(runtime.Version())+`.*\n$`, r.stdout)
	assert.Empty(t, r.stderr)
}

// Shell completion through cobra: the script, and the fixed values of a flag.
func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		r := sfmtls(t, nil, nil, "completion", shell)
		assert.Equal(t, 0, r.code, shell)
		assert.Contains(t, r.stdout, "sfmtls", shell)
	}
	r := sfmtls(t, nil, nil, "__complete", "csr", "--key-type", "")
	require.Equal(t, 0, r.code, r.stderr)
	for _, kt := range []string{"rsa2048", "rsa3072", "rsa4096", "p256", "p384"} {
		assert.Contains(t, r.stdout, kt+"\n")
	}
	r = sfmtls(t, nil, nil, "__complete", "jwt-cert", "--key-type", "")
	require.Equal(t, 0, r.code, r.stderr)
	assert.NotContains(t, r.stdout, "p256", "the JWT key is RSA only")
	r = sfmtls(t, nil, nil, "__complete", "keystore", "")
	assert.Contains(t, r.stdout, "create")
	assert.Contains(t, r.stdout, "convert")
}

// GNU-style flags: --name=value works as --name value does.
func TestFlagsWithEquals(t *testing.T) {
	r := sfmtls(t, withPW, nil, "export-cert", "--alias=ECCLIENT", "--chain", "--keystore", fixture("client.jceks"))
	require.Equal(t, 0, r.code, r.stderr)
	assert.Len(t, decodePEMCerts(t, r.stdout), 2)
}
