package transport

import (
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/sfmtls/sfmtls/auth"
)

// Routing decides, before any token is fetched, whether a request is for the
// org. The org's hosts are the login (My Domain) host and the instance host of
// the current token, on the default or the mutual TLS port. Everything else goes
// through the plain base transport: no token, no Authorization header, and no
// client certificate.
//
// One case needs a token to decide: a request whose host is not the login host
// while no token is known yet, on a port the instance could be reached on (443
// or the mutual TLS port). Only the token's instance_url tells whether that host
// is the instance, so the token is fetched first (the call would need it
// anyway if it is). couldBeInstance is the one place that narrows this case.

// route caches what each request needs of the token in use, computed once per
// token rather than per request.
type route struct {
	tok          *auth.Token
	instanceHost string   // host name of instance_url
	instanceAddr string   // host:mtls port
	authz        []string // the Authorization header value, shared read-only by requests
}

func (t *Transport) routeFor(tok *auth.Token) *route {
	if r := t.route.Load(); r != nil && (r.tok == tok || r.tok.Equal(tok)) {
		return r
	}
	host := ""
	if u, err := url.Parse(tok.InstanceURL); err == nil {
		host = u.Hostname()
	}
	r := &route{tok: tok, instanceHost: host, instanceAddr: net.JoinHostPort(host, t.port),
		authz: []string{"Bearer " + string(tok.AccessToken)}}
	t.route.Store(r)
	return r
}

// forOrg reports whether req may be for the org, without fetching a token.
func (t *Transport) forOrg(u *url.URL) bool {
	if u.Scheme != "https" {
		return false
	}
	r := t.route.Load()
	if r != nil && u.Host == r.instanceAddr {
		return true // an API call, the common case: one comparison, before the login host's parsing
	}
	if _, ok := t.loginTarget(u); ok {
		return true
	}
	if r == nil {
		if tok := t.tokens.Current(); tok != nil {
			r = t.routeFor(tok)
		}
	}
	if r != nil {
		_, ok := r.instanceTarget(u, t.port)
		return ok
	}
	return t.couldBeInstance(u)
}

// couldBeInstance: with no token known, whether u's host might turn out to be
// the instance, so that learning instance_url is worth a token request. Only
// the ports the instance is reached on qualify, and only hosts a token may
// name: the login host, Salesforce's domains and Config.InstanceHosts, by the
// very rule the token check applies (auth.CheckToken). This runs only while no
// token is known.
func (t *Transport) couldBeInstance(u *url.URL) bool {
	port := u.Port()
	if port != "" && port != "443" && port != t.port {
		return false
	}
	loginHost := ""
	if t.login != nil {
		loginHost = t.login.Hostname()
	}
	probe := &auth.Token{AccessToken: "probe", InstanceURL: (&url.URL{Scheme: "https", Host: u.Hostname()}).String()}
	return auth.CheckToken(probe, loginHost, t.instanceHosts) == nil
}

// loginTarget returns the login host:port when u is for the login host.
func (t *Transport) loginTarget(u *url.URL) (string, bool) {
	if t.login == nil {
		return "", false
	}
	if u.Host == t.login.Host { // the common case, without allocating
		return u.Host, true
	}
	port := u.Port()
	if strings.EqualFold(u.Hostname(), t.login.Hostname()) && (port == "" || port == "443" || port == t.login.Port()) {
		return t.login.Host, true
	}
	return "", false
}

// instanceTarget returns the instance's host:mutual TLS port when u is for it.
func (r *route) instanceTarget(u *url.URL, mtlsPort string) (string, bool) {
	if u.Host == r.instanceAddr {
		return u.Host, true
	}
	port := u.Port()
	if strings.EqualFold(u.Hostname(), r.instanceHost) && (port == "" || port == "443" || port == mtlsPort) {
		return r.instanceAddr, true
	}
	return "", false
}

// target decides whether u is one of the org's hosts and returns its host:port
// with the mutual TLS port put in.
func (t *Transport) target(u *url.URL, r *route) (string, bool) {
	if u.Scheme != "https" {
		return "", false
	}
	if hp, ok := r.instanceTarget(u, t.port); ok {
		return hp, true
	}
	return t.loginTarget(u)
}

// authorize returns a copy of req aimed at the org's mutual TLS port with the
// token and the fixed headers set, or false when req is not for the org.
//
// The copy is shallow, as Request.WithContext makes it, with a header map of its
// own: the caller's request is never changed, and the hot path allocates two
// objects instead of a deep Clone's six.
func (t *Transport) authorize(req *http.Request, tok *auth.Token) (*http.Request, bool) {
	r := t.routeFor(tok)
	hostPort, ok := t.target(req.URL, r)
	if !ok {
		return nil, false
	}
	out := new(http.Request)
	*out = *req
	if hostPort != req.URL.Host {
		u := *req.URL
		u.Host = hostPort
		out.URL = &u
		out.Host = ""
	}
	h := make(http.Header, len(req.Header)+len(t.header)+1)
	// The len checks skip starting an iterator over an empty map (most
	// Transports have no fixed headers; many requests carry none).
	if len(t.header) > 0 {
		for k, v := range t.header {
			h[k] = v // shared read-only, as the transport only reads them
		}
	}
	if len(req.Header) > 0 {
		for k, v := range req.Header {
			h[k] = v // the request's own value wins over a fixed one
		}
	}
	h["Authorization"] = r.authz
	out.Header = h
	return out, true
}

// headerTransport adds the fixed headers to the token request, which the JWT
// bearer exchange builds itself.
type headerTransport struct {
	next   http.RoundTripper
	header http.Header
}

func (h headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	out := new(http.Request)
	*out = *req
	out.Header = req.Header.Clone()
	for k, v := range h.header {
		if _, set := out.Header[k]; !set {
			out.Header[k] = v
		}
	}
	return h.next.RoundTrip(out)
}
