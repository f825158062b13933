package transport

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
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

// Roots returns base (nil: the system's roots) plus extra certificates, for
// servers whose CA the system does not hold, such as a test org or a proxy.
func Roots(base *x509.CertPool, extra ...*x509.Certificate) (*x509.CertPool, error) {
	if base == nil && len(extra) == 0 {
		return nil, nil // crypto/tls uses the system roots
	}
	pool := base
	if pool == nil {
		sys, err := x509.SystemCertPool()
		if err != nil {
			return nil, fmt.Errorf("transport: system roots: %w", err)
		}
		pool = sys
	} else {
		pool = pool.Clone()
	}
	for _, c := range extra {
		pool.AddCert(c)
	}
	return pool, nil
}
