package settings

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFlagsWinOverVariables(t *testing.T) {
	env := map[string]string{"SF_LOGIN_URL": "https://env.my.salesforce.com", "SF_USERNAME": "env-user", "SF_MTLS_PORT": "9443",
		"SF_MTLS_KEYSTORE_PASSWORD": "from-env", "SF_JWT_ALIAS": "jwt"}
	getenv := func(k string) string { return env[k] }
	var s Settings
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	s.Register(fs, getenv)
	pw := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(pw, []byte("from-file\r\n"), 0o600))
	require.NoError(t, fs.Parse([]string{"--login-url", "https://flag.my.salesforce.com", "--mtls-keystore-password-file", pw}))

	assert.Equal(t, "https://flag.my.salesforce.com", s.LoginURL)
	assert.Equal(t, "env-user", s.Username)
	assert.Equal(t, "9443", s.MTLSPort)
	assert.Equal(t, "jwt", s.JWT.Alias)
	// What client.ConfigFromEnv reads: the flags over the variables.
	read := s.Getenv(getenv)
	assert.Equal(t, "https://flag.my.salesforce.com", read("SF_LOGIN_URL"))
	assert.Equal(t, "env-user", read("SF_USERNAME"))
	assert.Equal(t, "9443", read("SF_MTLS_PORT"))
	assert.Equal(t, pw, read("SF_MTLS_KEYSTORE_PASSWORD_FILE"))
	assert.Equal(t, "from-env", read("SF_MTLS_KEYSTORE_PASSWORD"), "passwords come from the environment, never from a flag")
	assert.Equal(t, "jwt", read("SF_JWT_ALIAS"))
	assert.Empty(t, read("SF_JWT_KEYSTORE_PASSWORD_FILE"))

	assert.NotNil(t, fs.Lookup("mtls-keystore-password-file"))
	assert.Nil(t, fs.Lookup("mtls-keystore-password"), "no flag takes a password's value")
}

func TestCheckNamesWhatIsMissing(t *testing.T) {
	s := FromEnv(func(k string) string { return map[string]string{"SF_USERNAME": "u"}[k] })
	assert.True(t, s.Any())
	err := s.Check()
	require.ErrorIs(t, err, ErrMissing)
	assert.Contains(t, err.Error(), "SF_LOGIN_URL")
	assert.Contains(t, err.Error(), "SF_CONSUMER_KEY")
	assert.Contains(t, err.Error(), "SF_MTLS_KEYSTORE")
	assert.NotContains(t, err.Error(), "SF_USERNAME")
	assert.False(t, FromEnv(func(string) string { return "" }).Any())
}

func TestInstanceHosts(t *testing.T) {
	getenv := func(k string) string { return map[string]string{"SF_INSTANCE_HOSTS": "a.example.com,.corp.example"}[k] }
	s := FromEnv(getenv)
	assert.Equal(t, []string{"a.example.com", ".corp.example"}, s.InstanceHosts)
	var f Settings
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	f.Register(fs, getenv)
	require.NoError(t, fs.Parse([]string{"--instance-hosts", "b.example.com"}))
	assert.Equal(t, []string{"b.example.com"}, f.InstanceHosts, "the flag wins")
}

// A token store setting never shows a URL's password: not in errors, not
// under any fmt verb.
func TestTokenStoreHidesPasswords(t *testing.T) {
	for _, spec := range []string{"rediss://svc:s3cret-pw@redis.internal:6380/0", "memcached://svc:s3cret-pw@cache:11211",
		"redis://svc:s3cret-pw@host:port%zz/0", "redis:/svc:s3cret-pw@host:6379/0", "svc:s3cret-pw@host"} {
		ts := TokenStore{Spec: spec}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			assert.NotContains(t, fmt.Sprintf(verb, ts), "s3cret-pw", verb)
			assert.NotContains(t, fmt.Sprintf(verb, &ts), "s3cret-pw", verb)
		}
		if err := ts.Check(); err != nil {
			assert.NotContains(t, err.Error(), "s3cret-pw", spec)
		}
	}
	ts := TokenStore{Spec: "memcached://svc:s3cret-pw@cache:11211"}
	assert.ErrorIs(t, ts.Check(), ErrTokenStore)
}

// A secret file others can write is refused with chmod 600 as the fix; one
// they can read draws a warning naming it; a certificate-only file may be
// read by all.
func TestCheckSecretFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	path := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(path, []byte("s3cret\n"), 0o600))
	for _, c := range []struct {
		mode   os.FileMode
		secret bool
		warn   bool
		refuse bool
	}{
		{0o600, true, false, false}, {0o400, true, false, false}, {0o640, true, true, false}, {0o604, true, true, false},
		{0o644, false, false, false}, {0o620, true, false, true}, {0o602, false, false, true}, {0o666, true, false, true},
	} {
		require.NoError(t, os.Chmod(path, c.mode))
		w, err := CheckSecretFile("--password-file", path, c.secret)
		if c.refuse {
			var fme *FileModeError
			require.ErrorAs(t, err, &fme, "%04o", c.mode)
			assert.Equal(t, fmt.Sprintf("--password-file: %s has mode %04o: other users can write it", path, c.mode), err.Error())
			assert.Equal(t, "chmod 600 "+path+" (and check that its content is yours)", fme.Fix())
			continue
		}
		require.NoError(t, err, "%04o", c.mode)
		if c.warn {
			assert.Contains(t, w, "other users can read it (chmod 600 "+path+")")
		} else {
			assert.Empty(t, w, "%04o", c.mode)
		}
		assert.NotContains(t, w, "s3cret")
	}
	w, err := CheckSecretFile("x", filepath.Join(t.TempDir(), "missing"), true)
	assert.NoError(t, err, "the reader says why a file cannot be read")
	assert.Empty(t, w)
}
