package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/internal/jwtbearer"
	"github.com/sfmtls/sfmtls/keystore"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

const orgPassword = "fake-org-keystore-pw"

// orgEnv starts a fake org, writes its keystores, and returns the SF_* settings
// a user would export to reach it.
func orgEnv(t *testing.T) (*salesforcetest.Org, map[string]string) {
	t.Helper()
	org, err := salesforcetest.Start(salesforcetest.Config{})
	require.NoError(t, err)
	t.Cleanup(org.Close)
	files, err := org.PKI.WriteFiles(t.TempDir(), orgPassword)
	require.NoError(t, err)
	return org, map[string]string{
		"SF_LOGIN_URL": org.URL, "SF_CONSUMER_KEY": org.ConsumerKey, "SF_USERNAME": org.Username,
		"SF_MTLS_KEYSTORE": files.MTLSJKS, "SF_MTLS_KEYSTORE_PASSWORD": orgPassword,
		"SF_JWT_KEYSTORE": files.JWTPKCS12, "SF_JWT_KEYSTORE_PASSWORD": orgPassword,
		"SF_CA_FILE": files.ServerCA, "SF_MTLS_PORT": fmt.Sprint(org.Port),
	}
}

func TestCheckSucceeds(t *testing.T) {
	_, vars := orgEnv(t)
	r := sfmtls(t, vars, nil, "check")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	for _, step := range []string{"[1/5] mTLS keystore", "[2/5] JWT keystore", "[3/5] TLS handshake", "[4/5] JWT bearer token", "[5/5] REST API"} {
		assert.Regexp(t, `(?m)^`+regexp.QuoteMeta(step)+`\s+ok\s`, r.stdout)
	}
	assert.Contains(t, r.stdout, "-> 200")
	assert.Contains(t, r.stdout, "client certificate accepted")
	assert.True(t, strings.HasSuffix(r.stdout, "Connection OK.\n"))
	assert.NotContains(t, r.stdout, orgPassword)
	t.Logf("successful check:\n%s", r.stdout)
}

func TestCheckNamesTheFailedStepAndTheFix(t *testing.T) {
	cases := []struct {
		name  string
		setup func(org *salesforcetest.Org, vars map[string]string)
		step  string
		cause string
		fix   string
	}{
		{"wrong keystore password",
			func(_ *salesforcetest.Org, v map[string]string) { v["SF_MTLS_KEYSTORE_PASSWORD"] = "not-it" },
			"[1/5] mTLS keystore", "wrong password", "check SF_MTLS_KEYSTORE_PASSWORD"},
		{"server not trusted",
			func(_ *salesforcetest.Org, v map[string]string) { delete(v, "SF_CA_FILE") },
			"[3/5] TLS handshake", "unknown authority", "SF_CA_FILE"},
		{"certificate not registered",
			func(org *salesforcetest.Org, _ map[string]string) {
				org.Setup().UnregisterMutualAuthCertificate(org.PKI.ClientIdentity.Leaf())
			},
			"[4/5] JWT bearer token", "Mutual Authentication Certificate", "Enforce SSL/TLS Mutual Authentication"},
		{"JWT key not matching the app's certificate",
			func(org *salesforcetest.Org, _ map[string]string) {
				other, err := org.PKI.NewJWTIdentity("another key")
				require.NoError(t, err)
				org.Setup().SetAppCertificate(other.Leaf())
			},
			"[4/5] JWT bearer token", "invalid assertion", "does not match the certificate uploaded to the app"},
		{"user not pre-authorized",
			func(org *salesforcetest.Org, _ map[string]string) { org.Setup().PreAuthorize(org.Username, false) },
			"[4/5] JWT bearer token", "user hasn't approved this consumer", "pre-authorize the user"},
		{"wrong audience",
			func(_ *salesforcetest.Org, v map[string]string) { v["SF_AUDIENCE"] = jwtbearer.SandboxAudience },
			"[4/5] JWT bearer token", "audience is invalid", "the audience must be"},
		{"server refuses the client certificate",
			func(org *salesforcetest.Org, v map[string]string) {
				stranger, err := salesforcetest.NewPKI()
				require.NoError(t, err)
				path := filepath.Join(t.TempDir(), "stranger.jks")
				require.NoError(t, keystore.WriteFile(path, stranger.ClientIdentity, keystore.WriteOptions{Format: keystore.FormatJKS, Alias: "mtls", Password: keystore.Secret(orgPassword), Overwrite: true}))
				v["SF_MTLS_KEYSTORE"] = path
			},
			"[3/5] TLS handshake", "bad certificate", "refused the client certificate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			org, vars := orgEnv(t)
			c.setup(org, vars)
			r := sfmtls(t, vars, nil, "check")
			assert.Equal(t, 1, r.code, r.stdout)
			assert.Regexp(t, `(?m)^`+regexp.QuoteMeta(c.step)+`\s+FAILED\s.*`+regexp.QuoteMeta(c.cause), r.stdout)
			assert.Regexp(t, `(?m)^      fix: .*`+regexp.QuoteMeta(c.fix), r.stdout)
			assert.Contains(t, r.stdout, "Connection FAILED at step")
			assert.NotContains(t, r.stdout, "[5/5] REST API", "stops at the failed step")
			assert.NotContains(t, r.stdout, orgPassword)
			if c.name == "user not pre-authorized" {
				t.Logf("failed check:\n%s", r.stdout)
			}
		})
	}
}

