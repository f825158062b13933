package diag

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/keystore"
)

// Explanation says why an error happened and what to change. Fix names the
// setting to change: the Config field, and in brackets the sfmtls tool's
// variable for it.
type Explanation struct {
	Cause string `json:"cause"`
	Fix   string `json:"fix,omitempty"`
}

// Fixes that several causes share.
const (
	fixRefusedCertificate = "the server refused the client certificate: it must be signed by a CA Salesforce trusts (not self-signed), " +
		"be uploaded as Mutual Authentication Certificate, and its keystore (MTLS, SF_MTLS_KEYSTORE) must hold the intermediates " +
		"(sfmtls inspect shows the chain)"
	fixUntrustedServer = "the server's certificate is not trusted here: add its CA to RootCAs (SF_CA_FILE); " +
		"a TLS-inspecting proxy needs its own CA there"
	fixLoginURL     = "the login URL (LoginURL, SF_LOGIN_URL) must be the org's My Domain URL as Setup → My Domain shows it, e.g. https://acme.my.salesforce.com"
	fixUnreachable  = "the mutual TLS port is not reachable: Salesforce serves it on 8443 (Port, SF_MTLS_PORT); allow outbound 8443 through firewalls and proxies"
	fixNotSent      = "the client certificate did not reach Salesforce: a proxy that inspects TLS re-encrypts without it; exempt the My Domain host on port 8443 from TLS inspection (tunnel it), and check the mTLS keystore (MTLS, SF_MTLS_KEYSTORE) holds the private key with its certificate"
	fixNoLoginURL   = "set LoginURL (SF_LOGIN_URL) to the My Domain URL, or make the TokenSource return a token: its instance URL is the only other host to probe"
	fixUnavailable  = "Salesforce is unavailable or limiting requests: try again later; status.salesforce.com shows incidents"
	fixServerExpiry = "the server's certificate is outside its validity period: check this machine's clock (NTP), or the proxy presenting that certificate"
)

// Fixer is an error that knows how to mend itself: Fix returns the remedy,
// naming the setting to change. Every error type of this SDK that has a remedy
// implements it, and Explain consults it before its own classification.
type Fixer interface {
	error
	Fix() string
}

// Explain classifies err, from any package of this SDK or from the network
// below it, into a cause and a fix. The fix is the first Fixer's in err's
// chain when it has one; else Explain's own for the cause. Errors it does not
// know get their own text as the cause and no fix.
func Explain(err error) Explanation {
	if err == nil {
		return Explanation{}
	}
	e, ok := explainKnown(err)
	if !ok {
		e, ok = explainTLS(err)
	}
	if !ok {
		e, ok = explainNetwork(err)
	}
	if !ok {
		e = Explanation{Cause: err.Error()}
	}
	var f Fixer
	if errors.As(err, &f) {
		if fix := f.Fix(); fix != "" {
			e.Fix = fix
		}
	}
	return e
}

// explainKnown covers this SDK's own typed errors.
func explainKnown(err error) (Explanation, bool) {
	var kerr *keystore.Error
	var oe *auth.OAuthError
	var re *auth.ResponseError
	var ae *client.APIError
	var ce *client.ConfigError
	switch {
	case errors.Is(err, ErrCertificateNotSent):
		return Explanation{Cause: "Salesforce says no client certificate was provided: the certificate was not sent to it", Fix: fixNotSent}, true
	case errors.Is(err, ErrRefusedAfterHandshake):
		return Explanation{Cause: "the server dropped the connection after the TLS 1.3 handshake, its way of refusing a client certificate", Fix: fixRefusedCertificate}, true
	case errors.Is(err, ErrNoLoginURL):
		return Explanation{Cause: ErrNoLoginURL.Error(), Fix: fixNoLoginURL}, true
	case errors.As(err, &ce):
		// A keystore that cannot be read is explained as the keystore error it wraps.
		if errors.As(ce.Err, &kerr) {
			return explainKeystore(kerr), true
		}
		return Explanation{Cause: err.Error()}, true
	case errors.As(err, &kerr):
		return explainKeystore(kerr), true
	case errors.As(err, &oe):
		return Explanation{Cause: fmt.Sprintf("Salesforce refused the token request (%d %s: %s)", oe.StatusCode, oe.Code, oe.Description),
			Fix: oauthFix(oe)}, true
	case errors.As(err, &re):
		fix := re.Fix()
		if re.StatusCode == http.StatusTooManyRequests || re.StatusCode >= 500 {
			fix = fixUnavailable
		}
		return Explanation{Cause: fmt.Sprintf("the token endpoint answered %d %s with %q, not Salesforce's OAuth JSON",
			re.StatusCode, http.StatusText(re.StatusCode), re.ContentType), Fix: fix}, true
	case errors.As(err, &ae):
		return explainAPI(ae), true
	}
	return Explanation{}, false
}

func explainKeystore(kerr *keystore.Error) Explanation {
	cause := kerr.Kind.Error()
	if kerr.Detail != "" {
		cause += ": " + kerr.Detail
	}
	fix := kerr.Fix()
	if fix == "" {
		switch {
		case errors.Is(kerr, keystore.ErrUnreadable):
			fix = "check the keystore's path and that this user may read it"
		case errors.Is(kerr, keystore.ErrExpired):
			fix = "renew the certificate, upload the new one to Salesforce, and replace the keystore"
		default:
			fix = "check the keystore with sfmtls inspect"
		}
	}
	return Explanation{Cause: cause, Fix: fix}
}

