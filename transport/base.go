package transport

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sfmtls/sfmtls/internal/errs"
)

// The base transports are built here, and only here: the mutual TLS ones for
// the org (API calls and the token request) and the plain one for every other
// host. Connection-level settings (health checks, connection bounds) belong in
// buildBases.

// buildBases makes the org's HTTP/2 base and applies Config.WrapBase to it.
// The org's HTTP/1.1 base and the plain one are built on first use (lazyBase):
// most processes talk to the org alone, over HTTP/2.
func (t *Transport) buildBases(cfg Config, roots *x509.CertPool) error {
	h2 := http2Config(cfg.HTTP2)
	// What the bases reach is kept with every closed HTTP/2 connection until
	// its health check's timer fires (see Transport.mtls): the client
	// certificate, never the Transport.
	mtls := t.mtls
	b := &orgBase{h2: newBase(NewTLSConfig(mtls.Load, roots), h2)}
	b.h2.MaxConnsPerHost = cmp.Or(cfg.MaxConnsPerHost, defaultMaxConnsPerHost)
	b.h2.DialTLSContext = b.dialTLS(b.h2, false)
	if b.h2RT = wrapBase(b.h2, cfg.WrapBase); b.h2RT == nil {
		return errWrapBaseNil
	}
	b.h1 = &lazyBase{wrap: cfg.WrapBase, build: func() *http.Transport {
		h1 := newBase(NewTLSConfig(mtls.Load, roots), h2)
		h1.Protocols = new(http.Protocols)
		h1.Protocols.SetHTTP1(true)
		// Over HTTP/1.1 each call in flight holds a connection: keep as many idle as
		// were in use, or every peak beyond the idle limit pays for new handshakes.
		h1.MaxIdleConns, h1.MaxIdleConnsPerHost = 0, maxIdleHTTP1
		h1.DialTLSContext = b.dialTLS(h1, true)
		return h1
	}}
	t.org, t.orgRT = b, b
	// The plain base has no GetClientCertificate: a host that asks gets none.
	t.plain = &lazyBase{wrap: cfg.WrapBase, build: func() *http.Transport { return newBase(NewTLSConfig(nil, roots), h2) }}
	return nil
}

// wrapBase applies Config.WrapBase (wrap, possibly nil) to a new base; nil
// when WrapBase returned nil.
func wrapBase(base *http.Transport, wrap func(http.RoundTripper) http.RoundTripper) http.RoundTripper {
	var rt http.RoundTripper = base
	if wrap != nil {
		rt = wrap(base)
	}
	// net/http sets up the base's ALPN (TLSClientConfig.NextProtos) on its first
	// use, which this is, with whatever WrapBase changed: dialTLS clones that config.
	base.CloseIdleConnections()
	return rt
}

var errWrapBaseNil = errs.New("WrapBase", "returned nil", "return the round tripper it was given, or one wrapping it")

// lazyBase is a base transport built on its first use, with Config.WrapBase
// applied.
type lazyBase struct {
	build func() *http.Transport
	wrap  func(http.RoundTripper) http.RoundTripper
	mu    sync.Mutex
	w     atomic.Pointer[wrapped]
}

// wrapped is a base transport with what Config.WrapBase made of it.
type wrapped struct {
	base *http.Transport
	rt   http.RoundTripper
}

// get returns the base, building it on first use.
func (l *lazyBase) get() (http.RoundTripper, error) {
	w := l.w.Load()
	if w == nil {
		l.mu.Lock()
		if w = l.w.Load(); w == nil {
			base := l.build()
			w = &wrapped{base: base, rt: wrapBase(base, l.wrap)}
			l.w.Store(w)
		}
		l.mu.Unlock()
	}
	if w.rt == nil {
		return nil, errWrapBaseNil
	}
	return w.rt, nil
}

// closeIdle closes the base's idle connections, if it was built.
func (l *lazyBase) closeIdle() {
	if w := l.w.Load(); w != nil {
		w.base.CloseIdleConnections()
	}
}

// maxIdleHTTP1 bounds the idle HTTP/1.1 connections kept per host (for
// IdleConnTimeout), so a rare peak does not hold thousands of sockets.
const maxIdleHTTP1 = 1024

// baseDial is the bases' dialer, shared: a net.Dialer is read-only once made.
var baseDial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext

func newBase(tlsConfig *tls.Config, h2 *http.HTTP2Config) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           baseDial,
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
//
// The probe dials its connection itself, before handing the request to a base
// transport, and hands the connection to the base its ALPN names (see
// dialTLS): so the connection of the token request, the usual probe, serves
// the calls after it over HTTP/1.1 as over HTTP/2. Through a proxy, where
// net/http dials the proxy, the probe goes through h2 and dials there.
type orgBase struct {
	h2    *http.Transport
	h2RT  http.RoundTripper // h2 through Config.WrapBase
	hosts sync.Map          // host:port → *hostProto
	spare sync.Map          // spareKey → *spare: a probe's connection on its way to its base
	h1    *lazyBase         // built when a host first answers in HTTP/1.1
}

// spare is a probe's connection, or the error that dialing it ended in.
type spare struct {
	conn net.Conn
	err  error
}