// A password file that is not there is named with the flag and the variable
// that replace it, not sent to inspect.
func TestCheckNamesAMissingPasswordFile(t *testing.T) {
	_, vars := orgEnv(t)
	delete(vars, "SF_MTLS_KEYSTORE_PASSWORD")
	missing := filepath.Join(t.TempDir(), "mtls-password")
	r := sfmtls(t, vars, nil, "check", "--mtls-keystore-password-file", missing)
	assert.Equal(t, 1, r.code, r.stdout)
	assert.Regexp(t, `(?m)^\[1/5\] mTLS keystore\s+FAILED\s`, r.stdout)
	assert.Contains(t, r.stdout, missing+": no such file or directory")
	assert.Regexp(t, `(?m)^      fix: create the file --mtls-keystore-password-file/SF_MTLS_KEYSTORE_PASSWORD_FILE names, or unset --mtls-keystore-password-file/SF_MTLS_KEYSTORE_PASSWORD_FILE and set SF_MTLS_KEYSTORE_PASSWORD$`, r.stdout)
	assert.NotContains(t, r.stdout, "inspect")
}

// The keystore steps warn of a certificate about to expire, and still connect.
func TestCheckWarnsOfAnExpiringCertificate(t *testing.T) {
	org, vars := orgEnv(t)
	soon, err := org.PKI.NewClientIdentity("integration.user@example.com", time.Now().Add(-time.Hour), time.Now().Add(5*24*time.Hour))
	require.NoError(t, err)
	org.Setup().RegisterMutualAuthCertificate(soon.Leaf())
	path := filepath.Join(t.TempDir(), "soon.p12")
	require.NoError(t, keystore.WriteFile(path, soon, keystore.WriteOptions{Format: keystore.FormatPKCS12, Password: keystore.Secret(orgPassword), Overwrite: true}))
	vars["SF_MTLS_KEYSTORE"] = path
	r := sfmtls(t, vars, nil, "check")
	require.Equal(t, 0, r.code, r.stdout)
	assert.Regexp(t, `(?m)^\[1/5\] mTLS keystore\s+ok\s.*\n      warning: expires within 30 days: `, r.stdout)
}

// Salesforce's HTML page for a request without a client certificate (modelled:
// see diag's TestCheckRecognisesTheNoCertificatePage), served here by a TLS
// server that asks for none, as a TLS-inspecting proxy in between would.
func TestCheckSaysTheCertificateWasNotSent(t *testing.T) {
	org, vars := orgEnv(t)
	cert, err := org.PKI.ServerTLSCertificate("127.0.0.1")
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html;charset=UTF-8")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, "<html><head><title>No client certificate provided</title></head><body></body></html>")
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	vars["SF_LOGIN_URL"] = srv.URL
	r := sfmtls(t, vars, nil, "check")
	assert.Equal(t, 1, r.code, r.stdout)
	assert.Regexp(t, `(?m)^\[3/5\] TLS handshake\s+FAILED\s.*no client certificate was provided`, r.stdout)
	assert.Regexp(t, `(?m)^      cause: .*the certificate was not sent`, r.stdout)
	assert.Regexp(t, `(?m)^      fix: .*exempt the My Domain host on port 8443 from TLS inspection`, r.stdout)
}

