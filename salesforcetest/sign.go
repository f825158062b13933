package salesforcetest

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// SignCSR plays the CA for a certificate signing request: it issues a
// certificate for the request's key and subject under the client intermediate
// CA (so the org trusts it once registered), valid from an hour ago for a year,
// carrying the extensions the request asks for (extended key usage, key usage,
// subjectAltName), as a CA honouring a clientAuth-only request does. The chain
// to send with it is ClientInterCA; ClientRootCA is its root.
func (p *PKI) SignCSR(csrPEM []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(csrPEM)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("salesforcetest: SignCSR wants a PEM CERTIFICATE REQUEST")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("salesforcetest: SignCSR: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("salesforcetest: SignCSR: the request's signature: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               csr.Subject,
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(365 * 24 * time.Hour),
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtraExtensions:       csr.Extensions, // the requested ones replace the defaults with the same OID
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ClientInterCA, csr.PublicKey, p.clientInterKey)
	if err != nil {
		return nil, fmt.Errorf("salesforcetest: SignCSR: %w", err)
	}
	return x509.ParseCertificate(der)
}
