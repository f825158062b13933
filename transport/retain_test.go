package transport_test

import (
	"runtime"
	"testing"
	"weak"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/keystore"
	"github.com/sfmtls/sfmtls/salesforcetest"
	"github.com/sfmtls/sfmtls/transport"
)

// TestClosedTransportIsNotRetained: once its connections are closed and its
// user lets it go, a Transport and its JWT identity are garbage, though
// net/http keeps each closed HTTP/2 connection until its health check's timer
// fires (SendPingTimeout after the last frame; the timer is not stopped when
// the connection closes, golang/go#80920). The connection reaches the
// client certificate it presents, and no more.
func TestClosedTransportIsNotRetained(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	cfg := configFor(org)
	jwt, err := keystore.NewIdentity(org.PKI.JWTIdentity.Signer(), org.PKI.JWTIdentity.Chain())
	require.NoError(t, err)
	cfg.JWT = jwt
	tr, err := transport.New(cfg) // not newTransport: its cleanup would hold tr
	require.NoError(t, err)
	require.NoError(t, getOK(tr.Client(), org.InstanceURL+"/services/data/v"+salesforcetest.APIVersion+"/limits"))
	tr.CloseIdleConnections()
	weakTr, weakJWT := weak.Make(tr), weak.Make(jwt)
	tr, cfg.JWT, jwt = nil, nil, nil
	for range 5 {
		runtime.GC()
	}
	assert.Nil(t, weakTr.Value(), "the Transport is retained")
	assert.Nil(t, weakJWT.Value(), "the JWT identity is retained")
}
