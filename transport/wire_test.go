package transport_test

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/salesforcetest"
	"github.com/sfmtls/sfmtls/transport"
)

// strayInstance listens on host at the org's mutual TLS port, trusted like
// the org and asking for a client certificate, and records what reaches it.
func strayInstance(t *testing.T, org *salesforcetest.Org, host string) func() []seen {
	t.Helper()
	cert, err := org.PKI.ServerTLSCertificate(host)
	require.NoError(t, err)
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(org.Port)))
	require.NoError(t, err)
	var mu sync.Mutex
	var got []seen
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, seen{clientCert: len(r.TLS.PeerCertificates) > 0, authorization: r.Header.Get("Authorization")})
		mu.Unlock()
	}))
	srv.Listener = l
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequestClientCert}
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return func() []seen { mu.Lock(); defer mu.Unlock(); return append([]seen(nil), got...) }
}

// answerToken makes the org's token endpoint answer once with a token whose
// instance_url is instanceURL, as a misbehaving endpoint (or a proxy) might.
func answerToken(org *salesforcetest.Org, instanceURL string) {
	org.Faults().FailTokenRequestsWith(1, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"access_token": "00Dstray!AQ", "instance_url": instanceURL,
			"id": "https://127.0.0.1/id/00D/005", "token_type": "Bearer", "issued_at": "1700000000000"})
	}))
}

// TestATokenForAStrangeHostIsDropped: a token answer whose instance_url names
// a host that is neither the login host, a Salesforce domain, nor one of
// Config.InstanceHosts is refused before it is cached (*auth.InvalidTokenError):
// that host gets no request, no token and no certificate. (Observed before:
// instance_url https://127.0.0.9 was used as is.) Allowed in InstanceHosts,
// the same answer is used.
func TestATokenForAStrangeHostIsDropped(t *testing.T) {
	const stray = "127.0.0.9"
	org := startOrg(t)
	recorded := strayInstance(t, org, stray)
	ctx := t.Context()

	tr := newTransport(t, configFor(org))
	answerToken(org, "https://"+stray)
	_, err := tr.Token(ctx)
	var invalid *auth.InvalidTokenError
	require.ErrorAs(t, err, &invalid)
	assert.Equal(t, "instance_url", invalid.Field)
	_, err = tr.InstanceURL(ctx)
	require.Error(t, err, "nothing was cached")
	// A request for the stray host while no token is known: not a host a token
	// may name, so it goes out plain, without fetching a token.
	tokens := org.Stats().TokenRequests
	_, err = tr.Client().Get("https://" + stray + ":" + strconv.Itoa(org.Port) + "/services/data/")
	require.NoError(t, err)
	assert.Equal(t, tokens, org.Stats().TokenRequests, "no token fetched for it")
	assert.Equal(t, []seen{{}}, recorded(), "no token and no certificate reached it")

	cfg := configFor(org)
	cfg.InstanceHosts = []string{stray}
	allowed := newTransport(t, cfg)
	answerToken(org, "https://"+stray)
	base, err := allowed.InstanceURL(ctx)
	require.NoError(t, err)
	assert.Equal(t, stray+":"+strconv.Itoa(org.Port), base.Host)
	require.NoError(t, getOK(allowed.Client(), base.String()+"/services/data/"))
	got := recorded()
	require.Len(t, got, 2)
	assert.Equal(t, seen{clientCert: true, authorization: "Bearer 00Dstray!AQ"}, got[1], "the control: an allowed host gets both")

	for _, bad := range []string{"https://acme.example.com", "acme.example.com:8443", "", "*"} {
		c := configFor(org)
		c.InstanceHosts = []string{bad}
		_, err := transport.New(c)
		require.True(t, errors.Is(err, client.ErrConfig), "%q: %v", bad, err)
	}
}

// TestCallsExtendTheSession: Salesforce's session timeout counts from the
// last activity (Setup → Session Settings). With SessionTimeout, each
// successful call extends the cached session (the token cache's Touch, which records
// at most once a second), so steady use of one token needs no refresh; a token
// left idle past its timeout is replaced.
func TestCallsExtendTheSession(t *testing.T) {
	org := startOrg(t)
	cfg := configFor(org)
	// Calls 200ms apart on a 4s timeout: a call would have to stall for over
	// 3s (the session's last tenth) to start a new login, even on a loaded machine.
	cfg.SessionTimeout = 4 * time.Second
	tr := newTransport(t, cfg)
	url := org.InstanceURL + "/services/data/v65.0/limits"
	c := tr.Client()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		require.NoError(t, getOK(c, url))
	}
	assert.Equal(t, int64(1), org.Stats().TokenRequests, "five seconds of calls on a 4s inactivity timeout: one login")

	time.Sleep(4500 * time.Millisecond)
	require.NoError(t, getOK(c, url))
	assert.Equal(t, int64(2), org.Stats().TokenRequests, "idle past the timeout: a new login")
}
