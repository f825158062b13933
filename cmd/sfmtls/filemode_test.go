package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func skipWithoutUnixModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
}

// copyWithMode copies src into a new temporary file with mode.
func copyWithMode(t *testing.T, src string, mode os.FileMode) string {
	t.Helper()
	data, err := os.ReadFile(src)
	require.NoError(t, err)
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	require.NoError(t, os.WriteFile(dst, data, 0o600))
	require.NoError(t, os.Chmod(dst, mode)) // not subject to the umask
	return dst
}

// Secret files given to the tool (issue 19, must hold 7): one other users can
// write is refused, exit 1 with chmod 600 as the fix, before it is read; one
// they can read is used with a warning naming chmod 600, as ssh does for keys.
// Checked for the keystore commands' password files and keystores here, the
// connection's files and the token encryption key below.
func TestKeystoreCommandsCheckSecretFileModes(t *testing.T) {
	skipWithoutUnixModes(t)
	pw := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(pw, []byte(storePW+"\n"), 0o600))
	store := fixture("client.jks")

	r := sfmtls(t, nil, nil, "inspect", "--keystore", store, "--password-file", pw)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stderr, "0600 files draw no warning")

	for _, c := range []struct {
		name, what string
		args       func(store, pw string) []string
		store, pw  os.FileMode
	}{
		{"password file", "--password-file", func(s, p string) []string { return []string{"inspect", "--keystore", s, "--password-file", p} }, 0o600, 0o666},
		{"password file group-writable", "--password-file", func(s, p string) []string { return []string{"export-cert", "--keystore", s, "--password-file", p} }, 0o600, 0o620},
		{"keystore", "keystore", func(s, p string) []string { return []string{"inspect", "--keystore", s, "--password-file", p} }, 0o646, 0o600},
		{"convert input", "--in-keystore", func(s, p string) []string {
			return []string{"keystore", "convert", "--in-keystore", s, "--in-password-file", p, "--password-file", p,
				"--keystore", filepath.Join(filepath.Dir(p), "out.p12"), "--ca-file", fixture("root-ca.pem")}
		}, 0o666, 0o600},
		{"convert input password", "--in-password-file", func(s, p string) []string {
			return []string{"keystore", "convert", "--in-keystore", s, "--in-password-file", p, "--password-file", pw,
				"--keystore", filepath.Join(filepath.Dir(p), "out.p12"), "--ca-file", fixture("root-ca.pem")}
		}, 0o600, 0o662},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, p := copyWithMode(t, store, c.store), copyWithMode(t, pw, c.pw)
			bad := s
			if c.pw != 0o600 {
				bad = p
			}
			r := sfmtls(t, nil, nil, c.args(s, p)...)
			require.Equal(t, exitFailure, r.code, r.stdout+r.stderr)
			assert.Contains(t, r.stderr, "sfmtls: "+c.what+": "+bad+" has mode ")
			assert.Contains(t, r.stderr, "other users can write it (chmod 600 "+bad)
			assert.Empty(t, r.stdout, "nothing read, nothing written")
			_, err := os.Stat(filepath.Join(filepath.Dir(p), "out.p12"))
			assert.ErrorIs(t, err, os.ErrNotExist)
			assert.NotContains(t, r.stderr, storePW)
		})
	}

	// Readable by others: used, with a warning per file.
	s, p := copyWithMode(t, store, 0o644), copyWithMode(t, pw, 0o640)
	r = sfmtls(t, nil, nil, "inspect", "--keystore", s, "--password-file", p)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Format: JKS")
	assert.Contains(t, r.stderr, "warning: keystore: "+s+" has mode 0644: other users can read it (chmod 600 "+s+")\n")
	assert.Contains(t, r.stderr, "warning: --password-file: "+p+" has mode 0640: other users can read it (chmod 600 "+p+")\n")
	assert.NotContains(t, r.stderr, storePW)
}

