package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// secretEnv sets every SF_ variable, known or not, to a value that names
// itself: SF_TOKEN_STORE reads as a Redis URL with a password, as the README
// tells users to set it.
func secretEnv(name string) string {
	if !strings.HasPrefix(name, "SF_") {
		return ""
	}
	if name == "SF_TOKEN_STORE" {
		return "redis://user:s3cr3t-SF_TOKEN_STORE@redis.example.com:6379/0"
	}
	return "s3cr3t-" + name
}

// TestHelpShowsNoVariableValue: the help of every command, however asked for
// (--help, -h, help COMMAND), and its shell completions name the SF_ variables a flag defaults to and
// never prints their values (issue 19, must hold 5). cobra prints a flag's
// default, and the connection flags and --token-store default to their
// variables: without HideEnvDefault, 'sfmtls token --help' printed the Redis
// URL with its password.
func TestHelpShowsNoVariableValue(t *testing.T) {
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		paths = append(paths, path)
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string(nil), path...), sub.Name()))
		}
	}
	walk(newRoot(&env{ctx: context.Background(), stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, getenv: secretEnv}), nil)
	require.Greater(t, len(paths), 10)
	sawTokenStore := false
	for _, p := range paths {
		for _, args := range [][]string{
			append(append([]string(nil), p...), "--help"),
			append(append([]string(nil), p...), "-h"),
			append([]string{"help"}, p...),
			// Shell completion lists the flags with their usage.
			append(append([]string{"__complete"}, p...), "--"),
			append(append([]string{"__complete"}, p...), "--token-store", ""),
		} {
			var out, errOut bytes.Buffer
			e := &env{ctx: t.Context(), stdout: &out, stderr: &errOut, getenv: secretEnv}
			code := run(args, e)
			all := out.String() + errOut.String()
			assert.NotContains(t, all, "s3cr3t", "sfmtls %s", strings.Join(args, " "))
			if strings.Contains(all, "--token-store") {
				sawTokenStore = true
				assert.Contains(t, all, "$SF_TOKEN_STORE", "sfmtls %s", strings.Join(args, " "))
			}
			_ = code
		}
	}
	assert.True(t, sawTokenStore, "no help showed --token-store")
}

// TestFlagStillWinsOverHiddenDefault: hiding the default from the help keeps
// the variable as the flag's value, and a flag given still wins.
func TestFlagStillWinsOverHiddenDefault(t *testing.T) {
	vars := map[string]string{"SF_TOKEN_STORE": "bogus:s3cr3t"}
	r := sfmtls(t, vars, nil, "token", "--login-url", "https://x.my.salesforce.com", "--consumer-key", "k",
		"--username", "u", "--mtls-keystore", "m.jks")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "unknown token store", "the variable is still read")
	r = sfmtls(t, vars, nil, "token", "--login-url", "https://x.my.salesforce.com", "--consumer-key", "k",
		"--username", "u", "--mtls-keystore", fixture("nonexistent.jks"), "--token-store", "none")
	assert.NotContains(t, r.stderr, "unknown token store", "the flag wins")
}