// spareKey names a probe's connection: the base it is for and its address.
type spareKey struct {
	http1 bool
	addr  string
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
		h1, err := b.h1.get()
		if err != nil {
			closeBody(req)
			return nil, err
		}
		return h1.RoundTrip(req)
	}
	resp, err := b.h2RT.RoundTrip(req)
	if err == nil && resp.ProtoMajor == 1 && state == protoHTTP2 {
		// The host now answers in HTTP/1.1 (a proxy put in front of it).
		b.hosts.Store(host, settled(protoHTTP1))
	}
	return resp, err
}

// probe sends a host's first request and settles the host's protocol as soon
// as the request has its connection. It dials that connection itself and sends
// the request through the base that the connection's ALPN names, which takes
// the connection instead of dialing (see dialTLS). Through a proxy it sends the
// request through h2, which dials.
func (b *orgBase) probe(req *http.Request, p *hostProto) (*http.Response, error) {
	rt := b.h2RT
	unspare := func() {}
	if !b.proxied(req) {
		addr := canonicalAddr(req.URL)
		conn, err := dialTLS(req.Context(), b.h2, addr)
		key := spareKey{addr: addr}
		if err == nil && conn.ConnectionState().NegotiatedProtocol != "h2" {
			key.http1 = true
			if rt, err = b.h1.get(); err != nil {
				conn.Close()
				closeBody(req)
				p.settle(protoFailed)
				b.hosts.CompareAndDelete(req.URL.Host, p)
				return nil, err
			}
		}
		// A failed dial goes to the base too, which returns its error as its own
		// dial's: the request passes through WrapBase's round tripper either way.
		s := &spare{err: err}
		if err == nil {
			s.conn = conn
		}
		if _, waiting := b.spare.LoadOrStore(key, s); waiting {
			// Another probe's connection to this address waits for the base (a
			// probe begun before CloseIdleConnections, or the host named with and
			// without its port): the base takes that one, and this one is not needed.
			if conn != nil {
				conn.Close()
			}
		} else {
			// A base whose dialer WrapBase replaced, a wrapper that answered by
			// itself, or a request whose context ended before the base dialed
			// leaves the spare here. It is taken back before the protocol is
			// settled: a waiter released by the settling must never dial into
			// this probe's connection, or its failed dial's error.
			unspare = func() {
				if b.spare.CompareAndDelete(key, s) && conn != nil {
					conn.Close()
				}
			}
		}
	}
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		if cs, ok := info.Conn.(interface{ ConnectionState() tls.ConnectionState }); ok {
			p.settle(protocolOf(cs.ConnectionState().NegotiatedProtocol))
		}
	}}
	resp, err := rt.RoundTrip(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
	unspare()
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

// proxied reports whether h2 sends req through a proxy (or cannot tell).
func (b *orgBase) proxied(req *http.Request) bool {
	if b.h2.Proxy == nil {
		return false
	}
	u, err := b.h2.Proxy(req)
	return u != nil || err != nil
}

// dialTLS is base's DialTLSContext: it hands over the probe's connection when
// one waits for this base and address, and otherwise dials and makes the
// handshake as net/http would have (base.DialContext, a clone of
// base.TLSClientConfig, base.TLSHandshakeTimeout), so that what WrapBase sets
// on the base still applies.
func (b *orgBase) dialTLS(base *http.Transport, http1 bool) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, _, addr string) (net.Conn, error) {
		if s, ok := b.spare.LoadAndDelete(spareKey{http1: http1, addr: addr}); ok {
			return s.(*spare).conn, s.(*spare).err
		}
		return dialTLS(ctx, base, addr)
	}
}

// dialTLS dials addr and makes the TLS handshake with base's settings. base
// has been used once (CloseIdleConnections), so that net/http has set its
// TLSClientConfig.NextProtos and changes it no more.
func dialTLS(ctx context.Context, base *http.Transport, addr string) (*tls.Conn, error) {
	dial := base.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext // net/http's default without one
	}
	raw, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, errors.New("transport: the base's DialContext returned no connection and no error")
	}
	cfg := base.TLSClientConfig.Clone()
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName, _, _ = net.SplitHostPort(addr)
	}
	conn := tls.Client(raw, cfg)
	hctx := ctx
	if d := base.TLSHandshakeTimeout; d > 0 {
		var cancel context.CancelFunc
		hctx, cancel = context.WithTimeoutCause(ctx, d, errHandshakeTimeout)
		defer cancel()
	}
	if err := conn.HandshakeContext(hctx); err != nil {
		raw.Close()
		if ctx.Err() == nil && context.Cause(hctx) == errHandshakeTimeout {
			return nil, errHandshakeTimeout
		}
		return nil, err
	}
	return conn, nil
}

// errHandshakeTimeout is net/http's "TLS handshake timeout", from the dialer
// the org's bases share.
var errHandshakeTimeout error = handshakeTimeoutError{}

type handshakeTimeoutError struct{}

func (handshakeTimeoutError) Timeout() bool   { return true }
func (handshakeTimeoutError) Temporary() bool { return true }
func (handshakeTimeoutError) Error() string   { return "transport: TLS handshake timeout" }

// canonicalAddr is the host:port net/http dials for u.
func canonicalAddr(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	return net.JoinHostPort(u.Hostname(), "443")
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
	b.h1.closeIdle()
}
