package diag_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/diag"
	"github.com/sfmtls/sfmtls/internal/jwtbearer"
	"github.com/sfmtls/sfmtls/keystore"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// startOrg starts a fake org and returns it with the configuration a service
// would check it with.
func startOrg(t *testing.T) (*salesforcetest.Org, client.Config) {
	t.Helper()
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	return org, org.ClientConfig()
}

func TestCheckPassesEveryStep(t *testing.T) {
	_, cfg := startOrg(t)
	r := diag.Check(t.Context(), cfg)
	require.True(t, r.OK, "%+v", r)
	require.NoError(t, r.Err())
	require.Len(t, r.Steps, 5)
	for i, name := range []string{diag.StepMTLS, diag.StepJWT, diag.StepHandshake, diag.StepToken, diag.StepREST} {
		assert.Equal(t, name, r.Steps[i].Name)
		assert.Equal(t, diag.StatusOK, r.Steps[i].Status, r.Steps[i].Name)
	}
	assert.True(t, strings.HasPrefix(r.Steps[0].Detail, "CN="), r.Steps[0].Detail)
	assert.Contains(t, r.Steps[2].Detail, "client certificate accepted")
	assert.Contains(t, r.Steps[4].Detail, "/services/data/v"+salesforcetest.APIVersion+"/ -> 200")

	// A readiness endpoint serves it as JSON.
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	var decoded map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &decoded))
	assert.Equal(t, true, decoded["ok"])
}

