package transport

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sfmtls/sfmtls/internal/errs"
)

// The base transports are built here, and only here: the mutual TLS ones for
// the org (API calls and the token request) and the plain one for every other
// host. Connection-level settings (health checks, connection bounds) belong in
// buildBases.

// buildBases makes the org and plain bases and applies Config.WrapBase.
func (t *Transport) buildBases(cfg Config, roots *x509.CertPool) error {
	h2 := http2Config(cfg.HTTP2)
	t.org = &orgBase{h2: newBase(NewTLSConfig(t.mtls.Load, roots), h2), h1: newBase(NewTLSConfig(t.mtls.Load, roots), h2)}
	t.org.h2.MaxConnsPerHost = cmp.Or(cfg.MaxConnsPerHost, defaultMaxConnsPerHost)
	t.org.h1.Protocols = new(http.Protocols)
	t.org.h1.Protocols.SetHTTP1(true)
	// Over HTTP/1.1 each call in flight holds a connection: keep as many idle as
	// were in use, or every peak beyond the idle limit pays for new handshakes.
	t.org.h1.MaxIdleConns, t.org.h1.MaxIdleConnsPerHost = 0, maxIdleHTTP1
	// The plain base has no GetClientCertificate: a host that asks gets none.
	t.plain = newBase(NewTLSConfig(nil, roots), h2)
	t.org.h2RT, t.org.h1RT, t.plainRT = t.org.h2, t.org.h1, t.plain
	if cfg.WrapBase != nil {
		t.org.h2RT, t.org.h1RT, t.plainRT = cfg.WrapBase(t.org.h2), cfg.WrapBase(t.org.h1), cfg.WrapBase(t.plain)
		if t.org.h2RT == nil || t.org.h1RT == nil || t.plainRT == nil {
			return errs.New("WrapBase", "returned nil", "return the round tripper it was given, or one wrapping it")
		}
	}
	t.orgRT = t.org
	return nil
}

// maxIdleHTTP1 bounds the idle HTTP/1.1 connections kept per host (for
// IdleConnTimeout), so a rare peak does not hold thousands of sockets.
const maxIdleHTTP1 = 1024

func newBase(tlsConfig *tls.Config, h2 *http.HTTP2Config) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsConfig,
		ForceAttemptHTTP2:     true,
		HTTP2:                 h2,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// Health checks of HTTP/2 connections: a connection that has received no frame
// for defaultSendPingTimeout is pinged, and closed when no answer comes
// within defaultPingTimeout. Without them, a connection that a NAT or a
// load balancer silently dropped stalls every request on it until the
// operating system gives up, minutes later; with them such requests fail
// within 45 seconds, and the next ones dial a new connection.
const (
	defaultSendPingTimeout = 30 * time.Second
	defaultPingTimeout     = 15 * time.Second
)

// http2Config copies c (nil: the defaults), giving a zero SendPingTimeout or
// PingTimeout its default and turning a negative SendPingTimeout into net/http's
// "no health check".
func http2Config(c *http.HTTP2Config) *http.HTTP2Config {
	var out http.HTTP2Config
	if c != nil {
		out = *c
	}
	switch {
	case out.SendPingTimeout == 0:
		out.SendPingTimeout = defaultSendPingTimeout
	case out.SendPingTimeout < 0:
		out.SendPingTimeout = 0
	}
	out.PingTimeout = cmp.Or(out.PingTimeout, defaultPingTimeout)
	return &out
}

