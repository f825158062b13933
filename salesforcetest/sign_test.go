package salesforcetest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSignCSRIssuesUnderTheClientCA(t *testing.T) {
	pki, err := NewPKI()
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:  pkix.Name{CommonName: "csr.example.com", Organization: []string{"Example"}},
		DNSNames: []string{"csr.example.com"},
	}, key)
	require.NoError(t, err)
	cert, err := pki.SignCSR(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	require.NoError(t, err)
	assert.Equal(t, "CN=csr.example.com,O=Example", cert.Subject.String())
	assert.Equal(t, []string{"csr.example.com"}, cert.DNSNames, "requested extensions are honoured")
	assert.True(t, key.PublicKey.Equal(cert.PublicKey))
	roots, inters := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(pki.ClientRootCA)
	inters.AddCert(pki.ClientInterCA)
	_, err = cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	assert.NoError(t, err)

	_, err = pki.SignCSR([]byte("not PEM"))
	assert.ErrorContains(t, err, "PEM CERTIFICATE REQUEST")
	der[len(der)-1] ^= 1 // break the signature
	_, err = pki.SignCSR(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	assert.Error(t, err)
}
