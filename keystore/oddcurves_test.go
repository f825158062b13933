package keystore

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sfmtls/sfmtls/internal/testtool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCertificatesOnCurvesGoCannotParseAreListed: a truststore of certificates on
// brainpoolP256r1 and secp256k1 (testdata/producers/legacy.sh) lists them with
// subject, serial, dates and curve, each with a warning saying why it cannot be
// used, in JKS, Java 8's PKCS#12 and PEM alike; none is dropped.
func TestCertificatesOnCurvesGoCannotParseAreListed(t *testing.T) {
	for _, c := range []struct {
		file    string
		opts    Options
		entries int // keytool -list counts these
		odd     int // of which on curves Go cannot parse
	}{
		{"legacy-odd-curves.jks", Options{Password: storePW}, 3, 2},
		{"legacy-odd-curves.p12", Options{Password: storePW}, 2, 2},
		{"legacy-odd-curves.pem", Options{}, 2, 1},
	} {
		t.Run(c.file, func(t *testing.T) {
			r, err := InspectFile(producer(c.file), c.opts)
			require.NoError(t, err)
			require.Len(t, r.Entries, c.entries)
			assert.Empty(t, r.Warnings)
			odd := 0
			for _, e := range r.Entries {
				assert.Equal(t, TrustedCertEntry, e.Kind)
				if !strings.HasPrefix(e.KeyType, "EC ") {
					assert.Equal(t, "RSA", e.KeyType)
					continue
				}
				odd++
				curve := strings.TrimPrefix(e.KeyType, "EC ")
				assert.Contains(t, []string{"brainpoolP256r1", "secp256k1"}, curve)
				assert.Equal(t, "CN="+curve+" CA,O=sfmtls legacy", e.Subject)
				assert.Equal(t, e.Subject, e.Issuer)
				assert.True(t, e.SelfSigned)
				assert.Equal(t, 256, e.KeyBits)
				assert.Len(t, e.Serial, 16, "legacy.sh sets 8-byte serials")
				assert.True(t, e.NotBefore.Before(e.NotAfter))
				assert.Equal(t, 2126, e.NotAfter.Year(), "legacy.sh: DAYS=36500")
				require.NotEmpty(t, e.Warnings)
				assert.Equal(t, "this certificate's key ("+e.KeyType+") cannot be used here (x509: unsupported elliptic curve): it cannot serve as a trust anchor or in a chain", e.Warnings[0])
			}
			assert.Equal(t, c.odd, odd)
			_, err = LoadFile(producer(c.file), c.opts)
			require.ErrorIs(t, err, ErrNoPrivateKey)
		})
	}
}

// TestOddCurveEntriesMatchKeytoolsListing compares the listing with keytool's
// own: the same aliases, owners and serial numbers.
func TestOddCurveEntriesMatchKeytoolsListing(t *testing.T) {
	testtool.Need(t, "keytool")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "keytool", "-list", "-v", "-keystore", producer("legacy-odd-curves.jks"), "-storepass", string(storePW)).CombinedOutput()
	require.NoError(t, err, string(out))
	r, err := InspectFile(producer("legacy-odd-curves.jks"), Options{Password: storePW})
	require.NoError(t, err)
	listing := string(out)
	for _, e := range r.Entries {
		assert.Contains(t, listing, "Alias name: "+e.Alias)
		assert.Contains(t, listing, "Serial number: "+e.Serial)
		// keytool prints "CN=x, O=y" where Go prints "CN=x,O=y".
		assert.Contains(t, listing, "Owner: "+strings.ReplaceAll(e.Subject, ",", ", "))
	}
	assert.Contains(t, listing, "256-bit EC (brainpoolP256r1) key")
	assert.Contains(t, listing, "256-bit EC (secp256k1) key")
}

// TestKeyEntryWithAChainCertificateOnAnOddCurveLoads: keytool stores a key whose
// CA is on secp256k1; the key entry loads with the certificates Go can use, and
// the CA left out is named in a warning, not reported as a corrupt store.
func TestKeyEntryWithAChainCertificateOnAnOddCurveLoads(t *testing.T) {
	id, err := LoadFile(producer("legacy-odd-curve-chain.jks"), Options{Password: storePW})
	require.NoError(t, err)
	assert.Equal(t, "k1chain.legacy@example.com", id.Leaf().Subject.CommonName)
	assert.Len(t, id.Chain(), 1)
	r, err := InspectFile(producer("legacy-odd-curve-chain.jks"), Options{Password: storePW})
	require.NoError(t, err)
	require.Len(t, r.Entries, 1)
	require.Len(t, r.Warnings, 1)
	assert.Regexp(t, `^skipped certificate "CN=secp256k1 CA,O=sfmtls legacy" in the chain of "client", serial [0-9a-f]+, key EC secp256k1: it cannot be used here \(x509: unsupported elliptic curve\)$`, r.Warnings[0])
}
