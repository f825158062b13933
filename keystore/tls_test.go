package keystore

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mtlsServer starts a loopback HTTPS server that demands a client certificate
// chaining to the fixtures' root CA, and answers with the verified chain length.
func mtlsServer(t *testing.T) *httptest.Server {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(readCert(t, "root-ca.pem"))
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chain := r.TLS.VerifiedChains[0]
		_, _ = io.WriteString(w, chain[0].Subject.CommonName+" via "+chain[1].Subject.CommonName)
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: roots, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func clientFor(srv *httptest.Server, cert tls.Certificate) *http.Client {
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
	return &http.Client{Transport: tr}
}

func TestIdentitiesHandshakeWithAServerThatRequiresClientCerts(t *testing.T) {
	srv := mtlsServer(t)
	cases := []struct {
		name string
		opts Options
		cn   string
	}{
		{"mtls.jks", Options{Password: storePW}, clientCN},
		{"client.jceks", Options{Password: storePW, Alias: "ecclient"}, ecCN},
		{"client-openssl.p12", Options{Password: storePW}, clientCN},
		{"client-legacy.pfx", Options{Password: storePW}, clientCN},
		{"client-pkcs12.jks", Options{Password: storePW}, clientCN},
		{"multi-key.p12", Options{Password: storePW, Alias: "ecclient"}, ecCN},
		{"client-chain.pem", Options{KeyFile: fixture("client-key-pbes2.pem"), Password: keyPW}, clientCN},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, err := LoadFile(fixture(c.name), c.opts)
			require.NoError(t, err)
			resp, err := clientFor(srv, id.TLSCertificate()).Get(srv.URL)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, c.cn+" via "+interCN, string(body))
		})
	}
}

func TestHandshakeFailsWithoutIntermediates(t *testing.T) {
	srv := mtlsServer(t)
	id, err := LoadFile(fixture("mtls.jks"), Options{Password: storePW})
	require.NoError(t, err)
	leafOnly := id.TLSCertificate()
	leafOnly.Certificate = leafOnly.Certificate[:1]
	_, err = clientFor(srv, leafOnly).Get(srv.URL)
	require.Error(t, err, "the server knows only the root: the intermediate must be sent")

	selfSigned, err := LoadFile(fixture("mulesoft.jks"), Options{Password: storePW})
	require.NoError(t, err)
	_, err = clientFor(srv, selfSigned.TLSCertificate()).Get(srv.URL)
	require.Error(t, err, "a self-signed certificate is refused for mutual TLS")
}
