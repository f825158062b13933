package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/salesforcetest"
)

// TestHandshakeOnTLS13OnlyServers covers the fallback: a server without TLS 1.2
// judges the client certificate after the handshake, and check must still tell
// acceptance from refusal, whatever the timing.
func TestHandshakeOnTLS13OnlyServers(t *testing.T) {
	pki, err := salesforcetest.NewPKI()
	require.NoError(t, err)
	cert, err := pki.ServerTLSCertificate("127.0.0.1")
	require.NoError(t, err)
	roots := x509.NewCertPool()
	roots.AddCert(pki.ServerCA)
	start := func(accept bool) *httptest.Server {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "{}") }))
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13, ClientAuth: tls.RequireAnyClientCert,
			VerifyPeerCertificate: func([][]byte, [][]*x509.Certificate) error {
				if accept {
					return nil
				}
				return errors.New("not registered")
			}}
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return srv
	}
	accepting, refusing := start(true), start(false)
	for range 20 {
		detail, err := handshake(context.Background(), accepting.URL+"/services/oauth2/token", pki.ClientIdentity, roots)
		require.NoError(t, err)
		assert.Contains(t, detail, "TLS 1.3")
		assert.Contains(t, detail, "client certificate accepted")

		_, err = handshake(context.Background(), refusing.URL+"/services/oauth2/token", pki.ClientIdentity, roots)
		require.Error(t, err)
		assert.Contains(t, tlsFix(err), "the server refused the client certificate", err.Error())
	}
}
