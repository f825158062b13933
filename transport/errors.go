package transport

import (
	"crypto/x509"
	"fmt"
	"net/url"
)

// The Transport's errors. Each says what went wrong; Fix says how to mend it.

// SessionExpiredError: Salesforce rejected the session and the request's body
// cannot be sent again (it has no GetBody), or the new token names another
// instance. The token was refreshed: calling again gets the new one.
type SessionExpiredError struct {
	Method, URL string
}

func (e *SessionExpiredError) Error() string {
	return fmt.Sprintf("transport: %s %s: session expired and the request cannot be replayed", e.Method, e.URL)
}

// Fix says what to do about it.
func (e *SessionExpiredError) Fix() string {
	return "the token was refreshed, retry the call (build requests with a GetBody, as http.NewRequest does for bytes and strings readers)"
}

// MaybeProcessedError: a request that is not idempotent failed after it may
// have reached Salesforce (the connection broke before an answer came), so it
// was not sent again. Salesforce may or may not have processed it.
type MaybeProcessedError struct {
	Method, URL string
	Err         error
}

func (e *MaybeProcessedError) Error() string {
	return fmt.Sprintf("transport: %s %s: %v; not sent again", e.Method, e.URL, e.Err)
}

// Fix says what to do about it.
func (e *MaybeProcessedError) Fix() string {
	return "the connection failed after the request was sent, so Salesforce may have processed it; " +
		"check (query by an external ID, say) before sending it again, or use an upsert, which is safe to repeat"
}

func (e *MaybeProcessedError) Unwrap() error { return e.Err }

// ClientCertificateError: the Transport refused to present its client
// certificate at a handshake, because it is outside its validity period. No
// retry helps; rotate the certificate (SetMTLSIdentity, Reloader).
type ClientCertificateError struct {
	Err  error
	leaf *x509.Certificate
}

func (e *ClientCertificateError) Error() string {
	return fmt.Sprintf("transport: client certificate not presented: %v", e.Err)
}

// Fix says what to do about it.
func (e *ClientCertificateError) Fix() string {
	return "renew the Mutual Authentication Certificate, upload it, and rotate it in (SetMTLSIdentity or a Reloader)"
}

// Unwrap gives the validity error and the x509.CertificateInvalidError it
// amounts to, so that the one classifier of failures (internal/retry), for
// API calls and the token request alike, treats it as final.
func (e *ClientCertificateError) Unwrap() []error {
	return []error{e.Err, x509.CertificateInvalidError{Cert: e.leaf, Reason: x509.Expired, Detail: e.Err.Error()}}
}

// UsageCapError: the Transport refused a call locally because the org's (or
// the app's) API usage passed Config.UsageCap. Nothing was sent.
type UsageCapError struct {
	Scope string // "org" or "app"
	Usage Usage
	Cap   float64
}

func (e *UsageCapError) Error() string {
	return fmt.Sprintf("transport: call refused locally: the %s's API usage is %d of %d (%.0f%%), past the cap of %.0f%%",
		e.Scope, e.Usage.Used, e.Usage.Max, 100*e.Usage.Fraction(), 100*e.Cap)
}

// Fix says what to do about it.
func (e *UsageCapError) Fix() string {
	return "usage is counted over the last 24 hours and falls again; calls resume by themselves once it is under the cap " +
		"(raise Config.UsageCap, or the org's allocation, to allow more)"
}

// redactedURL drops the query, which may carry record data, and any user
// information.
func redactedURL(u *url.URL) string {
	c := *u
	c.RawQuery = ""
	c.User = nil
	return c.String()
}
