package diag_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/diag"
	"github.com/sfmtls/sfmtls/keystore"
)

func TestExplainKeystoreErrors(t *testing.T) {
	fixture := func(name string) string { return filepath.Join("..", "keystore", "testdata", name) }
	_, err := keystore.LoadFile(fixture("client-openssl.p12"), keystore.Options{Password: "not-it"})
	require.ErrorIs(t, err, keystore.ErrWrongPassword)
	ex := diag.Explain(err)
	assert.Contains(t, ex.Cause, "wrong password")
	assert.Contains(t, ex.Fix, "keystore password")

	_, err = keystore.LoadFile(filepath.Join(t.TempDir(), "missing.jks"), keystore.Options{})
	require.ErrorIs(t, err, keystore.ErrUnreadable)
	ex = diag.Explain(err)
	assert.Contains(t, ex.Cause, "cannot read the keystore file")
	assert.NotEmpty(t, ex.Fix)

	_, err = os.ReadFile(filepath.Join(t.TempDir(), "password"))
	ex = diag.Explain(fmt.Errorf("cannot read password file: %w", err))
	assert.Contains(t, ex.Cause, "cannot read")
	assert.Contains(t, ex.Fix, "path")
}

func TestExplainNetworkAndTLSErrors(t *testing.T) {
	assert.Equal(t, diag.Explanation{}, diag.Explain(nil))
	assert.Equal(t, "cancelled before it finished", diag.Explain(fmt.Errorf("x: %w", context.Canceled)).Cause)
	assert.Contains(t, diag.Explain(context.DeadlineExceeded).Fix, "8443")
	dns := &net.DNSError{Err: "no such host", Name: "acme.my.salesforce.com", IsNotFound: true}
	assert.Contains(t, diag.Explain(&net.OpError{Op: "dial", Err: dns}).Cause, "acme.my.salesforce.com cannot be resolved")
	assert.Contains(t, diag.Explain(x509.HostnameError{Certificate: &x509.Certificate{}, Host: "acme"}).Fix, "My Domain URL")
	assert.Contains(t, diag.Explain(x509.CertificateInvalidError{Cert: &x509.Certificate{}, Reason: x509.Expired}).Fix, "clock")
	unknown := diag.Explain(errors.New("some other failure"))
	assert.Equal(t, "some other failure", unknown.Cause)
	assert.Empty(t, unknown.Fix)

	// A server that speaks plain HTTP where TLS was expected.
	plain := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer plain.Close()
	_, err := tls.Dial("tcp", plain.Listener.Addr().String(), &tls.Config{MinVersion: tls.VersionTLS12})
	var header tls.RecordHeaderError
	require.ErrorAs(t, err, &header)
	assert.Contains(t, diag.Explain(err).Fix, "8443")
}

// A server without TLS 1.2 judges the client certificate after the handshake;
// the check must still tell acceptance from refusal, whatever the timing.
func TestCheckOnTLS13OnlyServers(t *testing.T) {
	org, cfg := startOrg(t)
	start := func(accept bool) string {
		srv := tlsServer(t, org.PKI, &tls.Config{MinVersion: tls.VersionTLS13, ClientAuth: tls.RequireAnyClientCert,
			VerifyPeerCertificate: func([][]byte, [][]*x509.Certificate) error {
				if accept {
					return nil
				}
				return errors.New("not registered")
			}}, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "{}") }))
		return srv.URL
	}
	accepting, refusing := start(true), start(false)
	for range 20 {
		cfg.LoginURL = accepting
		r := diag.Check(t.Context(), cfg)
		require.Equal(t, diag.StatusOK, r.Steps[2].Status, "%+v", r.Steps[2])
		assert.Contains(t, r.Steps[2].Detail, "TLS 1.3")
		assert.Contains(t, r.Steps[2].Detail, "client certificate accepted")

		cfg.LoginURL = refusing
		r = diag.Check(t.Context(), cfg)
		require.Equal(t, diag.StepHandshake, r.Failed().Name)
		assert.Contains(t, r.Failed().Fix, "the server refused the client certificate", r.Failed().Error)
	}
}
