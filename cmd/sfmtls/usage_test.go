package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 20.4: a usage error is the reason, the command's short usage line
// and a pointer to 'sfmtls help CMD', not one 600–750-character line of
// every flag; required flags are marked as such in the help.
func TestUsageErrorIsShort(t *testing.T) {
	for _, c := range []struct {
		args             []string
		reason, usage, h string
	}{
		{[]string{"bulk", "ingest", "--bogus"}, "sfmtls bulk ingest: unknown flag: --bogus",
			"usage: sfmtls bulk ingest --object NAME --operation OP [flags] FILE.csv|-", "Run 'sfmtls help bulk ingest' for the flags."},
		{[]string{"bulk", "ingest", "a.csv"}, "sfmtls bulk ingest: --object is required",
			"usage: sfmtls bulk ingest --object NAME --operation OP [flags] FILE.csv|-", "Run 'sfmtls help bulk ingest' for the flags."},
		{[]string{"check", "--nope"}, "sfmtls check: unknown flag: --nope",
			"usage: sfmtls check [flags]", "Run 'sfmtls help check' for the flags."},
		{[]string{"token", "x"}, `sfmtls token: unexpected argument "x"`,
			"usage: sfmtls token [flags]", "Run 'sfmtls help token' for the flags."},
		{[]string{"bulk", "query"}, "sfmtls bulk query: expected one SOQL argument",
			"usage: sfmtls bulk query [flags] SOQL", "Run 'sfmtls help bulk query' for the flags."},
		{[]string{"csr", "--cn", "x"}, "sfmtls csr: give --key-file FILE",
			"usage: sfmtls csr --cn NAME (--key-file FILE | --keystore FILE) [flags]", "Run 'sfmtls help csr' for the flags."},
		{[]string{"keystore", "convert", "--in-keystore", "a.jks"}, "sfmtls keystore convert:",
			"usage: sfmtls keystore convert --in-keystore FILE --keystore FILE [flags]", "Run 'sfmtls help keystore convert' for the flags."},
		{[]string{"bulk", "nope"}, `sfmtls bulk: unknown command "nope"`,
			"usage: sfmtls bulk COMMAND [flags] [ARGS]", "Run 'sfmtls help bulk' for the commands."},
	} {
		r := sfmtls(t, nil, nil, c.args...)
		require.Equal(t, exitUsage, r.code, "%v: %s", c.args, r.stderr)
		lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
		require.Len(t, lines, 3, "%v: %s", c.args, r.stderr)
		assert.True(t, strings.HasPrefix(lines[0], c.reason), "%v: %s", c.args, lines[0])
		assert.Equal(t, c.usage, lines[1], "%v", c.args)
		assert.Equal(t, c.h, lines[2], "%v", c.args)
		assert.LessOrEqual(t, len(r.stderr), 400, "%v: %s", c.args, r.stderr)
	}
	// Every command's usage line fits a terminal, with or without its reason.
	for _, c := range allCommands(newTestRoot()) {
		assert.LessOrEqual(t, len("usage: "+synopsis(c)), 80, synopsis(c))
	}
}

// Issue 20.4: the help marks each required flag "(required)".
func TestHelpMarksRequiredFlags(t *testing.T) {
	for _, c := range []struct {
		args  []string
		flags []string
	}{
		{[]string{"help", "bulk", "ingest"}, []string{"--object", "--operation"}},
		{[]string{"help", "keystore", "create"}, []string{"--keystore", "--cert"}},
		{[]string{"help", "keystore", "convert"}, []string{"--in-keystore", "--keystore"}},
		{[]string{"help", "jwt-cert"}, []string{"--cn", "--keystore"}},
		{[]string{"help", "csr"}, []string{"--cn"}},
	} {
		r := sfmtls(t, nil, nil, c.args...)
		require.Equal(t, 0, r.code, r.stderr)
		for _, f := range c.flags {
			// The flag's entry, up to the next flag, says it is required.
			_, after, ok := strings.Cut(r.stdout, "\n      "+f+" ")
			require.True(t, ok, "%v lacks %s", c.args, f)
			entry, _, _ := strings.Cut(after, "\n      --")
			assert.Contains(t, entry, "required", "%v %s", c.args, f)
		}
	}
	// Optional flags are not marked.
	r := sfmtls(t, nil, nil, "help", "bulk", "ingest")
	_, after, _ := strings.Cut(r.stdout, "\n      --failed ")
	entry, _, _ := strings.Cut(after, "\n      --")
	assert.NotContains(t, entry, "required")
}
