package keystore

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"

	"github.com/sfmtls/sfmtls/internal/certcheck"
)

// maxChain bounds chain building against loops in hostile input.
const maxChain = 10

// publicKeysEqual reports whether two public keys are the same key.
func publicKeysEqual(a, b crypto.PublicKey) bool { return certcheck.SameKey(a, b) }

// leafFor finds the certificate that carries the signer's public key, first among
// the entry's own certificates, then in the pool.
func leafFor(signer crypto.Signer, own, pool []*x509.Certificate) *x509.Certificate {
	pub := signer.Public()
	for _, list := range [][]*x509.Certificate{own, pool} {
		for _, c := range list {
			if publicKeysEqual(c.PublicKey, pub) {
				return c
			}
		}
	}
	return nil
}

// orderChain returns leaf followed by its issuers found in candidates, stopping
// before a self-signed root: the order a TLS client sends.
//
// An issuer is found by name and key identifier; a signature is checked only
// where those leave a choice (two candidates, or no key identifiers to
// compare), since a signature check costs about as much as the rest of the
// load. The order only decides what is sent: the server verifies the chain.
func orderChain(leaf *x509.Certificate, candidates []*x509.Certificate) []*x509.Certificate {
	chain := []*x509.Certificate{leaf}
	for cur := leaf; len(chain) < maxChain; {
		// Whether cur is self-signed matters only when there is an issuer to
		// add: a lone self-signed certificate (a JWT signer's) is not checked.
		next := issuerOf(cur, candidates, chain)
		if next == nil || selfSigned(cur) || selfSigned(next) {
			break
		}
		chain = append(chain, next)
		cur = next
	}
	return chain
}

// selfSigned reports a certificate that issued itself: its own subject as
// issuer and, when it names the keys, its own key as the signing key. Only
// without key identifiers is the signature checked (certcheck.SelfSigned).
func selfSigned(c *x509.Certificate) bool {
	if !bytes.Equal(c.RawIssuer, c.RawSubject) {
		return false
	}
	if len(c.AuthorityKeyId) > 0 && len(c.SubjectKeyId) > 0 {
		return bytes.Equal(c.AuthorityKeyId, c.SubjectKeyId)
	}
	return certcheck.SelfSigned(c)
}

func issuerOf(c *x509.Certificate, candidates, used []*x509.Certificate) *x509.Certificate {
	var named []*x509.Certificate
	for _, p := range candidates {
		if !bytes.Equal(p.RawSubject, c.RawIssuer) || contains(used, p) {
			continue
		}
		if len(c.AuthorityKeyId) > 0 && len(p.SubjectKeyId) > 0 && !bytes.Equal(c.AuthorityKeyId, p.SubjectKeyId) {
			continue // another key of the same name
		}
		named = append(named, p)
	}
	if len(named) == 1 && len(c.AuthorityKeyId) > 0 && len(named[0].SubjectKeyId) > 0 {
		return named[0] // the name and the key identifier agree: no other candidate
	}
	for _, p := range named {
		if err := c.CheckSignatureFrom(p); err == nil || unverifiable(err) {
			return p
		}
	}
	return nil
}

// unverifiable reports a signature check that failed only because its algorithm
// is refused here (MD5, or SHA-1 where disabled), not because it is wrong.
func unverifiable(err error) bool {
	var insecure x509.InsecureAlgorithmError
	return errors.As(err, &insecure) || errors.Is(err, x509.ErrUnsupportedAlgorithm)
}

func contains(list []*x509.Certificate, c *x509.Certificate) bool {
	for _, x := range list {
		if x.Equal(c) {
			return true
		}
	}
	return false
}
