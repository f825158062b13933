package certgen_test

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/certgen"
	"github.com/sfmtls/sfmtls/keystore"
)

// clientCert issues a client certificate for a new key from ca's intermediate.
func clientCert(t *testing.T, ca *testCA, kt certgen.KeyType, tmpl *x509.Certificate) (crypto.Signer, *x509.Certificate) {
	t.Helper()
	key, err := certgen.GenerateKey(kt)
	require.NoError(t, err)
	if tmpl.Subject.CommonName == "" {
		tmpl.Subject = pkix.Name{CommonName: "client"}
	}
	return key, issue(t, tmpl, key.Public(), ca.inter, ca.interKey)
}

func TestCheckIdentityAcceptsACompleteChain(t *testing.T) {
	ca := newCA(t)
	key, leaf := clientCert(t, ca, certgen.P256, &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	roots := []*x509.Certificate{ca.root}

	for name, chain := range map[string][]*x509.Certificate{
		"leaf and intermediate, root trusted": {leaf, ca.inter},
		"up to the self-signed root":          {leaf, ca.inter, ca.root},
	} {
		t.Run(name, func(t *testing.T) {
			warnings, err := certgen.CheckIdentity(key, chain, certgen.CheckOptions{Roots: roots})
			require.NoError(t, err)
			assert.Empty(t, warnings)
		})
	}
	// With the root in the chain, no trusted roots are needed.
	_, err := certgen.CheckIdentity(key, []*x509.Certificate{leaf, ca.inter, ca.root}, certgen.CheckOptions{})
	require.NoError(t, err)
}

func TestCheckIdentityErrors(t *testing.T) {
	ca := newCA(t)
	key, leaf := clientCert(t, ca, certgen.P256, &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	otherKey, err := certgen.GenerateKey(certgen.P256)
	require.NoError(t, err)
	roots := []*x509.Certificate{ca.root}
	otherCA := newCA(t)

	cases := []struct {
		name  string
		key   crypto.Signer
		chain []*x509.Certificate
		opts  certgen.CheckOptions
		kind  error
		says  string
	}{
		{"key of another certificate", otherKey, []*x509.Certificate{leaf, ca.inter}, certgen.CheckOptions{Roots: roots}, keystore.ErrKeyMismatch, "does not belong"},
		{"no certificate", key, nil, certgen.CheckOptions{}, keystore.ErrKeyMismatch, "both needed"},
		{"out of order", key, []*x509.Certificate{leaf, ca.root, ca.inter}, certgen.CheckOptions{}, keystore.ErrChainOrder, "issued by certificate 3"},
		{"intermediate missing, root given", key, []*x509.Certificate{leaf, ca.root}, certgen.CheckOptions{}, certgen.ErrIncompleteChain, "Test Issuing CA"},
		{"intermediate missing, nothing else", key, []*x509.Certificate{leaf}, certgen.CheckOptions{Roots: roots}, certgen.ErrIncompleteChain, "neither in the chain nor a trusted root"},
		{"root not trusted", key, []*x509.Certificate{leaf, ca.inter}, certgen.CheckOptions{}, certgen.ErrIncompleteChain, "Test Root CA"},
		{"another CA's root", key, []*x509.Certificate{leaf, ca.inter}, certgen.CheckOptions{Roots: []*x509.Certificate{otherCA.root}}, certgen.ErrIncompleteChain, "trusted root"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			warnings, err := certgen.CheckIdentity(c.key, c.chain, c.opts)
			require.ErrorIs(t, err, c.kind)
			assert.Nil(t, warnings)
			var cerr *certgen.Error
			require.True(t, errors.As(err, &cerr))
			assert.NotEmpty(t, cerr.Fix(), "every error says how to fix it")
			assert.Contains(t, err.Error(), c.says)
		})
	}
}

func TestCheckIdentityWarnings(t *testing.T) {
	ca := newCA(t)
	roots := []*x509.Certificate{ca.root}
	now := time.Now()
	clientOnly := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}

	selfKey, err := certgen.GenerateKey(certgen.RSA2048)
	require.NoError(t, err)
	selfSigned, err := certgen.NewJWTCertificate(selfKey, pkix.Name{CommonName: "jwt"}, 0)
	require.NoError(t, err)

	dualKey, dual := clientCert(t, ca, certgen.P256, &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}})
	serverKey, server := clientCert(t, ca, certgen.P256, &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	soonKey, soon := clientCert(t, ca, certgen.P256, &x509.Certificate{ExtKeyUsage: clientOnly, NotAfter: now.Add(10 * 24 * time.Hour)})
	expiredKey, expired := clientCert(t, ca, certgen.P256, &x509.Certificate{ExtKeyUsage: clientOnly,
		NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)})

	cases := []struct {
		name  string
		key   crypto.Signer
		chain []*x509.Certificate
		opts  certgen.CheckOptions
		want  []string
	}{
		{"self-signed for mTLS", selfKey, []*x509.Certificate{selfSigned}, certgen.CheckOptions{},
			[]string{keystore.WarnSelfSigned, keystore.WarnNoClientAuth}},
		{"self-signed for JWT is fine", selfKey, []*x509.Certificate{selfSigned}, certgen.CheckOptions{Purpose: certgen.PurposeJWT}, nil},
		{"dual-use", dualKey, []*x509.Certificate{dual, ca.inter}, certgen.CheckOptions{Roots: roots}, []string{keystore.WarnDualUse}},
		{"serverAuth only", serverKey, []*x509.Certificate{server, ca.inter}, certgen.CheckOptions{Roots: roots}, []string{keystore.WarnNoClientAuth}},
		{"expires soon", soonKey, []*x509.Certificate{soon, ca.inter}, certgen.CheckOptions{Roots: roots},
			[]string{`"CN=client" expires within 30 days: ` + soon.NotAfter.UTC().Format(time.RFC3339)}},
		{"expired", expiredKey, []*x509.Certificate{expired, ca.inter}, certgen.CheckOptions{Roots: roots},
			[]string{`"CN=client" expired: ` + expired.NotAfter.UTC().Format(time.RFC3339)}},
		{"not yet valid at the given time", soonKey, []*x509.Certificate{soon, ca.inter}, certgen.CheckOptions{Roots: roots, Now: now.Add(-30 * 24 * time.Hour)},
			[]string{`"CN=client" not yet valid: ` + soon.NotBefore.UTC().Format(time.RFC3339), `"CN=Test Issuing CA" not yet valid: ` + ca.inter.NotBefore.UTC().Format(time.RFC3339)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			warnings, err := certgen.CheckIdentity(c.key, c.chain, c.opts)
			require.NoError(t, err)
			assert.Equal(t, c.want, warnings)
		})
	}
}

func TestCheckIdentityJWTNeedsRSA(t *testing.T) {
	ca := newCA(t)
	key, leaf := clientCert(t, ca, certgen.P256, &x509.Certificate{})
	_, err := certgen.CheckIdentity(key, []*x509.Certificate{leaf, ca.inter, ca.root}, certgen.CheckOptions{Purpose: certgen.PurposeJWT})
	require.ErrorIs(t, err, certgen.ErrUnsupportedKey)
	assert.Contains(t, err.Error(), "RS256")
}
