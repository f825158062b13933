package client_test

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// problems lists the *client.ConfigError values joined in err, in order.
func problems(t *testing.T, err error) []*client.ConfigError {
	t.Helper()
	require.ErrorIs(t, err, client.ErrConfig)
	var out []*client.ConfigError
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var ce *client.ConfigError
		require.ErrorAs(t, err, &ce)
		out = append(out, ce)
	}
	walk(err)
	return out
}

func fields(ps []*client.ConfigError) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Field)
	}
	return out
}

// TestNewReportsEveryProblemAtOnce: New checks the whole Config before it
// builds anything, and each problem names its field, says what is wrong in
// Error and how to mend it in Fix, without repeating the fix.
func TestNewReportsEveryProblemAtOnce(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	cfg := org.ClientConfig()
	cfg.LoginURL = "https://login.salesforce.com"
	cfg.Port = 70000
	cfg.ConsumerKey = ""
	cfg.JWT = org.PKI.ClientIdentity // EC: cannot sign RS256
	cfg.Header = http.Header{"authorization": {"Bearer x"}}
	cfg.InstanceHosts = []string{"https://x.example.com"}
	cfg.UsageCap = 2
	cfg.MaxConnsPerHost = -1
	cfg.APIVersion = "latest"
	cfg.MaxResponseBytes = -1
	c, err := client.New(cfg)
	assert.Nil(t, c)
	ps := problems(t, err)
	assert.Equal(t, []string{"Port", "LoginURL", "ConsumerKey", "JWT", "Header", "InstanceHosts", "MaxConnsPerHost",
		"UsageCap", "APIVersion", "MaxResponseBytes"}, fields(ps))
	for _, p := range ps {
		assert.Regexp(t, `^client: Config\.`+p.Field+`: `, p.Error())
		assert.NotEmpty(t, p.Fix(), p.Field)
		assert.NotContains(t, p.Error(), p.Fix(), "Error says what is wrong, Fix how to mend it")
	}
	assert.NotContains(t, err.Error(), "Bearer x", "a header's value never reaches an error")

	// Without MTLS: named once, and the JWT fallback is not blamed for it.
	cfg = org.ClientConfig()
	cfg.MTLS, cfg.JWT = nil, nil
	_, err = client.New(cfg)
	assert.Equal(t, []string{"MTLS"}, fields(problems(t, err)))

	// With MTLS an EC key and no JWT identity: the JWT problem says MTLS signs it.
	cfg = org.ClientConfig()
	cfg.JWT = nil
	_, err = client.New(cfg)
	ps = problems(t, err)
	require.Equal(t, []string{"JWT"}, fields(ps))
	assert.Contains(t, ps[0].Error(), "JWT is unset, so the MTLS identity signs the JWT")
}

// setenv is a getenv over a map.
func setenv(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// fakeOrgVars writes the fake org's keystores and server CA to files and
// returns the SF_* settings that point at them.
func fakeOrgVars(t *testing.T, org *salesforcetest.Org) map[string]string {
	t.Helper()
	const password = "config-test-pw"
	files, err := org.PKI.WriteFiles(t.TempDir(), password)
	require.NoError(t, err)
	return map[string]string{
		"SF_LOGIN_URL": org.URL, "SF_MTLS_PORT": strconv.Itoa(org.Port), "SF_AUDIENCE": org.Audience,
		"SF_CONSUMER_KEY": org.ConsumerKey, "SF_USERNAME": org.Username,
		"SF_MTLS_KEYSTORE": files.MTLSJKS, "SF_MTLS_KEYSTORE_PASSWORD": password,
		"SF_JWT_KEYSTORE": files.JWTPKCS12, "SF_JWT_KEYSTORE_PASSWORD": password,
		"SF_CA_FILE": files.ServerCA, "SF_API_VERSION": salesforcetest.APIVersion,
	}
}

// TestConfigFromEnvConnects: the SF_* settings of docs/setup.md, read by the one
// reader, make a Client that logs in to the fake org over mutual TLS.
func TestConfigFromEnvConnects(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	vars := fakeOrgVars(t, org)
	vars["SF_INSTANCE_HOSTS"] = " a.example.com, .corp.example ,"
	cfg, err := client.ConfigFromEnv(setenv(vars))
	require.NoError(t, err)
	assert.Equal(t, []string{"a.example.com", ".corp.example"}, cfg.InstanceHosts)
	assert.Equal(t, org.Port, cfg.Port)
	assert.NotNil(t, cfg.RootCAs, "SF_CA_FILE adds the org's CA")
	c, err := client.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	_, err = c.Limits(t.Context())
	require.NoError(t, err)

	// Password files instead of passwords, as the tool's --…-password-file flags give them.
	pw := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(pw, []byte(vars["SF_MTLS_KEYSTORE_PASSWORD"]+"\r\n"), 0o600))
	for _, k := range []string{"SF_MTLS_", "SF_JWT_"} {
		delete(vars, k+"KEYSTORE_PASSWORD")
		vars[k+"KEYSTORE_PASSWORD_FILE"] = pw
	}
	cfg, err = client.ConfigFromEnv(setenv(vars))
	require.NoError(t, err)
	require.NotNil(t, cfg.JWT)
	assert.Equal(t, org.PKI.JWTIdentity.Leaf().Raw, cfg.JWT.Leaf().Raw)
}

