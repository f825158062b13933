package keystore

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInspectReportsEveryEntry(t *testing.T) {
	r, err := InspectFile(fixture("client-keypass.jks"), Options{Password: storePW, KeyPassword: keyPW})
	require.NoError(t, err)
	assert.Equal(t, FormatJKS, r.Format)
	require.Len(t, r.Entries, 2)
	byAlias := map[string]EntryReport{}
	for _, e := range r.Entries {
		byAlias[e.Alias] = e
	}
	key, ca := byAlias["client"], byAlias["rootca"]
	assert.Equal(t, PrivateKeyEntry, key.Kind)
	assert.Equal(t, "CN="+clientCN+",O=sfmtls test", key.Subject)
	assert.Equal(t, "CN="+interCN+",O=sfmtls test", key.Issuer)
	assert.Equal(t, "RSA", key.KeyType)
	assert.Equal(t, 2048, key.KeyBits)
	assert.Equal(t, 2, key.ChainLength)
	assert.False(t, key.SelfSigned)
	assert.True(t, key.ClientAuth)
	assert.Empty(t, key.Warnings)
	assert.NotEmpty(t, key.Serial)
	assert.True(t, key.NotAfter.After(key.NotBefore))

	assert.Equal(t, TrustedCertEntry, ca.Kind)
	assert.True(t, ca.SelfSigned)
	assert.Empty(t, ca.Warnings, "a trusted root is self-signed by nature")
}

func TestInspectWarnings(t *testing.T) {
	r, err := InspectFile(fixture("mulesoft.jks"), Options{Password: storePW})
	require.NoError(t, err)
	require.Len(t, r.Entries, 1)
	e := r.Entries[0]
	assert.True(t, e.SelfSigned)
	assert.False(t, e.ClientAuth)
	assert.Equal(t, []string{WarnSelfSigned, WarnNoClientAuth}, e.Warnings)

	id, err := LoadFile(fixture("client-openssl.p12"), Options{Password: storePW})
	require.NoError(t, err)
	notAfter := id.Leaf().NotAfter
	at := func(t time.Time) Options { return Options{Password: storePW, Now: func() time.Time { return t }} }

	r, err = InspectFile(fixture("client-openssl.p12"), at(notAfter.Add(time.Minute)))
	require.NoError(t, err)
	assert.Equal(t, []string{"expired: " + notAfter.UTC().Format(time.RFC3339)}, r.Entries[0].Warnings)

	r, err = InspectFile(fixture("client-openssl.p12"), at(notAfter.Add(-29*24*time.Hour)))
	require.NoError(t, err)
	assert.Equal(t, []string{"expires within 30 days: " + notAfter.UTC().Format(time.RFC3339)}, r.Entries[0].Warnings)

	r, err = InspectFile(fixture("client-openssl.p12"), at(notAfter.Add(-31*24*time.Hour)))
	require.NoError(t, err)
	assert.Empty(t, r.Entries[0].Warnings)
}

func TestInspectFailsLikeLoad(t *testing.T) {
	_, err := InspectFile(fixture("client-keypass.jceks"), Options{Password: storePW})
	require.ErrorIs(t, err, ErrWrongPassword, "the key password is checked too")
	_, err = InspectFile(fixture("mismatch.pem"), Options{})
	require.ErrorIs(t, err, ErrKeyMismatch)
	_, err = InspectFile(fixture("client.jks"), Options{Password: storePW, Alias: "missing"})
	require.ErrorIs(t, err, ErrAliasNotFound)

	r, err := InspectFile(fixture("client.jks"), Options{Password: storePW, Alias: "ECCLIENT"})
	require.NoError(t, err)
	require.Len(t, r.Entries, 1)
	assert.Equal(t, "EC", r.Entries[0].KeyType)
	assert.Equal(t, 256, r.Entries[0].KeyBits)
}

func TestInspectTrustStoresAndJSON(t *testing.T) {
	for _, name := range []string{"truststore.jks", "truststore.p12", "client-chain.pem"} {
		r, err := InspectFile(fixture(name), Options{Password: storePW})
		require.NoError(t, err, name)
		require.NotEmpty(t, r.Entries, name)
		for _, e := range r.Entries {
			assert.Equal(t, TrustedCertEntry, e.Kind, name)
		}
	}
	r, err := InspectFile(fixture("mtls.jks"), Options{Password: storePW})
	require.NoError(t, err)
	raw, err := json.Marshal(r)
	require.NoError(t, err)
	var decoded map[string]any
	require.NoError(t, json.Unmarshal(raw, &decoded))
	assert.Equal(t, "JKS", decoded["format"])
	entry := decoded["entries"].([]any)[0].(map[string]any)
	for _, k := range []string{"alias", "kind", "subject", "issuer", "serial", "not_before", "not_after",
		"key_type", "key_bits", "chain_length", "self_signed", "client_auth", "warnings"} {
		assert.Contains(t, entry, k)
	}
	assert.Equal(t, "private-key", entry["kind"])
	_, err = time.Parse(time.RFC3339, entry["not_after"].(string))
	assert.NoError(t, err)
}

func TestIdentityWarningsMatchInspect(t *testing.T) {
	for _, name := range []string{"mulesoft.jks", "mtls.jks"} {
		id, err := LoadFile(fixture(name), Options{Password: storePW})
		require.NoError(t, err)
		r, err := InspectFile(fixture(name), Options{Password: storePW})
		require.NoError(t, err)
		now := time.Now()
		assert.Equal(t, r.Entries[0].Warnings, id.Warnings(now), name)
	}
	id, err := LoadFile(fixture("mtls.jks"), Options{Password: storePW})
	require.NoError(t, err)
	assert.Equal(t, []string{"expired: " + id.Leaf().NotAfter.UTC().Format(time.RFC3339)}, id.Warnings(id.Leaf().NotAfter.Add(time.Hour)))
}