// The failures sfmtls check has always told apart, each at its step with its fix.
func TestCheckNamesTheFailedStepAndTheFix(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, org *salesforcetest.Org, cfg *client.Config)
		step  string
		err   func(error) bool
		fix   string
	}{
		{"server not trusted",
			func(_ *testing.T, _ *salesforcetest.Org, cfg *client.Config) { cfg.RootCAs = nil },
			diag.StepHandshake, func(err error) bool { var u x509.UnknownAuthorityError; return errors.As(err, &u) }, "SF_CA_FILE"},
		{"certificate not registered",
			func(_ *testing.T, org *salesforcetest.Org, _ *client.Config) {
				org.Setup().UnregisterMutualAuthCertificate(org.PKI.ClientIdentity.Leaf())
			},
			diag.StepToken, isOAuth("invalid_grant"), (&auth.OAuthError{Code: "MUTUAL_AUTHENTICATION_FAILED"}).Fix()},
		{"JWT key not matching the app's certificate",
			func(t *testing.T, org *salesforcetest.Org, _ *client.Config) {
				other, err := org.PKI.NewJWTIdentity("another key")
				require.NoError(t, err)
				org.Setup().SetAppCertificate(other.Leaf())
			},
			diag.StepToken, isOAuth("invalid_grant"), (&auth.OAuthError{Description: "invalid assertion"}).Fix()},
		{"user not pre-authorized",
			func(_ *testing.T, org *salesforcetest.Org, _ *client.Config) {
				org.Setup().PreAuthorize(org.Username, false)
			},
			diag.StepToken, isOAuth("invalid_grant"), (&auth.OAuthError{Description: "user hasn't approved this consumer"}).Fix()},
		{"wrong audience",
			func(_ *testing.T, _ *salesforcetest.Org, cfg *client.Config) {
				cfg.Audience = jwtbearer.SandboxAudience
			},
			diag.StepToken, isOAuth("invalid_grant"), (&auth.OAuthError{Description: "audience is invalid"}).Fix()},
		{"wrong consumer key",
			func(_ *testing.T, _ *salesforcetest.Org, cfg *client.Config) { cfg.ConsumerKey = "3MVG9notTheApp" },
			diag.StepToken, isOAuth("invalid_client_id"), (&auth.OAuthError{Code: "invalid_client_id"}).Fix()},
		{"server refuses the client certificate",
			func(t *testing.T, _ *salesforcetest.Org, cfg *client.Config) {
				stranger, err := salesforcetest.NewPKI()
				require.NoError(t, err)
				cfg.MTLS = stranger.ClientIdentity
			},
			diag.StepHandshake, func(err error) bool { var op *net.OpError; return errors.As(err, &op) && op.Op == "remote error" },
			"the server refused the client certificate"},
		{"JWT key not RSA",
			func(_ *testing.T, org *salesforcetest.Org, cfg *client.Config) { cfg.JWT = org.PKI.ClientIdentity },
			diag.StepJWT, isConfig("JWT"), "RSA certificate"},
		{"no mTLS identity",
			func(_ *testing.T, _ *salesforcetest.Org, cfg *client.Config) { cfg.MTLS = nil },
			diag.StepMTLS, isConfig("MTLS"), "keystore.LoadFile"},
		{"no consumer key",
			func(_ *testing.T, _ *salesforcetest.Org, cfg *client.Config) { cfg.ConsumerKey = "" },
			diag.StepToken, isConfig("ConsumerKey"), "App Manager"},
		{"generic login host",
			func(_ *testing.T, _ *salesforcetest.Org, cfg *client.Config) {
				cfg.LoginURL = "https://login.salesforce.com"
			},
			diag.StepHandshake, isConfig("LoginURL"), "My Domain URL"},
		{"nothing listens on the port",
			func(t *testing.T, _ *salesforcetest.Org, cfg *client.Config) {
				cfg.LoginURL = "https://127.0.0.1:" + closedPort(t)
			},
			diag.StepHandshake, func(err error) bool { var op *net.OpError; return errors.As(err, &op) }, "allow outbound 8443"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			org, cfg := startOrg(t)
			c.setup(t, org, &cfg)
			r := diag.Check(t.Context(), cfg)
			require.False(t, r.OK)
			failed := r.Failed()
			require.NotNil(t, failed, "%+v", r)
			assert.Equal(t, c.step, failed.Name, failed.Error)
			assert.True(t, c.err(failed.Err), "error of unexpected type: %v", failed.Err)
			assert.Contains(t, failed.Fix, c.fix)
			assert.NotEmpty(t, failed.Cause)
			assert.Equal(t, failed.Err.Error(), failed.Error)
			var stepErr *diag.StepError
			require.ErrorAs(t, r.Err(), &stepErr)
			assert.Equal(t, c.step, stepErr.Step)
			after := false
			for _, s := range r.Steps {
				if after {
					assert.Equal(t, diag.StatusSkipped, s.Status, "steps after the failure do not run")
				}
				after = after || s.Status == diag.StatusFailed
			}

			// Served as a readiness answer: 503, the error as a string.
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
			assert.Contains(t, rec.Body.String(), `"error":`)
			assert.Contains(t, rec.Body.String(), `"status":"failed"`)
		})
	}
}

func isConfig(field string) func(error) bool {
	return func(err error) bool {
		var ce *client.ConfigError
		return errors.As(err, &ce) && ce.Field == field
	}
}

func isOAuth(code string) func(error) bool {
	return func(err error) bool {
		var oe *auth.OAuthError
		return errors.As(err, &oe) && oe.Code == code
	}
}

func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	_, port, _ := net.SplitHostPort(l.Addr().String())
	require.NoError(t, l.Close())
	return port
}

