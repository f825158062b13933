package keystore_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/keystore"
)

// The write tests use only the exported API: what a caller writes must load
// through the same Load the SDK uses.

// wFastIterations keeps PEM key encryption quick under -race, where 600,000
// PBKDF2 rounds take seconds; the default count has tests of its own.
const wFastIterations = 1000 // the lowest count WriteOptions.KeyIterations accepts

const (
	wStorePW = keystore.Secret("store-secret-1")
	wKeyPW   = keystore.Secret("key-secret-22")
)

// wIdentities are the fixture identities gen.sh made with OpenSSL: an RSA client
// with its intermediate, an EC client with its intermediate, and a self-signed
// RSA JWT signing certificate.
func wIdentities(t testing.TB) map[string]*keystore.Identity {
	t.Helper()
	load := func(certs, key string) *keystore.Identity {
		id, err := keystore.LoadFile(filepath.Join("testdata", certs), keystore.Options{KeyFile: filepath.Join("testdata", key)})
		require.NoError(t, err)
		return id
	}
	return map[string]*keystore.Identity{
		"rsa-client": load("client-chain.pem", "client-key-pkcs8.pem"),
		"ec-client":  load("ecclient-chain.pem", "ecclient-key-sec1.pem"),
		"jwt":        load("jwt-cert.pem", "jwt-key.pem"),
	}
}

// wSameIdentity checks that got holds want's key and chain.
func wSameIdentity(t testing.TB, want, got *keystore.Identity) {
	t.Helper()
	require.True(t, want.Signer().Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(got.Signer().Public()), "key differs")
	wc, gc := want.Chain(), got.Chain()
	require.Len(t, gc, len(wc))
	for i := range wc {
		assert.True(t, wc[i].Equal(gc[i]), "certificate %d differs", i)
	}
}

func TestEncodeRoundTripsThroughLoad(t *testing.T) {
	for name, id := range wIdentities(t) {
		cases := []struct {
			opts      keystore.WriteOptions
			load      keystore.Options
			wantAlias string
		}{
			{keystore.WriteOptions{Format: keystore.FormatJKS, Alias: "mtls", Password: wStorePW},
				keystore.Options{Password: wStorePW, Alias: "mtls"}, "mtls"},
			{keystore.WriteOptions{Format: keystore.FormatJKS, Alias: "MuleSoft", Password: wStorePW, KeyPassword: wKeyPW},
				keystore.Options{Password: wStorePW, KeyPassword: wKeyPW, Alias: "mulesoft"}, "mulesoft"}, // JKS lowercases, as keytool does
			{keystore.WriteOptions{Format: keystore.FormatPKCS12, Alias: "Client Cert", Password: wStorePW},
				keystore.Options{Password: wStorePW, Alias: "Client Cert"}, "Client Cert"},
			{keystore.WriteOptions{Format: keystore.FormatPKCS12, Password: wStorePW},
				keystore.Options{Password: wStorePW}, "mykey"}, // keytool's default alias
			{keystore.WriteOptions{Format: keystore.FormatPEM, Password: wStorePW, KeyIterations: wFastIterations},
				keystore.Options{Password: wStorePW}, ""},
			{keystore.WriteOptions{Format: keystore.FormatPEM, UnencryptedKey: true},
				keystore.Options{}, ""},
		}
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/%s/%s", name, c.opts.Format, c.wantAlias), func(t *testing.T) {
				data, err := keystore.Encode(id, c.opts)
				require.NoError(t, err)
				got, err := keystore.Load(data, c.load)
				require.NoError(t, err)
				assert.Equal(t, c.opts.Format, got.SourceFormat())
				wSameIdentity(t, id, got)
				assert.Equal(t, c.wantAlias, got.Alias())
				if c.opts.Format == keystore.FormatPEM && c.opts.Password != "" {
					assert.NotContains(t, string(data), "BEGIN PRIVATE KEY")
					_, err := keystore.Load(data, keystore.Options{Password: "wrong-password"})
					assert.ErrorIs(t, err, keystore.ErrWrongPassword)
				}
			})
		}
	}
}