// TestConfigFromEnvReportsEverySettingAtOnce: what is missing or cannot be
// read is named by field and variable, all at once, and no password or
// password file's content reaches an error.
func TestConfigFromEnvReportsEverySettingAtOnce(t *testing.T) {
	_, err := client.ConfigFromEnv(setenv(nil))
	ps := problems(t, err)
	assert.Equal(t, []string{"LoginURL", "ConsumerKey", "Username", "MTLS"}, fields(ps))
	for _, p := range ps {
		assert.Contains(t, p.Error(), "("+p.Setting+"): not set")
		assert.Contains(t, p.Fix(), "set "+p.Setting)
	}

	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	vars := fakeOrgVars(t, org)
	secret := vars["SF_MTLS_KEYSTORE_PASSWORD"]
	vars["SF_MTLS_KEYSTORE_PASSWORD"] = secret + "-wrong"
	vars["SF_MTLS_PORT"] = "abc"
	vars["SF_JWT_KEYSTORE_PASSWORD_FILE"] = filepath.Join(t.TempDir(), "missing")
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a certificate"), 0o600))
	vars["SF_CA_FILE"] = notPEM
	_, err = client.ConfigFromEnv(setenv(vars))
	ps = problems(t, err)
	got := map[string]string{}
	for _, p := range ps {
		got[p.Setting] = p.Field
	}
	assert.Equal(t, map[string]string{"SF_MTLS_PORT": "Port", "SF_MTLS_KEYSTORE": "MTLS",
		"SF_JWT_KEYSTORE_PASSWORD_FILE": "JWT", "SF_CA_FILE": "RootCAs"}, got)
	for _, p := range ps {
		if p.Setting == "SF_MTLS_KEYSTORE" {
			assert.Contains(t, p.Fix(), "SF_MTLS_KEYSTORE_PASSWORD")
		}
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		assert.NotContains(t, fmt.Sprintf(verb, err), secret, verb)
	}

	// A keystore that needs a password, opened without one, says which variable gives it.
	delete(vars, "SF_MTLS_KEYSTORE_PASSWORD")
	vars["SF_MTLS_PORT"], vars["SF_CA_FILE"] = "", ""
	delete(vars, "SF_JWT_KEYSTORE_PASSWORD_FILE")
	_, err = client.ConfigFromEnv(setenv(vars))
	ps = problems(t, err)
	require.Len(t, ps, 1)
	assert.Contains(t, ps[0].Fix(), "set SF_MTLS_KEYSTORE_PASSWORD, or SF_MTLS_KEYSTORE_PASSWORD_FILE")
	assert.True(t, errors.Is(err, client.ErrConfig))
}

// TestConfigFromEnvCAFileKeepsTheSystemRoots: SF_CA_FILE adds to the system's
// roots; it does not replace them.
func TestConfigFromEnvCAFileKeepsTheSystemRoots(t *testing.T) {
	sys, err := x509.SystemCertPool()
	require.NoError(t, err)
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	vars := fakeOrgVars(t, org)
	cfg, err := client.ConfigFromEnv(setenv(vars))
	require.NoError(t, err)
	assert.False(t, cfg.RootCAs.Equal(sys), "the org's CA was added")
	data, err := os.ReadFile(vars["SF_CA_FILE"])
	require.NoError(t, err)
	block, _ := pem.Decode(data)
	require.NotNil(t, block)
	want := sys.Clone()
	ca, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	want.AddCert(ca)
	assert.True(t, cfg.RootCAs.Equal(want), "the system's roots plus the org's CA")
}