// Expiring and dual-use certificates pass with warnings in the keystore step;
// the expiring one still connects.
func TestCheckWarnsOfExpiringAndDualUseCertificates(t *testing.T) {
	org, cfg := startOrg(t)
	soon, err := org.PKI.NewClientIdentity("integration.user@example.com", time.Now().Add(-time.Hour), time.Now().Add(10*24*time.Hour))
	require.NoError(t, err)
	org.Setup().RegisterMutualAuthCertificate(soon.Leaf())
	cfg.MTLS = soon
	r := diag.Check(t.Context(), cfg)
	require.True(t, r.OK, "%+v", r.Failed())
	require.Len(t, r.Steps[0].Warnings, 1)
	assert.True(t, strings.HasPrefix(r.Steps[0].Warnings[0], "expires within 30 days: "), r.Steps[0].Warnings)

	cfg.MTLS = dualUseIdentity(t)
	r = diag.Check(t.Context(), cfg)
	assert.Equal(t, diag.StatusOK, r.Steps[0].Status)
	assert.Contains(t, r.Steps[0].Warnings, keystore.WarnDualUse)
	// Issued by a CA the fake org does not trust, as a public CA's would be.
	assert.Equal(t, diag.StepHandshake, r.Failed().Name)

	cfg.MTLS = org.PKI.ClientIdentity
	r = diag.Check(t.Context(), cfg)
	require.True(t, r.OK)
	assert.Empty(t, r.Steps[0].Warnings, "the org's clientAuth-only certificate draws no warning")
}

// dualUseIdentity issues a certificate with both serverAuth and clientAuth
// under a CA of its own, with the intermediate-free chain a root signs directly.
func dualUseIdentity(t *testing.T) *keystore.Identity {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour)}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, caKey.Public(), caKey)
	require.NoError(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "dual use"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		KeyUsage:    x509.KeyUsageDigitalSignature, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(90 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, key.Public(), caKey)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	id, err := keystore.NewIdentity(key, []*x509.Certificate{cert, caCert})
	require.NoError(t, err)
	return id
}

// The page Salesforce serves on 8443 to a request that arrived without a
// client certificate. Modelled: its title is the text the issue reports, the
// status and markup are assumed (an HTML error page); Salesforce's documents
// do not show it. Here a TLS server that does not ask for a certificate (as a
// TLS-inspecting proxy in between would present it) serves it.
func TestCheckRecognisesTheNoCertificatePage(t *testing.T) {
	org, cfg := startOrg(t)
	page := func(status int, contentType, body string) *httptest.Server {
		return tlsServer(t, org.PKI, &tls.Config{MinVersion: tls.VersionTLS12}, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
		}))
	}
	const html = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n<title>\n  No client certificate provided\n</title></head>\n" +
		"<body><p>No client certificate provided.<br></body></html>"
	srv := page(http.StatusBadRequest, "text/html; charset=UTF-8", html)
	cfg.LoginURL = srv.URL
	r := diag.Check(t.Context(), cfg)
	failed := r.Failed()
	require.NotNil(t, failed)
	assert.Equal(t, diag.StepHandshake, failed.Name)
	assert.ErrorIs(t, failed.Err, diag.ErrCertificateNotSent)
	assert.Contains(t, failed.Cause, "the certificate was not sent")
	assert.Contains(t, failed.Fix, "TLS inspection")

	// The same words elsewhere, or the title under a success or another type, are not that page.
	for _, p := range []struct {
		status      int
		contentType string
		body        string
	}{
		{http.StatusBadRequest, "text/html", "<html><head><title>Bad request</title></head><body>No client certificate provided</body></html>"},
		{http.StatusOK, "text/html", html},
		{http.StatusBadRequest, "application/json", `[{"message":"<title>No client certificate provided</title>","errorCode":"X"}]`},
	} {
		cfg.LoginURL = page(p.status, p.contentType, p.body).URL
		r := diag.Check(t.Context(), cfg)
		require.NotNil(t, r.Failed())
		assert.NotErrorIs(t, r.Failed().Err, diag.ErrCertificateNotSent, "%d %s", p.status, p.contentType)
		assert.Equal(t, diag.StatusOK, r.Steps[2].Status, "the handshake itself passed: %+v", r.Steps[2])
	}
}

