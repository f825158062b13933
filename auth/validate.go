package auth

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ErrInvalidToken marks a token answer the SDK cannot use: errors.Is(err,
// ErrInvalidToken) holds for every *InvalidTokenError.
var ErrInvalidToken = errors.New("auth: unusable token answer")

// InvalidTokenError is a token answer refused before it was cached or used: an
// access token that is not a valid header value, or an instance URL that is
// not an absolute https URL on the login host or a Salesforce domain. It never
// holds the access token.
type InvalidTokenError struct {
	Field  string // "access_token" or "instance_url"
	Reason string // what is wrong, without the token
	Fix    string // what to do about it
}

func (e *InvalidTokenError) Error() string {
	msg := fmt.Sprintf("auth: the token answer's %s is unusable: %s", e.Field, e.Reason)
	if e.Fix != "" {
		msg += ": " + e.Fix
	}
	return msg
}

// Is makes errors.Is(err, ErrInvalidToken) hold.
func (e *InvalidTokenError) Is(target error) bool { return target == ErrInvalidToken }

// salesforceDomains are the registrable domains under which Salesforce serves
// My Domain login and instance URLs, per Salesforce Help "My Domain URL
// Formats" and "Allow the Required Domains": my.salesforce.com (with its
// sandbox., develop., scratch. … partitions) and the legacy instance hosts
// under salesforce.com; lightning.force.com and the other force.com hosts;
// cloudforce.com (legacy My Domain). salesforce.mil (Government Cloud Plus –
// Defense) and sfcrmproducts.cn (Salesforce operated by Alibaba in China) are
// the sovereign variants; the docs reachable while writing this did not list
// their formats in full, so a private or unlisted setup adds its hosts with
// extraHosts.
var salesforceDomains = [...]string{
	"salesforce.com",
	"force.com",
	"cloudforce.com",
	"salesforce.mil",
	"sfcrmproducts.cn",
}

// SalesforceDomains returns the domains CheckToken accepts an instance host
// under (the host itself or any subdomain of one of them).
func SalesforceDomains() []string { return append([]string(nil), salesforceDomains[:]...) }

// CheckToken reports whether the transport can use tok: the access token must
// be a valid HTTP header value (RFC 6750 token68 characters, no CR, LF, space
// or control bytes) and the instance URL an absolute https URL with a host that
// is the login host, a Salesforce domain (SalesforceDomains), or one of
// extraHosts. An extra host is matched exactly, or as a suffix when written
// ".example.com" or "*.example.com". loginHost may be a host name or the login
// URL. The error is an *InvalidTokenError.
func CheckToken(tok *Token, loginHost string, extraHosts []string) error {
	if tok == nil {
		return &InvalidTokenError{Field: "access_token", Reason: "no token", Fix: "the token source returned neither a token nor an error"}
	}
	if err := checkAccessToken(string(tok.AccessToken)); err != nil {
		return err
	}
	host, err := instanceHost(tok.InstanceURL)
	if err != nil {
		return err
	}
	if !hostAllowed(host, hostOnly(loginHost), extraHosts) {
		return &InvalidTokenError{Field: "instance_url", Reason: fmt.Sprintf("host %q is neither the login host nor a Salesforce domain", host),
			Fix: "if this org really lives there (a private or test setup), add the host to the allowed extra hosts; otherwise check the login URL points at Salesforce"}
	}
	return nil
}

// TokenChecker returns CheckToken bound to a login URL and extra hosts, for
// CacheOptions.Check.
func TokenChecker(loginURL string, extraHosts []string) func(*Token) error {
	login := hostOnly(loginURL)
	extra := append([]string(nil), extraHosts...)
	return func(tok *Token) error { return CheckToken(tok, login, extra) }
}

func checkAccessToken(s string) error {
	if s == "" {
		return &InvalidTokenError{Field: "access_token", Reason: "empty", Fix: "the token endpoint answered without a token; check the login URL"}
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e {
			// Say where and what class of byte, never the token itself.
			return &InvalidTokenError{Field: "access_token", Reason: fmt.Sprintf("byte %d is %s, which cannot go in an Authorization header", i, byteClass(c)),
				Fix: "the answer did not come from Salesforce's token endpoint as expected; check the login URL and any proxy in between"}
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
		return &InvalidTokenError{Field: "instance_url", Reason: reason,
			Fix: "Salesforce answers with an absolute URL such as https://acme.my.salesforce.com; check the login URL and any proxy in between"}
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

func hostAllowed(host, login string, extra []string) bool {
	if login != "" && host == login {
		return true
	}
	for _, d := range salesforceDomains {
		if underDomain(host, d) {
			return true
		}
	}
	for _, e := range extra {
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

// underDomain: host is domain or a subdomain of it, label-aligned.
func underDomain(host, domain string) bool {
	return host == domain || strings.HasSuffix(host, "."+domain)
}