// orgBase sends the org's requests over HTTP/2 through h2, whose connections per
// host are bounded, and those for a host whose first connection negotiated
// HTTP/1.1 through h1, which offers HTTP/1.1 alone and has no bound.
//
// Why two transports: net/http's MaxConnsPerHost counts connections of either
// protocol, and the protocol is known only after the first handshake (ALPN).
// The bound is for HTTP/2: a connection carries many requests, but net/http
// dials one connection per request that finds no free stream (a burst before
// the first connection is up, or beyond its stream limit), so a cold burst
// without a bound makes about one handshake per caller. Over HTTP/1.1 a
// connection carries one request at a time, so the same bound would let 4
// requests be in flight and throttle every caller beyond them
// (bench/README.md has the figures). HTTP2Config.StrictMaxConcurrentRequests would keep HTTP/2 to one
// connection without a bound, but it is new in Go 1.26 (go.mod says 1.24) and
// does not stop the first burst, which dials before any connection is known to
// be HTTP/2.
//
// While a host's protocol is unknown, its first request probes: the others
// wait until the probe has a connection, whose ALPN tells the protocol, and
// then take the right transport. So a cold burst dials once over HTTP/2, and
// over HTTP/1.1 does not queue behind the bound. If the probe fails before it
// has a connection, the waiters go on through h2 as they would have without
// the wait, and the host's next request probes again.
type orgBase struct {
	h2, h1     *http.Transport
	h2RT, h1RT http.RoundTripper // the same, through Config.WrapBase
	hosts      sync.Map          // host:port → *hostProto
}

// hostProto is what a host's connections negotiate.
type hostProto struct {
	state atomic.Int32  // protoUnknown until the probe settles it
	known chan struct{} // closed when state leaves protoUnknown
	once  sync.Once
}

const (
	protoUnknown int32 = iota
	protoHTTP2
	protoHTTP1
	protoFailed // the probe failed before it had a connection
)

func (p *hostProto) settle(state int32) {
	p.once.Do(func() {
		p.state.Store(state)
		close(p.known)
	})
}

func (b *orgBase) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.URL.Host
	v, ok := b.hosts.Load(host)
	if !ok {
		fresh := &hostProto{known: make(chan struct{})}
		if v, ok = b.hosts.LoadOrStore(host, fresh); !ok {
			return b.probe(req, fresh)
		}
	}
	p := v.(*hostProto)
	state := p.state.Load()
	if state == protoUnknown {
		select {
		case <-p.known:
			state = p.state.Load()
		case <-req.Context().Done():
			closeBody(req)
			return nil, req.Context().Err()
		}
	}
	if state == protoHTTP1 {
		return b.h1RT.RoundTrip(req)
	}
	resp, err := b.h2RT.RoundTrip(req)
	if err == nil && resp.ProtoMajor == 1 && state == protoHTTP2 {
		// The host now answers in HTTP/1.1 (a proxy put in front of it).
		b.hosts.Store(host, settled(protoHTTP1))
	}
	return resp, err
}

// probe sends a host's first request through h2 and settles the host's
// protocol as soon as the request has its connection.
func (b *orgBase) probe(req *http.Request, p *hostProto) (*http.Response, error) {
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		if cs, ok := info.Conn.(interface{ ConnectionState() tls.ConnectionState }); ok {
			p.settle(protocolOf(cs.ConnectionState().NegotiatedProtocol))
		}
	}}
	resp, err := b.h2RT.RoundTrip(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
	switch {
	case err == nil && resp.ProtoMajor == 1:
		p.settle(protoHTTP1) // when the connection did not tell (a custom dialer's)
	case err == nil:
		p.settle(protoHTTP2)
	default:
		p.settle(protoFailed)
	}
	if p.state.Load() == protoFailed {
		b.hosts.CompareAndDelete(req.URL.Host, p) // the next request probes again
	}
	return resp, err
}

func protocolOf(alpn string) int32 {
	if alpn == "h2" {
		return protoHTTP2
	}
	return protoHTTP1
}

func settled(state int32) *hostProto {
	p := &hostProto{known: make(chan struct{})}
	p.settle(state)
	return p
}

// CloseIdleConnections closes both transports' idle connections and forgets
// what each host negotiated, so that the next handshake asks for HTTP/2 again.
func (b *orgBase) CloseIdleConnections() {
	b.hosts.Clear()
	b.h2.CloseIdleConnections()
	b.h1.CloseIdleConnections()
}