// tlsServer runs h over TLS with a certificate from pki's server CA, which the
// org's clients trust.
func tlsServer(t *testing.T, pki *salesforcetest.PKI, cfg *tls.Config, h http.Handler) *httptest.Server {
	t.Helper()
	cert, err := pki.ServerTLSCertificate("127.0.0.1")
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	cfg.Certificates = []tls.Certificate{cert}
	srv.TLS = cfg
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// A readiness probe that passes the service's transport as TokenSource makes no
// new login per probe: the service's cached token serves every check.
func TestCheckWithTheServicesTokenMakesNoNewLogin(t *testing.T) {
	org, cfg := startOrg(t)
	service := org.Client(t)
	cfg.TokenSource = service.Transport()
	for range 3 {
		r := diag.Check(t.Context(), cfg)
		require.True(t, r.OK, "%+v", r.Failed())
		assert.Contains(t, r.Steps[1].Detail, "TokenSource")
	}
	assert.EqualValues(t, 1, org.Stats().TokensIssued, "one login for the service, none for the probes")
}

// tokenSourceFunc adapts a function to auth.TokenSource.
type tokenSourceFunc func(context.Context) (*auth.Token, error)

func (f tokenSourceFunc) Token(ctx context.Context) (*auth.Token, error) { return f(ctx) }

// A TokenSource without LoginURL (transport.New allows it) leaves no login
// host: the handshake step probes the instance the token names instead of
// dialling "" and blaming a firewall; with no token either, it says LoginURL
// is missing.
func TestCheckWithTokenSourceAndNoLoginURL(t *testing.T) {
	org, cfg := startOrg(t)
	cfg.TokenSource = org.Client(t).Transport()
	cfg.LoginURL = ""
	// Without a login host, a token may name only Salesforce's domains or
	// InstanceHosts; the fake org lives on 127.0.0.1.
	cfg.InstanceHosts = []string{org.Host}
	r := diag.Check(t.Context(), cfg)
	require.True(t, r.OK, "%+v", r.Failed())
	assert.Equal(t, diag.StepHandshake, r.Steps[2].Name)
	assert.Contains(t, r.Steps[2].Detail, "client certificate accepted")
	assert.Contains(t, r.Steps[2].Detail, "no LoginURL: probed the instance URL")

	refused := errors.New("the service's token source is down")
	cfg.TokenSource = tokenSourceFunc(func(context.Context) (*auth.Token, error) { return nil, refused })
	r = diag.Check(t.Context(), cfg)
	require.False(t, r.OK)
	failed := r.Failed()
	require.NotNil(t, failed)
	assert.Equal(t, diag.StepHandshake, failed.Name)
	require.ErrorIs(t, r.Err(), diag.ErrNoLoginURL)
	require.ErrorIs(t, r.Err(), refused)
	assert.Equal(t, diag.Explain(diag.ErrNoLoginURL).Fix, failed.Fix, "the fix names LoginURL, not the firewall")
	assert.NotEqual(t, diag.Explain(&net.OpError{Op: "dial", Err: errors.New("missing address")}).Fix, failed.Fix)
}

// CheckEnv reads the SF_* settings with client.ConfigFromEnv: the report names
// the keystore files, and a keystore that cannot be opened fails its own step
// with a fix that names the variable.
func TestCheckEnvNamesFilesAndFailsTheKeystoreStep(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	const password = "diag-env-pw"
	files, err := org.PKI.WriteFiles(t.TempDir(), password)
	require.NoError(t, err)
	vars := map[string]string{
		"SF_LOGIN_URL": org.URL, "SF_MTLS_PORT": strconv.Itoa(org.Port), "SF_AUDIENCE": org.Audience,
		"SF_CONSUMER_KEY": org.ConsumerKey, "SF_USERNAME": org.Username,
		"SF_MTLS_KEYSTORE": files.MTLSJKS, "SF_MTLS_KEYSTORE_PASSWORD": password,
		"SF_JWT_KEYSTORE": files.JWTPKCS12, "SF_JWT_KEYSTORE_PASSWORD": password, "SF_CA_FILE": files.ServerCA,
	}
	getenv := func(k string) string { return vars[k] }
	r := diag.CheckEnv(t.Context(), getenv, nil)
	require.True(t, r.OK, "%+v", r.Failed())
	assert.True(t, strings.HasPrefix(r.Steps[0].Detail, files.MTLSJKS+" (JKS"), r.Steps[0].Detail)
	assert.True(t, strings.HasPrefix(r.Steps[1].Detail, files.JWTPKCS12+" (PKCS12"), r.Steps[1].Detail)

	vars["SF_MTLS_KEYSTORE_PASSWORD"] = ""
	r = diag.CheckEnv(t.Context(), getenv, nil)
	require.Equal(t, diag.StepMTLS, r.Failed().Name)
	assert.ErrorIs(t, r.Failed().Err, keystore.ErrWrongPassword)
	assert.Contains(t, r.Failed().Fix, "SF_MTLS_KEYSTORE_PASSWORD")
	assert.NotContains(t, r.Failed().Error, password)

	vars["SF_MTLS_KEYSTORE_PASSWORD"] = password
	vars["SF_JWT_KEYSTORE"] = files.JWTPKCS12 + ".missing"
	r = diag.CheckEnv(t.Context(), getenv, nil)
	require.Equal(t, diag.StepJWT, r.Failed().Name)
	assert.ErrorIs(t, r.Failed().Err, keystore.ErrUnreadable)
}

// CheckEnv hands over each step as it ends, in the order of the report,
// skipped steps included.
func TestCheckEnvHandsOverEveryStepInOrder(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	const password = "diag-env-pw"
	files, err := org.PKI.WriteFiles(t.TempDir(), password)
	require.NoError(t, err)
	vars := map[string]string{
		"SF_LOGIN_URL": org.URL, "SF_MTLS_PORT": strconv.Itoa(org.Port), "SF_AUDIENCE": org.Audience,
		"SF_CONSUMER_KEY": org.ConsumerKey, "SF_USERNAME": org.Username,
		"SF_MTLS_KEYSTORE": files.MTLSJKS, "SF_MTLS_KEYSTORE_PASSWORD": password,
		"SF_JWT_KEYSTORE": files.JWTPKCS12, "SF_JWT_KEYSTORE_PASSWORD": password, "SF_CA_FILE": files.ServerCA,
	}
	getenv := func(k string) string { return vars[k] }
	var seen []diag.Step
	r := diag.CheckEnv(t.Context(), getenv, func(s diag.Step) { seen = append(seen, s) })
	require.True(t, r.OK, "%+v", r.Failed())
	assert.Equal(t, r.Steps, seen)

	org.Setup().PreAuthorize(org.Username, false)
	seen = nil
	r = diag.CheckEnv(t.Context(), getenv, func(s diag.Step) { seen = append(seen, s) })
	require.Equal(t, diag.StepToken, r.Failed().Name)
	require.Len(t, seen, 5)
	assert.Equal(t, r.Steps, seen)
	assert.Equal(t, diag.StatusSkipped, seen[4].Status)
}

// A configuration problem of a later step (an API version Salesforce does not
// name) fails that step before any network step runs: the steps in between
// are reported as not run, each under its own name.
func TestConfigProblemOfALaterStepRunsNoNetworkStep(t *testing.T) {
	org, cfg := startOrg(t)
	cfg.APIVersion = "20"
	r := diag.Check(t.Context(), cfg)
	require.False(t, r.OK)
	var names []string
	var statuses []diag.Status
	for _, s := range r.Steps {
		names = append(names, s.Name)
		statuses = append(statuses, s.Status)
	}
	assert.Equal(t, []string{diag.StepMTLS, diag.StepJWT, diag.StepHandshake, diag.StepToken, diag.StepREST}, names)
	assert.Equal(t, []diag.Status{diag.StatusOK, diag.StatusOK, diag.StatusSkipped, diag.StatusSkipped, diag.StatusFailed}, statuses)
	assert.True(t, isConfig("APIVersion")(r.Failed().Err), "%v", r.Failed().Err)
	assert.Zero(t, org.Stats().TLSHandshakes, "no network step ran")
	assert.Zero(t, org.Stats().TokenRequests)
}
