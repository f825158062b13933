package transport_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/keystore"
	"github.com/sfmtls/sfmtls/transport"
)

// TestNoInsecureSkipVerifyOutsideTests keeps certificate checks on in shipped code.
func TestNoInsecureSkipVerifyOutsideTests(t *testing.T) {
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		assert.NotContains(t, string(src), "InsecureSkip"+"Verify", path)
		return nil
	})
	require.NoError(t, err)
}

func TestTLSConfigRefusesOldTLSAndUnknownServers(t *testing.T) {
	org := startOrg(t)
	cfg := transport.NewTLSConfig(func() *keystore.Identity { return org.PKI.ClientIdentity }, org.RootCAs())
	assert.Equal(t, uint16(tls.VersionTLS12), cfg.MinVersion)

	old := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	cert, err := org.PKI.ServerTLSCertificate("127.0.0.1")
	require.NoError(t, err)
	old.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}
	old.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is the point
	old.StartTLS()
	defer old.Close()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
	_, err = c.Get(old.URL)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "protocol version")

	// A server whose CA is not among the roots is refused, naming the cause.
	stranger := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	stranger.Config.ErrorLog = log.New(io.Discard, "", 0)
	stranger.StartTLS()
	defer stranger.Close()
	_, err = c.Get(stranger.URL)
	var unknown x509.UnknownAuthorityError
	require.ErrorAs(t, err, &unknown)

	// Its CA among the roots makes it trusted.
	roots := org.RootCAs().Clone()
	roots.AddCert(stranger.Certificate())
	c = &http.Client{Transport: &http.Transport{TLSClientConfig: transport.NewTLSConfig(func() *keystore.Identity { return org.PKI.ClientIdentity }, roots)}}
	resp, err := c.Get(stranger.URL)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}