func TestEncodeJKSKeyPasswordIsSeparate(t *testing.T) {
	id := wIdentities(t)["rsa-client"]
	data, err := keystore.Encode(id, keystore.WriteOptions{Format: keystore.FormatJKS, Alias: "mtls", Password: wStorePW, KeyPassword: wKeyPW})
	require.NoError(t, err)
	// The store password opens the store but not the key.
	_, err = keystore.Load(data, keystore.Options{Password: wStorePW})
	assert.ErrorIs(t, err, keystore.ErrWrongPassword)
	_, err = keystore.Load(data, keystore.Options{Password: "not-the-store", KeyPassword: wKeyPW})
	assert.ErrorIs(t, err, keystore.ErrWrongPassword)
}

func TestEncryptPKCS8IsReadByTheLoader(t *testing.T) {
	id := wIdentities(t)["ec-client"]
	block, err := keystore.EncryptPKCS8(id.Signer(), wKeyPW)
	require.NoError(t, err)
	assert.Equal(t, "ENCRYPTED PRIVATE KEY", block.Type)
	assert.Empty(t, block.Headers)
	certs := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: id.Leaf().Raw})
	got, err := keystore.Load(append(certs, pem.EncodeToMemory(block)...), keystore.Options{Password: wKeyPW})
	require.NoError(t, err)
	assert.True(t, id.Signer().Public().(*ecdsa.PublicKey).Equal(got.Signer().Public()))

	// Two encryptions of one key differ: fresh salt and IV each time.
	again, err := keystore.EncryptPKCS8(id.Signer(), wKeyPW)
	require.NoError(t, err)
	assert.NotEqual(t, block.Bytes, again.Bytes)

	_, err = keystore.EncryptPKCS8(id.Signer(), "")
	assert.ErrorIs(t, err, keystore.ErrBadWriteOptions)
}

func TestEncodeRefusesBadOptions(t *testing.T) {
	id := wIdentities(t)["rsa-client"]
	cases := map[string]keystore.WriteOptions{
		"JCEKS is not written":          {Format: keystore.FormatJCEKS, Password: wStorePW},
		"no format":                     {Password: wStorePW},
		"no store password":             {Format: keystore.FormatJKS},
		"short store password":          {Format: keystore.FormatPKCS12, Password: "12345"},
		"short key password":            {Format: keystore.FormatJKS, Password: wStorePW, KeyPassword: "abc"},
		"key password in PKCS#12":       {Format: keystore.FormatPKCS12, Password: wStorePW, KeyPassword: wKeyPW},
		"key password in PEM":           {Format: keystore.FormatPEM, Password: wStorePW, KeyPassword: wKeyPW},
		"PEM key without password":      {Format: keystore.FormatPEM},
		"too few key iterations":        {Format: keystore.FormatPEM, Password: wStorePW, KeyIterations: 999},
		"JKS password beyond Latin-1":   {Format: keystore.FormatJKS, Password: "пароль-секрет"},
		"alias with a newline":          {Format: keystore.FormatJKS, Password: wStorePW, Alias: "a\nb"},
		"PKCS#12 password beyond BMP 🔑": {Format: keystore.FormatPKCS12, Password: "secret🔑🔑"},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := keystore.Encode(id, opts)
			require.ErrorIs(t, err, keystore.ErrBadWriteOptions)
			var kerr *keystore.Error
			require.ErrorAs(t, err, &kerr)
			for _, pw := range []keystore.Secret{opts.Password, opts.KeyPassword} {
				if pw != "" {
					assert.NotContains(t, err.Error(), string(pw), "the error shows a password")
				}
			}
		})
	}
	// A password outside Latin-1 is fine for PKCS#12, which encodes passwords as UTF-16.
	data, err := keystore.Encode(id, keystore.WriteOptions{Format: keystore.FormatPKCS12, Password: "пароль-секрет"})
	require.NoError(t, err)
	_, err = keystore.Load(data, keystore.Options{Password: "пароль-секрет"})
	require.NoError(t, err)
}