// oauthFix is the fix the token refusal carries, or one from its status.
func oauthFix(oe *auth.OAuthError) string {
	if fix := oe.Fix(); fix != "" {
		return fix
	}
	if oe.StatusCode == http.StatusTooManyRequests || oe.StatusCode >= 500 {
		return fixUnavailable
	}
	return "check the app's consumer key (ConsumerKey, SF_CONSUMER_KEY), the user (Username, SF_USERNAME) and the app's OAuth policies"
}

func explainAPI(ae *client.APIError) Explanation {
	codes := make([]string, 0, len(ae.Errors))
	for _, e := range ae.Errors {
		codes = append(codes, e.ErrorCode)
	}
	cause := fmt.Sprintf("Salesforce answered %s %s with %d %s", ae.Method, ae.Path, ae.StatusCode, http.StatusText(ae.StatusCode))
	if len(codes) > 0 {
		cause += " (" + strings.Join(codes, ", ") + ")"
	}
	fix := ae.Fix()
	switch {
	case fix != "":
	case ae.StatusCode == http.StatusNotFound:
		fix = "the API version (APIVersion, SF_API_VERSION) or the path does not exist in this org"
	case ae.StatusCode == http.StatusTooManyRequests || ae.StatusCode >= 500:
		fix = fixUnavailable
	}
	return Explanation{Cause: cause, Fix: fix}
}

// explainTLS covers handshake failures, on either side.
func explainTLS(err error) (Explanation, bool) {
	if code, ok := remoteAlert(err); ok {
		switch code {
		case alertProtocolVersion:
			return Explanation{Cause: "the server and this client share no TLS version",
				Fix: "Salesforce needs TLS 1.2 or later on both sides: check that no proxy in between limits the version"}, true
		case alertCertificateExpired:
			return Explanation{Cause: "the server refused the client certificate as expired",
				Fix: "renew the client certificate, upload it as Mutual Authentication Certificate, and replace the keystore (MTLS, SF_MTLS_KEYSTORE)"}, true
		case alertCertificateRevoked:
			return Explanation{Cause: "the server refused the client certificate as revoked",
				Fix: "get a new client certificate from the CA, upload it as Mutual Authentication Certificate, and replace the keystore (MTLS, SF_MTLS_KEYSTORE)"}, true
		case alertHandshakeFailure, alertBadCertificate, alertUnsupportedCertificate, alertCertificateUnknown,
			alertUnknownCA, alertAccessDenied, alertCertificateRequired:
			return Explanation{Cause: fmt.Sprintf("the server refused the client certificate (TLS alert %d: %v)", code, errors.Unwrap(asOpError(err))),
				Fix: fixRefusedCertificate}, true
		}
		return Explanation{Cause: fmt.Sprintf("the server ended the handshake (TLS alert %d)", code), Fix: fixRefusedCertificate}, true
	}
	var host x509.HostnameError
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	var header tls.RecordHeaderError
	switch {
	case errors.As(err, &host):
		return Explanation{Cause: "the server's certificate is for another name than " + host.Host, Fix: fixLoginURL}, true
	case errors.As(err, &unknown):
		return Explanation{Cause: "the server's certificate is signed by an authority this machine does not trust", Fix: fixUntrustedServer}, true
	case errors.As(err, &invalid):
		if invalid.Reason == x509.Expired {
			return Explanation{Cause: "the server's certificate is expired or not yet valid", Fix: fixServerExpiry}, true
		}
		return Explanation{Cause: "the server's certificate is not valid here: " + invalid.Error(), Fix: fixUntrustedServer}, true
	case errors.As(err, &verify):
		return Explanation{Cause: "the server's certificate could not be verified", Fix: fixUntrustedServer}, true
	case errors.As(err, &header):
		return Explanation{Cause: "the server did not answer in TLS on this port", Fix: fixLoginURL + "; the port (Port, SF_MTLS_PORT) must be the mutual TLS port, 8443"}, true
	}
	return Explanation{}, false
}

func asOpError(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return op
	}
	return err
}

// explainNetwork covers failures to reach the server or to hear its answer.
func explainNetwork(err error) (Explanation, bool) {
	var dns *net.DNSError
	var ne *auth.NetworkError
	var pathErr *fs.PathError
	var netErr net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return Explanation{Cause: "cancelled before it finished"}, true
	case errors.As(err, &dns):
		return Explanation{Cause: "the host name " + dns.Name + " cannot be resolved", Fix: fixLoginURL}, true
	case errors.Is(err, syscall.ECONNREFUSED):
		return Explanation{Cause: "the connection was refused", Fix: fixUnreachable}, true
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return Explanation{Cause: "no answer in time", Fix: fixUnreachable}, true
	case errors.As(err, &ne) && ne.Fix() != "":
		// The connection ended without an answer or an alert: under TLS 1.3 a
		// refused certificate looks so.
		return Explanation{Cause: "the server closed the connection without answering", Fix: ne.Fix()}, true
	case errors.As(err, &pathErr):
		return Explanation{Cause: "cannot read " + pathErr.Path + ": " + pathErr.Err.Error(), Fix: "check the path and that this user may read it"}, true
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return Explanation{Cause: "the network failed: " + op.Err.Error(), Fix: fixUnreachable}, true
	}
	return Explanation{}, false
}
