package transport

import (
	"crypto/tls"
	"crypto/x509"
	"time"

	"github.com/sfmtls/sfmtls/keystore"
)

// NewTLSConfig returns a client tls.Config for Salesforce mutual TLS: TLS 1.2 or
// later, the given roots (nil: the system's), and the client certificate that
// current returns at each handshake, with its intermediates. The certificate is
// offered through GetClientCertificate because Salesforce's certificate request
// names no acceptable CAs; rotating it only needs current to return another one.
// A nil current gives a config that presents no certificate, even when asked.
func NewTLSConfig(current func() *keystore.Identity, roots *x509.CertPool) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}
	if current == nil {
		return cfg
	}
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		id := current()
		if err := id.CheckValidity(time.Now()); err != nil {
			// Refusing here names the cause; the server would only say "bad
			// certificate". The error is final: no retry presents another one.
			return nil, &ClientCertificateError{Err: err, leaf: id.Leaf()}
		}
		c := id.TLSCertificate()
		return &c, nil
	}
	return cfg
}