// TestConfigFromEnvSecretFileModes: a keystore, key file or password file
// other users can write is refused, a *ConfigError naming the setting whose
// Fix is chmod 600; one they can read is used, with a warning on
// slog.Default() naming the fix, as ssh does for keys (issue 19, must hold 7).
// A certificate-only keystore beside a key file may be readable by others.
func TestConfigFromEnvSecretFileModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	var logs bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })

	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	vars := fakeOrgVars(t, org)
	pw := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(pw, []byte(vars["SF_MTLS_KEYSTORE_PASSWORD"]+"\n"), 0o600))
	delete(vars, "SF_MTLS_KEYSTORE_PASSWORD")
	vars["SF_MTLS_KEYSTORE_PASSWORD_FILE"] = pw
	_, err := client.ConfigFromEnv(setenv(vars))
	require.NoError(t, err)
	require.Empty(t, logs.String(), "0600 files draw no warning")

	for _, c := range []struct{ setting, path string }{
		{"SF_MTLS_KEYSTORE_PASSWORD_FILE", pw}, {"SF_MTLS_KEYSTORE", vars["SF_MTLS_KEYSTORE"]},
		{"SF_JWT_KEYSTORE", vars["SF_JWT_KEYSTORE"]},
	} {
		for _, mode := range []os.FileMode{0o666, 0o620, 0o602} {
			require.NoError(t, os.Chmod(c.path, mode))
			_, err := client.ConfigFromEnv(setenv(vars))
			ps := problems(t, err)
			require.Len(t, ps, 1, "%s %04o", c.setting, mode)
			assert.Equal(t, c.setting, ps[0].Setting)
			assert.Contains(t, ps[0].Error(), "other users can write it")
			assert.Equal(t, "chmod 600 "+c.path+" (and check that its content is yours)", ps[0].Fix())
		}
		logs.Reset()
		require.NoError(t, os.Chmod(c.path, 0o644))
		_, err := client.ConfigFromEnv(setenv(vars))
		require.NoError(t, err, "%s readable by others is used", c.setting)
		assert.Contains(t, logs.String(), "level=WARN")
		assert.Contains(t, logs.String(), "setting="+c.setting)
		assert.Contains(t, logs.String(), `fix="chmod 600 `+c.path+`"`)
		assert.NotContains(t, logs.String(), vars["SF_JWT_KEYSTORE_PASSWORD"], "the warning never holds the password")
		require.NoError(t, os.Chmod(c.path, 0o600))
	}

	// PEM: the certificate file may be read by all; the key file may not be written by others.
	files, err := org.PKI.WriteFiles(t.TempDir(), "unused")
	require.NoError(t, err)
	cert, key := files.MTLSCert, files.MTLSKey
	require.NoError(t, os.Chmod(cert, 0o644))
	require.NoError(t, os.Chmod(key, 0o600))
	delete(vars, "SF_MTLS_KEYSTORE_PASSWORD_FILE")
	vars["SF_MTLS_KEYSTORE"], vars["SF_MTLS_KEY_FILE"] = cert, key
	logs.Reset()
	_, err = client.ConfigFromEnv(setenv(vars))
	require.NoError(t, err)
	assert.Empty(t, logs.String(), "a certificate file others can read draws no warning")
	require.NoError(t, os.Chmod(key, 0o660))
	_, err = client.ConfigFromEnv(setenv(vars))
	ps := problems(t, err)
	require.Len(t, ps, 1)
	assert.Equal(t, "SF_MTLS_KEY_FILE", ps[0].Setting)
	require.NoError(t, os.Chmod(key, 0o640))
	_, err = client.ConfigFromEnv(setenv(vars))
	require.NoError(t, err)
	assert.Contains(t, logs.String(), "setting=SF_MTLS_KEY_FILE")
}