// The connection's keystores and password files go through the SDK's
// client.ConfigFromEnv, which refuses one others can write (a
// *client.ConfigError whose Fix the tool prints) and warns on slog.Default()
// about one others can read, which the tool prints on its standard error.
func TestConnectionFilesModes(t *testing.T) {
	skipWithoutUnixModes(t)
	_, vars := orgEnv(t)
	vars["SF_TOKEN_STORE"] = "none"
	pw := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(pw, []byte(orgPassword), 0o600))
	delete(vars, "SF_MTLS_KEYSTORE_PASSWORD")
	r := sfmtls(t, vars, nil, "token", "--mtls-keystore-password-file", pw)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stderr)

	require.NoError(t, os.Chmod(pw, 0o606))
	r = sfmtls(t, vars, nil, "token", "--mtls-keystore-password-file", pw)
	require.Equal(t, exitFailure, r.code, r.stderr)
	assert.Contains(t, r.stderr, "SF_MTLS_KEYSTORE_PASSWORD_FILE")
	assert.Contains(t, r.stderr, "other users can write it (chmod 600 "+pw)
	assert.Empty(t, r.stdout)

	require.NoError(t, os.Chmod(pw, 0o600))
	require.NoError(t, os.Chmod(vars["SF_MTLS_KEYSTORE"], 0o644))
	r = sfmtls(t, vars, nil, "token", "--mtls-keystore-password-file", pw)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "warning: client: other users can read a secret file: setting=SF_MTLS_KEYSTORE file="+vars["SF_MTLS_KEYSTORE"]+
		" mode=0644 (chmod 600 "+vars["SF_MTLS_KEYSTORE"]+")\n")
	assert.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)

	r = sfmtls(t, vars, nil, "check", "--mtls-keystore-password-file", pw)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stderr, "warning: client: other users can read a secret file: setting=SF_MTLS_KEYSTORE")
}

// The token encryption key file is a secret file too.
func TestTokenEncryptionKeyFileMode(t *testing.T) {
	skipWithoutUnixModes(t)
	_, vars := orgEnv(t)
	key := filepath.Join(t.TempDir(), "key")
	require.NoError(t, os.WriteFile(key, []byte(newEncryptionKey(t)), 0o600))
	require.NoError(t, os.Chmod(key, 0o666))
	vars["SF_TOKEN_STORE"] = "redis://127.0.0.1:1/0"
	r := sfmtls(t, vars, nil, "token", "--token-encryption-key-file", key)
	require.Equal(t, exitFailure, r.code, r.stderr)
	assert.Contains(t, r.stderr, "sfmtls: --token-encryption-key-file: "+key+" has mode 0666: other users can write it (chmod 600 "+key)
}

// Certificates are not secret: a certificate-only PEM or truststore other users
// can read draws no "other users can read it" warning (issue 20), while a file
// holding a private key (PEM key, JKS, PKCS#12) still does. One other users can
// write is refused whatever it holds.
func TestReadableWarningOnlyForFilesWithAKey(t *testing.T) {
	skipWithoutUnixModes(t)
	for _, f := range []string{"client-leaf-only.pem", "client-chain.pem", "truststore.jks", "truststore.p12"} {
		t.Run(f, func(t *testing.T) {
			s := copyWithMode(t, fixture(f), 0o644)
			r := sfmtls(t, withPW, nil, "inspect", "--keystore", s)
			require.Equal(t, 0, r.code, r.stderr)
			assert.Contains(t, r.stdout, "No private key")
			assert.NotContains(t, r.stderr, "other users can read it")
			assert.Empty(t, r.stderr)

			require.NoError(t, os.Chmod(s, 0o666))
			r = sfmtls(t, withPW, nil, "inspect", "--keystore", s)
			require.Equal(t, exitFailure, r.code, r.stderr)
			assert.Contains(t, r.stderr, "other users can write it (chmod 600 "+s)
		})
	}
	for _, f := range []string{"mtls.jks", "client-openssl.p12", "client-combined.pem"} {
		t.Run(f, func(t *testing.T) {
			s := copyWithMode(t, fixture(f), 0o644)
			for _, cmd := range []string{"inspect", "export-cert"} {
				r := sfmtls(t, withPW, nil, cmd, "--keystore", s)
				require.Equal(t, 0, r.code, r.stderr)
				assert.Contains(t, r.stderr, "warning: keystore: "+s+" has mode 0644: other users can read it (chmod 600 "+s+")\n", cmd)
			}
		})
	}
}
