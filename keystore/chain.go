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
func publicKeysEqual(a, b crypto.PublicKey) bool {
	ak, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ak.Equal(b)
}

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

// orderChain returns leaf followed by the issuers found in candidates, each verified
// by signature, stopping before a self-signed root: the order a TLS client sends.
func orderChain(leaf *x509.Certificate, candidates []*x509.Certificate) []*x509.Certificate {
	chain := []*x509.Certificate{leaf}
	for cur := leaf; len(chain) < maxChain && !certcheck.SelfSigned(cur); {
		next := issuerOf(cur, candidates, chain)
		if next == nil || certcheck.SelfSigned(next) {
			break
		}
		chain = append(chain, next)
		cur = next
	}
	return chain
}

func issuerOf(c *x509.Certificate, candidates, used []*x509.Certificate) *x509.Certificate {
	for _, p := range candidates {
		if !bytes.Equal(p.RawSubject, c.RawIssuer) || contains(used, p) {
			continue
		}
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
