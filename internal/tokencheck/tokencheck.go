// Package tokencheck vets a token answer before the SDK caches or uses it: the
// access token must be a valid header value, and the instance URL an absolute
// https URL on a host a token may name. The transport enforces that rule
// twice with it: on every token (Checker, for tokencache.Options.Check) and,
// while no token is known, on the host of a request that might be for the
// instance (HostAllowed).
package tokencheck

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/sfmtls/sfmtls/auth"
)

// domains are the registrable domains under which Salesforce serves My Domain
// login and instance URLs, per Salesforce Help "My Domain URL Formats" and
// "Allow the Required Domains": my.salesforce.com (with its sandbox., develop.,
// scratch. … partitions) and the legacy instance hosts under salesforce.com;
// lightning.force.com and the other force.com hosts; cloudforce.com (legacy My
// Domain). salesforce.mil (Government Cloud Plus – Defense) and
// sfcrmproducts.cn (Salesforce operated by Alibaba in China) are the sovereign
// variants; the docs reachable while writing this did not list their formats
// in full, so a private or unlisted setup adds its hosts with extraHosts
// (Config.InstanceHosts).
var domains = [...]string{
	"salesforce.com",
	"force.com",
	"cloudforce.com",
	"salesforce.mil",
	"sfcrmproducts.cn",
}

// Domains returns the domains a token's instance host may be under (the host
// itself or any subdomain of one of them).
func Domains() []string { return append([]string(nil), domains[:]...) }

// Check reports whether tok can be used: the access token must be a valid HTTP
// header value (RFC 6750 token68 characters, no CR, LF, space or control
// bytes) and the instance URL an absolute https URL whose host HostAllowed
// accepts. loginHost may be a host name or the login URL. The error is an
// *auth.InvalidTokenError, which never holds the token.
func Check(tok *auth.Token, loginHost string, extraHosts []string) error {
	if tok == nil {
		return NoToken()
	}
	if err := checkAccessToken(string(tok.AccessToken)); err != nil {
		return err
	}
	host, err := instanceHost(tok.InstanceURL)
	if err != nil {
		return err
	}
	if !HostAllowed(host, loginHost, extraHosts) {
		return &auth.InvalidTokenError{Field: "instance_url", Reason: fmt.Sprintf("host %q is neither the login host nor a Salesforce domain", host),
			Remedy: "if this org really lives there (a private or test setup), add the host to Config.InstanceHosts; otherwise check the login URL points at Salesforce"}
	}
	return nil
}

// NoToken is the error for a token source that returned neither a token nor
// an error.
func NoToken() error {
	return &auth.InvalidTokenError{Field: "access_token", Reason: "no token",
		Remedy: "the token source returned neither a token nor an error: fix the TokenSource"}
}

// Checker returns Check bound to a login URL and extra hosts, for
// tokencache.Options.Check.
func Checker(loginURL string, extraHosts []string) func(*auth.Token) error {
	login := hostOnly(loginURL)
	extra := append([]string(nil), extraHosts...)
	return func(tok *auth.Token) error { return Check(tok, login, extra) }
}

// HostAllowed reports whether a token may name host (lower case) as its
// instance: the login host (a host name or the login URL), a host under one
// of Salesforce's Domains, or one of extraHosts. An extra host is matched
// exactly, or as a suffix when written ".example.com" or "*.example.com".
func HostAllowed(host, loginHost string, extraHosts []string) bool {
	if login := hostOnly(loginHost); login != "" && host == login {
		return true
	}
	for _, d := range domains {
		if underDomain(host, d) {
			return true
		}
	}
	for _, e := range extraHosts {
		e = strings.ToLower(strings.TrimSpace(e))
		switch {
		case strings.HasPrefix(e, "*."):
			if underDomain(host, e[2:]) && host != e[2:] {
				return true
			}
		case strings.HasPrefix(e, "."):
			if underDomain(host, e[1:]) && host != e[1:] {
				return true
			}
		case e != "" && hostOnly(e) == host:
			return true
		}
	}
	return false
}

func checkAccessToken(s string) error {
	if s == "" {
		return &auth.InvalidTokenError{Field: "access_token", Reason: "empty", Remedy: "the token endpoint answered without a token; check the login URL"}
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e {
			// Say where and what class of byte, never the token itself.
			return &auth.InvalidTokenError{Field: "access_token", Reason: fmt.Sprintf("byte %d is %s, which cannot go in an Authorization header", i, byteClass(c)),
				Remedy: "the answer did not come from Salesforce's token endpoint as expected; check the login URL and any proxy in between"}
		}
	}
	return nil
}

func byteClass(c byte) string {
	switch {
	case c == '\r':
		return "a carriage return"
	case c == '\n':
		return "a line feed"
	case c == ' ':
		return "a space"
	case c < 0x20 || c == 0x7f:
		return "a control character"
	default:
		return "not printable ASCII"
	}
}

func instanceHost(raw string) (string, error) {
	bad := func(reason string) error {
		return &auth.InvalidTokenError{Field: "instance_url", Reason: reason,
			Remedy: "Salesforce answers with an absolute URL such as https://acme.my.salesforce.com; check the login URL and any proxy in between"}
	}
	if raw == "" {
		return "", bad("empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", bad(fmt.Sprintf("%q is not a URL", raw))
	}
	if u.Scheme != "https" {
		return "", bad(fmt.Sprintf("%q is not an absolute https URL", raw))
	}
	if u.User != nil {
		return "", bad("it carries user information")
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return "", bad(fmt.Sprintf("%q has no host", raw))
	}
	return host, nil
}

// hostOnly accepts a URL or a bare host (with or without port) and returns the
// lower-case host name.
func hostOnly(s string) string {
	if strings.Contains(s, "://") {
		if u, err := url.Parse(s); err == nil {
			return strings.ToLower(u.Hostname())
		}
		return ""
	}
	if h, _, err := net.SplitHostPort(s); err == nil {
		return strings.ToLower(h)
	}
	return strings.ToLower(strings.Trim(s, "[]"))
}

// underDomain: host is domain or a subdomain of it, label-aligned.
func underDomain(host, domain string) bool {
	return host == domain || strings.HasSuffix(host, "."+domain)
}
