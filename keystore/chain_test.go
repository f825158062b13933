package keystore

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOrderChainByKeyIdentifier: issuers are found by name and key identifier.
// A CA that renewed its key has two certificates of one name: the leaf's
// issuer is the one whose subject key identifier its authority key identifier
// names, and the cross certificate (the new key under the old name, signed by
// the old key) is no root, though it names itself as issuer.
func TestOrderChainByKeyIdentifier(t *testing.T) {
	root := newCert(t, "Root", "Root", []byte{1}, []byte{1}, nil, nil, true)
	oldCA := newCert(t, "CA", "Root", []byte{2}, []byte{1}, root, nil, true)
	newCA := newCert(t, "CA", "Root", []byte{3}, []byte{1}, root, nil, true)
	cross := newCert(t, "CA", "CA", []byte{3}, []byte{2}, oldCA, newCA.key, true)
	leaf := newCert(t, "leaf", "CA", []byte{4}, []byte{3}, newCA, nil, false)

	got := orderChain(leaf.cert, []*x509.Certificate{oldCA.cert, newCA.cert, root.cert})
	require.Len(t, got, 2)
	assert.Same(t, newCA.cert, got[1], "the CA certificate of the leaf's key identifier, stopping before the root")

	assert.True(t, selfSigned(root.cert))
	assert.False(t, selfSigned(cross.cert), "a cross certificate names itself as issuer but another key")
	got = orderChain(leaf.cert, []*x509.Certificate{cross.cert, oldCA.cert, root.cert})
	assert.Equal(t, []*x509.Certificate{leaf.cert, cross.cert, oldCA.cert}, got, "through the cross certificate to the old CA")
	require.NoError(t, leaf.cert.CheckSignatureFrom(cross.cert), "the cross certificate carries the new key")
}

type testCert struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// newCert makes a certificate for key (nil: a new one) issued by parent (nil:
// self-signed).
func newCert(t *testing.T, subject, issuer string, skid, akid []byte, parent *testCert, key *ecdsa.PrivateKey, ca bool) *testCert {
	t.Helper()
	if key == nil {
		var err error
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(skid[0])), Subject: pkix.Name{CommonName: subject},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		SubjectKeyId: skid, AuthorityKeyId: akid, BasicConstraintsValid: true, IsCA: ca}
	parentCert, signer := tmpl, key
	if parent != nil {
		parentCert, signer = parent.cert, parent.key
	}
	if subject == issuer && parent != nil {
		// A cross certificate: its own name as issuer, signed by the parent's key.
		parentCert = &x509.Certificate{Subject: pkix.Name{CommonName: issuer}, SubjectKeyId: akid}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parentCert, &key.PublicKey, signer)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &testCert{cert: c, key: key}
}

// TestOrderChainTrustsAgreeingKeyIdentifiers: where the issuer's name and key
// identifier leave one candidate, orderChain takes it without checking the
// signature (the server verifies the chain; the check would cost about as
// much as the rest of the load). A leaf whose authority key identifier names
// the new CA key, though the old key signed it, is ordered under the new CA.
func TestOrderChainTrustsAgreeingKeyIdentifiers(t *testing.T) {
	root := newCert(t, "Root", "Root", []byte{1}, []byte{1}, nil, nil, true)
	oldCA := newCert(t, "CA", "Root", []byte{2}, []byte{1}, root, nil, true)
	newCA := newCert(t, "CA", "Root", []byte{3}, []byte{1}, root, nil, true)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(5), Subject: pkix.Name{CommonName: "leaf"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	// Named as issued by the new key, signed by the old one.
	claimed := &x509.Certificate{Subject: pkix.Name{CommonName: "CA"}, SubjectKeyId: []byte{3}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, claimed, &key.PublicKey, oldCA.key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	require.Equal(t, []byte{3}, leaf.AuthorityKeyId)
	require.Error(t, leaf.CheckSignatureFrom(newCA.cert))

	got := orderChain(leaf, []*x509.Certificate{oldCA.cert, newCA.cert, root.cert})
	assert.Equal(t, []*x509.Certificate{leaf, newCA.cert}, got)
}