func TestEncodeRefusesAChainOutOfOrder(t *testing.T) {
	// The leaf followed by the root, skipping the intermediate that issued it.
	id := wIdentities(t)["rsa-client"]
	rootPEM, err := os.ReadFile(filepath.Join("testdata", "root-ca.pem"))
	require.NoError(t, err)
	block, _ := pem.Decode(rootPEM)
	root, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	skipping, err := keystore.NewIdentity(id.Signer(), []*x509.Certificate{id.Leaf(), root})
	require.NoError(t, err)
	_, err = keystore.Encode(skipping, keystore.WriteOptions{Format: keystore.FormatPKCS12, Password: wStorePW})
	assert.ErrorIs(t, err, keystore.ErrChainOrder)
	var kerr *keystore.Error
	require.ErrorAs(t, err, &kerr)
	assert.Contains(t, kerr.Fix(), "leaf first")
}

func TestWriteFile(t *testing.T) {
	id := wIdentities(t)["jwt"]
	dir := t.TempDir()
	path := filepath.Join(dir, "mulesoft.jks")
	opts := keystore.WriteOptions{Format: keystore.FormatJKS, Alias: "mulesoft", Password: wStorePW}
	require.NoError(t, keystore.WriteFile(path, id, opts))

	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	got, err := keystore.LoadFile(path, keystore.Options{Password: wStorePW})
	require.NoError(t, err)
	wSameIdentity(t, id, got)

	// No overwrite unless asked; the file is left as it was.
	before, err := os.ReadFile(path)
	require.NoError(t, err)
	err = keystore.WriteFile(path, id, opts)
	require.ErrorIs(t, err, keystore.ErrFileExists)
	assert.Contains(t, err.Error(), path)
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, before, after)

	opts.Overwrite = true
	opts.Format = keystore.FormatPKCS12
	require.NoError(t, keystore.WriteFile(path, id, opts))
	got, err = keystore.LoadFile(path, keystore.Options{Password: wStorePW})
	require.NoError(t, err)
	assert.Equal(t, keystore.FormatPKCS12, got.SourceFormat())
	info, err = os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	// Bad options and unwritable places leave nothing behind, not even temp files.
	err = keystore.WriteFile(filepath.Join(dir, "short.p12"), id, keystore.WriteOptions{Format: keystore.FormatPKCS12, Password: "short"})
	assert.ErrorIs(t, err, keystore.ErrBadWriteOptions)
	err = keystore.WriteFile(filepath.Join(dir, "missing", "x.p12"), id, keystore.WriteOptions{Format: keystore.FormatPKCS12, Password: wStorePW})
	assert.ErrorIs(t, err, keystore.ErrUnwritable)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "only mulesoft.jks should remain")
	assert.Equal(t, "mulesoft.jks", entries[0].Name())
}

func TestWriteFileNeverReplacesAFileThatAppearsMeanwhile(t *testing.T) {
	// The existence check and the final link are separate steps; a symlink at the
	// path must not be followed or replaced either.
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	require.NoError(t, os.WriteFile(target, []byte("keep"), 0o600))
	link := filepath.Join(dir, "link.p12")
	require.NoError(t, os.Symlink(target, link))
	err := keystore.WriteFile(link, wIdentities(t)["jwt"], keystore.WriteOptions{Format: keystore.FormatPKCS12, Password: wStorePW})
	require.ErrorIs(t, err, keystore.ErrFileExists)
	data, err := os.ReadFile(target)
	require.NoError(t, err)
	assert.Equal(t, "keep", string(data))
}

func TestEncodedStoresNeverHoldTheKeyInTheClear(t *testing.T) {
	// An EC key's private scalar must not appear in any encrypted output.
	id := wIdentities(t)["ec-client"]
	scalar := id.Signer().(*ecdsa.PrivateKey).D.Bytes()
	for _, f := range []keystore.Format{keystore.FormatJKS, keystore.FormatPKCS12, keystore.FormatPEM} {
		data, err := keystore.Encode(id, keystore.WriteOptions{Format: f, Password: wStorePW, KeyIterations: wFastIterations})
		require.NoError(t, err)
		assert.NotContains(t, string(data), string(scalar), f.String())
		if f == keystore.FormatPEM {
			assert.True(t, strings.Contains(string(data), "ENCRYPTED PRIVATE KEY"))
		}
	}
}

func TestWriteErrorsAreTyped(t *testing.T) {
	_, err := keystore.Encode(nil, keystore.WriteOptions{Format: keystore.FormatPEM, Password: wStorePW})
	var kerr *keystore.Error
	require.True(t, errors.As(err, &kerr))
	assert.ErrorIs(t, err, keystore.ErrBadWriteOptions)
}
