package main

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 20.4: no command overwrites a file without --force. bulk query --out
// used to replace a file silently where the keystore commands need --force;
// now an existing file is refused before any job is sent, and --force
// replaces it, at mode 0600 even if it was readable by others.
func TestBulkQueryOutNeedsForce(t *testing.T) {
	org, vars := orgEnv(t)
	out := filepath.Join(t.TempDir(), "accounts.csv")
	require.NoError(t, os.WriteFile(out, []byte("keep me\n"), 0o644))
	r := bulkRun(t, vars, "", "bulk", "query", "--out", out, "SELECT Name FROM Account")
	assert.Equal(t, exitFailure, r.code, r.stderr)
	assert.Equal(t, "sfmtls: "+out+" already exists: choose another name, or add --force to replace it\n", r.stderr)
	raw, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, "keep me\n", string(raw), "the file is untouched")
	assert.Zero(t, org.Data().BulkJobCount(), "refused before any job was sent")

	_, err = org.Data().Create("Account", map[string]any{"Name": "Acme"})
	require.NoError(t, err)
	r = bulkRun(t, vars, "", "bulk", "query", "--force", "--out", out, "SELECT Name FROM Account")
	require.Equal(t, exitOK, r.code, r.stderr)
	raw, err = os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, "\"Name\"\n\"Acme\"\n", string(raw))
	st, err := os.Stat(out)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "a replaced file holds record data too")
}

// bulk ingest's --failed and --unprocessed are refused when they exist,
// before the CSV is sent, and replaced with --force.
func TestBulkIngestResultFilesNeedForce(t *testing.T) {
	dir := t.TempDir()
	for _, flag := range []string{"--failed", "--unprocessed"} {
		org, vars := orgEnv(t)
		path := filepath.Join(dir, flag[2:]+".csv")
		require.NoError(t, os.WriteFile(path, []byte("keep me\n"), 0o600))
		r := bulkRun(t, vars, "Name\nForced\n", "bulk", "ingest", "--object", "Account", "--operation", "insert", flag, path, "-")
		assert.Equal(t, exitFailure, r.code, r.stderr)
		assert.Contains(t, r.stderr, path+" already exists: choose another name, or add --force to replace it", flag)
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, "keep me\n", string(raw), flag)
		assert.Zero(t, org.Data().BulkJobCount(), "%s: refused before any job was sent", flag)

		r = bulkRun(t, vars, "Name,NumberOfEmployees\nBad,many\n", "bulk", "ingest", "--object", "Account", "--operation", "insert",
			"--force", flag, path, "-")
		assert.Equal(t, exitFailure, r.code, "the row fails: %s", r.stderr)
		assert.NotContains(t, r.stderr, "already exists")
		raw, err = os.ReadFile(path)
		require.NoError(t, err)
		assert.NotEqual(t, "keep me\n", string(raw), "%s replaced", flag)
	}
	// One file for both is wrong usage: the second would replace the first.
	_, vars := orgEnv(t)
	same := filepath.Join(dir, "both.csv")
	r := bulkRun(t, vars, "Name\nX\n", "bulk", "ingest", "--object", "Account", "--operation", "insert",
		"--failed", same, "--unprocessed", same, "-")
	assert.Equal(t, exitUsage, r.code, r.stderr)
	assert.Contains(t, r.stderr, "same file")
}

// fake-org --dir of an earlier run: its files are replaced only with
// --force, and the list checked covers every file fake-org writes.
func TestFakeOrgReusedDirNeedsForce(t *testing.T) {
	dir := t.TempDir()
	_, stop := fakeOrg(t, "--dir", dir)
	require.Equal(t, exitOK, stop())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var written []string
	for _, e := range entries {
		written = append(written, e.Name())
	}
	want := append([]string(nil), fakeOrgFiles...)
	sort.Strings(want)
	assert.Equal(t, want, written, "fakeOrgFiles lists what fake-org writes")
	before, err := os.ReadFile(filepath.Join(dir, "keystore-password"))
	require.NoError(t, err)

	r := sfmtls(t, nil, nil, "fake-org", "--dir", dir)
	assert.Equal(t, exitFailure, r.code, r.stderr)
	assert.Contains(t, r.stderr, "already exists: choose another name, or add --force to replace it")
	after, err := os.ReadFile(filepath.Join(dir, "keystore-password"))
	require.NoError(t, err)
	assert.Equal(t, before, after, "nothing replaced")

	_, stop = fakeOrg(t, "--dir", dir, "--force")
	assert.Equal(t, exitOK, stop())
	after, err = os.ReadFile(filepath.Join(dir, "keystore-password"))
	require.NoError(t, err)
	assert.NotEqual(t, before, after, "a new password with --force")
}
