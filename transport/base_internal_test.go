package transport

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
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
