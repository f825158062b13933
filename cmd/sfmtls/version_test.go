package main

import (
	"regexp"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 20.4: sfmtls --version works, and says what sfmtls version says.
func TestVersionFlag(t *testing.T) {
	want := sfmtls(t, nil, nil, "version")
	require.Equal(t, 0, want.code, want.stderr)
	for _, args := range [][]string{{"--version"}, {"-v"}} {
		r := sfmtls(t, nil, nil, args...)
		require.Equal(t, 0, r.code, "%v: %s", args, r.stderr)
		assert.Empty(t, r.stderr, "%v", args)
		assert.Equal(t, want.stdout, r.stdout, "%v", args)
		assert.Regexp(t, `^sfmtls \S+ .*`+regexp.QuoteMeta(runtime.Version())+`.*\n$`, r.stdout)
	}
	help := sfmtls(t, nil, nil, "help")
	assert.Contains(t, help.stdout, "--version", "the root's help lists the flag")
}