func TestCheckUsage(t *testing.T) {
	r := sfmtls(t, nil, nil, "check")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "SF_LOGIN_URL")
	assert.Contains(t, r.stderr, "SF_MTLS_KEYSTORE")
	r = sfmtls(t, map[string]string{"SF_LOGIN_URL": "https://login.salesforce.com", "SF_CONSUMER_KEY": "k",
		"SF_USERNAME": "u", "SF_MTLS_KEYSTORE": fixture("client-openssl.p12"), "SF_MTLS_KEYSTORE_PASSWORD": storePW}, nil, "check")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, "My Domain")
}

func TestTokenIsRedactedUnlessAsked(t *testing.T) {
	org, vars := orgEnv(t)
	r := sfmtls(t, vars, nil, "token")
	require.Equal(t, 0, r.code, r.stderr)
	var tok map[string]string
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &tok))
	assert.Equal(t, "[REDACTED]", tok["access_token"])
	assert.Equal(t, org.StandardURL, tok["instance_url"], "as the token answer gave it")
	for _, k := range []string{"id", "scope", "token_type", "issued_at"} {
		assert.NotEmpty(t, tok[k], k)
	}
	r = sfmtls(t, vars, nil, "token", "--show-token")
	require.Equal(t, 0, r.code, r.stderr)
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &tok))
	assert.True(t, strings.HasPrefix(tok["access_token"], "00D"))
}

func TestQueryPrintsEveryPageAsJSONLines(t *testing.T) {
	org, err := salesforcetest.Start(salesforcetest.Config{PageSize: 2})
	require.NoError(t, err)
	defer org.Close()
	for i := range 5 {
		org.Data().Insert(t, "Contact", map[string]any{"LastName": fmt.Sprintf("Doe %d", i)})
	}
	files, err := org.PKI.WriteFiles(t.TempDir(), orgPassword)
	require.NoError(t, err)
	pwFile := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(pwFile, []byte(orgPassword), 0o600))
	// Flags instead of variables, password files instead of variables.
	r := sfmtls(t, nil, nil, "query",
		"--login-url", org.URL, "--consumer-key", org.ConsumerKey, "--username", org.Username,
		"--mtls-keystore", files.MTLSPKCS12, "--mtls-keystore-password-file", pwFile,
		"--jwt-keystore", files.JWTJKS, "--jwt-keystore-password-file", pwFile,
		"--ca-file", files.ServerCA, "--mtls-port", fmt.Sprint(org.Port),
		"SELECT Id, LastName FROM Contact ORDER BY LastName")
	require.Equal(t, 0, r.code, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, 5)
	for i, line := range lines {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec))
		assert.Equal(t, fmt.Sprintf("Doe %d", i), rec["LastName"])
	}

	r = sfmtls(t, nil, nil, "query")
	assert.Equal(t, 2, r.code)
}

func TestFakeOrgPrintsSettingsThatWork(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	out := &syncBuffer{}
	done := make(chan int)
	go func() {
		done <- run([]string{"fake-org", "--dir", dir}, &env{ctx: ctx, stdout: out, stderr: out, getenv: func(string) string { return "" }})
	}()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "# then:") }, 10*time.Second, 10*time.Millisecond)

	vars := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "export ")
		if !ok {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		if strings.HasPrefix(v, `"$(cat `) {
			b, err := os.ReadFile(strings.TrimSuffix(strings.TrimPrefix(v, `"$(cat `), `)"`))
			require.NoError(t, err)
			v = strings.TrimSpace(string(b))
		}
		vars[k] = v
	}
	assert.NotContains(t, out.String(), vars["SF_MTLS_KEYSTORE_PASSWORD"], "the password is printed nowhere")
	r := sfmtls(t, vars, nil, "check")
	assert.Equal(t, 0, r.code, r.stdout)
	r = sfmtls(t, vars, nil, "query", "SELECT Name FROM Account")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, 3, strings.Count(r.stdout, "\n"))

	cancel()
	assert.Equal(t, 0, <-done)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
