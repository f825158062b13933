package keystore

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"
)

// Identity is a private key with its certificate chain, as loaded from a keystore.
// It prints (fmt, log/slog) as a summary that never includes the key.
type Identity struct {
	signer crypto.Signer
	chain  []*x509.Certificate
	alias  string
	format Format
}

func newIdentity(signer crypto.Signer, chain []*x509.Certificate, alias string, format Format) *Identity {
	return &Identity{signer: signer, chain: chain, alias: alias, format: format}
}

// NewIdentity builds an Identity from a key and its chain (leaf first), for keys
// that come from elsewhere, such as an HSM's crypto.Signer. It checks that the key
// belongs to the leaf.
func NewIdentity(signer crypto.Signer, chain []*x509.Certificate) (*Identity, error) {
	if signer == nil || len(chain) == 0 || chain[0] == nil {
		return nil, &Error{Kind: ErrNoPrivateKey, Detail: "a key and at least one certificate are needed"}
	}
	if !publicKeysEqual(chain[0].PublicKey, signer.Public()) {
		return nil, &Error{Kind: ErrKeyMismatch, Detail: fmt.Sprintf("the key does not belong to %q", chain[0].Subject.String())}
	}
	return newIdentity(signer, slices.Clone(chain), "", FormatUnknown), nil
}

// Signer returns the private key.
func (id *Identity) Signer() crypto.Signer { return id.signer }

// Leaf returns the identity's own certificate.
func (id *Identity) Leaf() *x509.Certificate { return id.chain[0] }

// Chain returns the leaf followed by its intermediates, in the order they are sent
// in a TLS handshake. A self-signed root is left out: the server has its own copy.
func (id *Identity) Chain() []*x509.Certificate { return slices.Clone(id.chain) }

// Alias returns the alias of the entry the identity came from ("" for PEM).
func (id *Identity) Alias() string { return id.alias }

// SourceFormat returns the format of the keystore the identity came from.
func (id *Identity) SourceFormat() Format { return id.format }

// TLSCertificate returns the identity as a tls.Certificate with its intermediates.
func (id *Identity) TLSCertificate() tls.Certificate {
	// Built at each call, each with its own list, as a copy kept in the
	// Identity would have to be: most identities (a JWT signer's) never
	// make a handshake.
	if len(id.chain) == 0 {
		return tls.Certificate{} // an Identity not made by this package
	}
	raw := make([][]byte, len(id.chain))
	for i, c := range id.chain {
		raw[i] = c.Raw
	}
	return tls.Certificate{Certificate: raw, PrivateKey: id.signer, Leaf: id.chain[0]}
}

// CheckValidity returns an error matching ErrExpired when the leaf or an
// intermediate is outside its validity period at t.
func (id *Identity) CheckValidity(t time.Time) error {
	for _, c := range id.chain {
		if t.Before(c.NotBefore) {
			return &Error{Kind: ErrExpired, Alias: id.alias, Detail: fmt.Sprintf("%q is not valid before %s", c.Subject.String(), c.NotBefore.UTC().Format(time.RFC3339)),
				fix: "check the machine's clock"}
		}
		if t.After(c.NotAfter) {
			return &Error{Kind: ErrExpired, Alias: id.alias, Detail: fmt.Sprintf("%q expired at %s", c.Subject.String(), c.NotAfter.UTC().Format(time.RFC3339)),
				fix: "renew the certificate and upload the new one to Salesforce"}
		}
	}
	return nil
}

// String summarises the identity without its key.
func (id *Identity) String() string {
	if id == nil {
		return "keystore.Identity(nil)"
	}
	return fmt.Sprintf("keystore.Identity{alias=%q format=%s subject=%q issuer=%q not_after=%s chain=%d}",
		id.alias, id.format, id.Leaf().Subject.String(), id.Leaf().Issuer.String(),
		id.Leaf().NotAfter.UTC().Format(time.RFC3339), len(id.chain))
}

// Format prints the summary of String for every verb, so %v, %+v and %#v never
// reach the key.
func (id *Identity) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, id.String()) }

// LogValue logs the summary, never the key.
func (id *Identity) LogValue() slog.Value { return slog.StringValue(id.String()) }
