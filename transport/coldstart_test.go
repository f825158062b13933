package transport_test

import (
	"crypto/rsa"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/keystore"
	"github.com/sfmtls/sfmtls/salesforcetest"
	"github.com/sfmtls/sfmtls/transport"
)

// TestColdStartOneHandshake: a cold Transport logs in and makes its first call
// over one TLS connection, whether the org negotiates HTTP/2 or HTTP/1.1 alone
// (as nginx without http2 does). The fake org counts the handshakes on its
// mutual TLS listener, which enforces the client certificate.
func TestColdStartOneHandshake(t *testing.T) {
	for _, tc := range []struct {
		name      string
		http1Only bool
		major     int
	}{
		{"HTTP/2", false, 2},
		{"HTTP/1.1", true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			org := salesforcetest.NewOrg(t, salesforcetest.Config{HTTP1Only: tc.http1Only})
			tr := newTransport(t, configFor(org))
			c := tr.Client()
			for i := range 3 {
				resp, err := c.Get(org.InstanceURL + "/services/data/v65.0/limits")
				require.NoError(t, err)
				drain(resp)
				require.Equal(t, http.StatusOK, resp.StatusCode)
				require.Equal(t, tc.major, resp.ProtoMajor)
				st := org.Stats()
				assert.Equal(t, int64(1), st.TokenRequests)
				assert.Equal(t, int64(i+1), st.APIRequests)
				assert.Equal(t, int64(1), st.TLSHandshakes, "after call %d: the token request and the calls share one connection", i+1)
			}
		})
	}
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// TestColdStartSignsOnce: from New to the first call's answer, the JWT key
// signs once (the assertion) and the mutual TLS key once (the one handshake).
// New checks that each key belongs to its certificate by comparing public
// keys, without a test signature; a signer that is not a key in memory (an
// HSM's) still signs a test digest (TestJWTKeyMustSignRS256).
func TestColdStartSignsOnce(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	jwtKey := &transport.CountingKey{Signer: org.PKI.JWTIdentity.Signer()}
	jwtID, err := keystore.NewIdentity(jwtKey, org.PKI.JWTIdentity.Chain())
	require.NoError(t, err)
	mtlsKey := &transport.CountingKey{Signer: org.PKI.ClientIdentity.Signer()}
	mtlsID, err := keystore.NewIdentity(mtlsKey, org.PKI.ClientIdentity.Chain())
	require.NoError(t, err)
	_, isRSA := jwtKey.Public().(*rsa.PublicKey)
	require.True(t, isRSA)

	cfg := configFor(org)
	cfg.MTLS, cfg.JWT = mtlsID, jwtID
	tr := newTransport(t, cfg)
	assert.Zero(t, jwtKey.Signatures(), "New signs nothing")
	assert.Zero(t, mtlsKey.Signatures(), "New signs nothing")

	require.NoError(t, getOK(tr.Client(), org.InstanceURL+"/services/data/v65.0/limits"))
	assert.Equal(t, int64(1), jwtKey.Signatures(), "one RSA signature: the assertion")
	assert.Equal(t, int64(1), mtlsKey.Signatures(), "one handshake")
	assert.Equal(t, int64(1), org.Stats().TLSHandshakes)

	// Rotation checks the same way.
	require.NoError(t, tr.SetJWTIdentity(jwtID))
	require.NoError(t, tr.SetMTLSIdentity(mtlsID))
	assert.Equal(t, int64(1), jwtKey.Signatures())
	assert.Equal(t, int64(1), mtlsKey.Signatures())
}

// BenchmarkNew: building a Transport from loaded identities (the JWT one RSA),
// before any request.
func BenchmarkNew(b *testing.B) {
	org := salesforcetest.NewOrg(b, salesforcetest.Config{})
	cfg := configFor(org)
	b.ReportAllocs()
	for b.Loop() {
		tr, err := transport.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		tr.CloseIdleConnections()
	}
}
