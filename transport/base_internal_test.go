package transport

import (
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHTTP2Defaults: nil and zero fields get the health check's defaults, a
// negative SendPingTimeout turns it off, other fields pass through, and the
// caller's value is not changed.
func TestHTTP2Defaults(t *testing.T) {
	got := http2Config(nil)
	assert.Equal(t, 30*time.Second, got.SendPingTimeout)
	assert.Equal(t, 15*time.Second, got.PingTimeout)

	mine := &http.HTTP2Config{PingTimeout: time.Second, MaxReadFrameSize: 1 << 20}
	got = http2Config(mine)
	assert.Equal(t, 30*time.Second, got.SendPingTimeout)
	assert.Equal(t, time.Second, got.PingTimeout)
	assert.Equal(t, 1<<20, got.MaxReadFrameSize)
	assert.Equal(t, &http.HTTP2Config{PingTimeout: time.Second, MaxReadFrameSize: 1 << 20}, mine, "the caller's value is not changed")

	got = http2Config(&http.HTTP2Config{SendPingTimeout: -1})
	assert.Zero(t, got.SendPingTimeout, "negative: net/http's no health check")
	assert.Equal(t, 15*time.Second, got.PingTimeout)

	// Every base gets it. Only the org's HTTP/2 base is built at once; the
	// others on first use.
	var tr Transport
	assert.NoError(t, tr.buildBases(Config{HTTP2: &http.HTTP2Config{SendPingTimeout: time.Minute}}, nil))
	assert.Nil(t, tr.org.h1.w.Load(), "no HTTP/1.1 base before a host answers in HTTP/1.1")
	assert.Nil(t, tr.plain.w.Load(), "no plain base before a request for another host")
	for _, l := range []*lazyBase{tr.org.h1, tr.plain} {
		_, err := l.get()
		assert.NoError(t, err)
	}
	h1, plain := tr.org.h1.w.Load().base, tr.plain.w.Load().base
	for _, b := range []*http.Transport{tr.org.h2, h1, plain} {
		assert.Equal(t, time.Minute, b.HTTP2.SendPingTimeout)
		assert.Equal(t, 15*time.Second, b.HTTP2.PingTimeout)
	}
	assert.Equal(t, 4, tr.org.h2.MaxConnsPerHost)
	assert.Zero(t, h1.MaxConnsPerHost)
	assert.Equal(t, 1024, h1.MaxIdleConnsPerHost, "HTTP/1.1 keeps its connections for the next peak")
	assert.Zero(t, h1.MaxIdleConns)
	assert.True(t, h1.Protocols.HTTP1() && !h1.Protocols.HTTP2(), "the HTTP/1.1 base offers HTTP/1.1 alone")
	assert.Nil(t, plain.TLSClientConfig.GetClientCertificate, "the plain base presents no certificate")
}

// TestProbeLeavesAWaitingSpareInPlace: when a connection dialed by an earlier
// probe of the same address still waits for the base, a probe does not put
// its own in its place (which would leave the first open and unused): the
// base takes the waiting one and the probe closes its own.
func TestProbeLeavesAWaitingSpareInPlace(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	var tr Transport
	require.NoError(t, tr.buildBases(Config{}, roots))
	t.Cleanup(tr.CloseIdleConnections)

	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	waiting, err := dialTLS(t.Context(), tr.org.h2, u.Host)
	require.NoError(t, err)
	require.Equal(t, "h2", waiting.ConnectionState().NegotiatedProtocol)
	tr.org.spare.Store(spareKey{addr: u.Host}, &spare{conn: waiting})

	var used net.Conn
	ctx := httptrace.WithClientTrace(t.Context(), &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { used = info.Conn }})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	resp, err := tr.org.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Same(t, waiting, used, "the base took the connection that was waiting")
	_, left := tr.org.spare.Load(spareKey{addr: u.Host})
	assert.False(t, left, "no connection is left waiting")
}
