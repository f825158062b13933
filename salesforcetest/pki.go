package salesforcetest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"time"

	"github.com/sfmtls/sfmtls/keystore"
)

// certSpec describes a certificate to issue.
type certSpec struct {
	cn        string
	ca        bool
	clientEKU bool
	serverEKU bool
	hosts     []string
	notBefore time.Time
	notAfter  time.Time
}

// issue creates a certificate for key, signed by parent (self-signed when parent is nil).
func issue(spec certSpec, key crypto.Signer, parent *x509.Certificate, parentKey crypto.Signer) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, err
	}
	if spec.notBefore.IsZero() {
		spec.notBefore = time.Now().Add(-time.Hour)
	}
	if spec.notAfter.IsZero() {
		spec.notAfter = time.Now().Add(365 * 24 * time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"sfmtls fake org"}, CommonName: spec.cn},
		NotBefore:             spec.notBefore,
		NotAfter:              spec.notAfter,
		BasicConstraintsValid: true,
		IsCA:                  spec.ca,
		KeyUsage:              x509.KeyUsageDigitalSignature,
	}
	if spec.ca {
		tmpl.KeyUsage |= x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	}
	if spec.clientEKU {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
	}
	if spec.serverEKU {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
	}
	for _, h := range spec.hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

func newECKey() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }

func newRSAKey() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 2048) }

// PKI is a certificate hierarchy for tests: a CA behind the server's certificate,
// a client root and intermediate CA behind the client certificate, and the
// certificates an org registers.
type PKI struct {
	ServerCA       *x509.Certificate  // trust this to reach the fake org
	ClientRootCA   *x509.Certificate  // the org trusts client certificates under it
	ClientInterCA  *x509.Certificate  // sent by clients in the handshake
	ClientIdentity *keystore.Identity // CA-signed client certificate, for mutual TLS
	JWTIdentity    *keystore.Identity // self-signed RSA certificate, for the JWT
	serverCAKey    crypto.Signer
	clientInterKey crypto.Signer
}

// NewPKI generates a fresh hierarchy. Keys are ECDSA P-256 for speed, but the JWT
// key, which RS256 requires to be RSA.
func NewPKI() (*PKI, error) {
	p := &PKI{}
	var err error
	if p.serverCAKey, err = newECKey(); err != nil {
		return nil, err
	}
	if p.ServerCA, err = issue(certSpec{cn: "sfmtls fake org server CA", ca: true}, p.serverCAKey, nil, nil); err != nil {
		return nil, err
	}
	rootKey, err := newECKey()
	if err != nil {
		return nil, err
	}
	if p.ClientRootCA, err = issue(certSpec{cn: "sfmtls fake org client root CA", ca: true}, rootKey, nil, nil); err != nil {
		return nil, err
	}
	if p.clientInterKey, err = newECKey(); err != nil {
		return nil, err
	}
	if p.ClientInterCA, err = issue(certSpec{cn: "sfmtls fake org client intermediate CA", ca: true}, p.clientInterKey, p.ClientRootCA, rootKey); err != nil {
		return nil, err
	}
	if p.ClientIdentity, err = p.NewClientIdentity("integration.user@example.com", time.Time{}, time.Time{}); err != nil {
		return nil, err
	}
	jwtKey, err := newRSAKey()
	if err != nil {
		return nil, err
	}
	jwtCert, err := issue(certSpec{cn: "sfmtls fake org JWT signer"}, jwtKey, nil, nil)
	if err != nil {
		return nil, err
	}
	if p.JWTIdentity, err = keystore.NewIdentity(jwtKey, []*x509.Certificate{jwtCert}); err != nil {
		return nil, err
	}
	return p, nil
}

// NewClientIdentity issues another client certificate under the client
// intermediate CA; zero times mean valid from an hour ago for a year.
func (p *PKI) NewClientIdentity(cn string, notBefore, notAfter time.Time) (*keystore.Identity, error) {
	return p.clientIdentity(newECKey, certSpec{cn: cn, clientEKU: true, notBefore: notBefore, notAfter: notAfter})
}

// clientIdentity issues spec for a new key under the client intermediate CA.
func (p *PKI) clientIdentity(newKey func() (crypto.Signer, error), spec certSpec) (*keystore.Identity, error) {
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	cert, err := issue(spec, key, p.ClientInterCA, p.clientInterKey)
	if err != nil {
		return nil, err
	}
	return keystore.NewIdentity(key, []*x509.Certificate{cert, p.ClientInterCA})
}

// NewRSAClientIdentity issues an RSA client certificate under the client
// intermediate CA: one identity that can serve both mutual TLS and the JWT.
func (p *PKI) NewRSAClientIdentity(cn string) (*keystore.Identity, error) {
	return p.clientIdentity(newRSAKey, certSpec{cn: cn, clientEKU: true})
}

// NewJWTIdentity makes another self-signed RSA signing identity.
func (p *PKI) NewJWTIdentity(cn string) (*keystore.Identity, error) {
	key, err := newRSAKey()
	if err != nil {
		return nil, err
	}
	cert, err := issue(certSpec{cn: cn}, key, nil, nil)
	if err != nil {
		return nil, err
	}
	return keystore.NewIdentity(key, []*x509.Certificate{cert})
}

// serverCertificate issues the org's TLS certificate for the given hosts.
func (p *PKI) serverCertificate(hosts ...string) (*x509.Certificate, crypto.Signer, error) {
	key, err := newECKey()
	if err != nil {
		return nil, nil, err
	}
	cert, err := issue(certSpec{cn: hosts[0], serverEKU: true, hosts: hosts}, key, p.ServerCA, p.serverCAKey)
	return cert, key, err
}

// ServerTLSCertificate issues a server certificate under the org's server CA, for
// another loopback server that clients of the org will trust (a redirect target).
func (p *PKI) ServerTLSCertificate(hosts ...string) (tls.Certificate, error) {
	cert, key, err := p.serverCertificate(hosts...)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}, nil
}
